//! Mode `ubik`: the Ubik state of a whole set of database servers (`udebug`), asked
//! natively: one sync site that every answering server names, recovered, and one
//! database version.

use super::common::targets;
use super::probe::{all_timed_out, probe_all, Probe};
use crate::plugin::{CheckResult, CommonArgs, PerfData, ServerSetArgs, State, UsageError};
use crate::proto::ubik::{self, UbikDebug};
use std::time::Duration;

/// The database servers of one Ubik service.
#[derive(clap::Args, Debug)]
#[command(
    mut_arg("hosts", |a| a.help("Every database server of the set (comma-separated or repeated)")),
    mut_arg("port", |a| a.help("The database service's port: 7003 vlserver (the default), 7002 ptserver"))
)]
pub struct UbikArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub servers: ServerSetArgs,
}

/// The database servers to ask.
#[derive(Debug)]
pub struct UbikConfig {
    pub targets: Vec<(String, u16)>,
}

impl UbikConfig {
    /// Validates the arguments (no I/O).
    pub fn new(a: UbikArgs) -> Result<Self, UsageError> {
        Ok(UbikConfig {
            targets: targets(&a.servers.hosts, &[a.servers.port_or(7003)])?,
        })
    }

    /// Every server's Ubik state at once.
    pub async fn fetch(&self, budget: Duration) -> Vec<Probe<UbikDebug>> {
        probe_all(&self.targets, |a| ubik::debug(a, budget)).await
    }
}

/// Turns the Ubik states of a database server set into the result (pure): one sync site
/// that every answering server names, recovered (0x1f), and one database version.
pub fn evaluate(facts: &[Probe<UbikDebug>]) -> CheckResult {
    let answered: Vec<(&Probe<UbikDebug>, &UbikDebug)> = facts
        .iter()
        .filter_map(|p| p.outcome.as_ref().ok().map(|(d, _)| (p, d)))
        .collect();
    let total = facts.len();
    let up = answered.len();
    let mut r = CheckResult::new(State::Ok, "");
    r.push_perf(PerfData::new("servers_answering", up).min(0).max(total));
    let syncs: Vec<_> = answered.iter().filter(|(_, d)| d.am_sync_site).collect();
    let sync = match syncs.as_slice() {
        [] => {
            r.raise(State::Critical);
            r.summarize_troubles(String::new());
            r.summary = format!("no sync site, no quorum ({up} of {total} servers answering)");
            push_ubik_lines(&mut r, facts, None);
            // nothing answered before the time ran out: the state is the one -t names
            return if all_timed_out(facts) {
                r.into_timed_out()
            } else {
                r
            };
        }
        [one] => *one,
        many => {
            r.raise(State::Critical);
            let names: Vec<String> = many.iter().map(|(p, _)| p.name()).collect();
            r.summary = format!(
                "several servers claim to be the sync site: {}",
                names.join(", ")
            );
            push_ubik_lines(&mut r, facts, None);
            return r;
        }
    };
    let (sp, sd) = *sync;
    let sync_ip = sp.addr.map(|a| a.ip());
    for p in facts {
        let state = match &p.outcome {
            Err(_) => State::Warning,
            Ok((d, _)) if std::ptr::eq(p, sp) => {
                if d.recovery_state != ubik::RECOVERED {
                    State::Warning
                } else {
                    State::Ok
                }
            }
            Ok((d, _)) => {
                if sync_ip != Some(std::net::IpAddr::V4(d.sync_host)) {
                    State::Critical
                } else if d.local_version != sd.local_version {
                    State::Warning
                } else {
                    State::Ok
                }
            }
        };
        r.push_sub(state, ubik_line(p, Some((sp, sd))));
    }
    let ok = format!(
        "sync site {} with quorum, {up} of {total} servers answering, database version {}",
        sp.host, sd.local_version
    );
    r.summarize_troubles(ok);
    r
}

fn push_ubik_lines(
    r: &mut CheckResult,
    facts: &[Probe<UbikDebug>],
    sync: Option<(&Probe<UbikDebug>, &UbikDebug)>,
) {
    for p in facts {
        r.push_line(ubik_line(p, sync));
    }
}

