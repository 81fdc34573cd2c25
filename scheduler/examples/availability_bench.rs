//! Benchmark (not a test) of the availability report's computation:
//! `availability_bench [SERVICES] [OUTAGES] [DAYS]` builds a synthetic history
//! (`history::availability::sample`: SERVICES services (10000), each with OUTAGES
//! hour-long outages (52) over DAYS days (365)) and prints how long `compute` takes over
//! it, for all of them and with a report period of business hours.

use hcoop_monitor::history::availability::{compute, sample, Options};
use std::time::Instant;

fn main() {
    let arg = |i: usize, default: u64| {
        std::env::args()
            .nth(i)
            .map_or(default, |a| a.parse().expect("a number"))
    };
    let (services, outages, days) = (arg(1, 10_000), arg(2, 52), arg(3, 365));
    let from = 1_767_225_600; // 2026-01-01T00:00:00Z, a Thursday
    let to = from + days * 86_400;
    let (objects, events, runs) = sample(services as usize, from, to, outages);
    let started = Instant::now();
    let r = compute(&Options::new(from, to), &objects, &events, &runs);
    let whole = started.elapsed();
    // 09:00-17:00 every weekday
    let business: Vec<(u64, u64)> = (0..days)
        .filter(|d| (d + 3) % 7 < 5)
        .map(|d| (from + d * 86_400 + 9 * 3600, from + d * 86_400 + 17 * 3600))
        .collect();
    let opts = Options {
        report_period: Some(business),
        ..Options::new(from, to)
    };
    let started = Instant::now();
    let b = compute(&opts, &objects, &events, &runs);
    let period = started.elapsed();
    println!(
        "{} services, {} events over {days} days: compute {:.3} s; with business hours \
         ({} s counted) {:.3} s; first row CRITICAL {} s",
        r.rows.len(),
        events.len(),
        whole.as_secs_f64(),
        b.counted,
        period.as_secs_f64(),
        r.rows[0].states[3].total
    );
}
