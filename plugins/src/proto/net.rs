//! Connections the network checks share: name resolution with an address family,
//! timed connects, a stream that is plain TCP, TLS or a Unix socket, and reading until
//! a reply is complete.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};
use tokio_rustls::client::TlsStream;

pub use crate::plugin::target::Family;

/// Why a connection could not be made.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectError {
    /// The name did not resolve (or not to an address of the asked family).
    Resolve(String),
    /// The server answered with a reset: nothing listens on the port.
    Refused(SocketAddr),
    /// Another connect error (unreachable, timed out).
    Other(SocketAddr, String),
    /// Nothing listens on this Unix socket.
    SocketRefused(String),
    /// Another error connecting to this Unix socket (no such file, permission denied).
    Socket(String, String),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::Resolve(e) => f.write_str(e),
            ConnectError::Refused(a) => write!(
                f,
                "connect to address {} and port {}: Connection refused",
                a.ip(),
                a.port()
            ),
            ConnectError::Other(a, e) => {
                write!(
                    f,
                    "connect to address {} and port {}: {e}",
                    a.ip(),
                    a.port()
                )
            }
            ConnectError::SocketRefused(p) => {
                write!(f, "connect to file socket {p}: Connection refused")
            }
            ConnectError::Socket(p, e) => write!(f, "connect to file socket {p}: {e}"),
        }
    }
}

/// The system's words for an I/O error, without Rust's ` (os error N)`.
pub fn os_error_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text,
    }
}

/// Connects to the Unix stream socket at `path` (only connects: the socket is never
/// created or removed); returns the stream and how long the connect took.
pub async fn connect_unix(path: &str) -> Result<(UnixStream, Duration), ConnectError> {
    let start = Instant::now();
    match UnixStream::connect(path).await {
        Ok(stream) => Ok((stream, start.elapsed())),
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
            Err(ConnectError::SocketRefused(path.to_string()))
        }
        Err(e) => Err(ConnectError::Socket(path.to_string(), os_error_text(&e))),
    }
}

/// Resolves `host` (a name or an address, IPv6 possibly in brackets).
pub async fn resolve(
    host: &str,
    port: u16,
    family: Family,
) -> Result<Vec<SocketAddr>, ConnectError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((bare, port))
            .await
            .map_err(|e| ConnectError::Resolve(format!("cannot resolve {host}: {e}")))?
            .collect(),
    };
    let addrs: Vec<SocketAddr> = addrs.into_iter().filter(|a| family.admits(a)).collect();
    if addrs.is_empty() {
        return Err(ConnectError::Resolve(format!(
            "{host} has no {}address",
            match family {
                Family::Any => "",
                Family::V4 => "IPv4 ",
                Family::V6 => "IPv6 ",
            }
        )));
    }
    Ok(addrs)
}

/// An open connection and how long the connect took.
#[derive(Debug)]
pub struct Connected {
    pub stream: TcpStream,
    pub addr: SocketAddr,
    pub time: Duration,
}

/// Connects to the first address of `host` that accepts.
pub async fn connect(host: &str, port: u16, family: Family) -> Result<Connected, ConnectError> {
    let addrs = resolve(host, port, family).await?;
    connect_addrs(&addrs, host).await
}

/// Connects to the first of these (already resolved) addresses that accepts; `host`
/// names them in errors.
pub async fn connect_addrs(addrs: &[SocketAddr], host: &str) -> Result<Connected, ConnectError> {
    let mut last = None;
    for &addr in addrs {
        let start = Instant::now();
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok(Connected {
                    stream,
                    addr,
                    time: start.elapsed(),
                });
            }
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                last = Some(ConnectError::Refused(addr))
            }
            Err(e) => last = Some(ConnectError::Other(addr, e.to_string())),
        }
    }
    Err(last.unwrap_or_else(|| ConnectError::Resolve(format!("{host} has no address"))))
}

/// A connection that is plain TCP, TLS over TCP, a Unix stream socket, or TLS over one.
pub enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Unix(UnixStream),
    UnixTls(Box<TlsStream<UnixStream>>),
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Conn::Unix(s) => Pin::new(s).poll_read(cx, buf),
            Conn::UnixTls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Conn::Unix(s) => Pin::new(s).poll_write(cx, buf),
            Conn::UnixTls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Conn::Unix(s) => Pin::new(s).poll_flush(cx),
            Conn::UnixTls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Conn::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Conn::UnixTls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// How a read loop ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadEnd {
    /// `done` said the data is complete.
    Complete,
    /// The peer closed the connection.
    Closed,
    /// The byte limit was reached.
    Limit,
    /// Nothing complete arrived before the deadline.
    TimedOut,
    /// A read failed (reset).
    Error(String),
}

/// Appends to `buf` until `done(buf)` holds, the peer closes, `limit` bytes are held,
/// or `wait` passes.
pub async fn read_until<R, F>(
    r: &mut R,
    buf: &mut Vec<u8>,
    limit: usize,
    wait: Duration,
    mut done: F,
) -> ReadEnd
where
    R: AsyncRead + Unpin,
    F: FnMut(&[u8]) -> bool,
{
    let deadline = tokio::time::Instant::now() + wait;
    let mut chunk = [0u8; 8192];
    loop {
        if done(buf) {
            return ReadEnd::Complete;
        }
        if buf.len() >= limit {
            return ReadEnd::Limit;
        }
        let room = chunk.len().min(limit - buf.len());
        match tokio::time::timeout_at(deadline, r.read(&mut chunk[..room])).await {
            Err(_) => return ReadEnd::TimedOut,
            Ok(Ok(0)) => {
                return if done(buf) {
                    ReadEnd::Complete
                } else {
                    ReadEnd::Closed
                }
            }
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Ok(Err(e)) => return ReadEnd::Error(e.to_string()),
        }
    }
}

/// Text of received bytes for output: lossy UTF-8, control characters shown as spaces,
/// cut at `max` characters.
pub fn printable(bytes: &[u8], max: usize) -> String {
    let mapped: String = String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let text = mapped.trim();
    let mut out: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        out.push_str("...");
    }
    out
}

/// Finds `needle` in `hay` (an empty needle is always found).
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// Seconds with microsecond precision, for perfdata.
pub fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unix_socket_errors_in_the_systems_words() {
        let e = connect_unix("/nonexistent/socket").await.unwrap_err();
        assert_eq!(
            e.to_string(),
            "connect to file socket /nonexistent/socket: No such file or directory"
        );
        assert_eq!(
            ConnectError::SocketRefused("/run/x".into()).to_string(),
            "connect to file socket /run/x: Connection refused"
        );
    }

    #[tokio::test]
    async fn unix_socket_refused_when_nothing_listens() {
        let dir = std::env::temp_dir().join(format!("net-unix-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s");
        let _ = std::fs::remove_file(&path);
        // a socket file whose listener is gone
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        let p = path.to_str().unwrap();
        assert_eq!(
            connect_unix(p).await.unwrap_err(),
            ConnectError::SocketRefused(p.to_string())
        );
        let listener = tokio::net::UnixListener::bind(dir.join("t")).unwrap();
        let (stream, _) = connect_unix(dir.join("t").to_str().unwrap()).await.unwrap();
        drop((stream, listener));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
