//! NTP over UDP: client-mode time queries (RFC 5905 mode 3), for the clock offset to a
//! server, and control queries (RFC 1305 appendix B, ntpd's mode 6: READSTAT and
//! READVAR), for a server's own peers (check_ntp_peer).
//!
//! Every answer is checked before it is used: its length, mode, and for mode 3 that it
//! answers our transmit timestamp; for mode 6 the sequence number, opcode and the
//! fragment offsets. A control answer is at most [`MAX_CONTROL_DATA`] bytes in all.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::UdpSocket;

/// Seconds from 1900 (NTP's era 0) to 1970.
const NTP_UNIX_DELTA: u64 = 2_208_988_800;

/// The length of an NTP header without extensions.
pub const PACKET_LEN: usize = 48;

/// The leap indicator meaning "clock not synchronized".
pub const LI_ALARM: u8 = 3;

/// The largest data section of one control message.
pub const MAX_CONTROL_FRAGMENT: usize = 468;

/// The most data accepted in one control answer, all fragments together.
pub const MAX_CONTROL_DATA: usize = 64 * 1024;

/// Control opcodes.
pub const OP_READSTAT: u8 = 1;
pub const OP_READVAR: u8 = 2;

/// Peer selection values (the `sel` field of a peer status word).
pub const SEL_TRUECHIMER: u8 = 2;
pub const SEL_INCLUDED: u8 = 4;
pub const SEL_SYNCSOURCE: u8 = 6;

/// Why a query failed.
#[derive(Debug, thiserror::Error)]
pub enum NtpError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("No response from NTP server")]
    NoResponse,
    #[error("Invalid packet received from NTP server")]
    Invalid,
    #[error("the server refused the control request")]
    Refused,
}

/// One mode 3 answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// The server's clock minus ours, in seconds.
    pub offset: f64,
    pub stratum: u8,
    pub leap: u8,
    /// Root delay and dispersion in seconds.
    pub root_delay: f64,
    pub root_dispersion: f64,
}

/// An NTP 64-bit timestamp of a system time.
pub fn to_ntp64(t: SystemTime) -> u64 {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() + NTP_UNIX_DELTA;
    let frac = (u64::from(d.subsec_nanos()) << 32) / 1_000_000_000;
    (secs << 32) | frac
}

/// Seconds (since 1900) of an NTP 64-bit timestamp.
pub fn ntp64_secs(ts: u64) -> f64 {
    (ts >> 32) as f64 + (ts & 0xffff_ffff) as f64 / 4_294_967_296.0
}

/// Seconds of an NTP 32-bit short format (16.16).
pub fn ntp32_secs(v: u32) -> f64 {
    f64::from(v) / 65536.0
}

/// A client request (version 4, mode 3) sent at `t1`.
pub fn client_request(t1: u64) -> [u8; PACKET_LEN] {
    let mut p = [0u8; PACKET_LEN];
    // leap 3 (unsynchronized), version 4, mode 3
    p[0] = (LI_ALARM << 6) | (4 << 3) | 3;
    p[2] = 4; // poll
    p[3] = 0xfa; // precision
    p[40..48].copy_from_slice(&t1.to_be_bytes());
    p
}

/// Reads a server's answer to the request sent at `t1`, received at `t4` (pure).
pub fn parse_server_reply(b: &[u8], t1: u64, t4: u64) -> Result<Sample, NtpError> {
    if b.len() < PACKET_LEN {
        return Err(NtpError::Invalid);
    }
    let mode = b[0] & 7;
    if mode != 4 && mode != 5 {
        return Err(NtpError::Invalid);
    }
    let u32_at = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let u64_at = |i: usize| u64::from_be_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    if u64_at(24) != t1 {
        // not an answer to this request
        return Err(NtpError::Invalid);
    }
    let (t2, t3) = (u64_at(32), u64_at(40));
    // differences in wrapping arithmetic keep era changes right
    let diff = |a: u64, b: u64| a.wrapping_sub(b) as i64 as f64 / 4_294_967_296.0;
    let offset = (diff(t2, t1) + diff(t3, t4)) / 2.0;
    Ok(Sample {
        offset,
        stratum: b[1],
        leap: b[0] >> 6,
        root_delay: ntp32_secs(u32_at(4)),
        root_dispersion: ntp32_secs(u32_at(8)),
    })
}

