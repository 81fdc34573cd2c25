//! check_procs: counts the processes that match filters, or checks a metric of each of
//! them, with the options of monitoring-plugins' check_procs; `--per-user` checks every
//! user's processes against the nproc limit and memory and CPU limits.
//!
//! Units, as monitoring-plugins has them (it reads `ps`): `-r`, `-z` and the `RSS` and
//! `VSZ` metrics in KiB; `-P` and the `CPU` metric in percent of one CPU over the
//! process's life, truncated to tenths as `ps` prints it; `ELAPSED` and `CPUTIME` in
//! whole seconds. Processes are read from `/proc`, never from `ps`.

use crate::host::processes::{lookup_uid, lookup_user, snapshot_with, Fields, ProcessInfo};
use crate::plugin::units::{human_bytes, Level};
use crate::plugin::{
    Check, CheckResult, CommonArgs, PerfData, Range, State, Thresholds, Uom, UsageError, Work,
};
use clap::Parser;
use regex::Regex;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// At most this many processes or users are listed in the long output.
const MAX_LINES: usize = 25;

/// What `-w`/`-c` are compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Metric {
    /// number of matching processes (default)
    #[value(name = "PROCS")]
    Procs,
    /// virtual memory size of each process, KiB
    #[value(name = "VSZ")]
    Vsz,
    /// resident set size of each process, KiB
    #[value(name = "RSS")]
    Rss,
    /// CPU use of each process over its life, percent of one CPU
    #[value(name = "CPU")]
    Cpu,
    /// seconds since each process started
    #[value(name = "ELAPSED")]
    Elapsed,
    /// CPU seconds each process has used
    #[value(name = "CPUTIME")]
    Cputime,
}

impl Metric {
    /// The name as given to `-m`.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Procs => "PROCS",
            Metric::Vsz => "VSZ",
            Metric::Rss => "RSS",
            Metric::Cpu => "CPU",
            Metric::Elapsed => "ELAPSED",
            Metric::Cputime => "CPUTIME",
        }
    }

    /// The value of one process, in the metric's unit.
    pub fn value(self, p: &ProcessInfo) -> f64 {
        match self {
            Metric::Procs => 1.0,
            Metric::Vsz => (p.vsz / 1024) as f64,
            Metric::Rss => (p.rss / 1024) as f64,
            Metric::Cpu => ps_pcpu(p),
            Metric::Elapsed => p.elapsed_seconds.floor(),
            Metric::Cputime => p.cpu_seconds.floor(),
        }
    }

    fn uom(self) -> Uom {
        match self {
            Metric::Procs => Uom::None,
            Metric::Vsz | Metric::Rss => Uom::Kilobytes,
            Metric::Cpu => Uom::Percent,
            Metric::Elapsed | Metric::Cputime => Uom::Seconds,
        }
    }

    /// A value with its unit, for people.
    fn show(self, v: f64) -> String {
        match self {
            Metric::Procs => format!("{v}"),
            Metric::Vsz | Metric::Rss => format!("{v} KiB"),
            Metric::Cpu => format!("{v:.1}%"),
            Metric::Elapsed | Metric::Cputime => format!("{v} s"),
        }
    }
}

/// `%CPU` exactly as `ps` prints it: CPU time over whole seconds of life, truncated to
/// tenths of a percent.
pub fn ps_pcpu(p: &ProcessInfo) -> f64 {
    let life = p.elapsed_seconds.floor();
    if life <= 0.0 {
        return 0.0;
    }
    (p.cpu_seconds * 1000.0 / life).floor() / 10.0
}

/// A `-w`/`-c` style range over percent; a trailing `%` is allowed.
fn parse_percent_range(text: &str) -> Result<Range, String> {
    text.trim()
        .trim_end_matches('%')
        .parse()
        .map_err(|e: crate::plugin::range::RangeError| e.to_string())
}

/// A range over bytes with a unit: `2G`, `512M:`, `@1G:2G`.
fn parse_size_range(text: &str) -> Result<Range, String> {
    match text.parse::<Level>()? {
        Level::Bytes(r) => Ok(r),
        Level::Percent(_) => Err(format!(
            "'{text}': give a size such as 2G, not a percentage"
        )),
    }
}

