//! The SMTP (and LMTP) dialogue shared by check_smtp, check_mx (one run per MX address)
//! and check_mail_roundtrip (which also sends a message): banner, EHLO, STARTTLS with
//! the certificate, AUTH, MAIL FROM, command/response pairs, a message, QUIT, with each
//! step's time. [`dialogue_result`] is the dialogue's own verdict, before any check's
//! levels (response time, certificate days) are applied.

use crate::plugin::{shown, CheckResult, PerfData, State, Thresholds, Uom, UsageError};
use crate::proto::mail::{Session, SmtpReply, Step, Steps, Target, TlsMode};
use crate::proto::net;
use crate::proto::tls::{CertFacts, TlsArgs, TlsSettings};
use base64::Engine;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// SMTP AUTH to try.
#[derive(Debug, Clone, PartialEq)]
pub struct Auth {
    /// `LOGIN` or `PLAIN`.
    pub mechanism: String,
    pub user: String,
    pub password: String,
}

/// A message to send after EHLO (and AUTH): envelope and the whole text.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub from: String,
    pub to: String,
    /// Headers and body, lines ending in CRLF.
    pub data: String,
}

/// The resolved SMTP dialogue.
#[derive(Debug, Clone)]
pub struct SmtpDialogue {
    pub helo: String,
    pub lmtp: bool,
    pub expect: String,
    pub tls: TlsMode,
    pub settings: TlsSettings,
    pub sni: String,
    pub auth: Option<Auth>,
    /// MAIL FROM after EHLO (check_smtp's `-f`).
    pub from: Option<String>,
    /// Commands and the expression their reply must match.
    pub commands: Vec<(String, Option<regex::Regex>)>,
    pub message: Option<Outgoing>,
    pub ignore_quit: bool,
    /// Start with a PROXY protocol (v1) header, as check_smtp 3.0's `-r`.
    pub proxy: bool,
    /// How long reads may wait in all.
    pub budget: Duration,
    /// For perfdata: the check's time limit.
    pub timeout: Duration,
}

/// The dialogue step that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Connect,
    Tls,
    Banner,
    /// The banner arrived but does not contain the expected text.
    BannerMismatch,
    Helo,
    /// The server does not offer STARTTLS.
    NoStartTls,
    StartTls,
    Auth,
    Mail,
    Command,
    /// A command's reply does not match its -R.
    CommandMismatch,
    Send,
    Quit,
}

/// What the dialogue found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SmtpFacts {
    pub addr: Option<SocketAddr>,
    pub steps: Vec<Step>,
    pub banner: Option<SmtpReply>,
    /// The last EHLO reply (after STARTTLS, when used).
    pub ehlo: Option<SmtpReply>,
    pub cert: Option<CertFacts>,
    /// The step that failed and why.
    pub failure: Option<(Stage, String)>,
    /// The queue id or text of the reply that accepted the message.
    pub accepted: Option<String>,
    /// The failure is the time running out (no reply before the budget was spent).
    pub timed_out: bool,
    pub total: Duration,
    /// When the dialogue started, in seconds since the epoch (for the certificate's
    /// days left).
    pub now: i64,
}

/// This machine's host name, for EHLO.
pub fn local_hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    match std::str::from_utf8(&buf[..end]) {
        Ok(s) if rc == 0 && !s.is_empty() => s.to_string(),
        _ => "localhost".to_string(),
    }
}

/// Rejects text that would break an SMTP command line.
pub fn one_line(s: &str, what: &str) -> Result<(), UsageError> {
    if s.contains(['\r', '\n']) {
        return Err(UsageError(format!("{what} must not contain a line break")));
    }
    Ok(())
}

/// The PROXY protocol header check_smtp 3.0 sends with `-r` (addresses unknown).
pub const PROXY_HEADER: &[u8] = b"PROXY TCP4 0.0.0.0 0.0.0.0 25 25\r\n";

impl SmtpDialogue {
    /// The parts of the dialogue every SMTP check shares.
    pub fn new(
        helo: Option<String>,
        tls: TlsMode,
        tls_args: &TlsArgs,
        sni: String,
        timeout: Duration,
    ) -> Result<SmtpDialogue, UsageError> {
        let helo = helo.unwrap_or_else(local_hostname);
        one_line(&helo, "the EHLO name (-F)")?;
        if helo.trim().is_empty() {
            return Err(UsageError::new("the EHLO name (-F) is empty"));
        }
        Ok(SmtpDialogue {
            helo,
            lmtp: false,
            expect: "220".into(),
            tls,
            settings: TlsSettings::new(tls_args)?,
            sni,
            auth: None,
            from: None,
            commands: Vec::new(),
            message: None,
            ignore_quit: false,
            proxy: false,
            budget: timeout.mul_f64(0.9),
            timeout,
        })
    }

