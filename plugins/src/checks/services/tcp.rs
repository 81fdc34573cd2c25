//! check_tcp and the checks monitoring-plugins builds from it with a service's defaults:
//! check_udp (one datagram sent, the reply read), check_pop (110), check_spop (995, TLS),
//! check_simap (993, TLS) and check_ssmtp (465, TLS). Each connects (over TLS with -S),
//! optionally sends a string and checks the reply, with the states of a refused
//! connection (-r) and of a reply without the expected strings (-M) its own. Options
//! follow monitoring-plugins' check_tcp; a [`Flavor`] holds one check's defaults.

use super::{Protocol, Service, ServiceArgs, ServiceCheck};
use crate::plugin::args::parse_state_word;
use crate::plugin::target::{is_socket_path, parse_host_or_socket};
use crate::plugin::{State, UsageError, EXIT_CODES};
use clap::Parser;
use std::fmt::Debug;
use std::marker::PhantomData;
use std::time::Duration;

pub use crate::proto::service::{option_bytes, quit_bytes, unescape};

/// The options of check_tcp, shared by every check built on it.
#[derive(Debug, Clone, clap::Args)]
pub struct TcpOptions {
    #[command(flatten)]
    pub service: ServiceArgs,

    /// String to send to the server
    #[arg(short = 's', long = "send", value_name = "STRING")]
    pub send: Option<String>,

    /// String to expect anywhere in the reply (repeatable; replaces the service's own
    /// expected start of the reply); a reply without it takes the state of -M
    #[arg(short = 'e', long = "expect", value_name = "STRING")]
    pub expect: Vec<String>,

    /// All expected strings must appear (default: any one)
    #[arg(short = 'A', long = "all")]
    pub all: bool,

    /// String to send before closing (\r\n is added, unless -E is given)
    #[arg(short = 'q', long = "quit", value_name = "STRING")]
    pub quit: Option<String>,

    /// Interpret \n, \r, \t and \\ in the send, expect and quit strings
    #[arg(short = 'E', long = "escape")]
    pub escape: bool,

    /// Hide what the server said from the output
    #[arg(short = 'j', long = "jail")]
    pub jail: bool,

    /// Read at most this many bytes
    #[arg(short = 'm', long = "maxbytes", value_name = "BYTES")]
    pub max_bytes: Option<usize>,

    /// Seconds to wait between sending and reading
    #[arg(short = 'd', long = "delay", value_name = "SECONDS")]
    pub delay: Option<f64>,

    /// State when the connection is refused: ok, warn, crit
    #[arg(short = 'r', long = "refuse", value_name = "STATE", value_parser = parse_state_word, default_value = "crit")]
    pub refuse: State,

    /// Accepted and ignored, as monitoring-plugins' check_tcp does
    #[arg(short = 'W', long = "warning-codes", value_name = "CODE", hide = true)]
    pub warning_codes: Vec<String>,

    /// Accepted and ignored, as monitoring-plugins' check_tcp does
    #[arg(short = 'C', long = "critical-codes", value_name = "CODE", hide = true)]
    pub critical_codes: Vec<String>,

    /// Accepted and ignored, as monitoring-plugins' check_tcp does
    #[arg(long = "protocol", value_name = "PROTOCOL", hide = true)]
    pub protocol: Option<String>,
}