/// A UDP socket connected to `addr`.
pub async fn connect(addr: SocketAddr) -> Result<UdpSocket, NtpError> {
    let local: SocketAddr = if addr.is_ipv4() {
        "0.0.0.0:0".parse().expect("address")
    } else {
        "[::]:0".parse().expect("address")
    };
    let s = UdpSocket::bind(local).await?;
    s.connect(addr).await?;
    Ok(s)
}

/// Up to `count` time samples from one server: a request, then the next one as soon as
/// it is answered or after `retry` without an answer; ends after `budget`. Refusals
/// (ICMP port unreachable) and silence both end as [`NtpError::NoResponse`] when no
/// answer came at all.
pub async fn time_samples(
    addr: SocketAddr,
    count: usize,
    retry: Duration,
    budget: Duration,
) -> Result<Vec<Sample>, NtpError> {
    let sock = connect(addr).await?;
    let deadline = tokio::time::Instant::now() + budget;
    let mut out = Vec::new();
    let mut buf = [0u8; 512];
    while out.len() < count && tokio::time::Instant::now() < deadline {
        let t1 = to_ntp64(SystemTime::now());
        if sock.send(&client_request(t1)).await.is_err() {
            tokio::time::sleep_until(deadline.min(tokio::time::Instant::now() + retry)).await;
            continue;
        }
        let wait = deadline.min(tokio::time::Instant::now() + retry);
        loop {
            match tokio::time::timeout_at(wait, sock.recv(&mut buf)).await {
                Err(_) => break,
                // refused: wait out the retry, then ask again
                Ok(Err(_)) => {
                    tokio::time::sleep_until(wait).await;
                    break;
                }
                Ok(Ok(n)) => {
                    let t4 = to_ntp64(SystemTime::now());
                    if let Ok(s) = parse_server_reply(&buf[..n], t1, t4) {
                        out.push(s);
                        break;
                    }
                }
            }
        }
    }
    if out.is_empty() {
        return Err(NtpError::NoResponse);
    }
    Ok(out)
}

/// A control request (version 2, mode 6).
pub fn control_request(op: u8, seq: u16, assoc: u16, data: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(12 + data.len() + 3);
    p.push((2 << 3) | 6);
    p.push(op & 0x1f);
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&[0, 0]); // status
    p.extend_from_slice(&assoc.to_be_bytes());
    p.extend_from_slice(&[0, 0]); // offset
    p.extend_from_slice(&(data.len() as u16).to_be_bytes());
    p.extend_from_slice(data);
    while p.len() % 4 != 0 {
        p.push(0);
    }
    p
}

/// One control answer fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlFragment {
    pub leap: u8,
    pub error: bool,
    pub more: bool,
    pub op: u8,
    pub seq: u16,
    pub status: u16,
    pub assoc: u16,
    pub offset: u16,
    pub data: Vec<u8>,
}

/// Reads a control answer fragment (pure); `None` for what is not one.
pub fn parse_control(b: &[u8]) -> Option<ControlFragment> {
    if b.len() < 12 || b[0] & 7 != 6 || b[1] & 0x80 == 0 {
        return None;
    }
    let be = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
    let count = be(10) as usize;
    if count > MAX_CONTROL_FRAGMENT || 12 + count > b.len() {
        return None;
    }
    Some(ControlFragment {
        leap: b[0] >> 6,
        error: b[1] & 0x40 != 0,
        more: b[1] & 0x20 != 0,
        op: b[1] & 0x1f,
        seq: be(2),
        status: be(4),
        assoc: be(6),
        offset: be(8),
        data: b[12..12 + count].to_vec(),
    })
}

