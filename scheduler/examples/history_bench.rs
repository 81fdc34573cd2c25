//! Benchmark (not a test) of the perfdata history; `tests/bench/history.sh` runs it and
//! sets the figures beside RRDtool's. Modes:
//!
//! - `ingest DIR MINUTES [SERVICES]`: SERVICES services (10000) with 3 metrics each,
//!   every service checked once a minute, spread over the minute, fed in real time through
//!   the store's writer (`History::perfdata`) for one minute of warm-up (the metrics are
//!   created) then MINUTES minutes; prints the process's CPU time per minute of data
//!   (the writer thread's apart), its RSS, the metrics stored and the perfdata dropped.
//! - `year FILE SERVICES [DAYS]`: SERVICES services × 3 metrics, one sample a minute for
//!   DAYS days (365) of simulated time fed to the consolidator on a database of its own
//!   (with the default archives); prints the store's size and its size per metric, and
//!   how long reading a year's and a day's series takes.
//! - `rrd-lines DIR SERVICES MINUTES START`: the same samples as `rrdtool -` commands
//!   (`update DIR/SERVICE.rrd T:V1:V2:V3`), for RRDtool's side.

use hcoop_monitor::history::perf::{self, Consolidator, PerfData};
use hcoop_monitor::history::store::{History, HistorySettings};
use hcoop_plugins::plugin::perfdata::parse_perfdata;
use hcoop_plugins::plugin::Value;
use rusqlite::Connection;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const METRICS: usize = 3;

/// The three metrics of a service: a response time printed with 6 decimals (noisy: the
/// hardest for the codec), a load average with 2 decimals (a random walk) and a disk's
/// used bytes (an integer that grows), each with levels as plugins print them.
struct Samples {
    templates: [PerfData; METRICS],
    load: Vec<f64>,
}

fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ceb9fe1a85ec53);
    x ^ (x >> 33)
}

impl Samples {
    fn new(services: usize) -> Samples {
        let t = |s: &str| parse_perfdata(s).remove(0).unwrap();
        Samples {
            templates: [
                t("time=0.1s;1;2;0"),
                t("load1=0.5;4;8;0"),
                t("used=1B;;;0;107374182400"),
            ],
            load: vec![0.5; services],
        }
    }

    /// The values of service `i` at minute `t` (call with increasing `t` per service).
    fn values(&mut self, i: usize, t: u64) -> [f64; METRICS] {
        let r = mix((i as u64) << 32 ^ t);
        let time = 0.02 + (r % 40_000) as f64 / 1e6 + if r % 97 == 0 { 0.5 } else { 0.0 };
        let step = ((r >> 20) % 21) as f64 / 100.0 - 0.1;
        let load = (self.load[i] + step).clamp(0.0, 16.0);
        let load = (load * 100.0).round() / 100.0;
        self.load[i] = load;
        let used = 20_000_000_000 + (i as u64 % 1000) * 50_000_000 + t * 4096 * ((r >> 40) % 4);
        let time: f64 = format!("{time:.6}").parse().unwrap();
        [time, load, used as f64]
    }

