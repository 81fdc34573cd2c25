//! check_smtp: the SMTP (or LMTP) dialogue up to QUIT — banner, EHLO, STARTTLS with the
//! certificate, AUTH, command/response pairs — with each step's time. Options follow
//! monitoring-plugins' check_smtp. The dialogue ([`SmtpDialogue`]) is shared by check_mx
//! (one run per MX address) and check_mail_roundtrip (which also sends a message).

use crate::plugin::secrets::read_secret_file;
use crate::plugin::thresholds::seconds_threshold;
use crate::plugin::{
    Check, CheckResult, CommonArgs, PerfData, State, Thresholds, Uom, UsageError, Work,
};
pub use crate::proto::mail::TlsMode;
use crate::proto::mail::{self, Session, SmtpReply, Step, Steps, Target};
use crate::proto::net::{self, Family};
use crate::proto::tls::{self, CertDays, CertFacts, TlsArgs, TlsSettings};
use base64::Engine;
use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const EXIT_CODES: &str = "Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad options, internal error). --help and --version exit 0.";

/// Command line of check_smtp.
#[derive(Parser, Debug)]
#[command(
    name = "check_smtp",
    version,
    about = "Talks SMTP (or LMTP) to a mail server: banner, EHLO, STARTTLS and its certificate, AUTH, commands; reports each step's time.",
    after_help = EXIT_CODES
)]
pub struct SmtpArgs {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Host name or address of the mail server
    #[arg(short = 'H', long = "hostname", value_name = "HOST")]
    pub hostname: String,

    /// Port (default 25, 465 with -s)
    #[arg(short = 'p', long = "port", value_name = "PORT")]
    pub port: Option<u16>,

    /// Use IPv4 only
    #[arg(short = '4', long = "use-ipv4", conflicts_with = "ipv6")]
    pub ipv4: bool,

    /// Use IPv6 only
    #[arg(short = '6', long = "use-ipv6")]
    pub ipv6: bool,

    /// Text the banner's first line must contain
    #[arg(
        short = 'e',
        long = "expect",
        value_name = "STRING",
        default_value = "220"
    )]
    pub expect: String,

    /// Name sent with EHLO/LHLO (default: this machine's host name)
    #[arg(short = 'F', long = "fqdn", value_name = "NAME")]
    pub fqdn: Option<String>,

    /// Upgrade the connection with STARTTLS (CRITICAL when the server does not offer it)
    #[arg(short = 'S', long = "starttls", conflicts_with = "ssl")]
    pub starttls: bool,

    /// Speak TLS from the start of the connection (submissions port 465)
    #[arg(short = 's', long = "ssl", visible_alias = "tls")]
    pub ssl: bool,

    /// Server name sent in the TLS handshake and checked in the certificate (default: -H)
    #[arg(long = "sni", value_name = "NAME")]
    pub sni: Option<String>,

    /// Days the certificate must still be valid: WARNING below WARN, CRITICAL below CRIT
    #[arg(short = 'D', long = "certificate", value_name = "WARN[,CRIT]")]
    pub cert_days: Option<CertDays>,

    #[command(flatten)]
    pub tls: TlsArgs,

    /// SMTP AUTH mechanism to test: LOGIN or PLAIN
    #[arg(short = 'A', long = "authtype", value_name = "TYPE")]
    pub authtype: Option<String>,

    /// SMTP AUTH user name
    #[arg(short = 'U', long = "authuser", value_name = "USER")]
    pub authuser: Option<String>,

    /// SMTP AUTH password (visible to other users in the process list: prefer --authpass-file)
    #[arg(short = 'P', long = "authpass", value_name = "PASSWORD")]
    pub authpass: Option<String>,

    /// Read the SMTP AUTH password from the first line of FILE
    #[arg(
        long = "authpass-file",
        value_name = "FILE",
        conflicts_with = "authpass"
    )]
    pub authpass_file: Option<PathBuf>,

    /// Address for a MAIL FROM command after EHLO
    #[arg(short = 'f', long = "from", value_name = "ADDRESS")]
    pub from: Option<String>,

    /// SMTP command to send after EHLO (repeatable)
    #[arg(short = 'C', long = "command", value_name = "COMMAND")]
    pub command: Vec<String>,

    /// Regular expression the reply to the matching -C must match (repeatable)
    #[arg(short = 'R', long = "response", value_name = "REGEX")]
    pub response: Vec<String>,

    /// Speak LMTP: LHLO instead of EHLO
    #[arg(short = 'L', long = "lmtp")]
    pub lmtp: bool,

    /// Do not warn when the server does not answer QUIT with 221
    #[arg(short = 'q', long = "ignore-quit-failure")]
    pub ignore_quit_failure: bool,

    /// Total response time in seconds that makes the result WARNING
    #[arg(short = 'w', long = "warning", value_name = "SECONDS")]
    pub warning: Option<f64>,

    /// Total response time in seconds that makes the result CRITICAL
    #[arg(short = 'c', long = "critical", value_name = "SECONDS")]
    pub critical: Option<f64>,
}

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
    pub cert_days: Option<CertDays>,
    pub auth: Option<Auth>,
    /// MAIL FROM after EHLO (check_smtp's `-f`).
    pub from: Option<String>,
    /// Commands and the expression their reply must match.
    pub commands: Vec<(String, Option<regex::Regex>)>,
    pub message: Option<Outgoing>,
    pub ignore_quit: bool,
    pub time: Thresholds,
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
    pub total: Duration,
}

