//! check_mail_roundtrip: sends a message carrying a unique token through SMTP (the
//! dialogue of [`crate::proto::smtp`]), polls the mailbox over IMAP (the session of
//! [`crate::proto::imap`]) until it arrives, measures the delivery time, deletes it and any
//! test messages earlier runs left behind. One sub-result for the send side and one for
//! the receive side, so the summary says which side failed.
//!
//! Test messages are recognised by their `X-Hcoop-Monitor-Roundtrip` header: the
//! mailbox should be one kept for monitoring, since every message with that header in
//! it is removed.

use crate::plugin::thresholds::seconds_threshold;
use crate::plugin::{
    parse_host, parse_port, shown, Check, CheckResult, CommonArgs, PerfData, State, Thresholds,
    Uom, UsageError, Work,
};
use crate::proto::imap::{Imap, ImapDialogue, ImapFacts, ImapLoginArgs, ImapStage};
use crate::proto::mail::{self, Steps, Target, TlsMode};
use crate::proto::net::{self, Family};
use crate::proto::smtp::{self, Outgoing, SmtpDialogue, SmtpFacts};
use crate::proto::tls::{self, TlsArgs, TlsSettings};
use clap::Parser;
use std::time::{Duration, Instant};

use crate::plugin::EXIT_CODES;

/// The header that marks test messages.
pub const HEADER: &str = "X-Hcoop-Monitor-Roundtrip";

/// Command line of check_mail_roundtrip.
#[derive(Parser, Debug)]
#[command(
    name = "check_mail_roundtrip",
    version,
    about = "Sends a message with a unique token by SMTP, waits for it in an IMAP mailbox, reports the delivery time, and deletes it (and test messages left by earlier runs).",
    after_help = EXIT_CODES
)]
pub struct RoundtripArgs {
    #[command(flatten)]
    pub common: CommonArgs,

    /// SMTP server to send through
    #[arg(short = 'H', long = "hostname", value_name = "HOST", value_parser = parse_host)]
    pub hostname: String,

    /// SMTP port (default 25, 465 with -s)
    #[arg(short = 'p', long = "port", value_name = "PORT", value_parser = parse_port)]
    pub port: Option<u16>,

    /// Upgrade the SMTP connection with STARTTLS
    #[arg(short = 'S', long = "starttls", conflicts_with = "ssl")]
    pub starttls: bool,

    /// Speak TLS from the start of the SMTP connection
    #[arg(short = 's', long = "ssl")]
    pub ssl: bool,

    /// TLS name of the SMTP server (default: -H)
    #[arg(long = "smtp-sni", value_name = "NAME")]
    pub smtp_sni: Option<String>,

    /// Name sent with EHLO (default: this machine's host name)
    #[arg(short = 'F', long = "fqdn", value_name = "NAME")]
    pub fqdn: Option<String>,

    /// Envelope sender and From: address
    #[arg(short = 'f', long = "from", value_name = "ADDRESS")]
    pub from: String,

    /// Recipient: the address delivering into the mailbox below
    #[arg(short = 'r', long = "to", value_name = "ADDRESS")]
    pub to: String,

    /// IMAP server to read from (default: -H)
    #[arg(short = 'I', long = "imap-host", value_name = "HOST", value_parser = parse_host)]
    pub imap_host: Option<String>,

    /// IMAP port (default 143, 993 with --imap-ssl)
    #[arg(long = "imap-port", value_name = "PORT", value_parser = parse_port)]
    pub imap_port: Option<u16>,

    /// Upgrade the IMAP connection with STARTTLS
    #[arg(long = "imap-starttls", conflicts_with = "imap_ssl")]
    pub imap_starttls: bool,

    /// Speak TLS from the start of the IMAP connection (IMAPS)
    #[arg(long = "imap-ssl")]
    pub imap_ssl: bool,

    /// TLS name of the IMAP server (default: the IMAP host)
    #[arg(long = "imap-sni", value_name = "NAME")]
    pub imap_sni: Option<String>,

    #[command(flatten)]
    pub login: ImapLoginArgs,