    fn items(&mut self, i: usize, t: u64) -> Vec<PerfData> {
        let v = self.values(i, t);
        (0..METRICS)
            .map(|j| {
                let mut p = self.templates[j].clone();
                p.value = if j == 2 {
                    Value::Int(v[j] as i64)
                } else {
                    Value::Float(v[j])
                };
                p
            })
            .collect()
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// (user + system) CPU seconds of /proc/self/stat or a thread's stat file.
fn cpu(stat: &str) -> f64 {
    let text = std::fs::read_to_string(stat).unwrap_or_default();
    let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|s| s.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

fn writer_stat() -> Option<String> {
    for e in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let comm = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
        if comm.trim() == "history" {
            return Some(e.path().join("stat").display().to_string());
        }
    }
    None
}

fn status(key: &str) -> String {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with(key))
        .map(|l| l[key.len()..].trim().to_string())
        .unwrap_or_default()
}

fn ingest(dir: &str, minutes: u64, services: usize) {
    let settings = HistorySettings {
        path: format!("{dir}/history.db").into(),
        ..HistorySettings::default()
    };
    let h = History::open(&settings, now()).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let writer = writer_stat().unwrap_or_else(|| {
        eprintln!("no writer thread; problem: {:?}", h.problem());
        std::process::exit(1)
    });
    let mut samples = Samples::new(services);
    let hosts: Vec<String> = (0..services)
        .map(|i| format!("host{:04}", i / 10))
        .collect();
    let names: Vec<String> = (0..services)
        .map(|i| format!("service{}", i % 10))
        .collect();
    // every 100 ms the services whose turn it is: each once a minute
    let ticks = 600;
    let start = Instant::now();
    let mut measured = None;
    for tick in 0..(minutes + 1) * ticks {
        if tick == ticks {
            measured = Some((Instant::now(), cpu("/proc/self/stat"), cpu(&writer)));
        }
        let minute = tick / ticks;
        let slot = (tick % ticks) as usize;
        let at = now();
        for i in (slot..services).step_by(ticks as usize) {
            h.perfdata(&hosts[i], Some(&names[i]), at, &samples.items(i, minute));
        }
        let due = start + Duration::from_millis(100 * (tick + 1));
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    std::thread::sleep(Duration::from_millis(1500));
    let (t0, all0, writer0) = measured.unwrap();
    let wall = t0.elapsed().as_secs_f64() / 60.0;
    let (all, w) = (cpu("/proc/self/stat") - all0, cpu(&writer) - writer0);
    let count: i64 = h
        .read(|c| c.query_row("SELECT count(*) FROM perf_metrics", [], |r| r.get(0)))
        .unwrap();
    println!("ingest_minutes={wall:.2}");
    println!("ingest_cpu_s_per_min={:.3}", all / wall);
    println!("writer_cpu_s_per_min={:.3}", w / wall);
    println!("metrics={count}");
    println!("rss_kb={}", status("VmRSS:").trim_end_matches(" kB"));
    println!("hwm_kb={}", status("VmHWM:").trim_end_matches(" kB"));
    println!("problem={}", h.problem().unwrap_or_else(|| "none".into()));
    h.close("benchmark done");
}

fn year(file: &str, services: usize, days: u64) {
    let conn = Connection::open(file).unwrap();
    conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        .unwrap();
    let mut c = Consolidator::open(&conn, &perf::default_archives()).unwrap();
    let mut samples = Samples::new(services);
    let start = 1_700_000_000 - 1_700_000_000 % 86_400;
    let minutes = days * 1440;
    let began = Instant::now();
    let mut conn = conn;
    for hour in 0..minutes / 60 {
        let tx = conn.transaction().unwrap();
        for m in hour * 60..(hour + 1) * 60 {
            for i in 0..services {
                let at = start + m * 60 + (i as u64 % 60);
                for item in samples.items(i, m) {
                    c.add(&tx, &format!("host{i}"), Some("svc"), at, &item)
                        .unwrap();
                }
            }
            c.maintain(&tx, start + m * 60 + 59).unwrap();
        }
        tx.commit().unwrap();
    }
    let fed = began.elapsed().as_secs_f64();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    let q = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    let page = q("PRAGMA page_size");
    let live = (q("PRAGMA page_count") - q("PRAGMA freelist_count")) * page;
    let file_bytes = std::fs::metadata(file).unwrap().len();
    let metrics = (services * METRICS) as i64;
    println!("year_days={days}");
    println!("year_metrics={metrics}");
    println!("year_feed_s={fed:.1}");
    println!("year_file_bytes={file_bytes}");
    println!("year_live_bytes={live}");
    println!("year_bytes_per_metric={}", live / metrics);
    println!(
        "year_chunk_data_bytes={}",
        q("SELECT coalesce(sum(length(data)), 0) FROM perf_chunks")
    );
    println!("year_chunks={}", q("SELECT count(*) FROM perf_chunks"));
    println!("year_open_rows={}", q("SELECT count(*) FROM perf_rows"));
    let end = start + minutes * 60;
    for (name, back) in [("series_1y_ms", 365 * 86_400), ("series_25h_ms", 25 * 3600)] {
        let t = Instant::now();
        let s = perf::series_at(&conn, 1, end - back, end, end).unwrap();
        println!(
            "{name}={:.2} (points={} step={})",
            t.elapsed().as_secs_f64() * 1000.0,
            s.points.len(),
            s.step
        );
    }
}

fn rrd_lines(dir: &str, services: usize, minutes: u64, start: u64) {
    let mut samples = Samples::new(services);
    let mut out = String::new();
    for m in 0..minutes {
        for i in 0..services {
            let v = samples.values(i, m);
            let at = start + m * 60 + (i as u64 % 60);
            out.push_str(&format!(
                "update {dir}/s{i}.rrd {at}:{}:{}:{}\n",
                v[0], v[1], v[2]
            ));
        }
    }
    print!("{out}");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.to_string());
    match args.first().map(String::as_str) {
        Some("ingest") => ingest(
            &arg(1, "."),
            arg(2, "3").parse().unwrap(),
            arg(3, "10000").parse().unwrap(),
        ),
        Some("year") => year(
            &arg(1, "year.db"),
            arg(2, "3").parse().unwrap(),
            arg(3, "365").parse().unwrap(),
        ),
        Some("rrd-lines") => rrd_lines(
            &arg(1, "."),
            arg(2, "100").parse().unwrap(),
            arg(3, "60").parse().unwrap(),
            arg(4, "1700000000").parse().unwrap(),
        ),
        _ => {
            eprintln!("usage: history_bench ingest DIR MINUTES [SERVICES] | year FILE SERVICES [DAYS] | rrd-lines DIR SERVICES MINUTES START");
            std::process::exit(2);
        }
    }
}