impl TcpOptions {
    /// Sets what these options give over the service's own dialogue: the strings to
    /// send, expect (anywhere in the reply) and quit with, the reading limits, the
    /// states of a refused connection, and hiding the reply.
    pub fn apply(&self, service: &mut Service) -> Result<(), UsageError> {
        let s = &mut service.dialogue;
        let bytes = |t: &str| option_bytes(t, self.escape);
        if let Some(send) = &self.send {
            s.send = Some(bytes(send));
        }
        if !self.expect.is_empty() {
            s.expect = self.expect.iter().map(|e| bytes(e)).collect();
            s.anchored = false;
            if s.expect.iter().any(Vec::is_empty) {
                return Err(UsageError::new("an expected string (-e) is empty"));
            }
        }
        if let Some(q) = &self.quit {
            s.quit = Some(quit_bytes(q, self.escape));
        }
        s.match_all |= self.all;
        s.hide_output |= self.jail;
        if let Some(m) = self.max_bytes {
            if m == 0 {
                return Err(UsageError::new("--maxbytes must be at least 1"));
            }
            s.max_bytes = m;
        }
        if let Some(d) = self.delay {
            if !(d.is_finite() && d >= 0.0 && d < s.timeout.as_secs_f64()) {
                return Err(UsageError(format!(
                    "delay {d} must be 0 or more seconds and less than the timeout"
                )));
            }
            s.delay = Duration::from_secs_f64(d);
        }
        service.refused = self.refuse;
        Ok(())
    }
}

/// One check built on check_tcp: its name, ports and the dialogue's defaults.
pub trait Flavor: Debug + Send + Sync + 'static {
    /// The command line: [`TcpOptions`] flattened in.
    type Args: Parser + Send;
    /// The label that starts the output line.
    const LABEL: &'static str;
    /// The service's port, and its port with TLS from the start (0: `-p` is required).
    const PORTS: (u16, u16);
    /// The start of the reply the service gives when `-e` is not given.
    const EXPECT: Option<&'static str> = None;
    /// The quit string sent before closing when `-q` is not given.
    const QUIT: Option<&'static str> = None;
    /// TLS from the start of the connection, always.
    const TLS: bool = false;
    /// Datagrams (UDP) instead of a TCP connection.
    const UDP: bool = false;
    /// The options inside the command line.
    fn options(args: &Self::Args) -> &TcpOptions;
}

/// A check built on check_tcp: its dialogue comes from its [`Flavor`] and options.
#[derive(Debug)]
pub struct Tcp<F = Plain>(PhantomData<F>);

/// The validated check_tcp.
pub type TcpCheck = ServiceCheck<Tcp<Plain>>;
/// The validated check_udp.
pub type UdpCheck = ServiceCheck<Tcp<Udp>>;
/// The validated check_pop.
pub type PopCheck = ServiceCheck<Tcp<Pop>>;
/// The validated check_spop.
pub type SpopCheck = ServiceCheck<Tcp<Spop>>;
/// The validated check_simap.
pub type SimapCheck = ServiceCheck<Tcp<Simap>>;
/// The validated check_ssmtp.
pub type SsmtpCheck = ServiceCheck<Tcp<Ssmtp>>;

/// Declares a flavor: its command line (the shared options with its name and help) and
/// its defaults.
macro_rules! flavor {
    (
        $(#[$doc:meta])*
        $flavor:ident, $args:ident, $name:literal, $label:literal, $about:literal,
        $long:literal, $mismatch:expr, { $($item:item)* }
    ) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $flavor;

        #[doc = concat!("Command line of ", $name, ".")]
        #[derive(Parser, Debug)]
        #[command(
            name = $name,
            version,
            about = $about,
            long_about = concat!($about, "\n\n", $long),
            after_help = EXIT_CODES,
            mut_arg("mismatch", |a| a.default_value("warn").help($mismatch)),
            mut_arg("hostname", |a| a.value_parser(parse_host_or_socket).help(HOST_HELP))
        )]
        pub struct $args {
            #[command(flatten)]
            pub tcp: TcpOptions,
        }

        impl Flavor for $flavor {
            type Args = $args;
            const LABEL: &'static str = $label;
            $($item)*
            fn options(args: &$args) -> &TcpOptions {
                &args.tcp
            }
        }
    };
}

pub(super) const HOST_HELP: &str =
    "Host name or address to connect to, or the absolute path of a Unix \
stream socket (then -p, -4 and -6 do not apply); may also be given as the first bare word";

