//! check_imap: IMAP on 143 with STARTTLS or IMAPS on 993 — greeting, CAPABILITY,
//! STARTTLS and the certificate, an optional LOGIN (password from a file or the
//! environment) and EXAMINE/SELECT of a mailbox with its message counts, each step
//! timed. The session is [`crate::proto::imap`]'s, shared with check_mail_roundtrip;
//! the levels (response time, message counts, certificate days) and what the greeting
//! must say are this check's. The options of monitoring-plugins' check_imap (a
//! check_tcp for IMAP) keep their meaning: `-w/-c` response time, `-e/-A/-M` expected
//! strings, `-s/-q/-E/-d/-m/-j/-r` as check_tcp has them.

use crate::plugin::args::{parse_state_word, ResponseTimeArgs};
use crate::plugin::{
    shown, Check, CheckResult, CommonArgs, PerfData, Range, State, Thresholds, Uom, UsageError,
    Work,
};
use crate::proto::imap::{ImapDialogue, ImapFacts, ImapLoginArgs, ImapStage};
use crate::proto::mail::{self, imap_quote, MailServer, MailServerArgs, Steps, TlsMode};
use crate::proto::net;
use crate::proto::service::{option_bytes, quit_bytes};
use crate::proto::tls::TlsSettings;
use clap::Parser;
use std::time::{Duration, Instant};

/// What the greeting must contain when no `-e` is given (as the peer's check_imap).
pub const DEFAULT_EXPECT: &str = "* OK";

/// The most bytes read back after `-s` when `-m` does not say less.
const MAX_REPLY: usize = 64 * 1024;

/// How long a reply to `-s` may keep the check waiting for the expected strings.
const REPLY_WAIT: Duration = Duration::from_secs(2);

/// Command line of check_imap.
#[derive(Parser, Debug)]
#[command(
    name = "check_imap",
    version,
    about = "Talks IMAP: greeting, CAPABILITY, STARTTLS (or IMAPS) and its certificate, LOGIN, and the message counts of a mailbox; reports each step's time. Port 143, or 993 with -S, unless -p gives one.",
    after_help = "The options of monitoring-plugins' check_imap keep their meaning: -w/-c are the response time in seconds, -e/-A/-M what the greeting must say, -s/-q/-E/-d/-m/-j/-r as in check_tcp. The mailbox's message-count levels are --messages-warning/--messages-critical (with --mailbox). Deliberately different: -D without -S or --starttls speaks TLS from the start on port 993 (Debian's keeps port 143); -s is sent after the greeting (and STARTTLS and LOGIN when asked), not before it.\n\nExit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad options, internal error). --help and --version exit 0.",
    mut_arg("ssl", |a| a.short('S').help("Speak TLS from the start of the connection (IMAPS)")),
    mut_arg("warning", |a| a.visible_alias("time-warning").help("Response time in seconds that makes the result WARNING (2.5, 500ms, a range)")),
    mut_arg("critical", |a| a.visible_alias("time-critical").help("Response time in seconds that makes the result CRITICAL (5, 2m, a range)"))
)]
pub struct ImapArgs {
    #[command(flatten)]
    pub server: MailServerArgs,

    #[command(flatten)]
    pub login: ImapLoginArgs,

    /// Mailbox to open after LOGIN (EXAMINE, read-only) and count
    #[arg(long = "mailbox", value_name = "MAILBOX", requires = "user")]
    pub mailbox: Option<String>,

    /// Open the mailbox with SELECT instead of EXAMINE
    #[arg(long = "select", requires = "mailbox")]
    pub select: bool,

    #[command(flatten)]
    pub time: ResponseTimeArgs,

