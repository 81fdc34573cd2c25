//! check_tcp, check_ssh, check_ftp, check_jabber and check_spamd: the service dialogue
//! of [`crate::proto::service`] with each protocol's port, greeting, quit command, TLS
//! upgrade and a look at the reply. Options follow monitoring-plugins' checks of the
//! same names. The facts of each check are the dialogue's [`ServiceFacts`].

pub mod tcp;

use crate::plugin::args::{parse_state_word, ResponseTimeArgs};
use crate::plugin::target::{is_socket_path, parse_host_or_socket};
use crate::plugin::{
    parse_host, shown, Check, CheckResult, CommonArgs, State, Thresholds, UsageError, Work,
};
use crate::proto::net;
use crate::proto::service::{
    self, contains, Dialogue, ServiceFacts, StartTls, TargetArgs, TlsServiceArgs, Verdicts,
};
use crate::proto::tls::CertDays;
use clap::Parser;

/// The options every check here shares: the common ones, target, response-time levels,
/// TLS, and the state of a reply the protocol does not expect (`-M`, whose default and
/// help each check names on its own command).
#[derive(Debug, Clone, clap::Args)]
pub struct ServiceArgs {
    #[command(flatten)]
    pub common: CommonArgs,

    #[command(flatten)]
    pub target: TargetArgs,

    #[command(flatten)]
    pub time: ResponseTimeArgs,

    #[command(flatten)]
    pub tls: TlsServiceArgs,

    /// State when the server's reply is not what the protocol expects: ok, warn, crit
    #[arg(short = 'M', long = "mismatch", value_name = "STATE", value_parser = parse_state_word, default_value = "crit")]
    pub mismatch: State,
}

/// A service check's dialogue and the levels it applies to what the dialogue found.
#[derive(Debug)]
pub struct Service {
    pub dialogue: Dialogue,
    /// Levels on the response time in seconds.
    pub time: Thresholds,
    pub cert_days: Option<CertDays>,
    /// State when the connection is refused.
    pub refused: State,
    /// State when the reply does not match.
    pub mismatch: State,
}

impl Service {
    /// The dialogue with the service's ports, and the levels from the arguments.
    fn new(args: &ServiceArgs, default_port: u16, tls_port: u16) -> Result<Service, UsageError> {
        let dialogue = Dialogue::new(
            &args.target,
            &args.tls,
            args.common.timeout.duration,
            default_port,
            tls_port,
        )?;
        Ok(Service {
            dialogue,
            time: args.time.thresholds(),
            cert_days: args.tls.cert_days,
            refused: State::Critical,
            mismatch: args.mismatch,
        })
    }

    /// The verdict on the dialogue (pure): its outcome with this service's states and
    /// levels.
    pub fn evaluate(&self, facts: &ServiceFacts) -> CheckResult {
        let d = service::describe(facts, &self.dialogue, self.cert_days);
        let verdicts = Verdicts {
            refused: self.refused,
            mismatch: self.mismatch,
            time: self.time.state(d.secs),
        };
        let perf = service::time_perf(facts.total, &self.time, self.dialogue.timeout);
        d.into_result(verdicts, perf)
    }
}

/// What sets one service check apart: its command line, ports and dialogue, and its
/// own look at the reply after the service's verdict.
pub trait Protocol: Sized + Send + Sync + std::fmt::Debug + 'static {
    /// The check's command line, with the shared [`ServiceArgs`] flattened in.
    type Args: Parser + Send;
    /// The label that starts the output line.
    const LABEL: &'static str;
    /// The service's port, and its port with TLS from the start.
    const PORTS: (u16, u16);
    /// The shared options inside the command line.
    fn service_args(args: &Self::Args) -> &ServiceArgs;
    /// Validates the protocol's own options and sets its part of the dialogue and its
    /// states (no I/O).
    fn new(args: Self::Args, service: &mut Service) -> Result<Self, UsageError>;
    /// The protocol's verdict on the reply (pure), given the service's result.
    fn judge(&self, _service: &Service, _facts: &ServiceFacts, r: CheckResult) -> CheckResult {
        r
    }
}

