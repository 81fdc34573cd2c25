//! check_sip: sends a SIP OPTIONS request over UDP (retransmitted as RFC 3261 says) or
//! TCP and checks the final response's status and the response time.

use crate::plugin::args::{ResponseTimeArgs, TargetArgs};
use crate::plugin::{
    shown, Check, CheckResult, CommonArgs, PerfData, State, Thresholds, Uom, UsageError, Work,
};
use crate::proto::net::{self, Family};
use clap::Parser;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Command line of check_sip.
#[derive(Parser, Debug)]
#[command(
    name = "check_sip",
    version,
    about = "Sends a SIP OPTIONS request and checks the response status.",
    after_help = crate::plugin::EXIT_CODES,
    mut_arg("hostname", |a| a.help("Host name or address of the SIP server")),
    mut_arg("port", |a| a.help("Port of the SIP server").default_value("5060"))
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    #[command(flatten)]
    pub target: TargetArgs,

    /// Send over TCP (default UDP)
    #[arg(long = "tcp")]
    pub tcp: bool,

    /// Request-URI (default sip:HOST)
    #[arg(short = 'u', long = "uri", value_name = "URI")]
    pub uri: Option<String>,

    /// Expected status codes
    #[arg(
        short = 'e',
        long = "expect",
        value_name = "CODE[,CODE...]",
        default_value = "200"
    )]
    pub expect: String,

    #[command(flatten)]
    pub time: ResponseTimeArgs,
}

/// The validated check.
#[derive(Debug)]
pub struct SipCheck {
    pub host: String,
    pub port: u16,
    pub family: Family,
    pub tcp: bool,
    pub uri: String,
    pub expect: Vec<u16>,
    pub time: Thresholds,
    pub timeout: Duration,
}

/// What the exchange found.
#[derive(Debug, Clone, PartialEq)]
pub struct SipFacts {
    /// The final response's status line, or why there is none.
    pub response: Result<String, String>,
    /// No final response came before the check's time ran out.
    pub timed_out: bool,
    pub time: Duration,
}

impl Check for SipCheck {
    type Args = Args;
    type Facts = SipFacts;
    const LABEL: &'static str = "SIP";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        let uri = args
            .uri
            .unwrap_or_else(|| format!("sip:{}", args.target.hostname));
        if !(uri.starts_with("sip:") || uri.starts_with("sips:"))
            || uri.contains(char::is_whitespace)
        {
            return Err(UsageError(format!("'{}' is not a SIP URI", shown(&uri))));
        }
        let mut expect = Vec::new();
        for c in args.expect.split(',') {
            match c.trim().parse::<u16>() {
                Ok(n) if (100..700).contains(&n) => expect.push(n),
                _ => {
                    return Err(UsageError(format!(
                        "-e '{}' is not a SIP status code",
                        shown(c)
                    )))
                }
            }
        }
        Ok(SipCheck {
            family: args.target.family(),
            port: args.target.port.unwrap_or(5060),
            host: args.target.hostname,
            tcp: args.tcp,
            uri,
            expect,
            time: args.time.thresholds(),
            timeout: args.common.timeout.duration,
        })
    }

    fn fetch(&self) -> Work<'_, SipFacts> {
        Work::remote(self.exchange_in_time())
    }

    fn evaluate(&self, facts: &SipFacts) -> CheckResult {
        evaluate(facts, self)
    }
}

/// A token unique enough for a branch, tag and Call-ID.
fn token() -> String {
    let t = crate::host::clock::unix_now_nanos();
    format!("{:x}{:x}", t, std::process::id())
}

/// The OPTIONS request from `local`.
pub fn options_request(uri: &str, transport: &str, local: SocketAddr, id: &str) -> String {
    let host = match local {
        SocketAddr::V4(a) => a.ip().to_string(),
        SocketAddr::V6(a) => format!("[{}]", a.ip()),
    };
    let port = local.port();
    format!(
        "OPTIONS {uri} SIP/2.0\r\nVia: SIP/2.0/{transport} {host}:{port};branch=z9hG4bK{id};rport\r\n\
Max-Forwards: 70\r\nTo: <{uri}>\r\nFrom: <sip:check_sip@{host}>;tag={id}\r\nCall-ID: {id}@{host}\r\n\
CSeq: 1 OPTIONS\r\nContact: <sip:check_sip@{host}:{port}>\r\nAccept: application/sdp\r\n\
User-Agent: check_sip\r\nContent-Length: 0\r\n\r\n"
    )
}

