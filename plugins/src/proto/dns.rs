//! A small DNS client shared by check_dns and check_dns_serial: one question to one
//! server over UDP (falling back to TCP when the answer is truncated) or over TCP only,
//! with the recursion-desired and DNSSEC bits under the caller's control. Messages are
//! built and parsed with hickory-proto; the sockets are plain tokio sockets.

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{timeout_at, Instant};

/// The UDP payload size we advertise in EDNS (the DNS flag day 2020 value).
pub const EDNS_PAYLOAD: u16 = 1232;

/// How a question travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// UDP, asked again over TCP when the answer comes back truncated (TC).
    UdpThenTcp,
    /// TCP only.
    Tcp,
}

pub use crate::plugin::target::Family;

/// One question and how to ask it.
#[derive(Debug, Clone)]
pub struct Request {
    pub name: Name,
    pub rtype: RecordType,
    /// The RD bit: false to ask an authoritative server about its own data only.
    pub recursion: bool,
    /// Sets the EDNS DO bit and the AD bit in the question.
    pub dnssec: bool,
    pub transport: Transport,
    /// How long this question may take in all (retransmissions and TCP included).
    pub timeout: Duration,
}

/// A matching answer and how it came.
#[derive(Debug, Clone)]
pub struct Response {
    pub message: Message,
    /// True when the answer came over TCP.
    pub tcp: bool,
    /// From the first packet sent to the answer.
    pub elapsed: Duration,
}

/// Why a question got no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Nothing came back in time.
    #[error("no answer within {}", crate::proto::dns::seconds(*.0))]
    Timeout(Duration),
    /// The socket failed (refused, unreachable, reset).
    #[error("{0}")]
    Network(String),
    /// Something came back that is not a DNS answer to our question.
    #[error("malformed answer: {0}")]
    Malformed(String),
}

/// A duration as seconds for messages: `2s`, `0.5s`.
pub fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    let s = if s >= 1.0 {
        (s * 10.0).round() / 10.0
    } else {
        (s * 1000.0).round() / 1000.0
    };
    format!("{s}s")
}

/// A fresh message id.
fn random_id() -> u16 {
    super::random::rand_u32() as u16
}

/// The wire form of a question.
pub fn build_query(id: u16, req: &Request) -> Result<Vec<u8>, QueryError> {
    let mut m = Message::new();
    m.set_id(id)
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(req.recursion);
    m.add_query(Query::query(req.name.clone(), req.rtype));
    let mut edns = Edns::new();
    edns.set_max_payload(EDNS_PAYLOAD).set_version(0);
    if req.dnssec {
        edns.set_dnssec_ok(true);
        m.set_authentic_data(true);
    }
    m.set_edns(edns);
    m.to_vec()
        .map_err(|e| QueryError::Malformed(format!("cannot encode the question: {e}")))
}

/// True when `m` is the answer to question `id` for `req`.
fn answers(m: &Message, id: u16, req: &Request) -> bool {
    m.id() == id
        && m.message_type() == MessageType::Response
        && m.queries().len() == 1
        && m.queries()[0].query_type() == req.rtype
        && m.queries()[0].name().eq(&req.name)
}

/// Parses a datagram or TCP message that claims to answer question `id`.
fn parse_answer(bytes: &[u8], id: u16, req: &Request) -> Result<Message, QueryError> {
    let m = Message::from_vec(bytes).map_err(|e| QueryError::Malformed(e.to_string()))?;
    if answers(&m, id, req) {
        Ok(m)
    } else {
        Err(QueryError::Malformed(format!(
            "the answer (id {}) does not match the question (id {id}, {} {})",
            m.id(),
            req.name,
            req.rtype
        )))
    }
}

fn net_err(what: &str, e: std::io::Error) -> QueryError {
    let text = match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
        std::io::ErrorKind::ConnectionReset => "connection reset".to_string(),
        _ => e.to_string(),
    };
    QueryError::Network(format!("{what}: {text}"))
}

