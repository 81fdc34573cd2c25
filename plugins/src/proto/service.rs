//! The line-protocol dialogue of the TCP service checks (check_tcp, check_ssh,
//! check_ftp, check_jabber, check_spamd): connect, TLS from the start or upgraded in the
//! protocol, send, read until the reply is complete or the expected strings appear,
//! quit. [`describe`] says what the dialogue found in words and in kind ([`Outcome`]);
//! the checks choose the states (a refused connection, a reply that does not match, the
//! response time) and apply their levels.

pub use crate::plugin::args::TargetArgs;
use crate::plugin::{CheckResult, PerfData, State, Thresholds, Uom, UsageError};
use crate::proto::net::{self, Conn, ConnectError, Family, ReadEnd};
use crate::proto::tls::{self, CertDays, CertFacts, TlsArgs, TlsSettings};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// How a service check uses TLS: `-S`, `--sni`, `-D` and the trust options.
#[derive(Debug, Clone, clap::Args)]
pub struct TlsServiceArgs {
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

/// Finds `needle` in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// The resolved dialogue of one service check.
#[derive(Debug, Clone)]
pub struct Dialogue {
    pub host: String,
    pub port: u16,
    pub family: Family,
    /// TLS from the start (`-S`).
    pub implicit_tls: bool,
    /// TLS upgrade after the first exchange.
    pub starttls: Option<StartTls>,
    /// Trust settings, when TLS is used.
    pub tls: Option<TlsSettings>,
    pub sni: String,
    /// Sent after connecting.
    pub send: Option<Vec<u8>>,
    /// Strings expected in the reply.
    pub expect: Vec<Vec<u8>>,
    /// All expected strings must appear (else any one).
    pub match_all: bool,
    /// The expected strings must start the reply (else appear anywhere in it).
    pub anchored: bool,
    /// Sent before closing.
    pub quit: Option<Vec<u8>>,
    /// Read at most this many bytes.
    pub max_bytes: usize,
    /// Wait this long after sending before reading.
    pub delay: Duration,
    /// When a reply is complete (default: a whole line).
    pub complete: fn(&[u8]) -> bool,
    /// A reply is complete as soon as the expected strings appear (else only when
    /// `complete` says so).
    pub stop_on_match: bool,
    /// The whole check's time limit.
    pub timeout: Duration,
    /// The server's words are left out of the output (check_tcp's `-j`).
    pub hide_output: bool,
    /// A datagram exchange (check_udp): one datagram sent, the reply read from the
    /// datagrams that come back; no TLS, no quit string.
    pub udp: bool,
}

impl Dialogue {
    /// The common part of a dialogue from its arguments and the service's ports.
    pub fn new(
        target: &TargetArgs,
        tls_args: &TlsServiceArgs,
        timeout: Duration,
        default_port: u16,
        tls_port: u16,
    ) -> Result<Dialogue, UsageError> {
        let port = target
            .port
            .unwrap_or(if tls_args.ssl { tls_port } else { default_port });
        Ok(Dialogue {
            host: target.hostname.clone(),
            port,
            family: Family::from_flags(target.ipv4, target.ipv6),
            implicit_tls: tls_args.ssl,
            starttls: None,
            tls: Some(TlsSettings::new(&tls_args.tls)?),
            sni: tls_args
                .sni
                .clone()
                .unwrap_or_else(|| target.hostname.clone()),
            send: None,
            expect: Vec::new(),
            match_all: false,
            anchored: false,
            quit: None,
            max_bytes: 1 << 20,
            delay: Duration::ZERO,
            complete: line_complete,
            stop_on_match: true,
            timeout,
            hide_output: false,
            udp: false,
        })
    }

    /// True when the check speaks TLS at some point.
    pub fn uses_tls(&self) -> bool {
        self.implicit_tls || self.starttls.is_some()
    }

