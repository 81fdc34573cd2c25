//! check_imap: IMAP on 143 with STARTTLS or IMAPS on 993 — greeting, CAPABILITY,
//! STARTTLS and the certificate, an optional LOGIN (password from a file or the
//! environment) and EXAMINE/SELECT of a mailbox with its message counts, each step
//! timed. The session is [`crate::proto::imap`]'s, shared with check_mail_roundtrip;
//! the levels (message counts, response time, certificate days) are this check's.

use crate::plugin::thresholds::seconds_threshold;
use crate::plugin::{
    shown, Check, CheckResult, CommonArgs, PerfData, State, Thresholds, Uom, UsageError, Work,
};
use crate::proto::imap::{ImapDialogue, ImapFacts, ImapLoginArgs, ImapStage};
use crate::proto::mail::{self, imap_quote, MailServer, MailServerArgs, Steps, TlsMode};
use crate::proto::net;
use crate::proto::tls::TlsSettings;
use clap::Parser;
use std::time::Instant;

use crate::plugin::args::RangeArgs;
use crate::plugin::EXIT_CODES;

/// Command line of check_imap.
#[derive(Parser, Debug)]
#[command(
    name = "check_imap",
    version,
    about = "Talks IMAP: greeting, CAPABILITY, STARTTLS (or IMAPS) and its certificate, LOGIN, and the message counts of a mailbox; reports each step's time. Port 143, or 993 with -S, unless -p gives one.",
    after_help = EXIT_CODES,
    mut_arg("ssl", |a| a.short('S').help("Speak TLS from the start of the connection (IMAPS)")),
    mut_arg("warning", |a| a.requires("mailbox").help("Range of the mailbox's message count that makes the result WARNING")),
    mut_arg("critical", |a| a.requires("mailbox").help("Range of the mailbox's message count that makes the result CRITICAL"))
)]
pub struct ImapArgs {
    #[command(flatten)]
    pub server: MailServerArgs,

    #[command(flatten)]
    pub login: ImapLoginArgs,

    /// Mailbox to open after LOGIN (EXAMINE, read-only) and count
    #[arg(
        short = 'm',
        long = "mailbox",
        value_name = "MAILBOX",
        requires = "user"
    )]
    pub mailbox: Option<String>,

    /// Open the mailbox with SELECT instead of EXAMINE
    #[arg(long = "select", requires = "mailbox")]
    pub select: bool,

    #[command(flatten)]
    pub messages: RangeArgs,

    /// Total response time in seconds that makes the result WARNING
    #[arg(long = "time-warning", value_name = "SECONDS")]
    pub time_warning: Option<f64>,

    /// Total response time in seconds that makes the result CRITICAL
    #[arg(long = "time-critical", value_name = "SECONDS")]
    pub time_critical: Option<f64>,
}

/// The validated check_imap.
#[derive(Debug)]
pub struct ImapCheck {
    pub server: MailServer,
    pub dialogue: ImapDialogue,
    pub mailbox: Option<String>,
    pub select: bool,
    /// Thresholds on the message count.
    pub messages: Thresholds,
    /// Thresholds on the total time.
    pub time: Thresholds,
}

impl Check for ImapCheck {
    type Args = ImapArgs;
    type Facts = ImapFacts;
    const LABEL: &'static str = "IMAP";

    fn common(args: &ImapArgs) -> &CommonArgs {
        &args.server.common
    }

    fn new(args: ImapArgs) -> Result<Self, UsageError> {
        args.server.tls.check_cert_days("-S or --starttls")?;
        if let Some(m) = &args.mailbox {
            imap_quote(m).map_err(|e| UsageError(format!("-m: {e}")))?;
        }
        Ok(ImapCheck {
            dialogue: ImapDialogue {
                tls: args.server.tls.mode(),
                settings: TlsSettings::new(&args.server.tls.trust)?,
                sni: args.server.tls.sni(&args.server.target.hostname),
                login: args.login.credentials()?,
                budget: args.server.common.timeout.duration.mul_f64(0.9),
                timeout: args.server.common.timeout.duration,
            },
            server: args.server.server(143, 993),
            mailbox: args.mailbox,
            select: args.select,
            messages: args.messages.thresholds(),
            time: Thresholds::new(
                seconds_threshold(args.time_warning, "warning")?,
                seconds_threshold(args.time_critical, "critical")?,
            ),
        })
    }

