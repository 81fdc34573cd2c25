//! Kerberos 5 as a client sees it, with no thresholds in it: the few messages an AS
//! exchange needs, DER-encoded here ([`der`]); MIT keytabs (format 0x502); the AES
//! encryption of RFC 3962 (aes256/aes128-cts-hmac-sha1-96, from picky-krb) for the
//! PA-ENC-TIMESTAMP pre-authentication (key usage 1) and the AS-REP's encrypted part
//! (key usage 3); and the exchange itself with one KDC over UDP or TCP.

use crate::host::clock::{civil_from_unix, days_from_civil};
use picky_krb::crypto::CipherSuite;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// UDP or TCP (with its 4-byte length prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        })
    }
}

/// A principal: name components and realm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub components: Vec<String>,
    pub realm: String,
}

impl std::fmt::Display for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.components.join("/"), self.realm)
    }
}

/// A key from a keytab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub etype: i32,
    pub kvno: u32,
    pub bytes: Vec<u8>,
}

/// aes256-cts-hmac-sha1-96.
pub const AES256: i32 = 18;
/// aes128-cts-hmac-sha1-96.
pub const AES128: i32 = 17;

/// The longest principal or realm accepted, in bytes.
pub const MAX_PRINCIPAL_LEN: usize = 256;

/// Reads `name/inst@REALM`; the realm defaults to `realm`. Control characters and
/// names longer than [`MAX_PRINCIPAL_LEN`] are refused; errors show the text escaped and
/// cut.
pub fn parse_principal(text: &str, realm: Option<&str>) -> Result<Principal, String> {
    use crate::plugin::shown;
    for t in std::iter::once(text).chain(realm) {
        if t.chars().any(char::is_control) {
            return Err(format!(
                "'{}' is not a principal or realm: it holds control characters",
                shown(t)
            ));
        }
        if t.len() > MAX_PRINCIPAL_LEN {
            return Err(format!(
                "'{}' is longer than {MAX_PRINCIPAL_LEN} bytes",
                shown(t)
            ));
        }
    }
    let (name, r) = match text.rsplit_once('@') {
        Some((n, r)) => (n, Some(r)),
        None => (text, None),
    };
    let realm = match (r, realm) {
        (Some(a), Some(b)) if a != b => {
            return Err(format!("principal realm {a} differs from -r {b}"))
        }
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => return Err(format!("principal {text} has no realm: give -r")),
    };
    let components: Vec<String> = name.split('/').map(str::to_string).collect();
    if realm.is_empty() || components.iter().any(String::is_empty) {
        return Err(format!(
            "'{text}' is not a principal (NAME[/INSTANCE][@REALM])"
        ));
    }
    Ok(Principal {
        components,
        realm: realm.to_string(),
    })
}

/// The largest keytab read, in bytes (a keytab of a few hosts holds a few KB).
pub const MAX_KEYTAB_LEN: u64 = 1 << 20;

/// Reads the keytab file at `path` (at most [`MAX_KEYTAB_LEN`] bytes) and returns the
/// newest AES key of `principal`; errors name the file, shown escaped and cut.
pub fn read_keytab(path: &std::path::Path, principal: &Principal) -> Result<Key, String> {
    let data = crate::host::files::read_bounded(path, MAX_KEYTAB_LEN, "keytab ")?;
    let name = crate::plugin::shown(&path.display().to_string());
    keytab_key(&data, principal).map_err(|e| format!("{name}: {e}"))
}