/// The unspecified address of `server`'s family, port 0.
fn local_for(server: SocketAddr) -> SocketAddr {
    match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    }
}

/// One question on its way: to whom, its wire form and id, and until when.
struct Asking<'a> {
    server: SocketAddr,
    wire: &'a [u8],
    id: u16,
    req: &'a Request,
    deadline: Instant,
}

/// Asks over UDP, sending again after 1, 2, 4 ... seconds until the deadline. Datagrams
/// that do not answer the question are ignored, except one carrying our id that does not
/// parse: that is a server sending garbage.
async fn ask_udp(q: &Asking<'_>) -> Result<Message, QueryError> {
    let sock = UdpSocket::bind(local_for(q.server))
        .await
        .map_err(|e| net_err("udp socket", e))?;
    sock.connect(q.server)
        .await
        .map_err(|e| net_err("udp connect", e))?;
    let mut buf = vec![0u8; 65535];
    let mut wait = Duration::from_secs(1);
    loop {
        sock.send(q.wire)
            .await
            .map_err(|e| net_err("udp send", e))?;
        let resend = (Instant::now() + wait).min(q.deadline);
        loop {
            let n = match timeout_at(resend, sock.recv(&mut buf)).await {
                Err(_) => break,
                Ok(Err(e)) => return Err(net_err("udp", e)),
                Ok(Ok(n)) => n,
            };
            match parse_answer(&buf[..n], q.id, q.req) {
                Ok(m) => return Ok(m),
                Err(e) if n >= 2 && u16::from_be_bytes([buf[0], buf[1]]) == q.id => {
                    if Message::from_vec(&buf[..n]).is_err() {
                        return Err(e);
                    }
                }
                Err(_) => {}
            }
        }
        if Instant::now() >= q.deadline {
            return Err(QueryError::Timeout(q.req.timeout));
        }
        wait *= 2;
    }
}

/// Asks over TCP: a 2-byte length, then the message, both ways.
async fn ask_tcp(q: &Asking<'_>) -> Result<Message, QueryError> {
    let io = async {
        let mut s = TcpStream::connect(q.server)
            .await
            .map_err(|e| net_err("tcp connect", e))?;
        let mut out = Vec::with_capacity(q.wire.len() + 2);
        out.extend_from_slice(&(q.wire.len() as u16).to_be_bytes());
        out.extend_from_slice(q.wire);
        s.write_all(&out).await.map_err(|e| net_err("tcp", e))?;
        let mut len = [0u8; 2];
        s.read_exact(&mut len).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                QueryError::Network("tcp: the server closed the connection".into())
            }
            _ => net_err("tcp", e),
        })?;
        let mut body = vec![0u8; u16::from_be_bytes(len) as usize];
        s.read_exact(&mut body).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                QueryError::Malformed("tcp: the answer was cut short".into())
            }
            _ => net_err("tcp", e),
        })?;
        parse_answer(&body, q.id, q.req)
    };
    timeout_at(q.deadline, io)
        .await
        .unwrap_or(Err(QueryError::Timeout(q.req.timeout)))
}

/// Asks `server` one question and returns the matching answer, whatever its rcode.
pub async fn query(server: SocketAddr, req: &Request) -> Result<Response, QueryError> {
    let start = Instant::now();
    let id = random_id();
    let wire = build_query(id, req)?;
    let q = Asking {
        server,
        wire: &wire,
        id,
        req,
        deadline: start + req.timeout,
    };
    let (message, tcp) = match req.transport {
        Transport::Tcp => (ask_tcp(&q).await?, true),
        Transport::UdpThenTcp => {
            let m = ask_udp(&q).await?;
            if m.truncated() {
                (ask_tcp(&q).await?, true)
            } else {
                (m, false)
            }
        }
    };
    Ok(Response {
        message,
        tcp,
        elapsed: start.elapsed(),
    })
}