/// Refuses TLS (from the start or by STARTTLS) over a Unix socket without `--sni`: the
/// certificate's name is verified, and a path is no name.
pub(super) fn socket_tls_needs_sni(service: &Service, sni: Option<&str>) -> Result<(), UsageError> {
    let s = &service.dialogue;
    if s.is_socket() && s.uses_tls() && sni.is_none() {
        return Err(UsageError::new(
            "TLS over a Unix socket needs the name on the server's certificate: --sni NAME",
        ));
    }
    Ok(())
}

const MISMATCH_HELP: &str = "State when the reply does not contain the expected strings: ok, \
warn, crit (default warn: WARNING, as monitoring-plugins)";

flavor! {
    /// check_tcp: any TCP service; `-p` is required.
    Plain, Args, "check_tcp", "TCP",
    "Connects to a TCP port, optionally sends a string and checks the reply.",
    "Connects to a TCP port (over TLS with -S, --sni or -D), optionally sends a string \
(-s), reads the reply until one of the expected strings (-e, repeatable; all of them with \
-A) appears, a whole line has arrived, -m bytes were read or the time is up, then sends \
the quit string (-q) and closes. A refused connection is CRITICAL (-r), a reply without \
the expected string WARNING (-M), a connection closed without a reply CRITICAL (\"No data \
received from host\"); -D checks the days left on the TLS certificate. The host may also \
be given as the first bare word (check_tcp HOST -p PORT), and -H may be the path of a \
Unix stream socket (-H /run/service.sock; -p not needed).",
    "State when the reply does not contain the expected strings (-e): ok, warn, crit (default warn: WARNING, as monitoring-plugins' check_tcp)", {
        const PORTS: (u16, u16) = (0, 0);
    }
}

flavor! {
    /// check_udp: one datagram sent (`-s`), the reply checked (`-e`); both required.
    Udp, UdpArgs, "check_udp", "UDP",
    "Sends one UDP datagram and checks the reply.",
    "Sends the string of -s in one datagram to the port of -p (both required, as is -e; \
-s '' sends an empty datagram), then checks the first datagram that comes back for the \
expected strings (-e); the quit string is not sent. No reply is CRITICAL (\"No data \
received from host\" when the port refuses, \"Socket timeout after N seconds\" when \
nothing comes back); a reply without the expected string WARNING (-M). TLS (-S, -D) \
is refused.",
    "State when the reply does not contain the expected strings (-e): ok, warn, crit (default warn: WARNING, as monitoring-plugins' check_udp)", {
        const PORTS: (u16, u16) = (0, 0);
        const UDP: bool = true;
    }
}

flavor! {
    /// check_pop: a POP3 server's `+OK` greeting.
    Pop, PopArgs, "check_pop", "POP",
    "Reads a POP3 server's +OK greeting (port 110; 995 with TLS).",
    "Connects to port 110 (-S, -D: TLS from the start on port 995, where \
monitoring-plugins' check_pop stays on 110), expects the reply to start with +OK (or to \
contain the strings of -e), sends QUIT and closes. The options are check_tcp's.",
    MISMATCH_HELP, {
        const PORTS: (u16, u16) = (110, 995);
        const EXPECT: Option<&'static str> = Some("+OK");
        const QUIT: Option<&'static str> = Some("QUIT\r\n");
    }
}

flavor! {
    /// check_spop: a POP3 server's `+OK` greeting over TLS.
    Spop, SpopArgs, "check_spop", "SPOP",
    "Reads a POP3 server's +OK greeting over TLS (port 995).",
    "Connects to port 995 with TLS from the start, verifies the server's certificate \
(--insecure does not; -D checks its days left), expects the reply to start with +OK (or \
to contain the strings of -e), sends QUIT and closes. The options are check_tcp's.",
    MISMATCH_HELP, {
        const PORTS: (u16, u16) = (995, 995);
        const EXPECT: Option<&'static str> = Some("+OK");
        const QUIT: Option<&'static str> = Some("QUIT\r\n");
        const TLS: bool = true;
    }
}