/// Command line of check_procs.
#[derive(Parser, Debug)]
#[command(
    name = "check_procs",
    version,
    about = "Checks the number of processes matching filters, a metric of each of them, or each user's processes against their limits.",
    long_about = "Checks the number of processes matching filters, a metric of each of them (-m), or, with --per-user, each user's processes against the nproc limit and memory and CPU limits. Processes are read from /proc.\n\nThe plugin never counts itself or its parent process (unless the parent is init).\n\nUnits: -r, -z and the RSS and VSZ metrics in KiB; -P and the CPU metric in percent of one CPU over the process's life; ELAPSED and CPUTIME in seconds. For metrics other than PROCS the thresholds apply to each process. Ranges follow the Nagios grammar: 10 (alert outside 0..10), 10: (below 10), ~:10 (above 10), 10:20, @10:20 (inside); endpoints are inclusive.\n\nExit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad options, /proc unreadable, internal error). --help and --version exit 0."
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Warning range for the metric (for --per-user: each user's process count)
    #[arg(
        short = 'w',
        long = "warning",
        value_name = "RANGE",
        allow_hyphen_values = true
    )]
    pub warning: Option<Range>,

    /// Critical range for the metric (for --per-user: each user's process count)
    #[arg(
        short = 'c',
        long = "critical",
        value_name = "RANGE",
        allow_hyphen_values = true
    )]
    pub critical: Option<Range>,

    /// What the thresholds are compared with
    #[arg(
        short = 'm',
        long = "metric",
        value_enum,
        ignore_case = true,
        default_value = "PROCS",
        value_name = "TYPE"
    )]
    pub metric: Metric,

    /// Only processes whose ps STAT column contains these flags (e.g. Z, D, S, Ss, l)
    #[arg(
        short = 's',
        long = "state",
        value_name = "STATUSFLAGS",
        allow_hyphen_values = true
    )]
    pub state: Option<String>,

    /// Only children of this parent process
    #[arg(
        short = 'p',
        long = "ppid",
        value_name = "PPID",
        allow_hyphen_values = true
    )]
    pub ppid: Option<i32>,

    /// Only processes with a virtual size of at least KIB
    #[arg(
        short = 'z',
        long = "vsz",
        value_name = "KIB",
        allow_hyphen_values = true
    )]
    pub vsz: Option<u64>,

    /// Only processes with a resident set of at least KIB
    #[arg(
        short = 'r',
        long = "rss",
        value_name = "KIB",
        allow_hyphen_values = true
    )]
    pub rss: Option<u64>,

    /// Only processes using at least PCPU percent of a CPU (over their life)
    #[arg(
        short = 'P',
        long = "pcpu",
        value_name = "PCPU",
        allow_hyphen_values = true
    )]
    pub pcpu: Option<f64>,

    /// Only processes of this user (name or uid)
    #[arg(short = 'u', long = "user", value_name = "USER")]
    pub user: Option<String>,

    /// Only processes whose arguments contain STRING
    #[arg(
        short = 'a',
        long = "argument-array",
        value_name = "STRING",
        allow_hyphen_values = true
    )]
    pub args: Option<String>,

    /// Only processes whose arguments match the regular expression
    #[arg(
        long = "ereg-argument-array",
        value_name = "REGEX",
        allow_hyphen_values = true
    )]
    pub ereg: Option<String>,

    /// Only processes with exactly this command name (without path)
    #[arg(
        short = 'C',
        long = "command",
        value_name = "COMMAND",
        allow_hyphen_values = true
    )]
    pub command: Option<String>,

    /// Leave out kernel threads
    #[arg(short = 'k', long = "no-kthreads")]
    pub no_kthreads: bool,

    /// Leave out processes with these command names (comma-separated)
    #[arg(short = 'X', long = "exclude-process", value_name = "NAME[,NAME...]")]
    pub exclude: Option<String>,

    /// Accepted for compatibility: this plugin always recognises itself by its PID
    #[arg(short = 'T', long = "traditional")]
    pub traditional: bool,

    /// Check each user's processes: count against the nproc limit, total RSS, largest
    /// VSZ, CPU time, zombies; one sub-result per user over a limit
    #[arg(long = "per-user", help_heading = "Per-user mode")]
    pub per_user: bool,

    /// The nproc limit to compare with (default: each user's enforced soft limit,
    /// "Max processes" in /proc/PID/limits, the lowest among their processes)
    #[arg(long = "nproc-limit", value_name = "N", help_heading = "Per-user mode")]
    pub nproc_limit: Option<u64>,

    /// Warning range for a user's tasks (processes and threads, as the kernel counts
    /// them) in percent of the nproc limit, e.g. 80
    #[arg(long = "nproc-warning", value_name = "PERCENT", value_parser = parse_percent_range, help_heading = "Per-user mode")]
    pub nproc_warning: Option<Range>,

    /// Critical range for a user's tasks in percent of the nproc limit, e.g. 95
    #[arg(long = "nproc-critical", value_name = "PERCENT", value_parser = parse_percent_range, help_heading = "Per-user mode")]
    pub nproc_critical: Option<Range>,

    /// Warning range for a user's total resident memory, e.g. 2G
    #[arg(long = "user-rss-warning", value_name = "SIZE", value_parser = parse_size_range, help_heading = "Per-user mode")]
    pub user_rss_warning: Option<Range>,

    /// Critical range for a user's total resident memory, e.g. 4G
    #[arg(long = "user-rss-critical", value_name = "SIZE", value_parser = parse_size_range, help_heading = "Per-user mode")]
    pub user_rss_critical: Option<Range>,

    /// Warning range for the largest address space (VSZ) among a user's processes
    #[arg(long = "user-vsz-warning", value_name = "SIZE", value_parser = parse_size_range, help_heading = "Per-user mode")]
    pub user_vsz_warning: Option<Range>,

    /// Critical range for the largest address space (VSZ) among a user's processes
    #[arg(long = "user-vsz-critical", value_name = "SIZE", value_parser = parse_size_range, help_heading = "Per-user mode")]
    pub user_vsz_critical: Option<Range>,

    /// Warning range for the CPU seconds of each of a user's processes, e.g. 3600
    #[arg(
        long = "cputime-warning",
        value_name = "SECONDS",
        help_heading = "Per-user mode"
    )]
    pub cputime_warning: Option<Range>,

    /// Critical range for the CPU seconds of each of a user's processes
    #[arg(
        long = "cputime-critical",
        value_name = "SECONDS",
        help_heading = "Per-user mode"
    )]
    pub cputime_critical: Option<Range>,

    /// Warning range for the number of a user's zombie processes, e.g. 5
    #[arg(
        long = "zombies-warning",
        value_name = "RANGE",
        help_heading = "Per-user mode"
    )]
    pub zombies_warning: Option<Range>,

    /// Critical range for the number of a user's zombie processes
    #[arg(
        long = "zombies-critical",
        value_name = "RANGE",
        help_heading = "Per-user mode"
    )]
    pub zombies_critical: Option<Range>,

    /// Only users with a uid of at least N (e.g. 1000 for people, not system users)
    #[arg(
        long = "min-uid",
        value_name = "N",
        default_value_t = 0,
        help_heading = "Per-user mode"
    )]
    pub min_uid: u32,

    /// Leave out these users (names or uids, comma-separated; repeatable)
    #[arg(
        long = "exclude-user",
        value_name = "USER[,USER...]",
        help_heading = "Per-user mode"
    )]
    pub exclude_user: Vec<String>,

    /// Name at most N users over their limits in the summary
    #[arg(
        long = "top",
        value_name = "N",
        default_value_t = 3,
        help_heading = "Per-user mode"
    )]
    pub top: usize,
}

/// The validated process filters (all must match).
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Flags the `ps` STAT text must contain, as a substring.
    pub state: Option<String>,
    pub ppid: Option<i32>,
    /// Virtual size floor in KiB.
    pub vsz_kib: Option<u64>,
    /// Resident set floor in KiB.
    pub rss_kib: Option<u64>,
    /// %CPU floor.
    pub pcpu: Option<f64>,
    /// The uid and its name.
    pub user: Option<(u32, String)>,
    /// Substring of the arguments.
    pub args: Option<String>,
    /// Regular expression over the arguments.
    pub ereg: Option<Regex>,
    /// Exact command name.
    pub command: Option<String>,
    pub no_kthreads: bool,
    /// Command names left out.
    pub exclude: Vec<String>,
}

impl Filters {
    /// True when the process passes every filter.
    pub fn matches(&self, p: &ProcessInfo) -> bool {
        self.matches_early(p)
            && self
                .state
                .as_ref()
                .is_none_or(|s| p.ps_stat().contains(s.as_str()))
            && self
                .args
                .as_ref()
                .is_none_or(|a| p.ps_args().contains(a.as_str()))
            && self
                .ereg
                .as_ref()
                .is_none_or(|re| re.is_match(&p.ps_args()))
    }