/// Reads an MIT keytab (format 0x502): the newest AES key of `principal`.
pub fn keytab_key(data: &[u8], principal: &Principal) -> Result<Key, String> {
    if data.len() < 2 || data[0] != 5 || data[1] != 2 {
        return Err("not a keytab (version 0x502)".into());
    }
    let mut pos = 2;
    let mut best: Option<Key> = None;
    let short = || "truncated keytab".to_string();
    while pos + 4 <= data.len() {
        let size = i32::from_be_bytes(data[pos..pos + 4].try_into().expect("4 bytes"));
        pos += 4;
        let len = size.unsigned_abs() as usize;
        let entry = data.get(pos..pos + len).ok_or_else(short)?;
        pos += len;
        if size <= 0 {
            continue; // a hole left by a removed entry
        }
        let mut r = Reader(entry);
        let n = r.u16().ok_or_else(short)?;
        let realm = r.counted().ok_or_else(short)?;
        let mut comps = Vec::new();
        for _ in 0..n {
            comps.push(r.counted().ok_or_else(short)?);
        }
        r.take(4 + 4).ok_or_else(short)?; // name type, timestamp
        let vno8 = r.take(1).ok_or_else(short)?[0] as u32;
        let etype = r.u16().ok_or_else(short)? as i32;
        let key = r.counted_bytes().ok_or_else(short)?.to_vec();
        let kvno = match r.take(4) {
            Some(b) if b != [0; 4] => u32::from_be_bytes(b.try_into().expect("4 bytes")),
            _ => vno8,
        };
        let matches = realm == principal.realm && comps == principal.components;
        if matches
            && (etype == AES256 || etype == AES128)
            && best
                .as_ref()
                .is_none_or(|b| (kvno, etype) > (b.kvno, b.etype))
        {
            best = Some(Key {
                etype,
                kvno,
                bytes: key,
            });
        }
    }
    best.ok_or_else(|| format!("the keytab has no AES key for {principal}"))
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    fn counted_bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()? as usize;
        self.take(n)
    }
    fn counted(&mut self) -> Option<String> {
        self.counted_bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }
}

/// Minimal DER for the Kerberos messages this check sends and reads.
pub mod der {
    /// A TLV with a one-byte tag.
    pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        let n = content.len();
        if n < 0x80 {
            v.push(n as u8);
        } else {
            let bytes: Vec<u8> = n
                .to_be_bytes()
                .into_iter()
                .skip_while(|&b| b == 0)
                .collect();
            v.push(0x80 | bytes.len() as u8);
            v.extend(bytes);
        }
        v.extend_from_slice(content);
        v
    }

    /// `[n]` EXPLICIT around a TLV.
    pub fn ctx(n: u8, inner: Vec<u8>) -> Vec<u8> {
        tlv(0xa0 | n, &inner)
    }

    /// A SEQUENCE of already-encoded parts.
    pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
        tlv(0x30, &parts.concat())
    }

    /// An INTEGER.
    pub fn int(v: i64) -> Vec<u8> {
        let b = v.to_be_bytes();
        let mut i = 0;
        while i < 7
            && ((b[i] == 0 && b[i + 1] & 0x80 == 0) || (b[i] == 0xff && b[i + 1] & 0x80 != 0))
        {
            i += 1;
        }
        tlv(0x02, &b[i..])
    }

    /// A GeneralString.
    pub fn string(s: &str) -> Vec<u8> {
        tlv(0x1b, s.as_bytes())
    }

    /// One TLV at the start of `buf`: tag, content and the rest.
    pub fn read(buf: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let tag = *buf.first()?;
        let first = *buf.get(1)?;
        let (len, head) = if first < 0x80 {
            (first as usize, 2)
        } else {
            let n = (first & 0x7f) as usize;
            if n == 0 || n > 4 {
                return None;
            }
            let mut len = 0usize;
            for &b in buf.get(2..2 + n)? {
                len = len << 8 | b as usize;
            }
            (len, 2 + n)
        };
        let content = buf.get(head..head + len)?;
        Some((tag, content, &buf[head + len..]))
    }

    /// The content of `[n]` in a SEQUENCE's content, unwrapped to its inner TLV's content.
    pub fn field(seq_content: &[u8], n: u8) -> Option<(u8, &[u8])> {
        let mut rest = seq_content;
        while !rest.is_empty() {
            let (tag, content, next) = read(rest)?;
            if tag == 0xa0 | n {
                let (t, c, _) = read(content)?;
                return Some((t, c));
            }
            rest = next;
        }
        None
    }

    /// An INTEGER's value.
    pub fn to_int(content: &[u8]) -> Option<i64> {
        if content.is_empty() || content.len() > 8 {
            return None;
        }
        let mut v: i64 = if content[0] & 0x80 != 0 { -1 } else { 0 };
        for &b in content {
            v = v << 8 | b as i64;
        }
        Some(v)
    }
}