flavor! {
    /// check_simap: an IMAP server's `* OK` greeting over TLS.
    Simap, SimapArgs, "check_simap", "SIMAP",
    "Reads an IMAP server's * OK greeting over TLS (port 993).",
    "Connects to port 993 with TLS from the start, verifies the server's certificate \
(--insecure does not; -D checks its days left), expects the reply to start with * OK (or \
to contain the strings of -e), sends a1 LOGOUT and closes. The options are check_tcp's; \
check_imap logs in and counts messages.",
    MISMATCH_HELP, {
        const PORTS: (u16, u16) = (993, 993);
        const EXPECT: Option<&'static str> = Some("* OK");
        const QUIT: Option<&'static str> = Some("a1 LOGOUT\r\n");
        const TLS: bool = true;
    }
}

flavor! {
    /// check_ssmtp: an SMTP server's 220 greeting over TLS (SMTPS, submissions).
    Ssmtp, SsmtpArgs, "check_ssmtp", "SSMTP",
    "Reads an SMTP server's 220 greeting over TLS (port 465).",
    "Connects to port 465 with TLS from the start, verifies the server's certificate \
(--insecure does not; -D checks its days left), expects the reply to start with 220 (or \
to contain the strings of -e), sends QUIT and closes. The options are check_tcp's; \
check_smtp speaks SMTP further.",
    MISMATCH_HELP, {
        const PORTS: (u16, u16) = (465, 465);
        const EXPECT: Option<&'static str> = Some("220");
        const QUIT: Option<&'static str> = Some("QUIT\r\n");
        const TLS: bool = true;
    }
}

impl<F: Flavor> Protocol for Tcp<F> {
    type Args = F::Args;
    const LABEL: &'static str = F::LABEL;
    const PORTS: (u16, u16) = F::PORTS;

    fn service_args(args: &F::Args) -> &ServiceArgs {
        &F::options(args).service
    }