    /// True when the host is the path of a Unix stream socket (the port and `-4`/`-6`
    /// do not apply).
    pub fn is_socket(&self) -> bool {
        crate::plugin::target::is_socket_path(&self.host)
    }

    /// `host port N` (or `socket PATH`), for messages.
    pub fn place(&self) -> String {
        if self.is_socket() {
            format!("socket {}", self.host)
        } else {
            format!("{} port {}", self.host, self.port)
        }
    }

    /// `Socket timeout after N seconds`, with the check's `-t`, as monitoring-plugins
    /// says it.
    pub fn socket_timeout(&self) -> String {
        let t = self.timeout.as_secs_f64();
        if t.fract() == 0.0 {
            format!("Socket timeout after {t:.0} seconds")
        } else {
            format!("Socket timeout after {t:.1} seconds")
        }
    }

    /// True when `buf` holds the expected strings (all of them with `match_all`).
    pub fn matched(&self, buf: &[u8]) -> bool {
        let has = |e: &Vec<u8>| {
            if self.anchored {
                buf.starts_with(e)
            } else {
                contains(buf, e)
            }
        };
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
        let mut facts = ServiceFacts {
            now: tls::unix_now(),
            ..Default::default()
        };
        if self.is_socket() {
            // a socket is a stream whatever the check (as monitoring-plugins connects them)
            let connect = net::connect_unix(&self.host);
            return match tokio::time::timeout(self.read_wait(start), connect).await {
                Ok(Ok((stream, time))) => {
                    // a socket has no address: the unspecified one stands for it
                    let addr = SocketAddr::from((std::net::Ipv4Addr::UNSPECIFIED, 0));
                    facts.connect = Some(Ok((addr, time)));
                    self.converse(Conn::Unix(stream), facts, start).await
                }
                Ok(Err(e)) => {
                    facts.connect = Some(Err(e));
                    facts
                }
                Err(_) => self.unanswered(facts, start),
            };
        }
        if self.udp {
            self.datagrams(&mut facts, start).await;
            return facts;
        }
        let connect = net::connect(&self.host, self.port, self.family);
        let connected = match tokio::time::timeout(self.read_wait(start), connect).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                facts.connect = Some(Err(e));
                return facts;
            }
            Err(_) => return self.unanswered(facts, start),
        };
        facts.connect = Some(Ok((connected.addr, connected.time)));
        self.converse(Conn::Plain(connected.stream), facts, start)
            .await
    }

    /// The facts of a connect that was not answered in time.
    fn unanswered(&self, mut facts: ServiceFacts, start: Instant) -> ServiceFacts {
        facts.total = start.elapsed();
        facts.failure = Some(format!(
            "{}: connect to {}: no answer",
            self.socket_timeout(),
            self.place(),
        ));
        facts.failure_timed_out = true;
        facts
    }

    /// The dialogue over an open connection: TLS, the exchange, STARTTLS, quit.
    async fn converse(
        &self,
        mut conn: Conn,
        mut facts: ServiceFacts,
        start: Instant,
    ) -> ServiceFacts {
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
                facts.failure_timed_out = end == ReadEnd::TimedOut;
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
        if self.send.is_none() && self.expect.is_empty() && self.starttls.is_none() {
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

    /// The datagram exchange: sends the one datagram, then reads the datagrams that
    /// come back (each appended, at most `max_bytes` in all) until the reply is
    /// complete, the expected strings appear or the time is up. A port nobody listens
    /// on answers with an ICMP error, which the read reports.
    async fn datagrams(&self, facts: &mut ServiceFacts, start: Instant) {
        let addrs = match net::resolve(&self.host, self.port, self.family).await {
            Ok(a) => a,
            Err(e) => {
                facts.connect = Some(Err(e));
                return;
            }
        };
        let addr = addrs[0];
        let local: SocketAddr = if addr.is_ipv4() {
            (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let sock = match tokio::net::UdpSocket::bind(local).await {
            Ok(s) => s,
            Err(e) => {
                facts.connect = Some(Err(ConnectError::Other(addr, e.to_string())));
                return;
            }
        };
        if let Err(e) = sock.connect(addr).await {
            facts.connect = Some(Err(ConnectError::Other(addr, e.to_string())));
            return;
        }
        facts.connect = Some(Ok((addr, start.elapsed())));
        let payload = self.send.as_deref().unwrap_or_default();
        if let Err(e) = sock.send(payload).await {
            facts.failure = Some(format!("cannot send: {e}"));
            facts.total = start.elapsed();
            return;
        }
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let deadline = tokio::time::Instant::now() + self.read_wait(start);
        let mut chunk = vec![0u8; 65_536];
        let end = loop {
            if self.matched(&facts.received) && !facts.received.is_empty() {
                break ReadEnd::Complete;
            }
            if facts.received.len() >= self.max_bytes {
                break ReadEnd::Limit;
            }
            match tokio::time::timeout_at(deadline, sock.recv(&mut chunk)).await {
                Err(_) => break ReadEnd::TimedOut,
                Ok(Ok(n)) => {
                    let room = self.max_bytes - facts.received.len();
                    facts.received.extend_from_slice(&chunk[..n.min(room)]);
                    if !facts.received.is_empty() && (self.complete)(&facts.received) {
                        break ReadEnd::Complete;
                    }
                }
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    break ReadEnd::Closed
                }
                Ok(Err(e)) => break ReadEnd::Error(e.to_string()),
            }
        };
        facts.end = Some(end);
        facts.total = start.elapsed();
    }

    /// Runs the TLS handshake and records the certificate facts.
    async fn upgrade(&self, conn: Conn, facts: &mut ServiceFacts) -> Option<Conn> {
        let settings = self.tls.as_ref()?;
        let stream = match conn {
            Conn::Plain(tcp) => {
                let hs = settings.handshake(tcp, &self.sni).await;
                facts.cert = Some(hs.cert_facts());
                hs.stream.map(|s| Conn::Tls(Box::new(s)))
            }
            Conn::Unix(unix) => {
                let hs = settings.handshake(unix, &self.sni).await;
                facts.cert = Some(hs.cert_facts());
                hs.stream.map(|s| Conn::UnixTls(Box::new(s)))
            }
            conn => return Some(conn),
        };
        match stream {
            Ok(c) => Some(c),
            Err(e) => {
                facts.tls_error = Some(e);
                None
            }
        }
    }
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
    /// The connected address and connect time, or why there is no connection (`None`
    /// with a failure when the connect was not answered in time).
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
    /// The failure is the time running out (no answer to the connect or to STARTTLS).
    pub failure_timed_out: bool,
    /// Time from the start of the connect to the end of the first exchange.
    pub total: Duration,
    /// When the dialogue started, in seconds since the epoch (for the certificate's
    /// days left).
    pub now: i64,
}

/// What kind of thing the dialogue found; the check gives each kind its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// No connection was attempted.
    NotAttempted,
    /// The connection was refused: nothing listens.
    Refused,
    /// No connection: the name did not resolve, the address is unreachable.
    NoConnection,
    /// A step after connecting failed: the TLS handshake, a send, STARTTLS, the read.
    Failed,
    /// The dialogue's time ran out: no answer, or an incomplete one.
    TimedOut,
    /// The server answered without the expected strings.
    Mismatch,
    /// The server answered as expected.
    Answered,
}

/// The dialogue's facts in words: the kind of outcome, the text of the summary, the
/// certificate's state and text (when it is to be reported), and the response time.
#[derive(Debug, Clone, PartialEq)]
pub struct Described {
    pub outcome: Outcome,
    pub text: String,
    pub cert: Option<(State, String)>,
    pub secs: f64,
}

/// The states a check gives the outcomes that depend on its options and levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdicts {
    /// A refused connection (`-r`).
    pub refused: State,
    /// A reply without the expected strings (`-M`).
    pub mismatch: State,
    /// The response time against the check's levels.
    pub time: State,
}

