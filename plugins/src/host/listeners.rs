//! Listening sockets: the tables of /proc/net/{tcp,udp}[6] and the processes holding
//! each socket (from /proc/PID/fd).

use super::processes::UserNames;
use serde::Deserialize;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

/// A transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    /// `tcp` or `udp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// A process holding a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub pid: u32,
    pub program: String,
}

/// One listening socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub proto: Proto,
    pub address: IpAddr,
    pub port: u16,
    pub user: String,
    pub inode: u64,
    /// Processes holding it (none when they could not be seen).
    pub owners: Vec<Owner>,
}

/// Reads an address of /proc/net/{tcp,udp}[6]: `0100007F:0016` (IPv4) or 32 hex digits
/// (IPv6), each 32-bit word in host (little-endian) order.
pub fn parse_addr(text: &str) -> Option<(IpAddr, u16)> {
    let (a, p) = text.split_once(':')?;
    let port = u16::from_str_radix(p, 16).ok()?;
    // by `get`: a word cut inside a multibyte character is no word, never a panic
    let words: Vec<u32> = (0..a.len() / 8)
        .map(|i| {
            a.get(i * 8..i * 8 + 8)
                .and_then(|w| u32::from_str_radix(w, 16).ok())
        })
        .collect::<Option<_>>()?;
    let ip = match (a.len(), words.as_slice()) {
        (8, [w]) => IpAddr::V4(Ipv4Addr::from(w.swap_bytes())),
        (32, ws) => {
            let mut b = [0u8; 16];
            for (i, w) in ws.iter().enumerate() {
                b[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
            }
            let v6 = Ipv6Addr::from(b);
            // a v4-mapped listener is the v4 address
            v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)
        }
        _ => return None,
    };
    Some((ip, port))
}

/// Parses one /proc/net table into listening sockets (TCP state 0A; UDP sockets with no
/// remote end) as (address, port, uid, inode).
pub fn parse_net_table(text: &str, proto: Proto) -> Vec<(IpAddr, u16, u32, u64)> {
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 {
            continue;
        }
        let listening = match proto {
            Proto::Tcp => f[3] == "0A",
            Proto::Udp => f[2].split_once(':').is_some_and(|(_, p)| p == "0000"),
        };
        if !listening {
            continue;
        }
        if let (Some((ip, port)), Ok(uid), Ok(inode)) =
            (parse_addr(f[1]), f[7].parse(), f[9].parse())
        {
            out.push((ip, port, uid, inode));
        }
    }
    out
}

/// Socket inode → processes holding it, from /proc/PID/fd.
fn socket_owners(proc_root: &Path) -> HashMap<u64, Vec<Owner>> {
    let mut out: HashMap<u64, Vec<Owner>> = HashMap::new();
    let Ok(dir) = std::fs::read_dir(proc_root) else {
        return out;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(e.path().join("fd")) else {
            continue;
        };
        let mut program = None;
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let t = target.to_string_lossy();
            let Some(inode) = t
                .strip_prefix("socket:[")
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            let program = program
                .get_or_insert_with(|| {
                    std::fs::read_to_string(e.path().join("comm"))
                        .map(|c| c.trim().to_string())
                        .unwrap_or_else(|_| "?".into())
                })
                .clone();
            let owners = out.entry(inode).or_default();
            if !owners.iter().any(|o| o.pid == pid) {
                owners.push(Owner { pid, program });
            }
        }
    }
    out
}

/// Every listening socket with its owners.
pub fn listeners(proc_root: &Path) -> Result<Vec<Listener>, String> {
    let mut raw = Vec::new();
    for (file, proto) in [
        ("tcp", Proto::Tcp),
        ("tcp6", Proto::Tcp),
        ("udp", Proto::Udp),
        ("udp6", Proto::Udp),
    ] {
        let path = proc_root.join("net").join(file);
        match std::fs::read_to_string(&path) {
            Ok(t) => raw.extend(parse_net_table(&t, proto).into_iter().map(|r| (proto, r))),
            // no IPv6 in this kernel or namespace
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && file.ends_with('6') => {}
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        }
    }
    let mut owners = socket_owners(proc_root);
    let mut names = UserNames::default();
    let mut out: Vec<Listener> = raw
        .into_iter()
        .map(|(proto, (address, port, uid, inode))| Listener {
            proto,
            address,
            port,
            user: names.name(uid).to_string(),
            inode,
            owners: owners.remove(&inode).unwrap_or_default(),
        })
        .collect();
    out.sort_by(|a, b| {
        (a.proto.as_str(), a.port, a.address).cmp(&(b.proto.as_str(), b.port, b.address))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_of_any_text() {
        assert_eq!(
            parse_addr("0100007F:0016"),
            Some((IpAddr::V4(Ipv4Addr::LOCALHOST), 22))
        );
        for bad in [
            "0100007é:0016",
            "é:0016",
            "0100007F:xyz",
            "01:0016",
            "ééééééééé:1",
        ] {
            assert_eq!(parse_addr(bad), None, "{bad}");
        }
    }
}
