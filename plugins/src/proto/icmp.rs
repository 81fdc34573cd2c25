//! ICMP echo (ping) over IPv4 and IPv6, without thresholds: sends echo requests to a set
//! of targets, matches the replies, times them on the monotonic clock, and notes the
//! ICMP errors (unreachable, time exceeded) that answer them.
//!
//! Sockets: an unprivileged ICMP datagram socket (`socket(AF_INET, SOCK_DGRAM,
//! IPPROTO_ICMP)`, and ICMPv6 likewise) where the kernel allows it (for IPv4,
//! `net.ipv4.ping_group_range` must hold one of the caller's groups); otherwise a raw
//! socket, which needs CAP_NET_RAW. With a datagram socket the kernel chooses the echo
//! identifier and hands the socket only its own replies; ICMP errors come through the
//! socket's error queue (`IP_RECVERR`). With a raw socket every ICMP message arrives:
//! replies are told apart by the identifier, and errors by the echo request they quote.
//! Either way a reply counts only when its sequence number is one we sent and its payload
//! holds this run's random cookie, so another program's pings are never taken for ours.
//!
//! Everything is bounded: at most [`MAX_PROBES`] requests per run, payloads of at most
//! [`MAX_PAYLOAD`] bytes, and the run ends at the caller's deadline whatever arrives.
//! The loop blocks in poll(2): callers run it as local (blocking) work.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

/// At most this many echo requests in one run (targets × packets).
pub const MAX_PROBES: usize = 4096;
/// The largest payload (ICMP data after the 8-byte header) a run may send.
pub const MAX_PAYLOAD: usize = 65_507;
/// The smallest payload: the cookie and the sequence number.
pub const MIN_PAYLOAD: usize = 16;

const ICMP_ECHO_REPLY: u8 = 0;
const ICMP_ECHO: u8 = 8;
const ICMP6_ECHO: u8 = 128;
const ICMP6_ECHO_REPLY: u8 = 129;

/// How the socket was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketKind {
    /// An unprivileged ICMP datagram socket.
    Datagram,
    /// A raw socket (CAP_NET_RAW).
    Raw,
}

/// An ICMP error that answered one of our requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpError {
    /// True for ICMPv6.
    pub v6: bool,
    /// The ICMP type and code.
    pub kind: u8,
    pub code: u8,
    /// Who sent the error (a router, or our own host for a neighbour that never
    /// answered).
    pub from: Option<IpAddr>,
}

impl IcmpError {
    /// Source quench only slows the sender down; every other error means the target
    /// cannot be reached this way.
    pub fn is_fatal(&self) -> bool {
        self.v6 || self.kind != 4
    }

    /// The error in words, as monitoring-plugins' check_icmp names the IPv4 ones (the
    /// IPv6 ones by their IPv4 equivalent).
    pub fn text(&self) -> &'static str {
        if self.v6 {
            return match (self.kind, self.code) {
                (1, 0) => "Net unreachable",
                (1, 1) => "Prohibited by filter (firewall)",
                (1, 3) => "Host unreachable",
                (1, 4) => "Port unreachable (firewall?)",
                (1, 5 | 6) => "Network denied (firewall?)",
                (1, _) => "unreachable",
                (2, _) => "Fragmentation needed",
                (3, 0) => "Time to live exceeded in transit",
                (3, 1) => "Fragment reassembly time exceeded",
                (4, _) => "Bad IP header (required option absent)",
                _ => "",
            };
        }
        match (self.kind, self.code) {
            (3, 0) => "Net unreachable",
            (3, 1) => "Host unreachable",
            (3, 2) => "Protocol unreachable (firewall?)",
            (3, 3) => "Port unreachable (firewall?)",
            (3, 4) => "Fragmentation needed",
            (3, 5) => "Source route failed",
            (3, 6) => "Unknown network",
            (3, 7) => "Unknown host",
            (3, 8) => "Source host isolated",
            (3, 9) => "Network denied (firewall?)",
            (3, 10) => "Host denied (firewall?)",
            (3, 11) => "Bad TOS for network (firewall?)",
            (3, 12) => "Bad TOS for host (firewall?)",
            (3, 13) => "Prohibited by filter (firewall)",
            (3, 14) => "Host precedence violation",
            (3, 15) => "Precedence cutoff",
            (3, _) => "Invalid code",
            (11, 0) => "Time to live exceeded in transit",
            (11, 1) => "Fragment reassembly time exceeded",
            (11, _) => "Invalid code",
            (4, _) => "Transmitting too fast",
            (5, _) => "Redirect (change route)",
            (12, _) => "Bad IP header (required option absent)",
            _ => "",
        }
    }

    /// Which of the kinds ping(8) reports the error is, as monitoring-plugins' check_ping
    /// words it: `Network Unreachable`, `Host Unreachable`, ...
    pub fn ping_text(&self) -> &'static str {
        match (self.v6, self.kind, self.code) {
            (false, 3, 0 | 6 | 11) | (true, 1, 0) => "Network Unreachable",
            (false, 3, 1 | 7 | 8 | 12) | (true, 1, 3) => "Host Unreachable",
            (false, 3, 3) | (true, 1, 4) => "Bogus ICMP: Port Unreachable",
            (false, 3, 2) => "Bogus ICMP: Protocol Unreachable",
            (false, 3, 9) => "Network Prohibited",
            (false, 3, 10) => "Host Prohibited",
            (false, 3, 13) | (true, 1, 1 | 5 | 6) => "Packet Filtered",
            (false, 11, _) | (true, 3, _) => "Time to live exceeded",
            _ => "Destination Unreachable",
        }
    }
}

/// What one target answered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Echoes {
    /// Requests sent.
    pub sent: u32,
    /// Round-trip times of the replies, in the order they arrived (a duplicate reply
    /// counts once).
    pub rtts: Vec<Duration>,
    /// Duplicate replies seen (and not counted).
    pub duplicates: u32,
    /// The last ICMP error that answered a request to this target.
    pub error: Option<IcmpError>,
    /// Why a request could not be sent, if one could not (no route, ...).
    pub send_error: Option<String>,
    /// The address pinged and the kind of socket used (set by [`ping`]).
    pub address: Option<IpAddr>,
    pub via: Option<SocketKind>,
}

