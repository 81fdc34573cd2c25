//! The line protocols of the mail checks (check_smtp, check_mx, check_imap,
//! check_mail_roundtrip): a session over [`net::Conn`] that reads whole SMTP replies
//! (multi-line `NNN-` continuations) and IMAP responses up to their tagged status,
//! upgrades in place with STARTTLS through the shared [`TlsSettings`], and names the
//! step that timed out or failed.

use crate::plugin::args::TargetArgs;
use crate::plugin::{CommonArgs, UsageError};
use crate::proto::net::{self, Conn, ConnectError, Family, ReadEnd};
use crate::proto::tls::{CertDays, CertFacts, TlsArgs, TlsSettings};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// The most a single reply may hold.
const MAX_REPLY: usize = 1 << 20;

/// Where to connect: a name (every address tried in turn) or one address.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Host(String, u16, Family),
    Addr(SocketAddr),
}

/// Why a session could not be opened: the text, and whether it is the time running out
/// (no answer to the connect within the budget).
#[derive(Debug, Clone, PartialEq)]
pub struct OpenError {
    pub text: String,
    pub timed_out: bool,
}

/// An open mail session.
pub struct Session {
    conn: Option<Conn>,
    buf: Vec<u8>,
    /// Reads give up at this instant, so a silent server is named before the check's
    /// own time limit.
    deadline: Instant,
    /// The connected address.
    pub addr: SocketAddr,
    /// The certificate the server showed, once TLS was used.
    pub cert: Option<CertFacts>,
    /// A read or the TLS handshake ran into the deadline.
    timed_out: bool,
}

/// One SMTP reply: its code and the text of each line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SmtpReply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl SmtpReply {
    /// The first line as the server sent it (`220 mx.example.org ESMTP`), for
    /// messages: control characters shown as spaces, cut at 200 characters.
    pub fn first(&self) -> String {
        let line = format!(
            "{} {}",
            self.code,
            self.lines.first().map_or("", String::as_str)
        );
        net::printable(line.as_bytes(), 200)
    }

    /// True when an EHLO reply announces the extension `kw` (case-insensitive).
    pub fn has_extension(&self, kw: &str) -> bool {
        self.lines.iter().skip(1).any(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case(kw))
        })
    }

    /// The SASL mechanisms of an EHLO reply's AUTH line.
    pub fn auth_mechanisms(&self) -> Vec<String> {
        self.lines
            .iter()
            .skip(1)
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                w.next()
                    .filter(|k| k.eq_ignore_ascii_case("AUTH"))
                    .map(|_| w.map(str::to_ascii_uppercase).collect::<Vec<_>>())
            })
            .flatten()
            .collect()
    }
}

/// The whole lines at the start of `buf`: each one's bytes, its text without the line
/// end, and the offset just after it.
fn whole_lines(buf: &[u8]) -> impl Iterator<Item = (&[u8], String, usize)> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        let nl = buf[pos..].iter().position(|&b| b == b'\n')?;
        let raw = &buf[pos..pos + nl];
        pos += nl + 1;
        let line = String::from_utf8_lossy(raw);
        Some((raw, line.trim_end_matches('\r').to_string(), pos))
    })
}

/// Parses one complete SMTP reply at the start of `buf`: the reply and the bytes it
/// took, `None` while incomplete, an error for a line that is not SMTP.
pub fn parse_smtp_reply(buf: &[u8]) -> Option<Result<(SmtpReply, usize), String>> {
    let mut reply = SmtpReply::default();
    for (raw, line, pos) in whole_lines(buf) {
        let b = line.as_bytes();
        let code = (b.len() >= 3 && b[..3].iter().all(u8::is_ascii_digit))
            .then(|| line[..3].parse::<u16>().ok())
            .flatten();
        let Some(code) = code.filter(|_| b.len() == 3 || b[3] == b' ' || b[3] == b'-') else {
            return Some(Err(format!(
                "not an SMTP reply: '{}'",
                net::printable(raw, 200)
            )));
        };
        if !reply.lines.is_empty() && code != reply.code {
            return Some(Err(format!(
                "reply codes {} and {code} mixed in one reply",
                reply.code
            )));
        }
        reply.code = code;
        reply.lines.push(line.get(4..).unwrap_or("").to_string());
        if b.len() == 3 || b[3] == b' ' {
            return Some(Ok((reply, pos)));
        }
    }
    None
}

