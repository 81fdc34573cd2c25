//! Mode `rx`: the Rx VERSION probe of each server and port (`rxdebug -version`), with
//! the round-trip time; `-w`/`-c` on it in seconds. Its servers and ports serve
//! `rxstats` too.

use super::common::{label, round6, targets};
use super::probe::{finish, probe_all, Probe};
use crate::plugin::args::ResponseTimeArgs;
use crate::plugin::{
    CheckResult, CommonArgs, HostListArgs, PerfData, State, Thresholds, Uom, UsageError,
};
use crate::proto::rx;
use std::time::Duration;

/// Servers and ports for the Rx probes (the rx and rxstats modes).
#[derive(clap::Args, Debug)]
pub struct RxServers {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub hosts: HostListArgs,
    /// Ports to ask on each server (comma-separated or repeated; default 7000)
    #[arg(short = 'p', long = "port", value_name = "PORT", value_delimiter = ',')]
    pub ports: Vec<u16>,
}

/// The rx mode's servers and levels on the round-trip time.
#[derive(clap::Args, Debug)]
pub struct RxArgs {
    #[command(flatten)]
    pub servers: RxServers,
    #[command(flatten)]
    pub time: ResponseTimeArgs,
}

/// The servers and ports to probe, and the levels.
#[derive(Debug)]
pub struct RxConfig {
    pub targets: Vec<(String, u16)>,
    pub thresholds: Thresholds,
}

impl RxConfig {
    /// Validates the servers and ports (no I/O).
    pub fn new(servers: &RxServers, thresholds: Thresholds) -> Result<Self, UsageError> {
        Ok(RxConfig {
            targets: targets(&servers.hosts, &servers.ports)?,
            thresholds,
        })
    }

    /// The VERSION probe of every target at once.
    pub async fn fetch(&self, budget: Duration) -> Vec<Probe<String>> {
        probe_all(&self.targets, |a| rx::version(a, budget)).await
    }
}

/// Turns the VERSION probes into the result (pure).
pub fn evaluate(facts: &[Probe<String>], t: &Thresholds) -> CheckResult {
    let mut r = CheckResult::new(State::Ok, "");
    let mut versions: Vec<&str> = Vec::new();
    for p in facts {
        match &p.outcome {
            Ok((v, rtt)) => {
                let secs = rtt.as_secs_f64();
                r.push_sub(t.state(secs), format!("{} {v} in {secs:.3}s", p.name()));
                r.push_perf(
                    PerfData::new(label(&["time", &p.host, &p.port.to_string()]), round6(secs))
                        .uom(Uom::Seconds)
                        .thresholds(t)
                        .min(0.0),
                );
                if !versions.contains(&v.as_str()) {
                    versions.push(v);
                }
            }
            Err(e) => r.push_sub(State::Critical, format!("{}: {e}", p.name())),
        }
    }
    let n = facts.len();
    let ok = format!(
        "{n} of {n} server{} answered: {}",
        if n == 1 { "" } else { "s" },
        versions.join(", ")
    );
    finish(r, ok, facts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::afs::probe::fake as probe;
    use crate::checks::afs::{test_check, Facts};
    use crate::plugin::output::render_text;
    use crate::plugin::Check;

    /// The verdict of `check_afs rx -H 10.77.0.1` with `levels` on `facts`.
    fn evaluate(facts: &[Probe<String>], levels: &[&str]) -> CheckResult {
        let argv = [&["rx", "-H", "10.77.0.1"][..], levels].concat();
        test_check(&argv).evaluate(&Facts::Rx(facts.to_vec()))
    }

    #[test]
    fn rx_versions_and_times() {
        let t = ["-w", "0.5", "-c", "1"];
        let facts = vec![
            probe(
                "10.77.0.1",
                7003,
                Ok(("OpenAFS 1.8.9".to_string(), Duration::from_millis(2))),
            ),
            probe(
                "10.77.0.1",
                7002,
                Ok(("OpenAFS 1.8.9".to_string(), Duration::from_millis(700))),
            ),
        ];
        let r = evaluate(&facts, &t[..]);
        assert_eq!(
            render_text("AFS", &r),
            "AFS WARNING - 10.77.0.1:7002 OpenAFS 1.8.9 in 0.700s | time_10.77.0.1_7003=0.002s;0.5;1;0 time_10.77.0.1_7002=0.7s;0.5;1;0\n[OK] 10.77.0.1:7003 OpenAFS 1.8.9 in 0.002s\n[WARNING] 10.77.0.1:7002 OpenAFS 1.8.9 in 0.700s\n"
        );
        let r = evaluate(&facts[..1], &t[..]);
        assert_eq!(r.summary, "1 of 1 server answered: OpenAFS 1.8.9");
        let silent = vec![probe::<String>(
            "10.77.0.2",
            7003,
            Err(rx::RxError::NoAnswer(4.5)),
        )];
        let r = evaluate(&silent, &t[..]);
        assert_eq!(r.state(), State::Critical);
        assert_eq!(r.summary, "10.77.0.2:7003: no answer within 4.5s");
    }

    #[test]
    fn all_silent_is_a_timeout_some_silent_is_critical() {
        let t = [];
        let silent = || probe::<String>("10.77.0.2", 7003, Err(rx::RxError::NoAnswer(1.8)));
        let r = evaluate(&[silent(), silent()], &t[..]);
        assert!(r.timed_out);
        assert_eq!(
            render_text("AFS", &r.with_timeout_state(State::Unknown)),
            "AFS UNKNOWN - 10.77.0.2:7003: no answer within 1.8s; 10.77.0.2:7003: no answer within 1.8s\n10.77.0.2:7003: no answer within 1.8s\n10.77.0.2:7003: no answer within 1.8s\n"
        );
        // a refusal is not a timeout
        let refused = probe::<String>(
            "10.77.0.3",
            7003,
            Err(rx::RxError::Network("refused".into())),
        );
        let r = evaluate(&[silent(), refused], &t[..]);
        assert!(!r.timed_out);
        assert_eq!(r.state(), State::Critical);
        let up = probe(
            "10.77.0.1",
            7003,
            Ok(("OpenAFS 1.8.9".to_string(), Duration::from_millis(2))),
        );
        let r = evaluate(&[up, silent()], &t[..]);
        assert!(!r.timed_out);
        assert_eq!(
            r.with_timeout_state(State::Unknown).state(),
            State::Critical
        );
    }
}