impl Echoes {
    /// One line for `-v`: the address, the counts and the socket.
    pub fn describe(&self, name: &str) -> String {
        let address = self.address.map(|a| a.to_string()).unwrap_or_default();
        let via = match self.via {
            Some(SocketKind::Datagram) => "an unprivileged ICMP socket",
            Some(SocketKind::Raw) => "a raw socket",
            None => "no socket",
        };
        let mut line = format!(
            "{name} ({address}): {} sent, {} received",
            self.sent,
            self.received()
        );
        if self.duplicates > 0 {
            line.push_str(&format!(", {} duplicates", self.duplicates));
        }
        if let Some(e) = self.error {
            let from = e.from.map(|a| format!(" from {a}")).unwrap_or_default();
            line.push_str(&format!(", ICMP error {}/{}{from}", e.kind, e.code));
        }
        if let Some(e) = &self.send_error {
            line.push_str(&format!(", sending failed: {e}"));
        }
        line.push_str(&format!(", over {via}"));
        line
    }

    /// Replies received.
    pub fn received(&self) -> u32 {
        self.rtts.len() as u32
    }

    /// Percentage of requests without a reply (integer, rounded down as the peers do);
    /// 100 when nothing was sent.
    pub fn loss_percent(&self) -> u32 {
        if self.sent == 0 {
            return 100;
        }
        (self.sent.saturating_sub(self.received()) * 100) / self.sent
    }
}

/// How to ping.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The addresses, in order; results come back in the same order.
    pub targets: Vec<IpAddr>,
    /// Requests per target.
    pub count: u16,
    /// The longest wait between two rounds of requests (one to each target): the next
    /// round goes as soon as every request so far is answered, or after this.
    pub interval: Duration,
    /// The longest wait between two targets within a round.
    pub target_interval: Duration,
    /// Payload bytes after the ICMP header (at least [`MIN_PAYLOAD`]).
    pub payload: usize,
    /// TTL (hop limit) of the requests, when not the system's.
    pub ttl: Option<u8>,
    /// Source address to send from.
    pub source: Option<IpAddr>,
    /// After the last request, wait for replies until this long after the run started
    /// (or until every request is answered or errored).
    pub completion: Duration,
    /// As ping(8): once some replies have arrived, wait after the last request at most
    /// this many times the longest round trip seen (at least a millisecond) instead of
    /// until `completion`.
    pub linger_rtts: Option<u32>,
    /// End the run at the first echo reply from any target (check_host).
    pub stop_at_first_reply: bool,
    /// The run never lasts beyond this instant.
    pub deadline: Instant,
}

/// The result of a run: one [`Echoes`] per target, and how the sockets were opened.
#[derive(Debug, Clone)]
pub struct Run {
    pub echoes: Vec<Echoes>,
    pub kind: SocketKind,
}

fn last_error() -> io::Error {
    io::Error::last_os_error()
}

/// An open echo socket of one family.
struct EchoSocket {
    fd: OwnedFd,
    v6: bool,
    kind: SocketKind,
    /// The identifier of our requests (raw sockets; the kernel's choice on datagram
    /// sockets, which filter by it themselves).
    ident: u16,
}

fn setsockopt_int(fd: RawFd, level: i32, name: i32, value: i32) -> io::Result<()> {
    // SAFETY: passes a pointer to a local int and its size.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const i32).cast(),
            size_of::<i32>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(last_error())
    }
}

