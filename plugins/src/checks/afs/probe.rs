//! The Rx probes of the rx, rxstats and ubik modes: each server and port resolved and
//! asked at once, each answer or failure kept with its server.

use crate::plugin::CheckResult;
use crate::proto::net;
use crate::proto::rx::RxError;
use std::net::SocketAddr;
use std::time::Duration;

/// What one server said (or why it said nothing).
#[derive(Debug, Clone, PartialEq)]
pub struct Probe<T> {
    pub host: String,
    pub port: u16,
    /// The resolved address.
    pub addr: Option<SocketAddr>,
    pub outcome: Result<(T, Duration), RxError>,
}

impl<T> Probe<T> {
    /// `host:port`, for messages.
    pub fn name(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// True when the server was still silent as the time ran out.
    pub fn timed_out(&self) -> bool {
        matches!(self.outcome, Err(RxError::NoAnswer(_)))
    }
}

/// True when there were probes and every one of them ran out of time: nothing answered.
pub fn all_timed_out<T>(probes: &[Probe<T>]) -> bool {
    !probes.is_empty() && probes.iter().all(Probe::timed_out)
}

/// A result made from `probes`, finished: its summary names the troubles or is `ok`, and
/// when nothing answered before the time ran out, the whole result has timed out (the
/// state is the one `-t` names).
pub fn finish<T>(mut r: CheckResult, ok: String, probes: &[Probe<T>]) -> CheckResult {
    r.summarize_troubles(ok);
    if all_timed_out(probes) {
        r.into_timed_out()
    } else {
        r
    }
}

/// Resolves each target and runs `probe` on all of them at once.
pub async fn probe_all<T, F, Fut>(targets: &[(String, u16)], probe: F) -> Vec<Probe<T>>
where
    F: Fn(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = Result<(T, Duration), RxError>>,
{
    let one = |host: String, port: u16| {
        let probe = &probe;
        async move {
            let addr = match net::resolve(&host, port, net::Family::Any).await {
                Ok(a) => a[0],
                Err(e) => {
                    return Probe {
                        outcome: Err(RxError::Network(e.to_string())),
                        host,
                        port,
                        addr: None,
                    };
                }
            };
            let outcome = probe(addr).await;
            Probe {
                host,
                port,
                addr: Some(addr),
                outcome,
            }
        }
    };
    futures_util::future::join_all(targets.iter().map(|(h, p)| one(h.clone(), *p))).await
}

/// A probe as the modes' unit tests make them: `host` is an address.
#[cfg(test)]
pub fn fake<T>(host: &str, port: u16, outcome: Result<(T, Duration), RxError>) -> Probe<T> {
    Probe {
        host: host.into(),
        port,
        addr: Some(SocketAddr::new(host.parse().unwrap(), port)),
        outcome,
    }
}