impl Described {
    /// The result, with the states the check chose; `perf` (the response time) goes with
    /// the outcomes that have one. A time running out is [`CheckResult::timed_out`].
    pub fn into_result(self, v: Verdicts, perf: PerfData) -> CheckResult {
        let cert_state = self.cert.as_ref().map_or(State::Ok, |c| c.0);
        match self.outcome {
            Outcome::NotAttempted => CheckResult::unknown(self.text),
            Outcome::Refused => CheckResult::new(v.refused, self.text),
            Outcome::NoConnection | Outcome::Failed => CheckResult::new(State::Critical, self.text),
            Outcome::TimedOut => CheckResult::timed_out(self.text),
            Outcome::Mismatch => {
                CheckResult::new(v.mismatch.worst(cert_state), self.text).with_perf(perf)
            }
            Outcome::Answered => {
                CheckResult::new(cert_state.worst(v.time), self.text).with_perf(perf)
            }
        }
    }
}

/// The certificate's state and text, when it is to be reported: always with `-D`, and
/// whenever it failed verification; its days left are counted from the facts' `now`.
pub fn cert_verdict(facts: &ServiceFacts, days: Option<CertDays>) -> Option<(State, String)> {
    let cert = facts.cert.as_ref()?;
    let (s, text) = tls::cert_state(cert, days, facts.now);
    (facts.tls_error.is_some() || days.is_some() || s != State::Ok).then_some((s, text))
}

