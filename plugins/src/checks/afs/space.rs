//! Mode `space`: the partitions of file servers (`vos partinfo`); `-w`/`-c` in percent
//! used.

use super::common::{partition_name, percent, round6, PercentArgs};
use super::tools::{self, Partition, ServerArgs, ToolArgs, ToolError};
use crate::plugin::units::human_bytes;
use crate::plugin::{CheckResult, PerfData, State, Thresholds, Uom, UsageError};
use std::time::{Duration, Instant};

/// Which partitions the space mode looks at.
#[derive(clap::Args, Debug)]
#[command(
    mut_arg("hosts", |a| a.help("File servers (comma-separated or repeated)")),
    mut_arg("warning", |a| a.help("Percent used that makes a partition WARNING").default_value("90")),
    mut_arg("critical", |a| a.help("Percent used that makes a partition CRITICAL").default_value("95"))
)]
pub struct SpaceArgs {
    #[command(flatten)]
    pub servers: ServerArgs,
    /// Only this partition
    #[arg(long = "partition", value_name = "PART")]
    pub partition: Option<String>,
    #[command(flatten)]
    pub levels: PercentArgs,
}

/// The servers, the partition and the levels.
#[derive(Debug)]
pub struct SpaceConfig {
    pub tool: ToolArgs,
    pub hosts: Vec<String>,
    pub partition: Option<String>,
    pub percent: Thresholds,
}

/// The partitions of each server, or why `vos partinfo` gave none.
pub type Partitions = Vec<(String, Result<Vec<Partition>, ToolError>)>;

impl SpaceConfig {
    /// Validates the arguments (no I/O).
    pub fn new(a: SpaceArgs) -> Result<Self, UsageError> {
        Ok(SpaceConfig {
            hosts: a.servers.hosts.validated()?,
            tool: a.servers.tool,
            partition: partition_name(a.partition)?,
            percent: a.levels.thresholds(),
        })
    }

    /// Runs `vos partinfo` on each server, all within `limit`.
    pub fn fetch(&self, limit: Duration) -> Partitions {
        let deadline = Instant::now() + limit;
        self.hosts
            .iter()
            .map(|h| {
                let mut args = vec!["partinfo".to_string(), h.clone()];
                args.extend(self.partition.clone());
                args.extend(self.tool.flags());
                let parts = tools::run_tool_until("vos", &args, deadline)
                    .map(|t| tools::parse_partinfo(&t));
                (h.clone(), parts)
            })
            .collect()
    }
}

/// Turns partitions into the space result (pure): percent used per partition.
pub fn evaluate(
    facts: &[(String, Result<Vec<Partition>, ToolError>)],
    t: &Thresholds,
) -> CheckResult {
    let mut r = CheckResult::new(State::Ok, "");
    let mut count = 0;
    for (host, parts) in facts {
        match parts {
            Err(ToolError::Missing(m)) => return CheckResult::unknown(m.clone()),
            Err(ToolError::Failed(m) | ToolError::TimedOut(m)) => {
                r.push_sub(State::Critical, format!("{host}: {m}"))
            }
            Ok(ps) if ps.is_empty() => r.push_sub(State::Critical, format!("{host}: no partition")),
            Ok(ps) => {
                for p in ps {
                    count += 1;
                    let used = p.total_kb.saturating_sub(p.free_kb);
                    let pct = percent(used, p.total_kb);
                    r.push_sub(
                        t.state(pct),
                        format!(
                            "{host} {} {pct:.1}% used ({} of {})",
                            p.name,
                            human_bytes(used * 1024),
                            human_bytes(p.total_kb * 1024)
                        ),
                    );
                    r.push_perf(
                        PerfData::new(format!("{host}:{}", p.name), round6(pct))
                            .uom(Uom::Percent)
                            .thresholds(t)
                            .min(0)
                            .max(100),
                    );
                }
            }
        }
    }
    r.summarize_troubles(format!(
        "{count} partition{} below the levels",
        if count == 1 { "" } else { "s" }
    ));
    tools::finish(r, facts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::afs::{test_check, Facts};
    use crate::plugin::output::render_text;
    use crate::plugin::Check;

    /// The verdict of `check_afs space` (levels 90 and 95 %) on `facts`.
    fn evaluate(facts: &[(String, Result<Vec<Partition>, ToolError>)]) -> CheckResult {
        test_check(&["space", "-H", "10.77.0.1"]).evaluate(&Facts::Space(facts.to_vec()))
    }

    #[test]
    fn space_per_partition() {
        let facts = vec![(
            "10.77.0.1".to_string(),
            Ok(vec![Partition {
                name: "/vicepa".into(),
                free_kb: 25,
                total_kb: 100,
            }]),
        )];
        assert_eq!(
            render_text("AFS", &evaluate(&facts)),
            "AFS OK - 1 partition below the levels | 10.77.0.1:/vicepa=75%;90;95;0;100\n[OK] 10.77.0.1 /vicepa 75.0% used (75.0 KiB of 100 KiB)\n"
        );
        let failed = vec![(
            "10.77.0.2".to_string(),
            Err(ToolError::Failed(
                "vos: Could not fetch the list of partitions".into(),
            )),
        )];
        assert_eq!(evaluate(&failed).state(), State::Critical);
    }

    #[test]
    fn hung_vos_everywhere_is_a_timeout() {
        let hung = |h: &str| {
            (
                h.to_string(),
                Err(ToolError::TimedOut("vos did not finish within 1.8s".into())),
            )
        };
        let r = evaluate(&[hung("fs1"), hung("fs2")]);
        assert!(r.timed_out);
        assert_eq!(
            render_text("AFS", &r),
            "AFS CRITICAL - fs1: vos did not finish within 1.8s; fs2: vos did not finish within 1.8s\nfs1: vos did not finish within 1.8s\nfs2: vos did not finish within 1.8s\n"
        );
        let ok = (
            "fs3".to_string(),
            Ok(vec![Partition {
                name: "/vicepa".into(),
                free_kb: 50,
                total_kb: 100,
            }]),
        );
        let r = evaluate(&[hung("fs1"), ok]);
        assert!(!r.timed_out);
        assert_eq!(r.summary, "fs1: vos did not finish within 1.8s");
        assert_eq!(r.state(), State::Critical);
    }
}
