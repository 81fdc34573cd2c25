//! check_procs: counts the processes that match filters, or checks a metric of each of
//! them, with the options of monitoring-plugins' check_procs; `--per-user` checks every
//! user's processes against the nproc limit and memory and CPU limits.
//!
//! Units, as monitoring-plugins has them (it reads `ps`): `-r`, `-z` and the `RSS` and
//! `VSZ` metrics in KiB; `-P` and the `CPU` metric in percent of one CPU over the
//! process's life, truncated to tenths as `ps` prints it; `ELAPSED` and `CPUTIME` in
//! whole seconds. Processes are read from `/proc`, never from `ps`.
//!
//! This module holds the command line, the filters, the validation and the fetch; the
//! two modes evaluate in their own modules: [`count`] (the count or a metric of each
//! matching process) and [`per_user`] (each user against the limits).

mod count;
pub mod input_file;
mod per_user;

pub use count::Metric;
pub use per_user::{PerUser, UserFacts};

use crate::host::processes::{lookup_uid, lookup_user, snapshot_with, Fields, ProcessInfo};
use crate::plugin::args::RangeArgs;
use crate::plugin::{
    judge, shown, Check, CheckResult, CommonArgs, Observed, Thresholds, UsageError, Work,
};
use clap::Parser;
use per_user::PerUserArgs;
use regex::Regex;
use std::path::PathBuf;

/// At most this many processes or users are listed in the long output.
const MAX_LINES: usize = 25;

/// `%CPU` exactly as `ps` prints it: CPU time over whole seconds of life, truncated to
/// tenths of a percent.
pub fn ps_pcpu(p: &ProcessInfo) -> f64 {
    let life = p.elapsed_seconds.floor();
    if life <= 0.0 {
        return 0.0;
    }
    (p.cpu_seconds * 1000.0 / life).floor() / 10.0
}

/// Command line of check_procs.
#[derive(Parser, Debug)]
#[command(
    name = "check_procs",
    version,
    about = "Checks the number of processes matching filters, a metric of each of them, or each user's processes against their limits.",
    long_about = "Checks the number of processes matching filters, a metric of each of them (-m), or, with --per-user, each user's processes against the nproc limit and memory and CPU limits. Processes are read from /proc.\n\nThe plugin never counts itself or its parent process (unless the parent is init).\n\nUnits: -r, -z and the RSS and VSZ metrics in KiB; -P and the CPU metric in percent of one CPU over the process's life; ELAPSED and CPUTIME in seconds. For metrics other than PROCS the thresholds apply to each process. Ranges follow the Nagios grammar: 10 (alert outside 0..10), 10: (below 10), ~:10 (above 10), 10:20, @10:20 (inside); endpoints are inclusive.\n\nWhere ours differs on purpose from monitoring-plugins: for a metric other than PROCS the perfdata adds the highest value (e.g. vsz_max) after procs, procs_warn and procs_crit; with --input-file, -k leaves out the children of kthreadd only.\n\nExit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad options, /proc unreadable, internal error). --help and --version exit 0.",
    mut_arg("warning", |a| a.help("Warning range for the metric (for --per-user: each user's process count)")),
    mut_arg("critical", |a| a.help("Critical range for the metric (for --per-user: each user's process count)"))
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// `-w`/`-c` on the metric (for --per-user: each user's process count).
    #[command(flatten)]
    pub levels: RangeArgs,

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

    /// Read the processes from this saved `ps axwwo 'stat uid pid ppid vsz rss pcpu
    /// etime comm args'` listing instead of /proc (for tests, as monitoring-plugins has it)
    #[arg(long = "input-file", value_name = "FILE")]
    pub input_file: Option<PathBuf>,

    #[command(flatten)]
    pub per_user: PerUserArgs,
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
            parts.push(format!("STATE = {}", shown(s)));
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
            parts.push(format!("UID = {uid} ({})", shown(name)));
        }
        if let Some(a) = &self.args {
            parts.push(format!("args '{}'", shown(a)));
        }
        if let Some(re) = &self.ereg {
            parts.push(format!("regex args '{}'", shown(re.as_str())));
        }
        if let Some(c) = &self.command {
            parts.push(format!("command name '{}'", shown(c)));
        }
        if !self.exclude.is_empty() {
            parts.push(format!(
                "exclude progs '{}'",
                shown(&self.exclude.join(","))
            ));
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

/// The validated check.
#[derive(Debug)]
pub struct ProcsCheck {
    /// `-w`/`-c`: on the metric, or in per-user mode on each user's process count.
    pub thresholds: Thresholds,
    pub metric: Metric,
    /// The filters; `user` is left empty here and filled from the fetched
    /// [`ProcsFacts::user`] (a name is looked up when the check runs, not when it is
    /// validated).
    pub filters: Filters,
    /// `-u` as given: a user name or uid.
    pub user: Option<String>,
    pub per_user: Option<PerUser>,
    pub verbose: u8,
    pub proc_root: PathBuf,
    /// `--input-file`: a saved `ps` listing read instead of /proc.
    pub input_file: Option<PathBuf>,
}

/// What was read from the machine.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcsFacts {
    /// Every process but this plugin and its parent (the snapshot may already leave
    /// out processes that fail the filters).
    pub procs: Vec<ProcessInfo>,
    /// The `-u` user: uid and name.
    pub user: Option<(u32, String)>,
    /// What `--per-user` reads besides (empty when counting).
    pub users: UserFacts,
}