    /// Runs the dialogue against `target`.
    pub async fn run(&self, target: &Target) -> SmtpFacts {
        let start = Instant::now();
        let mut facts = SmtpFacts {
            now: crate::host::clock::unix_now(),
            ..Default::default()
        };
        let mut steps = Steps::default();
        let session = match Session::open(target, self.budget).await {
            Ok((s, t)) => {
                steps.steps.push(Step {
                    name: "connect",
                    time: t,
                });
                s
            }
            Err(e) => {
                facts.failure = Some((Stage::Connect, e.text));
                facts.timed_out = e.timed_out;
                facts.total = start.elapsed();
                return facts;
            }
        };
        facts.addr = Some(session.addr);
        let mut session = session;
        let sent = if self.proxy {
            session.send(PROXY_HEADER, "the PROXY header").await
        } else {
            Ok(())
        };
        let r = match sent {
            Ok(()) => self.talk(&mut session, &mut facts, &mut steps).await,
            Err(e) => Err((Stage::Banner, e)),
        };
        facts.cert = session.cert.clone();
        if let Err(f) = r {
            facts.failure = Some(f);
            facts.timed_out = session.timed_out();
            session.close(b"QUIT\r\n").await;
        } else {
            let t = Instant::now();
            match session.smtp_command("QUIT", "QUIT").await {
                Ok(r) if r.code == 221 => {}
                Ok(r) if !self.ignore_quit => {
                    facts.failure = Some((Stage::Quit, format!("QUIT answered '{}'", r.first())))
                }
                Err(e) if !self.ignore_quit => {
                    facts.failure = Some((Stage::Quit, e));
                    facts.timed_out = session.timed_out();
                }
                _ => {}
            }
            steps.done("quit", t);
            session.close(b"").await;
        }
        facts.steps = steps.steps;
        facts.total = start.elapsed();
        facts
    }

    async fn talk(
        &self,
        s: &mut Session,
        facts: &mut SmtpFacts,
        steps: &mut Steps,
    ) -> Result<(), (Stage, String)> {
        let mut t = Instant::now();
        if self.tls == TlsMode::Implicit {
            s.start_tls(&self.settings, &self.sni)
                .await
                .map_err(|e| (Stage::Tls, e))?;
            t = steps.done("tls", t);
        }
        let banner = s
            .smtp_reply("banner")
            .await
            .map_err(|e| (Stage::Banner, e))?;
        t = steps.done("banner", t);
        facts.banner = Some(banner.clone());
        if !banner.first().contains(&self.expect) {
            return Err((
                Stage::BannerMismatch,
                format!(
                    "banner '{}' does not contain '{}'",
                    banner.first(),
                    shown(&self.expect)
                ),
            ));
        }
        let hello = if self.lmtp { "LHLO" } else { "EHLO" };
        let mut ehlo = self.hello(s, hello).await?;
        t = steps.done("ehlo", t);
        if self.tls == TlsMode::StartTls {
            if !ehlo.has_extension("STARTTLS") {
                facts.ehlo = Some(ehlo);
                return Err((
                    Stage::NoStartTls,
                    "TLS not supported by server (no STARTTLS offered)".into(),
                ));
            }
            let r = s
                .smtp_command("STARTTLS", "STARTTLS")
                .await
                .map_err(|e| (Stage::StartTls, e))?;
            if r.code != 220 {
                return Err((
                    Stage::StartTls,
                    format!("STARTTLS refused: '{}'", r.first()),
                ));
            }
            s.start_tls(&self.settings, &self.sni)
                .await
                .map_err(|e| (Stage::Tls, e))?;
            t = steps.done("starttls", t);
            ehlo = self.hello(s, hello).await?;
            t = steps.done("ehlo_tls", t);
        }
        facts.ehlo = Some(ehlo);
        if let Some(a) = &self.auth {
            self.authenticate(s, a)
                .await
                .map_err(|e| (Stage::Auth, e))?;
            t = steps.done("auth", t);
        }
        if let Some(from) = &self.from {
            let r = s
                .smtp_command(&format!("MAIL FROM:<{from}>"), "MAIL FROM")
                .await
                .map_err(|e| (Stage::Mail, e))?;
            if r.code / 100 != 2 {
                return Err((Stage::Mail, format!("MAIL FROM refused: '{}'", r.first())));
            }
            t = steps.done("mail", t);
        }
        for (cmd, want) in &self.commands {
            let r = s
                .smtp_command(cmd, &format!("'{}'", shown(cmd)))
                .await
                .map_err(|e| (Stage::Command, e))?;
            let text = r
                .lines
                .iter()
                .map(|l| format!("{} {l}", r.code))
                .collect::<Vec<_>>()
                .join("\n");
            if let Some(re) = want {
                if !re.is_match(&text) {
                    return Err((
                        Stage::CommandMismatch,
                        format!(
                            "reply '{}' to '{}' does not match '{}'",
                            r.first(),
                            shown(cmd),
                            shown(re.as_str())
                        ),
                    ));
                }
            }
        }
        if !self.commands.is_empty() {
            t = steps.done("commands", t);
        }
        if let Some(m) = &self.message {
            facts.accepted = Some(
                self.send_message(s, m)
                    .await
                    .map_err(|e| (Stage::Send, e))?,
            );
            steps.done("send", t);
        }
        Ok(())
    }

