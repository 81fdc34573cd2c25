//! A small HTTP/1.1 client for the checks: one request per connection over a plain or
//! TLS stream the caller opened, with the time to the first byte and of the transfer,
//! Content-Length, chunked and read-to-close bodies, and a cap on what is read; and the
//! rules for where a redirect may lead.
//!
//! # Bounds
//! Every reply is read against fixed bounds before it is parsed, so a member's vhost
//! cannot make a check hold unbounded memory or spin on its reply; a reply over a bound
//! is an error naming the bound, never a crash:
//! - status line and headers: at most [`MAX_HEAD_BYTES`] (64 KiB) together and at most
//!   [`MAX_HEADERS`] (256) header lines;
//! - body: read (and counted, for the page size and the transfer time) up to the caller's
//!   read limit, at most [`MAX_BODY`] (16 MiB) for check_http; only the first `keep` bytes
//!   are held for string and regex matching; a longer body ends the read and the reply is
//!   marked `truncated` (its size is then its Content-Length when it declared one);
//! - chunked encoding: decoded as it arrives (linear time), a chunk-size line (with
//!   extensions) at most [`MAX_CHUNK_LINE`] bytes and 16 hex digits, the trailers at most
//!   [`MAX_HEAD_BYTES`];
//! - Content-Length: any value is accepted, but no more than the read limit is read;
//! - `Location`: at most [`MAX_LOCATION`] (8 KiB), printable ASCII without spaces.
//!
//! # Where redirects may go
//! [`RedirectNetworks`] is an allow-list of networks (and `global`, the global unicast
//! addresses of [`address_class`]) a followed redirect may connect to; the address the
//! check started from is always allowed ([`redirect_allowed`]). A process-wide default
//! ([`set_default_redirect_networks`]) is set by the daemon; a stand-alone plugin has
//! none and follows redirects anywhere, as monitoring-plugins does.
//!
//! # Modules
//! [`args`] is check_http's command line (shared by its one-URL and multi-vhost
//! modes), [`vhosts`] the targets and their lists, [`fetch`] one page's facts.

pub mod fetch;
pub mod http2;
pub mod vhosts;

use crate::proto::net::Conn;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::{LazyLock, RwLock};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Most bytes of the status line and headers of a reply.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Most header lines of a reply.
pub const MAX_HEADERS: usize = 256;
/// Most body bytes check_http reads of one reply.
pub const MAX_BODY: u64 = 16 * 1024 * 1024;
/// Most bytes of one chunk-size line of a chunked body.
pub const MAX_CHUNK_LINE: usize = 4096;
/// Most bytes of a `Location` a redirect is followed to.
pub const MAX_LOCATION: usize = 8192;

/// One request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: String,
    /// The `Host` header (with the port when it is not the scheme's default).
    pub host: String,
    /// The path and query.
    pub target: String,
    /// Extra headers, in order (a `Host` or `Connection` here replaces ours).
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// Send an HTTP/1.0 request line (default HTTP/1.1).
    pub http10: bool,
}

impl Request {
    /// The request bytes as sent.
    pub fn to_bytes(&self) -> Vec<u8> {
        let has = |name: &str| {
            self.headers
                .iter()
                .any(|(h, _)| h.eq_ignore_ascii_case(name))
        };
        let version = if self.http10 { "1.0" } else { "1.1" };
        let mut out = format!("{} {} HTTP/{version}\r\n", self.method, self.target);
        if !has("host") {
            out.push_str(&format!("Host: {}\r\n", self.host));
        }
        if !has("connection") {
            out.push_str("Connection: close\r\n");
        }
        for (h, v) in &self.headers {
            out.push_str(&format!("{h}: {v}\r\n"));
        }
        if let Some(b) = &self.body {
            if !has("content-length") {
                out.push_str(&format!("Content-Length: {}\r\n", b.len()));
            }
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        if let Some(b) = &self.body {
            bytes.extend_from_slice(b);
        }
        bytes
    }
}

/// One response.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Response {
    /// The status line as received (`HTTP/1.1 200 OK`).
    pub status_line: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The first bytes of the body (as many as the caller asked to keep).
    pub body: Vec<u8>,
    /// Bytes of the body received (decoded when chunked), kept or not.
    pub body_len: u64,
    /// The Content-Length the reply declared.
    pub content_length: Option<u64>,
    /// Bytes of the status line and headers.
    pub header_bytes: usize,
    /// The body was cut at the read limit.
    pub truncated: bool,
}

