//! The network target every network check takes: a host validated as a name or an
//! address, a port from 1 to 65535, and the address family of `-4`/`-6`.

use super::text::shown;
use std::net::{IpAddr, SocketAddr};

/// The longest host name accepted (a DNS name is at most 253 characters).
pub const MAX_HOST_LEN: usize = 253;

/// Which address family a check may use (`-4`, `-6`, or either).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Family {
    /// Whatever the name resolves to.
    #[default]
    Any,
    /// IPv4 only (`-4`).
    V4,
    /// IPv6 only (`-6`).
    V6,
}

impl Family {
    /// From the `-4` and `-6` flags (clap keeps them exclusive).
    pub fn from_flags(v4: bool, v6: bool) -> Family {
        match (v4, v6) {
            (true, false) => Family::V4,
            (false, true) => Family::V6,
            _ => Family::Any,
        }
    }

    /// True when `ip` may be used.
    pub fn accepts(self, ip: &IpAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => ip.is_ipv4(),
            Family::V6 => ip.is_ipv6(),
        }
    }

    /// True when `addr` may be used.
    pub fn admits(self, addr: &SocketAddr) -> bool {
        self.accepts(&addr.ip())
    }
}

/// A host given on the command line: an IPv4 or IPv6 address (brackets allowed), or a
/// DNS name of ASCII letters, digits, `-`, `_` and dots, labels of at most 63
/// characters, at most [`MAX_HOST_LEN`] in all. Anything else is refused with the value
/// shown escaped and cut, never echoed raw.
pub fn parse_host(text: &str) -> Result<String, String> {
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    if bare.parse::<IpAddr>().is_ok() {
        return Ok(bare.to_string());
    }
    // an IPv6 address with a zone (fe80::1%eth0)
    if let Some((addr, zone)) = bare.split_once('%') {
        if addr.parse::<std::net::Ipv6Addr>().is_ok()
            && !zone.is_empty()
            && zone.len() <= 15
            && zone
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
        {
            return Ok(bare.to_string());
        }
    }
    let bad = |why: &str| Err(format!("invalid host '{}': {why}", shown(text)));
    if text.is_empty() {
        return bad("empty");
    }
    if text.len() > MAX_HOST_LEN {
        return bad(&format!("longer than {MAX_HOST_LEN} characters"));
    }
    let name = text.strip_suffix('.').unwrap_or(text);
    for label in name.split('.') {
        if label.is_empty() {
            return bad("empty label");
        }
        if label.len() > 63 {
            return bad("a label is longer than 63 characters");
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return bad(&if c.is_ascii() {
                format!("'{}' is not allowed in a host name", shown(&c.to_string()))
            } else {
                "non-ASCII; give the name in its ASCII (punycode) form".to_string()
            });
        }
    }
    Ok(text.to_string())
}

/// The longest Unix socket path accepted: a `sun_path` holds 108 bytes with its NUL.
pub const MAX_SOCKET_PATH: usize = 107;

/// True when a host given to a check is the path of a Unix socket (it starts with `/`,
/// as monitoring-plugins tells them apart).
pub fn is_socket_path(host: &str) -> bool {
    host.starts_with('/')
}

/// The path of a Unix stream socket: absolute, at most [`MAX_SOCKET_PATH`] bytes, no NUL
/// or other control character. The check only connects to it.
pub fn parse_socket_path(text: &str) -> Result<String, String> {
    let bad = |why: &str| Err(format!("invalid socket path '{}': {why}", shown(text)));
    if !is_socket_path(text) {
        return bad("not an absolute path");
    }
    if text.len() > MAX_SOCKET_PATH {
        return bad(&format!("longer than {MAX_SOCKET_PATH} bytes"));
    }
    if text.chars().any(char::is_control) {
        return bad("control characters are not allowed");
    }
    Ok(text.to_string())
}

/// `-H` of the checks that also connect to Unix sockets (check_tcp and the checks built
/// on it): an absolute path is a socket ([`parse_socket_path`]), anything else a host
/// ([`parse_host`]).
pub fn parse_host_or_socket(text: &str) -> Result<String, String> {
    if is_socket_path(text) {
        parse_socket_path(text)
    } else {
        parse_host(text)
    }
}

/// A TCP or UDP port: 1 to 65535.
pub fn parse_port(text: &str) -> Result<u16, String> {
    match text.trim().parse::<u32>() {
        Ok(p) if (1..=65535).contains(&p) => Ok(p as u16),
        Ok(p) => Err(format!("port {p} is out of range (1-65535)")),
        Err(_) => Err(format!("'{}' is not a port number (1-65535)", shown(text))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        for good in [
            "localhost",
            "mail.hcoop.net",
            "mail.hcoop.net.",
            "_dmarc.example.org",
            "127.0.0.1",
            "::1",
            "[::1]",
            "fe80::1%lo",
            "xn--bcher-kva.example",
        ] {
            assert!(parse_host(good).is_ok(), "{good}");
        }
        assert_eq!(parse_host("[::1]").unwrap(), "::1");
        for bad in [
            "",
            "a\nb",
            "a b",
            "bücher.example",
            "a..b",
            "-",
            "a/b",
            "a:80",
        ] {
            let e = parse_host(bad);
            if bad == "-" {
                // a lone hyphen is a (strange) label; resolution will tell
                continue;
            }
            let e = e.unwrap_err();
            assert!(!e.contains('\n'), "{e}");
        }
        let e = parse_host(&"a".repeat(100_000)).unwrap_err();
        assert!(e.len() < 400, "{}", e.len());
        assert!(parse_host(&format!("{}.x", "a".repeat(64))).is_err());
    }

    #[test]
    fn socket_paths() {
        assert_eq!(
            parse_host_or_socket("/run/dovecot/auth"),
            Ok("/run/dovecot/auth".to_string())
        );
        assert_eq!(
            parse_host_or_socket("localhost"),
            Ok("localhost".to_string())
        );
        let longest = format!("/{}", "s".repeat(MAX_SOCKET_PATH - 1));
        assert_eq!(parse_host_or_socket(&longest), Ok(longest.clone()));
        let e = parse_host_or_socket(&format!("{longest}x")).unwrap_err();
        assert!(e.contains("longer than 107 bytes"), "{e}");
        for bad in ["/a\0b", "/a\nb", "/a\u{1b}b"] {
            let e = parse_host_or_socket(bad).unwrap_err();
            assert!(e.contains("control characters"), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
        assert!(parse_socket_path("run/x").is_err());
        // the hosts of other checks stay names or addresses
        assert!(parse_host("/run/x").is_err());
        assert!(is_socket_path("/x") && !is_socket_path("x/"));
    }

    #[test]
    fn ports() {
        assert_eq!(parse_port("1"), Ok(1));
        assert_eq!(parse_port("65535"), Ok(65535));
        for bad in ["0", "65536", "-1", "x", "", "８０", "1e3"] {
            assert!(parse_port(bad).is_err(), "{bad}");
        }
    }
}