/// A KerberosTime (`YYYYMMDDHHMMSSZ`) for Unix seconds.
pub fn kerberos_time(secs: i64) -> String {
    let c = civil_from_unix(secs);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// Unix seconds of a KerberosTime.
pub fn parse_kerberos_time(text: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(text).ok()?;
    if s.len() < 15 || !s.ends_with('Z') {
        return None;
    }
    let n = |a: usize, b: usize| s.get(a..b)?.parse::<i64>().ok();
    Some(
        days_from_civil(n(0, 4)?, n(4, 6)?, n(6, 8)?) * 86_400
            + n(8, 10)? * 3600
            + n(10, 12)? * 60
            + n(12, 14)?,
    )
}

fn principal_name(name_type: i64, comps: &[String]) -> Vec<u8> {
    let names: Vec<Vec<u8>> = comps.iter().map(|c| der::string(c)).collect();
    der::seq(&[
        der::ctx(0, der::int(name_type)),
        der::ctx(1, der::seq(&names)),
    ])
}

/// The AS-REQ for `principal`'s ticket-granting ticket, with optional PA-DATA.
pub fn as_req(
    principal: &Principal,
    nonce: u32,
    etypes: &[i32],
    padata: Option<Vec<u8>>,
) -> Vec<u8> {
    let krbtgt = vec!["krbtgt".to_string(), principal.realm.clone()];
    let body = der::seq(&[
        der::ctx(0, der::tlv(0x03, &[0, 0, 0, 0, 0])),
        der::ctx(1, principal_name(1, &principal.components)),
        der::ctx(2, der::string(&principal.realm)),
        der::ctx(3, principal_name(2, &krbtgt)),
        der::ctx(5, der::tlv(0x18, b"20370913024805Z")),
        der::ctx(7, der::int(i64::from(nonce & 0x7fff_ffff))),
        der::ctx(
            8,
            der::seq(
                &etypes
                    .iter()
                    .map(|&e| der::int(e.into()))
                    .collect::<Vec<_>>(),
            ),
        ),
    ]);
    let mut parts = vec![der::ctx(1, der::int(5)), der::ctx(2, der::int(10))];
    if let Some(pa) = padata {
        parts.push(der::ctx(3, der::seq(&[pa])));
    }
    parts.push(der::ctx(4, body));
    der::tlv(0x6a, &der::seq(&parts))
}

fn cipher(etype: i32) -> CipherSuite {
    if etype == AES128 {
        CipherSuite::Aes128CtsHmacSha196
    } else {
        CipherSuite::Aes256CtsHmacSha196
    }
}

/// The PA-ENC-TIMESTAMP PA-DATA for `now`, encrypted with `key` (key usage 1).
pub fn pa_enc_timestamp(key: &Key, now: SystemTime) -> Result<Vec<u8>, String> {
    let d = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let ts = der::seq(&[
        der::ctx(
            0,
            der::tlv(0x18, kerberos_time(d.as_secs() as i64).as_bytes()),
        ),
        der::ctx(1, der::int(i64::from(d.subsec_micros()))),
    ]);
    let enc = cipher(key.etype)
        .cipher()
        .encrypt(&key.bytes, 1, &ts)
        .map_err(|e| format!("cannot encrypt the timestamp: {e}"))?;
    let data = der::seq(&[
        der::ctx(0, der::int(key.etype.into())),
        der::ctx(1, der::int(key.kvno.into())),
        der::ctx(2, der::tlv(0x04, &enc)),
    ]);
    Ok(der::seq(&[
        der::ctx(1, der::int(2)),
        der::ctx(2, der::tlv(0x04, &data)),
    ]))
}

/// What a KDC answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A KRB-ERROR: the code and the KDC's clock.
    Error { code: i64, server_time: Option<i64> },
    /// An AS-REP: its encrypted part's etype and ciphertext.
    AsRep { etype: i64, cipher: Vec<u8> },
}

/// Reads a KDC's reply.
pub fn parse_answer(buf: &[u8]) -> Result<Answer, String> {
    let bad = || format!("a {}-byte reply that is not a Kerberos message", buf.len());
    let (tag, content, _) = der::read(buf).ok_or_else(bad)?;
    let (_, seq, _) = der::read(content).ok_or_else(bad)?;
    match tag {
        0x7e => {
            let (_, code) = der::field(seq, 6).ok_or_else(bad)?;
            let server_time = der::field(seq, 4).and_then(|(_, t)| parse_kerberos_time(t));
            Ok(Answer::Error {
                code: der::to_int(code).ok_or_else(bad)?,
                server_time,
            })
        }
        0x6b => {
            let (_, enc) = der::field(seq, 6).ok_or_else(bad)?;
            let (_, etype) = der::field(enc, 0).ok_or_else(bad)?;
            let (_, cipher) = der::field(enc, 2).ok_or_else(bad)?;
            Ok(Answer::AsRep {
                etype: der::to_int(etype).ok_or_else(bad)?,
                cipher: cipher.to_vec(),
            })
        }
        _ => Err(bad()),
    }
}