/// The answer to one control request: the leap indicator of its first fragment and its
/// data, fragments put together by their offsets.
pub async fn control(
    sock: &UdpSocket,
    op: u8,
    seq: u16,
    assoc: u16,
    data: &[u8],
) -> Result<(u8, Vec<u8>), NtpError> {
    sock.send(&control_request(op, seq, assoc, data)).await?;
    let mut buf = [0u8; 1024];
    let mut frags: Vec<ControlFragment> = Vec::new();
    let mut total = 0usize;
    loop {
        let n = sock
            .recv(&mut buf)
            .await
            .map_err(|_| NtpError::NoResponse)?;
        let Some(f) = parse_control(&buf[..n]) else {
            continue;
        };
        if f.op != op || f.seq != seq {
            continue;
        }
        if f.error {
            return Err(NtpError::Refused);
        }
        total += f.data.len();
        if total > MAX_CONTROL_DATA || frags.len() > MAX_CONTROL_DATA / 4 {
            return Err(NtpError::Invalid);
        }
        frags.push(f);
        // done when the fragments cover the data up to the last one without a gap
        if let Some((data, true)) = contiguous(&frags) {
            return Ok((frags[0].leap, data));
        }
    }
}

/// The fragments' data in offset order, and whether they cover 0..end without a gap
/// and the final one (without `more`) is among them. A fragment that repeats data
/// already held (a datagram may arrive twice) adds nothing.
fn contiguous(frags: &[ControlFragment]) -> Option<(Vec<u8>, bool)> {
    let mut sorted: Vec<&ControlFragment> = frags.iter().collect();
    sorted.sort_by_key(|f| f.offset);
    let mut out = Vec::new();
    let mut done = false;
    for f in &sorted {
        let at = usize::from(f.offset);
        if at < out.len() && out.get(at..at + f.data.len()) == Some(&f.data[..]) {
            continue;
        }
        if at != out.len() {
            return Some((out, false));
        }
        out.extend_from_slice(&f.data);
        done = !f.more;
    }
    Some((out, done))
}

/// One association of READSTAT: its id and status word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Association {
    pub id: u16,
    pub status: u16,
}

impl Association {
    /// The peer selection value (0-7).
    pub fn selection(&self) -> u8 {
        ((self.status >> 8) & 7) as u8
    }
}

/// The associations in READSTAT data.
pub fn associations(data: &[u8]) -> Vec<Association> {
    data.chunks_exact(4)
        .map(|c| Association {
            id: u16::from_be_bytes([c[0], c[1]]),
            status: u16::from_be_bytes([c[2], c[3]]),
        })
        .collect()
}

/// The value of `name` in READVAR text (`name=value, name="text", ...`).
pub fn variable(text: &str, name: &str) -> Option<String> {
    for item in split_vars(text) {
        let (k, v) = match item.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (item.trim(), ""),
        };
        if k == name {
            return Some(v.trim_matches('"').to_string());
        }
    }
    None
}

/// Splits READVAR text at the commas outside quotes.
fn split_vars(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

/// The host's addresses of the family.
pub async fn resolve(
    host: &str,
    port: u16,
    family: crate::plugin::Family,
) -> Result<Vec<std::net::SocketAddr>, String> {
    let addrs: Vec<_> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("Invalid hostname/address - {host}: {e}"))?
        .filter(|a| family.admits(a))
        .collect();
    if addrs.is_empty() {
        return Err(format!(
            "error getting address for {host}: no address of the requested family"
        ));
    }
    Ok(addrs)
}