    /// Range of the mailbox's message count that makes the result WARNING
    #[arg(
        long = "messages-warning",
        value_name = "RANGE",
        requires = "mailbox",
        allow_hyphen_values = true
    )]
    pub messages_warning: Option<Range>,

    /// Range of the mailbox's message count that makes the result CRITICAL
    #[arg(
        long = "messages-critical",
        value_name = "RANGE",
        requires = "mailbox",
        allow_hyphen_values = true
    )]
    pub messages_critical: Option<Range>,

    /// String the greeting (with the reply to -s) must contain (repeatable; default "* OK")
    #[arg(short = 'e', long = "expect", value_name = "STRING")]
    pub expect: Vec<String>,

    /// All expected strings must appear (default: any one)
    #[arg(short = 'A', long = "all")]
    pub all: bool,

    /// State when the expected strings do not appear: ok, warn, crit
    #[arg(short = 'M', long = "mismatch", value_name = "STATE", value_parser = parse_state_word, default_value = "warn")]
    pub mismatch: State,

    /// State when the connection is refused: ok, warn, crit
    #[arg(short = 'r', long = "refuse", value_name = "STATE", value_parser = parse_state_word, default_value = "crit")]
    pub refuse: State,

    /// String to send after the greeting; the reply counts for -e
    #[arg(short = 's', long = "send", value_name = "STRING")]
    pub send: Option<String>,

    /// String to send to close instead of LOGOUT (CRLF added unless -E)
    #[arg(short = 'q', long = "quit", value_name = "STRING")]
    pub quit: Option<String>,

    /// Interpret \n, \r, \t and \\ in the send and quit strings
    #[arg(short = 'E', long = "escape")]
    pub escape: bool,

    /// Read at most this many bytes of the reply to -s
    #[arg(short = 'm', long = "maxbytes", value_name = "BYTES")]
    pub max_bytes: Option<usize>,

    /// Seconds to wait between sending -s and reading the reply
    #[arg(short = 'd', long = "delay", value_name = "SECONDS")]
    pub delay: Option<f64>,

    /// Do not show what the server said
    #[arg(short = 'j', long = "jail")]
    pub jail: bool,

    /// Add each step's time to the perfdata (the default with --starttls, -U or
    /// --mailbox; without them the perfdata is Debian's, `time` alone)
    #[arg(long = "step-times")]
    pub step_times: bool,
}

/// What the greeting must say and the raw strings of the check_tcp options.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub expect: Vec<String>,
    pub all: bool,
    pub mismatch: State,
    pub refuse: State,
    pub send: Option<Vec<u8>>,
    pub quit: Option<Vec<u8>>,
    pub max_bytes: usize,
    pub delay: Duration,
    pub jail: bool,
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
    pub probe: Probe,
    /// Each step's time goes into the perfdata.
    pub step_times: bool,
}

impl Check for ImapCheck {
    type Args = ImapArgs;
    type Facts = ImapFacts;
    const LABEL: &'static str = "IMAP";

    fn common(args: &ImapArgs) -> &CommonArgs {
        &args.server.common
    }

    fn new(mut args: ImapArgs) -> Result<Self, UsageError> {
        // as the peer's: -D alone means TLS from the start
        if args.server.tls.cert_days.is_some() && !args.server.tls.starttls {
            args.server.tls.ssl = true;
        }
        args.server.tls.check_cert_days("-S or --starttls")?;
        if let Some(m) = &args.mailbox {
            imap_quote(m).map_err(|e| UsageError(format!("--mailbox: {e}")))?;
        }
        let timeout = args.server.common.timeout.duration;
        let delay = match args.delay {
            Some(d) if !(0.0..=timeout.as_secs_f64()).contains(&d) => {
                return Err(UsageError(format!(
                    "-d {d}: the delay must be from 0 to the timeout ({} seconds)",
                    timeout.as_secs_f64()
                )))
            }
            Some(d) => Duration::from_secs_f64(d),
            None => Duration::ZERO,
        };
        if args.max_bytes == Some(0) {
            return Err(UsageError::new("-m: the byte count must be 1 or more"));
        }
        let escape = args.escape;
        let step_times = args.step_times
            || args.server.tls.starttls
            || args.login.user.is_some()
            || args.mailbox.is_some();
        let probe = Probe {
            expect: if args.expect.is_empty() {
                vec![DEFAULT_EXPECT.to_string()]
            } else {
                args.expect
            },
            all: args.all,
            mismatch: args.mismatch,
            refuse: args.refuse,
            send: args.send.map(|s| option_bytes(&s, escape)),
            quit: args.quit.map(|s| quit_bytes(&s, escape)),
            max_bytes: args.max_bytes.unwrap_or(MAX_REPLY).min(MAX_REPLY),
            delay,
            jail: args.jail,
        };
        Ok(ImapCheck {
            dialogue: ImapDialogue {
                tls: args.server.tls.mode(),
                settings: TlsSettings::new(&args.server.tls.trust)?,
                sni: args.server.tls.sni(&args.server.target.hostname),
                login: args.login.credentials()?,
                budget: timeout.mul_f64(0.9),
                timeout,
            },
            server: args.server.server(143, 993),
            mailbox: args.mailbox,
            select: args.select,
            messages: Thresholds::new(args.messages_warning, args.messages_critical),
            time: args.time.thresholds(),
            probe,
            step_times,
        })
    }