    /// Mailbox the message is delivered into
    #[arg(
        short = 'm',
        long = "mailbox",
        value_name = "MAILBOX",
        default_value = "INBOX"
    )]
    pub mailbox: String,

    #[command(flatten)]
    pub tls: TlsArgs,

    /// Seconds between looks into the mailbox
    #[arg(long = "interval", value_name = "SECONDS", default_value_t = 0.5)]
    pub interval: f64,

    /// Delivery time in seconds that makes the result WARNING
    #[arg(short = 'w', long = "warning", value_name = "SECONDS")]
    pub warning: Option<f64>,

    /// Delivery time in seconds that makes the result CRITICAL (and stops the wait)
    #[arg(short = 'c', long = "critical", value_name = "SECONDS")]
    pub critical: Option<f64>,
}

/// The validated check_mail_roundtrip.
#[derive(Debug)]
pub struct RoundtripCheck {
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp: SmtpDialogue,
    pub from: String,
    pub to: String,
    pub imap_host: String,
    pub imap_port: u16,
    pub imap: ImapDialogue,
    pub mailbox: String,
    pub interval: Duration,
    pub delivery: Thresholds,
    /// How long the wait for the message may last in all.
    pub wait: Duration,
    /// The wait ends with the check's time (`-t`), not with the critical level.
    pub wait_is_time_limit: bool,
    /// The state `-t` gives a time running out, for the sub-result where it ran out.
    pub timeout_state: State,
}

/// What the receive side found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReceiveFacts {
    pub imap: ImapFacts,
    /// Seconds from the server accepting the message to it being seen.
    pub delivered: Option<Duration>,
    /// How long the mailbox was watched.
    pub waited: Duration,
    pub polls: u32,
    /// Test messages of earlier runs removed.
    pub older_removed: usize,
    pub cleanup_error: Option<String>,
}

/// What the round trip found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoundtripFacts {
    pub token: String,
    pub send: SmtpFacts,
    /// `None` when the message was not sent.
    pub receive: Option<ReceiveFacts>,
}

fn mode(ssl: bool, starttls: bool) -> TlsMode {
    if ssl {
        TlsMode::Implicit
    } else if starttls {
        TlsMode::StartTls
    } else {
        TlsMode::Plain
    }
}

fn address(a: &str, what: &str) -> Result<(), UsageError> {
    if a.is_empty() || a.contains(['<', '>', '\r', '\n', ' ']) || !a.contains('@') {
        return Err(UsageError(format!(
            "{what} '{}' is not a mail address",
            shown(a)
        )));
    }
    Ok(())
}

/// A token unique to this run: time, process and a random part.
pub fn new_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    format!(
        "{}-{}-{:016x}",
        tls::unix_now(),
        std::process::id(),
        h.finish()
    )
}

/// The test message.
pub fn message_text(from: &str, to: &str, token: &str) -> String {
    format!(
        "From: <{from}>\r\nTo: <{to}>\r\nSubject: hcoop-monitor round trip {token}\r\n\
         Message-ID: <{token}@hcoop-monitor>\r\n{HEADER}: {token}\r\n\r\n\
         Mail round-trip test message; the monitoring check deletes it when it arrives.\r\n"
    )
}

/// The UIDs of an `ESEARCH`-less `SEARCH` reply.
pub fn search_uids(untagged: &[String]) -> Vec<u64> {
    untagged
        .iter()
        .filter_map(|l| l.strip_prefix("SEARCH"))
        .flat_map(|r| r.split_whitespace().filter_map(|w| w.parse().ok()))
        .collect()
}

impl Check for RoundtripCheck {
    type Args = RoundtripArgs;
    type Facts = RoundtripFacts;
    const LABEL: &'static str = "MAIL_ROUNDTRIP";

    fn common(args: &RoundtripArgs) -> &CommonArgs {
        &args.common
    }

