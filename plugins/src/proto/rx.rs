//! The Rx wire codec (OpenAFS's RPC transport over UDP) and the few exchanges the checks
//! need: the VERSION probe (`rxdebug -version`), the DEBUG GETSTATS query (`rxdebug
//! -noconn`), and a one-packet call with the null security class (what `udebug` makes).
//!
//! Every packet starts with a 28-byte big-endian header: epoch, connection id, call
//! number, sequence, serial (u32 each), then type, flags, user status, security index
//! (u8 each), a spare/checksum u16 and the service id u16.

use super::random::rand_u32;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;

/// Length of the Rx header.
pub const HEADER_LEN: usize = 28;

/// Packet types.
pub mod ptype {
    /// A call's data (request or reply).
    pub const DATA: u8 = 1;
    /// An acknowledgement (also used as a ping).
    pub const ACK: u8 = 2;
    /// The server's channel is busy.
    pub const BUSY: u8 = 3;
    /// The call was aborted; the payload is an error code.
    pub const ABORT: u8 = 4;
    /// Every packet of the call is acknowledged.
    pub const ACKALL: u8 = 5;
    /// The security class challenges the client.
    pub const CHALLENGE: u8 = 6;
    /// A debugging query.
    pub const DEBUG: u8 = 8;
    /// A version query.
    pub const VERSION: u8 = 13;
}

/// Header flags.
pub mod flags {
    /// The packet was sent by the client side of the connection.
    pub const CLIENT_INITIATED: u8 = 1;
    /// The sender wants an acknowledgement.
    pub const REQUEST_ACK: u8 = 2;
    /// The last packet of the call in this direction.
    pub const LAST_PACKET: u8 = 4;
}

/// Ack reasons (the byte after the serial in an ACK payload).
pub mod ack_reason {
    /// A ping: the peer asks whether we are there.
    pub const PING: u8 = 6;
    /// The answer to a ping.
    pub const PING_RESPONSE: u8 = 7;
}

/// The 28-byte header of an Rx packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    pub epoch: u32,
    pub cid: u32,
    pub call_number: u32,
    pub seq: u32,
    pub serial: u32,
    pub ptype: u8,
    pub flags: u8,
    pub user_status: u8,
    pub security_index: u8,
    pub spare: u16,
    pub service_id: u16,
}

/// Why a packet could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("short Rx packet ({0} bytes)")]
    Short(usize),
    #[error("short {what} in an Rx reply ({got} of {want} bytes)")]
    ShortPayload {
        what: &'static str,
        got: usize,
        want: usize,
    },
}

impl Header {
    /// The packet: this header followed by `payload`.
    pub fn packet(&self, payload: &[u8]) -> Vec<u8> {
        let mut b = Vec::with_capacity(HEADER_LEN + payload.len());
        for v in [
            self.epoch,
            self.cid,
            self.call_number,
            self.seq,
            self.serial,
        ] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        b.extend_from_slice(&[
            self.ptype,
            self.flags,
            self.user_status,
            self.security_index,
        ]);
        b.extend_from_slice(&self.spare.to_be_bytes());
        b.extend_from_slice(&self.service_id.to_be_bytes());
        b.extend_from_slice(payload);
        b
    }

    /// Splits a datagram into its header and payload.
    pub fn decode(buf: &[u8]) -> Result<(Header, &[u8]), DecodeError> {
        if buf.len() < HEADER_LEN {
            return Err(DecodeError::Short(buf.len()));
        }
        let u32_at = |i: usize| u32::from_be_bytes([buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]);
        let h = Header {
            epoch: u32_at(0),
            cid: u32_at(4),
            call_number: u32_at(8),
            seq: u32_at(12),
            serial: u32_at(16),
            ptype: buf[20],
            flags: buf[21],
            user_status: buf[22],
            security_index: buf[23],
            spare: u16::from_be_bytes([buf[24], buf[25]]),
            service_id: u16::from_be_bytes([buf[26], buf[27]]),
        };
        Ok((h, &buf[HEADER_LEN..]))
    }

