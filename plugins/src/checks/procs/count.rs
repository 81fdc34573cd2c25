//! check_procs counting processes: the number of processes that pass the filters, or a
//! metric (`-m`) of each of them, against `-w`/`-c`.

use super::{ps_pcpu, Filters, ProcsCheck, ProcsFacts, MAX_LINES};
use crate::host::processes::ProcessInfo;
use crate::plugin::{shown, CheckResult, PerfData, State, Uom};

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
        shown(&p.ps_args())
    )
}

/// Turns the facts into the result (pure): `filters` are the check's with the fetched
/// `-u` user.
pub(super) fn evaluate(facts: &ProcsFacts, check: &ProcsCheck, filters: &Filters) -> CheckResult {
    let matched: Vec<&ProcessInfo> = facts.procs.iter().filter(|p| filters.matches(p)).collect();
    let n = matched.len();
    let metric = check.metric;
    let mut result = if metric == Metric::Procs {
        CheckResult::new(check.thresholds.state(n as f64), count_text(n, filters)).with_perf(
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
        summary.push_str(&count_text(n, filters));
        if let Some((p, v, _)) = top {
            summary.push_str(&format!(
                "; highest {} (pid {} {})",
                metric.show(*v),
                p.pid,
                shown(&p.command)
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
                    shown(&p.command),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::validate;
    use crate::plugin::Check;

    fn check(argv: &[&str]) -> ProcsCheck {
        validate::<ProcsCheck>(argv).unwrap()
    }

    /// The check's verdict on hand-made facts.
    fn eval(c: &ProcsCheck, facts: &ProcsFacts) -> CheckResult {
        c.evaluate(&Ok(facts.clone()))
    }

    /// `n` sleepers of uid 1000, pid 100 up, each `rss` KiB more than the one before.
    fn sleepers(n: i32, rss: u64) -> ProcsFacts {
        ProcsFacts {
            procs: (0..n)
                .map(|i| ProcessInfo {
                    pid: 100 + i,
                    ppid: 1,
                    uid: 1000,
                    state: 'S',
                    command: "sleep".into(),
                    args: format!("sleep {i}"),
                    rss: rss * 1024 * (i as u64 + 1),
                    vsz: 4096 * 1024,
                    elapsed_seconds: 10.0,
                    threads: 1,
                    session: 1,
                    pgrp: 1,
                    tpgid: -1,
                    ..ProcessInfo::default()
                })
                .collect(),
            ..ProcsFacts::default()
        }
    }

    /// The count itself, with the filters in words and the levels in perfdata.
    #[test]
    fn counts_against_the_levels() {
        let f = sleepers(3, 100);
        let r = eval(&check(&["-w", "2", "-c", "5"]), &f);
        assert_eq!(
            render_text("PROCS", &r),
            "PROCS WARNING - 3 processes | procs=3;2;5;0\n"
        );
        let r = eval(&check(&["-c", "1:"]), &ProcsFacts::default());
        assert_eq!(r.state(), State::Critical);
        assert_eq!(r.summary, "0 processes");
    }

    /// A metric of each process: at most 25 offenders listed, the rest counted; with
    /// -v every matching process gets a line, also at most 25.
    #[test]
    fn per_process_metric_lists_are_bounded() {
        let f = sleepers(30, 100);
        let c = check(&["-m", "RSS", "-w", "200", "-c", "2900"]);
        let r = eval(&c, &f);
        assert_eq!(r.state(), State::Critical);
        assert_eq!(
            r.summary,
            "RSS: 1 crit, 27 warn out of 30 processes; highest 3000 KiB (pid 129 sleep)"
        );
        assert_eq!(r.details.len(), MAX_LINES + 1);
        assert_eq!(r.details[0].text, "pid 102 sleep: RSS 300 KiB");
        assert_eq!(r.details[MAX_LINES].text, "and 3 more");
        assert_eq!(r.perfdata[3].to_string(), "rss_max=3000KB;200;2900;0");
        let c = check(&["-v", "-w", "40"]);
        let r = eval(&c, &f);
        assert_eq!(r.state(), State::Ok);
        assert_eq!(r.details.len(), MAX_LINES + 1);
        assert_eq!(
            r.details[0].text,
            "pid 100 ppid 1 uid 1000 S rss 100 KiB vsz 4096 KiB cpu 0.0% elapsed 10 s: sleep 0"
        );
        assert_eq!(r.details[MAX_LINES].text, "and 5 more processes");
    }

    /// A process may name itself anything: its name and arguments are echoed escaped.
    #[test]
    fn process_names_are_echoed_escaped() {
        let mut f = sleepers(1, 100);
        f.procs[0].command = "x\nPROCS OK".into();
        f.procs[0].args = "x\ny".into();
        let c = check(&["-v", "-m", "RSS", "-w", "1"]);
        let r = eval(&c, &f);
        assert!(
            r.summary.ends_with("(pid 100 x\\nPROCS OK)"),
            "{}",
            r.summary
        );
        assert_eq!(r.details[0].text, "pid 100 x\\nPROCS OK: RSS 100 KiB");
        assert!(
            r.details[1].text.ends_with(": x\\ny"),
            "{}",
            r.details[1].text
        );
        assert!(r.details.iter().all(|d| !d.text.contains('\n')));
    }

    /// The `-u` filter is the fetched user: the same facts count differently with it.
    #[test]
    fn the_fetched_user_filters() {
        let mut f = sleepers(2, 100);
        f.procs[1].uid = 0;
        let c = check(&["-u", "root"]);
        assert_eq!(eval(&c, &f).summary, "2 processes");
        f.user = Some((0, "root".into()));
        assert_eq!(eval(&c, &f).summary, "1 process with UID = 0 (root)");
    }
}