/// A service check: the dialogue with its levels, and the protocol's own part.
#[derive(Debug)]
pub struct ServiceCheck<P> {
    pub service: Service,
    pub protocol: P,
}

impl<P: Protocol> Check for ServiceCheck<P> {
    type Args = P::Args;
    type Facts = ServiceFacts;
    const LABEL: &'static str = P::LABEL;

    fn common(args: &P::Args) -> &CommonArgs {
        &P::service_args(args).common
    }

    fn new(args: P::Args) -> Result<Self, UsageError> {
        let (port, tls_port) = P::PORTS;
        let mut service = Service::new(P::service_args(&args), port, tls_port)?;
        let protocol = P::new(args, &mut service)?;
        Ok(ServiceCheck { service, protocol })
    }

    fn fetch(&self) -> Work<'_, ServiceFacts> {
        Work::remote(self.service.dialogue.fetch())
    }

    fn evaluate(&self, facts: &ServiceFacts) -> CheckResult {
        let r = self.service.evaluate(facts);
        self.protocol.judge(&self.service, facts, r)
    }
}

use crate::plugin::EXIT_CODES;

// ---------------------------------------------------------------- check_ssh

/// Command line of check_ssh.
#[derive(Parser, Debug)]
#[command(
    name = "check_ssh",
    version,
    about = "Reads an SSH server's identification and checks its version.",
    long_about = "Reads an SSH server's identification and checks its version.\n\n\
A host name that does not resolve is CRITICAL (\"Invalid hostname, address or socket\"), \
as in check_tcp; monitoring-plugins' check_ssh exits UNKNOWN there, taking it for a bad \
option, which hides a resolver outage behind UNKNOWN.",
    after_help = EXIT_CODES,
    mut_arg("mismatch", |a| a.help("State when the server's reply is not an SSH identification: ok, warn, crit (default crit: CRITICAL)"))
)]
pub struct SshArgs {
    #[command(flatten)]
    pub service: ServiceArgs,

    /// The software version the server must announce (e.g. "OpenSSH_9.2p1 Debian-2+deb12u3")
    #[arg(short = 'r', long = "remote-version", value_name = "VERSION")]
    pub remote_version: Option<String>,

    /// The protocol version the server must announce (e.g. 2.0)
    #[arg(short = 'P', long = "remote-protocol", value_name = "VERSION")]
    pub remote_protocol: Option<String>,
}

/// check_ssh's own part: the versions the server must announce.
#[derive(Debug)]
pub struct Ssh {
    pub remote_version: Option<String>,
    pub remote_protocol: Option<String>,
}

/// The validated check_ssh.
pub type SshCheck = ServiceCheck<Ssh>;

/// The identification line of an SSH server: `SSH-proto-software comments`.
#[derive(Debug, Clone, PartialEq)]
pub struct SshIdent {
    pub protocol: String,
    /// The software version and comments, as announced.
    pub software: String,
}

/// Finds the identification line (servers may send other lines before it).
pub fn parse_ssh_ident(received: &[u8]) -> Option<SshIdent> {
    let text = String::from_utf8_lossy(received);
    let line = text.lines().find(|l| l.starts_with("SSH-"))?;
    let rest = line.trim_end().strip_prefix("SSH-")?;
    let (protocol, software) = rest.split_once('-')?;
    Some(SshIdent {
        protocol: protocol.to_string(),
        software: software.to_string(),
    })
}

impl Protocol for Ssh {
    type Args = SshArgs;
    const LABEL: &'static str = "SSH";
    const PORTS: (u16, u16) = (22, 22);

    fn service_args(args: &SshArgs) -> &ServiceArgs {
        &args.service
    }

    fn new(args: SshArgs, service: &mut Service) -> Result<Self, UsageError> {
        let s = &mut service.dialogue;
        if args.service.tls.ssl || args.service.tls.cert_days.is_some() {
            return Err(UsageError::new("SSH does not use TLS (-S, -D)"));
        }
        s.expect = vec![b"SSH-".to_vec()];
        // the first whole line: the identification, or what the server says instead
        s.complete = service::line_complete;
        s.stop_on_match = false;
        s.quit = Some(
            format!(
                "SSH-2.0-check_ssh_{}\r\n",
                env!("CARGO_PKG_VERSION").replace('.', "_")
            )
            .into_bytes(),
        );
        Ok(Ssh {
            remote_version: args.remote_version,
            remote_protocol: args.remote_protocol,
        })
    }