/// A number as C's `%.10g` prints it.
pub fn fmt_g10(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v == 0.0 { "0".into() } else { v.to_string() };
    }
    let exp = v.abs().log10().floor() as i32;
    if !(-4..10).contains(&exp) {
        let s = format!("{v:.9e}");
        let (mant, e) = s.split_once('e').expect("exponent");
        let mant = mant.trim_end_matches('0').trim_end_matches('.');
        let e: i32 = e.parse().expect("exponent");
        let sign = if e < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", e.abs())
    } else {
        let decimals = (9 - exp).max(0) as usize;
        let s = format!("{v:.decimals$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats_as_printf_g() {
        assert_eq!(fmt_g10(-2.175569534e-06), "-2.175569534e-06");
        assert_eq!(fmt_g10(99.99999702), "99.99999702");
        assert_eq!(fmt_g10(0.0), "0");
        assert_eq!(fmt_g10(1.5), "1.5");
        assert_eq!(fmt_g10(0.000123), "0.000123");
        assert_eq!(fmt_g10(12345678901.0), "1.23456789e+10");
    }

    #[test]
    fn timestamps() {
        let t = UNIX_EPOCH + Duration::from_millis(1_500);
        let ts = to_ntp64(t);
        assert_eq!(ts >> 32, NTP_UNIX_DELTA + 1);
        assert!((ntp64_secs(ts) - (NTP_UNIX_DELTA as f64 + 1.5)).abs() < 1e-6);
        assert_eq!(ntp32_secs(0x0001_8000), 1.5);
    }

    fn reply(t1: u64, t2: u64, t3: u64, stratum: u8, leap: u8) -> [u8; PACKET_LEN] {
        let mut p = [0u8; PACKET_LEN];
        p[0] = (leap << 6) | (4 << 3) | 4;
        p[1] = stratum;
        p[4..8].copy_from_slice(&0x0000_8000u32.to_be_bytes());
        p[8..12].copy_from_slice(&0x0002_0000u32.to_be_bytes());
        p[24..32].copy_from_slice(&t1.to_be_bytes());
        p[32..40].copy_from_slice(&t2.to_be_bytes());
        p[40..48].copy_from_slice(&t3.to_be_bytes());
        p
    }

    #[test]
    fn offsets() {
        let s = |x: f64| (x * 4_294_967_296.0) as u64;
        let t1 = s(1000.0);
        // server 10 s ahead, 0.2 s round trip
        let r = reply(t1, s(1010.1), s(1010.1), 2, 0);
        let got = parse_server_reply(&r, t1, s(1000.2)).unwrap();
        assert!((got.offset - 10.0).abs() < 1e-6, "{got:?}");
        assert_eq!((got.stratum, got.leap), (2, 0));
        assert_eq!((got.root_delay, got.root_dispersion), (0.5, 2.0));
        // behind
        let r = reply(t1, s(990.1), s(990.1), 2, 0);
        assert!((parse_server_reply(&r, t1, s(1000.2)).unwrap().offset + 10.0).abs() < 1e-6);
        // another request's answer, a client packet, a short one
        assert!(parse_server_reply(&r, t1 + 1, s(1000.2)).is_err());
        let mut c = r;
        c[0] = (4 << 3) | 3;
        assert!(parse_server_reply(&c, t1, s(1000.2)).is_err());
        assert!(parse_server_reply(&r[..40], t1, s(1000.2)).is_err());
        assert_eq!(client_request(t1)[0], 0xe3);
    }

    fn fragment(op: u8, seq: u16, offset: u16, more: bool, data: &[u8]) -> Vec<u8> {
        let mut p = control_request(op, seq, 0, data);
        p[1] |= 0x80 | if more { 0x20 } else { 0 };
        p[8..10].copy_from_slice(&offset.to_be_bytes());
        p
    }

    #[test]
    fn control_messages() {
        let q = control_request(OP_READVAR, 2, 7, b"offset");
        assert_eq!(&q[..12], &[0x16, 2, 0, 2, 0, 0, 0, 7, 0, 0, 0, 6]);
        assert_eq!(q.len() % 4, 0);
        let f = parse_control(&fragment(OP_READSTAT, 1, 0, false, &[0, 1, 0x96, 0x14])).unwrap();
        assert_eq!(
            (f.op, f.seq, f.more, f.error),
            (OP_READSTAT, 1, false, false)
        );
        let a = associations(&f.data);
        assert_eq!(
            a,
            [Association {
                id: 1,
                status: 0x9614
            }]
        );
        assert_eq!(a[0].selection(), SEL_SYNCSOURCE);
        // requests, short packets and counts past the packet are not answers
        assert!(parse_control(&control_request(1, 1, 0, b"")).is_none());
        assert!(parse_control(&[0x16, 0x81, 0]).is_none());
        let mut long = fragment(OP_READSTAT, 1, 0, false, b"abcd");
        long[10..12].copy_from_slice(&100u16.to_be_bytes());
        assert!(parse_control(&long).is_none());
        // fragments out of order are put together
        let frags: Vec<_> = [
            fragment(2, 2, 4, false, b"efgh"),
            fragment(2, 2, 0, true, b"abcd"),
        ]
        .iter()
        .map(|b| parse_control(b).unwrap())
        .collect();
        assert_eq!(contiguous(&frags), Some((b"abcdefgh".to_vec(), true)));
        assert!(!contiguous(&frags[..1]).unwrap().1);
    }

    #[test]
    fn a_fragment_received_twice_is_taken_once() {
        let one = parse_control(&fragment(2, 2, 0, false, b"a")).unwrap();
        assert_eq!(contiguous(&[one.clone(), one]), Some((b"a".to_vec(), true)));
        let frags: Vec<_> = [
            fragment(2, 2, 0, true, b"abcd"),
            fragment(2, 2, 0, true, b"abcd"),
            fragment(2, 2, 4, false, b"efgh"),
            fragment(2, 2, 4, false, b"efgh"),
        ]
        .iter()
        .map(|b| parse_control(b).unwrap())
        .collect();
        assert_eq!(contiguous(&frags), Some((b"abcdefgh".to_vec(), true)));
        assert!(!contiguous(&frags[..2]).unwrap().1);
        // data that overlaps what is held but differs is still a gap
        let other = parse_control(&fragment(2, 2, 2, false, b"xyzw")).unwrap();
        assert!(!contiguous(&[frags[0].clone(), other]).unwrap().1);
    }

    #[test]
    fn variables() {
        let t = "stratum=3, offset=-0.123, jitter=0.5,\r\nrefid=\"a,b\", flag";
        assert_eq!(variable(t, "offset").as_deref(), Some("-0.123"));
        assert_eq!(variable(t, "jitter").as_deref(), Some("0.5"));
        assert_eq!(variable(t, "refid").as_deref(), Some("a,b"));
        assert_eq!(variable(t, "flag").as_deref(), Some(""));
        assert_eq!(variable(t, "stratum").as_deref(), Some("3"));
        assert_eq!(variable(t, "none"), None);
    }

    /// Data cut into fragments of the given lengths (the last one without `more`).
    fn fragments_of(data: &[u8], lens: &[usize], op: u8, seq: u16) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut at = 0;
        let mut lens = lens.iter().copied();
        while at < data.len() || out.is_empty() {
            let n = lens
                .next()
                .unwrap_or(MAX_CONTROL_FRAGMENT)
                .min(data.len() - at);
            let end = at + n;
            out.push(fragment(
                op,
                seq,
                at as u16,
                end < data.len(),
                &data[at..end],
            ));
            at = end;
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any bytes: no panic, and an accepted answer is a server's answer to `t1`.
        #[test]
        fn server_replies_never_panic(
            b in proptest::collection::vec(any::<u8>(), 0..80),
            t1 in any::<u64>(),
            t4 in any::<u64>(),
            answer in any::<bool>(),
        ) {
            let mut b = b;
            if answer && b.len() >= 32 {
                // often enough an answer to this very request
                b[24..32].copy_from_slice(&t1.to_be_bytes());
            }
            if let Ok(s) = parse_server_reply(&b, t1, t4) {
                prop_assert!(b.len() >= PACKET_LEN);
                prop_assert!(matches!(b[0] & 7, 4 | 5));
                prop_assert_eq!(&b[24..32], &t1.to_be_bytes()[..]);
                prop_assert_eq!((s.stratum, s.leap), (b[1], b[0] >> 6));
                prop_assert!(s.offset.is_finite() && s.root_delay >= 0.0 && s.root_dispersion >= 0.0);
            }
        }

        /// Any bytes: no panic, and an accepted fragment's data is what its count says,
        /// within one fragment's bound.
        #[test]
        fn control_fragments_never_panic(b in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Some(f) = parse_control(&b) {
                let count = usize::from(u16::from_be_bytes([b[10], b[11]]));
                prop_assert!(count <= MAX_CONTROL_FRAGMENT);
                prop_assert_eq!(&f.data[..], &b[12..12 + count]);
                prop_assert_eq!((f.op, f.seq), (b[1] & 0x1f, u16::from_be_bytes([b[2], b[3]])));
            }
        }

        /// A request read back as an answer (response bit set) holds what was asked; the
        /// request itself is never taken for an answer.
        #[test]
        fn control_requests_read_back(
            op in any::<u8>(),
            seq in any::<u16>(),
            assoc in any::<u16>(),
            data in proptest::collection::vec(any::<u8>(), 0..=MAX_CONTROL_FRAGMENT),
        ) {
            let mut q = control_request(op, seq, assoc, &data);
            prop_assert_eq!(q.len() % 4, 0);
            prop_assert!(parse_control(&q).is_none());
            q[1] |= 0x80;
            let f = parse_control(&q).unwrap();
            prop_assert_eq!((f.op, f.seq, f.assoc, f.offset), (op & 0x1f, seq, assoc, 0));
            prop_assert_eq!((f.error, f.more, f.status), (false, false, 0));
            prop_assert_eq!(f.data, data);
        }

        /// READSTAT data: one association per whole 4 bytes, read back to the same bytes.
        #[test]
        fn associations_read_whole_words(data in proptest::collection::vec(any::<u8>(), 0..400)) {
            let a = associations(&data);
            prop_assert_eq!(a.len(), data.len() / 4);
            let back: Vec<u8> = a
                .iter()
                .flat_map(|a| [a.id.to_be_bytes(), a.status.to_be_bytes()].concat())
                .collect();
            prop_assert_eq!(&back[..], &data[..a.len() * 4]);
            prop_assert!(a.iter().all(|a| a.selection() < 8));
        }

        /// Any text and name (non-ASCII, controls, quotes): no panic, and a value found
        /// is a piece of the text.
        #[test]
        fn variables_never_panic(text in any::<String>(), name in any::<String>(), pick in any::<bool>()) {
            // the name is often one the text holds
            let name = if pick {
                text.split(['=', ',']).next().unwrap_or("").trim().to_string()
            } else {
                name
            };
            if let Some(v) = variable(&text, &name) {
                prop_assert!(text.contains(&v));
            }
        }

        /// READVAR text as ntpd writes it: every variable's value is found.
        #[test]
        fn variables_read_back(
            vars in proptest::collection::btree_map("[a-z][a-z0-9_.]{0,10}", "[-+0-9a-zA-Z.:]{0,12}", 1..12),
            quoted in any::<bool>(),
            sep in prop_oneof![Just(", "), Just(","), Just(",\r\n")],
        ) {
            let q = if quoted { "\"" } else { "" };
            let text = vars
                .iter()
                .map(|(k, v)| format!("{k}={q}{v}{q}"))
                .collect::<Vec<_>>()
                .join(sep);
            for (k, v) in &vars {
                let got = variable(&text, k);
                prop_assert_eq!(got.as_deref(), Some(v.as_str()));
            }
        }

        /// Any fragments (garbage offsets, overlaps, repeats): the data put together is
        /// never more than the fragments hold.
        #[test]
        fn reassembly_is_bounded(
            frags in proptest::collection::vec(
                (any::<u16>(), any::<bool>(), proptest::collection::vec(any::<u8>(), 0..40)),
                0..40,
            ),
        ) {
            let frags: Vec<ControlFragment> = frags
                .into_iter()
                .map(|(offset, more, data)| {
                    parse_control(&fragment(OP_READVAR, 3, offset, more, &data)).unwrap()
                })
                .collect();
            let held: usize = frags.iter().map(|f| f.data.len()).sum();
            let (data, _) = contiguous(&frags).unwrap();
            prop_assert!(data.len() <= held);
        }

        /// An answer cut into fragments arriving in any order, some of them twice, is
        /// put together once all of it is there, and not before.
        #[test]
        fn fragments_in_any_order_reassemble(
            data in proptest::collection::vec(any::<u8>(), 0..2000),
            lens in proptest::collection::vec(1usize..=MAX_CONTROL_FRAGMENT, 0..20),
            order in any::<prop::sample::Index>(),
            repeats in proptest::collection::vec(any::<prop::sample::Index>(), 0..3),
        ) {
            let mut frags: Vec<ControlFragment> = fragments_of(&data, &lens, OP_READVAR, 9)
                .iter()
                .map(|b| parse_control(b).unwrap())
                .collect();
            let n = frags.len();
            frags.rotate_left(order.index(n));
            for r in &repeats {
                let again = frags[r.index(n)].clone();
                frags.push(again);
            }
            prop_assert_eq!(contiguous(&frags), Some((data.clone(), true)));
            // one fragment short (unless it held nothing) is never complete
            for i in 0..n {
                let missing = &frags[i];
                if missing.data.is_empty() || frags[n..].contains(missing) {
                    continue;
                }
                let fewer: Vec<ControlFragment> =
                    frags.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, f)| f.clone()).collect();
                prop_assert_ne!(contiguous(&fewer), Some((data.clone(), true)));
            }
        }
    }
}