    /// The filters that need neither the arguments nor `status`: applied while the
    /// snapshot is read, so those files are read only for processes that pass.
    pub fn matches_early(&self, p: &ProcessInfo) -> bool {
        if self.exclude.contains(&p.command) {
            return false;
        }
        if self.no_kthreads && p.kernel_thread {
            return false;
        }
        let kib = |b: u64| b / 1024;
        self.ppid.is_none_or(|pp| p.ppid == pp)
            && self.vsz_kib.is_none_or(|v| kib(p.vsz) >= v)
            && self.rss_kib.is_none_or(|v| kib(p.rss) >= v)
            && self.pcpu.is_none_or(|v| ps_pcpu(p) >= v)
            && self.user.as_ref().is_none_or(|(uid, _)| p.uid == *uid)
            && self.command.as_ref().is_none_or(|c| *c == p.command)
    }

    /// The filters in words, as monitoring-plugins writes them after "with".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(s) = &self.state {
            parts.push(format!("STATE = {s}"));
        }
        if let Some(p) = self.ppid {
            parts.push(format!("PPID = {p}"));
        }
        if let Some(v) = self.vsz_kib {
            parts.push(format!("VSZ >= {v} KiB"));
        }
        if let Some(v) = self.rss_kib {
            parts.push(format!("RSS >= {v} KiB"));
        }
        if let Some(v) = self.pcpu {
            parts.push(format!("PCPU >= {v:.2}"));
        }
        if let Some((uid, name)) = &self.user {
            parts.push(format!("UID = {uid} ({name})"));
        }
        if let Some(a) = &self.args {
            parts.push(format!("args '{a}'"));
        }
        if let Some(re) = &self.ereg {
            parts.push(format!("regex args '{}'", re.as_str()));
        }
        if let Some(c) = &self.command {
            parts.push(format!("command name '{c}'"));
        }
        if !self.exclude.is_empty() {
            parts.push(format!("exclude progs '{}'", self.exclude.join(",")));
        }
        if self.no_kthreads {
            parts.push("no kernel threads".to_string());
        }
        parts.join(", ")
    }

    /// The `/proc` files these filters need.
    fn fields(&self) -> Fields {
        let needs_stat = self.state.is_some()
            || self.ppid.is_some()
            || self.vsz_kib.is_some()
            || self.rss_kib.is_some()
            || self.pcpu.is_some()
            || self.command.is_some()
            || self.no_kthreads
            || !self.exclude.is_empty();
        Fields {
            stat: needs_stat,
            uid: self.user.is_some(),
            args: self.args.is_some() || self.ereg.is_some(),
            locked: self.state.as_ref().is_some_and(|s| s.contains('L')),
        }
    }
}

/// The validated `--per-user` settings.
#[derive(Debug, Clone, Default)]
pub struct PerUser {
    /// The nproc limit given on the command line (else each user's enforced one).
    pub nproc_limit: Option<u64>,
    /// On tasks in percent of the nproc limit.
    pub nproc: Thresholds,
    /// On each user's total resident memory, in bytes.
    pub rss: Thresholds,
    /// On the largest virtual size among a user's processes, in bytes.
    pub vsz: Thresholds,
    /// On the CPU seconds of each process.
    pub cputime: Thresholds,
    /// On each user's number of zombies.
    pub zombies: Thresholds,
    pub min_uid: u32,
    /// Uids left out.
    pub exclude: Vec<u32>,
    /// How many offenders the summary names.
    pub top: usize,
}

impl PerUser {
    /// True when this user's processes are looked at.
    fn includes(&self, uid: u32) -> bool {
        uid >= self.min_uid && !self.exclude.contains(&uid)
    }
}

/// The validated check.
#[derive(Debug)]
pub struct ProcsCheck {
    /// `-w`/`-c`: on the metric, or in per-user mode on each user's process count.
    pub thresholds: Thresholds,
    pub metric: Metric,
    pub filters: Filters,
    pub per_user: Option<PerUser>,
    pub verbose: u8,
    pub proc_root: PathBuf,
}

/// What was read from the machine.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcsFacts {
    /// Every process but this plugin and its parent (the snapshot may already leave
    /// out processes that fail the filters).
    pub procs: Vec<ProcessInfo>,
    /// User names by uid (per-user mode).
    pub names: HashMap<u32, String>,
    /// Each user's enforced nproc soft limit, `None` for unlimited (per-user mode,
    /// without `--nproc-limit`).
    pub nproc_limits: HashMap<u32, Option<u64>>,
}

/// Resolves a user name or uid, for an error message naming `option`.
fn resolve_user(option: &str, text: &str) -> Result<(u32, String), UsageError> {
    let uid = lookup_uid(text)
        .ok_or_else(|| UsageError(format!("{option}: user '{text}' was not found")))?;
    let name =
        lookup_user(uid).ok_or_else(|| UsageError(format!("{option}: uid {uid} was not found")))?;
    Ok((uid, name))
}