    /// True when `reply` answers a packet sent with this header: same epoch, connection
    /// and call, sent by the server side.
    pub fn is_answered_by(&self, reply: &Header) -> bool {
        reply.epoch == self.epoch
            && reply.cid & !3 == self.cid & !3
            && reply.call_number == self.call_number
            && reply.flags & flags::CLIENT_INITIATED == 0
    }
}

/// Reads big-endian u32 words from a payload.
pub struct Words<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Words<'a> {
    /// A reader over `buf`, naming `what` in errors.
    pub fn new(buf: &'a [u8], what: &'static str) -> Self {
        Words { buf, what }
    }

    /// Requires at least `n` more bytes.
    pub fn need(&self, n: usize) -> Result<(), DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::ShortPayload {
                what: self.what,
                got: self.buf.len(),
                want: n,
            });
        }
        Ok(())
    }

    /// The next u32.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        self.need(4)?;
        let v = u32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]);
        self.buf = &self.buf[4..];
        Ok(v)
    }

    /// The next i32.
    pub fn i32(&mut self) -> Result<i32, DecodeError> {
        self.u32().map(|v| v as i32)
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        self.need(n)?;
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }
}

/// The epoch `rxdebug` and `udebug` use for their queries.
pub const DEBUG_EPOCH: u32 = 999;

/// The header of a VERSION or DEBUG query (connection 0, service 0).
pub fn query_header(ptype: u8, call_number: u32) -> Header {
    Header {
        epoch: DEBUG_EPOCH,
        call_number,
        ptype,
        flags: flags::CLIENT_INITIATED | flags::LAST_PACKET,
        ..Header::default()
    }
}

/// A VERSION query: the header and one zero byte.
pub fn version_request(call_number: u32) -> Vec<u8> {
    query_header(ptype::VERSION, call_number).packet(&[0])
}

/// The version string in a VERSION reply (NUL-padded, at most 65 bytes).
pub fn version_string(payload: &[u8]) -> String {
    let end = payload
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(payload.len());
    String::from_utf8_lossy(&payload[..end.min(65)])
        .trim()
        .to_string()
}

/// The DEBUG request type for statistics.
pub const DEBUGI_GETSTATS: u32 = 1;

/// A DEBUG GETSTATS query: `{type = GETSTATS, index = 0}`.
pub fn getstats_request(call_number: u32) -> Vec<u8> {
    let mut payload = DEBUGI_GETSTATS.to_be_bytes().to_vec();
    payload.extend_from_slice(&0u32.to_be_bytes());
    query_header(ptype::DEBUG, call_number).packet(&payload)
}

/// The server's `rx_debugStats` (the fields `rxdebug -noconn` prints).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DebugStats {
    pub free_packets: u32,
    pub packet_reclaims: u32,
    pub calls_executed: u32,
    pub waiting_for_packets: bool,
    pub used_fds: u8,
    pub version: u8,
    /// Calls waiting for a thread.
    pub waiting: u32,
    /// Idle server threads.
    pub idle_threads: u32,
    /// Calls that have waited for a thread.
    pub waited: u32,
    /// Packets allocated.
    pub packets: u32,
}

/// Reads `rx_debugStats`: three words, four bytes (waiting for packets, used fds,
/// version, spare), then waiting calls, idle threads, calls that waited and packets.
pub fn parse_debug_stats(payload: &[u8]) -> Result<DebugStats, DecodeError> {
    let mut w = Words::new(payload, "rx_debugStats");
    w.need(32)?;
    let free_packets = w.u32()?;
    let packet_reclaims = w.u32()?;
    let calls_executed = w.u32()?;
    let b = w.bytes(4)?;
    Ok(DebugStats {
        free_packets,
        packet_reclaims,
        calls_executed,
        waiting_for_packets: b[0] != 0,
        used_fds: b[1],
        version: b[2],
        waiting: w.u32()?,
        idle_threads: w.u32()?,
        waited: w.u32().unwrap_or(0),
        packets: w.u32().unwrap_or(0),
    })
}

