//! The TCP service checks: the shared connect / TLS / send / expect / quit dialogue
//! ([`Service`], [`ServiceArgs`]) and check_tcp itself. check_ssh, check_ftp,
//! check_jabber and check_spamd (in [`super::services`]) are the same dialogue with
//! their own defaults and a look at the reply. Options follow monitoring-plugins'
//! check_tcp.

use crate::plugin::thresholds::seconds_threshold;
use crate::plugin::{
    Check, CheckResult, CommonArgs, PerfData, State, Thresholds, Uom, UsageError, Work,
};
use crate::proto::net::{self, Conn, ConnectError, Family, ReadEnd};
use crate::proto::tls::{self, CertDays, CertFacts, TlsArgs, TlsSettings};
use clap::Parser;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// Options every check of the TCP family shares.
#[derive(Debug, Clone, clap::Args)]
pub struct ServiceArgs {
    /// Host name or address to connect to
    #[arg(short = 'H', long = "hostname", value_name = "HOST")]
    pub hostname: String,

    /// Port to connect to (default: the service's port)
    #[arg(short = 'p', long = "port", value_name = "PORT")]
    pub port: Option<u16>,

    /// Use IPv4 only
    #[arg(short = '4', long = "use-ipv4", conflicts_with = "ipv6")]
    pub ipv4: bool,

    /// Use IPv6 only
    #[arg(short = '6', long = "use-ipv6")]
    pub ipv6: bool,

    /// Response time in seconds that makes the result WARNING
    #[arg(short = 'w', long = "warning", value_name = "SECONDS")]
    pub warning: Option<f64>,

    /// Response time in seconds that makes the result CRITICAL
    #[arg(short = 'c', long = "critical", value_name = "SECONDS")]
    pub critical: Option<f64>,

    /// Speak TLS from the start of the connection
    #[arg(short = 'S', long = "ssl")]
    pub ssl: bool,

    /// Server name sent in the TLS handshake (default: the host name)
    #[arg(long = "sni", value_name = "NAME")]
    pub sni: Option<String>,

    /// Days the TLS certificate must still be valid: WARNING below WARN, CRITICAL below
    /// CRIT (default 0)
    #[arg(
        short = 'D',
        long = "certificate",
        value_name = "WARN[,CRIT]",
        visible_alias = "cert-days"
    )]
    pub cert_days: Option<CertDays>,

    #[command(flatten)]
    pub tls: TlsArgs,
}

/// A state named as check_tcp's `-r`/`-M` take it: ok, warn, crit (or the full names).
pub fn parse_state_word(s: &str) -> Result<State, String> {
    match s.to_ascii_lowercase().as_str() {
        "ok" => Ok(State::Ok),
        "warn" | "warning" => Ok(State::Warning),
        "crit" | "critical" => Ok(State::Critical),
        _ => Err(format!("'{s}' is not one of ok, warn, crit")),
    }
}

/// An upgrade to TLS inside the protocol (FTP `AUTH TLS`, XMPP `<starttls/>`).
#[derive(Debug, Clone)]
pub struct StartTls {
    /// The command that asks for TLS.
    pub command: Vec<u8>,
    /// True once the reply to the command is complete.
    pub complete: fn(&[u8]) -> bool,
    /// True when the complete reply accepts the upgrade.
    pub accepted: fn(&[u8]) -> bool,
}

/// When a reply is complete: a whole line has arrived (the default).
pub fn line_complete(buf: &[u8]) -> bool {
    buf.ends_with(b"\n")
}