    /// The identification and the versions asked for.
    fn judge(&self, _: &Service, facts: &ServiceFacts, mut r: CheckResult) -> CheckResult {
        if r.timed_out {
            return r;
        }
        let Some(ident) = parse_ssh_ident(&facts.received) else {
            return r;
        };
        // the server's words, for the output: one line, bounded
        let (software, protocol) = (
            net::printable(ident.software.as_bytes(), 200),
            net::printable(ident.protocol.as_bytes(), 20),
        );
        r.summary = format!("{software} (protocol {protocol})");
        if let Some(want) = &self.remote_version {
            if &ident.software != want {
                r.raise(State::Critical);
                r.summary = format!(
                    "{} (protocol {}) version mismatch, expected '{}'",
                    software,
                    protocol,
                    shown(want)
                );
            }
        }
        if let Some(want) = &self.remote_protocol {
            if &ident.protocol != want {
                r.raise(State::Critical);
                r.summary = format!(
                    "{} (protocol {}) protocol version mismatch, expected '{}'",
                    software,
                    protocol,
                    shown(want)
                );
            }
        }
        r
    }
}

// ---------------------------------------------------------------- check_ftp

/// Command line of check_ftp.
#[derive(Parser, Debug)]
#[command(
    name = "check_ftp",
    version,
    about = "Reads an FTP server's 220 greeting; optionally upgrades with AUTH TLS (--starttls, or -D without -S) and checks the certificate. check_tcp's options (-e, -s, -q, -j, -r, ...) apply as in monitoring-plugins' check_ftp. -H may be the path of a Unix stream socket, as there (-H /run/ftp.sock: -p not needed, -4/-6 ignored; TLS over it needs --sni NAME).",
    after_help = EXIT_CODES,
    mut_arg("mismatch", |a| a.default_value("warn").help("State when the server's reply is not a 220 greeting: ok, warn, crit (default warn: WARNING, as monitoring-plugins' check_ftp)")),
    mut_arg("hostname", |a| a.value_parser(parse_host_or_socket).help(tcp::HOST_HELP))
)]
pub struct FtpArgs {
    /// check_tcp's options, as monitoring-plugins' check_ftp takes them.
    #[command(flatten)]
    pub tcp: tcp::TcpOptions,

    /// Upgrade the connection with AUTH TLS after the greeting
    #[arg(long = "starttls", conflicts_with = "ssl")]
    pub starttls: bool,
}

/// check_ftp's own part: nothing beyond its dialogue.
#[derive(Debug)]
pub struct Ftp;

/// The validated check_ftp.
pub type FtpCheck = ServiceCheck<Ftp>;

/// An FTP reply is complete on its last line: `NNN text` (not the `NNN-` of a
/// multi-line reply). A first line that is no FTP reply at all (`NNN ` or `NNN-`) is
/// complete too: it is judged at once, not waited on until the time runs out.
pub fn ftp_reply_complete(buf: &[u8]) -> bool {
    if !buf.ends_with(b"\n") {
        return false;
    }
    let reply_line = |l: &str| {
        let b = l.as_bytes();
        b.len() >= 4 && b[..3].iter().all(u8::is_ascii_digit) && (b[3] == b' ' || b[3] == b'-')
    };
    let text = String::from_utf8_lossy(buf);
    let first = text.lines().next().unwrap_or("");
    let last = text.trim_end().lines().last().unwrap_or("");
    !reply_line(first) || (reply_line(last) && last.as_bytes()[3] == b' ')
}

impl Protocol for Ftp {
    type Args = FtpArgs;
    const LABEL: &'static str = "FTP";
    const PORTS: (u16, u16) = (21, 990);

    fn service_args(args: &FtpArgs) -> &ServiceArgs {
        &args.tcp.service
    }