    fn new(args: RoundtripArgs) -> Result<Self, UsageError> {
        address(&args.from, "-f")?;
        address(&args.to, "-r")?;
        if !(args.interval.is_finite() && args.interval >= 0.05) {
            return Err(UsageError::new("--interval must be at least 0.05 seconds"));
        }
        let login = args.login.credentials()?;
        if login.is_none() {
            return Err(UsageError::new(
                "the mailbox needs a login: -U and --password-file or --password-env",
            ));
        }
        mail::imap_quote(&args.mailbox).map_err(|e| UsageError(format!("-m: {e}")))?;
        let smtp_tls = mode(args.ssl, args.starttls);
        let smtp_port = args.port.unwrap_or(if args.ssl { 465 } else { 25 });
        let imap_tls = mode(args.imap_ssl, args.imap_starttls);
        let imap_port = args
            .imap_port
            .unwrap_or(if args.imap_ssl { 993 } else { 143 });
        let imap_host = args.imap_host.unwrap_or_else(|| args.hostname.clone());
        let smtp = SmtpDialogue::new(
            args.fqdn,
            smtp_tls,
            &args.tls,
            args.smtp_sni.unwrap_or_else(|| args.hostname.clone()),
            args.common.timeout.duration,
        )?;
        let total = args.common.timeout.duration;
        let delivery = Thresholds::new(
            seconds_threshold(args.warning, "warning")?,
            seconds_threshold(args.critical, "critical")?,
        );
        // leave time for the cleanup and LOGOUT after the wait
        let limit = total.mul_f64(0.8);
        let (wait, wait_is_time_limit) = match args.critical {
            Some(c) if Duration::from_secs_f64(c) < limit => (Duration::from_secs_f64(c), false),
            _ => (limit, true),
        };
        Ok(RoundtripCheck {
            smtp,
            smtp_host: args.hostname,
            smtp_port,
            from: args.from,
            to: args.to,
            imap: ImapDialogue {
                tls: imap_tls,
                settings: TlsSettings::new(&args.tls)?,
                sni: args.imap_sni.unwrap_or_else(|| imap_host.clone()),
                login,
                budget: total.mul_f64(0.9),
                timeout: total,
            },
            imap_host,
            imap_port,
            mailbox: args.mailbox,
            interval: Duration::from_secs_f64(args.interval),
            delivery,
            wait,
            wait_is_time_limit,
            timeout_state: args.common.timeout.state,
        })
    }

    fn fetch(&self) -> Work<'_, RoundtripFacts> {
        Work::remote(self.round_trip())
    }

    fn evaluate(&self, facts: &RoundtripFacts) -> CheckResult {
        evaluate_roundtrip(facts, self)
    }
}

impl RoundtripCheck {
    /// Sends, waits, cleans up.
    async fn round_trip(&self) -> RoundtripFacts {
        let start = Instant::now();
        let token = new_token();
        let mut smtp = self.smtp.clone();
        smtp.message = Some(Outgoing {
            from: self.from.clone(),
            to: self.to.clone(),
            data: message_text(&self.from, &self.to, &token),
        });
        let send = smtp
            .run(&Target::Host(
                self.smtp_host.clone(),
                self.smtp_port,
                Family::Any,
            ))
            .await;
        let sent_at = Instant::now();
        let receive = if send.accepted.is_some() {
            Some(self.receive(&token, sent_at, start).await)
        } else {
            None
        };
        RoundtripFacts {
            token,
            send,
            receive,
        }
    }

    async fn receive(&self, token: &str, sent_at: Instant, start: Instant) -> ReceiveFacts {
        let mut facts = ReceiveFacts::default();
        let mut steps = Steps::default();
        let target = Target::Host(self.imap_host.clone(), self.imap_port, Family::Any);
        let mut imap = match self.imap.open(&target, &mut facts.imap, &mut steps).await {
            Ok(i) => i,
            Err(f) => {
                facts.imap.failure = Some(f);
                facts.imap.steps = steps.steps;
                return facts;
            }
        };
        let r = self
            .watch(&mut imap, token, sent_at, start, &mut facts)
            .await;
        if let Err(f) = r {
            facts.imap.failure = Some(f);
            facts.imap.timed_out = imap.timed_out();
        }
        let _ = imap.logout().await;
        facts.imap.steps = steps.steps;
        facts
    }