/// An IMAP command's outcome: the untagged lines and the tagged status.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImapResponse {
    /// Untagged lines without the leading `* `.
    pub untagged: Vec<String>,
    /// `OK`, `NO` or `BAD`.
    pub status: String,
    /// The text after the status.
    pub text: String,
}

impl ImapResponse {
    /// True for a tagged OK.
    pub fn ok(&self) -> bool {
        self.status == "OK"
    }
}

/// Parses the lines of an IMAP response ending with the tagged line of `tag`.
pub fn parse_imap_response(buf: &[u8], tag: &str) -> Option<Result<(ImapResponse, usize), String>> {
    let mut resp = ImapResponse::default();
    for (raw, line, pos) in whole_lines(buf) {
        if let Some(rest) = line.strip_prefix("* ") {
            resp.untagged.push(rest.to_string());
        } else if line.starts_with("+ ") || line == "+" {
            continue;
        } else if let Some(rest) = line.strip_prefix(tag).and_then(|r| r.strip_prefix(' ')) {
            let (status, text) = rest.split_once(' ').unwrap_or((rest, ""));
            // both are only shown: control characters as spaces, cut
            resp.status = net::printable(status.to_ascii_uppercase().as_bytes(), 20);
            resp.text = net::printable(text.as_bytes(), 200);
            return Some(Ok((resp, pos)));
        } else {
            return Some(Err(format!(
                "not an IMAP response: '{}'",
                net::printable(raw, 200)
            )));
        }
    }
    None
}

/// Parses an IMAP greeting line (`* OK ...`, `* PREAUTH ...`, `* BYE ...`).
pub fn parse_imap_greeting(buf: &[u8]) -> Option<Result<(String, usize), String>> {
    let nl = buf.iter().position(|&b| b == b'\n')?;
    let line = String::from_utf8_lossy(&buf[..nl]);
    let line = line.trim_end_matches('\r');
    Some(match line.strip_prefix("* ") {
        Some(rest) => Ok((rest.to_string(), nl + 1)),
        None => Err(format!(
            "not an IMAP greeting: '{}'",
            net::printable(&buf[..nl], 200)
        )),
    })
}

