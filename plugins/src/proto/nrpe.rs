//! The NRPE wire format, shared by `check_nrpe_client` and the `hcoop-monitor nrpe`
//! agent: version 2 packets (a fixed 1036 bytes) and version 3/4 packets (a 16-byte
//! header and a buffer of up to [`MAX_BUFFER_LEN`] bytes), their CRC-32, and the limits
//! both peers enforce.
//!
//! Every integer is big-endian. A packet is `i16 version, i16 type, u32 crc32,
//! i16 result_code`, then for v2 `char buffer[1024]` and 2 bytes of padding, for v3/v4
//! `i16 alignment, i32 buffer_length, char buffer[buffer_length]`. The CRC covers the
//! whole packet with the CRC (and for v3/v4 the alignment) zeroed; a v3 packet's CRC also
//! covers 3 zero bytes after the buffer (the C peers' struct padding), which v3 senders
//! transmit.

pub mod client;

use tokio::io::{AsyncRead, AsyncReadExt};

/// The port NRPE listens on by default.
pub const DEFAULT_PORT: u16 = 5666;
/// The query `check_nrpe` sends without `-c`: the daemon answers with its version.
pub const HELLO_COMMAND: &str = "_NRPE_CHECK";
/// Bytes every version starts with: version, type, CRC, result code.
pub const COMMON_HEADER_LEN: usize = 10;
/// The v3/v4 header: the common part, alignment and buffer length.
pub const V3_HEADER_LEN: usize = 16;
/// A whole v2 packet.
pub const V2_PACKET_LEN: usize = 1036;
/// The v2 text buffer.
pub const V2_BUFFER_LEN: usize = 1024;
/// The largest v3/v4 buffer a peer accepts.
pub const MAX_BUFFER_LEN: usize = 65536;
/// Zero bytes after a v3 buffer that its CRC covers.
const V3_TAIL: usize = 3;
/// At most this many `!`-separated arguments in a query.
pub const MAX_ARGS: usize = 16;

/// The packet versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    V2,
    V3,
    V4,
}

impl Version {
    /// The number on the wire.
    pub fn number(self) -> i16 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
            Version::V4 => 4,
        }
    }

    /// The version a wire number stands for.
    pub fn from_number(n: i16) -> Option<Version> {
        match n {
            2 => Some(Version::V2),
            3 => Some(Version::V3),
            4 => Some(Version::V4),
            _ => None,
        }
    }

    /// The longest text a packet of this version carries (nrpe cuts plugin output
    /// there): 1023 bytes for v2, 65535 for v3/v4.
    pub fn max_text(self) -> usize {
        match self {
            Version::V2 => V2_BUFFER_LEN - 1,
            Version::V3 | Version::V4 => MAX_BUFFER_LEN - 1,
        }
    }
}

/// Query (client to daemon) or response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Query,
    Response,
}

impl Kind {
    fn number(self) -> i16 {
        match self {
            Kind::Query => 1,
            Kind::Response => 2,
        }
    }
}

/// One decoded packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub version: Version,
    pub kind: Kind,
    /// The plugin's state in a response (0..3 from a well-behaved daemon).
    pub result_code: i16,
    /// The text up to its terminating NUL: the query (`command!arg1!arg2`) or the plugin
    /// output.
    pub text: Vec<u8>,
}

/// Why bytes are not a valid packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("packet too short: {got} bytes, {need} needed")]
    Truncated { got: usize, need: usize },
    #[error("invalid packet version {0}")]
    BadVersion(i16),
    #[error("invalid packet type {0}")]
    BadType(i16),
    #[error("invalid buffer length {0}")]
    BadLength(i32),
    #[error("packet had invalid CRC32")]
    BadCrc,
    #[error("{extra} bytes after the packet")]
    Trailing { extra: usize },
}

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

static CRC_TABLE: [u32; 256] = crc_table();