    fn new(args: F::Args, service: &mut Service) -> Result<Self, UsageError> {
        let o = F::options(&args);
        let tls = &o.service.tls;
        let port = o.service.target.port;
        let socket = is_socket_path(&o.service.target.hostname);
        if port.is_none() && F::PORTS.0 == 0 && !socket {
            return Err(UsageError::new("a port (-p) is required"));
        }
        let s = &mut service.dialogue;
        if let Some(e) = F::EXPECT {
            s.expect = vec![e.as_bytes().to_vec()];
            s.anchored = true;
        }
        s.quit = F::QUIT.map(|q| q.as_bytes().to_vec());
        o.apply(service)?;
        let s = &mut service.dialogue;
        if F::UDP {
            if s.send.is_none() || s.expect.is_empty() {
                return Err(UsageError::new(
                    "With UDP checks, a send/expect string must be specified.",
                ));
            }
            if tls.ssl || tls.cert_days.is_some() || tls.sni.is_some() {
                return Err(UsageError::new("UDP checks do not use TLS (-S, -D, --sni)"));
            }
            s.udp = true;
            s.quit = None;
            // each datagram is a whole reply
            s.complete = |_| true;
        } else {
            // as monitoring-plugins: -D and --sni mean TLS from the start too
            s.implicit_tls = F::TLS || tls.ssl || tls.cert_days.is_some() || tls.sni.is_some();
            if port.is_none() {
                s.port = if s.implicit_tls {
                    F::PORTS.1
                } else {
                    F::PORTS.0
                };
            }
            socket_tls_needs_sni(service, tls.sni.as_deref())?;
        }
        Ok(Tcp(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::validate;
    use crate::plugin::Check;
    use crate::proto::net::{ConnectError, ReadEnd};
    use crate::proto::service::ServiceFacts;

    fn check(argv: &[&str]) -> Result<TcpCheck, UsageError> {
        validate::<TcpCheck>(argv)
    }

    fn connected(ms: u64) -> ServiceFacts {
        ServiceFacts {
            connect: Some(Ok((
                "127.0.0.1:22".parse().unwrap(),
                Duration::from_millis(ms),
            ))),
            end: Some(ReadEnd::Complete),
            total: Duration::from_millis(ms),
            ..Default::default()
        }
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Args::command().debug_assert();
        UdpArgs::command().debug_assert();
        PopArgs::command().debug_assert();
        SpopArgs::command().debug_assert();
        SimapArgs::command().debug_assert();
        SsmtpArgs::command().debug_assert();
    }

    #[test]
    fn connect_time_thresholds() {
        let c = check(&["-H", "localhost", "-p", "22", "-w", "0.5", "-c", "1"]).unwrap();
        assert_eq!(
            render_text("TCP", &c.evaluate(&connected(1))),
            "TCP OK - 0.001 second response time on localhost port 22 | time=0.001s;0.5;1;0;10\n"
        );
        assert_eq!(c.evaluate(&connected(700)).state(), State::Warning);
        let refused = ServiceFacts {
            connect: Some(Err(ConnectError::Refused("127.0.0.1:22".parse().unwrap()))),
            ..Default::default()
        };
        assert_eq!(
            render_text("TCP", &c.evaluate(&refused)),
            "TCP CRITICAL - connect to address 127.0.0.1 and port 22: Connection refused\n"
        );
        let c = check(&["-H", "localhost", "-p", "22", "-r", "ok"]).unwrap();
        assert_eq!(c.evaluate(&refused).state(), State::Ok);
    }

    #[test]
    fn expect_and_mismatch() {
        let c = check(&["-H", "h", "-p", "22", "-e", "SSH-", "-e", "OpenSSH"]).unwrap();
        let mut f = connected(2);
        f.received = b"SSH-2.0-OpenSSH_9.2\r\n".to_vec();
        assert_eq!(
            render_text("TCP", &c.evaluate(&f)),
            "TCP OK - 0.002 second response time on h port 22 [SSH-2.0-OpenSSH_9.2] | time=0.002s;;;0;10\n"
        );
        f.received = b"garbage\x01\r\n".to_vec();
        assert_eq!(
            render_text("TCP", &c.evaluate(&f)),
            "TCP WARNING - unexpected response from h port 22: garbage | time=0.002s;;;0;10\n"
        );
        let ok = check(&["-H", "h", "-p", "22", "-e", "SSH-", "-M", "ok"]).unwrap();
        assert_eq!(ok.evaluate(&f).state(), State::Ok);
        let c = check(&[
            "-H", "h", "-p", "22", "-e", "a", "-e", "b", "-A", "-M", "crit",
        ])
        .unwrap();
        f.received = b"a\n".to_vec();
        assert_eq!(c.evaluate(&f).state(), State::Critical);
        f.received = b"b a\n".to_vec();
        assert_eq!(c.evaluate(&f).state(), State::Ok);
        let mut silent = connected(9000);
        silent.end = Some(ReadEnd::TimedOut);
        assert_eq!(
            render_text("TCP", &c.evaluate(&silent)),
            "TCP CRITICAL - Socket timeout after 10 seconds: no response from h port 22\n"
        );
        // a time running out takes the state -t names
        let r = c.evaluate(&silent);
        assert!(r.timed_out);
        assert_eq!(r.with_timeout_state(State::Unknown).state(), State::Unknown);
        let mut trickled = connected(9000);
        trickled.end = Some(ReadEnd::TimedOut);
        trickled.received = b"b".to_vec();
        let r = c.evaluate(&trickled);
        assert!(r.timed_out);
        assert_eq!(
            r.summary,
            "Socket timeout after 10 seconds: incomplete response from h port 22: b"
        );
        // a connection closed without a word is CRITICAL whatever -M says
        let mut closed = connected(2);
        closed.end = Some(ReadEnd::Closed);
        let ok = check(&["-H", "h", "-p", "22", "-e", "x", "-M", "ok"]).unwrap();
        assert_eq!(
            render_text("TCP", &ok.evaluate(&closed)),
            "TCP CRITICAL - No data received from host (h port 22)\n"
        );
    }

    #[test]
    fn jail_hides_the_reply() {
        let c = check(&["-H", "h", "-p", "22", "-e", "SSH-", "-j"]).unwrap();
        let mut f = connected(2);
        f.received = b"SSH-2.0-OpenSSH_9.2\r\n".to_vec();
        assert_eq!(
            c.evaluate(&f).summary,
            "0.002 second response time on h port 22"
        );
        f.received = b"secret\r\n".to_vec();
        assert_eq!(c.evaluate(&f).summary, "unexpected response from h port 22");
        // the codes and protocol monitoring-plugins ignores are accepted
        assert!(check(&[
            "-H",
            "h",
            "-p",
            "1",
            "-W",
            "1",
            "-C",
            "2",
            "--protocol",
            "x"
        ])
        .is_ok());
    }

    #[test]
    fn quit_strings() {
        let c = check(&["-H", "h", "-p", "1", "-q", "QUIT"]).unwrap();
        assert_eq!(c.service.dialogue.quit.unwrap(), b"QUIT\r\n");
        let c = check(&["-H", "h", "-p", "1", "-E", "-q", r"QUIT\n"]).unwrap();
        assert_eq!(c.service.dialogue.quit.unwrap(), b"QUIT\n");
        // -D and --sni mean TLS, as monitoring-plugins
        let c = check(&["-H", "h", "-p", "1", "-D", "5"]).unwrap();
        assert!(c.service.dialogue.implicit_tls);
        let c = check(&["-H", "h", "-p", "1", "--sni", "x.test"]).unwrap();
        assert!(c.service.dialogue.implicit_tls);
    }

    #[test]
    fn service_defaults() {
        let pop = validate::<PopCheck>(&["-H", "h"]).unwrap();
        let d = &pop.service.dialogue;
        assert_eq!((d.port, d.implicit_tls, d.anchored), (110, false, true));
        assert_eq!(d.quit.as_deref(), Some(&b"QUIT\r\n"[..]));
        let mut f = connected(2);
        f.received = b"+OK Dovecot ready.\r\n".to_vec();
        assert_eq!(
            render_text("POP", &pop.evaluate(&f)),
            "POP OK - 0.002 second response time on h port 110 [+OK Dovecot ready.] | time=0.002s;;;0;10\n"
        );
        // the default expectation starts the reply; -e is looked for anywhere
        f.received = b"-ERR +OK\r\n".to_vec();
        assert_eq!(pop.evaluate(&f).state(), State::Warning);
        let e = validate::<PopCheck>(&["-H", "h", "-e", "+OK"]).unwrap();
        assert_eq!(e.evaluate(&f).state(), State::Ok);
        let d = validate::<PopCheck>(&["-H", "h", "-S"])
            .unwrap()
            .service
            .dialogue;
        assert_eq!((d.port, d.implicit_tls), (995, true));
        let d = validate::<SpopCheck>(&["-H", "h"])
            .unwrap()
            .service
            .dialogue;
        assert_eq!((d.port, d.implicit_tls), (995, true));
        let d = validate::<SimapCheck>(&["-H", "h"])
            .unwrap()
            .service
            .dialogue;
        assert_eq!((d.port, d.implicit_tls), (993, true));
        assert_eq!(d.expect, vec![b"* OK".to_vec()]);
        let d = validate::<SsmtpCheck>(&["-H", "h", "-p", "4650"])
            .unwrap()
            .service
            .dialogue;
        assert_eq!((d.port, d.implicit_tls), (4650, true));
        assert_eq!(d.expect, vec![b"220".to_vec()]);
    }

    #[test]
    fn udp_needs_send_and_expect() {
        let need = "With UDP checks, a send/expect string must be specified.";
        for argv in [
            &["-H", "h", "-p", "3333"][..],
            &["-H", "h", "-p", "3333", "-s", "x"],
            &["-H", "h", "-p", "3333", "-e", "x"],
        ] {
            assert_eq!(validate::<UdpCheck>(argv).unwrap_err().0, need);
        }
        let c = validate::<UdpCheck>(&["-H", "h", "-p", "3333", "-s", "", "-e", "bar"]).unwrap();
        assert!(c.service.dialogue.udp);
        assert_eq!(c.service.dialogue.send.as_deref(), Some(&b""[..]));
        assert!(validate::<UdpCheck>(&["-H", "h", "-p", "1", "-s", "a", "-e", "b", "-S"]).is_err());
        assert!(validate::<UdpCheck>(&["-H", "h", "-s", "a", "-e", "b"]).is_err());
        let mut f = connected(2);
        f.received = b"barbar\n".to_vec();
        assert_eq!(
            render_text("UDP", &c.evaluate(&f)),
            "UDP OK - 0.002 second response time on h port 3333 [barbar] | time=0.002s;;;0;10\n"
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(unescape(r"a\r\n\t\\\x"), b"a\r\n\t\\\\x");
        assert_eq!(option_bytes(r"a\n", false), br"a\n");
        assert_eq!(option_bytes(r"a\n", true), b"a\n");
        assert_eq!(quit_bytes("QUIT", false), b"QUIT\r\n");
        assert_eq!(quit_bytes(r"QUIT\n", true), b"QUIT\n");
        let c = check(&["-H", "h", "-p", "1", "-E", "-s", r"PING\r\n"]).unwrap();
        assert_eq!(c.service.dialogue.send.unwrap(), b"PING\r\n");
        let c = check(&["-H", "h", "-p", "1", "-s", r"PING\r\n"]).unwrap();
        assert_eq!(c.service.dialogue.send.unwrap(), br"PING\r\n");
    }

    #[test]
    fn bad_options_are_usage_errors() {
        assert_eq!(
            check(&["-H", "x"]).unwrap_err().0,
            "a port (-p) is required"
        );
        assert!(check(&["-H", "x", "-p", "0"]).is_err());
        assert!(check(&["-H", "", "-p", "1"]).is_err());
        assert!(check(&["-H", "x", "-p", "1", "-w", "nan"]).is_err());
        assert!(check(&["-H", "x", "-p", "1", "-r", "maybe"]).is_err());
        assert!(check(&["-H", "x", "-p", "1", "-m", "0"]).is_err());
        assert!(check(&["-H", "x", "-p", "1", "--ca-cert", "/nonexistent"]).is_err());
    }

    #[test]
    fn certificate_days_and_tls_failures() {
        let c = check(&["-H", "h", "-p", "443", "-S", "-D", "30,7"]).unwrap();
        let mut f = connected(3);
        f.cert = Some(crate::proto::mail::test_cert("h", 20 * 86_400));
        assert_eq!(
            render_text("TCP", &c.evaluate(&f)),
            "TCP WARNING - 0.003 second response time on h port 443; certificate 'h' will expire on 1970-01-21 00:00:00 UTC (20 days) | time=0.003s;;;0;10\n"
        );
        f.now = 15 * 86_400;
        assert_eq!(c.evaluate(&f).state(), State::Critical);
        f.now = 0;
        f.tls_error = Some("TLS handshake failed: unknown issuer".into());
        assert_eq!(
            render_text("TCP", &c.evaluate(&f)),
            "TCP CRITICAL - TLS handshake failed: unknown issuer with h port 443; certificate 'h' will expire on 1970-01-21 00:00:00 UTC (20 days)\n"
        );
    }
}