    fn fetch(&self) -> Work<'_, ImapFacts> {
        Work::remote(self.session())
    }

    /// The session's outcome, the response-time and message-count levels, the
    /// certificate's days left from the facts' `now`.
    fn evaluate(&self, facts: &ImapFacts) -> CheckResult {
        let place = self.server.place();
        let secs = facts.total.as_secs_f64();
        let d = &self.dialogue;
        let mut r = match &facts.failure {
            Some((ImapStage::Connect, e)) if facts.timed_out => {
                return CheckResult::timed_out(e.clone())
            }
            Some((ImapStage::Connect, e)) => return CheckResult::new(State::Critical, e.clone()),
            Some((_, e)) if facts.timed_out => CheckResult::timed_out(format!("{e} ({place})")),
            Some((stage, e)) => CheckResult::new(
                if *stage == ImapStage::Logout {
                    State::Warning
                } else {
                    State::Critical
                },
                format!("{e} ({place})"),
            ),
            None => {
                let greeting = facts.greeting.as_deref().unwrap_or("");
                let mut text = format!(
                    "{secs:.3} seconds response time on {place} [* {}]",
                    net::printable(greeting.as_bytes(), 120)
                );
                if d.tls == TlsMode::StartTls {
                    text.push_str(", STARTTLS");
                }
                if let Some((u, _)) = &d.login {
                    text.push_str(&format!(", logged in as {}", shown(u)));
                }
                let mut r = CheckResult::new(self.time.state(secs), text);
                if let (Some(c), Some(m)) = (&facts.counts, &self.mailbox) {
                    r.raise(self.messages.state(c.messages as f64));
                    r.summary.push_str(&format!(
                        ", {}: {} messages ({} unseen, {} recent)",
                        shown(m),
                        c.messages,
                        c.unseen.map_or("?".to_string(), |u| u.to_string()),
                        c.recent
                    ));
                }
                r
            }
        };
        mail::add_cert_verdict(
            &mut r,
            facts.cert.as_ref(),
            self.server.cert_days,
            facts.now,
        );
        r.push_perf(
            PerfData::new("time", net::secs(facts.total))
                .uom(Uom::Seconds)
                .thresholds(&self.time)
                .min(0.0)
                .max(d.timeout.as_secs_f64()),
        );
        if let Some(c) = &facts.counts {
            r.push_perf(
                PerfData::new("messages", c.messages)
                    .thresholds(&self.messages)
                    .min(0.0),
            );
            if let Some(u) = c.unseen {
                r.push_perf(PerfData::new("unseen", u).min(0.0));
            }
            r.push_perf(PerfData::new("recent", c.recent).min(0.0));
        }
        for p in mail::step_perfdata(&facts.steps) {
            r.push_perf(p);
        }
        r
    }
}