/// The header of a call's first (and only) DATA packet with the null security class.
pub fn call_header(epoch: u32, cid: u32, service_id: u16) -> Header {
    Header {
        epoch,
        cid,
        call_number: 1,
        seq: 1,
        serial: 1,
        ptype: ptype::DATA,
        flags: flags::CLIENT_INITIATED | flags::LAST_PACKET | flags::REQUEST_ACK,
        service_id,
        ..Header::default()
    }
}

/// The answer to an ACK ping from the server on our call's connection.
pub fn ping_response(call: &Header, ping: &Header, serial: u32) -> Vec<u8> {
    let h = Header {
        call_number: 0,
        seq: 0,
        serial,
        ptype: ptype::ACK,
        flags: flags::CLIENT_INITIATED,
        ..*call
    };
    let mut payload = Vec::with_capacity(18);
    payload.extend_from_slice(&0u16.to_be_bytes()); // buffer space
    payload.extend_from_slice(&0u16.to_be_bytes()); // max skew
    payload.extend_from_slice(&0u32.to_be_bytes()); // first packet
    payload.extend_from_slice(&0u32.to_be_bytes()); // previous packet
    payload.extend_from_slice(&ping.serial.to_be_bytes());
    payload.push(ack_reason::PING_RESPONSE);
    payload.push(0); // no acks
    h.packet(&payload)
}

/// The acknowledgement of every packet of a finished call.
pub fn ackall(call: &Header, serial: u32) -> Vec<u8> {
    Header {
        seq: 0,
        serial,
        ptype: ptype::ACKALL,
        flags: flags::CLIENT_INITIATED,
        ..*call
    }
    .packet(&[])
}

/// What went wrong in an exchange with a server.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RxError {
    #[error("no answer within {0:.1}s")]
    NoAnswer(f64),
    #[error("{0}")]
    Network(String),
    #[error("{0}")]
    Garbage(String),
    #[error("call aborted with code {0}")]
    Aborted(i32),
    #[error("the server asks for authentication (challenge)")]
    Challenged,
}

/// What to do with a packet that arrived during an exchange.
pub enum Step<T> {
    /// The exchange is over with this result.
    Done(T),
    /// Send this last packet; the exchange is over with this result.
    Finish(T, Vec<u8>),
    /// Send this packet and keep waiting.
    Send(Vec<u8>),
    /// Not ours or not interesting: keep waiting.
    Ignore,
    /// The reply is unusable.
    Fail(RxError),
}

/// Seconds between retransmissions: 0.5, 1, 2, 4, 8 s, then 8 s.
fn retry_after(attempt: u32) -> Duration {
    Duration::from_millis(500u64 << attempt.min(4))
}

