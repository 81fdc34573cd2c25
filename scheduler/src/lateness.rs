//! How late checks start against their schedule: a histogram of every check's lateness
//! (the time from its due time to the moment it began running), kept with atomic
//! counters so that recording never takes a lock, and shown in `/metrics` as a
//! Prometheus histogram (`hcoop_check_lateness_seconds`). Its percentiles over any
//! window are the difference of two scrapes.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the buckets in microseconds: 1, 2 and 5 per decade from 100 µs to
/// 100 s (a check later than that lands in `+Inf`).
const BOUNDS_US: [u64; 19] = [
    100,
    200,
    500,
    1_000,
    2_000,
    5_000,
    10_000,
    20_000,
    50_000,
    100_000,
    200_000,
    500_000,
    1_000_000,
    2_000_000,
    5_000_000,
    10_000_000,
    20_000_000,
    50_000_000,
    100_000_000,
];

/// A lateness histogram.
#[derive(Debug)]
pub struct Histogram {
    /// Checks per bucket (not cumulative); the last is `+Inf`.
    counts: [AtomicU64; BOUNDS_US.len() + 1],
    /// The sum of all lateness, in microseconds.
    sum_us: AtomicU64,
}

impl Histogram {
    pub const fn new() -> Histogram {
        Histogram {
            counts: [const { AtomicU64::new(0) }; BOUNDS_US.len() + 1],
            sum_us: AtomicU64::new(0),
        }
    }

    /// Counts one check that started `late` after it was due.
    pub fn record(&self, late: Duration) {
        let us = u64::try_from(late.as_micros()).unwrap_or(u64::MAX);
        let i = BOUNDS_US.partition_point(|&b| b < us);
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    /// The counts per bucket (not cumulative), `+Inf` last.
    fn counts(&self) -> Vec<u64> {
        self.counts
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect()
    }

    /// The upper bound of the bucket holding the `q` quantile (0 < q <= 1) of the
    /// checks counted, `None` when none were, or when it is beyond the last bound.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let counts = self.counts();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return BOUNDS_US.get(i).map(|&b| Duration::from_micros(b));
            }
        }
        None
    }

    /// The histogram in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        let name = "hcoop_check_lateness_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} How long after its due time each check started.\n# TYPE {name} histogram"
        );
        let counts = self.counts();
        let mut cumulative = 0;
        for (i, c) in counts.iter().enumerate() {
            cumulative += c;
            match BOUNDS_US.get(i) {
                Some(&b) => {
                    let _ = writeln!(
                        out,
                        "{name}_bucket{{le=\"{}\"}} {cumulative}",
                        b as f64 / 1e6
                    );
                }
                None => {
                    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
                }
            }
        }
        let sum = self.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {cumulative}");
    }
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::new()
    }
}

/// The lateness of every check the daemon ran since it started.
pub static CHECKS: Histogram = Histogram::new();

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_quantiles_and_text() {
        let h = Histogram::new();
        assert_eq!(h.quantile(0.5), None);
        for _ in 0..98 {
            h.record(Duration::from_micros(300));
        }
        h.record(Duration::from_millis(30));
        h.record(Duration::from_secs(1000));
        assert_eq!(h.quantile(0.5), Some(Duration::from_micros(500)));
        assert_eq!(h.quantile(0.98), Some(Duration::from_micros(500)));
        assert_eq!(h.quantile(0.99), Some(Duration::from_millis(50)));
        assert_eq!(h.quantile(1.0), None);
        // a bound is inclusive, as Prometheus's `le`
        let b = Histogram::new();
        b.record(Duration::from_millis(1));
        assert_eq!(b.quantile(1.0), Some(Duration::from_millis(1)));
        let mut out = String::new();
        h.render(&mut out);
        assert!(out.contains("# TYPE hcoop_check_lateness_seconds histogram\n"));
        assert!(out.contains("\nhcoop_check_lateness_seconds_bucket{le=\"0.0002\"} 0\n"));
        assert!(out.contains("\nhcoop_check_lateness_seconds_bucket{le=\"0.0005\"} 98\n"));
        assert!(out.contains("\nhcoop_check_lateness_seconds_bucket{le=\"0.05\"} 99\n"));
        assert!(out.contains("\nhcoop_check_lateness_seconds_bucket{le=\"100\"} 99\n"));
        assert!(out.contains("\nhcoop_check_lateness_seconds_bucket{le=\"+Inf\"} 100\n"));
        assert!(
            out.ends_with("hcoop_check_lateness_seconds_count 100\n"),
            "{out}"
        );
        assert!(
            out.contains("\nhcoop_check_lateness_seconds_sum 1000.0594\n"),
            "{out}"
        );
    }
}
