//! check_http's multi-vhost mode (`--vhosts-from`, `--apache-config`): every virtual
//! host of a list requested, `--concurrency` at a time, each judged by the one-URL
//! verdict ([`HttpCheck::judge`]); the first line counts the results, the long
//! output names each failing virtual host, and -w/-c apply to the number (N) or
//! percentage (N%) of failing virtual hosts.

use super::args::Args;
use super::page::HttpCheck;
use crate::host::clock;
use crate::plugin::{
    judge, CheckResult, Observed, PerfData, Range, State, Thresholds, Uom, UsageError,
};
use crate::proto::http::fetch::{fetch_all, HttpFacts};
use crate::proto::http::vhosts::{Source, Target};
use crate::proto::net;
use std::time::{Duration, Instant};

/// The multi-vhost levels and output options.
#[derive(Debug, Clone, PartialEq)]
pub struct Levels {
    /// Thresholds on failing virtual hosts, and whether they are percents.
    pub failing: Option<(Thresholds, bool)>,
    /// Every virtual host in the long output, not only the failing ones.
    pub verbose: u8,
}

/// The validated multi-vhost check.
#[derive(Debug)]
pub struct VhostsCheck {
    /// The request of each virtual host and the verdict on it.
    pub page: HttpCheck,
    /// Where the virtual hosts are read from, at each run.
    pub source: Source,
    pub levels: Levels,
    pub concurrency: usize,
    /// Time one virtual host may take.
    pub vhost_timeout: Duration,
}

/// One virtual host's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    /// Its URL, as output names it.
    pub label: String,
    pub vhost: String,
    pub result: CheckResult,
    /// Time its request took.
    pub total: Duration,
}

fn usage(msg: impl Into<String>) -> UsageError {
    UsageError(msg.into())
}

/// Parses `-w`/`-c` in multi-vhost mode: `N` or `N%`; returns the range and the percent flag.
fn failing_level(v: &Option<String>) -> Result<Option<(Range, bool)>, UsageError> {
    let Some(t) = v else { return Ok(None) };
    let (num, pct) = match t.strip_suffix('%') {
        Some(n) => (n, true),
        None => (t.as_str(), false),
    };
    let r = num
        .parse::<Range>()
        .map_err(|e| usage(format!("failing vhosts level: {e}")))?;
    Ok(Some((r, pct)))
}

/// What a run of the multi-vhost mode observed: the virtual hosts read from the list,
/// each one's request (in the same order), the time they all took and when (seconds
/// since the epoch); or why the list could not be read.
pub type VhostsFacts = Observed<Fetched>;

/// The virtual hosts of a list and what their requests found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fetched {
    pub targets: Vec<Target>,
    pub pages: Vec<HttpFacts>,
    pub elapsed: Duration,
    pub now: i64,
}

impl VhostsCheck {
    /// Validates the multi-vhost options (`args.is_multi()`); `page` judges each one.
    /// Reads no file: the list is read at each run.
    pub fn new(args: &Args, page: HttpCheck) -> Result<Self, UsageError> {
        let source = match (&args.vhosts_from, &args.apache_config) {
            (Some(f), _) => Source::List(f.clone()),
            (None, Some(p)) => Source::Apache {
                path: p.clone(),
                aliases: args.with_aliases,
            },
            (None, None) => return Err(usage("--vhosts-from or --apache-config is required")),
        };
        let w = failing_level(&args.levels.warning)?;
        let c = failing_level(&args.levels.critical)?;
        let pct = w.is_some_and(|x| x.1) || c.is_some_and(|x| x.1);
        if w.is_some() && c.is_some() && w.map(|x| x.1) != c.map(|x| x.1) {
            return Err(usage("-w and -c must both be counts or both percents"));
        }
        let t = Thresholds::new(w.map(|x| x.0), c.map(|x| x.0));
        if args.concurrency == 0 {
            return Err(usage("--concurrency must be at least 1"));
        }
        let vhost_timeout = match args.vhost_timeout {
            Some(s) if s > 0.0 && s.is_finite() => Duration::from_secs_f64(s),
            Some(s) => return Err(usage(format!("--vhost-timeout {s} must be more than 0"))),
            None => args.common.timeout.duration.mul_f64(0.8),
        };
        Ok(VhostsCheck {
            page,
            source,
            levels: Levels {
                failing: (!t.is_empty()).then_some((t, pct)),
                verbose: args.common.verbose,
            },
            concurrency: args.concurrency,
            vhost_timeout,
        })
    }

