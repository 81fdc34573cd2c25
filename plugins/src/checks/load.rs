//! check_load: the 1, 5 and 15 minute load averages against thresholds, optionally per
//! CPU. Options follow monitoring-plugins' check_load.

use crate::host::processes::{snapshot, ProcessInfo, UserNames};
use crate::plugin::{
    judge, parse_level, shown, Check, CheckResult, CommonArgs, Observed, PerfData, Range, State,
    Thresholds, Unit, UsageError, Work,
};
use clap::Parser;
use std::path::PathBuf;
use std::str::FromStr;

/// Three ranges for the 1, 5 and 15 minute load: `L1[,L5[,L15]]`, missing values
/// filled from the last one given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadLevels(pub [Range; 3]);

impl FromStr for LoadLevels {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split(',').collect();
        if parts.len() > 3 {
            return Err(format!(
                "'{}': at most three values (1, 5 and 15 minutes)",
                shown(s)
            ));
        }
        let mut ranges = Vec::with_capacity(3);
        for p in &parts {
            // the range's own error first (`invalid range 'x'`), as it always read
            p.parse::<Range>().map_err(|e| e.to_string())?;
            ranges.push(parse_level(p, &[Unit::Count])?.range);
        }
        while ranges.len() < 3 {
            ranges.push(*ranges.last().expect("split yields one part"));
        }
        Ok(LoadLevels([ranges[0], ranges[1], ranges[2]]))
    }
}

/// Command line of check_load.
#[derive(Parser, Debug)]
#[command(
    name = "check_load",
    version,
    about = "Checks the system load average.\n\nExit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad options, internal error). --help and --version exit 0."
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Warning ranges for the 1, 5 and 15 minute load (e.g. 15,10,5)
    #[arg(
        short = 'w',
        long = "warning",
        value_name = "WLOAD1[,WLOAD5[,WLOAD15]]",
        allow_hyphen_values = true
    )]
    pub warning: Option<LoadLevels>,

    /// Critical ranges for the 1, 5 and 15 minute load (e.g. 30,25,20)
    #[arg(
        short = 'c',
        long = "critical",
        value_name = "CLOAD1[,CLOAD5[,CLOAD15]]",
        allow_hyphen_values = true
    )]
    pub critical: Option<LoadLevels>,

    /// Divide the load averages by the number of CPUs before comparing
    #[arg(short = 'r', long = "percpu")]
    pub per_cpu: bool,

    /// On a problem, name the N processes using the most CPU
    #[arg(
        short = 'n',
        long = "procs-to-show",
        value_name = "N",
        default_value_t = 0
    )]
    pub procs_to_show: usize,
}

/// The validated check.
#[derive(Debug)]
pub struct LoadCheck {
    /// Thresholds for each of the three averages.
    pub thresholds: [Thresholds; 3],
    pub per_cpu: bool,
    pub procs_to_show: usize,
    pub proc_root: PathBuf,
}

/// What was read from the machine.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadFacts {
    pub load: [f64; 3],
    pub cpus: usize,
    /// The busiest processes, most CPU first (only read on a problem with `-n`).
    pub top: Vec<(ProcessInfo, String)>,
}

/// A plain upper bound `N` or `0:N` (the monitoring-plugins form) and its value.
fn simple_upper(r: &Range) -> Option<f64> {
    (!r.is_inside() && r.start().is_none_or(|s| s <= 0.0))
        .then_some(r.end())
        .flatten()
}