impl Check for ProcsCheck {
    type Args = Args;
    const LABEL: &'static str = "PROCS";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        let nonempty = |option: &str, v: Option<String>| -> Result<Option<String>, UsageError> {
            match v {
                Some(s) if s.is_empty() => Err(UsageError(format!("{option}: empty value"))),
                v => Ok(v),
            }
        };
        let ereg = args
            .ereg
            .map(|re| {
                Regex::new(&re).map_err(|e| {
                    let why = e.to_string();
                    let why = why
                        .lines()
                        .last()
                        .unwrap_or("")
                        .trim_start_matches("error: ");
                    UsageError(format!(
                        "--ereg-argument-array: invalid regular expression '{re}': {why}"
                    ))
                })
            })
            .transpose()?;
        let exclude = match args.exclude {
            None => Vec::new(),
            Some(list) => {
                let names: Vec<String> = list.split(',').map(str::to_string).collect();
                if names.iter().any(String::is_empty) {
                    return Err(UsageError(format!(
                        "-X/--exclude-process: '{list}' has an empty command name"
                    )));
                }
                names
            }
        };
        if args.pcpu.is_some_and(|v| !v.is_finite()) {
            return Err(UsageError("-P/--pcpu: not a number".into()));
        }
        let filters = Filters {
            state: nonempty("-s/--state", args.state)?,
            ppid: args.ppid,
            vsz_kib: args.vsz,
            rss_kib: args.rss,
            pcpu: args.pcpu,
            user: args
                .user
                .as_deref()
                .map(|u| resolve_user("-u/--user", u))
                .transpose()?,
            args: nonempty("-a/--argument-array", args.args)?,
            ereg,
            command: nonempty("-C/--command", args.command)?,
            no_kthreads: args.no_kthreads,
            exclude,
        };
        let per_user_options = [
            ("--nproc-limit", args.nproc_limit.is_some()),
            ("--nproc-warning", args.nproc_warning.is_some()),
            ("--nproc-critical", args.nproc_critical.is_some()),
            ("--user-rss-warning", args.user_rss_warning.is_some()),
            ("--user-rss-critical", args.user_rss_critical.is_some()),
            ("--user-vsz-warning", args.user_vsz_warning.is_some()),
            ("--user-vsz-critical", args.user_vsz_critical.is_some()),
            ("--cputime-warning", args.cputime_warning.is_some()),
            ("--cputime-critical", args.cputime_critical.is_some()),
            ("--zombies-warning", args.zombies_warning.is_some()),
            ("--zombies-critical", args.zombies_critical.is_some()),
            ("--min-uid", args.min_uid != 0),
            ("--exclude-user", !args.exclude_user.is_empty()),
        ];
        let per_user = if args.per_user {
            if args.metric != Metric::Procs {
                return Err(UsageError(format!(
                    "-m {}: --per-user checks process counts; use -m only without --per-user",
                    args.metric.name()
                )));
            }
            if args.nproc_limit == Some(0) {
                return Err(UsageError("--nproc-limit: must be at least 1".into()));
            }
            let mut exclude = Vec::new();
            for list in &args.exclude_user {
                for u in list.split(',') {
                    // a bare uid needs no passwd entry: its user may be gone
                    let uid = lookup_uid(u).ok_or_else(|| {
                        UsageError(format!("--exclude-user: user '{u}' was not found"))
                    })?;
                    exclude.push(uid);
                }
            }
            Some(PerUser {
                nproc_limit: args.nproc_limit,
                nproc: Thresholds::new(args.nproc_warning, args.nproc_critical),
                rss: Thresholds::new(args.user_rss_warning, args.user_rss_critical),
                vsz: Thresholds::new(args.user_vsz_warning, args.user_vsz_critical),
                cputime: Thresholds::new(args.cputime_warning, args.cputime_critical),
                zombies: Thresholds::new(args.zombies_warning, args.zombies_critical),
                min_uid: args.min_uid,
                exclude,
                top: args.top.max(1),
            })
        } else {
            if let Some((name, _)) = per_user_options.iter().find(|(_, given)| *given) {
                return Err(UsageError(format!("{name} needs --per-user")));
            }
            None
        };
        Ok(ProcsCheck {
            thresholds: Thresholds::new(args.warning, args.critical),
            metric: args.metric,
            filters,
            per_user,
            verbose: args.common.verbose,
            proc_root: PathBuf::from("/proc"),
        })
    }

    fn run(&self) -> Work<'_> {
        Work::Local(Box::new(move || match self.fetch() {
            Ok(facts) => evaluate(&facts, self),
            Err(e) => CheckResult::unknown(e),
        }))
    }
}

impl ProcsCheck {
    /// The `/proc` files this invocation needs.
    fn fields(&self) -> Fields {
        let mut f = self.filters.fields();
        if self.metric != Metric::Procs || self.per_user.is_some() || self.verbose > 0 {
            f.stat = true;
        }
        if self.per_user.is_some() || self.verbose > 0 {
            f.uid = true;
        }
        if self.verbose > 0 {
            f.args = true;
        }
        f
    }

    /// Reads the processes (and in per-user mode the users' names and nproc limits).
    pub fn fetch(&self) -> Result<ProcsFacts, String> {
        let me = std::process::id() as i32;
        let parent = std::os::unix::process::parent_id() as i32;
        let keep = |p: &ProcessInfo| {
            p.pid != me && (p.pid != parent || parent == 1) && self.filters.matches_early(p)
        };
        let procs = snapshot_with(&self.proc_root, self.fields(), &keep)
            .map_err(|e| format!("cannot read {}: {e}", self.proc_root.display()))?;
        let mut facts = ProcsFacts {
            procs,
            ..ProcsFacts::default()
        };
        if let Some(pu) = &self.per_user {
            let groups = group_by_user(&facts.procs, self, pu);
            for (uid, members) in &groups {
                let name = lookup_user(*uid).unwrap_or_else(|| uid.to_string());
                facts.names.insert(*uid, name);
                if pu.nproc_limit.is_none() {
                    let limit = enforced_nproc(&self.proc_root, *uid, members);
                    facts.nproc_limits.insert(*uid, limit);
                }
            }
        }
        Ok(facts)
    }
}

/// The nproc limit the kernel enforces on a user's forks: the lowest soft "Max
/// processes" among the user's processes (each fork is checked against the forking
/// process's own limit). Root is exempt; `None` means unlimited.
fn enforced_nproc(proc_root: &Path, uid: u32, members: &[&ProcessInfo]) -> Option<u64> {
    if uid == 0 {
        return None;
    }
    members
        .iter()
        .filter_map(|p| {
            let proc =
                procfs::process::Process::new_with_root(proc_root.join(p.pid.to_string())).ok()?;
            match proc.limits().ok()?.max_processes.soft_limit {
                procfs::process::LimitValue::Value(v) => Some(v),
                procfs::process::LimitValue::Unlimited => None,
            }
        })
        .min()
}

/// The processes of the per-user view, by uid: those passing the filters, without
/// kernel threads, of users in scope.
fn group_by_user<'a>(
    procs: &'a [ProcessInfo],
    check: &ProcsCheck,
    pu: &PerUser,
) -> BTreeMap<u32, Vec<&'a ProcessInfo>> {
    let mut groups: BTreeMap<u32, Vec<&ProcessInfo>> = BTreeMap::new();
    for p in procs {
        if !p.kernel_thread && pu.includes(p.uid) && check.filters.matches(p) {
            groups.entry(p.uid).or_default().push(p);
        }
    }
    groups
}

/// Turns the facts into the result (pure).
pub fn evaluate(facts: &ProcsFacts, check: &ProcsCheck) -> CheckResult {
    match &check.per_user {
        Some(pu) => evaluate_per_user(facts, check, pu),
        None => evaluate_processes(facts, check),
    }
}

/// `N process(es)` with the filters described.
fn count_text(n: usize, filters: &Filters) -> String {
    let noun = if n == 1 { "process" } else { "processes" };
    let with = filters.describe();
    if with.is_empty() {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun} with {with}")
    }
}