/// One server's Ubik view, in words.
fn ubik_line(p: &Probe<UbikDebug>, sync: Option<(&Probe<UbikDebug>, &UbikDebug)>) -> String {
    let (d, _) = match &p.outcome {
        Err(e) => return format!("{}: {e}", p.name()),
        Ok(x) => x,
    };
    let synced = if d.sync_host.is_unspecified() {
        "no sync site".to_string()
    } else {
        format!("sync site {}", d.sync_host)
    };
    let mut s = if d.am_sync_site {
        format!(
            "{} is the sync site ({} servers), recovery state {:#x}{}",
            p.name(),
            d.n_servers,
            d.recovery_state,
            if d.recovery_state == ubik::RECOVERED {
                ""
            } else {
                " (not recovered)"
            }
        )
    } else {
        format!("{} {synced}", p.name())
    };
    s.push_str(&format!(", database version {}", d.local_version));
    if let Some((sp, sd)) = sync {
        if !d.am_sync_site {
            if sp.addr.map(|a| a.ip()) != Some(std::net::IpAddr::V4(d.sync_host)) {
                s.push_str(&format!(" (the sync site is {})", sp.host));
            } else if d.local_version != sd.local_version {
                s.push_str(&format!(" (sync site has {})", sd.local_version));
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::afs::probe::fake as probe;
    use crate::checks::afs::{test_check, Facts};
    use crate::plugin::Check;
    use crate::proto::rx::RxError;

    /// The verdict of `check_afs ubik` on `facts`.
    fn evaluate(facts: &[Probe<UbikDebug>]) -> CheckResult {
        test_check(&["ubik", "-H", "10.77.0.1,10.77.0.2"]).evaluate(&Facts::Ubik(facts.to_vec()))
    }
    use std::net::Ipv4Addr;
    use ubik::DbVersion;

    fn ubik_state(sync: [u8; 4], am: bool, version: u32, recovery: u32) -> UbikDebug {
        UbikDebug {
            sync_host: Ipv4Addr::from(sync),
            am_sync_site: am,
            n_servers: 3,
            local_version: DbVersion {
                epoch: 1795548706,
                counter: version,
            },
            recovery_state: recovery,
            ..Default::default()
        }
    }

    #[test]
    fn ubik_quorum_agreement_and_versions() {
        let s1 = [10, 77, 0, 1];
        let up = |host, sync, am, version, recovery| {
            let d = ubik_state(sync, am, version, recovery);
            probe(host, 7003, Ok((d, Duration::from_millis(1))))
        };
        let silent = |host| probe(host, 7003, Err(RxError::NoAnswer(1.0)));
        let sync = || up("10.77.0.1", s1, true, 3, 0x1f);
        let synced = || up("10.77.0.2", s1, false, 3, 0);
        let sync_line = "10.77.0.1:7003 is the sync site (3 servers), recovery state 0x1f, database version 1795548706.3";
        let synced_line = "10.77.0.2:7003 sync site 10.77.0.1, database version 1795548706.3";
        let behind = "10.77.0.2:7003 sync site 10.77.0.1, database version 1795548706.2 (sync site has 1795548706.3)";
        let elsewhere = "10.77.0.2:7003 sync site 10.77.0.3, database version 1795548706.3 (the sync site is 10.77.0.1)";
        let recovering = "10.77.0.1:7003 is the sync site (3 servers), recovery state 0x17 (not recovered), database version 1795548706.3";
        let no_answer = |host: &str| format!("{host}:7003: no answer within 1.0s");
        let no_quorum = "no sync site, no quorum";
        // the servers' states; the state, summary and lines of the result; whether it
        // timed out (nobody answered before the time ran out: the state -t names)
        let cases = [
            (
                vec![sync(), synced()],
                State::Ok,
                "sync site 10.77.0.1 with quorum, 2 of 2 servers answering, database version 1795548706.3".to_string(),
                vec![sync_line.to_string(), synced_line.to_string()],
                false,
            ),
            (
                vec![sync(), up("10.77.0.2", s1, false, 2, 0)],
                State::Warning,
                behind.to_string(),
                vec![sync_line.to_string(), behind.to_string()],
                false,
            ),
            (
                vec![sync(), up("10.77.0.2", [10, 77, 0, 3], false, 3, 0)],
                State::Critical,
                elsewhere.to_string(),
                vec![sync_line.to_string(), elsewhere.to_string()],
                false,
            ),
            (
                vec![up("10.77.0.1", s1, true, 3, 0x17), synced()],
                State::Warning,
                recovering.to_string(),
                vec![recovering.to_string(), synced_line.to_string()],
                false,
            ),
            (
                vec![sync(), silent("10.77.0.2")],
                State::Warning,
                no_answer("10.77.0.2"),
                vec![sync_line.to_string(), no_answer("10.77.0.2")],
                false,
            ),
            (
                vec![
                    up("10.77.0.1", [0; 4], false, 3, 0),
                    silent("10.77.0.2"),
                    silent("10.77.0.3"),
                ],
                State::Critical,
                format!("{no_quorum} (1 of 3 servers answering)"),
                vec![
                    "10.77.0.1:7003 no sync site, database version 1795548706.3".to_string(),
                    no_answer("10.77.0.2"),
                    no_answer("10.77.0.3"),
                ],
                false,
            ),
            (
                vec![silent("10.77.0.2"), silent("10.77.0.3")],
                State::Unknown,
                format!("{no_quorum} (0 of 2 servers answering)"),
                vec![no_answer("10.77.0.2"), no_answer("10.77.0.3")],
                true,
            ),
            (
                vec![sync(), up("10.77.0.2", s1, true, 3, 0x1f)],
                State::Critical,
                "several servers claim to be the sync site: 10.77.0.1:7003, 10.77.0.2:7003"
                    .to_string(),
                vec![
                    sync_line.to_string(),
                    "10.77.0.2:7003 is the sync site (3 servers), recovery state 0x1f, database version 1795548706.3".to_string(),
                ],
                false,
            ),
        ];
        for (facts, state, summary, lines, timed_out) in cases {
            let r = evaluate(&facts);
            assert_eq!(r.timed_out, timed_out, "{summary}");
            let r = r.with_timeout_state(State::Unknown);
            assert_eq!((r.state(), &r.summary), (state, &summary));
            let texts: Vec<&str> = r.details.iter().map(|d| d.text.as_str()).collect();
            assert_eq!(texts, lines, "{summary}");
        }
    }
}
