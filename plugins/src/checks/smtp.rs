//! check_smtp: the SMTP (or LMTP) dialogue of [`crate::proto::smtp`] up to QUIT —
//! banner, EHLO, STARTTLS with the certificate, AUTH, command/response pairs — with each
//! step's time, and this check's levels on the response time and the certificate's days
//! left. Options follow monitoring-plugins' check_smtp.

use crate::plugin::args::ResponseTimeArgs;
use crate::plugin::secrets::read_secret_file;
use crate::plugin::{shown, Check, CheckResult, CommonArgs, Thresholds, UsageError, Work};
pub use crate::proto::mail::TlsMode;
use crate::proto::mail::{self, MailServer, MailServerArgs};
use crate::proto::smtp::{self, one_line, Auth, SmtpDialogue, SmtpFacts};
use clap::Parser;
use std::path::PathBuf;

/// Command line of check_smtp.
#[derive(Parser, Debug)]
#[command(
    name = "check_smtp",
    version,
    about = "Talks SMTP (or LMTP) to a mail server: banner, EHLO, STARTTLS and its certificate, AUTH, commands; reports each step's time. Port 25, or 465 with -s, unless -p gives one.",
    after_help = "Deliberately different from Debian's check_smtp: a server that does not offer STARTTLS to -S is CRITICAL (Debian's: WARNING), with the same words \"TLS not supported by server\": a server that stops offering TLS (or a connection stripped of it) sends mail in clear text, which -S is there to catch. The perfdata is Debian's (time) unless --step-times is given.\n\nExit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad options, internal error). --help and --version exit 0.",
    mut_arg("starttls", |a| a.short('S').help("Upgrade the connection with STARTTLS (CRITICAL when the server does not offer it)")),
    mut_arg("ssl", |a| a.short('s').visible_alias("tls").help("Speak TLS from the start of the connection (submissions port 465)"))
)]
pub struct SmtpArgs {
    #[command(flatten)]
    pub server: MailServerArgs,

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

    /// Start the connection with a PROXY protocol header (as monitoring-plugins 3.0)
    #[arg(short = 'r', long = "proxy")]
    pub proxy: bool,

    /// Do not warn when the server does not answer QUIT with 221
    #[arg(short = 'q', long = "ignore-quit-failure")]
    pub ignore_quit_failure: bool,

    #[command(flatten)]
    pub time: ResponseTimeArgs,

    /// Add each step's time to the perfdata (without it the perfdata is Debian's,
    /// `time` alone)
    #[arg(long = "step-times")]
    pub step_times: bool,
}

/// The validated check_smtp.
#[derive(Debug)]
pub struct SmtpCheck {
    pub server: MailServer,
    pub dialogue: SmtpDialogue,
    /// Levels on the total response time in seconds.
    pub time: Thresholds,
    /// Each step's time goes into the perfdata.
    pub step_times: bool,
}

impl Check for SmtpCheck {
    type Args = SmtpArgs;
    type Facts = SmtpFacts;
    const LABEL: &'static str = "SMTP";

    fn common(args: &SmtpArgs) -> &CommonArgs {
        &args.server.common
    }

