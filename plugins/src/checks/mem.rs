//! check_mem: used memory (MemTotal - MemAvailable) and used swap against thresholds,
//! optionally a cgroup v2's memory use, its OOM kills and memory pressure (PSI).
//!
//! Thresholds on amounts are [`Level`]s: `80%` is a percentage of the total, a number
//! with a unit (`3G`, `512M`) or a bare number (bytes) is an amount; both take the Nagios
//! range forms (`@1G:2G`, `80:%`). A bare `-w 80` therefore means 80 *bytes*: write `80%`.

use crate::host::memory::{
    read_cgroup_memory, read_meminfo, read_memory_pressure, CgroupMemory, Meminfo,
};
use crate::plugin::range::format_number;
use crate::plugin::units::human_bytes;
use crate::plugin::{
    judge, level_pairs, parse_level, Check, CheckResult, CommonArgs, Level, Observed, PerfData,
    Range, State, Thresholds, Unit, Uom, UsageError, Work,
};
use clap::Parser;
use std::path::PathBuf;

/// An amount: a size (`3G`, a bare number of bytes) or a percentage of the total, with
/// the Nagios range forms (`@1G:2G`, `80:%`); a percentage lies within 0..=100.
fn parse_amount(text: &str) -> Result<Level, String> {
    parse_level(text, &[Unit::Bytes, Unit::Percent])
}

/// A range over percent (`10`, `10%`, `@5:20`), from 0 to 100.
fn parse_percent(text: &str) -> Result<Range, String> {
    parse_level(text, &[Unit::Percent]).map(|l| l.range)
}

/// Command line of check_mem.
#[derive(Parser, Debug)]
#[command(
    name = "check_mem",
    version,
    about = "Checks used memory (MemTotal - MemAvailable), used swap, and optionally a cgroup v2's memory use, OOM kills and memory pressure.\n\nAmounts: 80% (of the total), 3G, 512M, or a bare number of bytes; Nagios ranges work (@1G:2G). Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad options, unreadable files). --help and --version exit 0."
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Warning level for used memory (e.g. 80% or 3G)
    #[arg(short = 'w', long = "warning", value_name = "AMOUNT", value_parser = parse_amount)]
    pub warning: Option<Level>,

    /// Critical level for used memory (e.g. 90% or 3.5G)
    #[arg(short = 'c', long = "critical", value_name = "AMOUNT", value_parser = parse_amount)]
    pub critical: Option<Level>,

    /// Also check this cgroup v2 (absolute, or relative to /sys/fs/cgroup): memory.current
    /// against memory.max, and the oom_kill count of memory.events
    #[arg(long = "cgroup", value_name = "PATH")]
    pub cgroup: Option<PathBuf>,

    #[command(flatten)]
    pub levels: MoreLevels,
}

level_pairs! {
    /// The levels besides used memory's: on used swap, the cgroup's use, its OOM kills,
    /// and memory pressure.
    pub struct MoreLevels {
        swap_warning, swap_critical, "AMOUNT", parse_amount, Level, "Warning level for used swap (percent of the swap total, or an amount)", "Critical level for used swap (percent of the swap total, or an amount)";
        cgroup_warning, cgroup_critical, "AMOUNT", parse_amount, Level, "Warning level for the cgroup's memory.current (percent of memory.max, or of MemTotal when unlimited; or an amount)", "Critical level for the cgroup's memory.current";
        oom_warning, oom_critical, "RANGE", clap::value_parser!(Range), Range, "Warning range for the cgroup's OOM kill count (e.g. 0 = any kill warns)", "Critical range for the cgroup's OOM kill count";
        pressure_warning, pressure_critical, "RANGE", parse_percent, Range, "Warning range for memory pressure, PSI \"some avg10\" in percent (from the cgroup's memory.pressure with --cgroup, else /proc/pressure/memory)", "Critical range for memory pressure, PSI \"some avg10\" in percent";
    }
}

/// The validated check.
#[derive(Debug)]
pub struct MemCheck {
    pub used: [Option<Level>; 2],
    pub swap: [Option<Level>; 2],
    /// The cgroup directory, resolved against `cgroup_root` when relative.
    pub cgroup: Option<PathBuf>,
    pub cgroup_used: [Option<Level>; 2],
    pub oom: Thresholds,
    pub pressure: Thresholds,
    /// Where /proc is (a fixture directory in tests).
    pub proc_root: PathBuf,
    /// Where relative `--cgroup` paths start (a fixture directory in tests).
    pub cgroup_root: PathBuf,
}