    async fn watch(
        &self,
        imap: &mut Imap,
        token: &str,
        sent_at: Instant,
        start: Instant,
        facts: &mut ReceiveFacts,
    ) -> Result<(), (ImapStage, String)> {
        let mbox = mail::imap_quote(&self.mailbox).map_err(|e| (ImapStage::Mailbox, e))?;
        let cmd = |e: String| (ImapStage::Command, e);
        imap.command_ok(
            &format!("SELECT {mbox}"),
            &format!("SELECT {}", self.mailbox),
        )
        .await
        .map_err(|e| (ImapStage::Mailbox, e))?;
        let deadline = (start + self.wait).max(sent_at);
        let search = format!("UID SEARCH HEADER {HEADER} \"{token}\"");
        loop {
            facts.polls += 1;
            imap.command_ok("NOOP", "NOOP").await.map_err(cmd)?;
            let r = imap.command_ok(&search, "SEARCH").await.map_err(cmd)?;
            if !search_uids(&r.untagged).is_empty() {
                facts.delivered = Some(sent_at.elapsed());
                break;
            }
            if Instant::now() + self.interval > deadline {
                break;
            }
            tokio::time::sleep(self.interval).await;
        }
        facts.waited = sent_at.elapsed();
        // remove this run's message and every test message earlier runs left
        let all = imap
            .command_ok(&format!("UID SEARCH HEADER {HEADER} \"\""), "SEARCH")
            .await
            .map_err(cmd)?;
        let uids = search_uids(&all.untagged);
        if !uids.is_empty() {
            let set: Vec<String> = uids.iter().map(u64::to_string).collect();
            let done = async {
                imap.command_ok(
                    &format!("UID STORE {} +FLAGS.SILENT (\\Deleted)", set.join(",")),
                    "STORE",
                )
                .await?;
                imap.command_ok("EXPUNGE", "EXPUNGE").await
            };
            match done.await {
                Ok(_) => facts.older_removed = uids.len() - usize::from(facts.delivered.is_some()),
                Err(e) => facts.cleanup_error = Some(e),
            }
        }
        Ok(())
    }
}