    fn new(args: FtpArgs, service: &mut Service) -> Result<Self, UsageError> {
        let s = &mut service.dialogue;
        s.expect = vec![b"220 ".to_vec()];
        s.complete = ftp_reply_complete;
        s.quit = Some(b"QUIT\r\n".to_vec());
        args.tcp.apply(service)?;
        let s = &mut service.dialogue;
        // -D without -S: the certificate of AUTH TLS on the plain port
        let tls = &args.tcp.service.tls;
        if args.starttls || (tls.cert_days.is_some() && !tls.ssl) {
            s.starttls = Some(StartTls {
                command: b"AUTH TLS\r\n".to_vec(),
                complete: ftp_reply_complete,
                accepted: |b| b.starts_with(b"234"),
            });
        }
        tcp::socket_tls_needs_sni(service, tls.sni.as_deref())?;
        Ok(Ftp)
    }
}

// ---------------------------------------------------------------- check_jabber

/// Command line of check_jabber.
#[derive(Parser, Debug)]
#[command(
    name = "check_jabber",
    version,
    about = "Opens an XMPP client stream and checks that the server offers STARTTLS; with -D upgrades and checks the certificate. check_tcp's options (-e, -s, -q, -j, -r, ...) apply as in monitoring-plugins' check_jabber. -H may be the path of a Unix stream socket, as there (-H /run/xmpp.sock: -p not needed, -4/-6 ignored; the stream's domain is then --domain, else --sni, else localhost; TLS over it needs --sni NAME).",
    after_help = EXIT_CODES,
    mut_arg("mismatch", |a| a.help("State when the server's reply is not an XMPP stream with its features: ok, warn, crit (default crit: CRITICAL)")),
    mut_arg("hostname", |a| a.value_parser(parse_host_or_socket).help(tcp::HOST_HELP))
)]
pub struct JabberArgs {
    /// check_tcp's options, as monitoring-plugins' check_jabber takes them.
    #[command(flatten)]
    pub tcp: tcp::TcpOptions,

    /// The XMPP domain to open the stream to (default: the host name; with a Unix
    /// socket, the --sni name, else localhost)
    #[arg(long = "domain", value_name = "DOMAIN")]
    pub domain: Option<String>,

    /// State when the server does not offer STARTTLS: ok, warn, crit
    #[arg(long = "no-starttls", value_name = "STATE", value_parser = parse_state_word, default_value = "crit")]
    pub no_starttls: State,
}

/// check_jabber's own part: the domain of the stream, and the state when STARTTLS is
/// not offered.
#[derive(Debug)]
pub struct Jabber {
    pub domain: String,
    pub no_starttls: State,
}

/// The validated check_jabber.
pub type JabberCheck = ServiceCheck<Jabber>;

const XMPP_TLS_NS: &[u8] = b"urn:ietf:params:xml:ns:xmpp-tls";

/// The stream header and features have arrived, or the stream ended, or a whole line
/// arrived that is no XML: judged at once, not waited on until the time runs out.
pub fn xmpp_features_complete(buf: &[u8]) -> bool {
    contains(buf, b"</stream:features>")
        || contains(buf, b"</stream:stream>")
        || contains(buf, b"<stream:error")
        || (!buf.trim_ascii_start().starts_with(b"<") && buf.contains(&b'\n'))
}

impl Protocol for Jabber {
    type Args = JabberArgs;
    const LABEL: &'static str = "JABBER";
    const PORTS: (u16, u16) = (5222, 5223);

    fn service_args(args: &JabberArgs) -> &ServiceArgs {
        &args.tcp.service
    }