/// One line about a process for `-v`.
fn process_line(p: &ProcessInfo) -> String {
    format!(
        "pid {} ppid {} uid {} {} rss {} KiB vsz {} KiB cpu {:.1}% elapsed {:.0} s: {}",
        p.pid,
        p.ppid,
        p.uid,
        p.ps_stat(),
        p.rss / 1024,
        p.vsz / 1024,
        ps_pcpu(p),
        p.elapsed_seconds.floor(),
        p.ps_args()
    )
}

fn evaluate_processes(facts: &ProcsFacts, check: &ProcsCheck) -> CheckResult {
    let matched: Vec<&ProcessInfo> = facts
        .procs
        .iter()
        .filter(|p| check.filters.matches(p))
        .collect();
    let n = matched.len();
    let metric = check.metric;
    let mut result = if metric == Metric::Procs {
        CheckResult::new(
            check.thresholds.state(n as f64),
            count_text(n, &check.filters),
        )
        .with_perf(
            PerfData::new("procs", n)
                .thresholds(&check.thresholds)
                .min(0),
        )
    } else {
        let rated: Vec<(&ProcessInfo, f64, State)> = matched
            .iter()
            .map(|p| {
                let v = metric.value(p);
                (*p, v, check.thresholds.state(v))
            })
            .collect();
        let count = |s: State| rated.iter().filter(|r| r.2 == s).count();
        let (warn, crit) = (count(State::Warning), count(State::Critical));
        let state = State::worst_of(rated.iter().map(|r| r.2));
        let top = rated.iter().max_by(|a, b| a.1.total_cmp(&b.1));
        let mut summary = format!("{}: ", metric.name());
        match state {
            State::Critical => summary.push_str(&format!("{crit} crit, {warn} warn out of ")),
            State::Warning => summary.push_str(&format!("{warn} warn out of ")),
            _ => {}
        }
        summary.push_str(&count_text(n, &check.filters));
        if let Some((p, v, _)) = top {
            summary.push_str(&format!(
                "; highest {} (pid {} {})",
                metric.show(*v),
                p.pid,
                p.command
            ));
        }
        let mut r = CheckResult::new(state, summary)
            .with_perf(PerfData::new("procs", n).min(0))
            .with_perf(PerfData::new("procs_warn", warn).min(0))
            .with_perf(PerfData::new("procs_crit", crit).min(0));
        if let Some((_, v, _)) = top {
            r.push_perf(
                PerfData::new(format!("{}_max", metric.name().to_lowercase()), *v)
                    .uom(metric.uom())
                    .thresholds(&check.thresholds)
                    .min(0),
            );
        }
        let offenders: Vec<_> = rated.iter().filter(|r| r.2 != State::Ok).collect();
        for (p, v, s) in offenders.iter().take(MAX_LINES) {
            r.push_sub(
                *s,
                format!(
                    "pid {} {}: {} {}",
                    p.pid,
                    p.command,
                    metric.name(),
                    metric.show(*v)
                ),
            );
        }
        if offenders.len() > MAX_LINES {
            r.push_line(format!("and {} more", offenders.len() - MAX_LINES));
        }
        r
    };
    if check.verbose > 0 {
        for p in matched.iter().take(MAX_LINES) {
            result.push_line(process_line(p));
        }
        if n > MAX_LINES {
            result.push_line(format!("and {} more processes", n - MAX_LINES));
        }
    }
    result
}

/// One user's processes and how they stand against the limits.
struct UserReport {
    uid: u32,
    name: String,
    state: State,
    procs: usize,
    tasks: u64,
    limit: Option<u64>,
    rss: u64,
    max_vsz: u64,
    zombies: usize,
    /// The parts over a limit, worst first, in words.
    problems: Vec<(State, String)>,
}

impl UserReport {
    fn nproc_percent(&self) -> Option<f64> {
        self.limit.map(|l| 100.0 * self.tasks as f64 / l as f64)
    }

    fn usage_text(&self) -> String {
        let nproc = match (self.limit, self.nproc_percent()) {
            (Some(l), Some(pct)) => format!(", {pct:.1}% of nproc {l}"),
            _ => String::new(),
        };
        format!(
            "{} processes, {} tasks{nproc}, RSS {}, largest VSZ {}, {} zombies",
            self.procs,
            self.tasks,
            human_bytes(self.rss),
            human_bytes(self.max_vsz),
            self.zombies
        )
    }
}

fn rate_user(
    uid: u32,
    members: &[&ProcessInfo],
    facts: &ProcsFacts,
    check: &ProcsCheck,
    pu: &PerUser,
) -> UserReport {
    let limit = pu
        .nproc_limit
        .or_else(|| facts.nproc_limits.get(&uid).copied().flatten());
    let tasks: u64 = members.iter().map(|p| p.threads.max(1) as u64).sum();
    let rss: u64 = members.iter().map(|p| p.rss).sum();
    let biggest = members.iter().max_by_key(|p| p.vsz);
    let zombies = members.iter().filter(|p| p.state == 'Z').count();
    let mut problems = Vec::new();
    let mut note = |state: State, text: String| {
        if state != State::Ok {
            problems.push((state, text));
        }
    };
    note(
        check.thresholds.state(members.len() as f64),
        format!("{} processes", members.len()),
    );
    if let Some(l) = limit {
        let pct = 100.0 * tasks as f64 / l as f64;
        note(
            pu.nproc.state(pct),
            format!("nproc {pct:.1}% ({tasks} of {l} tasks)"),
        );
    }
    note(
        pu.rss.state(rss as f64),
        format!("RSS {}", human_bytes(rss)),
    );
    if let Some(b) = biggest {
        note(
            pu.vsz.state(b.vsz as f64),
            format!(
                "largest VSZ {} (pid {} {})",
                human_bytes(b.vsz),
                b.pid,
                b.command
            ),
        );
    }
    let mut hogs: Vec<(&ProcessInfo, State)> = members
        .iter()
        .map(|p| (*p, pu.cputime.state(p.cpu_seconds.floor())))
        .filter(|(_, s)| *s != State::Ok)
        .collect();
    hogs.sort_by(|a, b| b.0.cpu_seconds.total_cmp(&a.0.cpu_seconds));
    if let Some((top, _)) = hogs.first() {
        let n = hogs.len();
        note(
            State::worst_of(hogs.iter().map(|h| h.1)),
            format!(
                "{n} {} over the CPU time limit (pid {} {} {:.0} s)",
                if n == 1 { "process" } else { "processes" },
                top.pid,
                top.command,
                top.cpu_seconds.floor()
            ),
        );
    }
    note(
        pu.zombies.state(zombies as f64),
        format!(
            "{zombies} {}",
            if zombies == 1 { "zombie" } else { "zombies" }
        ),
    );
    problems.sort_by_key(|p| std::cmp::Reverse(p.0.severity()));
    UserReport {
        uid,
        name: facts
            .names
            .get(&uid)
            .cloned()
            .unwrap_or_else(|| uid.to_string()),
        state: State::worst_of(problems.iter().map(|p| p.0)),
        procs: members.len(),
        tasks,
        limit,
        rss,
        max_vsz: biggest.map_or(0, |b| b.vsz),
        zombies,
        problems,
    }
}