    /// EHLO (or LHLO), falling back to HELO when an SMTP server refuses EHLO.
    async fn hello(&self, s: &mut Session, verb: &str) -> Result<SmtpReply, (Stage, String)> {
        let r = s
            .smtp_command(&format!("{verb} {}", self.helo), verb)
            .await
            .map_err(|e| (Stage::Helo, e))?;
        if r.code == 250 {
            return Ok(r);
        }
        if !self.lmtp && r.code / 100 == 5 && self.tls != TlsMode::StartTls && self.auth.is_none() {
            let h = s
                .smtp_command(&format!("HELO {}", self.helo), "HELO")
                .await
                .map_err(|e| (Stage::Helo, e))?;
            if h.code == 250 {
                return Ok(h);
            }
        }
        Err((Stage::Helo, format!("{verb} refused: '{}'", r.first())))
    }

    async fn authenticate(&self, s: &mut Session, a: &Auth) -> Result<(), String> {
        let b64 = |t: &[u8]| base64::engine::general_purpose::STANDARD.encode(t);
        let last = if a.mechanism == "PLAIN" {
            let token = b64(format!("\0{}\0{}", a.user, a.password).as_bytes());
            s.smtp_command(&format!("AUTH PLAIN {token}"), "AUTH PLAIN")
                .await?
        } else {
            let r = s.smtp_command("AUTH LOGIN", "AUTH LOGIN").await?;
            if r.code != 334 {
                return Err(format!("AUTH LOGIN refused: '{}'", r.first()));
            }
            let r = s
                .smtp_command(&b64(a.user.as_bytes()), "the user name")
                .await?;
            if r.code != 334 {
                return Err(format!("user name refused: '{}'", r.first()));
            }
            s.smtp_command(&b64(a.password.as_bytes()), "the password")
                .await?
        };
        if last.code != 235 {
            return Err(format!(
                "authentication as {} failed: '{}'",
                shown(&a.user),
                last.first()
            ));
        }
        Ok(())
    }

    async fn send_message(&self, s: &mut Session, m: &Outgoing) -> Result<String, String> {
        for (line, what) in [
            (format!("MAIL FROM:<{}>", m.from), "MAIL FROM"),
            (format!("RCPT TO:<{}>", m.to), "RCPT TO"),
        ] {
            let r = s.smtp_command(&line, what).await?;
            if r.code / 100 != 2 {
                return Err(format!("{what} refused: '{}'", r.first()));
            }
        }
        let r = s.smtp_command("DATA", "DATA").await?;
        if r.code != 354 {
            return Err(format!("DATA refused: '{}'", r.first()));
        }
        let mut body = String::with_capacity(m.data.len() + 8);
        for line in m.data.split("\r\n") {
            if line.starts_with('.') {
                body.push('.');
            }
            body.push_str(line);
            body.push_str("\r\n");
        }
        body.push_str(".\r\n");
        s.send(body.as_bytes(), "the message").await?;
        let r = s.smtp_reply("reply to the message").await?;
        if r.code / 100 != 2 {
            return Err(format!("message refused: '{}'", r.first()));
        }
        Ok(r.first())
    }
}

/// The state a failed stage stands for.
fn stage_state(stage: Stage) -> State {
    match stage {
        Stage::BannerMismatch | Stage::CommandMismatch | Stage::Quit => State::Warning,
        _ => State::Critical,
    }
}