    fn new(args: JabberArgs, service: &mut Service) -> Result<Self, UsageError> {
        let s = &mut service.dialogue;
        let target = &args.tcp.service.target;
        let domain = args.domain.unwrap_or_else(|| {
            if is_socket_path(&target.hostname) {
                // a path is no domain: the certificate's name, else the local host's
                args.tcp
                    .service
                    .tls
                    .sni
                    .clone()
                    .unwrap_or("localhost".into())
            } else {
                target.hostname.clone()
            }
        });
        // a host name: nothing that could break the XML of the stream header
        let domain = parse_host(&domain).map_err(|e| UsageError(format!("--domain: {e}")))?;
        if args.tcp.service.tls.sni.is_none() {
            s.sni = domain.clone();
        }
        s.send = Some(
            format!(
                "<?xml version='1.0'?><stream:stream to='{domain}' xmlns='jabber:client' \
xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
            )
            .into_bytes(),
        );
        s.expect = vec![b"</stream:features>".to_vec()];
        s.complete = xmpp_features_complete;
        s.quit = Some(b"</stream:stream>".to_vec());
        args.tcp.apply(service)?;
        let s = &mut service.dialogue;
        let tls = &args.tcp.service.tls;
        if tls.cert_days.is_some() && !tls.ssl {
            s.starttls = Some(StartTls {
                command: b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>".to_vec(),
                complete: |b| {
                    contains(b, b"<proceed")
                        || contains(b, b"<failure")
                        || contains(b, b"</stream:stream>")
                },
                accepted: |b| contains(b, b"<proceed"),
            });
        }
        tcp::socket_tls_needs_sni(service, tls.sni.as_deref())?;
        Ok(Jabber {
            domain,
            no_starttls: args.no_starttls,
        })
    }

    /// The stream's features: STARTTLS offered, or a stream error.
    fn judge(&self, service: &Service, facts: &ServiceFacts, r: CheckResult) -> CheckResult {
        judge_stream(self, service, facts, r)
    }
}

/// check_jabber's look at the stream (pure), after the service's verdict `r`.
fn judge_stream(
    check: &Jabber,
    service: &Service,
    facts: &ServiceFacts,
    mut r: CheckResult,
) -> CheckResult {
    if r.timed_out
        || facts.failure.is_some()
        || facts.tls_error.is_some()
        || facts.received.is_empty()
    {
        return r;
    }
    let secs = facts.total.as_secs_f64();
    let cert = service::cert_verdict(facts, service.cert_days).map(|(_, t)| t);
    let d = &service.dialogue;
    let stream_error = contains(&facts.received, b"<stream:error");
    if !stream_error && !d.matched(&facts.received) {
        // no XMPP stream features: the reply is judged by -M
        return r;
    }
    let offers = contains(&facts.received, XMPP_TLS_NS);
    if stream_error {
        r.raise(State::Critical);
        r.summary = format!(
            "stream error from {} for domain {}: {}",
            d.host,
            check.domain,
            net::printable(&facts.received, 300)
        );
        return r;
    }
    if r.state() == State::Ok || cert.is_some() {
        r.summary = format!(
            "{secs:.3} second response time on {}, domain {}, STARTTLS {}",
            d.place(),
            check.domain,
            if d.implicit_tls {
                "not needed (TLS)"
            } else if offers {
                "offered"
            } else {
                "not offered"
            }
        );
        if let Some(c) = cert {
            r.summary = format!("{}; {c}", r.summary);
        }
    }
    if !offers && !d.implicit_tls {
        r.raise(check.no_starttls);
    }
    r
}

// ---------------------------------------------------------------- check_spamd

/// Command line of check_spamd.
#[derive(Parser, Debug)]
#[command(
    name = "check_spamd",
    version,
    about = "Sends a SpamAssassin spamd PING and expects PONG.",
    after_help = EXIT_CODES,
    mut_arg("mismatch", |a| a.help("State when the server's reply is not a PONG: ok, warn, crit (default crit: CRITICAL)"))
)]
pub struct SpamdArgs {
    #[command(flatten)]
    pub service: ServiceArgs,
}

/// check_spamd's own part: nothing beyond its dialogue.
#[derive(Debug)]
pub struct Spamd;

/// The validated check_spamd.
pub type SpamdCheck = ServiceCheck<Spamd>;

impl Protocol for Spamd {
    type Args = SpamdArgs;
    const LABEL: &'static str = "SPAMD";
    const PORTS: (u16, u16) = (783, 783);

    fn service_args(args: &SpamdArgs) -> &ServiceArgs {
        &args.service
    }