fn sockaddr_of(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: an all-zero sockaddr_storage is valid; the family's struct is written into
    // its start, which is large and aligned enough for either.
    unsafe {
        let mut ss: libc::sockaddr_storage = zeroed();
        match addr {
            SocketAddr::V4(a) => {
                let sin =
                    &mut *(&mut ss as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in>();
                sin.sin_family = libc::AF_INET as libc::sa_family_t;
                sin.sin_port = a.port().to_be();
                sin.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
                (ss, size_of::<libc::sockaddr_in>() as libc::socklen_t)
            }
            SocketAddr::V6(a) => {
                let sin6 =
                    &mut *(&mut ss as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in6>();
                sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sin6.sin6_port = a.port().to_be();
                sin6.sin6_addr.s6_addr = a.ip().octets();
                sin6.sin6_scope_id = a.scope_id();
                (ss, size_of::<libc::sockaddr_in6>() as libc::socklen_t)
            }
        }
    }
}

fn ip_of(ss: &libc::sockaddr_storage) -> Option<IpAddr> {
    // SAFETY: the family field says which struct the storage holds.
    unsafe {
        match ss.ss_family as i32 {
            libc::AF_INET => {
                let sin = &*(ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>();
                Some(IpAddr::V4(Ipv4Addr::from(
                    sin.sin_addr.s_addr.to_ne_bytes(),
                )))
            }
            libc::AF_INET6 => {
                let sin6 = &*(ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>();
                Some(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)))
            }
            _ => None,
        }
    }
}

impl EchoSocket {
    /// A datagram socket where allowed, else a raw one; an error naming both refusals.
    fn open(v6: bool) -> Result<EchoSocket, String> {
        let (domain, proto) = if v6 {
            (libc::AF_INET6, libc::IPPROTO_ICMPV6)
        } else {
            (libc::AF_INET, libc::IPPROTO_ICMP)
        };
        let flags = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
        let open = |ty: i32| -> io::Result<OwnedFd> {
            // SAFETY: socket(2) with constant arguments; the fd is owned at once.
            let fd = unsafe { libc::socket(domain, ty | flags, proto) };
            if fd < 0 {
                Err(last_error())
            } else {
                // SAFETY: fd is a fresh descriptor nobody else owns.
                Ok(unsafe { OwnedFd::from_raw_fd(fd) })
            }
        };
        let (fd, kind) = match open(libc::SOCK_DGRAM) {
            Ok(fd) => (fd, SocketKind::Datagram),
            Err(dgram) => match open(libc::SOCK_RAW) {
                Ok(fd) => (fd, SocketKind::Raw),
                Err(raw) => {
                    return Err(format!(
                        "cannot open an ICMP{} socket: unprivileged ICMP is not allowed for this user ({dgram}{}) and a raw socket needs CAP_NET_RAW ({raw})",
                        if v6 { "v6" } else { "" },
                        if v6 { "" } else { "; see net.ipv4.ping_group_range" },
                    ))
                }
            },
        };
        let raw = fd.as_raw_fd();
        if kind == SocketKind::Datagram {
            let _ = if v6 {
                setsockopt_int(raw, libc::IPPROTO_IPV6, libc::IPV6_RECVERR, 1)
            } else {
                setsockopt_int(raw, libc::IPPROTO_IP, libc::IP_RECVERR, 1)
            };
        }
        // SAFETY: getpid has no preconditions.
        let ident = (unsafe { libc::getpid() } as u32 & 0xffff) as u16;
        Ok(EchoSocket {
            fd,
            v6,
            kind,
            ident,
        })
    }

    fn set_ttl(&self, ttl: u8) -> io::Result<()> {
        let fd = self.fd.as_raw_fd();
        if self.v6 {
            setsockopt_int(
                fd,
                libc::IPPROTO_IPV6,
                libc::IPV6_UNICAST_HOPS,
                i32::from(ttl),
            )
        } else {
            setsockopt_int(fd, libc::IPPROTO_IP, libc::IP_TTL, i32::from(ttl))
        }
    }

    fn bind(&self, ip: IpAddr) -> io::Result<()> {
        let (ss, len) = sockaddr_of(SocketAddr::new(ip, 0));
        // SAFETY: binds to a sockaddr of the given length.
        let r = unsafe {
            libc::bind(
                self.fd.as_raw_fd(),
                (&ss as *const libc::sockaddr_storage).cast(),
                len,
            )
        };
        if r == 0 {
            Ok(())
        } else {
            Err(last_error())
        }
    }

    fn send(&self, to: IpAddr, packet: &[u8]) -> io::Result<()> {
        let (ss, len) = sockaddr_of(SocketAddr::new(to, 0));
        // SAFETY: sends an owned buffer to a sockaddr of the given length.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                packet.as_ptr().cast(),
                packet.len(),
                0,
                (&ss as *const libc::sockaddr_storage).cast(),
                len,
            )
        };
        if n < 0 {
            Err(last_error())
        } else {
            Ok(())
        }
    }
}

/// The one's-complement checksum of RFC 1071.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [b] = chunks.remainder() {
        sum += u32::from(*b) << 8;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An echo request: header, then the cookie, the sequence number again, and padding.
