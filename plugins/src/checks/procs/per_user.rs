//! check_procs `--per-user`: each user's processes (those passing the filters) against
//! the nproc limit, total resident memory, the largest address space, the CPU time of
//! each process and the number of zombies.

use super::{Filters, Metric, ProcsCheck, ProcsFacts, MAX_LINES};
use crate::host::processes::{lookup_uid, lookup_user, nproc_soft_limit, ProcessInfo};
use crate::plugin::units::human_bytes;
use crate::plugin::{
    level_pairs, parse_level, shown, CheckResult, PerfData, Range, State, Thresholds, Unit, Uom,
    UsageError,
};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// A range over percent of the nproc limit (`80`, `80%`, `@50:90`), from 0 to 100.
fn parse_percent_range(text: &str) -> Result<Range, String> {
    parse_level(text, &[Unit::Percent]).map(|l| l.range)
}

/// A range over bytes with a unit: `2G`, `512M:`, `@1G:2G`.
fn parse_size_range(text: &str) -> Result<Range, String> {
    let l = parse_level(text, &[Unit::Bytes, Unit::Percent])?;
    match l.unit {
        Unit::Percent => Err(format!(
            "'{}': give a size such as 2G, not a percentage",
            shown(text)
        )),
        _ => Ok(l.range),
    }
}

/// A range over seconds: `3600`, `1h`, `30m:`.
fn parse_seconds_range(text: &str) -> Result<Range, String> {
    parse_level(text, &[Unit::Seconds]).map(|l| l.range)
}

level_pairs! {
    /// The per-user levels: on a user's tasks in percent of the nproc limit, total
    /// resident memory, largest address space, the CPU time of each process, zombies.
    pub struct UserLevels {
        nproc_warning, nproc_critical, "PERCENT", parse_percent_range, Range, "Warning range for a user's tasks (processes and threads, as the kernel counts them) in percent of the nproc limit, e.g. 80", "Critical range for a user's tasks in percent of the nproc limit, e.g. 95";
        user_rss_warning, user_rss_critical, "SIZE", parse_size_range, Range, "Warning range for a user's total resident memory, e.g. 2G", "Critical range for a user's total resident memory, e.g. 4G";
        user_vsz_warning, user_vsz_critical, "SIZE", parse_size_range, Range, "Warning range for the largest address space (VSZ) among a user's processes", "Critical range for the largest address space (VSZ) among a user's processes";
        cputime_warning, cputime_critical, "SECONDS", parse_seconds_range, Range, "Warning range for the CPU seconds of each of a user's processes, e.g. 3600", "Critical range for the CPU seconds of each of a user's processes";
        zombies_warning, zombies_critical, "RANGE", clap::value_parser!(Range), Range, "Warning range for the number of a user's zombie processes, e.g. 5", "Critical range for the number of a user's zombie processes";
    }
}

/// The options of `--per-user` mode, as the user typed them.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Per-user mode")]
pub struct PerUserArgs {
    /// Check each user's processes: count against the nproc limit, total RSS, largest
    /// VSZ, CPU time, zombies; one sub-result per user over a limit
    #[arg(long = "per-user")]
    pub per_user: bool,

    /// The nproc limit to compare with (default: each user's enforced soft limit,
    /// "Max processes" in /proc/PID/limits, the lowest among their processes)
    #[arg(long = "nproc-limit", value_name = "N")]
    pub nproc_limit: Option<u64>,

    #[command(flatten)]
    pub levels: UserLevels,

    /// Only users with a uid of at least N (e.g. 1000 for people, not system users)
    #[arg(long = "min-uid", value_name = "N", default_value_t = 0)]
    pub min_uid: u32,

    /// Leave out these users (names or uids, comma-separated; repeatable)
    #[arg(long = "exclude-user", value_name = "USER[,USER...]")]
    pub exclude_user: Vec<String>,

    /// Name at most N users over their limits in the summary
    #[arg(long = "top", value_name = "N", default_value_t = 3)]
    pub top: usize,
}

/// What `--per-user` reads besides the processes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserFacts {
    /// User names by uid.
    pub names: HashMap<u32, String>,
    /// Each user's enforced nproc soft limit, `None` for unlimited (read without
    /// `--nproc-limit`).
    pub nproc_limits: HashMap<u32, Option<u64>>,
    /// The uids of `--exclude-user`.
    pub excluded: Vec<u32>,
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
    /// Users left out, names or uids as given (looked up by the fetch).
    pub exclude: Vec<String>,
    /// How many offenders the summary names.
    pub top: usize,
}

