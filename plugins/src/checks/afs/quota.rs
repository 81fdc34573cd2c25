//! Mode `quota`: volumes near or over their quota (`vos listvol -format` on file
//! servers, or `vos examine -format` of one volume); `-w`/`-c` in percent of the quota.

use super::common::{partition_name, percent, PercentArgs};
use super::tools::{self, ServerArgs, ToolArgs, ToolError, Volume};
use crate::plugin::units::human_bytes;
use crate::plugin::{CheckResult, PerfData, State, Thresholds, Uom, UsageError};
use regex::Regex;
use std::time::{Duration, Instant};

/// Which volumes the quota mode looks at.
#[derive(clap::Args, Debug)]
#[command(
    mut_arg("hosts", |a| a.help("File servers whose volumes are looked at (vos listvol)").required(false)),
    mut_arg("warning", |a| a.help("Percent of the quota used that makes a volume WARNING").default_value("85")),
    mut_arg("critical", |a| a.help("Percent of the quota used that makes a volume CRITICAL").default_value("95"))
)]
pub struct QuotaArgs {
    #[command(flatten)]
    pub servers: ServerArgs,
    /// One volume (vos examine)
    #[arg(long = "volume", value_name = "NAME", conflicts_with_all = ["hosts", "partition"])]
    pub volume: Option<String>,
    /// Only this partition of the servers (a, vicepa or /vicepa)
    #[arg(long = "partition", value_name = "PART")]
    pub partition: Option<String>,
    /// Only volumes whose name matches this regular expression
    #[arg(long = "regex", value_name = "REGEX")]
    pub regex: Option<String>,
    #[command(flatten)]
    pub levels: PercentArgs,
}

/// Where the quota mode finds volumes.
#[derive(Debug, Clone, PartialEq)]
pub enum VolumeSource {
    /// One volume by name.
    One(String),
    /// Every RW volume on these servers (and partition).
    Servers(Vec<String>, Option<String>),
}

/// The volumes to look at and the levels.
#[derive(Debug)]
pub struct QuotaConfig {
    pub tool: ToolArgs,
    pub source: VolumeSource,
    pub regex: Option<Regex>,
    pub percent: Thresholds,
}

impl QuotaConfig {
    /// Validates the arguments (no I/O).
    pub fn new(a: QuotaArgs) -> Result<Self, UsageError> {
        let source = match a.volume {
            Some(v) if v.trim().is_empty() => {
                return Err(UsageError::new("empty volume name in --volume"))
            }
            Some(v) => VolumeSource::One(v.trim().to_string()),
            None if a.servers.hosts.hosts.is_empty() => {
                return Err(UsageError::new(
                    "name a volume (--volume) or file servers (-H)",
                ))
            }
            None => {
                VolumeSource::Servers(a.servers.hosts.validated()?, partition_name(a.partition)?)
            }
        };
        let regex = a
            .regex
            .map(|r| {
                Regex::new(&r).map_err(|e| {
                    UsageError::new(format!(
                        "bad --regex: {}",
                        e.to_string().lines().last().unwrap_or("")
                    ))
                })
            })
            .transpose()?;
        Ok(QuotaConfig {
            tool: a.servers.tool,
            source,
            regex,
            percent: a.levels.thresholds(),
        })
    }

    /// Runs vos: every volume of the source (RW volumes only from servers), all within
    /// `limit`.
    pub fn fetch(&self, limit: Duration) -> Result<Vec<Volume>, ToolError> {
        let deadline = Instant::now() + limit;
        let source = &self.source;
        let calls: Vec<Vec<String>> = match source {
            VolumeSource::One(v) => vec![vec!["examine".into(), v.clone(), "-format".into()]],
            VolumeSource::Servers(hosts, part) => hosts
                .iter()
                .map(|h| {
                    let mut a = vec!["listvol".to_string(), h.clone()];
                    a.extend(part.iter().cloned());
                    a.push("-format".into());
                    a
                })
                .collect(),
        };
        let mut out = Vec::new();
        for mut args in calls {
            args.extend(self.tool.flags());
            let text = tools::run_tool_until("vos", &args, deadline)?;
            out.extend(
                tools::parse_volumes(&text)
                    .into_iter()
                    .filter(|v| matches!(source, VolumeSource::One(_)) || v.kind == "RW"),
            );
        }
        Ok(out)
    }
}

fn tool_failure(e: &ToolError) -> CheckResult {
    match e {
        ToolError::Missing(m) => CheckResult::unknown(m.clone()),
        ToolError::Failed(m) => CheckResult::new(State::Critical, m.clone()),
        ToolError::TimedOut(m) => CheckResult::timed_out(m.clone()),
    }
}