pub fn echo_request(v6: bool, ident: u16, seq: u16, cookie: u64, payload: usize) -> Vec<u8> {
    let mut p = vec![0u8; 8 + payload.max(MIN_PAYLOAD)];
    p[0] = if v6 { ICMP6_ECHO } else { ICMP_ECHO };
    p[4..6].copy_from_slice(&ident.to_be_bytes());
    p[6..8].copy_from_slice(&seq.to_be_bytes());
    p[8..16].copy_from_slice(&cookie.to_be_bytes());
    for (i, b) in p[16..].iter_mut().enumerate() {
        *b = i as u8;
    }
    if !v6 {
        let sum = checksum(&p);
        p[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    p
}

/// What a received ICMP message means for us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// A reply to our request `seq`.
    Reply(u16),
    /// An error answering our request `seq`.
    Error(u16, IcmpError),
    /// Not ours (another program's traffic, our own request looped back).
    Other,
}

/// The sequence number of our echo request quoted at the start of `quoted` (an ICMP
/// header and our payload), if it is ours.
fn quoted_seq(v6: bool, quoted: &[u8], raw_ident: Option<u16>, cookie: u64) -> Option<u16> {
    let want = if v6 { ICMP6_ECHO } else { ICMP_ECHO };
    if quoted.len() < 8 || quoted[0] != want {
        return None;
    }
    if let Some(id) = raw_ident {
        if u16::from_be_bytes([quoted[4], quoted[5]]) != id {
            return None;
        }
    }
    let seq = u16::from_be_bytes([quoted[6], quoted[7]]);
    // routers quote at least 8 bytes of the ICMP message; when they quote more, the
    // cookie must be ours
    if quoted.len() >= 16 && quoted[8..16] != cookie.to_be_bytes() {
        return None;
    }
    Some(seq)
}

/// Reads one ICMP message as it arrives on a socket: `msg` starts at the ICMP header
/// (the IPv4 header already taken off). `raw_ident` is our identifier on a raw socket
/// (a datagram socket's kernel has already filtered by its own).
pub fn classify(v6: bool, msg: &[u8], raw_ident: Option<u16>, cookie: u64, from: IpAddr) -> Heard {
    if msg.len() < 8 {
        return Heard::Other;
    }
    let (kind, code) = (msg[0], msg[1]);
    let reply = if v6 {
        ICMP6_ECHO_REPLY
    } else {
        ICMP_ECHO_REPLY
    };
    if kind == reply {
        if let Some(id) = raw_ident {
            if u16::from_be_bytes([msg[4], msg[5]]) != id {
                return Heard::Other;
            }
        }
        if msg.len() < 16 || msg[8..16] != cookie.to_be_bytes() {
            return Heard::Other;
        }
        return Heard::Reply(u16::from_be_bytes([msg[6], msg[7]]));
    }
    let is_error = if v6 {
        (1..=4).contains(&kind)
    } else {
        matches!(kind, 3 | 4 | 11 | 12)
    };
    if !is_error {
        return Heard::Other;
    }
    // the quoted packet: the original IP header, then our ICMP header and payload
    let inner = &msg[8..];
    let quoted = if v6 {
        inner.get(40..)
    } else {
        inner
            .first()
            .and_then(|b| inner.get(usize::from(b & 0x0f) * 4..))
    };
    let Some(seq) = quoted.and_then(|q| quoted_seq(v6, q, raw_ident, cookie)) else {
        return Heard::Other;
    };
    Heard::Error(
        seq,
        IcmpError {
            v6,
            kind,
            code,
            from: Some(from),
        },
    )
}

/// A message read from a socket.
enum Received {
    Message(Heard),
    Nothing,
}

/// The receive buffer: the largest IP packet.
const BUF: usize = 65_536;

fn recv_one(s: &EchoSocket, buf: &mut [u8], cookie: u64) -> io::Result<Received> {
    // SAFETY: an all-zero sockaddr_storage is valid.
    let mut from: libc::sockaddr_storage = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: reads into an owned buffer and an owned sockaddr of the given length.
    let n = unsafe {
        libc::recvfrom(
            s.fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            0,
            (&mut from as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    };
    if n < 0 {
        let e = last_error();
        return match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(Received::Nothing),
            // a pending socket error (an ICMP error, reported again through the error
            // queue): nothing to read here
            _ if e
                .raw_os_error()
                .is_some_and(|c| c != libc::EBADF && c != libc::EFAULT) =>
            {
                Ok(Received::Nothing)
            }
            _ => Err(e),
        };
    }
    let data = &buf[..n as usize];
    let Some(from) = ip_of(&from) else {
        return Ok(Received::Nothing);
    };
    let msg = if !s.v6 && s.kind == SocketKind::Raw {
        // raw IPv4 sockets deliver the IP header too
        match data.first() {
            Some(b) => data.get(usize::from(b & 0x0f) * 4..).unwrap_or(&[]),
            None => &[],
        }
    } else {
        data
    };
    let raw_ident = (s.kind == SocketKind::Raw).then_some(s.ident);
    Ok(Received::Message(classify(
        s.v6, msg, raw_ident, cookie, from,
    )))
}

/// Reads one entry of a datagram socket's error queue: the ICMP error and the request
/// it answers.
fn recv_error(s: &EchoSocket, buf: &mut [u8], cookie: u64) -> io::Result<Received> {
    let mut control = [0u64; 64];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: an all-zero msghdr is valid; its pointers are set to owned buffers below.
    let mut hdr: libc::msghdr = unsafe { zeroed() };
    hdr.msg_iov = &mut iov;
    hdr.msg_iovlen = 1;
    hdr.msg_control = control.as_mut_ptr().cast();
    hdr.msg_controllen = size_of::<[u64; 64]>();
    // SAFETY: recvmsg into the buffers the header points to.
    let n = unsafe { libc::recvmsg(s.fd.as_raw_fd(), &mut hdr, libc::MSG_ERRQUEUE) };
    if n < 0 {
        let e = last_error();
        return match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(Received::Nothing),
            _ => Err(e),
        };
    }
    let data = &buf[..n as usize];
    let (level, ty) = if s.v6 {
        (libc::IPPROTO_IPV6, libc::IPV6_RECVERR)
    } else {
        (libc::IPPROTO_IP, libc::IP_RECVERR)
    };
    // SAFETY: walks the control messages the kernel wrote, within msg_controllen.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&hdr);
        while !c.is_null() {
            if (*c).cmsg_level == level && (*c).cmsg_type == ty {
                let ee = libc::CMSG_DATA(c).cast::<libc::sock_extended_err>();
                let ee = std::ptr::read_unaligned(ee);
                let icmp_origin = if s.v6 {
                    libc::SO_EE_ORIGIN_ICMP6
                } else {
                    libc::SO_EE_ORIGIN_ICMP
                };
                if ee.ee_origin != icmp_origin {
                    return Ok(Received::Nothing);
                }
                let off = libc::CMSG_DATA(c)
                    .add(size_of::<libc::sock_extended_err>())
                    .cast::<libc::sockaddr_storage>();
                let end = (c as *const u8).add((*c).cmsg_len as usize);
                let from = if (off as *const u8).add(size_of::<libc::sa_family_t>()) <= end {
                    let mut ss: libc::sockaddr_storage = zeroed();
                    let avail =
                        (end as usize - off as usize).min(size_of::<libc::sockaddr_storage>());
                    std::ptr::copy_nonoverlapping(
                        off.cast::<u8>(),
                        (&mut ss as *mut libc::sockaddr_storage).cast::<u8>(),
                        avail,
                    );
                    ip_of(&ss)
                } else {
                    None
                };
                let Some(seq) = quoted_seq(s.v6, data, None, cookie) else {
                    return Ok(Received::Nothing);
                };
                return Ok(Received::Message(Heard::Error(
                    seq,
                    IcmpError {
                        v6: s.v6,
                        kind: ee.ee_type,
                        code: ee.ee_code,
                        from,
                    },
                )));
            }
            c = libc::CMSG_NXTHDR(&hdr, c);
        }
    }
    Ok(Received::Nothing)
}

/// The state of a run.
struct Session<'a> {
    plan: &'a Plan,
    sockets: Vec<EchoSocket>,
    cookie: u64,
    echoes: Vec<Echoes>,
    /// When each request was sent (index = sequence number).
    sent_at: Vec<Option<Instant>>,
    answered: Vec<bool>,
    /// Targets that answered with an error: no more requests to them.
    lost_cause: Vec<bool>,
    /// The requests of the current round that left (sequence numbers).
    round: Vec<usize>,
    last_send: Option<Instant>,
    buf: Vec<u8>,
    /// A reply came (from any target).
    alive: bool,
}