/// The validated check_smtp.
#[derive(Debug)]
pub struct SmtpCheck {
    pub host: String,
    pub port: u16,
    pub family: Family,
    pub dialogue: SmtpDialogue,
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
fn one_line(s: &str, what: &str) -> Result<(), UsageError> {
    if s.contains(['\r', '\n']) {
        return Err(UsageError(format!("{what} must not contain a line break")));
    }
    Ok(())
}

impl SmtpDialogue {
    /// The parts of the dialogue every SMTP check shares.
    pub fn new(
        helo: Option<String>,
        tls: TlsMode,
        tls_args: &TlsArgs,
        sni: String,
        cert_days: Option<CertDays>,
        common: &CommonArgs,
    ) -> Result<SmtpDialogue, UsageError> {
        let helo = helo.unwrap_or_else(local_hostname);
        one_line(&helo, "the EHLO name (-F)")?;
        if helo.trim().is_empty() {
            return Err(UsageError::new("the EHLO name (-F) is empty"));
        }
        if cert_days.is_some() && tls == TlsMode::Plain {
            return Err(UsageError::new("-D needs TLS (-S or -s)"));
        }
        Ok(SmtpDialogue {
            helo,
            lmtp: false,
            expect: "220".into(),
            tls,
            settings: TlsSettings::new(tls_args)?,
            sni,
            cert_days,
            auth: None,
            from: None,
            commands: Vec::new(),
            message: None,
            ignore_quit: false,
            time: Thresholds::default(),
            budget: common.timeout.duration.mul_f64(0.9),
            timeout: common.timeout.duration,
        })
    }

