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
//! - `render FILE SERVICES`: the service page with a year's graphs of a service of FILE
//!   (made by `year`), the overview of SERVICES services, availability over a year of
//!   SERVICES services; prints how long each takes.
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

/// This thread's CPU seconds.
fn thread_cpu() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
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
    let mut calls = 0.0;
    for tick in 0..(minutes + 1) * ticks {
        if tick == ticks {
            measured = Some((Instant::now(), cpu("/proc/self/stat"), cpu(&writer)));
        }
        let minute = tick / ticks;
        let slot = (tick % ticks) as usize;
        let at = now();
        let batch: Vec<(usize, Vec<PerfData>)> = (slot..services)
            .step_by(ticks as usize)
            .map(|i| (i, samples.items(i, minute)))
            .collect();
        let before = thread_cpu();
        for (i, items) in &batch {
            h.perfdata(&hosts[*i], Some(&names[*i]), at, items);
        }
        if measured.is_some() {
            calls += thread_cpu() - before;
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
    println!("ingest_cpu_s_per_min={:.3}", (w + calls) / wall);
    println!("writer_cpu_s_per_min={:.3}", w / wall);
    println!("calls_cpu_s_per_min={:.3}", calls / wall);
    println!("process_cpu_s_per_min={:.3}", all / wall);
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

fn view(host: &str, service: Option<&str>, state: &str, now: u64) -> hcoop_monitor::http::View {
    serde_json::from_value(serde_json::json!({
        "host": host, "service": service, "state": state, "state_type": "HARD", "attempt": 1,
        "max_check_attempts": 3, "checked": true, "last_check": now - 30, "last_state_change": now - 86_400,
        "output": "TIME OK - 0.023451 second response time", "acknowledged": false, "in_downtime": false,
        "flapping": false, "percent_state_change": 0.0, "notification_number": 0, "execution_time": 0.02,
        "latency": 0.001, "downtimes": [],
    }))
    .unwrap()
}

/// The service page with a year's graphs of its 3 metrics (read from FILE, made by
/// `year`), the overview of SERVICES services, availability over a year of them.
fn render(file: &str, services: usize) {
    use hcoop_monitor::history::availability;
    use hcoop_monitor::history::{Event, Kind};
    use hcoop_monitor::web::pages::{self, HistoryData, HistoryPart, ObjectState, OverviewQuery};
    let conn = Connection::open(file).unwrap();
    let now: u64 = conn
        .query_row("SELECT max(at) FROM perf_rows WHERE level = 0", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap() as u64
        + 60;
    let year = 365 * 86_400;
    let viewer = hcoop_monitor::web::session::Viewer {
        user: None,
        csrf: None,
    };
    let state = ObjectState {
        view: view("host0", Some("svc"), "OK", now),
        perfdata: Samples::new(1).items(0, 0),
        next_check: Some(now + 30),
        services: Vec::new(),
    };
    let mut best = f64::MAX;
    let mut size = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let graphs = perf::metrics(&conn, "host0", Some("svc"))
            .unwrap()
            .into_iter()
            .map(|m| {
                let s =
                    perf::series_at(&conn, m.id, now - year, now, now).map_err(|e| e.to_string());
                (m, s)
            })
            .collect();
        let data = HistoryPart::Data(HistoryData {
            graphs,
            ..HistoryData::default()
        });
        let html = pages::render_object(&viewer, &state, ("1y", year), &data, now);
        best = best.min(t.elapsed().as_secs_f64() * 1000.0);
        size = html.len();
    }
    println!("service_page_1y_ms={best:.2} ({size} bytes, 3 graphs, series read included)");
    let hosts: Vec<_> = (0..services / 10)
        .map(|h| view(&format!("host{h:04}"), None, "UP", now))
        .collect();
    let views: Vec<_> = (0..services)
        .map(|i| {
            let st = [
                "OK", "OK", "OK", "OK", "OK", "OK", "OK", "WARNING", "CRITICAL", "UNKNOWN",
            ][(mix(i as u64) % 10) as usize];
            view(
                &format!("host{:04}", i / 10),
                Some(&format!("service{}", i % 10)),
                st,
                now,
            )
        })
        .collect();
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let html = pages::render_overview(
            &hosts,
            &views,
            &Default::default(),
            &OverviewQuery::default(),
            now,
        );
        best = best.min(t.elapsed().as_secs_f64() * 1000.0);
        size = html.len();
    }
    println!(
        "overview_ms={best:.2} ({size} bytes, {} hosts, {services} services)",
        hosts.len()
    );
    // a year of 10,000 services, each with 20 problems of 1 to 4 hours
    let from = now - year;
    let objects: Vec<(String, Option<String>)> = (0..services)
        .map(|i| {
            (
                format!("host{:04}", i / 10),
                Some(format!("service{}", i % 10)),
            )
        })
        .collect();
    let mut events = Vec::new();
    for (i, (h, s)) in objects.iter().enumerate() {
        let mut e = Event::new(Kind::State, from - 3600, Some(h), s.as_deref());
        e.state = Some("OK".into());
        e.hard = Some(true);
        events.push(e.clone());
        for k in 0..20u64 {
            let r = mix((i as u64) << 20 | k);
            let start = from + k * (year / 20) + r % (year / 40);
            let mut bad = Event {
                at: start,
                state: Some("CRITICAL".into()),
                output: Some("CRITICAL - down".into()),
                ..e.clone()
            };
            bad.attempt = Some(3);
            events.push(bad);
            events.push(Event {
                at: start + 3600 + r % (3 * 3600),
                state: Some("OK".into()),
                ..e.clone()
            });
        }
    }
    events.sort_by_key(|e| e.at);
    let runs = vec![(from - 7200, now)];
    let t = Instant::now();
    let report = availability::compute(
        &availability::Options::new(from, now),
        &objects,
        &events,
        &runs,
    );
    println!(
        "availability_1y_ms={:.1} ({} services, {} state events, {} rows)",
        t.elapsed().as_secs_f64() * 1000.0,
        services,
        events.len(),
        report.rows.len()
    );
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
        Some("render") => render(&arg(1, "year.db"), arg(2, "10000").parse().unwrap()),
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