/// Sends `request` to `addr` and hands every datagram from it to `handle` until that
/// says done or fails; the request is sent again after 0.5, 1, 2, 4, 8 s while `budget`
/// lasts. Returns the result and the time from the first send to the answer.
pub async fn exchange<T>(
    addr: SocketAddr,
    request: &[u8],
    budget: Duration,
    mut handle: impl FnMut(&Header, &[u8]) -> Step<T>,
) -> Result<(T, Duration), RxError> {
    let bind: SocketAddr = if addr.is_ipv4() {
        "0.0.0.0:0".parse().expect("address")
    } else {
        "[::]:0".parse().expect("address")
    };
    let sock = UdpSocket::bind(bind)
        .await
        .map_err(|e| RxError::Network(format!("cannot open a UDP socket: {e}")))?;
    sock.connect(addr)
        .await
        .map_err(|e| RxError::Network(format!("cannot reach {addr}: {e}")))?;
    let start = Instant::now();
    let deadline = start + budget;
    let mut buf = vec![0u8; 2048];
    let mut attempt = 0;
    loop {
        // a refused datagram (ICMP port unreachable) is no answer: keep trying
        let _ = sock.send(request).await;
        let resend = (Instant::now() + retry_after(attempt)).min(deadline);
        attempt += 1;
        loop {
            let got = tokio::time::timeout_at(resend.into(), sock.recv(&mut buf)).await;
            let n = match got {
                Err(_) => break,
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    tokio::time::sleep_until(resend.into()).await;
                    break;
                }
                Ok(Err(e)) => return Err(RxError::Network(format!("{addr}: {e}"))),
                Ok(Ok(n)) => n,
            };
            let Ok((h, payload)) = Header::decode(&buf[..n]) else {
                return Err(RxError::Garbage(format!(
                    "a {n}-byte datagram that is not an Rx packet"
                )));
            };
            match handle(&h, payload) {
                Step::Done(t) => return Ok((t, start.elapsed())),
                Step::Finish(t, p) => {
                    let rtt = start.elapsed();
                    let _ = sock.send(&p).await;
                    return Ok((t, rtt));
                }
                Step::Send(p) => {
                    let _ = sock.send(&p).await;
                }
                Step::Ignore => {}
                Step::Fail(e) => return Err(e),
            }
        }
        if Instant::now() >= deadline {
            return Err(RxError::NoAnswer(budget.as_secs_f64()));
        }
    }
}

/// The VERSION probe: the server's version string and the round-trip time.
pub async fn version(addr: SocketAddr, budget: Duration) -> Result<(String, Duration), RxError> {
    let call = rand_u32() | 1;
    let req = query_header(ptype::VERSION, call);
    exchange(addr, &version_request(call), budget, |h, payload| {
        if !req.is_answered_by(h) {
            return Step::Ignore;
        }
        match h.ptype {
            ptype::VERSION => Step::Done(version_string(payload)),
            t => Step::Fail(RxError::Garbage(format!(
                "packet type {t} in answer to VERSION"
            ))),
        }
    })
    .await
}

/// The DEBUG GETSTATS query.
pub async fn debug_stats(
    addr: SocketAddr,
    budget: Duration,
) -> Result<(DebugStats, Duration), RxError> {
    let call = rand_u32() | 1;
    let req = query_header(ptype::DEBUG, call);
    exchange(addr, &getstats_request(call), budget, |h, payload| {
        if !req.is_answered_by(h) {
            return Step::Ignore;
        }
        match h.ptype {
            ptype::DEBUG => match parse_debug_stats(payload) {
                Ok(s) => Step::Done(s),
                Err(e) => Step::Fail(RxError::Garbage(e.to_string())),
            },
            t => Step::Fail(RxError::Garbage(format!(
                "packet type {t} in answer to DEBUG"
            ))),
        }
    })
    .await
}

