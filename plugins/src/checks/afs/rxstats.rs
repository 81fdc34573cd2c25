//! Mode `rxstats`: Rx statistics of each server and port (`rxdebug -noconn`): calls
//! waiting for a thread and idle threads; `-w`/`-c` on the waiting calls.

use super::common::label;
use super::probe::{finish, probe_all, Probe};
use super::rx::{RxConfig, RxServers};
use crate::plugin::args::RangeArgs;
use crate::plugin::{CheckResult, PerfData, State, Thresholds};
use crate::proto::rx;
use std::time::Duration;

/// The rxstats mode's servers and levels on the calls waiting for a thread.
#[derive(clap::Args, Debug)]
#[command(
    mut_arg("warning", |a| a.help("Calls waiting for a thread that make the result WARNING")),
    mut_arg("critical", |a| a.help("Calls waiting for a thread that make the result CRITICAL"))
)]
pub struct RxStatsArgs {
    #[command(flatten)]
    pub servers: RxServers,
    #[command(flatten)]
    pub levels: RangeArgs,
}

/// The DEBUG GETSTATS query of every target at once.
pub async fn fetch(config: &RxConfig, budget: Duration) -> Vec<Probe<rx::DebugStats>> {
    probe_all(&config.targets, |a| rx::debug_stats(a, budget)).await
}

/// Turns the Rx statistics into the result (pure): thresholds on waiting calls.
pub fn evaluate(facts: &[Probe<rx::DebugStats>], t: &Thresholds) -> CheckResult {
    let mut r = CheckResult::new(State::Ok, "");
    let mut waiting = 0;
    let mut idle = 0;
    for p in facts {
        match &p.outcome {
            Ok((s, _)) => {
                waiting += s.waiting;
                idle += s.idle_threads;
                r.push_sub(
                    t.state(s.waiting as f64),
                    format!(
                        "{} {} calls waiting for a thread, {} threads idle",
                        p.name(),
                        s.waiting,
                        s.idle_threads
                    ),
                );
                let port = p.port.to_string();
                r.push_perf(
                    PerfData::new(label(&["waiting", &p.host, &port]), s.waiting)
                        .thresholds(t)
                        .min(0),
                );
                r.push_perf(PerfData::new(label(&["idle", &p.host, &port]), s.idle_threads).min(0));
            }
            Err(e) => r.push_sub(State::Critical, format!("{}: {e}", p.name())),
        }
    }
    let ok = format!("{waiting} calls waiting for a thread, {idle} threads idle");
    finish(r, ok, facts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::afs::probe::fake as probe;
    use crate::checks::afs::{test_check, Facts};
    use crate::plugin::output::render_text;
    use crate::plugin::Check;
    use std::time::Duration;

    /// The verdict of `check_afs rxstats -H 10.77.0.1 -w 5 -c 10` on `facts`.
    fn evaluate(facts: &[Probe<rx::DebugStats>]) -> CheckResult {
        test_check(&["rxstats", "-H", "10.77.0.1", "-w", "5", "-c", "10"])
            .evaluate(&Facts::RxStats(facts.to_vec()))
    }

    #[test]
    fn rxstats_thresholds_on_waiting_calls() {
        let stats = |waiting| rx::DebugStats {
            waiting,
            idle_threads: 4,
            ..Default::default()
        };
        let r = evaluate(&[probe("10.77.0.1", 7000, Ok((stats(0), Duration::ZERO)))]);
        assert_eq!(
            render_text("AFS", &r),
            "AFS OK - 0 calls waiting for a thread, 4 threads idle | waiting_10.77.0.1_7000=0;5;10;0 idle_10.77.0.1_7000=4;;;0\n[OK] 10.77.0.1:7000 0 calls waiting for a thread, 4 threads idle\n"
        );
        let r = evaluate(&[probe("10.77.0.1", 7000, Ok((stats(11), Duration::ZERO)))]);
        assert_eq!(r.state(), State::Critical);
    }
}