    fn new(args: SmtpArgs) -> Result<Self, UsageError> {
        let mut d = SmtpDialogue::new(
            args.fqdn,
            args.server.tls.mode(),
            &args.server.tls.trust,
            args.server.tls.sni(&args.server.target.hostname),
            args.server.common.timeout.duration,
        )?;
        args.server.tls.check_cert_days("-S or -s")?;
        d.lmtp = args.lmtp;
        d.expect = args.expect;
        d.ignore_quit = args.ignore_quit_failure;
        d.proxy = args.proxy;
        let time = args.time.thresholds();
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
                        "-A {}: the supported mechanisms are LOGIN and PLAIN",
                        shown(&mech)
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
                    UsageError(format!(
                        "-R '{}' is not a regular expression: {}",
                        shown(r),
                        shown(&e.to_string())
                    ))
                })?),
                None => None,
            };
            d.commands.push((cmd.clone(), re));
        }
        Ok(SmtpCheck {
            server: args.server.server(25, 465),
            dialogue: d,
            time,
            step_times: args.step_times,
        })
    }

    fn fetch(&self) -> Work<'_, SmtpFacts> {
        Work::remote(async move { self.dialogue.run(&self.server.target()).await })
    }

    /// The dialogue's own result, raised by the response-time levels and the
    /// certificate's days left.
    fn evaluate(&self, facts: &SmtpFacts) -> CheckResult {
        let place = self.server.place();
        let mut r = smtp::dialogue_result(facts, &self.dialogue, &place);
        mail::name_socket_timeout(&mut r, self.dialogue.timeout);
        if !smtp::connected(facts) {
            return r;
        }
        if facts.failure.is_none() {
            r.raise(self.time.state(facts.total.as_secs_f64()));
        }
        mail::add_cert_verdict(
            &mut r,
            facts.cert.as_ref(),
            self.server.cert_days,
            facts.now,
        );
        r.perfdata = smtp::perfdata(facts, &self.time, self.dialogue.timeout);
        if !self.step_times {
            r.perfdata.truncate(1);
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::validate;
    use crate::plugin::State;
    use crate::proto::mail::{SmtpReply, Step};
    use crate::proto::smtp::Stage;
    use std::time::Duration;

    fn parse(argv: &[&str]) -> Result<SmtpCheck, UsageError> {
        validate::<SmtpCheck>(argv)
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
            (c.server.port, c.dialogue.tls, c.dialogue.helo.as_str()),
            (25, TlsMode::Plain, "me.test")
        );
        let c = parse(&["-H", "mx", "-s"]).unwrap();
        assert_eq!((c.server.port, c.dialogue.tls), (465, TlsMode::Implicit));
        assert!(parse(&["-H", "mx", "-D", "30"]).is_err());
        assert!(parse(&["-H", "mx", "-S", "-D", "30,7"]).is_ok());
        assert!(parse(&["-H", "mx", "-A", "LOGIN", "-U", "u"]).is_err());
        assert!(parse(&["-H", "mx", "-A", "CRAM-MD5", "-U", "u", "-P", "p"]).is_err());
        assert!(parse(&["-H", "mx", "-R", "250"]).is_err());
        // hosts and ports are checked by the contract; echoed input is escaped
        assert!(parse(&["-H", "mx\nx"]).unwrap_err().0.contains("'mx\\nx'"));
        assert!(parse(&["-H", "mx", "-p", "0"]).is_err());
        assert_eq!(
            parse(&["-H", "mx", "-A", "X\x1b", "-U", "u", "-P", "p"])
                .unwrap_err()
                .0,
            "-A X\\x1b: the supported mechanisms are LOGIN and PLAIN"
        );
        assert!(parse(&["-H", "mx", "-C", "NOOP", "-R", "(("]).is_err());
        assert!(parse(&["-H", "",]).is_err());
        assert!(parse(&["-H", "mx", "-w", "-1"]).is_err());
        assert!(parse(&["-H", "mx", "-r"]).unwrap().dialogue.proxy);
        assert!(!parse(&["-H", "mx"]).unwrap().dialogue.proxy);
        let c = parse(&["-H", "mx", "-A", "plain", "-U", "u", "-P", "p"]).unwrap();
        assert_eq!(c.dialogue.auth.unwrap().mechanism, "PLAIN");
    }

    #[test]
    fn verdicts() {
        let c = parse(&["-H", "mx", "-F", "me", "-w", "1", "-c", "2", "--step-times"]).unwrap();
        let f = ok_facts();
        // without --step-times the perfdata is Debian's: time alone
        let plain = parse(&["-H", "mx", "-F", "me", "-w", "1", "-c", "2"]).unwrap();
        assert_eq!(
            render_text("SMTP", &plain.evaluate(&f)),
            "SMTP OK - 0.005 seconds response time on mx port 25 [220 mx.test ESMTP] | time=0.005s;1;2;0;10\n"
        );
        assert_eq!(
            render_text("SMTP", &c.evaluate(&f)),
            "SMTP OK - 0.005 seconds response time on mx port 25 [220 mx.test ESMTP] | time=0.005s;1;2;0;10 connect_time=0.001s;;;0 banner_time=0.002s;;;0\n"
        );
        let mut slow = ok_facts();
        slow.total = Duration::from_millis(1500);
        assert_eq!(c.evaluate(&slow).state(), State::Warning);
        let mut g = ok_facts();
        g.failure = Some((
            Stage::BannerMismatch,
            "banner '554 go away' does not contain '220'".into(),
        ));
        assert_eq!(
            c.evaluate(&g).summary,
            "banner '554 go away' does not contain '220' (mx port 25)"
        );
        assert_eq!(c.evaluate(&g).state(), State::Warning);
        g.failure = Some((
            Stage::NoStartTls,
            "TLS not supported by server (no STARTTLS offered)".into(),
        ));
        assert_eq!(c.evaluate(&g).state(), State::Critical);
        g.failure = Some((
            Stage::Connect,
            "connect to address 127.0.0.1 and port 25: Connection refused".into(),
        ));
        assert_eq!(
            render_text("SMTP", &c.evaluate(&g)),
            "SMTP CRITICAL - connect to address 127.0.0.1 and port 25: Connection refused\n"
        );
    }

    #[test]
    fn time_running_out() {
        let c = parse(&["-H", "mx", "-F", "me", "--step-times"]).unwrap();
        let mut f = ok_facts();
        f.banner = None;
        f.failure = Some((Stage::Banner, "no banner within 1.8 seconds".into()));
        f.timed_out = true;
        let r = c.evaluate(&f);
        assert!(r.timed_out);
        assert_eq!(
            render_text("SMTP", &r.with_timeout_state(State::Unknown)),
            "SMTP UNKNOWN - Socket timeout after 10 seconds: no banner within 1.8 seconds (mx port 25) | time=0.005s;;;0;10 connect_time=0.001s;;;0 banner_time=0.002s;;;0\n"
        );
        // a QUIT that is not answered in time is a time-out, not the WARNING of a bad reply
        f.failure = Some((Stage::Quit, "no reply to QUIT within 1.8 seconds".into()));
        assert_eq!(
            c.evaluate(&f).with_timeout_state(State::Unknown).state(),
            State::Unknown
        );
        f.timed_out = false;
        f.failure = Some((Stage::Quit, "QUIT answered '500 what'".into()));
        assert_eq!(c.evaluate(&f).state(), State::Warning);
    }

    #[test]
    fn certificates() {
        let c = parse(&["-H", "mx", "-F", "me", "-S", "-D", "30,7"]).unwrap();
        let mut f = ok_facts();
        f.cert = Some(crate::proto::mail::test_cert("mx.test", 20 * 86_400));
        let r = c.evaluate(&f);
        assert_eq!(r.state(), State::Warning);
        assert_eq!(
            r.summary,
            "0.005 seconds response time on mx port 25 [220 mx.test ESMTP], STARTTLS; certificate 'mx.test' will expire on 1970-01-21 00:00:00 UTC (20 days)"
        );
        f.now = 30 * 86_400;
        let r = c.evaluate(&f);
        assert_eq!(r.state(), State::Critical);
        assert!(r
            .summary
            .ends_with("certificate 'mx.test' expired on 1970-01-21 00:00:00 UTC"));
    }
}
