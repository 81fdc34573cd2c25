//! Fetching a virtual host's page: resolve, connect, TLS, one request per hop,
//! redirects followed as asked (within the allow-list of [`super::RedirectNetworks`]),
//! and every time and fact check_http judges; many virtual hosts a few at a time. No
//! thresholds here: check_http judges what this finds.

use super::vhosts::Target;
use super::{Request, Response};
use crate::proto::net::{self, Conn, Family};
use crate::proto::tls::{CertFacts, TlsSettings};
use base64::Engine;
use futures_util::stream::{FuturesUnordered, StreamExt};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Most body bytes held for `-s`, `-r` and `-R` (the rest is read and counted only).
pub const MATCH_BODY: usize = 1024 * 1024;

/// Whether redirects are followed, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redirects {
    /// The redirect is the answer.
    Report,
    /// Resolve the new name, connect only where the allow-list says.
    Follow,
    /// Stay on the address the check started from.
    Sticky,
    /// Stay on the address and the port the check started from.
    StickyPort,
}

/// The basic authentication password: given, or read from a file at each fetch.
#[derive(Debug, Clone, PartialEq)]
pub enum Password {
    Given(String),
    File(PathBuf),
}

/// Basic authentication.
#[derive(Debug, Clone, PartialEq)]
pub struct BasicAuth {
    pub user: String,
    pub password: Password,
}

impl BasicAuth {
    /// The `Authorization` header value; reads the password file (its first line).
    pub fn header(&self) -> Result<String, String> {
        let password = match &self.password {
            Password::Given(p) => p.clone(),
            Password::File(f) => std::fs::read_to_string(f)
                .map_err(|e| format!("--password-file {}: {e}", f.display()))?
                .lines()
                .next()
                .unwrap_or("")
                .to_string(),
        };
        Ok(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{password}", self.user))
        ))
    }
}

/// The HTTP version of the requests (`--http-version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpVersion {
    /// HTTP/1.0 request lines.
    Http10,
    /// HTTP/1.1 (the default).
    #[default]
    Http11,
    /// HTTP/2 where TLS negotiates it by ALPN, else HTTP/1.1 (as curl's
    /// `CURL_HTTP_VERSION_2_0` over TLS; over plain HTTP, see [`super::http2`]).
    Http2,
}

/// What to send and how to follow: the validated request of check_http.
#[derive(Debug)]
pub struct FetchSpec {
    pub family: Family,
    pub tls: TlsSettings,
    /// Stop after the TLS handshake (only the certificate is checked).
    pub cert_only: bool,
    pub method: String,
    /// Headers in order (before the authorization and the content type).
    pub headers: Vec<(String, String)>,
    pub auth: Option<BasicAuth>,
    /// The request body and its content type.
    pub body: Option<(Vec<u8>, String)>,
    pub redirects: Redirects,
    pub max_redirs: u32,
    /// Where `follow` may connect (`None`: the process-wide default).
    pub redirect_networks: Option<super::RedirectNetworks>,
    /// Do not read the body.
    pub no_body: bool,
    /// The port named in the first request's `Host` header when it is not the port
    /// connected to (`-H name:port` with `-p`).
    pub virtual_port: Option<u16>,
    /// The HTTP version asked for.
    pub version: HttpVersion,
    /// Send a PROXY protocol v1 header on each connection, before TLS.
    pub haproxy: bool,
    /// Decompress a gzip or deflate body for matching.
    pub decompress: bool,
    /// An HTTP proxy every request goes through.
    pub proxy: Option<Proxy>,
    /// `--cookie-jar`: cookies read from FILE, kept across the hops and written back
    /// (an empty path keeps them across the hops only).
    pub cookie_jar: Option<PathBuf>,
}

/// Most bytes of a cookie jar file read.
pub const MAX_COOKIE_JAR: u64 = 64 * 1024;
/// Most cookies kept.
pub const MAX_COOKIES: usize = 64;

/// One cookie, as a Netscape cookie jar line holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cookie {
    /// The host (or, with `subdomains`, the domain) it is sent to.
    pub domain: String,
    pub subdomains: bool,
    pub path: String,
    /// Sent over TLS only.
    pub secure: bool,
    /// Seconds since the epoch; 0 for a session cookie.
    pub expires: i64,
    pub name: String,
    pub value: String,
}

impl Cookie {
    fn matches(&self, url: &super::Url) -> bool {
        let host = url.host.to_ascii_lowercase();
        let domain_ok = host == self.domain
            || (self.subdomains && host.ends_with(&format!(".{}", self.domain)));
        let path = url.target.split('?').next().unwrap_or("/");
        domain_ok && path.starts_with(&self.path) && (url.tls || !self.secure)
    }
}