impl PerUser {
    /// The per-user settings of the command line: `None` without `--per-user` (when
    /// none of its options may be given).
    pub(super) fn from_args(
        args: &PerUserArgs,
        metric: Metric,
    ) -> Result<Option<PerUser>, UsageError> {
        if !args.per_user {
            let given = [
                args.nproc_limit.map(|_| "--nproc-limit".to_string()),
                args.levels.given(),
                (args.min_uid != 0).then(|| "--min-uid".to_string()),
                (!args.exclude_user.is_empty()).then(|| "--exclude-user".to_string()),
            ];
            if let Some(name) = given.into_iter().flatten().next() {
                return Err(UsageError(format!("{name} needs --per-user")));
            }
            return Ok(None);
        }
        if metric != Metric::Procs {
            return Err(UsageError(format!(
                "-m {}: --per-user checks process counts; use -m only without --per-user",
                metric.name()
            )));
        }
        if args.nproc_limit == Some(0) {
            return Err(UsageError("--nproc-limit: must be at least 1".into()));
        }
        let l = &args.levels;
        Ok(Some(PerUser {
            nproc_limit: args.nproc_limit,
            nproc: Thresholds::new(l.nproc_warning, l.nproc_critical),
            rss: Thresholds::new(l.user_rss_warning, l.user_rss_critical),
            vsz: Thresholds::new(l.user_vsz_warning, l.user_vsz_critical),
            cputime: Thresholds::new(l.cputime_warning, l.cputime_critical),
            zombies: Thresholds::new(l.zombies_warning, l.zombies_critical),
            min_uid: args.min_uid,
            exclude: args
                .exclude_user
                .iter()
                .flat_map(|list| list.split(','))
                .map(str::to_string)
                .collect(),
            top: args.top.max(1),
        }))
    }

    /// True when this user's processes are looked at (`excluded`: the fetched uids of
    /// `--exclude-user`).
    fn includes(&self, uid: u32, excluded: &[u32]) -> bool {
        uid >= self.min_uid && !excluded.contains(&uid)
    }