/// check_mail_roundtrip's verdict (pure): one sub-result per side, the summary naming
/// the side that failed.
fn evaluate_roundtrip(facts: &RoundtripFacts, check: &RoundtripCheck) -> CheckResult {
    let smtp_place = format!("{} port {}", check.smtp_host, check.smtp_port);
    let imap_place = format!("{} port {}", check.imap_host, check.imap_port);
    let mut send = smtp::dialogue_result(&facts.send, &check.smtp, &smtp_place)
        .with_timeout_state(check.timeout_state);
    if smtp::connected(&facts.send) {
        send.perfdata = smtp::perfdata(&facts.send, &Thresholds::default(), check.smtp.timeout);
    }
    // the time ran out on the receive side: the mailbox did not answer, or the message
    // did not come before the wait, which ended with the check's time
    let receive_timed_out = facts.receive.as_ref().is_some_and(|rec| {
        if rec.imap.failure.is_some() {
            rec.imap.timed_out
        } else {
            rec.delivered.is_none() && check.wait_is_time_limit
        }
    });
    let mut r = if send.timed_out || receive_timed_out {
        CheckResult::timed_out(String::new())
    } else {
        CheckResult::new(State::Ok, String::new())
    };
    r.push_sub(send.state(), format!("send: {}", send.summary));
    let Some(rec) = &facts.receive else {
        r.summary = format!("send side failed: {}", send.summary);
        r.push_line("receive: not tried, the message was not sent");
        r.perfdata = send.perfdata;
        return r;
    };
    let mailbox = &shown(&check.mailbox);
    let (state, text) = if let Some((_, e)) = &rec.imap.failure {
        (State::Critical, format!("{e} ({imap_place})"))
    } else if let Some(d) = rec.delivered {
        let secs = d.as_secs_f64();
        (
            check.delivery.state(secs),
            format!(
                "delivered into {mailbox} on {imap_place} after {secs:.2} seconds ({} looks)",
                rec.polls
            ),
        )
    } else {
        (
            State::Critical,
            format!(
                "message {} not in {mailbox} on {imap_place} after {:.1} seconds",
                facts.token,
                rec.waited.as_secs_f64()
            ),
        )
    };
    let mut rtext = text.clone();
    if rec.older_removed > 0 {
        rtext.push_str(&format!(
            ", {} test message(s) of earlier runs removed",
            rec.older_removed
        ));
    }
    if let Some(e) = &rec.cleanup_error {
        rtext.push_str(&format!(", cleanup failed: {e}"));
    }
    let state = if receive_timed_out {
        check.timeout_state
    } else {
        state
    };
    r.push_sub(state, format!("receive: {rtext}"));
    r.summary = match (send.state(), &rec.imap.failure, rec.delivered) {
        (_, Some(_), _) => format!("receive side failed: {text}"),
        (_, None, None) => format!("receive side failed: {text}"),
        (_, None, Some(d)) => format!(
            "message delivered in {:.2} seconds (sent via {smtp_place}, read from {imap_place})",
            d.as_secs_f64()
        ),
    };
    if rec.cleanup_error.is_some() {
        r.raise(State::Warning);
    }
    r.push_perf(
        PerfData::new("delivery", net::secs(rec.delivered.unwrap_or(rec.waited)))
            .uom(Uom::Seconds)
            .thresholds(&check.delivery)
            .min(0.0),
    );
    r.push_perf(
        PerfData::new("send_time", net::secs(facts.send.total))
            .uom(Uom::Seconds)
            .min(0.0),
    );
    r.push_perf(PerfData::new("older_removed", rec.older_removed).min(0.0));
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::parse_args;

    fn parse(argv: &[&str]) -> Result<RoundtripCheck, UsageError> {
        let args = parse_args::<RoundtripCheck>(
            std::iter::once("check_mail_roundtrip").chain(argv.iter().copied()),
        )?
        .unwrap();
        RoundtripCheck::new(args)
    }

    const BASE: &[&str] = &[
        "-H",
        "mx",
        "-F",
        "m",
        "-f",
        "mon@coop.test",
        "-r",
        "box@coop.test",
        "-U",
        "box",
        "--password-env",
        "PATH",
        "-w",
        "5",
        "-c",
        "20",
        "-t",
        "30",
    ];

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        RoundtripArgs::command().debug_assert();
    }

    #[test]
    fn options() {
        let c = parse(BASE).unwrap();
        assert_eq!(c.wait, Duration::from_secs(20));
        assert_eq!(
            (c.smtp_port, c.imap_port, c.imap_host.as_str()),
            (25, 143, "mx")
        );
        assert!(parse(&["-H", "mx", "-f", "a@b", "-r", "c@d"]).is_err());
        let mut bad = BASE.to_vec();
        bad[5] = "not an address";
        assert!(parse(&bad).is_err());
        bad[5] = "a\n@b";
        assert_eq!(
            parse(&bad).unwrap_err().0,
            "-f 'a\\n@b' is not a mail address"
        );
        let mut bad = BASE.to_vec();
        bad[1] = "mx\n";
        assert!(parse(&bad).unwrap_err().0.contains("invalid host 'mx\\n'"));
        let mut bad = BASE.to_vec();
        bad.extend(["--imap-port", "0"]);
        assert!(parse(&bad).is_err());
    }

    #[test]
    fn message_and_search() {
        let t = message_text("a@b", "c@d", "1-2-ff");
        assert!(t.contains("\r\nX-Hcoop-Monitor-Roundtrip: 1-2-ff\r\n\r\n"));
        assert_ne!(new_token(), "");
        let l = vec!["SEARCH 4 9".to_string(), "OK x".to_string()];
        assert_eq!(search_uids(&l), vec![4, 9]);
        assert!(search_uids(&["SEARCH".to_string()]).is_empty());
    }

    /// A message accepted by the server in 20 ms and seen in the mailbox after `after`,
    /// at the `polls`-th look.
    fn delivered(after: Duration, polls: u32) -> RoundtripFacts {
        RoundtripFacts {
            token: "1-2-ff".into(),
            send: SmtpFacts {
                banner: Some(mail::SmtpReply {
                    code: 220,
                    lines: vec!["mx ESMTP".into()],
                }),
                accepted: Some("250 OK id=1".into()),
                total: Duration::from_millis(20),
                ..Default::default()
            },
            receive: Some(ReceiveFacts {
                delivered: Some(after),
                waited: after,
                polls,
                ..Default::default()
            }),
        }
    }

    #[test]
    fn verdicts() {
        let c = parse(BASE).unwrap();
        let mut f = delivered(Duration::from_millis(1500), 3);
        f.receive.as_mut().unwrap().older_removed = 2;
        assert_eq!(
            render_text("MAIL_ROUNDTRIP", &c.evaluate(&f)),
            "MAIL_ROUNDTRIP OK - message delivered in 1.50 seconds (sent via mx port 25, read from mx port 143) | delivery=1.5s;5;20;0 send_time=0.02s;;;0 older_removed=2;;;0\n\
             [OK] send: 0.020 seconds response time on mx port 25 [220 mx ESMTP], message accepted [250 OK id=1]\n\
             [OK] receive: delivered into INBOX on mx port 143 after 1.50 seconds (3 looks), 2 test message(s) of earlier runs removed\n"
        );
        let rec = f.receive.as_mut().unwrap();
        rec.delivered = None;
        rec.waited = Duration::from_secs(20);
        rec.older_removed = 0;
        let r = c.evaluate(&f);
        assert_eq!(r.state(), State::Critical);
        assert_eq!(
            r.summary,
            "receive side failed: message 1-2-ff not in INBOX on mx port 143 after 20.0 seconds"
        );
        // the wait ended with the check's time (no -c below it): a time-out
        let mut no_c = BASE[..12].to_vec();
        no_c.extend(["-t", "10:UNKNOWN"]);
        let t = parse(&no_c).unwrap();
        assert!(t.wait_is_time_limit);
        let r = t.evaluate(&f);
        assert!(r.timed_out);
        assert_eq!(
            render_text("MAIL_ROUNDTRIP", &r.with_timeout_state(State::Unknown))
                .lines()
                .nth(2),
            Some(
                "[UNKNOWN] receive: message 1-2-ff not in INBOX on mx port 143 after 20.0 seconds"
            )
        );
        f.receive = None;
        f.send.accepted = None;
        f.send.failure = Some((
            smtp::Stage::Send,
            "RCPT TO refused: '550 unknown user'".into(),
        ));
        let r = c.evaluate(&f);
        assert_eq!(r.state(), State::Critical);
        assert_eq!(
            r.summary,
            "send side failed: RCPT TO refused: '550 unknown user' (mx port 25)"
        );
        assert!(!r.timed_out);
        f.send.failure = Some((smtp::Stage::Banner, "no banner within 27.0 seconds".into()));
        f.send.timed_out = true;
        let r = t.evaluate(&f).with_timeout_state(State::Unknown);
        assert_eq!(r.state(), State::Unknown);
        assert_eq!(
            r.details[0].text,
            "send: no banner within 27.0 seconds (mx port 25)"
        );
        assert_eq!(r.details[0].state, Some(State::Unknown));
    }

    #[test]
    fn slow_delivery_failed_mailbox_and_cleanup() {
        let c = parse(BASE).unwrap();
        let mut f = delivered(Duration::from_secs(7), 15);
        let r = c.evaluate(&f);
        assert_eq!(r.state(), State::Warning);
        assert_eq!(
            r.summary,
            "message delivered in 7.00 seconds (sent via mx port 25, read from mx port 143)"
        );
        let rec = f.receive.as_mut().unwrap();
        rec.delivered = Some(Duration::from_secs(1));
        rec.cleanup_error = Some("EXPUNGE failed: NO".into());
        let r = c.evaluate(&f);
        assert_eq!(r.state(), State::Warning);
        assert!(r.details[1]
            .text
            .ends_with(", cleanup failed: EXPUNGE failed: NO"));
        let rec = f.receive.as_mut().unwrap();
        rec.cleanup_error = None;
        rec.delivered = None;
        rec.imap.failure = Some((
            ImapStage::Login,
            "login as box failed: NO [AUTHENTICATIONFAILED]".into(),
        ));
        let r = c.evaluate(&f);
        assert_eq!(r.state(), State::Critical);
        assert!(!r.timed_out);
        assert_eq!(
            r.summary,
            "receive side failed: login as box failed: NO [AUTHENTICATIONFAILED] (mx port 143)"
        );
    }
}