/// Feeds bytes into a running CRC-32 (before the final xor).
fn crc_update(mut crc: u32, data: &[u8]) -> u32 {
    for &b in data {
        crc = CRC_TABLE[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8);
    }
    crc
}

/// The CRC-32 NRPE uses (the zlib one: polynomial 0xEDB88320, initial value and final
/// xor 0xFFFFFFFF).
pub fn crc32(data: &[u8]) -> u32 {
    crc_update(0xFFFF_FFFF, data) ^ 0xFFFF_FFFF
}

/// The CRC of a whole frame with the CRC field (and for v3/v4 the alignment) zeroed,
/// plus the v3 padding.
fn frame_crc(frame: &[u8], version: Version) -> u32 {
    let mut crc = crc_update(0xFFFF_FFFF, &frame[..4]);
    crc = crc_update(crc, &[0; 4]);
    match version {
        Version::V2 => crc = crc_update(crc, &frame[8..]),
        Version::V3 | Version::V4 => {
            crc = crc_update(crc, &frame[8..10]);
            crc = crc_update(crc, &[0; 2]);
            crc = crc_update(crc, &frame[12..]);
            if version == Version::V3 {
                crc = crc_update(crc, &[0; V3_TAIL]);
            }
        }
    }
    crc ^ 0xFFFF_FFFF
}

fn be16(b: &[u8]) -> i16 {
    i16::from_be_bytes([b[0], b[1]])
}

/// How long the frame is, from its first bytes: `Ok(None)` while more header bytes are
/// needed ([`COMMON_HEADER_LEN`] decide the version, [`V3_HEADER_LEN`] the length of a
/// v3/v4 frame). Lengths above `max_buffer` (at most [`MAX_BUFFER_LEN`]) are refused.
pub fn frame_len(prefix: &[u8], max_buffer: usize) -> Result<Option<usize>, DecodeError> {
    if prefix.len() < 2 {
        return Ok(None);
    }
    let n = be16(prefix);
    match Version::from_number(n) {
        None => Err(DecodeError::BadVersion(n)),
        Some(Version::V2) => Ok(Some(V2_PACKET_LEN)),
        Some(_) if prefix.len() < V3_HEADER_LEN => Ok(None),
        Some(_) => {
            let len = i32::from_be_bytes([prefix[12], prefix[13], prefix[14], prefix[15]]);
            if len < 1 || len as usize > max_buffer.min(MAX_BUFFER_LEN) {
                return Err(DecodeError::BadLength(len));
            }
            Ok(Some(V3_HEADER_LEN + len as usize))
        }
    }
}

/// Decodes one whole frame (v3 padding, if sent, is accepted and ignored).
pub fn decode(frame: &[u8]) -> Result<Packet, DecodeError> {
    let need = match frame_len(frame, MAX_BUFFER_LEN)? {
        Some(n) => n,
        None => {
            let need = if frame.len() < 2 {
                COMMON_HEADER_LEN
            } else {
                V3_HEADER_LEN
            };
            return Err(DecodeError::Truncated {
                got: frame.len(),
                need,
            });
        }
    };
    if frame.len() < need {
        return Err(DecodeError::Truncated {
            got: frame.len(),
            need,
        });
    }
    let version = Version::from_number(be16(frame)).expect("frame_len checked the version");
    let extra = frame.len() - need;
    let tail_ok =
        version == Version::V3 && extra == V3_TAIL && frame[need..].iter().all(|&b| b == 0);
    if extra != 0 && !tail_ok {
        return Err(DecodeError::Trailing { extra });
    }
    let frame = &frame[..need];
    let sent = u32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
    if sent != frame_crc(frame, version) {
        return Err(DecodeError::BadCrc);
    }
    let kind = match be16(&frame[2..]) {
        1 => Kind::Query,
        2 => Kind::Response,
        t => return Err(DecodeError::BadType(t)),
    };
    let buffer = match version {
        Version::V2 => &frame[COMMON_HEADER_LEN..COMMON_HEADER_LEN + V2_BUFFER_LEN],
        _ => &frame[V3_HEADER_LEN..],
    };
    // the last byte is the terminator, whatever the sender put there
    let buffer = &buffer[..buffer.len() - 1];
    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    Ok(Packet {
        version,
        kind,
        result_code: be16(&frame[8..]),
        text: buffer[..end].to_vec(),
    })
}