/// The resolved dialogue of one service check.
#[derive(Debug, Clone)]
pub struct Service {
    pub host: String,
    pub port: u16,
    pub family: Family,
    /// Thresholds on the total response time in seconds.
    pub time: Thresholds,
    /// TLS from the start (`-S`).
    pub implicit_tls: bool,
    /// TLS upgrade after the first exchange.
    pub starttls: Option<StartTls>,
    /// Trust settings, when TLS is used.
    pub tls: Option<TlsSettings>,
    pub sni: String,
    pub cert_days: Option<CertDays>,
    /// Sent after connecting.
    pub send: Option<Vec<u8>>,
    /// Strings expected in the reply.
    pub expect: Vec<Vec<u8>>,
    /// All expected strings must appear (else any one).
    pub match_all: bool,
    /// Sent before closing.
    pub quit: Option<Vec<u8>>,
    /// Read at most this many bytes.
    pub max_bytes: usize,
    /// State when the connection is refused.
    pub refused: State,
    /// State when the reply does not match.
    pub mismatch: State,
    /// Wait this long after sending before reading.
    pub delay: Duration,
    /// When a reply is complete (default: a whole line).
    pub complete: fn(&[u8]) -> bool,
    /// A reply is complete as soon as the expected strings appear (else only when
    /// `complete` says so).
    pub stop_on_match: bool,
    /// The whole check's time limit.
    pub timeout: Duration,
}

impl Service {
    /// The common part of a service from its arguments and the service's defaults.
    pub fn from_args(
        args: &ServiceArgs,
        common: &CommonArgs,
        default_port: u16,
        tls_port: u16,
    ) -> Result<Service, UsageError> {
        if args.hostname.trim().is_empty() {
            return Err(UsageError::new("the host name (-H) is empty"));
        }
        let port = args
            .port
            .unwrap_or(if args.ssl { tls_port } else { default_port });
        if port == 0 {
            return Err(UsageError::new("the port (-p) must be between 1 and 65535"));
        }
        Ok(Service {
            host: args.hostname.clone(),
            port,
            family: Family::from_flags(args.ipv4, args.ipv6),
            time: Thresholds::new(
                seconds_threshold(args.warning, "warning")?,
                seconds_threshold(args.critical, "critical")?,
            ),
            implicit_tls: args.ssl,
            starttls: None,
            tls: Some(TlsSettings::new(&args.tls)?),
            sni: args.sni.clone().unwrap_or_else(|| args.hostname.clone()),
            cert_days: args.cert_days,
            send: None,
            expect: Vec::new(),
            match_all: false,
            quit: None,
            max_bytes: 1 << 20,
            refused: State::Critical,
            mismatch: State::Warning,
            delay: Duration::ZERO,
            complete: line_complete,
            stop_on_match: true,
            timeout: common.timeout.duration,
        })
    }

    /// True when the check speaks TLS at some point.
    pub fn uses_tls(&self) -> bool {
        self.implicit_tls || self.starttls.is_some()
    }

    fn matched(&self, buf: &[u8]) -> bool {
        let has = |e: &Vec<u8>| contains(buf, e);
        if self.match_all {
            self.expect.iter().all(has)
        } else {
            self.expect.iter().any(has)
        }
    }

    /// How long a read may wait: most of the time limit, so a silent server is
    /// reported as such before the check as a whole times out.
    fn read_wait(&self, started: Instant) -> Duration {
        (self.timeout.mul_f64(0.9)).saturating_sub(started.elapsed())
    }

    /// Runs the dialogue.
    pub async fn fetch(&self) -> ServiceFacts {
        let start = Instant::now();
        let mut facts = ServiceFacts::default();
        let connected = match net::connect(&self.host, self.port, self.family).await {
            Ok(c) => c,
            Err(e) => {
                facts.connect = Some(Err(e));
                return facts;
            }
        };
        facts.connect = Some(Ok((connected.addr, connected.time)));
        let mut conn = Conn::Plain(connected.stream);
        if self.implicit_tls {
            conn = match self.upgrade(conn, &mut facts).await {
                Some(c) => c,
                None => return facts,
            };
        }
        if !self.exchange(&mut conn, &mut facts, start).await {
            return facts;
        }
        if let Some(st) = &self.starttls {
            if let Err(e) = conn.write_all(&st.command).await {
                facts.failure = Some(format!("cannot send the STARTTLS command: {e}"));
                return facts;
            }
            let mut reply = Vec::new();
            let end = net::read_until(
                &mut conn,
                &mut reply,
                self.max_bytes,
                self.read_wait(start),
                st.complete,
            )
            .await;
            if end != ReadEnd::Complete || !(st.accepted)(&reply) {
                facts.failure = Some(format!(
                    "the server refused STARTTLS: {}",
                    describe_end(&end, &reply)
                ));
                return facts;
            }
            conn = match self.upgrade(conn, &mut facts).await {
                Some(c) => c,
                None => return facts,
            };
        }
        if let Some(q) = &self.quit {
            let _ = conn.write_all(q).await;
        }
        let _ = conn.shutdown().await;
        facts.total = start.elapsed();
        facts
    }