/// Decrypts an AS-REP's encrypted part (key usage 3) and returns its nonce.
pub fn decrypt_as_rep(key: &Key, cipher_text: &[u8]) -> Result<i64, String> {
    let plain = cipher(key.etype)
        .cipher()
        .decrypt(&key.bytes, 3, cipher_text)
        .map_err(|_| "cannot decrypt the AS-REP with the keytab's key".to_string())?;
    let bad = || "the decrypted AS-REP part is not an EncASRepPart".to_string();
    let (tag, content, _) = der::read(&plain).ok_or_else(bad)?;
    if tag != 0x79 && tag != 0x7a {
        return Err(bad());
    }
    let (_, seq, _) = der::read(content).ok_or_else(bad)?;
    let (_, nonce) = der::field(seq, 2).ok_or_else(bad)?;
    der::to_int(nonce).ok_or_else(bad)
}

/// The name of a Kerberos error code.
pub fn error_name(code: i64) -> &'static str {
    match code {
        6 => "KDC_ERR_C_PRINCIPAL_UNKNOWN",
        7 => "KDC_ERR_S_PRINCIPAL_UNKNOWN",
        14 => "KDC_ERR_ETYPE_NOSUPP",
        18 => "KDC_ERR_CLIENT_REVOKED",
        23 => "KDC_ERR_KEY_EXPIRED",
        24 => "KDC_ERR_PREAUTH_FAILED",
        25 => "KDC_ERR_PREAUTH_REQUIRED",
        31 => "KRB_AP_ERR_BAD_INTEGRITY",
        37 => "KRB_AP_ERR_SKEW",
        60 => "KRB_ERR_GENERIC",
        68 => "KDC_ERR_WRONG_REALM",
        _ => "unknown error",
    }
}

/// What an exchange proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A KRB-ERROR with the KDC's clock minus ours in seconds.
    Error { code: i64, skew: Option<i64> },
    /// An AS-REP; with a key, it decrypted and its nonce matched.
    Ticket,
}

/// Why an exchange gave nothing to judge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KdcError {
    /// Nothing came back within the time given (the KDC is silent or hung).
    #[error("no answer within {:.1}s", .0.as_secs_f64())]
    NoAnswer(Duration),
    /// A TCP connect did not finish within the time given.
    #[error("no connection within {:.1}s", .0.as_secs_f64())]
    NoConnection(Duration),
    /// The network failed, or the reply could not be used.
    #[error("{0}")]
    Failed(String),
}

impl KdcError {
    /// True when the time given ran out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, KdcError::NoAnswer(_) | KdcError::NoConnection(_))
    }
}

impl From<String> for KdcError {
    fn from(e: String) -> Self {
        KdcError::Failed(e)
    }
}

/// A request nonce (31 bits: some KDCs read it as a signed number).
pub fn nonce() -> u32 {
    super::random::rand_u32() & 0x7fff_ffff
}

/// Sends `req` over UDP, again after 1, 2, 4 s while the budget lasts.
async fn udp_exchange(addr: SocketAddr, req: &[u8], budget: Duration) -> Result<Vec<u8>, KdcError> {
    let bind = if addr.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let sock = tokio::net::UdpSocket::bind(bind)
        .await
        .map_err(|e| format!("cannot open a UDP socket: {e}"))?;
    sock.connect(addr).await.map_err(|e| e.to_string())?;
    let deadline = Instant::now() + budget;
    let mut wait = Duration::from_secs(1);
    let mut buf = vec![0u8; 65_536];
    loop {
        let _ = sock.send(req).await;
        let until = (Instant::now() + wait).min(deadline);
        match tokio::time::timeout_at(until.into(), sock.recv(&mut buf)).await {
            Ok(Ok(n)) => return Ok(buf[..n].to_vec()),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                tokio::time::sleep_until(until.into()).await;
            }
            Ok(Err(e)) => return Err(e.to_string().into()),
            Err(_) => {}
        }
        if Instant::now() >= deadline {
            return Err(KdcError::NoAnswer(budget));
        }
        wait *= 2;
    }
}