    fn fetch(&self) -> Work<'_, ImapFacts> {
        Work::remote(self.session())
    }

    /// The session's outcome, what the greeting said against `-e`, the response-time and
    /// message-count levels, the certificate's days left from the facts' `now`.
    fn evaluate(&self, facts: &ImapFacts) -> CheckResult {
        let place = self.server.place();
        let secs = facts.total.as_secs_f64();
        let d = &self.dialogue;
        let p = &self.probe;
        let mut r = match &facts.failure {
            Some((ImapStage::Connect, e)) if facts.timed_out => {
                let mut r = CheckResult::timed_out(e.clone());
                mail::name_socket_timeout(&mut r, d.timeout);
                return r;
            }
            Some((ImapStage::Connect, e)) if e.ends_with("Connection refused") => {
                return CheckResult::new(p.refuse, e.clone())
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
                let response = format!("* {greeting}\r\n{}", facts.reply.as_deref().unwrap_or(""));
                let found = |e: &String| response.contains(e.as_str());
                let matched = if p.all {
                    p.expect.iter().all(found)
                } else {
                    p.expect.iter().any(found)
                };
                let time_state = self.time.state(secs);
                if !matched {
                    // as the peer: a slow answer stays CRITICAL, else -M decides
                    let state = if time_state == State::Critical {
                        State::Critical
                    } else {
                        p.mismatch
                    };
                    let text = if p.jail {
                        format!("Unexpected response from host/socket on {place}")
                    } else {
                        format!(
                            "Unexpected response from host/socket: {}",
                            net::printable(response.trim_end().as_bytes(), 200)
                        )
                    };
                    CheckResult::new(state, text)
                } else {
                    let mut text = format!("{secs:.3} seconds response time on {place}");
                    if !p.jail {
                        text.push_str(&format!(
                            " [* {}]",
                            net::printable(greeting.as_bytes(), 120)
                        ));
                    }
                    if d.tls == TlsMode::StartTls {
                        text.push_str(", STARTTLS");
                    }
                    if let Some((u, _)) = &d.login {
                        text.push_str(&format!(", logged in as {}", shown(u)));
                    }
                    let mut r = CheckResult::new(time_state, text);
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
            }
        };
        mail::name_socket_timeout(&mut r, d.timeout);
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
        if self.step_times {
            for p in mail::step_perfdata(&facts.steps) {
                r.push_perf(p);
            }
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
        let p = &self.probe;
        match self.dialogue.open(&target, &mut facts, &mut steps).await {
            Err(f) => facts.failure = Some(f),
            Ok(mut imap) => {
                let mut t = Instant::now();
                if let Some(send) = &p.send {
                    if let Err(e) = imap.session.send(send, "the -s string").await {
                        facts.failure = Some((ImapStage::Command, e));
                    }
                }
                if !p.delay.is_zero() {
                    tokio::time::sleep(p.delay).await;
                }
                if p.send.is_some() && facts.failure.is_none() {
                    let greeting = format!("* {}\r\n", facts.greeting.as_deref().unwrap_or(""));
                    let done = |b: &[u8]| {
                        let text = format!("{greeting}{}", String::from_utf8_lossy(b));
                        let found = |e: &String| text.contains(e.as_str());
                        if p.all {
                            p.expect.iter().all(found)
                        } else {
                            p.expect.iter().any(found)
                        }
                    };
                    let got = imap.session.read_raw(p.max_bytes, REPLY_WAIT, done).await;
                    facts.reply = Some(String::from_utf8_lossy(&got).into_owned());
                    t = steps.done("reply", t);
                }
                if let (Some(m), None) = (&self.mailbox, &facts.failure) {
                    match ImapDialogue::open_mailbox(&mut imap, m, self.select).await {
                        Ok(c) => facts.counts = Some(c),
                        Err(f) => {
                            facts.failure = Some(f);
                            facts.timed_out = imap.timed_out();
                        }
                    }
                    t = steps.done("mailbox", t);
                }
                match &p.quit {
                    Some(q) => imap.session.close(q).await,
                    None => {
                        if let Err((e, timed_out)) = imap.logout().await {
                            if facts.failure.is_none() {
                                facts.failure = Some((ImapStage::Logout, e));
                                facts.timed_out = timed_out;
                            }
                        }
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
        // -D alone means TLS from the start, as the peer's
        let c = parse(&["-H", "imap", "-D", "30"]).unwrap();
        assert_eq!((c.server.port, c.dialogue.tls), (993, TlsMode::Implicit));
        assert!(parse(&["-H", "imap", "--starttls", "-D", "30"]).is_ok());
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
        assert!(parse(&["-H", "imap", "--mailbox", "INBOX"]).is_err());
        // -w/-c are the response time, as the peer's; the message-count levels need a
        // mailbox to count
        let c = parse(&["-H", "imap", "-w", "9", "-c", "9", "-t", "10", "-e", "* OK"]).unwrap();
        assert_eq!(c.time.warning, Some("9".parse().unwrap()));
        assert!(parse(&["-H", "imap", "--messages-warning", "5"]).is_err());
        // check_tcp's options: -m is the byte limit, -M and -r take ok, warn, crit
        let c = parse(&["-H", "imap", "-m", "100", "-M", "crit", "-r", "ok", "-A"]).unwrap();
        assert_eq!(
            (
                c.probe.max_bytes,
                c.probe.mismatch,
                c.probe.refuse,
                c.probe.all
            ),
            (100, State::Critical, State::Ok, true)
        );
        assert!(parse(&["-H", "imap", "-M", "maybe"]).is_err());
        assert!(parse(&["-H", "imap", "-m", "0"]).is_err());
        assert!(parse(&["-H", "imap", "-d", "60"]).is_err());
        let c = parse(&[
            "-H",
            "imap",
            "-E",
            "-s",
            "a1 NOOP\\r\\n",
            "-q",
            "a2 LOGOUT\\r\\n",
        ])
        .unwrap();
        assert_eq!(c.probe.send.as_deref(), Some(&b"a1 NOOP\r\n"[..]));
        assert_eq!(c.probe.quit.as_deref(), Some(&b"a2 LOGOUT\r\n"[..]));
        let c = parse(&["-H", "imap", "-q", "a2 LOGOUT"]).unwrap();
        assert_eq!(c.probe.quit.as_deref(), Some(&b"a2 LOGOUT\r\n"[..]));
        assert_eq!(c.probe.expect, ["* OK"]);
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
            "--mailbox",
            "INBOX",
            "--messages-warning",
            "10",
            "--messages-critical",
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
            "IMAP UNKNOWN - Socket timeout after 10 seconds: no IMAP greeting within 1.8 seconds (imap port 143) | time=0.004s;;;0;10 connect_time=0.001s;;;0\n"
        );
    }

    #[test]
    fn expected_strings() {
        let f = ImapFacts {
            greeting: Some("OK Dovecot ready.".into()),
            total: Duration::from_millis(4),
            ..Default::default()
        };
        let c = parse(&["-H", "imap", "-e", "unlikely_string"]).unwrap();
        assert_eq!(
            render_text("IMAP", &c.evaluate(&f)),
            "IMAP WARNING - Unexpected response from host/socket: * OK Dovecot ready. | time=0.004s;;;0;10\n"
        );
        let c = parse(&["-H", "imap", "-e", "unlikely_string", "-M", "crit"]).unwrap();
        assert_eq!(c.evaluate(&f).state(), State::Critical);
        let c = parse(&["-H", "imap", "-e", "unlikely_string", "-M", "ok", "-j"]).unwrap();
        let r = c.evaluate(&f);
        assert_eq!(
            (r.state(), r.summary.as_str()),
            (
                State::Ok,
                "Unexpected response from host/socket on imap port 143"
            )
        );
        // any one, or all with -A; the reply to -s counts
        let c = parse(&["-H", "imap", "-e", "nope", "-e", "Dovecot"]).unwrap();
        assert_eq!(c.evaluate(&f).state(), State::Ok);
        let c = parse(&["-H", "imap", "-A", "-e", "Dovecot", "-e", "a1 OK"]).unwrap();
        assert_eq!(c.evaluate(&f).state(), State::Warning);
        let mut g = f.clone();
        g.reply = Some("a1 OK NOOP completed.\r\n".into());
        assert_eq!(c.evaluate(&g).state(), State::Ok);
        // a slow answer stays CRITICAL whatever -M says
        let c = parse(&["-H", "imap", "-e", "x", "-M", "ok", "-c", "0.001"]).unwrap();
        assert_eq!(c.evaluate(&f).state(), State::Critical);
        // a refused connection takes -r
        let mut g = f.clone();
        g.failure = Some((
            ImapStage::Connect,
            "connect to address 127.0.0.1 and port 143: Connection refused".into(),
        ));
        let c = parse(&["-H", "imap", "-r", "warn"]).unwrap();
        assert_eq!(c.evaluate(&g).state(), State::Warning);
        let c = parse(&["-H", "imap"]).unwrap();
        assert_eq!(c.evaluate(&g).state(), State::Critical);
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