    /// Sends and reads the first exchange; false when it failed.
    async fn exchange(&self, conn: &mut Conn, facts: &mut ServiceFacts, start: Instant) -> bool {
        if let Some(s) = &self.send {
            if let Err(e) = conn.write_all(s).await {
                facts.failure = Some(format!("cannot send: {e}"));
                return false;
            }
            if !self.delay.is_zero() {
                tokio::time::sleep(self.delay).await;
            }
        }
        if self.send.is_none() && self.expect.is_empty() && !self.starttls_needs_greeting() {
            facts.end = Some(ReadEnd::Complete);
            facts.total = start.elapsed();
            return true;
        }
        let expect_given = !self.expect.is_empty();
        let complete = self.complete;
        let end = net::read_until(
            conn,
            &mut facts.received,
            self.max_bytes,
            self.read_wait(start),
            |b| {
                if expect_given && self.stop_on_match {
                    self.matched(b) || complete(b)
                } else {
                    complete(b)
                }
            },
        )
        .await;
        facts.total = start.elapsed();
        let ok = match &end {
            ReadEnd::Complete | ReadEnd::Limit | ReadEnd::Closed => true,
            ReadEnd::TimedOut | ReadEnd::Error(_) => false,
        };
        facts.end = Some(end);
        ok && (!expect_given || self.matched(&facts.received))
    }

    fn starttls_needs_greeting(&self) -> bool {
        self.starttls.is_some()
    }

    /// Runs the TLS handshake and records the certificate facts.
    async fn upgrade(&self, conn: Conn, facts: &mut ServiceFacts) -> Option<Conn> {
        let Conn::Plain(tcp) = conn else {
            return Some(conn);
        };
        let settings = self.tls.as_ref()?;
        let hs = settings.handshake(tcp, &self.sni).await;
        facts.cert = Some(hs.cert_facts());
        match hs.stream {
            Ok(s) => Some(Conn::Tls(Box::new(s))),
            Err(e) => {
                facts.tls_error = Some(e);
                None
            }
        }
    }
}

/// Finds `needle` in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

fn describe_end(end: &ReadEnd, buf: &[u8]) -> String {
    match end {
        ReadEnd::TimedOut if buf.is_empty() => "no answer".to_string(),
        ReadEnd::TimedOut => format!("incomplete answer '{}'", net::printable(buf, 200)),
        ReadEnd::Closed if buf.is_empty() => "connection closed without an answer".to_string(),
        ReadEnd::Error(e) => format!("connection failed: {e}"),
        _ => format!("'{}'", net::printable(buf, 200)),
    }
}

/// What the dialogue found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceFacts {
    /// The connected address and connect time, or why there is no connection.
    pub connect: Option<Result<(SocketAddr, Duration), ConnectError>>,
    /// The server certificate, when TLS was used.
    pub cert: Option<CertFacts>,
    /// Why the TLS handshake failed.
    pub tls_error: Option<String>,
    /// What the server sent in the first exchange.
    pub received: Vec<u8>,
    /// How the first read ended.
    pub end: Option<ReadEnd>,
    /// A failure after connecting (send, STARTTLS).
    pub failure: Option<String>,
    /// Time from the start of the connect to the end of the first exchange.
    pub total: Duration,
}