/// What was read from the machine.
#[derive(Debug, Clone, PartialEq)]
pub struct MemFacts {
    pub meminfo: Meminfo,
    pub cgroup: Option<CgroupMemory>,
    /// PSI "some avg10" in percent, read only when pressure thresholds are set.
    pub pressure: Option<f64>,
}

impl Check for MemCheck {
    type Args = Args;
    /// The memory as read, or why a file could not be read.
    type Facts = Observed<MemFacts>;
    const LABEL: &'static str = "MEM";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        let cgroup_only = [
            ("--cgroup-warning", args.levels.cgroup_warning.is_some()),
            ("--cgroup-critical", args.levels.cgroup_critical.is_some()),
            ("--oom-warning", args.levels.oom_warning.is_some()),
            ("--oom-critical", args.levels.oom_critical.is_some()),
        ];
        if args.cgroup.is_none() {
            if let Some((name, _)) = cgroup_only.iter().find(|(_, set)| *set) {
                return Err(UsageError(format!("{name} needs --cgroup PATH")));
            }
        }
        if args
            .cgroup
            .as_ref()
            .is_some_and(|p| p.as_os_str().is_empty())
        {
            return Err(UsageError::new("--cgroup: empty path"));
        }
        Ok(MemCheck {
            used: [args.warning, args.critical],
            swap: [args.levels.swap_warning, args.levels.swap_critical],
            cgroup: args.cgroup,
            cgroup_used: [args.levels.cgroup_warning, args.levels.cgroup_critical],
            oom: Thresholds::new(args.levels.oom_warning, args.levels.oom_critical),
            pressure: Thresholds::new(args.levels.pressure_warning, args.levels.pressure_critical),
            proc_root: PathBuf::from("/proc"),
            cgroup_root: PathBuf::from("/sys/fs/cgroup"),
        })
    }

    /// Reads /proc/meminfo, the cgroup files and the PSI file as needed.
    fn fetch(&self) -> Work<'_, Self::Facts> {
        Work::local(move || {
            let meminfo = read_meminfo(&self.proc_root)?;
            let dir = self.cgroup_dir();
            let cgroup = dir.as_deref().map(read_cgroup_memory).transpose()?;
            let pressure = if self.pressure.is_empty() {
                None
            } else {
                Some(read_memory_pressure(&self.proc_root, dir.as_deref())?)
            };
            Ok(MemFacts {
                meminfo,
                cgroup,
                pressure,
            })
        })
    }

    /// UNKNOWN when a file could not be read.
    fn evaluate(&self, facts: &Self::Facts) -> CheckResult {
        judge(facts, |facts| evaluate(facts, self))
    }
}

impl MemCheck {
    /// The cgroup directory, when one was given.
    pub fn cgroup_dir(&self) -> Option<PathBuf> {
        self.cgroup.as_ref().map(|p| {
            if p.is_absolute() {
                p.clone()
            } else {
                self.cgroup_root.join(p)
            }
        })
    }
}

/// A range over bytes with whole-byte ends: the start rounded up and the end rounded
/// down, which alerts on exactly the same whole numbers as the fractional range.
fn whole_bytes(r: Range) -> Range {
    let text = format!(
        "{}{}:{}",
        if r.is_inside() { "@" } else { "" },
        r.start()
            .map_or("~".to_string(), |s| format_number(s.ceil())),
        r.end().map_or(String::new(), |e| format_number(e.floor()))
    );
    text.parse().unwrap_or(r)
}

/// Turns a pair of [`Level`]s into byte thresholds over `total` bytes (percent levels
/// are scaled to whole bytes, so the state and the perfdata use the same numbers).
pub fn byte_thresholds(levels: &[Option<Level>; 2], total: u64) -> Thresholds {
    let bytes = |l: &Option<Level>| {
        l.map(|l| match l.unit {
            Unit::Percent => whole_bytes(l.absolute(total as f64)),
            _ => l.range,
        })
    };
    Thresholds::new(bytes(&levels[0]), bytes(&levels[1]))
}

/// `used` as a percentage of `total` (0 when the total is 0).
fn percent(used: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        used as f64 * 100.0 / total as f64
    }
}

/// "3.2 GiB of 23.5 GiB used (13.6%)".
fn usage_text(used: u64, total: u64) -> String {
    format!(
        "{} of {} used ({:.1}%)",
        human_bytes(used),
        human_bytes(total),
        percent(used, total)
    )
}

/// One measured part: its state and text, as a sub-result.
struct Part {
    state: State,
    text: String,
}