impl Packet {
    /// A query for `text` (`command` or `command!arg1!arg2`).
    pub fn query(version: Version, text: impl Into<Vec<u8>>) -> Packet {
        Packet {
            version,
            kind: Kind::Query,
            result_code: 0,
            text: text.into(),
        }
    }

    /// A response carrying a plugin's result code and output.
    pub fn response(version: Version, result_code: i16, text: impl Into<Vec<u8>>) -> Packet {
        Packet {
            version,
            kind: Kind::Response,
            result_code,
            text: text.into(),
        }
    }

    /// The bytes on the wire. Text past the version's limit
    /// ([`Version::max_text`]) or after a NUL is cut.
    pub fn encode(&self) -> Vec<u8> {
        let end = self
            .text
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.text.len())
            .min(self.version.max_text());
        let text = &self.text[..end];
        let mut out = Vec::with_capacity(V3_HEADER_LEN + text.len() + 1 + V3_TAIL);
        out.extend_from_slice(&self.version.number().to_be_bytes());
        out.extend_from_slice(&self.kind.number().to_be_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&self.result_code.to_be_bytes());
        match self.version {
            Version::V2 => {
                out.extend_from_slice(text);
                out.resize(V2_PACKET_LEN, 0);
            }
            Version::V3 | Version::V4 => {
                out.extend_from_slice(&[0; 2]);
                out.extend_from_slice(&(text.len() as i32 + 1).to_be_bytes());
                out.extend_from_slice(text);
                out.push(0);
            }
        }
        let crc = frame_crc(&out, self.version);
        out[4..8].copy_from_slice(&crc.to_be_bytes());
        if self.version == Version::V3 {
            out.extend_from_slice(&[0; V3_TAIL]);
        }
        out
    }
}

/// Why a packet could not be read from a stream.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The peer closed the connection before a whole packet arrived.
    #[error("connection closed after {got} of {need} bytes")]
    Closed { got: usize, need: usize },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Decode(#[from] DecodeError),
}

/// Reads exactly one packet: the header first, then as many bytes as it announces (never
/// more than `max_buffer` for v3/v4). A v3 packet's 3 padding bytes are not read.
pub async fn read_packet<R: AsyncRead + Unpin>(
    r: &mut R,
    max_buffer: usize,
) -> Result<Packet, ReadError> {
    let mut buf = vec![0u8; V3_HEADER_LEN];
    let mut have = 0;
    let mut want = COMMON_HEADER_LEN;
    loop {
        while have < want {
            let n = r.read(&mut buf[have..want]).await?;
            if n == 0 {
                return Err(ReadError::Closed {
                    got: have,
                    need: want,
                });
            }
            have += n;
        }
        match frame_len(&buf[..have], max_buffer)? {
            Some(total) if total == have => return Ok(decode(&buf[..have])?),
            Some(total) => {
                buf.resize(total, 0);
                want = total;
            }
            None => want = V3_HEADER_LEN,
        }
    }
}

/// The length of a version 2 packet whose buffer is `buffer_len` bytes (1024 as nrpe
/// sends it; NSClient++ can be set to another size, check_nrpe's `-P`).
pub fn v2_packet_len(buffer_len: usize) -> usize {
    COMMON_HEADER_LEN + buffer_len + 2
}