    /// Runs the dialogue against `target`.
    pub async fn run(&self, target: &Target) -> SmtpFacts {
        let start = Instant::now();
        let mut facts = SmtpFacts::default();
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
                facts.failure = Some((Stage::Connect, e));
                facts.total = start.elapsed();
                return facts;
            }
        };
        facts.addr = Some(session.addr);
        let mut session = session;
        let r = self.talk(&mut session, &mut facts, &mut steps).await;
        facts.cert = session.cert.clone();
        if let Err(f) = r {
            facts.failure = Some(f);
            session.close(b"QUIT\r\n").await;
        } else {
            let t = Instant::now();
            match session.smtp_command("QUIT", "QUIT").await {
                Ok(r) if r.code == 221 => {}
                Ok(r) if !self.ignore_quit => {
                    facts.failure = Some((Stage::Quit, format!("QUIT answered '{}'", r.first())))
                }
                Err(e) if !self.ignore_quit => facts.failure = Some((Stage::Quit, e)),
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
                    self.expect
                ),
            ));
        }
        let hello = if self.lmtp { "LHLO" } else { "EHLO" };
        let mut ehlo = self.hello(s, hello).await?;
        t = steps.done("ehlo", t);
        if self.tls == TlsMode::StartTls {
            if !ehlo.has_extension("STARTTLS") {
                facts.ehlo = Some(ehlo);
                return Err((Stage::NoStartTls, "STARTTLS not offered".into()));
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
                .smtp_command(cmd, &format!("'{cmd}'"))
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
                            "reply '{}' to '{cmd}' does not match '{}'",
                            r.first(),
                            re.as_str()
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
                a.user,
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

impl Check for SmtpCheck {
    type Args = SmtpArgs;
    const LABEL: &'static str = "SMTP";

    fn common(args: &SmtpArgs) -> &CommonArgs {
        &args.common
    }

    fn new(args: SmtpArgs) -> Result<Self, UsageError> {
        if args.hostname.trim().is_empty() {
            return Err(UsageError::new("the host name (-H) is empty"));
        }
        let port = args.port.unwrap_or(if args.ssl { 465 } else { 25 });
        if port == 0 {
            return Err(UsageError::new("the port (-p) must be between 1 and 65535"));
        }
        let tls = if args.ssl {
            TlsMode::Implicit
        } else if args.starttls {
            TlsMode::StartTls
        } else {
            TlsMode::Plain
        };
        let mut d = SmtpDialogue::new(
            args.fqdn,
            tls,
            &args.tls,
            args.sni.unwrap_or_else(|| args.hostname.clone()),
            args.cert_days,
            &args.common,
        )?;
        d.lmtp = args.lmtp;
        d.expect = args.expect;
        d.ignore_quit = args.ignore_quit_failure;
        d.time = Thresholds::new(
            seconds_threshold(args.warning, "warning")?,
            seconds_threshold(args.critical, "critical")?,
        );
        let password = match args.authpass {
            Some(p) => Some(p),
            None => read_secret_file(args.authpass_file.as_deref(), "--authpass-file")?,
        };
        d.auth = match (args.authtype, args.authuser, password) {
            (None, None, None) => None,
            (Some(mech), Some(user), Some(password)) => {
                let mechanism = mech.to_ascii_uppercase();
                if mechanism != "LOGIN" && mechanism != "PLAIN" {
                    return Err(UsageError(format!(
                        "-A {mech}: the supported mechanisms are LOGIN and PLAIN"
                    )));
                }
                Some(Auth {
                    mechanism,
                    user,
                    password,
                })
            }
            _ => {
                return Err(UsageError::new(
                    "AUTH needs -A, -U and a password (-P or --authpass-file)",
                ))
            }
        };
        if let Some(f) = &args.from {
            one_line(f, "the MAIL FROM address (-f)")?;
        }
        d.from = args.from;
        if args.response.len() > args.command.len() {
            return Err(UsageError::new("more -R responses than -C commands"));
        }
        for (i, cmd) in args.command.iter().enumerate() {
            one_line(cmd, "a command (-C)")?;
            let re = match args.response.get(i) {
                Some(r) => Some(regex::Regex::new(r).map_err(|e| {
                    UsageError(format!("-R '{r}' is not a regular expression: {e}"))
                })?),
                None => None,
            };
            d.commands.push((cmd.clone(), re));
        }
        Ok(SmtpCheck {
            host: args.hostname,
            port,
            family: Family::from_flags(args.ipv4, args.ipv6),
            dialogue: d,
        })
    }

    fn run(&self) -> Work<'_> {
        Work::Remote(Box::pin(async move {
            let target = Target::Host(self.host.clone(), self.port, self.family);
            let facts = self.dialogue.run(&target).await;
            let place = format!("{} port {}", self.host, self.port);
            evaluate_smtp(&facts, &self.dialogue, &place, tls::unix_now())
        }))
    }
}

/// The state a failed stage stands for.
fn stage_state(stage: Stage) -> State {
    match stage {
        Stage::BannerMismatch | Stage::CommandMismatch | Stage::Quit => State::Warning,
        _ => State::Critical,
    }
}

/// check_smtp's verdict (pure); `place` names the server (`host port 25`).
pub fn evaluate_smtp(facts: &SmtpFacts, d: &SmtpDialogue, place: &str, now: i64) -> CheckResult {
    let secs = facts.total.as_secs_f64();
    let mut r = match &facts.failure {
        Some((Stage::Connect, e)) => return CheckResult::new(State::Critical, e.clone()),
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
                text.push_str(&format!(", AUTH {} as {}", a.mechanism, a.user));
            }
            if let Some(acc) = &facts.accepted {
                text.push_str(&format!(", message accepted [{acc}]"));
            }
            CheckResult::new(d.time.state(secs), text)
        }
    };
    if let Some((s, text)) = mail::cert_verdict(facts.cert.as_ref(), d.cert_days, now) {
        r.raise(s);
        r.summary = format!("{}; {text}", r.summary);
    }
    r.push_perf(
        PerfData::new("time", net::secs(facts.total))
            .uom(Uom::Seconds)
            .thresholds(&d.time)
            .min(0.0)
            .max(d.timeout.as_secs_f64()),
    );
    for p in mail::step_perfdata(&facts.steps) {
        r.push_perf(p);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::parse_args;

    fn parse(argv: &[&str]) -> Result<SmtpCheck, UsageError> {
        let args =
            parse_args::<SmtpCheck>(std::iter::once("check_smtp").chain(argv.iter().copied()))?
                .unwrap();
        SmtpCheck::new(args)
    }

    fn reply(code: u16, lines: &[&str]) -> SmtpReply {
        SmtpReply {
            code,
            lines: lines.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn ok_facts() -> SmtpFacts {
        SmtpFacts {
            addr: Some("127.0.0.1:25".parse().unwrap()),
            steps: vec![
                Step {
                    name: "connect",
                    time: Duration::from_millis(1),
                },
                Step {
                    name: "banner",
                    time: Duration::from_millis(2),
                },
            ],
            banner: Some(reply(220, &["mx.test ESMTP"])),
            ehlo: Some(reply(250, &["mx.test", "STARTTLS"])),
            total: Duration::from_millis(5),
            ..Default::default()
        }
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        SmtpArgs::command().debug_assert();
    }

    #[test]
    fn options() {
        let c = parse(&["-H", "mx", "-F", "me.test"]).unwrap();
        assert_eq!(
            (c.port, c.dialogue.tls, c.dialogue.helo.as_str()),
            (25, TlsMode::Plain, "me.test")
        );
        let c = parse(&["-H", "mx", "-s"]).unwrap();
        assert_eq!((c.port, c.dialogue.tls), (465, TlsMode::Implicit));
        assert!(parse(&["-H", "mx", "-D", "30"]).is_err());
        assert!(parse(&["-H", "mx", "-S", "-D", "30,7"]).is_ok());
        assert!(parse(&["-H", "mx", "-A", "LOGIN", "-U", "u"]).is_err());
        assert!(parse(&["-H", "mx", "-A", "CRAM-MD5", "-U", "u", "-P", "p"]).is_err());
        assert!(parse(&["-H", "mx", "-R", "250"]).is_err());
        assert!(parse(&["-H", "mx", "-C", "NOOP", "-R", "(("]).is_err());
        assert!(parse(&["-H", "",]).is_err());
        assert!(parse(&["-H", "mx", "-w", "-1"]).is_err());
        let c = parse(&["-H", "mx", "-A", "plain", "-U", "u", "-P", "p"]).unwrap();
        assert_eq!(c.dialogue.auth.unwrap().mechanism, "PLAIN");
    }

    #[test]
    fn verdicts() {
        let c = parse(&["-H", "mx", "-F", "me", "-w", "1", "-c", "2"]).unwrap();
        let f = ok_facts();
        assert_eq!(
            render_text("SMTP", &evaluate_smtp(&f, &c.dialogue, "mx port 25", 0)),
            "SMTP OK - 0.005 seconds response time on mx port 25 [220 mx.test ESMTP] | time=0.005s;1;2;0;10 connect_time=0.001s;;;0 banner_time=0.002s;;;0\n"
        );
        let mut slow = ok_facts();
        slow.total = Duration::from_millis(1500);
        assert_eq!(
            evaluate_smtp(&slow, &c.dialogue, "p", 0).state(),
            State::Warning
        );
        let mut g = ok_facts();
        g.failure = Some((
            Stage::BannerMismatch,
            "banner '554 go away' does not contain '220'".into(),
        ));
        assert_eq!(
            evaluate_smtp(&g, &c.dialogue, "mx port 25", 0).summary,
            "banner '554 go away' does not contain '220' (mx port 25)"
        );
        assert_eq!(
            evaluate_smtp(&g, &c.dialogue, "p", 0).state(),
            State::Warning
        );
        g.failure = Some((Stage::NoStartTls, "STARTTLS not offered".into()));
        assert_eq!(
            evaluate_smtp(&g, &c.dialogue, "p", 0).state(),
            State::Critical
        );
        g.failure = Some((
            Stage::Connect,
            "connect to address 127.0.0.1 and port 25: Connection refused".into(),
        ));
        assert_eq!(
            render_text("SMTP", &evaluate_smtp(&g, &c.dialogue, "p", 0)),
            "SMTP CRITICAL - connect to address 127.0.0.1 and port 25: Connection refused\n"
        );
    }

    #[test]
    fn certificates() {
        let c = parse(&["-H", "mx", "-F", "me", "-S", "-D", "30,7"]).unwrap();
        let mut f = ok_facts();
        f.cert = Some(CertFacts {
            leaf: Some(Ok(tls::CertInfo {
                subject: "mx.test".into(),
                issuer: "CA".into(),
                not_after: 20 * 86_400,
                dns_names: vec![],
            })),
            verify_error: None,
        });
        let r = evaluate_smtp(&f, &c.dialogue, "mx port 25", 0);
        assert_eq!(r.state(), State::Warning);
        assert_eq!(
            r.summary,
            "0.005 seconds response time on mx port 25 [220 mx.test ESMTP], STARTTLS; certificate 'mx.test' will expire on 1970-01-21 00:00:00 UTC (20 days)"
        );
        let r = evaluate_smtp(&f, &c.dialogue, "mx port 25", 30 * 86_400);
        assert_eq!(r.state(), State::Critical);
        assert!(r
            .summary
            .ends_with("certificate 'mx.test' expired on 1970-01-21 00:00:00 UTC"));
    }
}