/// Sends `req` over TCP with its length prefix and reads the reply.
async fn tcp_exchange(addr: SocketAddr, req: &[u8], budget: Duration) -> Result<Vec<u8>, KdcError> {
    let work = async {
        let mut s = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let mut msg = (req.len() as u32).to_be_bytes().to_vec();
        msg.extend_from_slice(req);
        s.write_all(&msg).await.map_err(|e| e.to_string())?;
        let mut len = [0u8; 4];
        s.read_exact(&mut len)
            .await
            .map_err(|e| format!("reading the reply: {e}"))?;
        let len = u32::from_be_bytes(len) as usize;
        if len > 1 << 20 {
            return Err(format!("reply length {len} is not a Kerberos message"));
        }
        let mut buf = vec![0u8; len];
        s.read_exact(&mut buf)
            .await
            .map_err(|e| format!("reading the reply: {e}"))?;
        Ok(buf)
    };
    match tokio::time::timeout(budget, work).await {
        Ok(r) => r.map_err(KdcError::Failed),
        Err(_) => Err(KdcError::NoAnswer(budget)),
    }
}

/// One AS exchange with the KDC at `addr` for `principal`'s ticket-granting ticket:
/// without a key, no pre-authentication (a PREAUTH_REQUIRED error or an AS-REP says the
/// KDC is up and knows the principal); with a key, an encrypted timestamp made with it,
/// and the AS-REP's encrypted part must decrypt with it and carry our nonce. Returns what
/// the KDC said and the round-trip time.
pub async fn as_exchange(
    addr: SocketAddr,
    transport: Transport,
    principal: &Principal,
    key: Option<&Key>,
    budget: Duration,
) -> Result<(Outcome, Duration), KdcError> {
    let n = nonce();
    let now = SystemTime::now();
    let (etypes, padata) = match key {
        Some(k) => (vec![k.etype], Some(pa_enc_timestamp(k, now)?)),
        None => (vec![AES256, AES128], None),
    };
    let req = as_req(principal, n, &etypes, padata);
    let start = Instant::now();
    let reply = match transport {
        Transport::Udp => udp_exchange(addr, &req, budget).await?,
        Transport::Tcp => tcp_exchange(addr, &req, budget).await?,
    };
    let rtt = start.elapsed();
    let outcome = match parse_answer(&reply)? {
        Answer::Error { code, server_time } => Outcome::Error {
            code,
            skew: server_time
                .map(|t| t - now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() as i64),
        },
        Answer::AsRep { etype, cipher } => {
            if let Some(k) = key {
                if etype != i64::from(k.etype) {
                    return Err(KdcError::Failed(format!(
                        "the AS-REP is encrypted with etype {etype}, not the keytab's {}",
                        k.etype
                    )));
                }
                let got = decrypt_as_rep(k, &cipher)?;
                if got != i64::from(n) {
                    return Err(KdcError::Failed(format!(
                        "the AS-REP answers another request (nonce {got})"
                    )));
                }
            }
            Outcome::Ticket
        }
    };
    Ok((outcome, rtt))
}