/// The cookies of a Netscape cookie jar text (curl's format); bad lines are skipped.
pub fn parse_cookie_jar(text: &str) -> Vec<Cookie> {
    text.lines()
        .filter_map(|l| {
            let l = l.strip_prefix("#HttpOnly_").unwrap_or(l);
            if l.starts_with('#') {
                return None;
            }
            let f: Vec<&str> = l.split('\t').collect();
            let [domain, sub, path, secure, expires, name, value] = f[..] else {
                return None;
            };
            Some(Cookie {
                domain: domain.trim_start_matches('.').to_ascii_lowercase(),
                subdomains: sub == "TRUE",
                path: path.to_string(),
                secure: secure == "TRUE",
                expires: expires.parse().ok()?,
                name: name.to_string(),
                value: value.to_string(),
            })
        })
        .take(MAX_COOKIES)
        .collect()
}

/// A Netscape cookie jar text of `jar`.
pub fn cookie_jar_text(jar: &[Cookie]) -> String {
    let mut out = String::from("# Netscape HTTP Cookie File\n");
    let flag = |b: bool| if b { "TRUE" } else { "FALSE" };
    for c in jar {
        let dot = if c.subdomains { "." } else { "" };
        out.push_str(&format!(
            "{dot}{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            c.domain,
            flag(c.subdomains),
            c.path,
            flag(c.secure),
            c.expires,
            c.name,
            c.value
        ));
    }
    out
}

/// Applies one `Set-Cookie` header received from `url` at `now` to the jar: a new or
/// replaced cookie, or one removed (`Max-Age` 0 or less). A `Domain` must cover the
/// host; anything unusable is ignored.
pub fn set_cookie(jar: &mut Vec<Cookie>, url: &super::Url, header: &str, now: i64) {
    let mut parts = header.split(';');
    let Some((name, value)) = parts.next().and_then(|nv| nv.split_once('=')) else {
        return;
    };
    let (name, value) = (name.trim(), value.trim());
    let printable = |t: &str| t.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
    if name.is_empty() || !printable(name) || !printable(value) || name.len() + value.len() > 4096 {
        return;
    }
    let host = url.host.to_ascii_lowercase();
    let dir = url.target.split('?').next().unwrap_or("/");
    let mut c = Cookie {
        domain: host.clone(),
        subdomains: false,
        // the target's directory; `/` for a target without one (never a cut inside
        // a character)
        path: dir.rfind('/').map_or("/", |i| &dir[..i.max(1)]).to_string(),
        secure: false,
        expires: 0,
        name: name.to_string(),
        value: value.to_string(),
    };
    let mut remove = false;
    for attr in parts {
        let (k, v) = attr.split_once('=').unwrap_or((attr, ""));
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
        match k.as_str() {
            "domain" => {
                let d = v.trim_start_matches('.').to_ascii_lowercase();
                if host != d && !host.ends_with(&format!(".{d}")) {
                    return;
                }
                c.domain = d;
                c.subdomains = true;
            }
            // a tab or a line break would split the cookie's line in the jar file
            "path" if v.starts_with('/') && !v.contains(char::is_control) => c.path = v.to_string(),
            "secure" => c.secure = true,
            "max-age" => match v.parse::<i64>() {
                Ok(n) if n <= 0 => remove = true,
                Ok(n) => c.expires = now.saturating_add(n),
                Err(_) => {}
            },
            _ => {}
        }
    }
    jar.retain(|o| !(o.name == c.name && o.domain == c.domain && o.path == c.path));
    if !remove && jar.len() < MAX_COOKIES {
        jar.push(c);
    }
}

/// The `Cookie` header for `url` from the jar's unexpired cookies.
pub fn cookie_header(jar: &[Cookie], url: &super::Url, now: i64) -> Option<String> {
    let pairs: Vec<String> = jar
        .iter()
        .filter(|c| (c.expires == 0 || c.expires > now) && c.matches(url))
        .map(|c| format!("{}={}", c.name, c.value))
        .collect();
    (!pairs.is_empty()).then(|| pairs.join("; "))
}

/// Refuses a cookie jar another user could read or change behind the check: it must be
/// a regular file owned by the effective user with a single link.
fn jar_is_ours(meta: &std::fs::Metadata) -> std::io::Result<()> {
    crate::plugin::regular_file::ours(meta)
}

/// Reads a cookie jar file: none yet is an empty jar. Never through a symbolic link,
/// never waiting on a FIFO, only a file of ours ([`jar_is_ours`]), at most
/// [`MAX_COOKIE_JAR`] bytes.
fn read_cookie_jar(path: &std::path::Path) -> Result<Vec<Cookie>, String> {
    use crate::plugin::regular_file::{open_regular, read_limited};
    let shown = |e: std::io::Error| format!("--cookie-jar {}: {e}", path.display());
    let file = match open_regular(path, true) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(shown(e)),
    };
    file.metadata()
        .and_then(|m| jar_is_ours(&m))
        .map_err(shown)?;
    let data = read_limited(file, MAX_COOKIE_JAR).map_err(shown)?;
    let text = String::from_utf8(data).map_err(|_| {
        shown(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        ))
    })?;
    Ok(parse_cookie_jar(&text))
}