impl Packet {
    /// The bytes of a version 2 packet with a buffer of `buffer_len` bytes (at least 1,
    /// at most [`MAX_BUFFER_LEN`]); text past `buffer_len - 1` bytes or after a NUL is cut.
    pub fn encode_v2_sized(&self, buffer_len: usize) -> Vec<u8> {
        let buffer_len = buffer_len.clamp(1, MAX_BUFFER_LEN);
        let end = self
            .text
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.text.len())
            .min(buffer_len - 1);
        let mut out = Vec::with_capacity(v2_packet_len(buffer_len));
        out.extend_from_slice(&Version::V2.number().to_be_bytes());
        out.extend_from_slice(&self.kind.number().to_be_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&self.result_code.to_be_bytes());
        out.extend_from_slice(&self.text[..end]);
        out.resize(v2_packet_len(buffer_len), 0);
        let crc = frame_crc(&out, Version::V2);
        out[4..8].copy_from_slice(&crc.to_be_bytes());
        out
    }
}

/// Decodes a version 2 frame whose buffer is `buffer_len` bytes ([`Packet::encode_v2_sized`]).
pub fn decode_v2_sized(frame: &[u8], buffer_len: usize) -> Result<Packet, DecodeError> {
    if frame.len() < 2 {
        return Err(DecodeError::Truncated {
            got: frame.len(),
            need: COMMON_HEADER_LEN,
        });
    }
    let n = be16(frame);
    if n != Version::V2.number() {
        return Err(DecodeError::BadVersion(n));
    }
    let need = v2_packet_len(buffer_len);
    if frame.len() != need {
        return Err(if frame.len() < need {
            DecodeError::Truncated {
                got: frame.len(),
                need,
            }
        } else {
            DecodeError::Trailing {
                extra: frame.len() - need,
            }
        });
    }
    let sent = u32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
    if sent != frame_crc(frame, Version::V2) {
        return Err(DecodeError::BadCrc);
    }
    let kind = match be16(&frame[2..]) {
        1 => Kind::Query,
        2 => Kind::Response,
        t => return Err(DecodeError::BadType(t)),
    };
    let buffer = &frame[COMMON_HEADER_LEN..COMMON_HEADER_LEN + buffer_len - 1];
    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    Ok(Packet {
        version: Version::V2,
        kind,
        result_code: be16(&frame[8..]),
        text: buffer[..end].to_vec(),
    })
}

/// Reads one version 2 packet whose buffer is `buffer_len` bytes.
pub async fn read_v2_sized<R: AsyncRead + Unpin>(
    r: &mut R,
    buffer_len: usize,
) -> Result<Packet, ReadError> {
    let buffer_len = buffer_len.clamp(1, MAX_BUFFER_LEN);
    let total = v2_packet_len(buffer_len);
    let mut buf = vec![0u8; total];
    let mut have = 0;
    while have < total {
        // the header first, so a reply that is no v2 packet is known as such
        let want = if have < 2 { 2 } else { total };
        let n = r.read(&mut buf[have..want]).await?;
        if n == 0 {
            let need = if have < COMMON_HEADER_LEN {
                COMMON_HEADER_LEN
            } else {
                total
            };
            return Err(ReadError::Closed { got: have, need });
        }
        have += n;
        if have == 2 && be16(&buf) != Version::V2.number() {
            return Err(DecodeError::BadVersion(be16(&buf)).into());
        }
    }
    Ok(decode_v2_sized(&buf, buffer_len)?)
}