impl Session<'_> {
    fn socket_for(&self, ip: &IpAddr) -> &EchoSocket {
        let v6 = ip.is_ipv6();
        self.sockets
            .iter()
            .find(|s| s.v6 == v6)
            .expect("a socket of each family in use")
    }

    fn send(&mut self, target: usize, round: u16) {
        let seq = target * usize::from(self.plan.count) + usize::from(round);
        let ip = self.plan.targets[target];
        let s = self.socket_for(&ip);
        let packet = echo_request(s.v6, s.ident, seq as u16, self.cookie, self.plan.payload);
        let at = Instant::now();
        let sent = s.send(ip, &packet);
        self.last_send = Some(at);
        match sent {
            Ok(()) => {
                self.sent_at[seq] = Some(at);
                self.echoes[target].sent += 1;
                self.round.push(seq);
            }
            Err(e) => {
                // as ping counts it: a request that could not leave is a lost one
                self.echoes[target].sent += 1;
                self.echoes[target].send_error = Some(e.to_string());
            }
        }
    }

    fn heard(&mut self, heard: Heard, at: Instant) {
        let total = self.sent_at.len();
        match heard {
            Heard::Reply(seq) if usize::from(seq) < total => {
                let seq = usize::from(seq);
                let Some(sent) = self.sent_at[seq] else {
                    return;
                };
                let target = seq / usize::from(self.plan.count);
                if self.answered[seq] {
                    self.echoes[target].duplicates += 1;
                    return;
                }
                self.answered[seq] = true;
                self.echoes[target]
                    .rtts
                    .push(at.saturating_duration_since(sent));
                self.alive = true;
            }
            Heard::Error(seq, err) if usize::from(seq) < total => {
                let seq = usize::from(seq);
                if self.sent_at[seq].is_none() || self.answered[seq] {
                    return;
                }
                let target = seq / usize::from(self.plan.count);
                self.answered[seq] = true;
                self.echoes[target].error = Some(err);
                if err.is_fatal() {
                    self.lost_cause[target] = true;
                }
            }
            _ => {}
        }
    }

    /// True when the plan stops at the first reply and one came.
    fn done(&self) -> bool {
        self.plan.stop_at_first_reply && self.alive
    }

    /// True when every request of the current round is answered (or errored).
    fn round_done(&self) -> bool {
        self.round.iter().all(|&seq| self.answered[seq])
    }

    /// Receives until `until`, or sooner when `early` and the current round (the whole
    /// run with `all`) is answered: a request lost earlier does not hold up the next.
    fn wait(&mut self, until: Instant, early: bool) -> Result<(), String> {
        let until = until.min(self.plan.deadline);
        loop {
            if self.done() || early && self.round_done() {
                return Ok(());
            }
            let now = Instant::now();
            if now >= until {
                return Ok(());
            }
            let left = until - now;
            let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
            let mut fds: Vec<libc::pollfd> = self
                .sockets
                .iter()
                .map(|s| libc::pollfd {
                    fd: s.fd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                })
                .collect();
            // SAFETY: polls an owned array of pollfd of the given length.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
            if n < 0 {
                let e = last_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(format!("poll: {e}"));
            }
            for (i, fd) in fds.iter().enumerate() {
                if fd.revents & libc::POLLERR != 0 {
                    // bounded: the error queue holds at most what we sent
                    for _ in 0..self.sent_at.len() + 1 {
                        let mut buf = std::mem::take(&mut self.buf);
                        let r = recv_error(&self.sockets[i], &mut buf, self.cookie);
                        self.buf = buf;
                        match r.map_err(|e| format!("reading ICMP errors: {e}"))? {
                            Received::Message(h) => self.heard(h, Instant::now()),
                            Received::Nothing => break,
                        }
                    }
                }
                if fd.revents & libc::POLLIN != 0 {
                    // drain what is queued, at most a bounded number of messages per wake
                    for _ in 0..256 {
                        let mut buf = std::mem::take(&mut self.buf);
                        let r = recv_one(&self.sockets[i], &mut buf, self.cookie);
                        let at = Instant::now();
                        self.buf = buf;
                        match r.map_err(|e| format!("reading ICMP replies: {e}"))? {
                            Received::Message(h) => self.heard(h, at),
                            Received::Nothing => break,
                        }
                    }
                }
            }
        }
    }
}

/// Pings the plan's targets: `count` rounds of one request to each target, the next
/// round as soon as everything sent is answered (or after `interval`), then waits for
/// the last replies until `completion` after the start. Targets that answered with an
/// ICMP error get no more requests. Errors only for what stops the whole run (no socket,
/// a bad source address, a plan out of bounds).
pub fn ping(plan: &Plan) -> Result<Run, String> {
    let start = Instant::now();
    let total = plan.targets.len() * usize::from(plan.count);
    if plan.targets.is_empty() || total == 0 {
        return Err("nothing to ping".into());
    }
    if total > MAX_PROBES {
        return Err(format!(
            "{total} echo requests (targets × packets) is more than {MAX_PROBES}"
        ));
    }
    if plan.payload > MAX_PAYLOAD {
        return Err(format!(
            "a payload of {} bytes is more than {MAX_PAYLOAD}",
            plan.payload
        ));
    }
    let mut sockets = Vec::new();
    for v6 in [false, true] {
        if plan.targets.iter().any(|t| t.is_ipv6() == v6) {
            let s = EchoSocket::open(v6)?;
            if let Some(ttl) = plan.ttl {
                s.set_ttl(ttl)
                    .map_err(|e| format!("cannot set the TTL to {ttl}: {e}"))?;
            }
            if let Some(src) = plan.source.filter(|src| src.is_ipv6() == v6) {
                s.bind(src)
                    .map_err(|e| format!("cannot bind to IP address {src}: {e}"))?;
            }
            sockets.push(s);
        }
    }
    let kind = if sockets.iter().any(|s| s.kind == SocketKind::Raw) {
        SocketKind::Raw
    } else {
        SocketKind::Datagram
    };
    let cookie = (u64::from(crate::proto::random::rand_u32()) << 32)
        | u64::from(crate::proto::random::rand_u32());
    let echoes = plan
        .targets
        .iter()
        .map(|t| Echoes {
            address: Some(*t),
            via: sockets.iter().find(|s| s.v6 == t.is_ipv6()).map(|s| s.kind),
            ..Echoes::default()
        })
        .collect();
    let mut s = Session {
        plan,
        sockets,
        cookie,
        echoes,
        sent_at: vec![None; total],
        answered: vec![false; total],
        lost_cause: vec![false; plan.targets.len()],
        round: Vec::new(),
        last_send: None,
        buf: vec![0u8; BUF],
        alive: false,
    };
    for round in 0..plan.count {
        s.round.clear();
        for t in 0..plan.targets.len() {
            if s.done() || s.lost_cause.iter().all(|&l| l) {
                return Ok(Run {
                    echoes: s.echoes,
                    kind,
                });
            }
            if s.lost_cause[t] {
                continue;
            }
            if Instant::now() >= plan.deadline {
                return Ok(Run {
                    echoes: s.echoes,
                    kind,
                });
            }
            s.send(t, round);
            s.wait(Instant::now() + plan.target_interval, true)?;
        }
        let targets = plan.targets.len() as u32;
        s.wait(Instant::now() + plan.interval * targets, true)?;
    }
    if !s.done() && !s.lost_cause.iter().all(|&l| l) {
        let longest = s.echoes.iter().flat_map(|e| e.rtts.iter()).max().copied();
        let until = match (plan.linger_rtts, longest, s.last_send) {
            (Some(k), Some(rtt), Some(last)) => last + (rtt * k).max(Duration::from_millis(1)),
            _ => start + plan.completion,
        };
        // the last wait is for every request still unanswered
        s.round = (0..total).filter(|&q| s.sent_at[q].is_some()).collect();
        s.wait(until, true)?;
    }
    Ok(Run {
        echoes: s.echoes,
        kind,
    })
}

