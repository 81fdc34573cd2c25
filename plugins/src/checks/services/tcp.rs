//! check_tcp: connects to a TCP port (over TLS with -S), optionally sends a string and
//! checks the reply. A service check like check_ssh, check_ftp, check_jabber and
//! check_spamd, with the states of a refused connection (-r) and of a reply without the
//! expected strings (-M) its own. Options follow monitoring-plugins' check_tcp.

use super::{Protocol, Service, ServiceArgs, ServiceCheck};
use crate::plugin::args::parse_state_word;
use crate::plugin::{State, UsageError};
use clap::Parser;
use std::time::Duration;

/// Turns `\n`, `\r`, `\t` and `\\` into their bytes (check_tcp's `-E`).
pub fn unescape(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut it = s.bytes();
    while let Some(b) = it.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match it.next() {
            Some(b'n') => out.push(b'\n'),
            Some(b'r') => out.push(b'\r'),
            Some(b't') => out.push(b'\t'),
            Some(b'\\') => out.push(b'\\'),
            Some(o) => out.extend_from_slice(&[b'\\', o]),
            None => out.push(b'\\'),
        }
    }
    out
}

/// Command line of check_tcp.
#[derive(Parser, Debug)]
#[command(
    name = "check_tcp",
    version,
    about = "Connects to a TCP port, optionally sends a string and checks the reply.",
    long_about = "Connects to a TCP port (over TLS with -S), optionally sends a string (-s), \
reads the reply until one of the expected strings (-e, repeatable; all of them with -A) \
appears, a whole line has arrived, -m bytes were read or the time is up, then sends the \
quit string (-q) and closes. A refused connection is CRITICAL (-r), a reply without the \
expected string WARNING (-M); -D checks the days left on the TLS certificate.\n\n\
Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad options, internal error). --help and \
--version exit 0.",
    mut_arg("mismatch", |a| a.default_value("warn").help("State when the reply does not contain the expected strings (-e): ok, warn, crit (default warn: WARNING, as monitoring-plugins' check_tcp)"))
)]
pub struct Args {
    #[command(flatten)]
    pub service: ServiceArgs,

    /// String to send to the server
    #[arg(short = 's', long = "send", value_name = "STRING")]
    pub send: Option<String>,

    /// String to expect in the reply (repeatable); a reply without it is WARNING, or the
    /// state of -M
    #[arg(short = 'e', long = "expect", value_name = "STRING")]
    pub expect: Vec<String>,

    /// All expected strings must appear (default: any one)
    #[arg(short = 'A', long = "all")]
    pub all: bool,

    /// String to send before closing
    #[arg(short = 'q', long = "quit", value_name = "STRING")]
    pub quit: Option<String>,

    /// Interpret \n, \r, \t and \\ in the send, expect and quit strings
    #[arg(short = 'E', long = "escape")]
    pub escape: bool,

    /// Read at most this many bytes
    #[arg(short = 'm', long = "maxbytes", value_name = "BYTES")]
    pub max_bytes: Option<usize>,

    /// Seconds to wait between sending and reading
    #[arg(short = 'd', long = "delay", value_name = "SECONDS")]
    pub delay: Option<f64>,

    /// State when the connection is refused: ok, warn, crit
    #[arg(short = 'r', long = "refuse", value_name = "STATE", value_parser = parse_state_word, default_value = "crit")]
    pub refuse: State,
}

/// check_tcp's own part: nothing beyond its dialogue and states.
#[derive(Debug)]
pub struct Tcp;

/// The validated check_tcp.
pub type TcpCheck = ServiceCheck<Tcp>;

impl Protocol for Tcp {
    type Args = Args;
    const LABEL: &'static str = "TCP";
    /// None of its own: `-p` is required.
    const PORTS: (u16, u16) = (0, 0);

    fn service_args(args: &Args) -> &ServiceArgs {
        &args.service
    }

    fn new(args: Args, service: &mut Service) -> Result<Self, UsageError> {
        let tls = &args.service.tls;
        if args.service.target.port.is_none() {
            return Err(UsageError::new("a port (-p) is required"));
        }
        let s = &mut service.dialogue;
        let bytes = |t: &str| {
            if args.escape {
                unescape(t)
            } else {
                t.as_bytes().to_vec()
            }
        };
        s.send = args.send.as_deref().map(bytes);
        s.expect = args.expect.iter().map(|e| bytes(e)).collect();
        if s.expect.iter().any(Vec::is_empty) {
            return Err(UsageError::new("an expected string (-e) is empty"));
        }
        s.quit = args.quit.as_deref().map(bytes);
        s.match_all = args.all;
        if let Some(m) = args.max_bytes {
            if m == 0 {
                return Err(UsageError::new("--maxbytes must be at least 1"));
            }
            s.max_bytes = m;
        }
        if let Some(d) = args.delay {
            if !(d.is_finite() && d >= 0.0 && d < s.timeout.as_secs_f64()) {
                return Err(UsageError(format!(
                    "delay {d} must be 0 or more seconds and less than the timeout"
                )));
            }
            s.delay = Duration::from_secs_f64(d);
        }
        if tls.cert_days.is_some() && !s.implicit_tls {
            return Err(UsageError::new("-D needs TLS (-S)"));
        }
        service.refused = args.refuse;
        Ok(Tcp)
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
            "TCP CRITICAL - no response from h port 22 within 9.0 seconds\n"
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
        assert_eq!(r.summary, "incomplete response from h port 22: b");
    }

    #[test]
    fn escapes() {
        assert_eq!(unescape(r"a\r\n\t\\\x"), b"a\r\n\t\\\\x");
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
        assert!(check(&["-H", "x", "-p", "1", "-D", "30"]).is_err());
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