/// Resolves a user name or uid, for an error message naming `option`.
fn resolve_user(option: &str, text: &str) -> Result<(u32, String), String> {
    let uid = lookup_uid(text)
        .ok_or_else(|| format!("{option}: user '{}' was not found", shown(text)))?;
    let name = lookup_user(uid).ok_or_else(|| format!("{option}: uid {uid} was not found"))?;
    Ok((uid, name))
}

impl Check for ProcsCheck {
    type Args = Args;
    /// The processes as read, or why they could not be read (an unknown `-u` user,
    /// `/proc` unreadable).
    type Facts = Observed<ProcsFacts>;
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
        // read before the fields below move out of args; its errors come after theirs
        let per_user = PerUser::from_args(&args.per_user, args.metric);
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
                        "--ereg-argument-array: invalid regular expression '{}': {why}",
                        shown(&re)
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
                        "-X/--exclude-process: '{}' has an empty command name",
                        shown(&list)
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
            user: None,
            args: nonempty("-a/--argument-array", args.args)?,
            ereg,
            command: nonempty("-C/--command", args.command)?,
            no_kthreads: args.no_kthreads,
            exclude,
        };
        let per_user = per_user?;
        Ok(ProcsCheck {
            thresholds: args.levels.thresholds(),
            metric: args.metric,
            filters,
            user: args.user.clone(),
            per_user,
            verbose: args.common.verbose,
            proc_root: PathBuf::from("/proc"),
            input_file: args.input_file,
        })
    }

    /// Looks up the `-u` user, reads the processes (and in per-user mode the users'
    /// names and nproc limits).
    fn fetch(&self) -> Work<'_, Self::Facts> {
        Work::local(move || {
            let user = self
                .user
                .as_deref()
                .map(|u| resolve_user("-u/--user", u))
                .transpose()?;
            let filters = self.filters_for(&user);
            let me = std::process::id() as i32;
            let parent = std::os::unix::process::parent_id() as i32;
            let keep = |p: &ProcessInfo| {
                p.pid != me && (p.pid != parent || parent == 1) && filters.matches_early(p)
            };
            let procs = match &self.input_file {
                Some(path) => read_listing(path)?.into_iter().filter(keep).collect(),
                None => snapshot_with(&self.proc_root, self.fields(), &keep)
                    .map_err(|e| format!("cannot read {}: {e}", self.proc_root.display()))?,
            };
            let users = match &self.per_user {
                Some(pu) => pu.fetch(&self.proc_root, &filters, &procs)?,
                None => UserFacts::default(),
            };
            Ok(ProcsFacts { procs, user, users })
        })
    }

    /// The counting mode or the per-user one; UNKNOWN when the processes could not be
    /// read.
    fn evaluate(&self, facts: &Self::Facts) -> CheckResult {
        judge(facts, |facts| evaluate(facts, self))
    }
}