/// The verdict on the dialogue (pure): connection, TLS and certificate, reply, time.
/// `now` is seconds since the epoch, for the certificate's days left.
pub fn evaluate_service(facts: &ServiceFacts, svc: &Service, now: i64) -> CheckResult {
    let place = format!("{} port {}", svc.host, svc.port);
    let (addr, connect_time) = match &facts.connect {
        None => return CheckResult::unknown("no connection was attempted"),
        Some(Err(e @ ConnectError::Refused(_))) => {
            return CheckResult::new(svc.refused, e.to_string())
        }
        Some(Err(e)) => return CheckResult::new(State::Critical, e.to_string()),
        Some(Ok(c)) => *c,
    };
    let _ = addr;
    let (state, cert_text) = match cert_verdict(facts, svc, now) {
        Some((s, t)) => (s, Some(t)),
        None => (State::Ok, None),
    };
    let with_cert = |mut r: CheckResult| {
        if let Some(t) = &cert_text {
            r.summary = format!("{}; {t}", r.summary);
        }
        r
    };
    if let Some(e) = &facts.tls_error {
        let mut r = CheckResult::new(State::Critical, format!("{e} with {place}"));
        r.raise(state);
        return with_cert(r);
    }
    if let Some(e) = &facts.failure {
        return with_cert(CheckResult::new(State::Critical, format!("{e} ({place})")));
    }
    let received = &facts.received;
    match &facts.end {
        Some(ReadEnd::TimedOut) if received.is_empty() => {
            return CheckResult::new(
                State::Critical,
                format!(
                    "no response from {place} within {:.1} seconds",
                    facts.total.as_secs_f64()
                ),
            )
        }
        Some(ReadEnd::Error(e)) => {
            return CheckResult::new(
                State::Critical,
                format!("connection to {place} failed: {e}"),
            )
        }
        Some(ReadEnd::TimedOut) if !svc.stop_on_match && svc.matched(received) => {
            return CheckResult::new(
                State::Critical,
                format!(
                    "incomplete response from {place} within {:.1} seconds: {}",
                    facts.total.as_secs_f64(),
                    net::printable(received, 200)
                ),
            )
        }
        _ => {}
    }
    if !svc.expect.is_empty() && !svc.matched(received) {
        let why = match &facts.end {
            Some(ReadEnd::TimedOut) => "incomplete response",
            Some(ReadEnd::Closed) if received.is_empty() => "no response",
            _ => "unexpected response",
        };
        let shown = net::printable(received, 200);
        let r = CheckResult::new(
            svc.mismatch.worst(state),
            if shown.is_empty() {
                format!("{why} from {place}")
            } else {
                format!("{why} from {place}: {shown}")
            },
        );
        return with_cert(r.with_perf(time_perf(facts.total, svc)));
    }
    let secs = facts.total.as_secs_f64();
    let banner = net::printable(received, 200);
    let summary = if banner.is_empty() {
        format!("{secs:.3} second response time on {place}")
    } else {
        format!("{secs:.3} second response time on {place} [{banner}]")
    };
    let _ = connect_time;
    let r = CheckResult::new(state.worst(svc.time.state(secs)), summary)
        .with_perf(time_perf(facts.total, svc));
    with_cert(r)
}

/// The certificate's state and text, when it is to be reported: always with `-D`, and
/// whenever it failed verification.
pub fn cert_verdict(facts: &ServiceFacts, svc: &Service, now: i64) -> Option<(State, String)> {
    let cert = facts.cert.as_ref()?;
    let (s, text) = tls::cert_state(cert, svc.cert_days, now);
    (facts.tls_error.is_some() || svc.cert_days.is_some() || s != State::Ok).then_some((s, text))
}

/// The `time` perfdata item.
pub fn time_perf(t: Duration, svc: &Service) -> PerfData {
    PerfData::new("time", net::secs(t))
        .uom(Uom::Seconds)
        .thresholds(&svc.time)
        .min(0.0)
        .max(svc.timeout.as_secs_f64())
}

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
--version exit 0."
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    #[command(flatten)]
    pub service: ServiceArgs,

    /// String to send to the server
    #[arg(short = 's', long = "send", value_name = "STRING")]
    pub send: Option<String>,

    /// String to expect in the reply (repeatable)
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

    /// State when the reply does not match: ok, warn, crit
    #[arg(short = 'M', long = "mismatch", value_name = "STATE", value_parser = parse_state_word, default_value = "warn")]
    pub mismatch: State,
}