/// The time a run may take within a check's time limit `timeout`: a little is kept for
/// printing the result before the hard limit.
pub fn time_within(timeout: Duration) -> Duration {
    timeout.saturating_sub(Duration::from_millis(100).min(timeout / 10))
}

/// The first address of family `v6` of network interface `name` (for a source given as
/// an interface).
pub fn interface_address(name: &str, v6: bool) -> Result<IpAddr, String> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills a list we free below.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return Err(format!("cannot list network interfaces: {}", last_error()));
    }
    let mut found = None;
    let mut cur = list;
    // SAFETY: walks the list getifaddrs made, reading names and addresses it owns.
    unsafe {
        while !cur.is_null() {
            let ifa = &*cur;
            if !ifa.ifa_addr.is_null()
                && !ifa.ifa_name.is_null()
                && std::ffi::CStr::from_ptr(ifa.ifa_name).to_bytes() == name.as_bytes()
            {
                let family = i32::from((*ifa.ifa_addr).sa_family);
                let len = match family {
                    libc::AF_INET => size_of::<libc::sockaddr_in>(),
                    libc::AF_INET6 => size_of::<libc::sockaddr_in6>(),
                    _ => 0,
                };
                if len > 0 {
                    let mut ss: libc::sockaddr_storage = zeroed();
                    std::ptr::copy_nonoverlapping(
                        ifa.ifa_addr.cast::<u8>(),
                        (&mut ss as *mut libc::sockaddr_storage).cast::<u8>(),
                        len,
                    );
                    if let Some(ip) = ip_of(&ss).filter(|ip| ip.is_ipv6() == v6) {
                        found = Some(ip);
                        break;
                    }
                }
            }
            cur = ifa.ifa_next;
        }
        libc::freeifaddrs(list);
    }
    found.ok_or_else(|| {
        format!(
            "Cannot determine IP address of interface {name}{}",
            if v6 { " (IPv6)" } else { "" }
        )
    })
}

/// Resolves a host given on the command line to the addresses of `family` (None: any),
/// in the resolver's order; an address is taken as it is.
pub fn resolve(host: &str, v6: Option<bool>) -> Result<Vec<IpAddr>, String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<IpAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => {
            use std::net::ToSocketAddrs;
            (bare, 0)
                .to_socket_addrs()
                .map_err(|e| format!("cannot resolve {host}: {e}"))?
                .map(|a| a.ip())
                .collect()
        }
    };
    let addrs: Vec<IpAddr> = addrs
        .into_iter()
        .filter(|a| v6.is_none_or(|v6| a.is_ipv6() == v6))
        .collect();
    if addrs.is_empty() {
        return Err(format!(
            "{host} has no {}address",
            match v6 {
                None => "",
                Some(false) => "IPv4 ",
                Some(true) => "IPv6 ",
            }
        ));
    }
    Ok(addrs)
}

/// The family `-4`/`-6` ask for, as [`resolve`] takes it (None: any).
pub fn family_flag(ipv4: bool, ipv6: bool) -> Option<bool> {
    match (ipv4, ipv6) {
        (true, _) => Some(false),
        (_, true) => Some(true),
        _ => None,
    }
}

/// Refuses a run of more echo requests than [`MAX_PROBES`].
pub fn within_probes(hosts: usize, packets: u16) -> Result<(), String> {
    if hosts * usize::from(packets) > MAX_PROBES {
        return Err(format!("at most {MAX_PROBES} hosts × packets"));
    }
    Ok(())
}

/// Hosts' names and the address pinged for each, in the same order.
pub type Targets = (Vec<String>, Vec<IpAddr>);

/// The hosts' names and their addresses, in the order given: one each (the resolver's
/// first), or with `every` all of them (a name once for each); with `distinct`, an
/// address already taken is left out. The first host that does not resolve ends it,
/// with its name and why.
pub fn host_addresses(
    hosts: &[String],
    v6: Option<bool>,
    distinct: bool,
    every: bool,
) -> Result<Targets, (&str, String)> {
    let mut names = Vec::new();
    let mut targets: Vec<IpAddr> = Vec::new();
    for h in hosts {
        let found = resolve(h, v6).map_err(|e| (h.as_str(), e))?;
        let taken = if every { &found[..] } else { &found[..1] };
        for &ip in taken {
            if !(distinct && targets.contains(&ip)) {
                targets.push(ip);
                names.push(h.clone());
            }
        }
    }
    Ok((names, targets))
}