/// Writes a cookie jar: to a new temporary file (mode 0600, `O_EXCL`, never through a
/// link) in the jar's directory, renamed into place; an existing jar that is not ours
/// ([`jar_is_ours`]) is left alone and the write refused.
fn write_cookie_jar(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    crate::plugin::regular_file::replace_ours(path, text.as_bytes())
}

/// An HTTP proxy: plain HTTP requests are sent to it with an absolute URL, HTTPS ones
/// (and every one with `tunnel`) through a `CONNECT` tunnel.
#[derive(Debug, Clone, PartialEq)]
pub struct Proxy {
    pub host: String,
    pub port: u16,
    /// Tunnel plain HTTP too (check_http's `-j CONNECT`).
    pub tunnel: bool,
    /// Names reached directly (`--noproxy`; `*` for every name).
    pub bypass: Vec<String>,
    /// The `Proxy-Authorization` header value.
    pub auth: Option<String>,
}

impl Proxy {
    /// Whether requests to `host` go through the proxy.
    pub fn serves(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        !self.bypass.iter().any(|b| {
            let b = b.trim_start_matches('.');
            b == "*"
                || host.eq_ignore_ascii_case(b)
                || host.len().checked_sub(b.len() + 1).is_some_and(|i| {
                    host.as_bytes()[i] == b'.' && host[i + 1..].eq_ignore_ascii_case(b)
                })
        })
    }

    /// Parses `[http://]HOST[:PORT]` (port 1080 by default, as curl).
    pub fn parse(s: &str) -> Result<Proxy, String> {
        let rest = match s.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some((scheme, _)) => {
                return Err(format!(
                    "proxy '{s}': only http:// proxies are supported, not {scheme}://"
                ))
            }
            None => s,
        };
        let rest = rest.trim_end_matches('/');
        if rest.contains(['/', '@', ' ']) || rest.is_empty() {
            return Err(format!("proxy '{s}' is not [http://]HOST[:PORT]"));
        }
        let (host, port) =
            super::vhosts::split_address(rest).map_err(|e| format!("proxy '{s}': {e}"))?;
        Ok(Proxy {
            host,
            port: port.unwrap_or(1080),
            tunnel: false,
            bypass: Vec::new(),
            auth: None,
        })
    }
}

/// Opens a `CONNECT` tunnel to `host:port` through a proxy's connection.
async fn open_tunnel(
    stream: &mut tokio::net::TcpStream,
    proxy: &Proxy,
    host: &str,
    port: u16,
) -> Result<(), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut req = format!("CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n");
    if let Some(a) = &proxy.auth {
        req.push_str(&format!("Proxy-Authorization: {a}\r\n"));
    }
    req.push_str("\r\n");
    stream
        .write_all(req.as_bytes())
        .await
        .map_err(|e| format!("cannot send CONNECT to the proxy: {e}"))?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    // byte by byte: nothing of the tunnel's own bytes may be read here
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > super::MAX_HEAD_BYTES {
            return Err("the proxy's CONNECT answer is too long".into());
        }
        match stream.read(&mut byte).await {
            Ok(0) => return Err("the proxy closed the connection after CONNECT".into()),
            Ok(_) => head.push(byte[0]),
            Err(e) => return Err(format!("reading the proxy's CONNECT answer: {e}")),
        }
    }
    let resp = super::parse_head(&head[..head.len() - 4])?;
    if !(200..300).contains(&resp.status) {
        return Err(format!(
            "the proxy refused CONNECT {host}:{port}: {}",
            resp.status_line
        ));
    }
    Ok(())
}

/// The PROXY protocol v1 header of a connection from `local` to `peer`.
pub fn proxy_v1_header(local: SocketAddr, peer: SocketAddr) -> String {
    let (l, p) = (local.ip().to_canonical(), peer.ip().to_canonical());
    let family = if l.is_ipv4() && p.is_ipv4() {
        "TCP4"
    } else {
        "TCP6"
    };
    let show = |ip: IpAddr| match (family, ip) {
        ("TCP6", IpAddr::V4(v4)) => v4.to_ipv6_mapped().to_string(),
        _ => ip.to_string(),
    };
    format!(
        "PROXY {family} {} {} {} {}\r\n",
        show(l),
        show(p),
        local.port(),
        peer.port()
    )
}