/// Describes the dialogue's facts (pure): connection, TLS and certificate, the reply.
pub fn describe(facts: &ServiceFacts, d: &Dialogue, days: Option<CertDays>) -> Described {
    let place = d.place();
    let secs = facts.total.as_secs_f64();
    let cert = cert_verdict(facts, days);
    let said = |outcome, text: String| Described {
        outcome,
        text,
        cert: None,
        secs,
    };
    let with_cert = |outcome, mut text: String| {
        if let Some((_, t)) = &cert {
            text = format!("{text}; {t}");
        }
        Described {
            outcome,
            text,
            cert: cert.clone(),
            secs,
        }
    };
    match &facts.connect {
        None => {
            return match &facts.failure {
                Some(e) if facts.failure_timed_out => said(Outcome::TimedOut, e.clone()),
                _ => said(Outcome::NotAttempted, "no connection was attempted".into()),
            }
        }
        Some(Err(e @ (ConnectError::Refused(_) | ConnectError::SocketRefused(_)))) => {
            return said(Outcome::Refused, e.to_string())
        }
        Some(Err(ConnectError::Resolve(e))) => {
            let prefix = format!("cannot resolve {}: ", d.host);
            let e = e.strip_prefix(&prefix).unwrap_or(e);
            return said(
                Outcome::NoConnection,
                format!("Invalid hostname, address or socket: {} ({e})", d.host),
            );
        }
        Some(Err(e)) => return said(Outcome::NoConnection, e.to_string()),
        Some(Ok(_)) => {}
    }
    if let Some(e) = &facts.tls_error {
        return with_cert(Outcome::Failed, format!("{e} with {place}"));
    }
    if let Some(e) = &facts.failure {
        let kind = if facts.failure_timed_out {
            Outcome::TimedOut
        } else {
            Outcome::Failed
        };
        return with_cert(kind, format!("{e} ({place})"));
    }
    let received = &facts.received;
    // what the server said, unless -j hides it
    let shown = |bytes: &[u8]| {
        if d.hide_output {
            String::new()
        } else {
            net::printable(bytes, 200)
        }
    };
    let timeout = d.socket_timeout();
    match &facts.end {
        Some(ReadEnd::TimedOut) if received.is_empty() => {
            return said(
                Outcome::TimedOut,
                format!("{timeout}: no response from {place}"),
            )
        }
        Some(ReadEnd::Closed) if received.is_empty() && !d.expect.is_empty() => {
            return said(
                Outcome::Failed,
                format!("No data received from host ({place})"),
            )
        }
        Some(ReadEnd::Error(e)) => {
            return said(
                Outcome::Failed,
                format!("connection to {place} failed: {e}"),
            )
        }
        Some(ReadEnd::TimedOut) if !d.stop_on_match && d.matched(received) => {
            return said(
                Outcome::TimedOut,
                with_words(
                    format!("{timeout}: incomplete response from {place}"),
                    &shown(received),
                ),
            )
        }
        _ => {}
    }
    if !d.expect.is_empty() && !d.matched(received) {
        let (kind, why) = match &facts.end {
            Some(ReadEnd::TimedOut) => {
                (Outcome::TimedOut, format!("{timeout}: incomplete response"))
            }
            _ => (Outcome::Mismatch, "unexpected response".to_string()),
        };
        return with_cert(
            kind,
            with_words(format!("{why} from {place}"), &shown(received)),
        );
    }
    let banner = shown(received);
    let text = if banner.is_empty() {
        format!("{secs:.3} second response time on {place}")
    } else {
        format!("{secs:.3} second response time on {place} [{banner}]")
    };
    with_cert(Outcome::Answered, text)
}