/// The final (non-1xx) responses in `data` to the request with Call-ID `id`: the first
/// one's status line.
pub fn final_status(data: &[u8], id: &str) -> Option<Result<String, String>> {
    let text = String::from_utf8_lossy(data);
    for msg in text.split("\r\n\r\n") {
        let line = msg.lines().next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if !line.starts_with("SIP/2.0 ") {
            return Some(Err(format!(
                "not a SIP response: '{}'",
                net::printable(line.as_bytes(), 100)
            )));
        }
        let code: u16 = line.get(8..11).and_then(|c| c.parse().ok()).unwrap_or(0);
        if code < 200 {
            continue;
        }
        let ours = msg.lines().any(|l| {
            let l = l.trim();
            (l.to_ascii_lowercase().starts_with("call-id:") || l.starts_with("i:"))
                && l.contains(id)
        });
        if ours {
            return Some(Ok(net::printable(line.as_bytes(), 200)));
        }
    }
    None
}

impl SipCheck {
    /// Sends the request and waits for a final response, within most of the time limit.
    async fn exchange_in_time(&self) -> SipFacts {
        let start = Instant::now();
        let wait = self.timeout.mul_f64(0.9);
        let (response, timed_out) = match tokio::time::timeout(wait, self.exchange()).await {
            Ok(r) => (r, false),
            Err(_) => (
                Err(format!(
                    "no final response from {} port {} within {:.1} seconds",
                    self.host,
                    self.port,
                    wait.as_secs_f64()
                )),
                true,
            ),
        };
        SipFacts {
            response,
            timed_out,
            time: start.elapsed(),
        }
    }

    async fn exchange(&self) -> Result<String, String> {
        let id = token();
        if self.tcp {
            let c = net::connect(&self.host, self.port, self.family)
                .await
                .map_err(|e| e.to_string())?;
            let mut s = c.stream;
            let local = s.local_addr().map_err(|e| e.to_string())?;
            s.write_all(options_request(&self.uri, "TCP", local, &id).as_bytes())
                .await
                .map_err(|e| format!("cannot send: {e}"))?;
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                let n = s
                    .read(&mut chunk)
                    .await
                    .map_err(|e| format!("connection failed: {e}"))?;
                if n == 0 {
                    return Err("the server closed the connection without a final response".into());
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(r) = final_status(&buf, &id) {
                    return r;
                }
            }
        }
        let addr = net::resolve(&self.host, self.port, self.family)
            .await
            .map_err(|e| e.to_string())?[0];
        let bind: SocketAddr = if addr.is_ipv4() {
            "0.0.0.0:0".parse().expect("address")
        } else {
            "[::]:0".parse().expect("address")
        };
        let sock = tokio::net::UdpSocket::bind(bind)
            .await
            .map_err(|e| format!("cannot open a UDP socket: {e}"))?;
        sock.connect(addr)
            .await
            .map_err(|e| format!("cannot reach {addr}: {e}"))?;
        let local = sock.local_addr().map_err(|e| e.to_string())?;
        let req = options_request(&self.uri, "UDP", local, &id);
        let mut interval = Duration::from_millis(500);
        let mut buf = vec![0u8; 65_535];
        loop {
            sock.send(req.as_bytes())
                .await
                .map_err(|e| format!("cannot send to {addr}: {e}"))?;
            let deadline = tokio::time::Instant::now() + interval;
            loop {
                match tokio::time::timeout_at(deadline, sock.recv(&mut buf)).await {
                    Err(_) => break,
                    Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                        return Err(format!(
                            "connect to address {} and port {}: Connection refused",
                            addr.ip(),
                            addr.port()
                        ))
                    }
                    Ok(Err(e)) => return Err(format!("receive failed: {e}")),
                    Ok(Ok(n)) => {
                        if let Some(r) = final_status(&buf[..n], &id) {
                            return r;
                        }
                    }
                }
            }
            interval = (interval * 2).min(Duration::from_secs(4));
        }
    }
}