impl Response {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The headers as received, one `Name: value` a line.
    pub fn header_text(&self) -> String {
        self.headers
            .iter()
            .map(|(h, v)| format!("{h}: {v}\r\n"))
            .collect()
    }
}

/// Times of one exchange.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ExchangeTimes {
    /// From sending the request to the first byte of the answer.
    pub first_byte: Duration,
    /// From the first byte to the end of the body.
    pub transfer: Duration,
    /// From sending to the end of the headers.
    pub headers: Duration,
}

/// Why an exchange failed.
pub type HttpError = String;

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Parses the status line and headers (the bytes before the blank line).
pub fn parse_head(head: &[u8]) -> Result<Response, HttpError> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n").flat_map(|l| l.split('\n'));
    let status_line = lines.next().unwrap_or("").trim().to_string();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let code = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/") || code.len() != 3 {
        return Err(format!(
            "invalid HTTP response: '{}'",
            crate::proto::net::printable(status_line.as_bytes(), 100)
        ));
    }
    let status = code
        .parse::<u16>()
        .map_err(|_| format!("invalid HTTP status '{code}'"))?;
    if head.len() > MAX_HEAD_BYTES {
        return Err(format!(
            "response headers longer than {MAX_HEAD_BYTES} bytes"
        ));
    }
    let mut headers = Vec::new();
    for l in lines {
        if l.is_empty() {
            continue;
        }
        if headers.len() == MAX_HEADERS {
            return Err(format!("more than {MAX_HEADERS} response header lines"));
        }
        match l.split_once(':') {
            Some((h, v)) => headers.push((h.trim().to_string(), v.trim().to_string())),
            None => {
                return Err(format!(
                    "invalid HTTP header line '{}'",
                    crate::proto::net::printable(l.as_bytes(), 100)
                ))
            }
        }
    }
    Ok(Response {
        status_line,
        status,
        headers,
        header_bytes: head.len(),
        ..Default::default()
    })
}

/// The body bytes of a reply: all counted, the first `keep` held.
#[derive(Debug, Default)]
struct BodySink {
    keep: usize,
    body: Vec<u8>,
    len: u64,
}

impl BodySink {
    fn new(keep: usize) -> Self {
        BodySink {
            keep,
            ..Default::default()
        }
    }