/// The validated check_tcp.
#[derive(Debug)]
pub struct TcpCheck {
    pub service: Service,
}

impl Check for TcpCheck {
    type Args = Args;
    const LABEL: &'static str = "TCP";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        let Some(default_port) = args.service.port else {
            return Err(UsageError::new("a port (-p) is required"));
        };
        let mut s = Service::from_args(&args.service, &args.common, default_port, default_port)?;
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
        s.refused = args.refuse;
        s.mismatch = args.mismatch;
        if args.service.cert_days.is_some() && !s.implicit_tls {
            return Err(UsageError::new("-D needs TLS (-S)"));
        }
        Ok(TcpCheck { service: s })
    }

    fn run(&self) -> Work<'_> {
        Work::Remote(Box::pin(async move {
            let facts = self.service.fetch().await;
            evaluate_service(&facts, &self.service, tls::unix_now())
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::parse_args;

    fn check(argv: &[&str]) -> Result<TcpCheck, UsageError> {
        let args =
            parse_args::<TcpCheck>(std::iter::once("check_tcp").chain(argv.iter().copied()))?
                .unwrap();
        TcpCheck::new(args)
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
            render_text("TCP", &evaluate_service(&connected(1), &c.service, 0)),
            "TCP OK - 0.001 second response time on localhost port 22 | time=0.001s;0.5;1;0;10\n"
        );
        assert_eq!(
            evaluate_service(&connected(700), &c.service, 0).state(),
            State::Warning
        );
        let refused = ServiceFacts {
            connect: Some(Err(ConnectError::Refused("127.0.0.1:22".parse().unwrap()))),
            ..Default::default()
        };
        assert_eq!(
            render_text("TCP", &evaluate_service(&refused, &c.service, 0)),
            "TCP CRITICAL - connect to address 127.0.0.1 and port 22: Connection refused\n"
        );
        let c = check(&["-H", "localhost", "-p", "22", "-r", "ok"]).unwrap();
        assert_eq!(evaluate_service(&refused, &c.service, 0).state(), State::Ok);
    }

    #[test]
    fn expect_and_mismatch() {
        let c = check(&["-H", "h", "-p", "22", "-e", "SSH-", "-e", "OpenSSH"]).unwrap();
        let mut f = connected(2);
        f.received = b"SSH-2.0-OpenSSH_9.2\r\n".to_vec();
        assert_eq!(
            render_text("TCP", &evaluate_service(&f, &c.service, 0)),
            "TCP OK - 0.002 second response time on h port 22 [SSH-2.0-OpenSSH_9.2] | time=0.002s;;;0;10\n"
        );
        f.received = b"garbage\x01\r\n".to_vec();
        assert_eq!(
            render_text("TCP", &evaluate_service(&f, &c.service, 0)),
            "TCP WARNING - unexpected response from h port 22: garbage | time=0.002s;;;0;10\n"
        );
        let c = check(&[
            "-H", "h", "-p", "22", "-e", "a", "-e", "b", "-A", "-M", "crit",
        ])
        .unwrap();
        f.received = b"a\n".to_vec();
        assert_eq!(evaluate_service(&f, &c.service, 0).state(), State::Critical);
        f.received = b"b a\n".to_vec();
        assert_eq!(evaluate_service(&f, &c.service, 0).state(), State::Ok);
        let mut silent = connected(9000);
        silent.end = Some(ReadEnd::TimedOut);
        assert_eq!(
            render_text("TCP", &evaluate_service(&silent, &c.service, 0)),
            "TCP CRITICAL - no response from h port 22 within 9.0 seconds\n"
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(unescape(r"a\r\n\t\\\x"), b"a\r\n\t\\\\x");
        let c = check(&["-H", "h", "-p", "1", "-E", "-s", r"PING\r\n"]).unwrap();
        assert_eq!(c.service.send.unwrap(), b"PING\r\n");
        let c = check(&["-H", "h", "-p", "1", "-s", r"PING\r\n"]).unwrap();
        assert_eq!(c.service.send.unwrap(), br"PING\r\n");
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
}