/// Turns the facts into the result (pure).
fn evaluate(facts: &SipFacts, check: &SipCheck) -> CheckResult {
    let status = match &facts.response {
        Err(e) if facts.timed_out => return CheckResult::timed_out(e.clone()),
        Err(e) => return CheckResult::new(State::Critical, e.clone()),
        Ok(s) => s,
    };
    let secs = facts.time.as_secs_f64();
    let code: u16 = status.get(8..11).and_then(|c| c.parse().ok()).unwrap_or(0);
    let state = if check.expect.contains(&code) {
        check.time.state(secs)
    } else {
        State::Critical
    };
    let summary = if state == State::Critical && !check.expect.contains(&code) {
        format!(
            "unexpected status {status} from {} port {} (expected {})",
            check.host,
            check.port,
            check
                .expect
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(",")
        )
    } else {
        format!(
            "{status} - {secs:.3} second response time on {} port {}",
            check.host, check.port
        )
    };
    CheckResult::new(state, summary).with_perf(
        PerfData::new("time", net::secs(facts.time))
            .uom(Uom::Seconds)
            .thresholds(&check.time)
            .min(0.0)
            .max(check.timeout.as_secs_f64()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::validate;

    fn check(argv: &[&str]) -> Result<SipCheck, UsageError> {
        validate::<SipCheck>(argv)
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn request_and_responses() {
        let r = options_request(
            "sip:pbx.test",
            "UDP",
            "127.0.0.1:5070".parse().unwrap(),
            "abc",
        );
        assert!(r.starts_with("OPTIONS sip:pbx.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc;rport\r\n"));
        assert!(r.ends_with("Content-Length: 0\r\n\r\n"));
        let trying = b"SIP/2.0 100 Trying\r\nCall-ID: abc@127.0.0.1\r\n\r\n";
        assert_eq!(final_status(trying, "abc"), None);
        let ok = b"SIP/2.0 100 Trying\r\nCall-ID: abc@h\r\n\r\nSIP/2.0 200 OK\r\nCall-ID: abc@h\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(final_status(ok, "abc"), Some(Ok("SIP/2.0 200 OK".into())));
        let odd = b"SIP/2.0 200 O\x1bK\r\nCall-ID: abc@h\r\n\r\n";
        assert_eq!(final_status(odd, "abc"), Some(Ok("SIP/2.0 200 O K".into())));
        let other = b"SIP/2.0 200 OK\r\nCall-ID: zzz@h\r\n\r\n";
        assert_eq!(final_status(other, "abc"), None);
        assert!(final_status(b"HTTP/1.1 400 Bad\r\n\r\n", "abc")
            .unwrap()
            .is_err());
    }

    #[test]
    fn states() {
        let c = check(&["-H", "pbx.test", "-w", "0.5"]).unwrap();
        let f = SipFacts {
            response: Ok("SIP/2.0 200 OK".into()),
            timed_out: false,
            time: Duration::from_millis(2),
        };
        assert_eq!(
            render_text("SIP", &c.evaluate(&f)),
            "SIP OK - SIP/2.0 200 OK - 0.002 second response time on pbx.test port 5060 | time=0.002s;0.5;;0;10\n"
        );
        let f = SipFacts {
            response: Ok("SIP/2.0 403 Forbidden".into()),
            timed_out: false,
            time: Duration::from_millis(2),
        };
        assert_eq!(
            c.evaluate(&f).summary,
            "unexpected status SIP/2.0 403 Forbidden from pbx.test port 5060 (expected 200)"
        );
        let silent = SipFacts {
            response: Err("no final response from pbx.test port 5060 within 1.8 seconds".into()),
            timed_out: true,
            time: Duration::from_millis(1800),
        };
        let r = c.evaluate(&silent);
        assert!(r.timed_out);
        assert_eq!(
            render_text("SIP", &r.with_timeout_state(State::Unknown)),
            "SIP UNKNOWN - no final response from pbx.test port 5060 within 1.8 seconds\n"
        );
        let refused = SipFacts {
            response: Err("connect to address 127.0.0.1 and port 5060: Connection refused".into()),
            timed_out: false,
            time: Duration::from_millis(1),
        };
        assert!(!c.evaluate(&refused).timed_out);
        let c = check(&["-H", "pbx.test", "-e", "200,403"]).unwrap();
        assert_eq!(c.evaluate(&f).state(), State::Ok);
        assert!(check(&["-H", "pbx.test", "-e", "99"]).is_err());
        assert_eq!(
            check(&["-H", "pbx.test", "-e", "2\n00"]).unwrap_err().0,
            "-e '2\\n00' is not a SIP status code"
        );
        assert!(check(&["-H", "pbx test"]).is_err());
        assert!(check(&["-H", "pbx.test", "-p", "0"]).is_err());
        assert!(check(&["-H", "pbx.test", "-u", "http://x"]).is_err());
    }

    #[test]
    fn response_time_levels() {
        let c = check(&["-H", "pbx.test", "-w", "0.5", "-c", "1"]).unwrap();
        let at = |ms| SipFacts {
            response: Ok("SIP/2.0 200 OK".into()),
            timed_out: false,
            time: Duration::from_millis(ms),
        };
        assert_eq!(c.evaluate(&at(400)).state(), State::Ok);
        assert_eq!(c.evaluate(&at(700)).state(), State::Warning);
        assert_eq!(
            render_text("SIP", &c.evaluate(&at(1500))),
            "SIP CRITICAL - SIP/2.0 200 OK - 1.500 second response time on pbx.test port 5060 | time=1.5s;0.5;1;0;10\n"
        );
    }
}