    fn new(args: SpamdArgs, service: &mut Service) -> Result<Self, UsageError> {
        let s = &mut service.dialogue;
        if args.service.tls.cert_days.is_some() && !args.service.tls.ssl {
            return Err(UsageError::new("-D needs TLS (-S)"));
        }
        s.send = Some(b"PING SPAMC/1.5\r\n\r\n".to_vec());
        s.expect = vec![b" 0 PONG".to_vec()];
        Ok(Spamd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::parse_args;
    use crate::proto::net::ReadEnd;
    use std::time::Duration;

    fn parse<C: Check>(name: &str, argv: &[&str]) -> Result<C, UsageError> {
        let args = parse_args::<C>(std::iter::once(name).chain(argv.iter().copied()))?.unwrap();
        C::new(args)
    }

    fn facts(received: &[u8]) -> ServiceFacts {
        ServiceFacts {
            connect: Some(Ok((
                "127.0.0.1:22".parse().unwrap(),
                Duration::from_millis(1),
            ))),
            received: received.to_vec(),
            end: Some(ReadEnd::Complete),
            total: Duration::from_millis(3),
            ..Default::default()
        }
    }

    #[test]
    fn clis_are_well_formed() {
        use clap::CommandFactory;
        SshArgs::command().debug_assert();
        FtpArgs::command().debug_assert();
        JabberArgs::command().debug_assert();
        SpamdArgs::command().debug_assert();
    }

    #[test]
    fn ssh_ident() {
        let c: SshCheck = parse("check_ssh", &["-H", "h"]).unwrap();
        let f = facts(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
        assert_eq!(
            render_text("SSH", &c.evaluate(&f)),
            "SSH OK - OpenSSH_9.2p1 Debian-2+deb12u3 (protocol 2.0) | time=0.003s;;;0;10\n"
        );
        let c: SshCheck = parse("check_ssh", &["-H", "h", "-r", "OpenSSH_8.4"]).unwrap();
        assert_eq!(
            render_text("SSH", &c.evaluate(&f)),
            "SSH CRITICAL - OpenSSH_9.2p1 Debian-2+deb12u3 (protocol 2.0) version mismatch, expected 'OpenSSH_8.4' | time=0.003s;;;0;10\n"
        );
        // what the user and the server said is shown on one line
        let c: SshCheck = parse("check_ssh", &["-H", "h", "-r", "v\x1b[2J"]).unwrap();
        let odd = facts(b"SSH-2.0-Evil\x1b[2Jware\r\n");
        assert_eq!(
            c.evaluate(&odd).summary,
            "Evil [2Jware (protocol 2.0) version mismatch, expected 'v\\x1b[2J'"
        );
        let c: SshCheck = parse("check_ssh", &["-H", "h", "-M", "warn"]).unwrap();
        assert_eq!(
            c.evaluate(&facts(b"220 not ssh\r\n")).state(),
            State::Warning
        );
        let c: SshCheck = parse("check_ssh", &["-H", "h", "-P", "1.99"]).unwrap();
        assert_eq!(c.evaluate(&f).state(), State::Critical);
        let c: SshCheck = parse("check_ssh", &["-H", "h"]).unwrap();
        let g = facts(b"HTTP/1.0 400 Bad\r\n");
        assert_eq!(
            render_text("SSH", &c.evaluate(&g)),
            "SSH CRITICAL - unexpected response from h port 22: HTTP/1.0 400 Bad | time=0.003s;;;0;10\n"
        );
        assert!(parse::<SshCheck>("check_ssh", &["-H", "h", "-S"]).is_err());
    }

    #[test]
    fn ftp_replies() {
        assert!(ftp_reply_complete(b"220 ready\r\n"));
        assert!(!ftp_reply_complete(b"220-welcome\r\n"));
        assert!(ftp_reply_complete(b"220-welcome\r\n220 ready\r\n"));
        assert!(!ftp_reply_complete(b"220 rea"));
        // garbage is judged at once
        assert!(ftp_reply_complete(b"SSH-2.0-OpenSSH\r\n"));
        assert!(!ftp_reply_complete(b"SSH-2.0-OpenSSH"));
        // an unexpected reply is WARNING unless -M says otherwise
        let c: FtpCheck = parse("check_ftp", &["-H", "h"]).unwrap();
        let g = facts(b"SSH-2.0-OpenSSH\r\n");
        assert_eq!(
            render_text("FTP", &c.evaluate(&g)),
            "FTP WARNING - unexpected response from h port 21: SSH-2.0-OpenSSH | time=0.003s;;;0;10\n"
        );
        let c: FtpCheck = parse("check_ftp", &["-H", "h", "-M", "crit"]).unwrap();
        assert_eq!(c.evaluate(&g).state(), State::Critical);
        let c: FtpCheck = parse("check_ftp", &["-H", "h", "-M", "ok"]).unwrap();
        assert_eq!(c.evaluate(&g).state(), State::Ok);
        let c: FtpCheck = parse("check_ftp", &["-H", "h"]).unwrap();
        assert_eq!(c.service.dialogue.port, 21);
        let c: FtpCheck = parse("check_ftp", &["-H", "h", "-S"]).unwrap();
        assert_eq!(c.service.dialogue.port, 990);
        // -D alone: the certificate of AUTH TLS on port 21
        let c: FtpCheck = parse("check_ftp", &["-H", "h", "-D", "30"]).unwrap();
        assert!(c.service.dialogue.starttls.is_some());
        assert_eq!(c.service.dialogue.port, 21);
        // check_tcp's options, as monitoring-plugins' check_ftp takes them
        let c: FtpCheck = parse(
            "check_ftp",
            &["-H", "h", "-e", "vsFTPd", "-j", "-r", "warn"],
        )
        .unwrap();
        assert_eq!(c.service.dialogue.expect, vec![b"vsFTPd".to_vec()]);
        assert!(c.service.dialogue.hide_output);
        assert_eq!(c.service.refused, State::Warning);
        assert_eq!(
            c.evaluate(&facts(b"220 vsFTPd 3.0.3\r\n")).summary,
            "0.003 second response time on h port 21"
        );
        let c: FtpCheck = parse("check_ftp", &["-H", "h", "--starttls", "-D", "30"]).unwrap();
        assert!(c.service.dialogue.starttls.is_some());
    }

    #[test]
    fn ftp_and_jabber_take_a_unix_socket() {
        let sock = "/run/service.sock";
        let c: FtpCheck = parse("check_ftp", &["-H", sock, "-4"]).unwrap();
        assert!(c.service.dialogue.is_socket());
        assert_eq!(c.service.dialogue.place(), format!("socket {sock}"));
        let c: JabberCheck = parse("check_jabber", &["-H", sock]).unwrap();
        assert_eq!(c.protocol.domain, "localhost");
        let c: JabberCheck = parse("check_jabber", &["-H", sock, "-S", "--sni", "x.test"]).unwrap();
        assert_eq!(c.protocol.domain, "x.test");
        assert_eq!(c.service.dialogue.sni, "x.test");
        let c: JabberCheck = parse("check_jabber", &["-H", sock, "--domain", "d.test"]).unwrap();
        assert_eq!(c.protocol.domain, "d.test");
        let refusal =
            "TLS over a Unix socket needs the name on the server's certificate: --sni NAME";
        for argv in [&["-S"][..], &["--starttls"], &["-D", "30"]] {
            let argv: Vec<&str> = ["-H", sock].iter().chain(argv).copied().collect();
            let e = parse::<FtpCheck>("check_ftp", &argv).unwrap_err();
            assert_eq!(e.0, refusal, "{argv:?}");
        }
        for argv in [&["-S"][..], &["-D", "30"]] {
            let argv: Vec<&str> = ["-H", sock].iter().chain(argv).copied().collect();
            let e = parse::<JabberCheck>("check_jabber", &argv).unwrap_err();
            assert_eq!(e.0, refusal, "{argv:?}");
        }
        assert!(
            parse::<FtpCheck>("check_ftp", &["-H", sock, "--starttls", "--sni", "f.test"]).is_ok()
        );
        // the path is checked as check_tcp's is
        assert!(parse::<FtpCheck>("check_ftp", &["-H", "/a\u{1b}b"]).is_err());
        assert!(parse::<JabberCheck>("check_jabber", &["-H", "/a\nb"]).is_err());
    }

    #[test]
    fn jabber_features() {
        let c: JabberCheck = parse(
            "check_jabber",
            &["-H", "127.0.0.1", "--domain", "example.org"],
        )
        .unwrap();
        let with = facts(b"<?xml version='1.0'?><stream:stream from='example.org'><stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>");
        assert_eq!(
            render_text("JABBER", &c.evaluate(&with)),
            "JABBER OK - 0.003 second response time on 127.0.0.1 port 5222, domain example.org, STARTTLS offered | time=0.003s;;;0;10\n"
        );
        let without = facts(
            b"<?xml version='1.0'?><stream:stream><stream:features><mechanisms/></stream:features>",
        );
        assert_eq!(c.evaluate(&without).state(), State::Critical);
        let lax: JabberCheck = parse(
            "check_jabber",
            &[
                "-H",
                "127.0.0.1",
                "--domain",
                "example.org",
                "--no-starttls",
                "warn",
            ],
        )
        .unwrap();
        assert_eq!(
            render_text("JABBER", &lax.evaluate(&without)),
            "JABBER WARNING - 0.003 second response time on 127.0.0.1 port 5222, domain example.org, STARTTLS not offered | time=0.003s;;;0;10\n"
        );
        let tls: JabberCheck = parse(
            "check_jabber",
            &["-H", "127.0.0.1", "--domain", "example.org", "-S"],
        )
        .unwrap();
        assert_eq!(
            tls.evaluate(&without).summary,
            "0.003 second response time on 127.0.0.1 port 5223, domain example.org, STARTTLS not needed (TLS)"
        );
        let err =
            facts(b"<stream:stream><stream:error><host-unknown/></stream:error></stream:stream>");
        assert!(c
            .evaluate(&err)
            .summary
            .starts_with("stream error from 127.0.0.1 for domain example.org"));
        assert!(parse::<JabberCheck>("check_jabber", &["-H", "a'b"]).is_err());
        // a reply that is no XMPP stream: judged at once, CRITICAL unless -M says otherwise
        assert!(xmpp_features_complete(b"HTTP/1.0 400 Bad\r\n"));
        assert!(!xmpp_features_complete(
            b"<?xml version='1.0'?>\n<stream:stream>"
        ));
        let http = facts(b"HTTP/1.0 400 Bad\r\n");
        assert_eq!(
            render_text("JABBER", &c.evaluate(&http)),
            "JABBER CRITICAL - unexpected response from 127.0.0.1 port 5222: HTTP/1.0 400 Bad | time=0.003s;;;0;10\n"
        );
        let w: JabberCheck = parse("check_jabber", &["-H", "127.0.0.1", "-M", "warn"]).unwrap();
        assert_eq!(w.evaluate(&http).state(), State::Warning);
        assert_eq!(
            parse::<JabberCheck>("check_jabber", &["-H", "h", "--domain", "a'b"])
                .unwrap_err()
                .0,
            "--domain: invalid host 'a'b': ''' is not allowed in a host name"
        );
        assert!(parse::<SpamdCheck>("check_spamd", &["-H", "h", "-p", "0"]).is_err());
    }

    #[test]
    fn spamd_pong() {
        let c: SpamdCheck = parse("check_spamd", &["-H", "h"]).unwrap();
        assert_eq!(
            c.evaluate(&facts(b"SPAMD/1.5 0 PONG\r\n")).state(),
            State::Ok
        );
        assert_eq!(
            c.evaluate(&facts(b"SPAMD/1.0 76 Bad header line\r\n"))
                .state(),
            State::Critical
        );
        let c: SpamdCheck = parse("check_spamd", &["-H", "h", "-M", "ok"]).unwrap();
        assert_eq!(
            c.evaluate(&facts(b"SPAMD/1.0 76 Bad header line\r\n"))
                .state(),
            State::Ok
        );
        assert!(parse::<SpamdCheck>("check_spamd", &["-H", "h", "-M", "maybe"]).is_err());
    }
}