/// Turns the facts into the result (pure).
pub fn evaluate(facts: &MemFacts, check: &MemCheck) -> CheckResult {
    let m = &facts.meminfo;
    let mut parts = Vec::new();
    let mut perf = Vec::new();

    // an amount used of a total, against a pair of levels
    let mut used = |what: String, label: &str, amount: u64, total: u64, levels| {
        let t = byte_thresholds(levels, total);
        parts.push(Part {
            state: t.state(amount as f64),
            text: format!("{what} {}", usage_text(amount, total)),
        });
        let p = PerfData::new(label, amount).uom(Uom::Bytes).thresholds(&t);
        perf.push(p.min(0).max(total));
    };
    let mem_used = m.mem_total.saturating_sub(m.mem_available);
    let swap_used = m.swap_total.saturating_sub(m.swap_free);
    for (what, label, amount, total, levels) in [
        ("memory", "mem_used", mem_used, m.mem_total, &check.used),
        ("swap", "swap_used", swap_used, m.swap_total, &check.swap),
    ] {
        used(what.to_string(), label, amount, total, levels);
    }
    if let Some(cg) = &facts.cgroup {
        let what = format!("cgroup {}", cg.path.display());
        let limit = cg.max.unwrap_or(m.mem_total);
        used(what, "cgroup_used", cg.current, limit, &check.cgroup_used);
        if cg.max.is_none() {
            // a percentage of MemTotal, which is no maximum of the cgroup's use
            parts.last_mut().expect("just pushed").text += " (no memory.max; percent of MemTotal)";
            perf.last_mut().expect("just pushed").max = None;
        }
        parts.push(Part {
            state: check.oom.state(cg.oom_kills as f64),
            text: format!("cgroup OOM kills: {}", cg.oom_kills),
        });
        perf.push(
            PerfData::new("oom_kill", cg.oom_kills)
                .uom(Uom::Counter)
                .thresholds(&check.oom)
                .min(0),
        );
    }

    if let Some(avg10) = facts.pressure {
        let whose = if facts.cgroup.is_some() {
            "cgroup "
        } else {
            ""
        };
        parts.push(Part {
            state: check.pressure.state(avg10),
            text: format!("{whose}memory pressure: some avg10 {avg10:.2}%"),
        });
        perf.push(
            PerfData::new("pressure_some_avg10", avg10)
                .uom(Uom::Percent)
                .thresholds(&check.pressure)
                .min(0)
                .max(100),
        );
    }

    let state = State::worst_of(parts.iter().map(|p| p.state));
    let shown: Vec<&str> = parts
        .iter()
        .filter(|p| state == State::Ok || p.state != State::Ok)
        .map(|p| p.text.as_str())
        .collect();
    let mut result = CheckResult::new(State::Ok, shown.join(", "));
    if parts.len() > 2 || state != State::Ok {
        for p in &parts {
            result.push_sub(p.state, &p.text);
        }
    } else {
        result.raise(state);
    }
    for p in perf {
        result.push_perf(p);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::memory::parse_meminfo;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::fetched;
    use crate::plugin::runner::validate;
    use std::path::Path;

    const MEMINFO: &str = "MemTotal:        8000000 kB\nMemFree:          500000 kB\nMemAvailable:    2000000 kB\nBuffers:           10000 kB\nCached:          1000000 kB\nSwapCached:         1000 kB\nSwapTotal:       1000000 kB\nSwapFree:         750000 kB\nHugePages_Total:       0\n";

    fn check(argv: &[&str]) -> Result<MemCheck, UsageError> {
        validate::<MemCheck>(argv)
    }

    fn meminfo() -> Meminfo {
        parse_meminfo(MEMINFO, Path::new("/proc/meminfo")).unwrap()
    }

    fn facts() -> MemFacts {
        MemFacts {
            meminfo: meminfo(),
            cgroup: None,
            pressure: None,
        }
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn used_memory_percent_thresholds() {
        // used = 8000000 - 2000000 kB = 75%
        let r = check(&["-w", "80%", "-c", "90%"])
            .unwrap()
            .evaluate(&Ok(facts()));
        assert_eq!(r.state(), State::Ok);
        assert_eq!(
            render_text("MEM", &r),
            "MEM OK - memory 5.7 GiB of 7.6 GiB used (75.0%), swap 244 MiB of 977 MiB used (25.0%) | mem_used=6144000000B;6553600000;7372800000;0;8192000000 swap_used=256000000B;;;0;1024000000\n"
        );
        let r = check(&["-w", "75%", "-c", "90%"])
            .unwrap()
            .evaluate(&Ok(facts()));
        assert_eq!(r.state(), State::Ok, "the endpoint is inclusive");
        let r = check(&["-w", "70%", "-c", "90%"])
            .unwrap()
            .evaluate(&Ok(facts()));
        assert_eq!(r.state(), State::Warning);
        assert_eq!(
            r.summary, "memory 5.7 GiB of 7.6 GiB used (75.0%)",
            "the summary names the part in trouble"
        );
        assert_eq!(r.details[0].state, Some(State::Warning));
        assert_eq!(r.details[1].state, Some(State::Ok));
        let r = check(&["-w", "50%", "-c", "74%"])
            .unwrap()
            .evaluate(&Ok(facts()));
        assert_eq!(r.state(), State::Critical);
    }

    #[test]
    fn used_memory_absolute_thresholds() {
        // used = 6144000000 bytes
        let c = check(&["-w", "5G", "-c", "6G"]).unwrap();
        assert_eq!(c.evaluate(&Ok(facts())).state(), State::Warning);
        let c = check(&["-w", "6144000000", "-c", "7G"]).unwrap();
        assert_eq!(c.evaluate(&Ok(facts())).state(), State::Ok);
        let c = check(&["-c", "5.5G"]).unwrap();
        assert_eq!(c.evaluate(&Ok(facts())).state(), State::Critical);
    }

    #[test]
    fn swap_thresholds() {
        let c = check(&["--swap-warning", "20%", "--swap-critical", "50%"]).unwrap();
        let r = c.evaluate(&Ok(facts()));
        assert_eq!(r.state(), State::Warning);
        assert_eq!(r.summary, "swap 244 MiB of 977 MiB used (25.0%)");
        // no swap at all: 0 of 0 is never above a percentage
        let mut f = facts();
        f.meminfo.swap_total = 0;
        f.meminfo.swap_free = 0;
        assert_eq!(c.evaluate(&Ok(f)).state(), State::Ok);
    }

    fn cgroup_facts(max: Option<u64>, oom: u64) -> MemFacts {
        MemFacts {
            cgroup: Some(CgroupMemory {
                path: PathBuf::from("/sys/fs/cgroup/members/alice"),
                current: 150 << 20,
                max,
                oom_kills: oom,
            }),
            ..facts()
        }
    }

    #[test]
    fn cgroup_usage_and_oom_kills() {
        let c = check(&[
            "--cgroup",
            "members/alice",
            "--cgroup-warning",
            "70%",
            "--cgroup-critical",
            "90%",
            "--oom-critical",
            "0",
        ])
        .unwrap();
        let r = c.evaluate(&Ok(cgroup_facts(Some(200 << 20), 0)));
        assert_eq!(r.state(), State::Warning);
        assert_eq!(
            render_text("MEM", &r),
            "MEM WARNING - cgroup /sys/fs/cgroup/members/alice 150 MiB of 200 MiB used (75.0%) | mem_used=6144000000B;;;0;8192000000 swap_used=256000000B;;;0;1024000000 cgroup_used=157286400B;146800640;188743680;0;209715200 oom_kill=0c;;0;0\n[OK] memory 5.7 GiB of 7.6 GiB used (75.0%)\n[OK] swap 244 MiB of 977 MiB used (25.0%)\n[WARNING] cgroup /sys/fs/cgroup/members/alice 150 MiB of 200 MiB used (75.0%)\n[OK] cgroup OOM kills: 0\n"
        );
        let r = c.evaluate(&Ok(cgroup_facts(Some(200 << 20), 2)));
        assert_eq!(r.state(), State::Critical);
        assert_eq!(
            r.summary,
            "cgroup /sys/fs/cgroup/members/alice 150 MiB of 200 MiB used (75.0%), cgroup OOM kills: 2"
        );
        // unlimited: percent of MemTotal
        let r = c.evaluate(&Ok(cgroup_facts(None, 0)));
        assert_eq!(r.state(), State::Ok);
        assert!(r.summary.contains("(no memory.max; percent of MemTotal)"));
    }

    /// A file that could not be read: UNKNOWN, naming it.
    #[test]
    fn unreadable_is_unknown() {
        let why = "cannot read /proc/meminfo: Permission denied (os error 13)";
        let r = check(&["-w", "80%"])
            .unwrap()
            .evaluate(&Err(why.to_string()));
        assert_eq!(r.state(), State::Unknown);
        assert_eq!(render_text("MEM", &r), format!("MEM UNKNOWN - {why}\n"));
    }

    #[test]
    fn percent_levels_become_whole_bytes() {
        let t = byte_thresholds(
            &[
                Some(parse_amount("80%").unwrap()),
                Some(parse_amount("@10:20.5%").unwrap()),
            ],
            1001,
        );
        assert_eq!(t.warning.unwrap().to_string(), "800");
        assert_eq!(t.critical.unwrap().to_string(), "@101:205");
        assert_eq!(t.state(800.0), State::Ok);
        assert_eq!(t.state(801.0), State::Warning);
        assert_eq!(t.state(101.0), State::Critical);
        assert_eq!(t.state(100.0), State::Ok);
    }

    #[test]
    fn pressure_thresholds() {
        let c = check(&["--pressure-warning", "10", "--pressure-critical", "40"]).unwrap();
        for (avg10, want) in [
            (0.0, State::Ok),
            (10.0, State::Ok),
            (10.5, State::Warning),
            (40.01, State::Critical),
        ] {
            let f = MemFacts {
                pressure: Some(avg10),
                ..facts()
            };
            assert_eq!(c.evaluate(&Ok(f)).state(), want, "avg10 {avg10}");
        }
        let f = MemFacts {
            pressure: Some(12.5),
            ..facts()
        };
        let r = c.evaluate(&Ok(f));
        assert_eq!(r.summary, "memory pressure: some avg10 12.50%");
        assert_eq!(
            r.perfdata[2].to_string(),
            "pressure_some_avg10=12.5%;10;40;0;100"
        );
    }

    /// Fetch against fixture directories: the /proc and cgroup roots are config fields.
    #[test]
    fn fetch_reads_fixture_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let proc_root = dir.path().join("proc");
        let cg = dir.path().join("cg/members/alice");
        std::fs::create_dir_all(proc_root.join("pressure")).unwrap();
        std::fs::create_dir_all(&cg).unwrap();
        std::fs::write(proc_root.join("meminfo"), MEMINFO).unwrap();
        std::fs::write(
            proc_root.join("pressure/memory"),
            "some avg10=3.00 avg60=0 avg300=0 total=1\n",
        )
        .unwrap();
        std::fs::write(cg.join("memory.current"), "157286400\n").unwrap();
        std::fs::write(cg.join("memory.max"), "max\n").unwrap();
        std::fs::write(cg.join("memory.events"), "oom 1\noom_kill 1\n").unwrap();
        std::fs::write(
            cg.join("memory.pressure"),
            "some avg10=7.50 avg60=0 avg300=0 total=1\n",
        )
        .unwrap();
        let mut c = check(&["--cgroup", "members/alice", "--pressure-warning", "5"]).unwrap();
        c.proc_root = proc_root.clone();
        c.cgroup_root = dir.path().join("cg");
        let f = fetched(&c).unwrap();
        assert_eq!(
            f.cgroup,
            Some(CgroupMemory {
                path: cg.clone(),
                current: 157286400,
                max: None,
                oom_kills: 1
            })
        );
        assert_eq!(f.pressure, Some(7.5), "the cgroup's own PSI file");
        let mut sys = check(&["--pressure-warning", "5"]).unwrap();
        sys.proc_root = proc_root.clone();
        assert_eq!(fetched(&sys).unwrap().pressure, Some(3.0));
        // a missing file is named
        std::fs::remove_file(cg.join("memory.events")).unwrap();
        let e = fetched(&c).unwrap_err();
        assert_eq!(
            e,
            format!(
                "cannot read {}: No such file or directory (os error 2)",
                cg.join("memory.events").display()
            )
        );
        std::fs::remove_file(proc_root.join("pressure/memory")).unwrap();
        assert!(fetched(&sys).unwrap_err().contains("pressure/memory"));
    }

    #[test]
    fn bad_options_are_usage_errors() {
        assert_eq!(
            check(&["--oom-critical", "0"]).unwrap_err().0,
            "--oom-critical needs --cgroup PATH"
        );
        assert_eq!(
            check(&["--cgroup-warning", "80%"]).unwrap_err().0,
            "--cgroup-warning needs --cgroup PATH"
        );
        let percent = "a percentage must be from 0 to 100";
        for (argv, words) in [
            (&["-w", "80X"][..], "'80X'"),
            (&["-c", "90:80%"], "start is greater than end"),
            (&["-w", "200%"], percent),
            (&["-c", "@-1:50%"], percent),
            (&["--swap-warning", "101%"], percent),
            (&["--cgroup", "x", "--cgroup-critical", "150%"], percent),
            (&["--pressure-warning", "101"], percent),
            (&["--pressure-critical", "200%"], percent),
            (&["-w", "80%%"], "is not a unit"),
            (&["--pressure-warning", "lots"], "'lots'"),
        ] {
            let e = check(argv).unwrap_err().0;
            assert!(e.contains(words), "{argv:?}: {e}");
        }
    }
}