impl Check for LoadCheck {
    type Args = Args;
    /// The load as read, or why /proc/loadavg could not be read.
    type Facts = Observed<LoadFacts>;
    const LABEL: &'static str = "LOAD";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        let mut thresholds = [Thresholds::default(); 3];
        for (i, t) in thresholds.iter_mut().enumerate() {
            t.warning = args.warning.map(|l| l.0[i]);
            t.critical = args.critical.map(|l| l.0[i]);
            if let (Some(w), Some(c)) = (
                t.warning.as_ref().and_then(simple_upper),
                t.critical.as_ref().and_then(simple_upper),
            ) {
                if w > c {
                    return Err(UsageError(format!(
                        "the {}-minute warning load {w} is greater than the critical load {c}",
                        [1, 5, 15][i]
                    )));
                }
            }
        }
        Ok(LoadCheck {
            thresholds,
            per_cpu: args.per_cpu,
            procs_to_show: args.procs_to_show,
            proc_root: PathBuf::from("/proc"),
        })
    }

    /// Reads the load averages and the CPU count; with `-n`, and only when the load is
    /// not OK, also the busiest processes. That one verdict is taken here, from the
    /// levels ([`LoadCheck::state`], the same rule `evaluate` applies), because the
    /// process table is worth reading only on a problem.
    fn fetch(&self) -> Work<'_, Self::Facts> {
        Work::local(move || {
            let path = self.proc_root.join("loadavg");
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let mut facts = LoadFacts {
                load: parse_loadavg(&text)?,
                cpus: online_cpus(),
                top: Vec::new(),
            };
            if self.procs_to_show > 0 && self.state(&facts) != State::Ok {
                facts.top = self.top_processes();
            }
            Ok(facts)
        })
    }

    /// UNKNOWN when the load could not be read.
    fn evaluate(&self, facts: &Self::Facts) -> CheckResult {
        judge(facts, |facts| evaluate(facts, self))
    }
}

/// Online CPUs, as monitoring-plugins counts them.
pub fn online_cpus() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    if n > 0 {
        n as usize
    } else {
        1
    }
}

/// Parses `/proc/loadavg` text.
pub fn parse_loadavg(text: &str) -> Result<[f64; 3], String> {
    let mut it = text.split_whitespace().map(str::parse::<f64>);
    let mut load = [0.0; 3];
    for slot in &mut load {
        *slot = it
            .next()
            .and_then(Result::ok)
            .ok_or_else(|| format!("cannot read the load average from '{}'", text.trim()))?;
    }
    Ok(load)
}

impl LoadCheck {
    /// The averages compared with the levels: per CPU with `-r`.
    fn compared(&self, facts: &LoadFacts) -> [f64; 3] {
        let cpus = facts.cpus.max(1) as f64;
        facts.load.map(|l| if self.per_cpu { l / cpus } else { l })
    }

    /// The state of the load: the worst of the three averages against their levels.
    pub fn state(&self, facts: &LoadFacts) -> State {
        let compared = self.compared(facts);
        State::worst_of((0..3).map(|i| self.thresholds[i].state(compared[i])))
    }

    fn top_processes(&self) -> Vec<(ProcessInfo, String)> {
        let mut procs = snapshot(&self.proc_root, true).unwrap_or_default();
        procs.sort_by(|a, b| b.pcpu().total_cmp(&a.pcpu()));
        procs.truncate(self.procs_to_show);
        let mut names = UserNames::default();
        procs
            .into_iter()
            .map(|p| {
                let user = names.name(p.uid).to_string();
                (p, user)
            })
            .collect()
    }
}