/// An IMAP quoted string (`"a\"b"`); CR, LF and NUL cannot be quoted.
pub fn imap_quote(s: &str) -> Result<String, String> {
    if s.contains(['\r', '\n', '\0']) {
        return Err("a line break cannot be sent in an IMAP quoted string".into());
    }
    Ok(format!(
        "\"{}\"",
        s.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

impl Session {
    /// Connects; the connect and the reads may wait until `budget` from now has passed.
    pub async fn open(target: &Target, budget: Duration) -> Result<(Session, Duration), OpenError> {
        let deadline = Instant::now() + budget;
        let connect = Self::connect(target);
        let (stream, addr, time) = match tokio::time::timeout_at(deadline.into(), connect).await {
            Ok(r) => r.map_err(|text| OpenError {
                text,
                timed_out: false,
            })?,
            Err(_) => {
                let to = match target {
                    Target::Host(host, port, _) => format!("{host} port {port}"),
                    Target::Addr(a) => format!("address {} and port {}", a.ip(), a.port()),
                };
                return Err(OpenError {
                    text: format!(
                        "connect to {to}: no answer within {:.1} seconds",
                        budget.as_secs_f64()
                    ),
                    timed_out: true,
                });
            }
        };
        Ok((
            Session {
                conn: Some(Conn::Plain(stream)),
                buf: Vec::new(),
                deadline,
                addr,
                cert: None,
                timed_out: false,
            },
            time,
        ))
    }

    async fn connect(target: &Target) -> Result<(TcpStream, SocketAddr, Duration), String> {
        Ok(match target {
            Target::Host(host, port, family) => {
                let c = net::connect(host, *port, *family)
                    .await
                    .map_err(|e| e.to_string())?;
                (c.stream, c.addr, c.time)
            }
            Target::Addr(addr) => {
                let start = Instant::now();
                let s = TcpStream::connect(addr).await.map_err(|e| {
                    if e.kind() == std::io::ErrorKind::ConnectionRefused {
                        ConnectError::Refused(*addr).to_string()
                    } else {
                        ConnectError::Other(*addr, e.to_string()).to_string()
                    }
                })?;
                let _ = s.set_nodelay(true);
                (s, *addr, start.elapsed())
            }
        })
    }

    /// Runs the TLS handshake on the connection (at the start, or after the server
    /// accepted STARTTLS); anything read before it is dropped. Records the certificate.
    pub async fn start_tls(&mut self, settings: &TlsSettings, sni: &str) -> Result<(), String> {
        self.buf.clear();
        let Some(Conn::Plain(tcp)) = self.conn.take() else {
            return Err("the connection already uses TLS".into());
        };
        let hs = match tokio::time::timeout_at(self.deadline.into(), settings.handshake(tcp, sni))
            .await
        {
            Ok(hs) => hs,
            Err(_) => {
                self.timed_out = true;
                return Err("no TLS handshake before the time limit".to_string());
            }
        };
        self.cert = Some(hs.cert_facts());
        let stream = hs.stream?;
        self.conn = Some(Conn::Tls(Box::new(stream)));
        Ok(())
    }

    /// True once a read or the TLS handshake ran into the session's deadline: the
    /// failure it returned is the time running out.
    pub fn timed_out(&self) -> bool {
        self.timed_out
    }

    /// Sends bytes.
    pub async fn send(&mut self, bytes: &[u8], what: &str) -> Result<(), String> {
        let conn = self.conn.as_mut().ok_or("the connection is closed")?;
        conn.write_all(bytes)
            .await
            .map_err(|e| format!("cannot send {what}: {e}"))
    }

    /// Reads until `parse` finds a complete item; names `what` in the errors.
    async fn read_item<T>(
        &mut self,
        what: &str,
        parse: impl Fn(&[u8]) -> Option<Result<(T, usize), String>>,
    ) -> Result<T, String> {
        let conn = self.conn.as_mut().ok_or("the connection is closed")?;
        let wait = self.deadline.saturating_duration_since(Instant::now());
        let end =
            net::read_until(conn, &mut self.buf, MAX_REPLY, wait, |b| parse(b).is_some()).await;
        if let Some(r) = parse(&self.buf) {
            let (item, used) = r.map_err(|e| format!("{e} (for {what})"))?;
            self.buf.drain(..used);
            return Ok(item);
        }
        let got = if self.buf.is_empty() {
            String::new()
        } else {
            format!(", got '{}'", net::printable(&self.buf, 200))
        };
        Err(match end {
            ReadEnd::TimedOut => {
                self.timed_out = true;
                format!("no {what} within {:.1} seconds{got}", wait.as_secs_f64())
            }
            ReadEnd::Closed | ReadEnd::Complete => {
                format!("connection closed before the {what}{got}")
            }
            ReadEnd::Limit => format!("the {what} is longer than {MAX_REPLY} bytes"),
            ReadEnd::Error(e) => format!("connection failed waiting for the {what}: {e}"),
        })
    }

    /// Reads one SMTP reply.
    pub async fn smtp_reply(&mut self, what: &str) -> Result<SmtpReply, String> {
        self.read_item(what, parse_smtp_reply).await
    }

    /// Sends an SMTP command line and reads its reply.
    pub async fn smtp_command(&mut self, line: &str, what: &str) -> Result<SmtpReply, String> {
        self.send(format!("{line}\r\n").as_bytes(), what).await?;
        self.smtp_reply(&format!("reply to {what}")).await
    }

    /// Reads the IMAP greeting.
    pub async fn imap_greeting(&mut self) -> Result<String, String> {
        self.read_item("IMAP greeting", parse_imap_greeting).await
    }

    /// Sends a tagged IMAP command and reads up to its tagged status.
    pub async fn imap_command(
        &mut self,
        tag: &str,
        command: &str,
        what: &str,
    ) -> Result<ImapResponse, String> {
        self.send(format!("{tag} {command}\r\n").as_bytes(), what)
            .await?;
        self.read_item(&format!("reply to {what}"), |b| parse_imap_response(b, tag))
            .await
    }

    /// Reads raw bytes until `done` holds for all read so far, `max` bytes are held,
    /// the connection closes, `wait` has passed or the session's deadline comes; returns
    /// what was read (bytes already buffered first).
    pub async fn read_raw(
        &mut self,
        max: usize,
        wait: Duration,
        done: impl FnMut(&[u8]) -> bool,
    ) -> Vec<u8> {
        if let Some(conn) = self.conn.as_mut() {
            let left = self.deadline.saturating_duration_since(Instant::now());
            let end = net::read_until(conn, &mut self.buf, max, wait.min(left), done).await;
            if let ReadEnd::TimedOut = end {
                self.timed_out = left <= wait;
            }
        }
        let n = self.buf.len().min(max);
        self.buf.drain(..n).collect()
    }

    /// Sends `bytes` (a goodbye) and closes, without waiting long for an answer.
    pub async fn close(mut self, bytes: &[u8]) {
        if let Some(mut c) = self.conn.take() {
            let _ = tokio::time::timeout(Duration::from_millis(500), async {
                let _ = c.write_all(bytes).await;
                let _ = c.shutdown().await;
            })
            .await;
        }
    }
}

/// How a mail session uses TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Never.
    Plain,
    /// From the start of the connection (SMTPS 465, IMAPS 993).
    Implicit,
    /// Upgraded with STARTTLS after the greeting.
    StartTls,
}

/// The options check_smtp and check_imap share: the common ones, the server (`-H`,
/// `-p`, `-4`/`-6`) and how TLS is used.
#[derive(Debug, Clone, clap::Args)]
pub struct MailServerArgs {
    #[command(flatten)]
    pub common: CommonArgs,

    #[command(flatten)]
    pub target: TargetArgs,

    #[command(flatten)]
    pub tls: MailTlsArgs,
}

impl MailServerArgs {
    /// The server to talk to: `-p`, else the service's port (`plain`, or `tls` with TLS
    /// from the start).
    pub fn server(&self, plain: u16, tls: u16) -> MailServer {
        MailServer {
            host: self.target.hostname.clone(),
            port: self.tls.port(self.target.port, plain, tls),
            family: self.target.family(),
            cert_days: self.tls.cert_days,
        }
    }
}

/// The resolved server of a mail check, and the certificate's days left it must have.
#[derive(Debug, Clone, PartialEq)]
pub struct MailServer {
    pub host: String,
    pub port: u16,
    pub family: Family,
    pub cert_days: Option<CertDays>,
}

impl MailServer {
    /// Where to connect.
    pub fn target(&self) -> Target {
        Target::Host(self.host.clone(), self.port, self.family)
    }

    /// `host port N`, for messages.
    pub fn place(&self) -> String {
        format!("{} port {}", self.host, self.port)
    }
}

/// `Socket timeout after N seconds` with the check's `-t`, as monitoring-plugins' mail
/// checks say it when their time runs out.
pub fn socket_timeout(timeout: Duration) -> String {
    let t = timeout.as_secs_f64();
    if t.fract() == 0.0 {
        format!("Socket timeout after {t:.0} seconds")
    } else {
        format!("Socket timeout after {t:.1} seconds")
    }
}

/// Puts monitoring-plugins' `Socket timeout after N seconds: ` before the text of a
/// result whose time ran out.
pub fn name_socket_timeout(r: &mut crate::plugin::CheckResult, timeout: Duration) {
    if r.timed_out {
        r.summary = format!("{}: {}", socket_timeout(timeout), r.summary);
    }
}

/// How a mail check uses TLS (check_smtp, check_imap): from the start (`--ssl`) or
/// upgraded (`--starttls`), the name sent and checked, the certificate's days left and
/// the trust options. Each check gives `--ssl` and `--starttls` its own short letters and
/// words with `mut_arg`.
#[derive(Debug, Clone, clap::Args)]
pub struct MailTlsArgs {
    /// Upgrade the connection with STARTTLS (CRITICAL when the server does not offer it)
    #[arg(long = "starttls", conflicts_with = "ssl")]
    pub starttls: bool,

    /// Speak TLS from the start of the connection
    #[arg(long = "ssl")]
    pub ssl: bool,

    /// Server name sent in the TLS handshake and checked in the certificate (default: -H)
    #[arg(long = "sni", value_name = "NAME")]
    pub sni: Option<String>,

    /// Days the certificate must still be valid: WARNING below WARN, CRITICAL below CRIT
    #[arg(short = 'D', long = "certificate", value_name = "WARN[,CRIT]")]
    pub cert_days: Option<CertDays>,

    #[command(flatten)]
    pub trust: TlsArgs,
}

impl MailTlsArgs {
    /// TLS from the start, upgraded, or none.
    pub fn mode(&self) -> TlsMode {
        if self.ssl {
            TlsMode::Implicit
        } else if self.starttls {
            TlsMode::StartTls
        } else {
            TlsMode::Plain
        }
    }

    /// The port `-p` gave, else the service's: `plain`, or `tls` with TLS from the start.
    pub fn port(&self, given: Option<u16>, plain: u16, tls: u16) -> u16 {
        given.unwrap_or(if self.ssl { tls } else { plain })
    }

    /// The TLS name: `--sni`, else the host.
    pub fn sni(&self, host: &str) -> String {
        self.sni.clone().unwrap_or_else(|| host.to_string())
    }

    /// `-D` needs TLS: `needs` names the options that give it (`-S or -s`).
    pub fn check_cert_days(&self, needs: &str) -> Result<(), UsageError> {
        if self.cert_days.is_some() && self.mode() == TlsMode::Plain {
            return Err(UsageError(format!("-D needs TLS ({needs})")));
        }
        Ok(())
    }
}

/// The certificate's state and text for a mail session: always with `-D`, and
/// whenever it is not OK.
pub fn cert_verdict(
    cert: Option<&CertFacts>,
    days: Option<crate::proto::tls::CertDays>,
    now: i64,
) -> Option<(crate::plugin::State, String)> {
    let (s, text) = crate::proto::tls::cert_state(cert?, days, now);
    (days.is_some() || s != crate::plugin::State::Ok).then_some((s, text))
}

/// Raises `r` to the certificate's state and adds the certificate's text to its
/// summary, when [`cert_verdict`] says it is to be reported.
pub fn add_cert_verdict(
    r: &mut crate::plugin::CheckResult,
    cert: Option<&CertFacts>,
    days: Option<CertDays>,
    now: i64,
) {
    if let Some((s, text)) = cert_verdict(cert, days, now) {
        r.raise(s);
        r.summary = format!("{}; {text}", r.summary);
    }
}

/// A verified certificate for `subject`, issued by `CA`, valid until `not_after`
/// (seconds since the epoch): for the unit tests of the checks that judge certificates.
#[cfg(test)]
pub fn test_cert(subject: &str, not_after: i64) -> CertFacts {
    CertFacts {
        leaf: Some(Ok(crate::proto::tls::CertInfo {
            subject: subject.into(),
            issuer: "CA".into(),
            not_after,
            dns_names: vec![],
        })),
        verify_error: None,
    }
}

/// A named step and how long it took, for perfdata.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub name: &'static str,
    pub time: Duration,
}

/// Times the steps of a dialogue.
#[derive(Debug, Default)]
pub struct Steps {
    pub steps: Vec<Step>,
}

impl Steps {
    /// Records a step that began at `since`, and returns now (the next step's start).
    pub fn done(&mut self, name: &'static str, since: Instant) -> Instant {
        let now = Instant::now();
        self.steps.push(Step {
            name,
            time: now - since,
        });
        now
    }
}

/// The per-step perfdata items (`connect_time=0.001s;;;0`...).
pub fn step_perfdata(steps: &[Step]) -> Vec<crate::plugin::PerfData> {
    use crate::plugin::{PerfData, Uom};
    steps
        .iter()
        .map(|s| {
            PerfData::new(format!("{}_time", s.name), net::secs(s.time))
                .uom(Uom::Seconds)
                .min(0.0)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_replies() {
        let (r, n) = parse_smtp_reply(b"250-mx.test Hello\r\n250-SIZE 52428800\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250 HELP\r\nextra")
            .unwrap()
            .unwrap();
        assert_eq!(r.code, 250);
        assert_eq!(r.first(), "250 mx.test Hello");
        assert!(r.has_extension("starttls"));
        assert!(!r.has_extension("PIPELINING"));
        assert_eq!(r.auth_mechanisms(), vec!["PLAIN", "LOGIN"]);
        assert_eq!(n, 84);
        assert!(parse_smtp_reply(b"250-a\r\n250 b").is_none());
        assert!(parse_smtp_reply(b"").is_none());
        let (r, _) = parse_smtp_reply(b"220\r\n").unwrap().unwrap();
        assert_eq!(r.first(), "220");
        // the server's text is shown on one line, without control characters
        let (r, _) = parse_smtp_reply(b"220 evil\x1b[2J\x07 ESMTP\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(r.first(), "220 evil [2J  ESMTP");
        assert_eq!(
            parse_smtp_reply(b"HTTP/1.0 400 Bad\r\n")
                .unwrap()
                .unwrap_err(),
            "not an SMTP reply: 'HTTP/1.0 400 Bad'"
        );
        assert!(parse_smtp_reply(b"250-a\r\n550 b\r\n").unwrap().is_err());
    }

    #[test]
    fn imap_responses() {
        let text =
            b"* 3 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1] ok\r\na2 OK [READ-ONLY] done\r\n";
        let (r, n) = parse_imap_response(text, "a2").unwrap().unwrap();
        assert_eq!(n, text.len());
        assert!(r.ok());
        assert_eq!(
            r.untagged,
            vec!["3 EXISTS", "0 RECENT", "OK [UIDVALIDITY 1] ok"]
        );
        assert_eq!(r.text, "[READ-ONLY] done");
        assert!(parse_imap_response(b"* 3 EXISTS\r\n", "a2").is_none());
        let (r, _) = parse_imap_response(b"a1 NO [AUTHENTICATIONFAILED] no\r\n", "a1")
            .unwrap()
            .unwrap();
        assert_eq!(r.status, "NO");
        assert!(parse_imap_response(b"garbage\r\n", "a1").unwrap().is_err());
        assert_eq!(
            parse_imap_greeting(b"* OK [CAPABILITY IMAP4rev1] ready\r\n")
                .unwrap()
                .unwrap()
                .0,
            "OK [CAPABILITY IMAP4rev1] ready"
        );
        assert!(parse_imap_greeting(b"220 smtp\r\n").unwrap().is_err());
    }

    #[test]
    fn quoting() {
        assert_eq!(imap_quote(r#"p"w\x"#).unwrap(), r#""p\"w\\x""#);
        assert!(imap_quote("a\nb").is_err());
    }
}