/// The mnemonic of a response code, as dig prints it (`NOERROR`, `REFUSED`, ...).
pub fn rcode_name(rc: ResponseCode) -> String {
    match rc {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        ResponseCode::NotAuth => "NOTAUTH".into(),
        ResponseCode::NotZone => "NOTZONE".into(),
        other => format!("rcode {}", u16::from(other)),
    }
}

/// How long a check's own questions may take in all: its `-t` less a margin, so that a
/// server that does not answer is reported by the check itself, naming the server,
/// before the runner's overall timeout fires.
pub fn query_budget(total: Duration) -> Duration {
    total.saturating_sub((total / 10).min(Duration::from_millis(250)))
}

/// The `nameserver` addresses of a resolv.conf text, in order; 127.0.0.1 when there is
/// none (as resolv.conf(5) says).
pub fn parse_resolv_conf(text: &str) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = text
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some("nameserver"))
                .then(|| w.next())
                .flatten()
                .and_then(|a| a.split('%').next()?.parse().ok())
        })
        .collect();
    if out.is_empty() {
        out.push(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    out
}

/// The system resolver's name servers, from /etc/resolv.conf.
pub fn system_nameservers() -> Vec<IpAddr> {
    parse_resolv_conf(&std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default())
}

/// The system resolver's name servers of the allowed families, on `port`.
pub fn system_servers(port: u16, family: Family) -> Vec<SocketAddr> {
    system_nameservers()
        .into_iter()
        .filter(|ip| family.accepts(ip))
        .map(|ip| SocketAddr::new(ip, port))
        .collect()
}

/// The DNS servers to ask: `server` (an address or a host name) resolved, or else the
/// system resolver's; only addresses of `family`, on `port`, in order.
pub async fn servers_to_ask(
    server: Option<&str>,
    port: u16,
    family: Family,
) -> Result<Vec<SocketAddr>, String> {
    match server {
        Some(s) => resolve_host(s, port, family).await,
        None => {
            let list = system_servers(port, family);
            if list.is_empty() {
                Err("/etc/resolv.conf has no name server of the requested family".into())
            } else {
                Ok(list)
            }
        }
    }
}

/// The address an A or AAAA record holds.
pub fn address(data: &RData) -> Option<IpAddr> {
    match data {
        RData::A(a) => Some(IpAddr::V4(a.0)),
        RData::AAAA(a) => Some(IpAddr::V6(a.0)),
        _ => None,
    }
}

/// A domain name as typed (`example.org` or `example.org.`), made absolute.
pub fn parse_name(text: &str) -> Result<Name, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty domain name".into());
    }
    if t.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!(
            "invalid domain name '{}': control characters and spaces are not allowed",
            crate::plugin::shown(t)
        ));
    }
    let mut n = Name::from_utf8(t).map_err(|e| {
        // the name and hickory's words about it, shown escaped and cut
        let why = crate::plugin::shown(&e.to_string());
        format!("invalid domain name '{}': {why}", crate::plugin::shown(t))
    })?;
    n.set_fqdn(true);
    Ok(n)
}

/// A name for messages: lower case, without the final dot (the root stays `.`).
pub fn show_name(name: &Name) -> String {
    let s = name.to_lowercase().to_utf8();
    match s.strip_suffix('.') {
        Some(t) if !t.is_empty() => t.to_string(),
        _ => s,
    }
}