    /// Looks up the excluded users, and the names and (without `--nproc-limit`) the
    /// enforced nproc limits of the users whose processes are in `procs`.
    pub(super) fn fetch(
        &self,
        proc_root: &Path,
        filters: &Filters,
        procs: &[ProcessInfo],
    ) -> Result<UserFacts, String> {
        let mut facts = UserFacts::default();
        for u in &self.exclude {
            // a bare uid needs no passwd entry: its user may be gone
            let uid = lookup_uid(u)
                .ok_or_else(|| format!("--exclude-user: user '{}' was not found", shown(u)))?;
            facts.excluded.push(uid);
        }
        let groups = group_by_user(procs, filters, self, &facts.excluded);
        for (uid, members) in &groups {
            let name = lookup_user(*uid).unwrap_or_else(|| uid.to_string());
            facts.names.insert(*uid, name);
            if self.nproc_limit.is_none() {
                let limit = enforced_nproc(proc_root, *uid, members);
                facts.nproc_limits.insert(*uid, limit);
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
        .filter_map(|p| nproc_soft_limit(proc_root, p.pid).flatten())
        .min()
}

/// The processes of the per-user view, by uid: those passing the filters, without
/// kernel threads, of users in scope.
fn group_by_user<'a>(
    procs: &'a [ProcessInfo],
    filters: &Filters,
    pu: &PerUser,
    excluded: &[u32],
) -> BTreeMap<u32, Vec<&'a ProcessInfo>> {
    let mut groups: BTreeMap<u32, Vec<&ProcessInfo>> = BTreeMap::new();
    for p in procs {
        if !p.kernel_thread && pu.includes(p.uid, excluded) && filters.matches(p) {
            groups.entry(p.uid).or_default().push(p);
        }
    }
    groups
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
        .or_else(|| facts.users.nproc_limits.get(&uid).copied().flatten());
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
                shown(&b.command)
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
                shown(&top.command),
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
            .users
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

/// Turns the facts into the result (pure): `filters` are the check's with the fetched
/// `-u` user.
pub(super) fn evaluate(
    facts: &ProcsFacts,
    check: &ProcsCheck,
    filters: &Filters,
    pu: &PerUser,
) -> CheckResult {
    let groups = group_by_user(&facts.procs, filters, pu, &facts.users.excluded);
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
    let with = filters.describe();
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
    for (label, max, levels) in [
        ("max_user_rss", users.iter().map(|u| u.rss).max(), &pu.rss),
        ("max_vsz", users.iter().map(|u| u.max_vsz).max(), &pu.vsz),
    ] {
        let p = PerfData::new(label, max.unwrap_or(0)).uom(Uom::Bytes);
        result.push_perf(p.thresholds(levels).min(0));
    }
    result
        .push_perf(PerfData::new("zombies", users.iter().map(|u| u.zombies).sum::<usize>()).min(0));
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::runner::validate;
    use crate::plugin::Check;

    fn proc(pid: i32, uid: u32, state: char, rss_mib: u64, cpu: f64) -> ProcessInfo {
        ProcessInfo {
            pid,
            ppid: 1,
            uid,
            state,
            command: format!("p{pid}"),
            rss: rss_mib << 20,
            vsz: (rss_mib + 1) << 20,
            cpu_seconds: cpu,
            elapsed_seconds: 1000.0,
            threads: 2,
            session: 1,
            pgrp: 1,
            tpgid: -1,
            ..ProcessInfo::default()
        }
    }

    /// Users 1000 to 1004 with 1 to 5 processes each, a kernel thread of root, and a
    /// limit of 10 tasks for everyone but 1004 (unlimited).
    fn facts() -> ProcsFacts {
        let mut procs = Vec::new();
        let mut pid = 100;
        for u in 0..5u32 {
            for _ in 0..=u {
                procs.push(proc(pid, 1000 + u, 'S', 10 * u64::from(u + 1), 1.0));
                pid += 1;
            }
        }
        let mut k = proc(2, 0, 'I', 0, 0.0);
        k.kernel_thread = true;
        procs.push(k);
        ProcsFacts {
            procs,
            users: UserFacts {
                names: (0..5).map(|u| (1000 + u, format!("u{u}"))).collect(),
                nproc_limits: (0..5)
                    .map(|u| (1000 + u, if u == 4 { None } else { Some(10) }))
                    .collect(),
                excluded: Vec::new(),
            },
            ..ProcsFacts::default()
        }
    }

    /// The verdict of `check_procs --per-user ARGV` on hand-made facts.
    fn eval(argv: &[&str], f: &ProcsFacts) -> CheckResult {
        let argv: Vec<&str> = std::iter::once("--per-user")
            .chain(argv.iter().copied())
            .collect();
        validate::<ProcsCheck>(&argv)
            .unwrap()
            .evaluate(&Ok(f.clone()))
    }

    /// The summary names the worst users first, at most --top of them; kernel threads
    /// and users below --min-uid are not counted; an unlimited user has no nproc part.
    #[test]
    fn offenders_worst_first_and_bounded() {
        // tasks: u0 2, u1 4, u2 6, u3 8 of 10; u4 10, unlimited
        let f = facts();
        let r = eval(
            &[
                "--nproc-warning",
                "50",
                "--nproc-critical",
                "75",
                "--top",
                "1",
            ],
            &f,
        );
        assert_eq!(r.state(), State::Critical);
        assert_eq!(
            r.summary,
            "2 of 5 users over their limits: u3 (nproc 80.0% (8 of 10 tasks)) and 1 more"
        );
        assert_eq!(r.details.len(), 2);
        assert_eq!(r.details[1].state, Some(State::Warning));
        assert!(r.details[1].text.starts_with("u2 (uid 1002): nproc 60.0% (6 of 10 tasks); 3 processes, 6 tasks, 60.0% of nproc 10"), "{}", r.details[1].text);
        assert_eq!(
            r.perfdata[2].to_string(),
            "procs=15;;;0",
            "no kernel thread"
        );
        assert_eq!(
            r.perfdata[4].to_string(),
            "max_nproc_percent=80%;50;75;0;100"
        );
        // the unlimited user is busiest by count, the one nearest its limit is named
        let r = eval(&["--min-uid", "1003"], &f);
        assert_eq!(
            r.summary,
            "2 users, 9 processes, none over their limits; busiest u3 with 8 tasks (80.0% of nproc)"
        );
        let r = eval(&["--min-uid", "1004"], &f);
        assert_eq!(
            r.summary,
            "1 users, 5 processes, none over their limits; busiest u4 with 10 tasks"
        );
    }

    /// Memory, address space, CPU time and zombies each alert on their own; -v lists
    /// every user, OK ones too.
    #[test]
    fn each_limit_and_the_verbose_list() {
        let mut f = facts();
        f.procs.push(proc(900, 1000, 'Z', 0, 0.0));
        f.procs.push(proc(901, 1001, 'R', 1, 7200.0));
        let r = eval(
            &[
                "--user-rss-warning",
                "100M",
                "--user-vsz-critical",
                "50M",
                "--cputime-warning",
                "1h",
                "--zombies-critical",
                "0",
            ],
            &f,
        );
        assert_eq!(r.state(), State::Critical);
        assert_eq!(
            r.summary,
            "4 of 5 users over their limits: u0 (1 zombie), u4 (largest VSZ 51.0 MiB (pid 114 p114), RSS 250 MiB), u3 (RSS 160 MiB) and 1 more"
        );
        // the fourth, past --top, is still listed below
        assert_eq!(
            r.details[3].text,
            "u1 (uid 1001): 1 process over the CPU time limit (pid 901 p901 7200 s); 3 processes, 6 tasks, 60.0% of nproc 10, RSS 41.0 MiB, largest VSZ 21.0 MiB, 0 zombies"
        );
        let r = eval(&["-v"], &facts());
        assert_eq!(r.state(), State::Ok);
        assert_eq!(r.details.len(), 5, "every user with -v");
        assert_eq!(
            r.details[0].text,
            "u3 (uid 1003): 4 processes, 8 tasks, 80.0% of nproc 10, RSS 160 MiB, largest VSZ 41.0 MiB, 0 zombies"
        );
    }

    #[test]
    fn excluded_users_are_left_out() {
        let mut f = facts();
        f.users.excluded = vec![1003, 1004];
        let r = eval(&["--exclude-user", "u3,1004"], &f);
        assert_eq!(r.perfdata[0].to_string(), "users=3;;;0");
    }
}