    fn push(&mut self, data: &[u8]) {
        self.len += data.len() as u64;
        let room = self.keep.saturating_sub(self.body.len()).min(data.len());
        self.body.extend_from_slice(&data[..room]);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum ChunkState {
    /// Reading a chunk-size line.
    #[default]
    Size,
    /// Inside a chunk: this many bytes left.
    Data(u64),
    /// After a chunk's data: its CRLF.
    DataEnd,
    /// After the last chunk: trailer lines up to an empty one.
    Trailers,
    Done,
}

/// A chunked body decoded as it arrives: holds only the unfinished part of the encoding
/// (at most a chunk-size line, [`MAX_CHUNK_LINE`], or a trailer line) besides the body.
#[derive(Debug, Default)]
struct Dechunker {
    state: ChunkState,
    pending: Vec<u8>,
    trailer_bytes: usize,
}

impl Dechunker {
    /// Feeds received bytes; true once the body (with its trailers) is complete.
    fn feed(&mut self, data: &[u8], sink: &mut BodySink) -> Result<bool, HttpError> {
        self.pending.extend_from_slice(data);
        let mut pos = 0;
        let result = loop {
            let rest = &self.pending[pos..];
            match self.state {
                ChunkState::Size => {
                    let Some(eol) = find(rest, b"\r\n") else {
                        if rest.len() > MAX_CHUNK_LINE {
                            break Err(format!(
                                "chunk-size line longer than {MAX_CHUNK_LINE} bytes"
                            ));
                        }
                        break Ok(false);
                    };
                    if eol > MAX_CHUNK_LINE {
                        break Err(format!(
                            "chunk-size line longer than {MAX_CHUNK_LINE} bytes"
                        ));
                    }
                    let line = String::from_utf8_lossy(&rest[..eol]);
                    let hex = line.split(';').next().unwrap_or("").trim();
                    let size = match u64::from_str_radix(hex, 16) {
                        Ok(n) if hex.len() <= 16 && !hex.starts_with('+') => n,
                        _ => {
                            break Err(format!(
                                "invalid chunk size '{}'",
                                crate::proto::net::printable(hex.as_bytes(), 40)
                            ))
                        }
                    };
                    pos += eol + 2;
                    self.state = if size == 0 {
                        ChunkState::Trailers
                    } else {
                        ChunkState::Data(size)
                    };
                }
                ChunkState::Data(left) => {
                    if rest.is_empty() {
                        break Ok(false);
                    }
                    let take = rest.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    sink.push(&rest[..take]);
                    pos += take;
                    let left = left - take as u64;
                    self.state = if left == 0 {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(left)
                    };
                }
                ChunkState::DataEnd => {
                    if rest.len() < 2 {
                        break Ok(false);
                    }
                    if &rest[..2] != b"\r\n" {
                        break Err("a chunk is not followed by CRLF".into());
                    }
                    pos += 2;
                    self.state = ChunkState::Size;
                }
                ChunkState::Trailers => match find(rest, b"\r\n") {
                    Some(0) => {
                        pos += 2;
                        self.state = ChunkState::Done;
                    }
                    Some(eol) => {
                        self.trailer_bytes += eol + 2;
                        pos += eol + 2;
                    }
                    None => {
                        if self.trailer_bytes + rest.len() > MAX_HEAD_BYTES {
                            break Err(format!(
                                "chunked trailers longer than {MAX_HEAD_BYTES} bytes"
                            ));
                        }
                        break Ok(false);
                    }
                },
                ChunkState::Done => break Ok(true),
            }
            if self.trailer_bytes > MAX_HEAD_BYTES {
                break Err(format!(
                    "chunked trailers longer than {MAX_HEAD_BYTES} bytes"
                ));
            }
        };
        self.pending.drain(..pos);
        result
    }
}

/// Decodes a complete chunked body; `None` while more data is needed.
pub fn dechunk(data: &[u8]) -> Result<Option<Vec<u8>>, HttpError> {
    let mut sink = BodySink::new(usize::MAX);
    let done = Dechunker::default().feed(data, &mut sink)?;
    Ok(done.then_some(sink.body))
}

/// Sends `req` and reads the response, at most `limit` body bytes (all kept).
pub async fn exchange(
    conn: &mut Conn,
    req: &Request,
    limit: usize,
) -> Result<(Response, ExchangeTimes), HttpError> {
    exchange_bounded(conn, req, limit as u64, limit).await
}

/// Sends `req` and reads the response within the bounds of the module doc: the body is
/// read up to `read` bytes, of which the first `keep` are held in [`Response::body`].
pub async fn exchange_bounded(
    conn: &mut Conn,
    req: &Request,
    read: u64,
    keep: usize,
) -> Result<(Response, ExchangeTimes), HttpError> {
    let start = Instant::now();
    conn.write_all(&req.to_bytes())
        .await
        .map_err(|e| format!("cannot send the request: {e}"))?;
    let mut times = ExchangeTimes::default();
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut chunk = vec![0u8; 16 * 1024];
    let mut scanned = 0;
    let head_end = loop {
        if let Some(p) = find(&buf[scanned..], b"\r\n\r\n") {
            break scanned + p;
        }
        scanned = buf.len().saturating_sub(3);
        if buf.len() > MAX_HEAD_BYTES {
            return Err(format!(
                "response headers longer than {MAX_HEAD_BYTES} bytes"
            ));
        }
        let n = conn
            .read(&mut chunk)
            .await
            .map_err(|e| format!("connection failed while reading the response: {e}"))?;
        if n == 0 {
            return Err(if buf.is_empty() {
                "the server closed the connection without a response".into()
            } else {
                format!(
                    "incomplete HTTP response: '{}'",
                    crate::proto::net::printable(&buf, 100)
                )
            });
        }
        if buf.is_empty() {
            times.first_byte = start.elapsed();
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    times.headers = start.elapsed();
    let mut resp = parse_head(&buf[..head_end])?;
    let rest = buf.split_off(head_end + 4);
    drop(buf);
    let no_body = req.method.eq_ignore_ascii_case("HEAD")
        || resp.status / 100 == 1
        || resp.status == 204
        || resp.status == 304;
    let chunked = resp
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length = if chunked {
        None
    } else {
        match resp.header("content-length") {
            Some(v) => Some(v.trim().parse::<u64>().map_err(|_| {
                format!(
                    "invalid Content-Length '{}'",
                    crate::proto::net::printable(v.as_bytes(), 40)
                )
            })?),
            None => None,
        }
    };
    resp.content_length = length;
    let mut sink = BodySink::new(keep);
    if !no_body {
        let mut dechunker = chunked.then(Dechunker::default);
        // feeds received bytes; true once the body is complete
        let mut feed = |data: &[u8], sink: &mut BodySink| -> Result<bool, HttpError> {
            match (&mut dechunker, length) {
                (Some(d), _) => d.feed(data, sink),
                (None, Some(l)) => {
                    let left = l - sink.len;
                    let take = data.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    sink.push(&data[..take]);
                    Ok(sink.len >= l)
                }
                (None, None) => {
                    sink.push(data);
                    Ok(false)
                }
            }
        };
        let mut complete = feed(&rest, &mut sink)?;
        while !complete {
            if sink.len >= read {
                resp.truncated = true;
                break;
            }
            let n = conn
                .read(&mut chunk)
                .await
                .map_err(|e| format!("connection failed while reading the body: {e}"))?;
            if n == 0 {
                if chunked || length.is_some() {
                    return Err(format!(
                        "the server closed the connection after {} of the body's bytes",
                        sink.len
                    ));
                }
                break;
            }
            complete = feed(&chunk[..n], &mut sink)?;
        }
    }
    times.transfer = start.elapsed().saturating_sub(times.first_byte);
    resp.body = sink.body;
    resp.body_len = sink.len;
    Ok((resp, times))
}

/// An absolute URL split into the parts a redirect needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Url {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub target: String,
}

/// Resolves a `Location` against the current URL.
///
/// The `Location` is bounded ([`MAX_LOCATION`]); a fragment is dropped, and bytes that
/// may not appear in a request line (spaces, controls, non-ASCII) are percent-encoded;
/// the host must be a name or an address (user information before `@` is dropped).
pub fn resolve_location(base: &Url, location: &str) -> Result<Url, HttpError> {
    let loc = location.trim();
    if loc.len() > MAX_LOCATION {
        return Err(format!(
            "redirect Location longer than {MAX_LOCATION} bytes"
        ));
    }
    let loc = loc.split('#').next().unwrap_or("");
    if loc.is_empty() {
        return Err("empty redirect Location".into());
    }
    let mut encoded = String::with_capacity(loc.len());
    for b in loc.bytes() {
        if b.is_ascii_graphic() {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    let loc = encoded.as_str();
    let scheme = |p: &str| {
        loc.get(..p.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(p))
            .then(|| &loc[p.len()..])
    };
    let (tls, rest) = if let Some(r) = scheme("https://") {
        (true, r)
    } else if let Some(r) = scheme("http://") {
        (false, r)
    } else if let Some(r) = loc.strip_prefix("//") {
        (base.tls, r)
    } else if loc.starts_with('/') {
        return Ok(Url {
            target: loc.to_string(),
            ..base.clone()
        });
    } else if !loc.contains("://") {
        let dir = base
            .target
            .split('?')
            .next()
            .unwrap_or("/")
            .rsplit_once('/')
            .map_or("", |(d, _)| d);
        return Ok(Url {
            target: format!("{dir}/{loc}"),
            ..base.clone()
        });
    } else {
        return Err(format!(
            "cannot follow the redirect to '{}'",
            crate::proto::net::printable(loc.as_bytes(), 100)
        ));
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host_ok = |h: &str| match h.strip_prefix('[') {
        Some(v6) => v6
            .strip_suffix(']')
            .is_some_and(|a| a.parse::<std::net::Ipv6Addr>().is_ok()),
        None => h
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_'),
    };
    let default = if tls { 443 } else { 80 };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && !p.contains(']') => (
            h.to_string(),
            p.parse::<u16>().map_err(|_| {
                format!(
                    "invalid port in redirect '{}'",
                    crate::proto::net::printable(loc.as_bytes(), 100)
                )
            })?,
        ),
        _ => (authority.to_string(), default),
    };
    if host.is_empty() {
        return Err(format!(
            "no host in redirect '{}'",
            crate::proto::net::printable(loc.as_bytes(), 100)
        ));
    }
    if !host_ok(&host) {
        return Err(format!(
            "invalid host in redirect '{}'",
            crate::proto::net::printable(loc.as_bytes(), 100)
        ));
    }
    let target = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_string()
    };
    Ok(Url {
        tls,
        host,
        port,
        target,
    })
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        let default = if self.tls { 443 } else { 80 };
        if !self.target.starts_with('/') {
            // an absolute request target (a request through a proxy) is its own URL
            write!(f, "{}", self.target)
        } else if self.port == default {
            write!(f, "{scheme}://{}{}", self.host, self.target)
        } else {
            write!(f, "{scheme}://{}:{}{}", self.host, self.port, self.target)
        }
    }
}

/// A network: an address and a prefix length (`192.0.2.0/24`, `2001:db8::/32`, or an
/// address alone for itself). IPv4-mapped IPv6 addresses are matched as IPv4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

fn bits(ip: IpAddr) -> (u128, u8) {
    match ip.to_canonical() {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    }
}

impl Network {
    /// Whether `ip` is inside.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (net, width) = bits(self.addr);
        let (a, a_width) = bits(ip);
        if width != a_width {
            return false;
        }
        if self.prefix == 0 {
            return true;
        }
        let shift = u32::from(width - self.prefix);
        net >> shift == a >> shift
    }
}

impl FromStr for Network {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not a network (ADDRESS/PREFIX, e.g. 192.0.2.0/24)");
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr = a.parse::<IpAddr>().map_err(|_| bad())?.to_canonical();
        let width = bits(addr).1;
        let prefix = match p {
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= width && p.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => return Err(bad()),
            },
            None => width,
        };
        Ok(Network { addr, prefix })
    }
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Special-purpose addresses, most specific first, with what they are: everything here
/// (and IPv6 outside 2000::/3) is not a global unicast address.
static SPECIAL: LazyLock<Vec<(Network, &'static str)>> = LazyLock::new(|| {
    [
        // instance metadata services of cloud platforms
        ("169.254.169.254", "cloud metadata"),
        ("169.254.170.2", "cloud metadata"),
        ("168.63.129.16", "cloud metadata"),
        ("100.100.100.200", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("0.0.0.0/8", "unspecified"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("10.0.0.0/8", "private"),
        ("172.16.0.0/12", "private"),
        ("192.168.0.0/16", "private"),
        ("100.64.0.0/10", "shared address space"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("198.18.0.0/15", "benchmarking"),
        ("192.88.99.0/24", "6to4 relay"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("fe80::/10", "link-local"),
        ("fc00::/7", "unique local"),
        ("ff00::/8", "multicast"),
        ("64:ff9b::/96", "NAT64"),
        ("64:ff9b:1::/48", "NAT64"),
        ("2001::/32", "Teredo"),
        ("2001:db8::/32", "documentation"),
        ("2001::/23", "IETF protocol assignments"),
        ("2002::/16", "6to4"),
        ("3fff::/20", "documentation"),
    ]
    .into_iter()
    .map(|(n, what)| (n.parse().expect("a valid network"), what))
    .collect()
});

/// What kind of special-purpose address `ip` is (`loopback`, `link-local`, `private`,
/// `cloud metadata`, ...); `None` for a global unicast address.
pub fn address_class(ip: IpAddr) -> Option<&'static str> {
    let ip = ip.to_canonical();
    if let Some((_, what)) = SPECIAL.iter().find(|(n, _)| n.contains(ip)) {
        return Some(what);
    }
    match ip {
        IpAddr::V6(a) if a.segments()[0] & 0xe000 != 0x2000 => Some("reserved"),
        _ => None,
    }
}

/// One entry of a redirect allow-list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetEntry {
    /// `global`: any global unicast address ([`address_class`] is `None`).
    Global,
    Net(Network),
}

/// Where a followed redirect may connect: `CIDR[,CIDR...]`, each entry a network, an
/// address, or `global`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectNetworks(pub Vec<NetEntry>);

impl RedirectNetworks {
    /// The daemon's default: global unicast addresses only.
    pub fn global() -> Self {
        RedirectNetworks(vec![NetEntry::Global])
    }

    /// Parses a list of entries (each `global`, `ADDRESS/PREFIX` or `ADDRESS`).
    pub fn parse_list<S: AsRef<str>>(items: &[S]) -> Result<Self, String> {
        items
            .iter()
            .map(|i| {
                let i = i.as_ref().trim();
                if i.eq_ignore_ascii_case("global") {
                    Ok(NetEntry::Global)
                } else {
                    i.parse().map(NetEntry::Net)
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map(RedirectNetworks)
    }

    /// Whether `ip` is inside one of the networks.
    pub fn admits(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|e| match e {
            NetEntry::Global => address_class(ip).is_none(),
            NetEntry::Net(n) => n.contains(ip),
        })
    }
}

impl FromStr for RedirectNetworks {
    type Err = String;

    /// `CIDR[,CIDR...]`; at least one entry.
    fn from_str(s: &str) -> Result<Self, String> {
        if s.trim().is_empty() {
            return Err("no network given".into());
        }
        let items: Vec<&str> = s.split(',').collect();
        RedirectNetworks::parse_list(&items)
    }
}

/// Whether a followed redirect may connect to `ip`: always to `origin`, the address the
/// check started from; otherwise inside `networks`, or anywhere when there are none.
/// The error is the reason, e.g. `169.254.169.254 is outside the allowed networks
/// (cloud metadata)`.
pub fn redirect_allowed(
    networks: Option<&RedirectNetworks>,
    origin: Option<IpAddr>,
    ip: IpAddr,
) -> Result<(), String> {
    let ip = ip.to_canonical();
    let Some(nets) = networks else {
        return Ok(());
    };
    if origin.is_some_and(|o| o.to_canonical() == ip) || nets.admits(ip) {
        return Ok(());
    }
    Err(match address_class(ip) {
        Some(what) => format!("{ip} is outside the allowed networks ({what})"),
        None => format!("{ip} is outside the allowed networks"),
    })
}

static DEFAULT_REDIRECT_NETWORKS: RwLock<Option<RedirectNetworks>> = RwLock::new(None);

/// Sets the process-wide allow-list for redirects of checks that give none themselves
/// (`None`: redirects may go anywhere, the stand-alone plugin's behaviour).
pub fn set_default_redirect_networks(networks: Option<RedirectNetworks>) {
    *DEFAULT_REDIRECT_NETWORKS
        .write()
        .unwrap_or_else(|e| e.into_inner()) = networks;
}

/// The process-wide allow-list for redirects, if one was set.
pub fn default_redirect_networks() -> Option<RedirectNetworks> {
    DEFAULT_REDIRECT_NETWORKS
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// Parses the daemon's `redirect_networks` entries and installs them as the
/// process-wide default; the error names the bad entry.
pub fn install_redirect_networks<S: AsRef<str>>(items: &[S]) -> Result<(), String> {
    let nets = RedirectNetworks::parse_list(items)?;
    set_default_redirect_networks(Some(nets));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_bytes() {
        let r = Request {
            method: "GET".into(),
            host: "www.example.org".into(),
            target: "/".into(),
            headers: vec![("User-Agent".into(), "x".into())],
            body: None,
            http10: false,
        };
        assert_eq!(
            String::from_utf8(r.to_bytes()).unwrap(),
            "GET / HTTP/1.1\r\nHost: www.example.org\r\nConnection: close\r\nUser-Agent: x\r\n\r\n"
        );
        let r = Request {
            method: "POST".into(),
            body: Some(b"a=1".to_vec()),
            headers: vec![],
            ..r
        };
        assert!(String::from_utf8(r.to_bytes())
            .unwrap()
            .ends_with("Content-Length: 3\r\n\r\na=1"));
    }

    #[test]
    fn heads() {
        let r =
            parse_head(b"HTTP/1.1 301 Moved Permanently\r\nLocation: /x\r\nServer: nginx").unwrap();
        assert_eq!(r.status, 301);
        assert_eq!(r.status_line, "HTTP/1.1 301 Moved Permanently");
        assert_eq!(r.header("location"), Some("/x"));
        assert!(parse_head(b"SSH-2.0-OpenSSH").is_err());
        assert!(parse_head(b"HTTP/1.1 2000 OK").is_err());
    }

    #[test]
    fn chunks() {
        assert_eq!(
            dechunk(b"4\r\nWiki\r\n5;x=1\r\npedia\r\n0\r\n\r\n").unwrap(),
            Some(b"Wikipedia".to_vec())
        );
        assert_eq!(dechunk(b"4\r\nWi").unwrap(), None);
        assert_eq!(dechunk(b"4\r\nWiki\r\n0\r\n").unwrap(), None);
        assert!(dechunk(b"zz\r\n").is_err());
    }

    #[test]
    fn locations() {
        let base = Url {
            tls: false,
            host: "a.test".into(),
            port: 8080,
            target: "/dir/page?q".into(),
        };
        assert_eq!(
            resolve_location(&base, "/x").unwrap().to_string(),
            "http://a.test:8080/x"
        );
        assert_eq!(
            resolve_location(&base, "y").unwrap().to_string(),
            "http://a.test:8080/dir/y"
        );
        assert_eq!(
            resolve_location(&base, "https://b.test/z?1")
                .unwrap()
                .to_string(),
            "https://b.test/z?1"
        );
        assert_eq!(
            resolve_location(&base, "http://b.test:81")
                .unwrap()
                .to_string(),
            "http://b.test:81/"
        );
        assert!(resolve_location(&base, "ftp://x/").is_err());
        // user information is dropped, the host must be a name or an address
        assert_eq!(
            resolve_location(&base, "http://169.254.169.254@b.test/x#frag")
                .unwrap()
                .to_string(),
            "http://b.test/x"
        );
        assert_eq!(
            resolve_location(&base, "HTTP://[::1]:8080/").unwrap().host,
            "[::1]"
        );
        assert!(resolve_location(&base, "http://a%2fb/").is_err());
        assert!(resolve_location(&base, "http://[zz]/").is_err());
        // nothing that breaks the request line gets through
        assert_eq!(
            resolve_location(&base, "/a b\té").unwrap().target,
            "/a%20b%09%C3%A9"
        );
        let long = format!("/{}", "x".repeat(MAX_LOCATION));
        assert_eq!(
            resolve_location(&base, &long).unwrap_err(),
            "redirect Location longer than 8192 bytes"
        );
    }

    #[test]
    fn chunks_arrive_in_pieces() {
        let body = b"4\r\nWiki\r\n5;x=1\r\npedia\r\n0\r\nX-T: 1\r\n\r\n";
        let mut d = Dechunker::default();
        let mut sink = BodySink::new(usize::MAX);
        let mut done = false;
        for b in body.iter() {
            assert!(!done);
            done = d.feed(&[*b], &mut sink).unwrap();
        }
        assert!(done);
        assert_eq!(sink.body, b"Wikipedia");
        // only `keep` bytes are held, all are counted
        let mut sink = BodySink::new(3);
        assert!(Dechunker::default().feed(body, &mut sink).unwrap());
        assert_eq!((sink.body.as_slice(), sink.len), (&b"Wik"[..], 9));
        // a chunk size no integer holds, an endless size line, endless trailers
        assert!(dechunk(b"ffffffffffffffffff\r\n").is_err());
        let mut sink = BodySink::new(0);
        assert!(!Dechunker::default()
            .feed(b"ffffffffffffffff\r\nab", &mut sink)
            .unwrap());
        assert_eq!(sink.len, 2);
        let line = vec![b'1'; MAX_CHUNK_LINE + 1];
        assert_eq!(
            dechunk(&line).unwrap_err(),
            "chunk-size line longer than 4096 bytes"
        );
        let mut d = Dechunker::default();
        let mut sink = BodySink::new(0);
        d.feed(b"0\r\n", &mut sink).unwrap();
        let trailer = b"X: y\r\n".repeat(MAX_HEAD_BYTES / 6 + 1);
        assert_eq!(
            d.feed(&trailer, &mut sink).unwrap_err(),
            "chunked trailers longer than 65536 bytes"
        );
        assert_eq!(
            dechunk(b"2\r\nabXY").unwrap_err(),
            "a chunk is not followed by CRLF"
        );
    }

    #[test]
    fn header_bounds() {
        let mut head = b"HTTP/1.1 200 OK".to_vec();
        for i in 0..MAX_HEADERS {
            head.extend_from_slice(format!("\r\nX-{i}: y").as_bytes());
        }
        assert!(parse_head(&head).is_ok());
        head.extend_from_slice(b"\r\nX-last: y");
        assert_eq!(
            parse_head(&head).unwrap_err(),
            "more than 256 response header lines"
        );
        let e =
            parse_head(format!("HTTP/1.1 200 OK\r\n{}", "z".repeat(500)).as_bytes()).unwrap_err();
        assert!(e.len() < 150, "{e}");
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks() {
        let n: Network = "10.1.0.0/16".parse().unwrap();
        assert!(n.contains(ip("10.1.200.3")));
        assert!(!n.contains(ip("10.2.0.1")));
        assert!(n.contains(ip("::ffff:10.1.0.9")), "IPv4-mapped");
        assert!(!n.contains(ip("::1")));
        let n: Network = "2001:db8::/32".parse().unwrap();
        assert!(n.contains(ip("2001:db8:1::1")));
        assert!(!n.contains(ip("2001:db9::1")));
        let all: Network = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("255.1.2.3")) && !all.contains(ip("::2")));
        let one: Network = "127.0.0.2".parse().unwrap();
        assert!(one.contains(ip("127.0.0.2")) && !one.contains(ip("127.0.0.3")));
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "x",
            "",
            "10.0.0.0/+8",
            "10.0.0.0/",
        ] {
            assert!(bad.parse::<Network>().is_err(), "{bad}");
        }
        assert_eq!(
            "10.0.0.0/33".parse::<Network>().unwrap_err(),
            "'10.0.0.0/33' is not a network (ADDRESS/PREFIX, e.g. 192.0.2.0/24)"
        );
        let list: RedirectNetworks = "global, 10.0.0.0/8".parse().unwrap();
        assert_eq!(list.0.len(), 2);
        assert!(list.admits(ip("10.9.9.9")) && list.admits(ip("8.8.8.8")));
        assert!(!list.admits(ip("192.168.1.1")));
        assert!("".parse::<RedirectNetworks>().is_err());
        assert!("10.0.0.0/8,".parse::<RedirectNetworks>().is_err());
    }

    #[test]
    fn address_classes() {
        for (a, class) in [
            ("8.8.8.8", None),
            ("2606:4700::1111", None),
            ("127.0.0.1", Some("loopback")),
            ("127.0.0.99", Some("loopback")),
            ("::1", Some("loopback")),
            ("::ffff:127.0.0.1", Some("loopback")),
            ("169.254.169.254", Some("cloud metadata")),
            ("::ffff:169.254.169.254", Some("cloud metadata")),
            ("fd00:ec2::254", Some("cloud metadata")),
            ("168.63.129.16", Some("cloud metadata")),
            ("100.100.100.200", Some("cloud metadata")),
            ("169.254.1.1", Some("link-local")),
            ("fe80::1", Some("link-local")),
            ("0.0.0.0", Some("unspecified")),
            ("::", Some("unspecified")),
            ("10.0.0.1", Some("private")),
            ("172.31.255.255", Some("private")),
            ("172.32.0.1", None),
            ("192.168.0.1", Some("private")),
            ("100.64.0.1", Some("shared address space")),
            ("fc00::1", Some("unique local")),
            ("224.0.0.1", Some("multicast")),
            ("ff02::1", Some("multicast")),
            ("255.255.255.255", Some("broadcast")),
            ("240.0.0.1", Some("reserved")),
            ("192.0.2.1", Some("documentation")),
            ("2001:db8::1", Some("documentation")),
            ("64:ff9b::a9fe:a9fe", Some("NAT64")),
            ("2002:a9fe:a9fe::1", Some("6to4")),
            ("2001::1", Some("Teredo")),
            ("100::1", Some("reserved")),
        ] {
            assert_eq!(address_class(ip(a)), class, "{a}");
        }
    }

    #[test]
    fn redirect_policy() {
        let origin = Some(ip("127.0.0.1"));
        // no allow-list: anywhere (the stand-alone plugin, as monitoring-plugins)
        assert!(redirect_allowed(None, origin, ip("169.254.169.254")).is_ok());
        // the daemon's default: global unicast and the starting address
        let g = RedirectNetworks::global();
        assert!(redirect_allowed(Some(&g), origin, ip("127.0.0.1")).is_ok());
        assert!(redirect_allowed(Some(&g), origin, ip("::ffff:127.0.0.1")).is_ok());
        assert!(redirect_allowed(Some(&g), origin, ip("8.8.8.8")).is_ok());
        for (a, why) in [
            (
                "127.0.0.2",
                "127.0.0.2 is outside the allowed networks (loopback)",
            ),
            ("::1", "::1 is outside the allowed networks (loopback)"),
            (
                "169.254.169.254",
                "169.254.169.254 is outside the allowed networks (cloud metadata)",
            ),
            (
                "::ffff:169.254.169.254",
                "169.254.169.254 is outside the allowed networks (cloud metadata)",
            ),
            (
                "fe80::1",
                "fe80::1 is outside the allowed networks (link-local)",
            ),
            (
                "0.0.0.0",
                "0.0.0.0 is outside the allowed networks (unspecified)",
            ),
            (
                "224.0.0.1",
                "224.0.0.1 is outside the allowed networks (multicast)",
            ),
            (
                "10.0.0.1",
                "10.0.0.1 is outside the allowed networks (private)",
            ),
        ] {
            assert_eq!(redirect_allowed(Some(&g), origin, ip(a)).unwrap_err(), why);
        }
        // an explicit list is the whole truth (besides the starting address)
        let l: RedirectNetworks = "127.0.0.3/32".parse().unwrap();
        assert!(redirect_allowed(Some(&l), origin, ip("127.0.0.3")).is_ok());
        assert!(redirect_allowed(Some(&l), origin, ip("8.8.8.8")).is_err());
        let none = RedirectNetworks(vec![]);
        assert!(redirect_allowed(Some(&none), origin, ip("127.0.0.1")).is_ok());
        assert!(redirect_allowed(Some(&none), None, ip("127.0.0.1")).is_err());
        // the process-wide default starts unset
        assert_eq!(default_redirect_networks(), None);
        assert!(install_redirect_networks(&["global", "nonsense"]).is_err());
        assert_eq!(default_redirect_networks(), None);
    }
}