/// Turns volumes into the quota result (pure): a sub-result for each volume at or past
/// the warning level, the fullest named, perfdata per volume in KB.
pub fn evaluate(
    facts: &Result<Vec<Volume>, ToolError>,
    regex: Option<&Regex>,
    t: &Thresholds,
) -> CheckResult {
    let vols = match facts {
        Err(e) => return tool_failure(e),
        Ok(v) => v,
    };
    let vols: Vec<&Volume> = vols
        .iter()
        .filter(|v| regex.is_none_or(|re| re.is_match(&v.name)))
        .collect();
    if vols.is_empty() {
        return CheckResult::unknown("no volume matched");
    }
    let mut r = CheckResult::new(State::Ok, "");
    let mut fullest: Option<(&Volume, f64)> = None;
    for v in &vols {
        if v.status != "OK" {
            r.push_sub(State::Critical, format!("{} is {}", v.name, v.status));
            continue;
        }
        let pct = percent(v.used_kb, v.quota_kb);
        if v.quota_kb > 0 && fullest.is_none_or(|(_, f)| pct > f) {
            fullest = Some((v, pct));
        }
        let state = if v.quota_kb == 0 {
            State::Ok
        } else {
            t.state(pct)
        };
        if state != State::Ok {
            r.push_sub(state, quota_text(v, pct));
        }
        let mut p = PerfData::new(v.name.clone(), v.used_kb)
            .uom(Uom::Kilobytes)
            .min(0);
        if v.quota_kb > 0 {
            p = p
                .thresholds(&t.scaled(v.quota_kb as f64 / 100.0))
                .max(v.quota_kb);
        }
        r.push_perf(p);
    }
    let n = vols.len();
    let ok = match fullest {
        Some((v, pct)) => format!(
            "{n} volume{} under quota, fullest {}",
            if n == 1 { "" } else { "s" },
            quota_text(v, pct)
        ),
        None => format!("{n} volume{} without quota", if n == 1 { "" } else { "s" }),
    };
    r.summarize_troubles(ok);
    r
}

fn quota_text(v: &Volume, pct: f64) -> String {
    format!(
        "{} {pct:.1}% of quota ({} of {})",
        v.name,
        human_bytes(v.used_kb * 1024),
        human_bytes(v.quota_kb * 1024)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::afs::{test_check, Facts};
    use crate::plugin::output::render_text;
    use crate::plugin::Check;

    /// The verdict of `check_afs quota -H 10.77.0.1` (levels 85 and 95 %), with `more`
    /// options, on `facts`.
    fn evaluate(facts: &Result<Vec<Volume>, ToolError>, more: &[&str]) -> CheckResult {
        let argv = [&["quota", "-H", "10.77.0.1"][..], more].concat();
        test_check(&argv).evaluate(&Facts::Quota(facts.clone()))
    }

    fn vol(name: &str, used: u64, quota: u64) -> Volume {
        Volume {
            name: name.into(),
            server: "10.77.0.1".into(),
            partition: "/vicepa".into(),
            kind: "RW".into(),
            status: "OK".into(),
            used_kb: used,
            quota_kb: quota,
        }
    }

    #[test]
    fn quota_levels_and_the_fullest() {
        let vols = Ok(vec![vol("user.alice", 2, 100), vol("user.bob", 45, 50)]);
        let r = evaluate(&vols, &[]);
        assert_eq!(
            render_text("AFS", &r),
            "AFS WARNING - user.bob 90.0% of quota (45.0 KiB of 50.0 KiB) | user.alice=2KB;85;95;0;100 user.bob=45KB;42.5;47.5;0;50\n[WARNING] user.bob 90.0% of quota (45.0 KiB of 50.0 KiB)\n"
        );
        let r = evaluate(&vols, &["--regex", "alice"]);
        assert_eq!(
            r.summary,
            "1 volume under quota, fullest user.alice 2.0% of quota (2.0 KiB of 100 KiB)"
        );
        let over = Ok(vec![vol("user.bob", 2, 2)]);
        assert_eq!(evaluate(&over, &[]).state(), State::Critical);
        let none = Ok(vec![]);
        assert_eq!(evaluate(&none, &[]).state(), State::Unknown);
        let missing = Err(ToolError::Missing("vos not found".into()));
        assert_eq!(evaluate(&missing, &[]).state(), State::Unknown);
        let hung = Err(ToolError::TimedOut("vos did not finish within 1.8s".into()));
        let r = evaluate(&hung, &[]);
        assert!(r.timed_out);
        assert_eq!(
            render_text("AFS", &r.with_timeout_state(State::Unknown)),
            "AFS UNKNOWN - vos did not finish within 1.8s\n"
        );
    }
}