/// The dialogue's own verdict (pure), before any check's levels: OK when it went
/// through (with the banner, STARTTLS, AUTH and the accepted message in the summary),
/// [`CheckResult::timed_out`] when its time ran out (the state `-t` names), the failed
/// step's state otherwise. `place` names the server (`host port 25`). No perfdata.
pub fn dialogue_result(facts: &SmtpFacts, d: &SmtpDialogue, place: &str) -> CheckResult {
    let secs = facts.total.as_secs_f64();
    match &facts.failure {
        Some((Stage::Connect, e)) if facts.timed_out => CheckResult::timed_out(e.clone()),
        Some((Stage::Connect, e)) => CheckResult::new(State::Critical, e.clone()),
        Some((_, e)) if facts.timed_out => CheckResult::timed_out(format!("{e} ({place})")),
        Some((stage, e)) => CheckResult::new(stage_state(*stage), format!("{e} ({place})")),
        None => {
            let banner = facts
                .banner
                .as_ref()
                .map(SmtpReply::first)
                .unwrap_or_default();
            let mut text = format!(
                "{secs:.3} seconds response time on {place} [{}]",
                net::printable(banner.as_bytes(), 200)
            );
            if d.tls == TlsMode::StartTls {
                text.push_str(", STARTTLS");
            }
            if let Some(a) = &d.auth {
                text.push_str(&format!(", AUTH {} as {}", a.mechanism, shown(&a.user)));
            }
            if let Some(acc) = &facts.accepted {
                text.push_str(&format!(", message accepted [{acc}]"));
            }
            CheckResult::new(State::Ok, text)
        }
    }
}

/// True when the dialogue got as far as a connection (the response time and the steps'
/// times mean something).
pub fn connected(facts: &SmtpFacts) -> bool {
    !matches!(facts.failure, Some((Stage::Connect, _)))
}

/// The perfdata of a dialogue: the total time with the check's levels, then each step.
pub fn perfdata(facts: &SmtpFacts, time: &Thresholds, timeout: Duration) -> Vec<PerfData> {
    let mut p = vec![PerfData::new("time", net::secs(facts.total))
        .uom(Uom::Seconds)
        .thresholds(time)
        .min(0.0)
        .max(timeout.as_secs_f64())];
    p.extend(crate::proto::mail::step_perfdata(&facts.steps));
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(code: u16, lines: &[&str]) -> SmtpReply {
        SmtpReply {
            code,
            lines: lines.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn dialogue() -> SmtpDialogue {
        SmtpDialogue::new(
            Some("me".into()),
            TlsMode::StartTls,
            &TlsArgs::default(),
            "mx".into(),
            Duration::from_secs(10),
        )
        .unwrap()
    }

    #[test]
    fn results_of_the_dialogue() {
        let d = dialogue();
        let mut f = SmtpFacts {
            banner: Some(reply(220, &["mx.test ESMTP"])),
            total: Duration::from_millis(5),
            ..Default::default()
        };
        let r = dialogue_result(&f, &d, "mx port 25");
        assert_eq!(r.state(), State::Ok);
        assert_eq!(
            r.summary,
            "0.005 seconds response time on mx port 25 [220 mx.test ESMTP], STARTTLS"
        );
        f.failure = Some((Stage::Quit, "QUIT answered '500 no'".into()));
        assert_eq!(dialogue_result(&f, &d, "p").state(), State::Warning);
        f.failure = Some((
            Stage::NoStartTls,
            "TLS not supported by server (no STARTTLS offered)".into(),
        ));
        assert_eq!(dialogue_result(&f, &d, "p").state(), State::Critical);
        assert!(connected(&f));
        f.failure = Some((Stage::Connect, "refused".into()));
        assert_eq!(dialogue_result(&f, &d, "p").summary, "refused");
        assert!(!dialogue_result(&f, &d, "p").timed_out);
        assert!(!connected(&f));
        // a connect or a reply that did not come in time
        f.timed_out = true;
        f.failure = Some((
            Stage::Connect,
            "connect to mx port 25: no answer within 1.8 seconds".into(),
        ));
        let r = dialogue_result(&f, &d, "mx port 25");
        assert!(r.timed_out);
        assert_eq!(
            r.summary,
            "connect to mx port 25: no answer within 1.8 seconds"
        );
        f.failure = Some((Stage::Helo, "no reply to EHLO within 1.8 seconds".into()));
        let r = dialogue_result(&f, &d, "mx port 25");
        assert!(r.timed_out);
        assert_eq!(
            r.summary,
            "no reply to EHLO within 1.8 seconds (mx port 25)"
        );
        assert!(SmtpDialogue::new(
            Some("a\r\nb".into()),
            TlsMode::Plain,
            &TlsArgs::default(),
            String::new(),
            Duration::from_secs(1)
        )
        .is_err());
    }
}