/// The query text for a command and its arguments: `command!arg1!arg2`.
pub fn query_text(command: &str, args: &[String]) -> String {
    let mut q = command.to_string();
    for a in args {
        q.push('!');
        q.push_str(a);
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn v2_sized_packets() {
        let q = Packet::query(Version::V2, "check_load");
        let bytes = q.encode_v2_sized(4096);
        assert_eq!(bytes.len(), v2_packet_len(4096));
        assert_eq!(decode_v2_sized(&bytes, 4096).unwrap(), q);
        // 1024 is the ordinary v2 packet
        assert_eq!(q.encode_v2_sized(V2_BUFFER_LEN), q.encode());
        assert_eq!(
            decode_v2_sized(&bytes[..100], 4096),
            Err(DecodeError::Truncated {
                got: 100,
                need: 4108
            })
        );
        let mut bad = bytes.clone();
        bad[50] ^= 1;
        assert_eq!(decode_v2_sized(&bad, 4096), Err(DecodeError::BadCrc));
        // text cut to the buffer
        let long = Packet::response(Version::V2, 1, "y".repeat(100));
        assert_eq!(
            decode_v2_sized(&long.encode_v2_sized(10), 10).unwrap().text,
            b"yyyyyyyyy"
        );
        let r = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let got = r.block_on(read_v2_sized(&mut &bytes[..], 4096)).unwrap();
        assert_eq!(got, q);
        let v4 = Packet::query(Version::V4, "x").encode();
        assert!(matches!(
            r.block_on(read_v2_sized(&mut &v4[..], 4096)),
            Err(ReadError::Decode(DecodeError::BadVersion(4)))
        ));
    }

    #[test]
    fn crc_matches_zlib() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    /// The CRC field holds the CRC of the frame as sent, the field zeroed.
    fn assert_crc_of_whole_frame(bytes: &[u8]) {
        let mut zeroed = bytes.to_vec();
        zeroed[4..8].fill(0);
        assert_eq!(
            u32::from_be_bytes(bytes[4..8].try_into().unwrap()),
            crc32(&zeroed)
        );
    }

    #[test]
    fn v2_layout() {
        let bytes = Packet::response(Version::V2, 1, "WARN - x").encode();
        assert_eq!(bytes.len(), V2_PACKET_LEN);
        assert_eq!(&bytes[..4], &[0, 2, 0, 2]);
        assert_eq!(&bytes[8..10], &[0, 1]);
        assert_eq!(&bytes[10..18], b"WARN - x");
        assert!(bytes[18..].iter().all(|&b| b == 0));
        assert_crc_of_whole_frame(&bytes);
    }

    #[test]
    fn v4_layout() {
        let bytes = Packet::query(Version::V4, "check_load").encode();
        assert_eq!(bytes.len(), V3_HEADER_LEN + 11);
        assert_eq!(&bytes[..4], &[0, 4, 0, 1]);
        assert_eq!(&bytes[10..16], &[0, 0, 0, 0, 0, 11]);
        assert_eq!(&bytes[16..], b"check_load\0");
        assert_crc_of_whole_frame(&bytes);
    }

    #[test]
    fn v3_crc_covers_padding() {
        let bytes = Packet::query(Version::V3, "x").encode();
        assert_eq!(bytes.len(), V3_HEADER_LEN + 2 + 3);
        assert_crc_of_whole_frame(&bytes);
        // with or without the padding on the wire
        assert_eq!(decode(&bytes).unwrap().text, b"x");
        assert_eq!(decode(&bytes[..bytes.len() - 3]).unwrap().text, b"x");
    }

    #[test]
    fn alignment_is_not_covered() {
        let mut bytes = Packet::query(Version::V4, "a").encode();
        bytes[10] = 0x55;
        assert_eq!(decode(&bytes).unwrap().text, b"a");
    }

    #[test]
    fn limits() {
        let long = vec![b'x'; 70_000];
        let p = decode(&Packet::response(Version::V2, 0, long.clone()).encode()).unwrap();
        assert_eq!(p.text.len(), 1023);
        let p = decode(&Packet::response(Version::V4, 0, long).encode()).unwrap();
        assert_eq!(p.text.len(), 65535);
        let mut hdr = Packet::query(Version::V4, "a").encode();
        hdr[12..16].copy_from_slice(&65537i32.to_be_bytes());
        assert_eq!(
            frame_len(&hdr, MAX_BUFFER_LEN),
            Err(DecodeError::BadLength(65537))
        );
        hdr[12..16].copy_from_slice(&(-1i32).to_be_bytes());
        assert_eq!(
            frame_len(&hdr, MAX_BUFFER_LEN),
            Err(DecodeError::BadLength(-1))
        );
        hdr[12..16].copy_from_slice(&2000i32.to_be_bytes());
        assert_eq!(frame_len(&hdr, 1024), Err(DecodeError::BadLength(2000)));
    }

    #[test]
    fn refusals() {
        let good = Packet::query(Version::V2, "x").encode();
        let mut bad = good.clone();
        bad[20] ^= 1;
        assert_eq!(decode(&bad), Err(DecodeError::BadCrc));
        assert_eq!(
            decode(&good[..100]),
            Err(DecodeError::Truncated {
                got: 100,
                need: V2_PACKET_LEN
            })
        );
        assert_eq!(
            decode(b"GET / HTTP/1.0"),
            Err(DecodeError::BadVersion(0x4745))
        );
        let mut typ = Packet::query(Version::V4, "x").encode();
        typ[3] = 7;
        let crc = frame_crc(&typ, Version::V4);
        typ[4..8].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(decode(&typ), Err(DecodeError::BadType(7)));
        let mut long = good.clone();
        long.push(0);
        assert_eq!(decode(&long), Err(DecodeError::Trailing { extra: 1 }));
    }

    #[test]
    fn text_stops_at_nul_and_last_byte() {
        let mut frame = Packet::query(Version::V4, "abc").encode();
        // overwrite the terminator: the last byte still ends the text
        let n = frame.len();
        frame[n - 1] = b'd';
        let crc = frame_crc(&frame, Version::V4);
        frame[4..8].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(decode(&frame).unwrap().text, b"abc");
    }

    #[test]
    fn reads_from_a_stream_in_pieces() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for v in [Version::V2, Version::V3, Version::V4] {
            let p = Packet::response(v, 2, "CRITICAL - down");
            let bytes = p.encode();
            let mut r = tokio_test_reader(bytes.clone());
            let got = rt.block_on(read_packet(&mut r, MAX_BUFFER_LEN)).unwrap();
            assert_eq!(got, p);
            let mut short = &bytes[..bytes.len() / 2];
            match rt.block_on(read_packet(&mut short, MAX_BUFFER_LEN)) {
                Err(ReadError::Closed { got, .. }) => assert!(got > 0),
                other => panic!("{other:?}"),
            }
        }
    }

    /// A reader that hands out 7 bytes at a time.
    fn tokio_test_reader(bytes: Vec<u8>) -> impl AsyncRead + Unpin {
        struct Trickle(Vec<u8>, usize);
        impl AsyncRead for Trickle {
            fn poll_read(
                mut self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let start = self.1;
                let end = (start + 7).min(self.0.len()).min(start + buf.remaining());
                buf.put_slice(&self.0[start..end]);
                self.1 = end;
                std::task::Poll::Ready(Ok(()))
            }
        }
        Trickle(bytes, 0)
    }

    #[test]
    fn query_text_joins_arguments() {
        assert_eq!(query_text("c", &[]), "c");
        assert_eq!(query_text("c", &["1".into(), "b c".into()]), "c!1!b c");
    }

    fn version() -> impl Strategy<Value = Version> {
        prop_oneof![Just(Version::V2), Just(Version::V3), Just(Version::V4)]
    }

    proptest! {
        #[test]
        fn round_trip(v in version(), code in -5i16..10, text in proptest::collection::vec(1u8..=255, 0..3000)) {
            let p = Packet::response(v, code, text.clone());
            let got = decode(&p.encode()).unwrap();
            let keep = text.len().min(v.max_text());
            prop_assert_eq!(got.text, text[..keep].to_vec());
            prop_assert_eq!(got.result_code, code);
            prop_assert_eq!(got.version, v);
        }

        #[test]
        fn corruption_never_decodes_to_another_packet(
            v in version(),
            text in proptest::collection::vec(1u8..=255, 0..200),
            pos in any::<prop::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let p = Packet::query(v, text);
            let mut bytes = p.encode();
            let i = pos.index(bytes.len());
            bytes[i] ^= flip;
            if let Ok(q) = decode(&bytes) {
                prop_assert_eq!(q, p);
            }
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let _ = decode(&bytes);
            let _ = frame_len(&bytes, MAX_BUFFER_LEN);
        }
    }
}
