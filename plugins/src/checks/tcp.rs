//! check_tcp: connects to a TCP port and checks the connect time. Options follow
//! monitoring-plugins' check_tcp.

use crate::plugin::{
    Check, CheckResult, CommonArgs, PerfData, Range, State, Thresholds, Uom, UsageError, Work,
};
use clap::Parser;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Command line of check_tcp.
#[derive(Parser, Debug)]
#[command(
    name = "check_tcp",
    version,
    about = "Connects to a TCP port and checks the connect time.\n\nExit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad options, internal error). --help and --version exit 0."
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Host name or address to connect to
    #[arg(short = 'H', long = "hostname", value_name = "HOST")]
    pub hostname: String,

    /// Port to connect to
    #[arg(short = 'p', long = "port", value_name = "PORT")]
    pub port: u16,

    /// Connect time in seconds that makes the result WARNING
    #[arg(short = 'w', long = "warning", value_name = "SECONDS")]
    pub warning: Option<f64>,

    /// Connect time in seconds that makes the result CRITICAL
    #[arg(short = 'c', long = "critical", value_name = "SECONDS")]
    pub critical: Option<f64>,
}

/// The validated check.
#[derive(Debug)]
pub struct TcpCheck {
    pub host: String,
    pub port: u16,
    /// Thresholds on the connect time in seconds.
    pub time: Thresholds,
    /// How long the whole check may take.
    pub timeout: Duration,
}

/// Why a connection could not be made.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectError {
    /// The name did not resolve.
    Resolve(String),
    /// The server answered with a reset: nothing listens on the port.
    Refused(SocketAddr),
    /// Another connect error (unreachable, timed out).
    Other(SocketAddr, String),
}

/// What the connection attempt found.
#[derive(Debug, Clone, PartialEq)]
pub struct TcpFacts {
    /// The connect time, or why there was no connection.
    pub outcome: Result<(SocketAddr, Duration), ConnectError>,
}

fn seconds_threshold(v: Option<f64>, what: &str) -> Result<Option<Range>, UsageError> {
    match v {
        None => Ok(None),
        Some(s) if s.is_finite() && s >= 0.0 => Ok(Some(
            format!("{s}")
                .parse::<Range>()
                .map_err(|e| UsageError(e.to_string()))?,
        )),
        Some(s) => Err(UsageError(format!(
            "{what} time {s} must be a number of seconds, 0 or more"
        ))),
    }
}

impl Check for TcpCheck {
    type Args = Args;
    const LABEL: &'static str = "TCP";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        if args.hostname.trim().is_empty() {
            return Err(UsageError::new("the host name (-H) is empty"));
        }
        if args.port == 0 {
            return Err(UsageError::new("the port (-p) must be between 1 and 65535"));
        }
        Ok(TcpCheck {
            host: args.hostname,
            port: args.port,
            time: Thresholds::new(
                seconds_threshold(args.warning, "warning")?,
                seconds_threshold(args.critical, "critical")?,
            ),
            timeout: args.common.timeout.duration,
        })
    }

    fn run(&self) -> Work<'_> {
        Work::Remote(Box::pin(async move {
            let facts = self.fetch().await;
            evaluate(&facts, self)
        }))
    }
}

/// Connects to the first address of `host` that accepts, recording the connect time.
pub async fn connect(
    host: &str,
    port: u16,
) -> Result<(tokio::net::TcpStream, SocketAddr, Duration), ConnectError> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| ConnectError::Resolve(format!("cannot resolve {host}: {e}")))?
        .collect();
    let mut last = ConnectError::Resolve(format!("{host} has no address"));
    for addr in addrs {
        let start = Instant::now();
        match tokio::net::TcpStream::connect(addr).await {
            Ok(s) => return Ok((s, addr, start.elapsed())),
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                last = ConnectError::Refused(addr)
            }
            Err(e) => last = ConnectError::Other(addr, e.to_string()),
        }
    }
    Err(last)
}

impl TcpCheck {
    /// Connects once.
    pub async fn fetch(&self) -> TcpFacts {
        TcpFacts {
            outcome: connect(&self.host, self.port)
                .await
                .map(|(_, addr, t)| (addr, t)),
        }
    }
}

/// Turns the facts into the result (pure).
pub fn evaluate(facts: &TcpFacts, check: &TcpCheck) -> CheckResult {
    match &facts.outcome {
        Err(ConnectError::Resolve(e)) => CheckResult::new(State::Critical, e.clone()),
        Err(ConnectError::Refused(a)) => CheckResult::new(
            State::Critical,
            format!(
                "connect to address {} and port {}: Connection refused",
                a.ip(),
                a.port()
            ),
        ),
        Err(ConnectError::Other(a, e)) => CheckResult::new(
            State::Critical,
            format!("connect to address {} and port {}: {e}", a.ip(), a.port()),
        ),
        Ok((addr, t)) => {
            let secs = t.as_secs_f64();
            let state = check.time.state(secs);
            CheckResult::new(
                state,
                format!(
                    "{secs:.3} second response time on {} port {}",
                    check.host,
                    addr.port()
                ),
            )
            .with_perf(
                PerfData::new("time", (secs * 1e6).round() / 1e6)
                    .uom(Uom::Seconds)
                    .thresholds(&check.time)
                    .min(0.0)
                    .max(check.timeout.as_secs_f64()),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::parse_args;

    fn check(argv: &[&str]) -> Result<TcpCheck, UsageError> {
        let args =
            parse_args::<TcpCheck>(std::iter::once("check_tcp").chain(argv.iter().copied()))?
                .unwrap();
        TcpCheck::new(args)
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn connect_time_thresholds() {
        let c = check(&["-H", "localhost", "-p", "22", "-w", "0.5", "-c", "1"]).unwrap();
        let a: SocketAddr = "127.0.0.1:22".parse().unwrap();
        let ok = TcpFacts {
            outcome: Ok((a, Duration::from_millis(1))),
        };
        assert_eq!(
            render_text("TCP", &evaluate(&ok, &c)),
            "TCP OK - 0.001 second response time on localhost port 22 | time=0.001s;0.5;1;0;10\n"
        );
        let slow = TcpFacts {
            outcome: Ok((a, Duration::from_millis(700))),
        };
        assert_eq!(evaluate(&slow, &c).state(), State::Warning);
        let refused = TcpFacts {
            outcome: Err(ConnectError::Refused(a)),
        };
        assert_eq!(
            render_text("TCP", &evaluate(&refused, &c)),
            "TCP CRITICAL - connect to address 127.0.0.1 and port 22: Connection refused\n"
        );
    }

    #[test]
    fn bad_options_are_usage_errors() {
        assert!(check(&["-H", "x", "-p", "0"]).is_err());
        assert!(check(&["-H", "", "-p", "1"]).is_err());
        assert!(check(&["-H", "x", "-p", "1", "-w", "nan"]).is_err());
        assert!(check(&["-H", "x"]).is_err());
    }
}