impl ProcsCheck {
    /// The `/proc` files this invocation needs.
    fn fields(&self) -> Fields {
        let mut f = self.filters.fields();
        if self.user.is_some() {
            f.uid = true;
        }
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

    /// The filters with the `-u` user as fetched.
    fn filters_for(&self, user: &Option<(u32, String)>) -> Filters {
        Filters {
            user: user.clone(),
            ..self.filters.clone()
        }
    }
}

/// The processes of a saved `ps` listing (`--input-file`), at most
/// [`input_file::MAX_BYTES`] of it; a listing without one process line is an error.
fn read_listing(path: &std::path::Path) -> Result<Vec<ProcessInfo>, String> {
    let shown_path = shown(&path.display().to_string());
    // a FIFO or device must not hang the check: regular files only
    let text = crate::host::files::read_regular(path, input_file::MAX_BYTES)
        .and_then(|data| {
            String::from_utf8(data).map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "stream did not contain valid UTF-8",
                )
            })
        })
        .map_err(|e| format!("cannot read {shown_path}: {e}"))?;
    let procs = input_file::parse(&text);
    if procs.is_empty() {
        return Err(format!(
            "Unable to read output: no process line in {shown_path}"
        ));
    }
    Ok(procs)
}

/// Turns the facts into the result (pure).
pub fn evaluate(facts: &ProcsFacts, check: &ProcsCheck) -> CheckResult {
    let filters = check.filters_for(&facts.user);
    match &check.per_user {
        Some(pu) => per_user::evaluate(facts, check, &filters, pu),
        None => count::evaluate(facts, check, &filters),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::fetched;
    use crate::plugin::runner::validate;
    use crate::plugin::State;

    fn check(argv: &[&str]) -> Result<ProcsCheck, UsageError> {
        validate::<ProcsCheck>(argv)
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

    /// The check's verdict on hand-made facts.
    fn eval(c: &ProcsCheck, facts: &ProcsFacts) -> CheckResult {
        c.evaluate(&Ok(facts.clone()))
    }

    fn text(argv: &[&str], facts: &ProcsFacts) -> String {
        render_text("PROCS", &eval(&check(argv).unwrap(), facts))
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
        let root = ProcsFacts {
            user: Some((0, "root".into())),
            ..f.clone()
        };
        assert_eq!(
            text(&["-u", "0"], &root),
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
            eval(&check(&["-C", "sleep", "-w", w, "-c", c]).unwrap(), &f).state()
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
        let r = eval(
            &check(&["-m", "vsz", "-w", "3000", "-c", "200000"]).unwrap(),
            &f,
        );
        assert_eq!(r.state(), State::Critical);
        assert!(r
            .summary
            .starts_with("VSZ: 1 crit, 1 warn out of 6 processes"));
        // CPU: 90 s over 100 s of life is 90%; ps truncates to tenths
        let r = eval(&check(&["-m", "CPU", "-w", "89.9"]).unwrap(), &f);
        assert_eq!(r.state(), State::Warning);
        assert_eq!(r.details[0].text, "pid 103 burn: CPU 90.0%");
        let r = eval(&check(&["-m", "CPUTIME", "-c", "60"]).unwrap(), &f);
        assert_eq!(r.details[0].text, "pid 103 burn: CPUTIME 90 s");
        let r = eval(&check(&["-m", "ELAPSED", "-w", "100"]).unwrap(), &f);
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
            eval(&check(&["-s", "s+"]).unwrap(), &f).summary,
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
        f.users.names = [(0, "root"), (1000, "alice"), (1001, "bob")]
            .into_iter()
            .map(|(u, n)| (u, n.to_string()))
            .collect();
        f.users.nproc_limits = [(0, None), (1000, Some(4)), (1001, Some(100))].into();
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
        let r = eval(&c, &f);
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
        // the fetch looked up --exclude-user
        let mut excluded = f.clone();
        excluded.users.excluded = vec![1001];
        let r = eval(&c, &excluded);
        assert_eq!(
            r.summary,
            "1 of 1 users over their limits: alice (nproc 100.0% (2 of 2 tasks), RSS 3.6 MiB)"
        );
        assert_eq!(r.state(), State::Critical);
        // nothing over: the busiest user is named
        let c = check(&["--per-user", "-w", "5", "-C", "sleep"]).unwrap();
        let r = eval(&c, &f);
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
        // percent of the nproc limit: 0 to 100
        for bad in ["200", "101%", "@-5:50", "80%%"] {
            let e = err(&["--per-user", "--nproc-warning", bad]);
            assert!(e.starts_with("invalid value"), "{bad}: {e}");
        }
        assert!(err(&["--per-user", "--nproc-critical", "101"])
            .contains("a percentage must be from 0 to 100"));
        assert!(err(&["--per-user", "--cputime-warning", "1 fortnight"]).contains("unknown unit"));
    }

    /// Users are looked up when the check runs, not while its options are validated;
    /// an unknown one is still UNKNOWN with the same words.
    #[test]
    fn users_are_looked_up_by_the_fetch() {
        let c = check(&["-u", "no-such-user-here"]).unwrap();
        assert_eq!(c.filters.user, None);
        assert_eq!(
            fetched(&c).unwrap_err(),
            "-u/--user: user 'no-such-user-here' was not found"
        );
        let r = c.run();
        let Work::Local(f) = r else {
            panic!("check_procs runs locally")
        };
        let r = f();
        assert_eq!(r.state(), State::Unknown);
        assert_eq!(
            r.summary,
            "-u/--user: user 'no-such-user-here' was not found"
        );
        let c = check(&["--per-user", "--exclude-user", "root,nobody-at-all"]).unwrap();
        assert_eq!(
            fetched(&c).unwrap_err(),
            "--exclude-user: user 'nobody-at-all' was not found"
        );
        // found: the name and uid are facts
        let c = check(&["-u", "root", "-a", "no process has this argument"]).unwrap();
        let f = fetched(&c).unwrap();
        assert_eq!(f.user, Some((0, "root".to_string())));
        let c = check(&[
            "--per-user",
            "--exclude-user",
            "root,4242",
            "--min-uid",
            "1",
        ])
        .unwrap();
        assert_eq!(fetched(&c).unwrap().users.excluded, vec![0, 4242]);
        // per user: each user's name and (without --nproc-limit) enforced limit are read
        let f = fetched(&check(&["--per-user"]).unwrap()).unwrap();
        let uids: std::collections::BTreeSet<u32> = f
            .procs
            .iter()
            .filter(|p| !p.kernel_thread)
            .map(|p| p.uid)
            .collect();
        assert!(!uids.is_empty());
        for uid in &uids {
            assert!(f.users.names.contains_key(uid), "uid {uid}");
            assert!(f.users.nproc_limits.contains_key(uid), "uid {uid}");
        }
        if uids.contains(&0) {
            assert_eq!(f.users.nproc_limits[&0], None, "root is exempt");
        }
        let f = fetched(&check(&["--per-user", "--nproc-limit", "5"]).unwrap()).unwrap();
        assert!(f.users.nproc_limits.is_empty(), "a given limit is not read");
        // counting reads nothing per user
        let f = fetched(&check(&["-a", "no process has this argument"]).unwrap()).unwrap();
        assert_eq!(f.users, UserFacts::default());
    }

    /// Filters are echoed escaped: a newline in -a or -C keeps the output one line.
    #[test]
    fn filters_are_echoed_escaped() {
        let f = fixture();
        assert_eq!(
            text(&["-a", "x\ny", "-C", "a\tb"], &f),
            "PROCS OK - 0 processes with args 'x\\ny', command name 'a\\tb' | procs=0;;;0\n"
        );
        let e = fetched(&check(&["-u", "x\ny"]).unwrap()).unwrap_err();
        assert_eq!(e, "-u/--user: user 'x\\ny' was not found");
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
        let facts = fetched(&c).unwrap();
        // the plugin leaves itself out, so the test process is not counted
        assert!(facts
            .procs
            .iter()
            .all(|p| p.pid != std::process::id() as i32));
        assert!(!facts.procs.is_empty());
    }

    #[test]
    fn a_fifo_input_file_is_refused_at_once() {
        let fifo = crate::plugin::regular_file::test_fifo("ps");
        let started = std::time::Instant::now();
        assert_eq!(
            read_listing(&fifo).unwrap_err(),
            format!("cannot read {}: not a regular file", fifo.display())
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}