fn evaluate_per_user(facts: &ProcsFacts, check: &ProcsCheck, pu: &PerUser) -> CheckResult {
    let groups = group_by_user(&facts.procs, check, pu);
    let mut users: Vec<UserReport> = groups
        .iter()
        .map(|(uid, members)| rate_user(*uid, members, facts, check, pu))
        .collect();
    // worst first, then by nproc use, then by memory
    users.sort_by(|a, b| {
        b.state
            .severity()
            .cmp(&a.state.severity())
            .then(
                b.nproc_percent()
                    .unwrap_or(0.0)
                    .total_cmp(&a.nproc_percent().unwrap_or(0.0)),
            )
            .then(b.rss.cmp(&a.rss))
    });
    let total_procs: usize = users.iter().map(|u| u.procs).sum();
    let offenders: Vec<&UserReport> = users.iter().filter(|u| u.state != State::Ok).collect();
    let with = check.filters.describe();
    let scope = if with.is_empty() {
        String::new()
    } else {
        format!(" (processes with {with})")
    };
    let summary = if offenders.is_empty() {
        let busiest = users
            .iter()
            .max_by(|a, b| {
                a.nproc_percent()
                    .unwrap_or(0.0)
                    .total_cmp(&b.nproc_percent().unwrap_or(0.0))
                    .then(a.procs.cmp(&b.procs))
            })
            .map(|u| match u.nproc_percent() {
                Some(pct) => format!(
                    "; busiest {} with {} tasks ({pct:.1}% of nproc)",
                    u.name, u.tasks
                ),
                None => format!("; busiest {} with {} tasks", u.name, u.tasks),
            })
            .unwrap_or_default();
        format!(
            "{} users, {total_procs} processes{scope}, none over their limits{busiest}",
            users.len()
        )
    } else {
        let named: Vec<String> = offenders
            .iter()
            .take(pu.top)
            .map(|u| {
                let why: Vec<&str> = u.problems.iter().map(|p| p.1.as_str()).collect();
                format!("{} ({})", u.name, why.join(", "))
            })
            .collect();
        let more = if offenders.len() > pu.top {
            format!(" and {} more", offenders.len() - pu.top)
        } else {
            String::new()
        };
        format!(
            "{} of {} users over their limits{scope}: {}{more}",
            offenders.len(),
            users.len(),
            named.join(", ")
        )
    };
    let mut result = CheckResult::new(State::Ok, summary);
    let listed = if check.verbose > 0 {
        users.iter().collect::<Vec<_>>()
    } else {
        offenders.clone()
    };
    for u in listed.iter().take(MAX_LINES) {
        let why: Vec<&str> = u.problems.iter().map(|p| p.1.as_str()).collect();
        let lead = if why.is_empty() {
            String::new()
        } else {
            format!("{}; ", why.join(", "))
        };
        result.push_sub(
            u.state,
            format!("{} (uid {}): {lead}{}", u.name, u.uid, u.usage_text()),
        );
    }
    // users beyond the listed ones still count towards the state
    for u in listed.iter().skip(MAX_LINES) {
        result.raise(u.state);
    }
    if listed.len() > MAX_LINES {
        result.push_line(format!("and {} more users", listed.len() - MAX_LINES));
    }
    result.push_perf(PerfData::new("users", users.len()).min(0));
    result.push_perf(PerfData::new("offenders", offenders.len()).min(0));
    result.push_perf(PerfData::new("procs", total_procs).min(0));
    result.push_perf(
        PerfData::new(
            "max_user_procs",
            users.iter().map(|u| u.procs).max().unwrap_or(0),
        )
        .thresholds(&check.thresholds)
        .min(0),
    );
    if let Some(max) = users
        .iter()
        .filter_map(UserReport::nproc_percent)
        .reduce(f64::max)
    {
        result.push_perf(
            PerfData::new("max_nproc_percent", (max * 100.0).round() / 100.0)
                .uom(Uom::Percent)
                .thresholds(&pu.nproc)
                .min(0)
                .max(100),
        );
    }
    result.push_perf(
        PerfData::new(
            "max_user_rss",
            users.iter().map(|u| u.rss).max().unwrap_or(0),
        )
        .uom(Uom::Bytes)
        .thresholds(&pu.rss)
        .min(0),
    );
    result.push_perf(
        PerfData::new(
            "max_vsz",
            users.iter().map(|u| u.max_vsz).max().unwrap_or(0),
        )
        .uom(Uom::Bytes)
        .thresholds(&pu.vsz)
        .min(0),
    );
    result
        .push_perf(PerfData::new("zombies", users.iter().map(|u| u.zombies).sum::<usize>()).min(0));
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::parse_args;

    fn check(argv: &[&str]) -> Result<ProcsCheck, UsageError> {
        let args =
            parse_args::<ProcsCheck>(std::iter::once("check_procs").chain(argv.iter().copied()))?
                .unwrap();
        ProcsCheck::new(args)
    }

    /// A process from a `/proc/PID/stat` line (100 ticks/s, 4 KiB pages, uptime 1000 s).
    fn from_stat(line: &str, uid: u32, args: &str) -> ProcessInfo {
        let mut p = ProcessInfo::from_stat(line, uid, 100.0, 4096, 1000.0).unwrap();
        p.args = args.to_string();
        p
    }

    /// pid, comm, state, ppid, uid, rss KiB, vsz KiB, CPU seconds, args.
    #[allow(clippy::too_many_arguments)]
    fn proc(
        pid: i32,
        comm: &str,
        state: char,
        ppid: i32,
        uid: u32,
        rss_kib: u64,
        vsz_kib: u64,
        cpu: f64,
        args: &str,
    ) -> ProcessInfo {
        ProcessInfo {
            pid,
            ppid,
            uid,
            state,
            command: comm.into(),
            args: args.into(),
            rss: rss_kib * 1024,
            vsz: vsz_kib * 1024,
            cpu_seconds: cpu,
            elapsed_seconds: 100.0,
            session: 1,
            pgrp: 1,
            tpgid: -1,
            threads: 1,
            ..ProcessInfo::default()
        }
    }

    fn fixture() -> ProcsFacts {
        let mut kthread = proc(3, "kworker/0:1", 'I', 2, 0, 0, 0, 0.0, "");
        kthread.kernel_thread = true;
        kthread.nice = -20;
        ProcsFacts {
            procs: vec![
                proc(1, "systemd", 'S', 0, 0, 12000, 160000, 5.0, "/sbin/init"),
                kthread,
                proc(100, "sleep", 'S', 1, 1000, 1800, 2900, 0.0, "sleep 300"),
                proc(101, "sleep", 'S', 1, 1000, 1900, 2900, 0.0, "sleep 301"),
                proc(102, "sleep", 'Z', 1, 1001, 0, 0, 0.0, ""),
                proc(
                    103,
                    "burn",
                    'R',
                    1,
                    1001,
                    500000,
                    900000,
                    90.0,
                    "burn --hard",
                ),
            ],
            ..ProcsFacts::default()
        }
    }

    fn text(argv: &[&str], facts: &ProcsFacts) -> String {
        render_text("PROCS", &evaluate(facts, &check(argv).unwrap()))
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn counts_with_filters_described() {
        let f = fixture();
        assert_eq!(text(&[], &f), "PROCS OK - 6 processes | procs=6;;;0\n");
        assert_eq!(
            text(&["-w", "1", "-c", "2", "-C", "sleep"], &f),
            "PROCS CRITICAL - 3 processes with command name 'sleep' | procs=3;1;2;0\n"
        );
        assert_eq!(
            text(&["-a", "sleep 30", "-w", "2"], &f),
            "PROCS OK - 2 processes with args 'sleep 30' | procs=2;2;;0\n"
        );
        assert_eq!(
            text(&["-s", "Z", "-c", "0"], &f),
            "PROCS CRITICAL - 1 process with STATE = Z | procs=1;;0;0\n"
        );
        // a zombie's arguments are "[comm] <defunct>", as ps shows them
        assert_eq!(
            text(&["--ereg-argument-array", r"^\[sleep\] <defunct>$"], &f),
            "PROCS OK - 1 process with regex args '^\\[sleep\\] <defunct>$' | procs=1;;;0\n"
        );
        assert_eq!(
            text(&["-k", "-X", "sleep,systemd"], &f),
            "PROCS OK - 1 process with exclude progs 'sleep,systemd', no kernel threads | procs=1;;;0\n"
        );
        assert_eq!(
            text(&["-p", "1", "-r", "1850", "-z", "2900"], &f),
            "PROCS OK - 2 processes with PPID = 1, VSZ >= 2900 KiB, RSS >= 1850 KiB | procs=2;;;0\n"
        );
        assert_eq!(
            text(&["-u", "0"], &f),
            "PROCS OK - 2 processes with UID = 0 (root) | procs=2;;;0\n"
        );
        assert_eq!(
            text(&["-P", "50"], &f),
            "PROCS OK - 1 process with PCPU >= 50.00 | procs=1;;;0\n"
        );
    }

    #[test]
    fn count_ranges_are_inclusive() {
        let f = fixture();
        let state = |w: &str, c: &str| {
            evaluate(&f, &check(&["-C", "sleep", "-w", w, "-c", c]).unwrap()).state()
        };
        assert_eq!(state("3", "3"), State::Ok);
        assert_eq!(state("2", "3"), State::Warning);
        assert_eq!(state("2", "2"), State::Critical);
        assert_eq!(state("3:", "3:"), State::Ok);
        assert_eq!(state("4:", "1:"), State::Warning);
        assert_eq!(state("~:3", "@3:3"), State::Critical);
        assert_eq!(state("@0:2", "@10:20"), State::Ok);
    }

    #[test]
    fn per_process_metrics() {
        let f = fixture();
        assert_eq!(
            text(&["-m", "RSS", "-w", "1850", "-c", "100000", "-C", "sleep"], &f),
            "PROCS WARNING - RSS: 1 warn out of 3 processes with command name 'sleep'; highest 1900 KiB (pid 101 sleep) | procs=3;;;0 procs_warn=1;;;0 procs_crit=0;;;0 rss_max=1900KB;1850;100000;0\n[WARNING] pid 101 sleep: RSS 1900 KiB\n"
        );
        let r = evaluate(
            &f,
            &check(&["-m", "vsz", "-w", "3000", "-c", "200000"]).unwrap(),
        );
        assert_eq!(r.state(), State::Critical);
        assert!(r
            .summary
            .starts_with("VSZ: 1 crit, 1 warn out of 6 processes"));
        // CPU: 90 s over 100 s of life is 90%; ps truncates to tenths
        let r = evaluate(&f, &check(&["-m", "CPU", "-w", "89.9"]).unwrap());
        assert_eq!(r.state(), State::Warning);
        assert_eq!(r.details[0].text, "pid 103 burn: CPU 90.0%");
        let r = evaluate(&f, &check(&["-m", "CPUTIME", "-c", "60"]).unwrap());
        assert_eq!(r.details[0].text, "pid 103 burn: CPUTIME 90 s");
        let r = evaluate(&f, &check(&["-m", "ELAPSED", "-w", "100"]).unwrap());
        assert_eq!(r.state(), State::Ok);
        assert_eq!(r.perfdata[3].to_string(), "elapsed_max=100s;100;;0");
    }

    #[test]
    fn ps_style_values_from_stat_lines() {
        // pid 4242, started at tick 50000 (500 s after boot), 1000+500 ticks of CPU,
        // 3 threads, nice 5, session leader, no terminal
        let line = "4242 (my prog) S 1 4242 4242 0 -1 4194560 100 0 0 0 1000 500 0 0 25 5 3 0 50000 104857600 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0";
        let p = from_stat(line, 1000, "my prog --x");
        assert_eq!(p.command, "my prog");
        assert_eq!(p.ps_stat(), "SNsl");
        assert_eq!(p.rss, 2560 * 4096);
        assert_eq!(Metric::Rss.value(&p), 10240.0);
        assert_eq!(Metric::Vsz.value(&p), 102400.0);
        assert_eq!(Metric::Elapsed.value(&p), 500.0);
        assert_eq!(Metric::Cputime.value(&p), 15.0);
        assert_eq!(ps_pcpu(&p), 3.0);
        assert!(!p.kernel_thread);
        let f = ProcsFacts {
            procs: vec![p],
            ..ProcsFacts::default()
        };
        assert_eq!(
            text(&["-s", "Ns", "-a", "--x"], &f),
            "PROCS OK - 1 process with STATE = Ns, args '--x' | procs=1;;;0\n"
        );
        assert_eq!(
            evaluate(&f, &check(&["-s", "s+"]).unwrap()).summary,
            "0 processes with STATE = s+"
        );
        // a kernel thread (PF_KTHREAD) at nice -20 shows as I<
        let kt = "7 (kworker/R-netns) I 2 0 0 0 -1 69238880 0 0 0 0 0 0 0 0 0 -20 1 0 10 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0";
        let k = from_stat(kt, 0, "");
        assert!(k.kernel_thread);
        assert_eq!(k.ps_stat(), "I<");
        assert_eq!(k.ps_args(), "[kworker/R-netns]");
    }

    #[test]
    fn per_user_view() {
        let mut f = fixture();
        f.names = [(0, "root"), (1000, "alice"), (1001, "bob")]
            .into_iter()
            .map(|(u, n)| (u, n.to_string()))
            .collect();
        f.nproc_limits = [(0, None), (1000, Some(4)), (1001, Some(100))].into();
        // alice: 2 of 4 tasks = 50%; bob: 2 of 100 tasks, 1 zombie, 90 s of CPU
        let c = check(&[
            "--per-user",
            "--nproc-warning",
            "40%",
            "--nproc-critical",
            "75",
            "--zombies-warning",
            "0",
            "--cputime-critical",
            "60",
        ])
        .unwrap();
        let r = evaluate(&f, &c);
        assert_eq!(r.state(), State::Critical);
        assert_eq!(
            render_text("PROCS", &r),
            "PROCS CRITICAL - 2 of 3 users over their limits: bob (1 process over the CPU time limit (pid 103 burn 90 s), 1 zombie), alice (nproc 50.0% (2 of 4 tasks)) | users=3;;;0 offenders=2;;;0 procs=5;;;0 max_user_procs=2;;;0 max_nproc_percent=50%;40;75;0;100 max_user_rss=512000000B;;;0 max_vsz=921600000B;;;0 zombies=1;;;0\n\
             [CRITICAL] bob (uid 1001): 1 process over the CPU time limit (pid 103 burn 90 s), 1 zombie; 2 processes, 2 tasks, 2.0% of nproc 100, RSS 488 MiB, largest VSZ 879 MiB, 1 zombies\n\
             [WARNING] alice (uid 1000): nproc 50.0% (2 of 4 tasks); 2 processes, 2 tasks, 50.0% of nproc 4, RSS 3.6 MiB, largest VSZ 2.8 MiB, 0 zombies\n"
        );
        // a given limit overrides the enforced ones; root is left out with --min-uid
        let c = check(&[
            "--per-user",
            "--nproc-limit",
            "2",
            "--nproc-critical",
            "99",
            "--min-uid",
            "1",
            "--exclude-user",
            "1001",
            "--user-rss-warning",
            "1M",
        ])
        .unwrap();
        let r = evaluate(&f, &c);
        assert_eq!(
            r.summary,
            "1 of 1 users over their limits: alice (nproc 100.0% (2 of 2 tasks), RSS 3.6 MiB)"
        );
        assert_eq!(r.state(), State::Critical);
        // nothing over: the busiest user is named
        let c = check(&["--per-user", "-w", "5", "-C", "sleep"]).unwrap();
        let r = evaluate(&f, &c);
        assert_eq!(
            r.summary,
            "2 users, 3 processes (processes with command name 'sleep'), none over their limits; busiest alice with 2 tasks (50.0% of nproc)"
        );
        assert_eq!(r.state(), State::Ok);
        assert!(r.details.is_empty());
    }

    #[test]
    fn bad_options_are_usage_errors() {
        let err = |argv: &[&str]| check(argv).unwrap_err().0;
        assert!(err(&["-w", "5:1"]).contains("invalid range '5:1'"));
        assert!(err(&["-c", "x"]).contains("invalid range 'x'"));
        assert!(err(&["-m", "BOGUS"]).contains("invalid value 'BOGUS'"));
        assert!(err(&["-r", "abc"]).contains("--rss"));
        assert!(err(&["-z", "-5"]).contains("--vsz"));
        assert!(err(&["-p", "1.5"]).contains("--ppid"));
        assert!(err(&["-P", "much"]).contains("--pcpu"));
        assert_eq!(
            err(&["-u", "no-such-user-here"]),
            "-u/--user: user 'no-such-user-here' was not found"
        );
        assert!(err(&["--ereg-argument-array", "a("])
            .starts_with("--ereg-argument-array: invalid regular expression 'a('"));
        assert_eq!(
            err(&["-X", "a,,b"]),
            "-X/--exclude-process: 'a,,b' has an empty command name"
        );
        assert_eq!(err(&["-s", ""]), "-s/--state: empty value");
        assert_eq!(
            err(&["--nproc-warning", "80"]),
            "--nproc-warning needs --per-user"
        );
        assert_eq!(
            err(&["--per-user", "-m", "RSS"]),
            "-m RSS: --per-user checks process counts; use -m only without --per-user"
        );
        assert_eq!(
            err(&["--per-user", "--nproc-limit", "0"]),
            "--nproc-limit: must be at least 1"
        );
        assert!(err(&["--per-user", "--user-rss-warning", "80%"]).contains("not a percentage"));
        assert!(err(&["--per-user", "--user-vsz-critical", "2Q"]).contains("unknown unit"));
        assert!(err(&["--per-user", "--exclude-user", "root,nobody-at-all"])
            .contains("'nobody-at-all' was not found"));
    }

    #[test]
    fn reads_only_what_is_needed() {
        let fields = |argv: &[&str]| check(argv).unwrap().fields();
        assert_eq!(fields(&["-w", "300"]), Fields::default());
        assert_eq!(
            fields(&["-u", "root"]),
            Fields {
                uid: true,
                ..Fields::default()
            }
        );
        let f = fields(&["-a", "x"]);
        assert!(!f.stat && f.args && !f.uid && !f.locked);
        let f = fields(&["-a", "x", "-C", "y"]);
        assert!(f.stat && f.args);
        assert!(fields(&["-s", "L"]).locked);
        let f = fields(&["--per-user"]);
        assert!(f.stat && f.uid && !f.args);
    }

    #[test]
    fn real_proc_sees_this_test() {
        let c = check(&["-a", "procs::tests"]).unwrap();
        let facts = c.fetch().unwrap();
        // the plugin leaves itself out, so the test process is not counted
        assert!(facts
            .procs
            .iter()
            .all(|p| p.pid != std::process::id() as i32));
        assert!(!facts.procs.is_empty());
    }
}