/// Resolves a server given as an address or a host name (through the system's
/// getaddrinfo), keeping the allowed families, in the order returned.
pub async fn resolve_host(
    host: &str,
    port: u16,
    family: Family,
) -> Result<Vec<SocketAddr>, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<IpAddr>() {
        return if family.accepts(&ip) {
            Ok(vec![SocketAddr::new(ip, port)])
        } else {
            Err(format!("{host} is not an address of the requested family"))
        };
    }
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .filter(|a| family.accepts(&a.ip()))
        .collect();
    if addrs.is_empty() {
        Err(format!("{host} has no address of the requested family"))
    } else {
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(name: &str) -> Request {
        Request {
            name: parse_name(name).unwrap(),
            rtype: RecordType::SOA,
            recursion: false,
            dnssec: true,
            transport: Transport::UdpThenTcp,
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn question_bits() {
        let wire = build_query(0x1234, &req("Example.ORG")).unwrap();
        let m = Message::from_vec(&wire).unwrap();
        assert_eq!(m.id(), 0x1234);
        assert!(!m.recursion_desired());
        assert!(m.authentic_data());
        let edns = m.extensions().as_ref().unwrap();
        assert!(edns.flags().dnssec_ok);
        assert_eq!(edns.max_payload(), EDNS_PAYLOAD);
        assert_eq!(m.queries()[0].query_type(), RecordType::SOA);
    }

    #[test]
    fn answers_must_match_the_question() {
        let r = req("example.org");
        let wire = build_query(7, &r).unwrap();
        let mut m = Message::from_vec(&wire).unwrap();
        // a question is not an answer
        assert!(parse_answer(&wire, 7, &r).is_err());
        m.set_message_type(MessageType::Response);
        let ok = m.to_vec().unwrap();
        assert!(parse_answer(&ok, 7, &r).is_ok());
        // names compare without regard to case
        assert!(parse_answer(&ok, 7, &req("EXAMPLE.org.")).is_ok());
        assert!(parse_answer(&ok, 8, &r).is_err());
        assert!(parse_answer(&ok, 7, &req("example.net")).is_err());
        assert!(matches!(
            parse_answer(b"\x00\x07garbage", 7, &r),
            Err(QueryError::Malformed(_))
        ));
    }

    #[test]
    fn resolv_conf() {
        let text = "# comment\nsearch example.org\nnameserver 192.0.2.1\nnameserver fe80::1%eth0\nnameserver bogus\n";
        assert_eq!(
            parse_resolv_conf(text),
            vec![
                "192.0.2.1".parse::<IpAddr>().unwrap(),
                "fe80::1".parse().unwrap()
            ]
        );
        assert_eq!(parse_resolv_conf(""), vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]);
    }

    #[test]
    fn addresses_of_records() {
        use hickory_proto::rr::rdata::{A, AAAA, NS};
        assert_eq!(
            address(&RData::A(A::new(192, 0, 2, 1))),
            Some("192.0.2.1".parse().unwrap())
        );
        assert_eq!(
            address(&RData::AAAA(AAAA::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            address(&RData::NS(NS(parse_name("ns.example").unwrap()))),
            None
        );
    }

    #[tokio::test]
    async fn a_server_given_is_asked_in_the_family_asked_for() {
        let v4: SocketAddr = "192.0.2.1:5300".parse().unwrap();
        assert_eq!(
            servers_to_ask(Some("192.0.2.1"), 5300, Family::Any).await,
            Ok(vec![v4])
        );
        assert_eq!(
            servers_to_ask(Some("[2001:db8::1]"), 53, Family::V6).await,
            Ok(vec!["[2001:db8::1]:53".parse().unwrap()])
        );
        assert_eq!(
            servers_to_ask(Some("192.0.2.1"), 53, Family::V6).await,
            Err("192.0.2.1 is not an address of the requested family".into())
        );
    }

    #[test]
    fn names() {
        assert_eq!(
            show_name(&parse_name("WWW.Example.org").unwrap()),
            "www.example.org"
        );
        assert_eq!(show_name(&parse_name(".").unwrap()), ".");
        assert!(parse_name("").is_err());
        assert!(parse_name("a..b").is_err());
        assert_eq!(
            parse_name("a\nb").unwrap_err(),
            "invalid domain name 'a\\nb': control characters and spaces are not allowed"
        );
        let e = parse_name(&"a".repeat(100_000)).unwrap_err();
        assert!(e.len() < 500, "{}", e.len());
        assert_eq!(seconds(Duration::from_millis(2500)), "2.5s");
        assert_eq!(seconds(Duration::from_secs(3)), "3s");
        assert_eq!(seconds(Duration::from_millis(1790)), "1.8s");
        assert_eq!(seconds(Duration::from_millis(250)), "0.25s");
    }
}