impl ImapCheck {
    /// Runs the session.
    async fn session(&self) -> ImapFacts {
        let start = Instant::now();
        let mut facts = ImapFacts {
            now: crate::host::clock::unix_now(),
            ..Default::default()
        };
        let mut steps = Steps::default();
        let target = self.server.target();
        match self.dialogue.open(&target, &mut facts, &mut steps).await {
            Err(f) => facts.failure = Some(f),
            Ok(mut imap) => {
                let mut t = Instant::now();
                if let Some(m) = &self.mailbox {
                    match ImapDialogue::open_mailbox(&mut imap, m, self.select).await {
                        Ok(c) => facts.counts = Some(c),
                        Err(f) => {
                            facts.failure = Some(f);
                            facts.timed_out = imap.timed_out();
                        }
                    }
                    t = steps.done("mailbox", t);
                }
                if let Err((e, timed_out)) = imap.logout().await {
                    if facts.failure.is_none() {
                        facts.failure = Some((ImapStage::Logout, e));
                        facts.timed_out = timed_out;
                    }
                }
                steps.done("logout", t);
            }
        }
        facts.steps = steps.steps;
        facts.total = start.elapsed();
        facts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::validate;
    use crate::proto::imap::Counts;
    use crate::proto::mail::Step;
    use std::time::Duration;

    fn parse(argv: &[&str]) -> Result<ImapCheck, UsageError> {
        validate::<ImapCheck>(argv)
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        ImapArgs::command().debug_assert();
    }

    #[test]
    fn options() {
        let c = parse(&["-H", "imap"]).unwrap();
        assert_eq!((c.server.port, c.dialogue.tls), (143, TlsMode::Plain));
        let c = parse(&["-H", "imap", "-S"]).unwrap();
        assert_eq!((c.server.port, c.dialogue.tls), (993, TlsMode::Implicit));
        assert!(parse(&["-H", "imap", "-D", "30"]).is_err());
        assert!(parse(&["-H", "imap\r"]).is_err());
        assert!(parse(&["-H", "imap", "-p", "0"]).is_err());
        assert!(parse(&["-H", "imap", "-U", "u"]).is_err());
        assert!(parse(&[
            "-H",
            "imap",
            "-U",
            "u",
            "--password-env",
            "HCOOP_NO_SUCH_VAR"
        ])
        .is_err());
        assert!(parse(&["-H", "imap", "-m", "INBOX"]).is_err());
        // the message-count levels need a mailbox to count
        assert!(parse(&["-H", "imap", "-w", "5"]).is_err());
        assert!(parse(&["-H", "imap", "--password-file", "/nonexistent/pw"]).is_err());
    }

    #[test]
    fn verdicts() {
        std::env::set_var("HCOOP_IMAP_TEST_PW", "pw");
        let c = parse(&[
            "-H",
            "imap",
            "-U",
            "u",
            "--password-env",
            "HCOOP_IMAP_TEST_PW",
            "-m",
            "INBOX",
            "-w",
            "10",
            "-c",
            "20",
        ])
        .unwrap();
        let mut f = ImapFacts {
            greeting: Some("OK Dovecot ready.".into()),
            counts: Some(Counts {
                messages: 3,
                recent: 1,
                unseen: Some(2),
            }),
            steps: vec![Step {
                name: "connect",
                time: Duration::from_millis(1),
            }],
            total: Duration::from_millis(4),
            ..Default::default()
        };
        assert_eq!(
            render_text("IMAP", &c.evaluate(&f)),
            "IMAP OK - 0.004 seconds response time on imap port 143 [* OK Dovecot ready.], logged in as u, INBOX: 3 messages (2 unseen, 1 recent) | time=0.004s;;;0;10 messages=3;10;20;0 unseen=2;;;0 recent=1;;;0 connect_time=0.001s;;;0\n"
        );
        f.counts.as_mut().unwrap().messages = 15;
        assert_eq!(c.evaluate(&f).state(), State::Warning);
        f.failure = Some((
            ImapStage::Login,
            "login as u failed: NO [AUTHENTICATIONFAILED] Authentication failed.".into(),
        ));
        let r = c.evaluate(&f);
        assert_eq!(r.state(), State::Critical);
        assert!(!r.timed_out);
        assert_eq!(
            r.summary,
            "login as u failed: NO [AUTHENTICATIONFAILED] Authentication failed. (imap port 143)"
        );
        // the time running out takes the state -t names
        f.counts = None;
        f.failure = Some((
            ImapStage::Greeting,
            "no IMAP greeting within 1.8 seconds".into(),
        ));
        f.timed_out = true;
        let r = c.evaluate(&f);
        assert!(r.timed_out);
        assert_eq!(
            render_text("IMAP", &r.with_timeout_state(State::Unknown)),
            "IMAP UNKNOWN - no IMAP greeting within 1.8 seconds (imap port 143) | time=0.004s;;;0;10 connect_time=0.001s;;;0\n"
        );
    }

    #[test]
    fn time_and_certificate_levels() {
        let c = parse(&[
            "-H",
            "imap",
            "-S",
            "-D",
            "30,7",
            "--time-warning",
            "1",
            "--time-critical",
            "2",
        ])
        .unwrap();
        let mut f = ImapFacts {
            greeting: Some("OK ready".into()),
            total: Duration::from_millis(1500),
            ..Default::default()
        };
        assert_eq!(
            render_text("IMAP", &c.evaluate(&f)),
            "IMAP WARNING - 1.500 seconds response time on imap port 993 [* OK ready] | time=1.5s;1;2;0;10\n"
        );
        f.total = Duration::from_millis(2500);
        assert_eq!(c.evaluate(&f).state(), State::Critical);
        f.total = Duration::from_millis(5);
        f.cert = Some(crate::proto::mail::test_cert("imap", 20 * 86_400));
        let r = c.evaluate(&f);
        assert_eq!(r.state(), State::Warning);
        assert!(r
            .summary
            .ends_with("; certificate 'imap' will expire on 1970-01-21 00:00:00 UTC (20 days)"));
        f.failure = Some((ImapStage::Logout, "LOGOUT failed: BAD".into()));
        assert_eq!(c.evaluate(&f).state(), State::Warning);
        f.failure = Some((
            ImapStage::Connect,
            "connect to address 127.0.0.1 and port 993: Connection refused".into(),
        ));
        assert_eq!(
            render_text("IMAP", &c.evaluate(&f)),
            "IMAP CRITICAL - connect to address 127.0.0.1 and port 993: Connection refused\n"
        );
    }
}