/// A level as the perfdata field monitoring-plugins' ICMP checks write (`200`, `0.5`).
pub fn level_field(v: f64) -> Option<crate::plugin::Range> {
    crate::plugin::range::format_number(v).parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn one_address_a_host_and_the_probe_bound() {
        let hosts = ["127.0.0.1", "::1", "[127.0.0.1]"].map(String::from);
        let (names, targets) = host_addresses(&hosts, None, true, false).unwrap();
        assert_eq!(names, ["127.0.0.1", "::1"]);
        assert_eq!(
            targets,
            [
                "127.0.0.1".parse::<IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
        let (names, _) = host_addresses(&hosts, None, false, false).unwrap();
        assert_eq!(names.len(), 3);
        let (host, why) = host_addresses(&hosts, Some(false), true, false).unwrap_err();
        assert_eq!((host, why.as_str()), ("::1", "::1 has no IPv4 address"));
        assert_eq!(family_flag(true, false), Some(false));
        assert_eq!(family_flag(false, true), Some(true));
        assert_eq!(family_flag(false, false), None);
        assert!(within_probes(MAX_PROBES, 1).is_ok());
        assert_eq!(
            within_probes(MAX_PROBES, 2).unwrap_err(),
            format!("at most {MAX_PROBES} hosts × packets")
        );
    }

    #[test]
    fn checksum_of_rfc1071_example_and_a_request() {
        // RFC 1071's example bytes sum to 0xddf2; the checksum is its complement
        assert_eq!(
            checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            !0xddf2
        );
        let p = echo_request(false, 7, 3, 42, 56);
        assert_eq!(p.len(), 64);
        assert_eq!(checksum(&p), 0, "a packet with its checksum sums to zero");
        assert_eq!(echo_request(false, 7, 3, 42, 0).len(), 8 + MIN_PAYLOAD);
    }

    fn reply_of(req: &[u8], v6: bool) -> Vec<u8> {
        let mut r = req.to_vec();
        r[0] = if v6 {
            ICMP6_ECHO_REPLY
        } else {
            ICMP_ECHO_REPLY
        };
        r
    }

    #[test]
    fn replies_are_ours_only_with_our_cookie_and_identifier() {
        let from: IpAddr = "192.0.2.1".parse().unwrap();
        let req = echo_request(false, 9, 5, 0xabcdef, 40);
        let rep = reply_of(&req, false);
        assert_eq!(
            classify(false, &rep, Some(9), 0xabcdef, from),
            Heard::Reply(5)
        );
        assert_eq!(classify(false, &rep, None, 0xabcdef, from), Heard::Reply(5));
        assert_eq!(classify(false, &rep, Some(8), 0xabcdef, from), Heard::Other);
        assert_eq!(classify(false, &rep, Some(9), 1, from), Heard::Other);
        // our own request looped back on a raw socket, and short garbage
        assert_eq!(classify(false, &req, Some(9), 0xabcdef, from), Heard::Other);
        assert_eq!(
            classify(false, &rep[..7], Some(9), 0xabcdef, from),
            Heard::Other
        );
        let req6 = echo_request(true, 9, 2, 77, 16);
        assert_eq!(
            classify(true, &reply_of(&req6, true), None, 77, from),
            Heard::Reply(2)
        );
    }

    #[test]
    fn errors_quote_our_request() {
        let from: IpAddr = "198.51.100.1".parse().unwrap();
        let req = echo_request(false, 9, 4, 0x55, 40);
        // destination unreachable, host: header, the original IPv4 header (20 bytes),
        // then the start of our request
        let mut msg = vec![3, 1, 0, 0, 0, 0, 0, 0];
        let mut ip = vec![0u8; 20];
        ip[0] = 0x45;
        msg.extend_from_slice(&ip);
        msg.extend_from_slice(&req[..8]);
        let err = IcmpError {
            v6: false,
            kind: 3,
            code: 1,
            from: Some(from),
        };
        assert_eq!(
            classify(false, &msg, Some(9), 0x55, from),
            Heard::Error(4, err)
        );
        assert_eq!(err.text(), "Host unreachable");
        assert_eq!(err.ping_text(), "Host Unreachable");
        assert!(err.is_fatal());
        // quoting more of it, the cookie must be ours
        msg.extend_from_slice(&req[8..16]);
        assert_eq!(
            classify(false, &msg, Some(9), 0x55, from),
            Heard::Error(4, err)
        );
        assert_eq!(classify(false, &msg, Some(9), 0x56, from), Heard::Other);
        // another program's request
        assert_eq!(classify(false, &msg, Some(10), 0x55, from), Heard::Other);
        // source quench slows down only
        let quench = IcmpError {
            v6: false,
            kind: 4,
            code: 0,
            from: None,
        };
        assert!(!quench.is_fatal());
        // ICMPv6 address unreachable: 8 bytes, the IPv6 header (40), our request
        let req6 = echo_request(true, 1, 0, 3, 16);
        let mut msg6 = vec![1, 3, 0, 0, 0, 0, 0, 0];
        msg6.extend_from_slice(&[0u8; 40]);
        msg6.extend_from_slice(&req6);
        match classify(true, &msg6, None, 3, from) {
            Heard::Error(0, e) => assert_eq!(e.text(), "Host unreachable"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn loss_is_rounded_down_and_total_without_requests() {
        let mut e = Echoes {
            sent: 3,
            ..Echoes::default()
        };
        e.rtts.push(Duration::from_millis(1));
        assert_eq!(e.loss_percent(), 66);
        assert_eq!(Echoes::default().loss_percent(), 100);
    }

    #[test]
    fn plans_out_of_bounds_are_refused_before_any_socket() {
        let plan = Plan {
            targets: vec!["127.0.0.1".parse().unwrap(); 2],
            count: 4000,
            interval: Duration::from_millis(1),
            target_interval: Duration::ZERO,
            payload: 56,
            ttl: None,
            source: None,
            completion: Duration::from_millis(1),
            linger_rtts: None,
            stop_at_first_reply: false,
            deadline: Instant::now(),
        };
        assert!(ping(&plan).unwrap_err().contains("more than 4096"));
        assert_eq!(
            resolve("::1", Some(false)).unwrap_err(),
            "::1 has no IPv4 address"
        );
        assert_eq!(
            interface_address("lo", false).unwrap(),
            "127.0.0.1".parse::<IpAddr>().unwrap()
        );
        assert!(interface_address("nosuchif0", false)
            .unwrap_err()
            .starts_with("Cannot determine IP address of interface nosuchif0"));
        assert_eq!(
            resolve("[::1]", None).unwrap(),
            vec!["::1".parse::<IpAddr>().unwrap()]
        );
    }

    /// An ICMP error of `kind` (a type that answers a request) quoting `req` after an IP
    /// header of `ip_len` bytes (its first byte `first`).
    fn error_quoting(v6: bool, kind: u8, first: u8, ip_len: usize, req: &[u8]) -> Vec<u8> {
        let mut msg = vec![kind, 0, 0, 0, 0, 0, 0, 0];
        let mut ip = vec![0u8; ip_len];
        if let Some(b) = ip.first_mut() {
            *b = if v6 { 0x60 } else { first };
        }
        msg.extend_from_slice(&ip);
        msg.extend_from_slice(req);
        msg
    }

    fn error_kind(v6: bool) -> impl Strategy<Value = u8> {
        if v6 {
            prop_oneof![Just(1u8), Just(2), Just(3), Just(4)].boxed()
        } else {
            prop_oneof![Just(3u8), Just(4), Just(11), Just(12)].boxed()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any bytes: never a panic, and a reply or an error is only ever claimed from
        /// a message of that type carrying what it claims.
        #[test]
        fn classify_never_panics_and_claims_only_what_it_read(
            v6 in any::<bool>(),
            msg in proptest::collection::vec(any::<u8>(), 0..200),
            raw_ident in proptest::option::of(any::<u16>()),
            cookie in any::<u64>(),
        ) {
            let from: IpAddr = "192.0.2.7".parse().unwrap();
            match classify(v6, &msg, raw_ident, cookie, from) {
                Heard::Reply(seq) => {
                    prop_assert_eq!(msg[0], if v6 { ICMP6_ECHO_REPLY } else { ICMP_ECHO_REPLY });
                    prop_assert_eq!(&msg[8..16], &cookie.to_be_bytes()[..]);
                    prop_assert_eq!(seq, u16::from_be_bytes([msg[6], msg[7]]));
                    if let Some(id) = raw_ident {
                        prop_assert_eq!(id, u16::from_be_bytes([msg[4], msg[5]]));
                    }
                }
                Heard::Error(_, e) => {
                    prop_assert_eq!((e.v6, e.kind, e.code, e.from), (v6, msg[0], msg[1], Some(from)));
                    prop_assert!(msg.len() >= 8 + 8);
                }
                Heard::Other => {}
            }
        }

        /// An error quoting our request cut anywhere (after IPv4 headers of every valid
        /// length, with options): ours exactly when the ICMP header of the request is all
        /// there. Header lengths below 5 words are not IPv4 and only go through the
        /// any-bytes property above.
        #[test]
        fn truncated_quotes_are_ours_only_when_whole_enough(
            (v6, kind) in any::<bool>().prop_flat_map(|v6| (Just(v6), error_kind(v6))),
            ihl in 5u8..16,
            ident in any::<u16>(),
            seq in any::<u16>(),
            cookie in any::<u64>(),
            payload in 0usize..64,
            cut in any::<prop::sample::Index>(),
            raw in any::<bool>(),
        ) {
            let from: IpAddr = "198.51.100.3".parse().unwrap();
            let req = echo_request(v6, ident, seq, cookie, payload);
            let ip_len = if v6 { 40 } else { usize::from(ihl) * 4 };
            let msg = error_quoting(v6, kind, 0x40 | ihl, ip_len, &req);
            let len = cut.index(msg.len() + 1);
            let got = classify(v6, &msg[..len], raw.then_some(ident), cookie, from);
            if len >= 8 + ip_len + 8 {
                prop_assert_eq!(
                    got,
                    Heard::Error(seq, IcmpError { v6, kind, code: 0, from: Some(from) })
                );
            } else {
                prop_assert_eq!(got, Heard::Other);
            }
        }

        /// A reply made from our request (type changed, checksum recomputed) is ours with
        /// the right identifier and cookie, cut short of its cookie it is not, and another
        /// cookie or identifier is never taken for ours.
        #[test]
        fn replies_to_our_requests_are_recognised(
            v6 in any::<bool>(),
            ident in any::<u16>(),
            seq in any::<u16>(),
            cookie in any::<u64>(),
            payload in 0usize..1500,
            cut in 0usize..16,
        ) {
            let from: IpAddr = "192.0.2.9".parse().unwrap();
            let mut rep = reply_of(&echo_request(v6, ident, seq, cookie, payload), v6);
            rep[2..4].fill(0);
            let sum = checksum(&rep);
            rep[2..4].copy_from_slice(&sum.to_be_bytes());
            prop_assert_eq!(checksum(&rep), 0);
            prop_assert_eq!(classify(v6, &rep, Some(ident), cookie, from), Heard::Reply(seq));
            prop_assert_eq!(classify(v6, &rep, None, cookie, from), Heard::Reply(seq));
            prop_assert_eq!(classify(v6, &rep[..cut], Some(ident), cookie, from), Heard::Other);
            prop_assert_eq!(classify(v6, &rep, Some(ident), !cookie, from), Heard::Other);
            prop_assert_eq!(
                classify(v6, &rep, Some(ident.wrapping_add(1)), cookie, from),
                Heard::Other
            );
            // the same bytes read as the other family are neither a reply nor an error
            prop_assert_eq!(classify(!v6, &rep, None, cookie, from), Heard::Other);
        }
    }
}