/// `text: words`, or `text` alone when there are no words.
fn with_words(text: String, words: &str) -> String {
    if words.is_empty() {
        text
    } else {
        format!("{text}: {words}")
    }
}

/// The `time` perfdata item, with the check's levels.
pub fn time_perf(t: Duration, time: &Thresholds, timeout: Duration) -> PerfData {
    PerfData::new("time", net::secs(t))
        .uom(Uom::Seconds)
        .thresholds(time)
        .min(0.0)
        .max(timeout.as_secs_f64())
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

/// A string to send or expect as `-E` says: its escapes turned into bytes, or as given.
pub fn option_bytes(s: &str, escape: bool) -> Vec<u8> {
    if escape {
        unescape(s)
    } else {
        s.as_bytes().to_vec()
    }
}

/// The quit string as `-E` says: its escapes turned into bytes (the user ends the line),
/// or as given with CRLF added.
pub fn quit_bytes(q: &str, escape: bool) -> Vec<u8> {
    if escape {
        unescape(q)
    } else {
        format!("{q}\r\n").into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containment_and_lines() {
        assert!(contains(b"abc", b"bc"));
        assert!(contains(b"abc", b""));
        assert!(!contains(b"abc", b"cd"));
        assert!(line_complete(b"x\n"));
        assert!(!line_complete(b"x"));
    }

    fn dialogue() -> Dialogue {
        let target = TargetArgs {
            hostname: "h".into(),
            port: Some(7),
            ipv4: false,
            ipv6: false,
        };
        let tls = TlsServiceArgs {
            ssl: false,
            sni: None,
            cert_days: None,
            tls: TlsArgs::default(),
        };
        let mut d = Dialogue::new(&target, &tls, Duration::from_secs(10), 7, 7).unwrap();
        d.expect = vec![b"+OK".to_vec()];
        d
    }

    fn connected(received: &[u8], end: ReadEnd) -> ServiceFacts {
        ServiceFacts {
            connect: Some(Ok((
                "127.0.0.1:7".parse().unwrap(),
                Duration::from_millis(1),
            ))),
            received: received.to_vec(),
            end: Some(end),
            total: Duration::from_millis(2),
            ..Default::default()
        }
    }

    #[test]
    fn outcomes_in_words() {
        let d = dialogue();
        let kind = |f: &ServiceFacts| {
            let x = describe(f, &d, None);
            (x.outcome, x.text)
        };
        assert_eq!(
            kind(&ServiceFacts::default()),
            (Outcome::NotAttempted, "no connection was attempted".into())
        );
        let refused = ServiceFacts {
            connect: Some(Err(ConnectError::Refused("127.0.0.1:7".parse().unwrap()))),
            ..Default::default()
        };
        assert_eq!(
            kind(&refused),
            (
                Outcome::Refused,
                "connect to address 127.0.0.1 and port 7: Connection refused".into()
            )
        );
        assert_eq!(
            kind(&connected(b"+OK hi\r\n", ReadEnd::Complete)),
            (
                Outcome::Answered,
                "0.002 second response time on h port 7 [+OK hi]".into()
            )
        );
        assert_eq!(
            kind(&connected(b"-ERR\r\n", ReadEnd::Complete)),
            (
                Outcome::Mismatch,
                "unexpected response from h port 7: -ERR".into()
            )
        );
        assert_eq!(
            kind(&connected(b"", ReadEnd::Closed)),
            (
                Outcome::Failed,
                "No data received from host (h port 7)".into()
            )
        );
        assert_eq!(
            kind(&connected(b"", ReadEnd::TimedOut)).0,
            Outcome::TimedOut
        );
        assert_eq!(
            kind(&connected(b"-E", ReadEnd::TimedOut)),
            (
                Outcome::TimedOut,
                "Socket timeout after 10 seconds: incomplete response from h port 7: -E".into()
            )
        );
        let unanswered = ServiceFacts {
            failure: Some("connect to h port 7: no answer within 1.8 seconds".into()),
            failure_timed_out: true,
            ..Default::default()
        };
        assert_eq!(
            kind(&unanswered),
            (
                Outcome::TimedOut,
                "connect to h port 7: no answer within 1.8 seconds".into()
            )
        );
        let mut starttls = connected(b"+OK\r\n", ReadEnd::Complete);
        starttls.failure = Some("the server refused STARTTLS: no answer".into());
        starttls.failure_timed_out = true;
        assert_eq!(
            kind(&starttls),
            (
                Outcome::TimedOut,
                "the server refused STARTTLS: no answer (h port 7)".into()
            )
        );
    }

    #[test]
    fn unix_sockets_in_words() {
        let mut d = dialogue();
        d.host = "/run/x.sock".into();
        assert!(d.is_socket());
        assert_eq!(d.place(), "socket /run/x.sock");
        let refused = ServiceFacts {
            connect: Some(Err(ConnectError::SocketRefused(d.host.clone()))),
            ..Default::default()
        };
        let x = describe(&refused, &d, None);
        assert_eq!(x.outcome, Outcome::Refused);
        assert_eq!(
            x.text,
            "connect to file socket /run/x.sock: Connection refused"
        );
        let missing = ServiceFacts {
            connect: Some(Err(ConnectError::Socket(
                d.host.clone(),
                "No such file or directory".into(),
            ))),
            ..Default::default()
        };
        let x = describe(&missing, &d, None);
        assert_eq!(x.outcome, Outcome::NoConnection);
        assert_eq!(
            x.text,
            "connect to file socket /run/x.sock: No such file or directory"
        );
        let x = describe(&connected(b"+OK hi\r\n", ReadEnd::Complete), &d, None);
        assert_eq!(
            x.text,
            "0.002 second response time on socket /run/x.sock [+OK hi]"
        );
    }

    #[test]
    fn results_take_the_states_given() {
        let d = dialogue();
        let v = Verdicts {
            refused: State::Warning,
            mismatch: State::Ok,
            time: State::Critical,
        };
        let perf = || time_perf(Duration::from_millis(2), &Thresholds::default(), d.timeout);
        let r =
            describe(&connected(b"+OK\r\n", ReadEnd::Complete), &d, None).into_result(v, perf());
        assert_eq!(r.state(), State::Critical);
        assert_eq!(r.perfdata.len(), 1);
        let r =
            describe(&connected(b"-ERR\r\n", ReadEnd::Complete), &d, None).into_result(v, perf());
        assert_eq!(r.state(), State::Ok);
        let r = describe(&connected(b"", ReadEnd::TimedOut), &d, None).into_result(v, perf());
        assert!(r.timed_out);
        assert!(r.perfdata.is_empty());
    }
}
