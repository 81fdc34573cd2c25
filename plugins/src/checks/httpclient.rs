//! A small HTTP/1.1 client for the checks: one request per connection over a plain or
//! TLS stream the caller opened, with the time to the first byte and of the transfer,
//! Content-Length, chunked and read-to-close bodies, and a cap on what is read.

use super::netio::Conn;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
}

impl Request {
    /// The request bytes as sent.
    pub fn to_bytes(&self) -> Vec<u8> {
        let has = |name: &str| {
            self.headers
                .iter()
                .any(|(h, _)| h.eq_ignore_ascii_case(name))
        };
        let mut out = format!("{} {} HTTP/1.1\r\n", self.method, self.target);
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
    pub body: Vec<u8>,
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
            super::netio::printable(status_line.as_bytes(), 100)
        ));
    }
    let status = code
        .parse::<u16>()
        .map_err(|_| format!("invalid HTTP status '{code}'"))?;
    let mut headers = Vec::new();
    for l in lines {
        if l.is_empty() {
            continue;
        }
        match l.split_once(':') {
            Some((h, v)) => headers.push((h.trim().to_string(), v.trim().to_string())),
            None => return Err(format!("invalid HTTP header line '{l}'")),
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

/// Decodes a complete chunked body; `None` while more data is needed.
pub fn dechunk(data: &[u8]) -> Result<Option<Vec<u8>>, HttpError> {
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        let Some(eol) = find(&data[pos..], b"\r\n") else {
            return Ok(None);
        };
        let size_text = String::from_utf8_lossy(&data[pos..pos + eol]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("invalid chunk size '{size_text}'"))?;
        pos += eol + 2;
        if size == 0 {
            // trailers end with an empty line
            return Ok(find(&data[pos..], b"\r\n").map(|_| out));
        }
        if data.len() < pos + size + 2 {
            return Ok(None);
        }
        out.extend_from_slice(&data[pos..pos + size]);
        pos += size + 2;
    }
}

/// Sends `req` and reads the response, at most `limit` body bytes.
pub async fn exchange(
    conn: &mut Conn,
    req: &Request,
    limit: usize,
) -> Result<(Response, ExchangeTimes), HttpError> {
    let start = Instant::now();
    conn.write_all(&req.to_bytes())
        .await
        .map_err(|e| format!("cannot send the request: {e}"))?;
    let mut times = ExchangeTimes::default();
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut chunk = vec![0u8; 16 * 1024];
    let head_end = loop {
        if let Some(p) = find(&buf, b"\r\n\r\n") {
            break p;
        }
        if buf.len() > 64 * 1024 {
            return Err("response headers larger than 64 KiB".into());
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
                    super::netio::printable(&buf, 100)
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
    let mut body = buf.split_off(head_end + 4);
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
            Some(v) => Some(
                v.trim()
                    .parse::<usize>()
                    .map_err(|_| format!("invalid Content-Length '{v}'"))?,
            ),
            None => None,
        }
    };
    if !no_body {
        loop {
            if chunked {
                if let Some(decoded) = dechunk(&body)? {
                    body = decoded;
                    break;
                }
            } else if let Some(l) = length {
                if body.len() >= l {
                    body.truncate(l);
                    break;
                }
            }
            if body.len() >= limit {
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
                        body.len()
                    ));
                }
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else {
        body.clear();
    }
    times.transfer = start.elapsed().saturating_sub(times.first_byte);
    resp.body = body;
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
pub fn resolve_location(base: &Url, location: &str) -> Result<Url, HttpError> {
    let loc = location.trim();
    let (tls, rest) = if let Some(r) = loc.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = loc.strip_prefix("http://") {
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
        return Err(format!("cannot follow the redirect to '{loc}'"));
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let default = if tls { 443 } else { 80 };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && !p.contains(']') => (
            h.to_string(),
            p.parse::<u16>()
                .map_err(|_| format!("invalid port in redirect '{loc}'"))?,
        ),
        _ => (authority.to_string(), default),
    };
    if host.is_empty() {
        return Err(format!("no host in redirect '{loc}'"));
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
        if self.port == default {
            write!(f, "{scheme}://{}{}", self.host, self.target)
        } else {
            write!(f, "{scheme}://{}:{}{}", self.host, self.port, self.target)
        }
    }
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
    }
}