/// Connects to a TCP port (kadmind's) within `budget`: the time the connect took.
pub async fn connect(host: &str, port: u16, budget: Duration) -> Result<Duration, KdcError> {
    let start = Instant::now();
    match tokio::time::timeout(budget, tokio::net::TcpStream::connect((host, port))).await {
        Err(_) => Err(KdcError::NoConnection(budget)),
        Ok(Err(e)) => Err(KdcError::Failed(e.to_string())),
        Ok(Ok(_)) => Ok(start.elapsed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        assert_eq!(kerberos_time(0), "19700101000000Z");
        assert_eq!(kerberos_time(1_700_000_000), "20231114221320Z");
        assert_eq!(parse_kerberos_time(b"20231114221320Z"), Some(1_700_000_000));
        assert_eq!(parse_kerberos_time(b"2023"), None);
    }

    #[test]
    fn der_integers_and_lengths() {
        assert_eq!(der::int(5), [2, 1, 5]);
        assert_eq!(der::int(128), [2, 2, 0, 128]);
        assert_eq!(der::int(-1), [2, 1, 0xff]);
        assert_eq!(der::to_int(&[0, 128]), Some(128));
        assert_eq!(der::to_int(&[0xff]), Some(-1));
        let long = der::tlv(0x04, &[7; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 1, 44]);
        let (tag, content, rest) = der::read(&long).unwrap();
        assert_eq!((tag, content.len(), rest.len()), (4, 300, 0));
        assert!(der::read(&long[..100]).is_none());
    }

    #[test]
    fn reads_a_krb_error() {
        let body = der::seq(&[
            der::ctx(0, der::int(5)),
            der::ctx(1, der::int(30)),
            der::ctx(4, der::tlv(0x18, b"20231114221320Z")),
            der::ctx(5, der::int(0)),
            der::ctx(6, der::int(25)),
        ]);
        let msg = der::tlv(0x7e, &body);
        assert_eq!(
            parse_answer(&msg),
            Ok(Answer::Error {
                code: 25,
                server_time: Some(1_700_000_000)
            })
        );
        assert!(parse_answer(b"garbage").is_err());
    }

    #[test]
    fn encrypted_as_rep_round_trip() {
        let key = Key {
            etype: AES256,
            kvno: 2,
            bytes: vec![3; 32],
        };
        let part = der::tlv(0x79, &der::seq(&[der::ctx(2, der::int(12345))]));
        let enc = CipherSuite::Aes256CtsHmacSha196
            .cipher()
            .encrypt(&key.bytes, 3, &part)
            .unwrap();
        assert_eq!(decrypt_as_rep(&key, &enc), Ok(12345));
        let other = Key {
            bytes: vec![4; 32],
            ..key.clone()
        };
        assert!(decrypt_as_rep(&other, &enc).is_err());
        // the timestamp decrypts with usage 1
        let pa = pa_enc_timestamp(&key, UNIX_EPOCH + Duration::from_secs(1_700_000_000)).unwrap();
        let (_, seq, _) = der::read(&pa).unwrap();
        let (_, data) = der::field(seq, 2).unwrap();
        let (_, enc_seq, _) = der::read(data).unwrap();
        let (_, c) = der::field(enc_seq, 2).unwrap();
        let plain = CipherSuite::Aes256CtsHmacSha196
            .cipher()
            .decrypt(&key.bytes, 1, c)
            .unwrap();
        assert!(plain.windows(15).any(|w| w == b"20231114221320Z"));
    }

    #[test]
    fn keytab_entries() {
        // one entry: alice@HCOOP.TEST, kvno 2, aes256 key of 32 bytes
        let mut e = Vec::new();
        e.extend(1u16.to_be_bytes());
        e.extend(10u16.to_be_bytes());
        e.extend(b"HCOOP.TEST");
        e.extend(5u16.to_be_bytes());
        e.extend(b"alice");
        e.extend(1u32.to_be_bytes());
        e.extend(0u32.to_be_bytes());
        e.push(2);
        e.extend(18u16.to_be_bytes());
        e.extend(32u16.to_be_bytes());
        e.extend([9u8; 32]);
        e.extend(2u32.to_be_bytes());
        let mut kt = vec![5, 2];
        kt.extend((-8i32).to_be_bytes());
        kt.extend([0; 8]);
        kt.extend((e.len() as i32).to_be_bytes());
        kt.extend(&e);
        let alice = parse_principal("alice@HCOOP.TEST", None).unwrap();
        let k = keytab_key(&kt, &alice).unwrap();
        assert_eq!((k.etype, k.kvno, k.bytes.len()), (18, 2, 32));
        let bob = parse_principal("bob", Some("HCOOP.TEST")).unwrap();
        assert_eq!(
            keytab_key(&kt, &bob),
            Err("the keytab has no AES key for bob@HCOOP.TEST".into())
        );
        assert!(keytab_key(&kt[..30], &alice).is_err());
        assert!(keytab_key(b"xx", &alice).is_err());
        // a file that never ends is cut, not read into memory whole
        assert_eq!(
            read_keytab(std::path::Path::new("/dev/zero"), &alice),
            Err("cannot read keytab /dev/zero: larger than 1048576 bytes".into())
        );
    }
}