/// Turns the facts into the result (pure).
pub fn evaluate(facts: &LoadFacts, check: &LoadCheck) -> CheckResult {
    let cpus = facts.cpus.max(1) as f64;
    let compared = check.compared(facts);
    let state = check.state(facts);
    let shown = |v: &[f64]| {
        v.iter()
            .map(|l| format!("{l:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let summary = if check.per_cpu {
        format!(
            "load average per CPU: {} ({} CPUs; total {})",
            shown(&compared),
            facts.cpus,
            shown(&facts.load)
        )
    } else {
        format!("load average: {}", shown(&facts.load))
    };
    let mut result = CheckResult::new(state, summary);
    for (i, name) in ["load1", "load5", "load15"].iter().enumerate() {
        // the raw load carries thresholds in its own unit: per-CPU ones scaled up
        let t = if check.per_cpu {
            check.thresholds[i].scaled(cpus)
        } else {
            check.thresholds[i]
        };
        result.push_perf(PerfData::new(*name, facts.load[i]).thresholds(&t).min(0));
        if check.per_cpu {
            // the label monitoring-plugins uses for the per-CPU value
            let scaled = (compared[i] * 1000.0).round() / 1000.0;
            result.push_perf(
                PerfData::new(format!("scaled_{name}"), scaled)
                    .thresholds(&check.thresholds[i])
                    .min(0),
            );
        }
    }
    if state != State::Ok {
        for (p, user) in &facts.top {
            let what = if p.args.is_empty() {
                &p.command
            } else {
                &p.args
            };
            result.push_line(format!(
                "{:.1}% CPU pid {} user {}: {}",
                p.pcpu(),
                p.pid,
                user,
                crate::plugin::shown(what)
            ));
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::runner::fetched;
    use crate::plugin::runner::validate;

    fn check(argv: &[&str]) -> Result<LoadCheck, UsageError> {
        validate::<LoadCheck>(argv)
    }

    /// The daemon and the NRPE agent never read files named by a check's arguments.
    #[test]
    fn in_process_checks_refuse_extra_opts() {
        let e =
            crate::plugin::runner::prepare::<LoadCheck>(&["--extra-opts=load@/etc/x.ini".into()])
                .err()
                .unwrap();
        assert!(
            e.0.starts_with("--extra-opts is read only by the plugin programs"),
            "{e}"
        );
        assert!(crate::plugin::runner::prepare::<LoadCheck>(&["-w".into(), "5".into()]).is_ok());
    }

    /// The daemon and the NRPE agent read monitoring-plugins' older forms too.
    #[test]
    fn in_process_checks_take_the_older_forms() {
        let words: Vec<String> = ["-wt", "5", "-ct", "9", "-to", "7", "-w", "6"]
            .map(String::from)
            .to_vec();
        let c = crate::plugin::runner::prepare::<LoadCheck>(&words).unwrap();
        assert_eq!(c.timeout().duration, std::time::Duration::from_secs(7));
        // the last of `-wt 5` and `-w 6` counts, as with getopt
        let c = check(&["-wt", "5", "-ct", "9", "-w", "6"]).unwrap();
        let want = check(&["-w", "6", "-c", "9"]).unwrap();
        assert_eq!(c.thresholds, want.thresholds);
    }

    fn facts(l: [f64; 3], cpus: usize) -> LoadFacts {
        LoadFacts {
            load: l,
            cpus,
            top: Vec::new(),
        }
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn parses_proc_loadavg() {
        assert_eq!(
            parse_loadavg("0.52 0.58 0.59 2/345 12345\n").unwrap(),
            [0.52, 0.58, 0.59]
        );
        assert!(parse_loadavg("garbage").is_err());
    }

    #[test]
    fn thresholds_fill_from_the_last_value() {
        let c = check(&["-w", "5", "-c", "10,8"]).unwrap();
        assert_eq!(c.thresholds[2].warning.unwrap().to_string(), "5");
        assert_eq!(c.thresholds[2].critical.unwrap().to_string(), "8");
    }

    #[test]
    fn states_at_and_around_thresholds() {
        let c = check(&["-w", "15,10,5", "-c", "30,25,20"]).unwrap();
        assert_eq!(
            c.evaluate(&Ok(facts([15.0, 10.0, 5.0], 2))).state(),
            State::Ok
        );
        assert_eq!(
            c.evaluate(&Ok(facts([15.01, 1.0, 1.0], 2))).state(),
            State::Warning
        );
        assert_eq!(
            c.evaluate(&Ok(facts([1.0, 1.0, 5.5], 2))).state(),
            State::Warning
        );
        assert_eq!(
            c.evaluate(&Ok(facts([1.0, 25.5, 1.0], 2))).state(),
            State::Critical
        );
    }

    #[test]
    fn per_cpu_divides() {
        let c = check(&["-r", "-w", "1", "-c", "2"]).unwrap();
        let r = c.evaluate(&Ok(facts([3.0, 3.0, 3.0], 4)));
        assert_eq!(r.state(), State::Ok);
        assert_eq!(
            crate::plugin::output::render_text("LOAD", &r),
            "LOAD OK - load average per CPU: 0.75, 0.75, 0.75 (4 CPUs; total 3.00, 3.00, 3.00) | load1=3;4;8;0 scaled_load1=0.75;1;2;0 load5=3;4;8;0 scaled_load5=0.75;1;2;0 load15=3;4;8;0 scaled_load15=0.75;1;2;0\n"
        );
        assert_eq!(
            c.evaluate(&Ok(facts([9.0, 3.0, 3.0], 4))).state(),
            State::Critical
        );
    }

    #[test]
    fn output_line() {
        let c = check(&["-w", "15,10,5", "-c", "30,25,20"]).unwrap();
        let r = c.evaluate(&Ok(facts([0.52, 0.58, 0.59], 2)));
        assert_eq!(
            crate::plugin::output::render_text("LOAD", &r),
            "LOAD OK - load average: 0.52, 0.58, 0.59 | load1=0.52;15;30;0 load5=0.58;10;25;0 load15=0.59;5;20;0\n"
        );
    }

    #[test]
    fn bad_options_are_usage_errors() {
        assert_eq!(
            check(&["-w", "10", "-c", "5"]).unwrap_err().0,
            "the 1-minute warning load 10 is greater than the critical load 5"
        );
        for (argv, words) in [
            (&["-w", "1,2,3,4"][..], "at most three"),
            (&["-w", "x"], "invalid range 'x'"),
            (&["-c", "5:1"], "start is greater than end"),
        ] {
            let e = check(argv).unwrap_err().0;
            assert!(e.contains(words), "{argv:?}: {e}");
        }
        assert!(check(&["--bogus"]).is_err());
        // negative numbers are values, not options
        assert!(check(&["-w", "-5:-1"]).is_ok());
        for bad in ["é", "1,é", "１", "5%", "1,2,3,4"] {
            let e = check(&["-w", bad]).unwrap_err().0;
            assert!(!e.contains('\n'), "{bad}: {e}");
        }
    }

    /// The process table is read only when the levels say the load is not OK and `-n`
    /// asks for processes.
    #[test]
    fn fetch_reads_the_top_processes_only_on_a_problem() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("loadavg"), "4.00 3.00 2.00 1/123 4567\n").unwrap();
        std::fs::copy("/proc/uptime", dir.path().join("uptime")).unwrap();
        let me = std::process::id();
        std::os::unix::fs::symlink(format!("/proc/{me}"), dir.path().join(me.to_string())).unwrap();
        let top = |argv: &[&str]| {
            let mut c = check(argv).unwrap();
            c.proc_root = dir.path().to_path_buf();
            fetched(&c).unwrap().top
        };
        assert!(top(&["-w", "5", "-n", "3"]).is_empty(), "OK");
        assert!(top(&["-w", "3"]).is_empty(), "no -n");
        let top3 = top(&["-w", "3", "-n", "3"]);
        assert_eq!(top3.len(), 1);
        assert_eq!(top3[0].0.pid, me as i32);
        // with -r the levels are per CPU, as evaluate compares them
        let cpus = online_cpus() as f64;
        let per_cpu = format!("{}", 3.9 / cpus);
        assert_eq!(top(&["-r", "-w", &per_cpu, "-n", "1"]).len(), 1);
        let per_cpu = format!("{}", 4.0 / cpus);
        assert!(top(&["-r", "-w", &per_cpu, "-n", "1"]).is_empty());
        let mut c = check(&[]).unwrap();
        c.proc_root = dir.path().to_path_buf();
        assert_eq!(fetched(&c).unwrap().load, [4.0, 3.0, 2.0]);
        // unreadable: the reason is the fact
        c.proc_root = dir.path().join("none");
        let r = c.evaluate(&fetched(&c));
        assert_eq!(r.state(), State::Unknown);
        assert!(r.summary.starts_with("cannot read "), "{}", r.summary);
    }

    /// The busiest processes are shown only when the load is not OK.
    #[test]
    fn top_processes_named_on_alert() {
        let c = check(&["-w", "0", "-c", "100", "-n", "2"]).unwrap();
        let p = ProcessInfo {
            pid: 42,
            ppid: 1,
            uid: 1000,
            state: 'R',
            command: "burn".into(),
            args: "burn --hard".into(),
            rss: 1,
            vsz: 1,
            cpu_seconds: 50.0,
            elapsed_seconds: 100.0,
            kernel_thread: false,
            ..Default::default()
        };
        let f = LoadFacts {
            top: vec![(p, "alice".into())],
            ..facts([1.0, 1.0, 1.0], 1)
        };
        let r = c.evaluate(&Ok(f.clone()));
        assert_eq!(r.state(), State::Warning);
        assert_eq!(
            r.details[0].text,
            "50.0% CPU pid 42 user alice: burn --hard"
        );
        let ok = check(&["-w", "2", "-n", "2"]).unwrap();
        assert!(ok.evaluate(&Ok(f)).details.is_empty());
    }
}