    /// Reads the list and requests every virtual host (all the I/O).
    pub async fn fetch(&self) -> VhostsFacts {
        let targets = self.source.read(&self.page.target)?;
        let start = Instant::now();
        let pages = fetch_all(
            &self.page.spec,
            &targets,
            self.concurrency,
            self.vhost_timeout,
        )
        .await;
        Ok(Fetched {
            targets,
            pages,
            elapsed: start.elapsed(),
            now: clock::unix_now(),
        })
    }

    /// Judges every virtual host as one URL is, then counts them (pure). A list that
    /// could not be read is UNKNOWN, naming the file.
    pub fn evaluate(&self, facts: &VhostsFacts) -> CheckResult {
        judge(facts, |f| {
            let judged: Vec<Judged> = f
                .targets
                .iter()
                .zip(&f.pages)
                .map(|(t, page)| Judged {
                    label: t.label(),
                    vhost: t.vhost.clone(),
                    result: self.page.judge(page, t, f.now),
                    total: page.total,
                })
                .collect();
            evaluate(&judged, &self.levels, f.elapsed)
        })
    }
}

/// The verdict on many virtual hosts (pure), from each one's own verdict: counts on
/// the first line, each failing virtual host in the long output.
pub fn evaluate(judged: &[Judged], levels: &Levels, elapsed: Duration) -> CheckResult {
    let mut counts = [0usize; 4];
    let mut lines = Vec::new();
    let mut slowest = 0.0f64;
    for j in judged {
        let r = &j.result;
        let s = r.state();
        counts[match s {
            State::Ok => 0,
            State::Warning => 1,
            State::Critical => 2,
            State::Unknown => 3,
        }] += 1;
        slowest = slowest.max(j.total.as_secs_f64());
        if s != State::Ok || levels.verbose > 0 {
            lines.push((s, j.vhost.clone(), format!("{}: {}", j.label, r.summary)));
        }
    }
    let total = judged.len();
    let failing = total - counts[0];
    let mut summary = format!(
        "{total} vhosts checked in {:.3}s: {} OK, {} WARNING, {} CRITICAL, {} UNKNOWN",
        elapsed.as_secs_f64(),
        counts[0],
        counts[1],
        counts[2],
        counts[3]
    );
    let failing_names: Vec<String> = lines
        .iter()
        .filter(|l| l.0 != State::Ok)
        .take(5)
        .map(|l| l.1.clone())
        .collect();
    if !failing_names.is_empty() {
        summary.push_str(&format!(
            "; failing: {}{}",
            failing_names.join(", "),
            if failing > failing_names.len() {
                ", ..."
            } else {
                ""
            }
        ));
    }
    let mut r;
    match &levels.failing {
        Some((t, pct)) => {
            let value = if *pct {
                failing as f64 * 100.0 / total.max(1) as f64
            } else {
                failing as f64
            };
            r = CheckResult::new(t.state(value), summary);
            for (s, _, text) in lines {
                r.push_line(format!("[{s}] {text}"));
            }
        }
        None => {
            r = CheckResult::new(State::Ok, summary);
            for (s, _, text) in lines {
                r.push_sub(s, text);
            }
        }
    }
    let failing_perf = PerfData::new("failing", failing).min(0).max(total);
    let failing_perf = match &levels.failing {
        Some((t, false)) => failing_perf.thresholds(t),
        _ => failing_perf,
    };
    r.push_perf(PerfData::new("vhosts", total).min(0));
    r.push_perf(failing_perf);
    r.push_perf(PerfData::new("ok", counts[0]).min(0).max(total));
    r.push_perf(PerfData::new("warning", counts[1]).min(0).max(total));
    r.push_perf(PerfData::new("critical", counts[2]).min(0).max(total));
    r.push_perf(PerfData::new("unknown", counts[3]).min(0).max(total));
    r.push_perf(
        PerfData::new("time", net::secs(elapsed))
            .uom(Uom::Seconds)
            .min(0.0),
    );
    r.push_perf(
        PerfData::new("time_max", (slowest * 1e6).round() / 1e6)
            .uom(Uom::Seconds)
            .min(0.0),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::output::render_text;

    fn judged(vhost: &str, state: State, summary: &str, ms: u64) -> Judged {
        Judged {
            label: format!("http://{vhost}/"),
            vhost: vhost.into(),
            result: CheckResult::new(state, summary),
            total: Duration::from_millis(ms),
        }
    }

    fn three() -> Vec<Judged> {
        vec![
            judged("a.test", State::Ok, "HTTP/1.1 200 OK - 60 bytes in 0.001 second response time", 1),
            judged("b.test", State::Critical, "status 500 on http://b.test/ - HTTP/1.1 500 Oops - 61 bytes in 0.002 second response time", 2),
            judged("c.test", State::Ok, "HTTP/1.1 404 Not Found - 66 bytes in 0.003 second response time", 3),
        ]
    }

    fn levels(w: Option<&str>, c: Option<&str>) -> Levels {
        let w = failing_level(&w.map(str::to_string)).unwrap();
        let c = failing_level(&c.map(str::to_string)).unwrap();
        let pct = w.is_some_and(|x| x.1) || c.is_some_and(|x| x.1);
        let t = Thresholds::new(w.map(|x| x.0), c.map(|x| x.0));
        Levels {
            failing: (!t.is_empty()).then_some((t, pct)),
            verbose: 0,
        }
    }

    #[test]
    fn counts_and_failing_vhosts() {
        let r = evaluate(&three(), &levels(None, None), Duration::from_millis(5));
        assert_eq!(
            render_text("HTTP", &r),
            "HTTP CRITICAL - 3 vhosts checked in 0.005s: 2 OK, 0 WARNING, 1 CRITICAL, 0 UNKNOWN; failing: b.test | vhosts=3;;;0 failing=1;;;0;3 ok=2;;;0;3 warning=0;;;0;3 critical=1;;;0;3 unknown=0;;;0;3 time=0.005s;;;0 time_max=0.003s;;;0\n[CRITICAL] http://b.test/: status 500 on http://b.test/ - HTTP/1.1 500 Oops - 61 bytes in 0.002 second response time\n"
        );
    }

    #[test]
    fn levels_on_failing_vhosts() {
        let state = |w, c| evaluate(&three(), &levels(Some(w), Some(c)), Duration::ZERO).state();
        assert_eq!(state("50%", "90%"), State::Ok);
        assert_eq!(state("0", "5"), State::Warning);
        assert_eq!(state("0", "0"), State::Critical);
        assert_eq!(state("10%", "20%"), State::Critical);
        // counts carry their thresholds in the perfdata, percents do not
        let r = evaluate(&three(), &levels(Some("0"), Some("5")), Duration::ZERO);
        assert!(render_text("HTTP", &r).contains(" failing=1;0;5;0;3 "));
        let r = evaluate(&three(), &levels(Some("10%"), Some("20%")), Duration::ZERO);
        assert!(render_text("HTTP", &r).contains(" failing=1;;;0;3 "));
    }

    #[test]
    fn more_than_five_failing_are_cut() {
        let many: Vec<Judged> = (0..7)
            .map(|i| judged(&format!("v{i}.test"), State::Warning, "status 404", 1))
            .collect();
        let r = evaluate(&many, &levels(None, None), Duration::ZERO);
        assert_eq!(r.state(), State::Warning);
        assert!(r
            .summary
            .ends_with("; failing: v0.test, v1.test, v2.test, v3.test, v4.test, ..."));
    }

    #[test]
    fn bad_levels_are_usage_errors() {
        assert!(failing_level(&Some("x%".into())).is_err());
        assert!(failing_level(&Some("5:1".into())).is_err());
    }
}