/// Decodes a gzip or deflate body (`encoding` as in Content-Encoding), at most
/// `limit` bytes of it; `None` for another encoding. A body that was only partly kept
/// (`whole` false) is decoded as far as it goes.
pub fn decompress(
    encoding: &str,
    body: &[u8],
    whole: bool,
    limit: usize,
) -> Option<Result<Vec<u8>, String>> {
    use std::io::Read;
    let mut out = Vec::new();
    let cap = limit as u64;
    let r = match encoding.trim().to_ascii_lowercase().as_str() {
        "gzip" | "x-gzip" => flate2::read::MultiGzDecoder::new(body)
            .take(cap)
            .read_to_end(&mut out),
        "deflate" => {
            // zlib-wrapped as the standard says, raw deflate as some servers send
            let z = flate2::read::ZlibDecoder::new(body)
                .take(cap)
                .read_to_end(&mut out);
            if z.is_err() {
                out.clear();
                flate2::read::DeflateDecoder::new(body)
                    .take(cap)
                    .read_to_end(&mut out)
            } else {
                z
            }
        }
        _ => return None,
    };
    Some(match r {
        Err(e) if whole => Err(format!("cannot decompress the {encoding} body: {e}")),
        _ => Ok(out),
    })
}

/// What one virtual host's request found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HttpFacts {
    /// The URL of the last request.
    pub url: String,
    /// The virtual host (for multi-vhost output).
    pub vhost: String,
    pub connect: Duration,
    pub tls: Option<Duration>,
    pub cert: Option<CertFacts>,
    pub tls_error: Option<String>,
    /// A failure to connect or exchange (the whole text).
    pub error: Option<String>,
    /// The time ran out before the page was complete (`error` says so).
    pub timed_out: bool,
    /// The request could not be made from what the check was given (a password file
    /// that cannot be read): UNKNOWN.
    pub unusable: Option<String>,
    pub response: Option<Response>,
    pub times: super::ExchangeTimes,
    pub total: Duration,
    /// The redirects followed, as `STATUS -> URL`.
    pub redirects: Vec<String>,
    /// Following stopped (too many redirects, a refused target, a bad Location), and why.
    pub redirect_error: Option<(RedirectStop, String)>,
}

/// Why following redirects stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectStop {
    /// More than `max_redirs` redirects.
    TooMany,
    /// A redirect without a usable Location, or to a refused address.
    Refused,
}

impl HttpFacts {
    fn failed(t: &Target, error: String) -> Self {
        HttpFacts {
            url: t.url().to_string(),
            vhost: t.vhost.clone(),
            error: Some(error),
            ..Default::default()
        }
    }
}