/// Makes an RPC whose request and reply each fit in one packet, with the null security
/// class: a DATA packet carrying `opcode` and `args` (XDR) to `service_id`; the reply's
/// DATA payload is returned. Answers the server's pings and acknowledges the reply.
pub async fn call(
    addr: SocketAddr,
    service_id: u16,
    opcode: u32,
    args: &[u8],
    budget: Duration,
) -> Result<(Vec<u8>, Duration), RxError> {
    // a fresh connection: the epoch without its high bit, a connection id on channel 0
    let epoch = rand_u32() & 0x7fff_ffff;
    let cid = (rand_u32() & 0x3fff_fffc) | 4;
    let head = call_header(epoch, cid, service_id);
    let mut body = opcode.to_be_bytes().to_vec();
    body.extend_from_slice(args);
    let request = head.packet(&body);
    let mut serial = 1;
    exchange(addr, &request, budget, |h, payload| {
        if h.epoch != epoch || h.cid & !3 != cid || h.flags & flags::CLIENT_INITIATED != 0 {
            return Step::Ignore;
        }
        serial += 1;
        match h.ptype {
            ptype::DATA if h.call_number == 1 && h.seq == 1 => {
                if h.flags & flags::LAST_PACKET == 0 {
                    return Step::Fail(RxError::Garbage(
                        "the reply spans more than one packet".into(),
                    ));
                }
                // acknowledge the reply so the server does not send it again
                Step::Finish(payload.to_vec(), ackall(&head, serial))
            }
            ptype::ACK if payload.len() >= 18 && payload[16] == ack_reason::PING => {
                Step::Send(ping_response(&head, h, serial))
            }
            ptype::ABORT => {
                let code = Words::new(payload, "abort code").i32().unwrap_or(-1);
                Step::Fail(RxError::Aborted(code))
            }
            ptype::CHALLENGE => Step::Fail(RxError::Challenged),
            _ => Step::Ignore,
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        let h = Header {
            epoch: 1,
            cid: 8,
            call_number: 3,
            seq: 4,
            serial: 5,
            ptype: ptype::DATA,
            flags: 5,
            user_status: 0,
            security_index: 0,
            spare: 0,
            service_id: 52,
        };
        let p = h.packet(&[9, 9]);
        assert_eq!(p.len(), 30);
        assert_eq!(&p[20..28], &[1, 5, 0, 0, 0, 0, 0, 52]);
        let (back, payload) = Header::decode(&p).unwrap();
        assert_eq!(back, h);
        assert_eq!(payload, &[9, 9]);
        assert_eq!(Header::decode(&p[..27]), Err(DecodeError::Short(27)));
    }

    #[test]
    fn version_request_is_rxdebugs() {
        let p = version_request(7);
        assert_eq!(p.len(), 29);
        assert_eq!(&p[..4], &999u32.to_be_bytes());
        assert_eq!(&p[8..12], &7u32.to_be_bytes());
        assert_eq!(p[20], 13);
        assert_eq!(p[21], 5);
        assert_eq!(p[28], 0);
        let mut reply = b"OpenAFS 1.8.9-1+deb12u1-debian 2024-12-25".to_vec();
        reply.resize(65, 0);
        assert_eq!(
            version_string(&reply),
            "OpenAFS 1.8.9-1+deb12u1-debian 2024-12-25"
        );
    }

    #[test]
    fn debug_stats_layout() {
        let mut p = Vec::new();
        for v in [249u32, 0, 12] {
            p.extend_from_slice(&v.to_be_bytes());
        }
        p.extend_from_slice(&[0, 8, b'S', 0]);
        for v in [3u32, 16, 1, 817, 0, 0, 0, 0, 0, 0] {
            p.extend_from_slice(&v.to_be_bytes());
        }
        let s = parse_debug_stats(&p).unwrap();
        assert_eq!(s.free_packets, 249);
        assert_eq!(s.calls_executed, 12);
        assert_eq!(s.used_fds, 8);
        assert_eq!(s.waiting, 3);
        assert_eq!(s.idle_threads, 16);
        assert_eq!(s.waited, 1);
        assert_eq!(s.packets, 817);
        assert!(parse_debug_stats(&p[..20]).is_err());
        let req = getstats_request(2);
        assert_eq!(&req[28..], &[0, 0, 0, 1, 0, 0, 0, 0]);
        assert_eq!(req[20], 8);
    }

    #[test]
    fn answers_match_their_call() {
        let req = call_header(10, 12, 52);
        let mut reply = req;
        reply.flags = flags::LAST_PACKET;
        reply.cid = 13; // channel bits differ: still the connection
        assert!(req.is_answered_by(&reply));
        reply.flags |= flags::CLIENT_INITIATED;
        assert!(!req.is_answered_by(&reply));
        let ping = Header {
            serial: 77,
            ..reply
        };
        let resp = ping_response(&req, &ping, 3);
        let (h, payload) = Header::decode(&resp).unwrap();
        assert_eq!(h.ptype, ptype::ACK);
        assert_eq!(&payload[12..16], &77u32.to_be_bytes());
        assert_eq!(payload[16], ack_reason::PING_RESPONSE);
    }
}