/// Requests the page of one virtual host, following redirects as the spec says.
pub async fn fetch(spec: &FetchSpec, target: &Target) -> HttpFacts {
    let start = Instant::now();
    let mut facts = HttpFacts {
        vhost: target.vhost.clone(),
        ..Default::default()
    };
    let mut url = target.url();
    facts.url = url.to_string();
    let mut headers = spec.headers.clone();
    if let Some(a) = &spec.auth {
        match a.header() {
            Ok(h) => headers.push(("Authorization".into(), h)),
            Err(e) => {
                facts.unusable = Some(e);
                return facts;
            }
        }
    }
    if let Some((_, content_type)) = &spec.body {
        headers.push(("Content-Type".into(), content_type.clone()));
    }
    let proxy = spec.proxy.as_ref().filter(|p| p.serves(&url.host));
    let (first, first_port) = match proxy {
        Some(p) => (p.host.as_str(), p.port),
        None => (target.address.as_deref().unwrap_or(&url.host), url.port),
    };
    // every hop connects to addresses resolved once (and checked, for follow)
    let mut addrs = match net::resolve(first, first_port, spec.family).await {
        Ok(a) => a,
        Err(e) => {
            facts.error = Some(e.to_string());
            facts.total = start.elapsed();
            return facts;
        }
    };
    let jar_file = spec
        .cookie_jar
        .as_ref()
        .filter(|p| !p.as_os_str().is_empty());
    let read = match jar_file.cloned() {
        // file I/O off the async workers
        Some(p) => Some(
            tokio::task::spawn_blocking(move || read_cookie_jar(&p))
                .await
                .unwrap_or_else(|e| Err(format!("--cookie-jar: {e}"))),
        ),
        None => None,
    };
    let mut jar = match read {
        Some(Ok(j)) => Some(j),
        Some(Err(e)) => {
            facts.unusable = Some(e);
            return facts;
        }
        None => spec.cookie_jar.as_ref().map(|_| Vec::new()),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut connect_name = first.to_string();
    let networks = spec
        .redirect_networks
        .clone()
        .or_else(super::default_redirect_networks);
    let mut origin: Option<IpAddr> = None;
    // HTTP/2 offers ALPN: its own copy of the settings; other versions use the spec's
    let with_alpn;
    let tls = match spec.version {
        HttpVersion::Http2 => {
            with_alpn = spec.tls.clone().with_alpn(super::http2::ALPN);
            &with_alpn
        }
        _ => &spec.tls,
    };
    loop {
        facts.url = url.to_string();
        let connected = match net::connect_addrs(&addrs, &connect_name).await {
            Ok(c) => c,
            Err(e) => {
                facts.error = Some(e.to_string());
                break;
            }
        };
        let here = connected.addr.ip();
        let origin_ip = *origin.get_or_insert(here);
        facts.connect = connected.time;
        let mut stream = connected.stream;
        if spec.haproxy {
            use tokio::io::AsyncWriteExt;
            let sent = match stream.local_addr() {
                Ok(local) => stream
                    .write_all(proxy_v1_header(local, connected.addr).as_bytes())
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = sent {
                facts.error = Some(format!("cannot send the PROXY protocol header: {e}"));
                break;
            }
        }
        let tunnel = proxy.filter(|p| url.tls || p.tunnel);
        if let Some(p) = tunnel {
            if let Err(e) = open_tunnel(&mut stream, p, &url.host, url.port).await {
                facts.error = Some(e);
                break;
            }
        }
        let mut conn = if url.tls {
            let hs = tls.handshake(stream, &url.host).await;
            facts.tls = Some(hs.elapsed);
            facts.cert = Some(hs.cert_facts());
            match hs.stream {
                Ok(s) => Conn::Tls(Box::new(s)),
                Err(e) => {
                    facts.tls_error = Some(e);
                    break;
                }
            }
        } else {
            Conn::Plain(stream)
        };
        if spec.cert_only && url.tls {
            break;
        }
        let default_port = if url.tls { 443 } else { 80 };
        let host_port = match spec.virtual_port {
            Some(p) if facts.redirects.is_empty() => p,
            _ => url.port,
        };
        let req = Request {
            method: spec.method.clone(),
            host: if host_port == default_port {
                url.host.clone()
            } else {
                format!("{}:{host_port}", url.host)
            },
            // a request to a proxy (not through a tunnel) names the whole URL
            target: if proxy.is_some() && tunnel.is_none() && url.target.starts_with('/') {
                url.to_string()
            } else {
                url.target.clone()
            },
            headers: {
                let mut h = headers.clone();
                if let Some(a) = proxy
                    .and_then(|p| p.auth.as_ref())
                    .filter(|_| tunnel.is_none())
                {
                    h.push(("Proxy-Authorization".into(), a.clone()));
                }
                if let Some(c) = jar.as_ref().and_then(|j| cookie_header(j, &url, now)) {
                    h.push(("Cookie".into(), c));
                }
                h
            },
            body: spec.body.as_ref().map(|b| b.0.clone()),
            http10: spec.version == HttpVersion::Http10,
        };
        let (read, keep) = if spec.no_body {
            (0, 0)
        } else {
            (super::MAX_BODY, MATCH_BODY)
        };
        let http2 = match &conn {
            Conn::Tls(s) => super::http2::negotiated(s.get_ref().1.alpn_protocol()),
            _ => false,
        };
        let exchanged = if http2 {
            super::http2::exchange(&mut conn, &req, "https", read, keep).await
        } else {
            super::exchange_bounded(&mut conn, &req, read, keep).await
        };
        let (mut resp, times) = match exchanged {
            Ok(r) => r,
            Err(e) => {
                facts.error = Some(format!("{e} ({url})"));
                break;
            }
        };
        facts.times = times;
        if let Some(j) = jar.as_mut() {
            for (n, v) in &resp.headers {
                if n.eq_ignore_ascii_case("set-cookie") {
                    set_cookie(j, &url, v, now);
                }
            }
        }
        if spec.decompress {
            let whole = resp.body.len() as u64 == resp.body_len;
            let encoding = resp.header("content-encoding").map(str::to_string);
            if let Some(done) = encoding.and_then(|e| decompress(&e, &resp.body, whole, MATCH_BODY))
            {
                match done {
                    Ok(body) => resp.body = body,
                    Err(e) => {
                        facts.error = Some(format!("{e} ({url})"));
                        break;
                    }
                }
            }
        }
        let location = resp.header("location").map(str::to_string);
        let status = resp.status;
        let is_redirect = (300..400).contains(&status) && status != 304;
        facts.response = Some(resp);
        if spec.redirects == Redirects::Report || !is_redirect {
            break;
        }
        let Some(loc) = location else {
            facts.redirect_error =
                Some((RedirectStop::Refused, "redirect without a Location".into()));
            break;
        };
        let mut next = match super::resolve_location(&url, &loc) {
            Ok(u) => u,
            Err(e) => {
                facts.redirect_error = Some((RedirectStop::Refused, e));
                break;
            }
        };
        if spec.redirects == Redirects::StickyPort {
            next.port = url.port;
        }
        if facts.redirects.len() as u32 >= spec.max_redirs {
            facts.redirect_error = Some((
                RedirectStop::TooMany,
                format!(
                    "maximum redirection depth {} exceeded - {next}",
                    spec.max_redirs
                ),
            ));
            break;
        }
        addrs = match spec.redirects {
            // through a proxy every hop goes to the proxy, which resolves the name
            _ if proxy.is_some() => addrs,
            // stay on the address the check started from, whatever the name
            Redirects::Sticky | Redirects::StickyPort => {
                vec![SocketAddr::new(origin_ip, next.port)]
            }
            // the same name stays on the address it was reached at
            _ if next.host.eq_ignore_ascii_case(&url.host) => {
                vec![SocketAddr::new(here, next.port)]
            }
            _ => {
                let found = match net::resolve(&next.host, next.port, spec.family).await {
                    Ok(a) => a,
                    Err(e) => {
                        facts.url = next.to_string();
                        facts.error = Some(e.to_string());
                        break;
                    }
                };
                let refused = found.iter().find_map(|a| {
                    super::redirect_allowed(networks.as_ref(), Some(origin_ip), a.ip()).err()
                });
                if let Some(why) = refused {
                    facts.redirect_error = Some((
                        RedirectStop::Refused,
                        format!("redirect to {next} refused: {why}"),
                    ));
                    break;
                }
                found
            }
        };
        connect_name = next.host.clone();
        facts.redirects.push(format!("{status} -> {next}"));
        url = next;
    }
    facts.total = start.elapsed();
    if let (Some(path), Some(j)) = (jar_file, &jar) {
        let (p, text) = (path.clone(), cookie_jar_text(j));
        let written = tokio::task::spawn_blocking(move || write_cookie_jar(&p, &text))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        if let Err(e) = written {
            facts.unusable = Some(format!("--cookie-jar {}: {e}", path.display()));
        }
    }
    facts
}

/// One virtual host within `limit`, with its index.
async fn fetch_bounded(
    spec: &FetchSpec,
    limit: Duration,
    i: usize,
    t: &Target,
) -> (usize, HttpFacts) {
    let f = match tokio::time::timeout(limit, fetch(spec, t)).await {
        Ok(f) => f,
        Err(_) => HttpFacts::failed(
            t,
            format!(
                "no complete answer within {:.1} seconds",
                limit.as_secs_f64()
            ),
        ),
    };
    (i, f)
}

/// Every virtual host, `concurrency` at a time, each within `limit`, in the order given.
pub async fn fetch_all(
    spec: &FetchSpec,
    targets: &[Target],
    concurrency: usize,
    limit: Duration,
) -> Vec<HttpFacts> {
    let mut out: Vec<HttpFacts> = vec![HttpFacts::default(); targets.len()];
    let mut next = targets.iter().enumerate();
    let mut running = FuturesUnordered::new();
    for (i, t) in next.by_ref().take(concurrency.max(1)) {
        running.push(fetch_bounded(spec, limit, i, t));
    }
    while let Some((i, f)) = running.next().await {
        out[i] = f;
        if let Some((j, t)) = next.next() {
            running.push(fetch_bounded(spec, limit, j, t));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn proxy_protocol_header() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert_eq!(
            proxy_v1_header(a("127.0.0.1:40000"), a("127.0.0.2:80")),
            "PROXY TCP4 127.0.0.1 127.0.0.2 40000 80\r\n"
        );
        assert_eq!(
            proxy_v1_header(a("[::1]:40000"), a("[2001:db8::1]:443")),
            "PROXY TCP6 ::1 2001:db8::1 40000 443\r\n"
        );
        assert_eq!(
            proxy_v1_header(a("[::ffff:10.0.0.1]:1"), a("10.0.0.2:2")),
            "PROXY TCP4 10.0.0.1 10.0.0.2 1 2\r\n"
        );
    }

    #[test]
    fn decompression_is_bounded() {
        use std::io::Write;
        let text = b"hello hello hello".repeat(1000);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&text).unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(
            decompress("gzip", &gz, true, 1 << 20).unwrap().unwrap(),
            text
        );
        assert_eq!(decompress("gzip", &gz, true, 5).unwrap().unwrap(), b"hello");
        // a body kept only in part decodes as far as it goes
        let part = decompress("gzip", &gz[..gz.len() / 2], false, 1 << 20)
            .unwrap()
            .unwrap();
        assert!(text.starts_with(&part));
        assert!(decompress("gzip", &gz[..gz.len() / 2], true, 1 << 20)
            .unwrap()
            .is_err());
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(b"zlib").unwrap();
        assert_eq!(
            decompress("deflate", &z.finish().unwrap(), true, 100)
                .unwrap()
                .unwrap(),
            b"zlib"
        );
        assert!(decompress("br", b"x", true, 100).is_none());
    }

    #[test]
    fn cookies() {
        let url = |u: &str| super::super::Url {
            tls: false,
            host: "www.test".into(),
            port: 80,
            target: u.into(),
        };
        let mut jar = Vec::new();
        set_cookie(&mut jar, &url("/a/b"), "sid=1; Path=/; HttpOnly", 0);
        set_cookie(&mut jar, &url("/a/b"), "here=2", 0);
        set_cookie(&mut jar, &url("/"), "wide=3; Domain=.test; Max-Age=10", 100);
        set_cookie(&mut jar, &url("/"), "evil=4; Domain=other.test", 0);
        set_cookie(&mut jar, &url("/"), "safe=5; Secure", 0);
        assert_eq!(jar.len(), 4);
        assert_eq!(
            cookie_header(&jar, &url("/a/c"), 105).as_deref(),
            Some("sid=1; here=2; wide=3")
        );
        assert_eq!(
            cookie_header(&jar, &url("/x"), 200).as_deref(),
            Some("sid=1")
        );
        // replaced, then removed
        set_cookie(&mut jar, &url("/"), "sid=9; Path=/", 0);
        assert_eq!(
            cookie_header(&jar, &url("/"), 200).as_deref(),
            Some("sid=9")
        );
        set_cookie(&mut jar, &url("/"), "sid=0; Path=/; Max-Age=0", 0);
        assert_eq!(cookie_header(&jar, &url("/"), 200), None);
        // the jar file round-trips
        let text = cookie_jar_text(&jar);
        assert!(
            text.contains(".test\tTRUE\t/\tFALSE\t110\twide\t3\n"),
            "{text}"
        );
        assert_eq!(parse_cookie_jar(&text), jar);
        assert!(parse_cookie_jar("garbage\n#comment\n").is_empty());
    }

    #[test]
    fn odd_targets_and_paths_are_kept_safe() {
        let url = |u: &str| site(u.into());
        // a target without a `/` (or starting with a character of several bytes)
        for target in ["", "é", "*"] {
            let mut jar = Vec::new();
            set_cookie(&mut jar, &url(target), "a=1", 0);
            assert_eq!(jar[0].path, "/");
        }
        // a path with a tab would split the jar line: the default path is kept
        let mut jar = Vec::new();
        set_cookie(&mut jar, &url("/d/p"), "a=1; Path=/\t0", 0);
        assert_eq!(jar[0].path, "/d");
        assert_eq!(parse_cookie_jar(&cookie_jar_text(&jar)), jar);
    }

    #[test]
    fn proxies() {
        let p = Proxy::parse("http://proxy.test:3128/").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("proxy.test", 3128));
        assert_eq!(Proxy::parse("[::1]").unwrap().host, "::1");
        assert!(Proxy::parse("socks5://p:1").is_err());
        assert!(Proxy::parse("http://u:p@p:1").is_err());
        let p = Proxy {
            bypass: vec!["intra.test".into(), ".local".into()],
            ..p
        };
        assert!(!p.serves("intra.test") && !p.serves("www.intra.test"));
        assert!(p.serves("xintra.test") && p.serves("www.test"));
        assert!(!p.serves("a.local"));
        let all = Proxy {
            bypass: vec!["*".into()],
            ..p
        };
        assert!(!all.serves("anything"));
    }

    #[test]
    fn cookie_jar_files_are_only_ours() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let fifo = crate::plugin::regular_file::test_fifo("jar");
        let dir = fifo.parent().unwrap().to_path_buf();
        // a FIFO is refused at once, never waited on
        let started = std::time::Instant::now();
        assert_eq!(
            read_cookie_jar(&fifo).unwrap_err(),
            format!("--cookie-jar {}: not a regular file", fifo.display())
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        // a missing jar is empty; the written jar is a new file of mode 0600
        let jar = dir.join("jar.txt");
        assert_eq!(read_cookie_jar(&jar).unwrap(), Vec::new());
        let text = "h.test\tFALSE\t/\tFALSE\t0\tsid\t1\n";
        write_cookie_jar(&jar, text).unwrap();
        let meta = std::fs::metadata(&jar).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(read_cookie_jar(&jar).unwrap().len(), 1);
        // rewriting replaces the file (a new inode), never writes through the old one
        let before = meta.ino();
        write_cookie_jar(&jar, text).unwrap();
        assert_ne!(std::fs::metadata(&jar).unwrap().ino(), before);
        // a symbolic link is refused both ways and what it points at is untouched
        let target = dir.join("target");
        std::fs::write(&target, "keep").unwrap();
        let link = dir.join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(
            read_cookie_jar(&link).unwrap_err(),
            format!("--cookie-jar {}: a symbolic link", link.display())
        );
        assert_eq!(
            write_cookie_jar(&link, text).unwrap_err().to_string(),
            "a symbolic link"
        );
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        // a hard link to another file is refused
        let hard = dir.join("hard");
        std::fs::hard_link(&target, &hard).unwrap();
        assert_eq!(
            read_cookie_jar(&hard).unwrap_err(),
            format!("--cookie-jar {}: more than one hard link", hard.display())
        );
        // a jar another user owns (made by a member, mode 0666) is neither read nor replaced
        let theirs = dir.join("theirs");
        std::fs::write(&theirs, "x").unwrap();
        std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o666)).unwrap();
        std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
        let e = read_cookie_jar(&theirs).unwrap_err();
        assert!(
            e.ends_with("owned by uid 65534, not by the user running the check"),
            "{e}"
        );
        assert!(write_cookie_jar(&theirs, text).is_err());
        assert_eq!(std::fs::read_to_string(&theirs).unwrap(), "x");
        // no temporary file is left behind
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(left.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn site(target: String) -> super::super::Url {
        super::super::Url {
            tls: false,
            host: "www.test".into(),
            port: 80,
            target,
        }
    }

    /// A field of a jar line: printable text without tab or newline (`\PC` is anything
    /// but a control character), sometimes with the jar's own words.
    fn jar_field() -> impl Strategy<Value = String> {
        prop_oneof![
            "\\PC{0,12}",
            Just("TRUE".to_string()),
            Just("FALSE".to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            Just("#HttpOnly_".to_string()),
        ]
    }

    /// A cookie as a jar holds it. Its domain is a host name's: lower case (the jar is
    /// read lower-cased) and starting with neither `.` (the subdomain mark) nor `#` (a
    /// comment line in this format).
    fn jar_cookie() -> impl Strategy<Value = Cookie> {
        (
            "\\PC{0,16}",
            any::<bool>(),
            "\\PC{0,16}",
            any::<bool>(),
            any::<i64>(),
            "\\PC{0,16}",
            "\\PC{0,16}",
        )
            .prop_map(
                |(domain, subdomains, path, secure, expires, name, value)| Cookie {
                    domain: domain
                        .to_ascii_lowercase()
                        .trim_start_matches(['.', '#'])
                        .to_string(),
                    subdomains,
                    path,
                    secure,
                    expires,
                    name,
                    value,
                },
            )
    }

    /// A Set-Cookie header: a name=value and attributes, with tabs, controls and
    /// non-ASCII among them.
    fn set_cookie_header() -> impl Strategy<Value = String> {
        let text = "[ -~\t\u{e9}\u{1}]{0,10}";
        let attr = (
            prop_oneof![
                Just("Domain"),
                Just("Path"),
                Just("Max-Age"),
                Just("Secure"),
                Just("HttpOnly"),
                Just("Expires"),
                Just(""),
            ],
            prop_oneof![
                text.prop_map(|s| s),
                "/[ -~\t]{0,10}",
                Just("test".to_string()),
                Just(".www.test".to_string()),
                Just(".".to_string()),
                any::<i64>().prop_map(|n| n.to_string()),
            ],
        )
            .prop_map(|(k, v)| format!("{k}={v}"));
        prop_oneof![
            any::<String>(),
            (text, text, proptest::collection::vec(attr, 0..4)).prop_map(|(n, v, attrs)| {
                std::iter::once(format!("{n}={v}"))
                    .chain(attrs)
                    .collect::<Vec<_>>()
                    .join("; ")
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any text, or lines of seven tab-separated fields (more than MAX_COOKIES of
        /// them): no panic, and never more than MAX_COOKIES cookies.
        #[test]
        fn cookie_jars_are_bounded(
            text in any::<String>(),
            lines in proptest::collection::vec(proptest::collection::vec(jar_field(), 5..9), 0..100),
        ) {
            prop_assert!(parse_cookie_jar(&text).len() <= MAX_COOKIES);
            let text: String = lines.iter().map(|l| l.join("\t") + "\n").collect();
            let jar = parse_cookie_jar(&text);
            prop_assert!(jar.len() <= MAX_COOKIES);
            prop_assert!(jar.len() <= lines.iter().filter(|l| l.len() == 7).count());
        }

        /// A jar written and read back is the same jar.
        #[test]
        fn cookie_jars_round_trip(jar in proptest::collection::vec(jar_cookie(), 0..=MAX_COOKIES)) {
            prop_assert_eq!(parse_cookie_jar(&cookie_jar_text(&jar)), jar);
        }

        /// Any Set-Cookie headers from any target: no panic, the jar stays within
        /// MAX_COOKIES, a Cookie header can be made from it for any target, and what
        /// the headers set survives the jar file.
        #[test]
        fn set_cookie_is_bounded_and_saved_whole(
            headers in proptest::collection::vec(set_cookie_header(), 0..80),
            target in prop_oneof![any::<String>(), "/[!-~]{0,12}"],
            now in any::<i64>(),
        ) {
            let url = site(target);
            let mut jar = Vec::new();
            for (i, h) in headers.iter().enumerate() {
                set_cookie(&mut jar, &url, h, now);
                // a new name each time, to fill the jar
                set_cookie(&mut jar, &url, &format!("n{i}=v"), now);
                prop_assert!(jar.len() <= MAX_COOKIES);
                let _ = cookie_header(&jar, &url, now);
            }
            if url.target.starts_with('/') && !url.target.contains(char::is_control) {
                prop_assert_eq!(parse_cookie_jar(&cookie_jar_text(&jar)), jar);
            }
        }
    }
}
