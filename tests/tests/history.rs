//! The history against the real daemon: a service whose state follows a script the test
//! rewrites goes OK → CRITICAL → OK with perfdata, the daemon is killed with SIGKILL and
//! started again on the same state directory, and the event log (API and CLI), the
//! metrics and the availability report hold what happened before the kill with its
//! durations, a Stop "not stopped cleanly" then a Start. A store file with garbage in it
//! is moved aside and reported by the `hcoop-monitor/history` self-check.

use hcoop_tests::daemon::{command_service, host, Daemon};
use hcoop_tests::scenario::{daemon_with_out, every_second, set_script};
use hcoop_tests::wait_until;
use serde_json::Value;

const FLIP: &str = "web/flip";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Waits until `web/flip` is hard in `state` and has been for `secs` seconds of checks;
/// the view then.
fn hold(d: &Daemon, state: &str, secs: u64) -> Value {
    d.wait_service(FLIP, 20.0, |v| {
        v["state"] == state
            && v["state_type"] == "HARD"
            && v["last_check"].as_u64().unwrap_or(0)
                >= v["last_state_change"].as_u64().unwrap_or(u64::MAX) + secs
    })
}

fn u(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("not a whole number: {v}"))
}

/// Seconds of `[a, b]` inside `[lo, hi]`.
fn overlap((a, b): (u64, u64), (lo, hi): (u64, u64)) -> u64 {
    b.min(hi).saturating_sub(a.max(lo))
}

/// `actual` is `want` give or take `slack` seconds.
fn near(what: &str, actual: u64, want: u64, slack: u64, context: &Value) {
    assert!(
        actual.abs_diff(want) <= slack,
        "{what}: {actual} s, expected {want} s (±{slack}): {context:#}"
    );
}

#[test]
fn state_changes_metrics_and_availability_survive_sigkill() {
    let (mut d, dir, _out) = daemon_with_out();
    let script = dir.join("flip");
    set_script(&script, 0, "FLIP OK - fine | value=1;5;10;0;20");
    let config = format!(
        "{}{}{}",
        every_second(1),
        host("web", None),
        command_service("web", "flip", &format!("/bin/sh {}", script.display()), "")
    );
    d.restart_with(&config);

    let ok1 = hold(&d, "OK", 2);
    set_script(&script, 2, "FLIP CRITICAL - broken | value=7;5;10;0;20");
    let crit = hold(&d, "CRITICAL", 3);
    set_script(&script, 0, "FLIP OK - fine again | value=2;5;10;0;20");
    let ok2 = hold(&d, "OK", 2);
    let (t_ok1, t_crit, t_ok2) = (
        u(&ok1["last_state_change"]),
        u(&crit["last_state_change"]),
        u(&ok2["last_state_change"]),
    );
    // the metric is in the store (committed within a second) before the kill
    let committed = wait_until(5.0, || {
        d.try_get("/api/metrics?host=web&service=flip")
            .ok()
            .and_then(|m| m.as_array().cloned())
            .is_some_and(|m| {
                m.iter()
                    .any(|x| x["label"] == "value" && x["last_at"].as_u64() >= Some(t_ok2))
            })
    });
    let metrics = d.try_get("/api/metrics?host=web&service=flip");
    assert!(committed, "metric never stored: {metrics:?}\n{}", d.log());
    let killed_at = now();
    d.kill9();
    d.spawn();

    // the state changes from before the kill, oldest first, and nothing lost
    let events = d.get("/api/events?host=web&service=flip&kind=state&limit=100");
    let mut states: Vec<&Value> = events
        .as_array()
        .expect("an array of events")
        .iter()
        .filter(|e| u(&e["at"]) <= killed_at)
        .collect();
    states.reverse();
    let got: Vec<(&str, bool, u64)> = states
        .iter()
        .map(|e| {
            (
                e["state"].as_str().unwrap_or(""),
                e["hard"] == true,
                u(&e["at"]),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("OK", true, t_ok1),
            ("CRITICAL", true, t_crit),
            ("OK", true, t_ok2)
        ],
        "{events:#}"
    );
    // (their outputs are checked last, below)
    let outputs: Vec<String> = states
        .iter()
        .map(|e| e["output"].as_str().unwrap_or("").to_string())
        .collect();
    for e in &states {
        assert_eq!(e["kind"], "state", "{e}");
        assert_eq!(
            (e["host"].as_str(), e["service"].as_str()),
            (Some("web"), Some("flip"))
        );
        assert_eq!(e["attempt"], 1, "{e}");
    }

    // durations: each change lasts until the next one
    let history = d.get("/api/history?host=web&service=flip&since=1h");
    let changes: Vec<(String, u64, u64)> = history["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("no changes: {history:#}"))
        .iter()
        .filter(|c| u(&c["at"]) <= killed_at)
        .map(|c| {
            (
                c["state"].as_str().unwrap_or("").to_string(),
                u(&c["at"]),
                u(&c["duration"]),
            )
        })
        .collect();
    assert_eq!(
        changes[..2],
        [
            ("OK".to_string(), t_ok1, t_crit - t_ok1),
            ("CRITICAL".to_string(), t_crit, t_ok2 - t_crit),
        ],
        "{history:#}"
    );
    assert!(t_ok2 - t_crit >= 3, "{history:#}");
    assert_eq!(changes.len(), 3, "{history:#}");
    assert_eq!(changes[2].0, "OK");
    assert!(changes[2].2 >= killed_at - t_ok2, "{history:#}");

    // the CLI tells the same
    let r = d.cli(&["history", FLIP, "--since", "1h"]);
    assert_eq!(r.code, 0, "{r:?}");
    // one line per change: its state, type and attempt, how long it lasted, its output
    let line_of = |output: &str| -> Vec<String> {
        let line = r
            .stdout
            .lines()
            .find(|l| l.ends_with(output))
            .unwrap_or_else(|| panic!("no line ending in {output}:\n{}", r.stdout));
        line.split_whitespace().map(str::to_string).collect()
    };
    let words = line_of("FLIP CRITICAL - broken");
    for want in ["state", "CRITICAL", "HARD", &format!("{}s", t_ok2 - t_crit)] {
        assert!(
            words.iter().any(|w| w == want),
            "{want} missing: {words:?}\n{}",
            r.stdout
        );
    }
    let words = line_of("FLIP OK - fine");
    assert!(
        words.contains(&format!("{}s", t_crit - t_ok1)),
        "{words:?}\n{}",
        r.stdout
    );
    line_of("FLIP OK - fine again");
    let r = d.cli(&["history", FLIP, "--since", "1h", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let json: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("history --json is not JSON ({e}): {}", r.stdout));
    let crit_change = json["changes"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["state"] == "CRITICAL"))
        .unwrap_or_else(|| panic!("no CRITICAL change: {json:#}"));
    assert_eq!(u(&crit_change["duration"]), t_ok2 - t_crit, "{json:#}");

    // the crash is told: the run before the kill ends with a Stop at its last sign of
    // life, then the new run's Start
    let runs = d.get("/api/events?kind=start,stop&limit=10");
    let runs = runs.as_array().expect("an array of events");
    assert!(runs.len() >= 2, "{runs:#?}");
    let (start, stop) = (&runs[0], &runs[1]);
    assert_eq!(start["kind"], "start", "{runs:#?}");
    assert!(u(&start["at"]) >= killed_at, "{runs:#?}");
    assert_eq!(stop["kind"], "stop", "{runs:#?}");
    assert_eq!(stop["comment"], "not stopped cleanly", "{runs:#?}");
    let stopped_at = u(&stop["at"]);
    // a heartbeat every 10 s: the last one is at most that before the kill
    assert!(
        stopped_at <= killed_at && stopped_at + 11 >= killed_at,
        "stop at {stopped_at}, killed at {killed_at}: {runs:#?}"
    );

    // the metric with its levels, and its points from before the kill
    let metrics = d.get("/api/metrics?host=web&service=flip");
    let m = metrics
        .as_array()
        .and_then(|a| a.iter().find(|m| m["label"] == "value"))
        .unwrap_or_else(|| panic!("no metric value: {metrics:#}"));
    assert_eq!(
        (m["warn"].as_str(), m["crit"].as_str()),
        (Some("5"), Some("10")),
        "{m}"
    );
    assert_eq!(
        (m["min"].as_f64(), m["max"].as_f64()),
        (Some(0.0), Some(20.0)),
        "{m}"
    );
    let id = u(&m["id"]);
    let series = d.get(&format!(
        "/api/metrics/{id}?from={}&to={}",
        t_ok1 - 120,
        now()
    ));
    let points: Vec<&Value> = series["points"]
        .as_array()
        .unwrap_or_else(|| panic!("no points: {series:#}"))
        .iter()
        .filter(|p| u(&p["at"]) <= killed_at)
        .collect();
    assert!(!points.is_empty(), "no point before the kill: {series:#}");
    for p in &points {
        let (min, avg, max) = (p["min"].as_f64(), p["avg"].as_f64(), p["max"].as_f64());
        let (Some(min), Some(avg), Some(max)) = (min, avg, max) else {
            panic!("point without min/avg/max: {p}")
        };
        assert!(
            (1.0..=7.0).contains(&min) && min <= avg && avg <= max && max <= 7.0,
            "{p}"
        );
    }
    // the CRITICAL samples (7) are in the consolidated maxima
    assert!(
        points.iter().any(|p| p["max"].as_f64() == Some(7.0)),
        "{series:#}"
    );

    // availability of [first OK, kill]: the split the events say; what follows the
    // last sign of life is undetermined (not running)
    let (from, to) = (t_ok1, killed_at);
    let report = d.get(&format!(
        "/api/availability?host=web&service=flip&from={from}&to={to}"
    ));
    let row = report["rows"]
        .as_array()
        .and_then(|r| {
            r.iter()
                .find(|r| r["host"] == "web" && r["service"] == "flip")
        })
        .unwrap_or_else(|| panic!("no row for {FLIP}: {report:#}"));
    let total = |state: &str| {
        row["states"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["state"] == state))
            .map(|s| u(&s["total"]))
            .unwrap_or_else(|| panic!("no {state} in {row:#}"))
    };
    let alive = (from, stopped_at);
    let want_ok = overlap((t_ok1, t_crit), alive) + overlap((t_ok2, to), alive);
    let want_crit = overlap((t_crit, t_ok2), alive);
    near("OK", total("OK"), want_ok, 2, &report);
    near("CRITICAL", total("CRITICAL"), want_crit, 2, &report);
    near("WARNING", total("WARNING"), 0, 0, &report);
    near("UNKNOWN", total("UNKNOWN"), 0, 0, &report);
    near(
        "not running",
        u(&row["undetermined_not_running"]),
        to - stopped_at.min(to),
        2,
        &report,
    );
    let outages = row["outages"].as_array().cloned().unwrap_or_default();
    assert_eq!(outages.len(), 1, "{report:#}");
    assert_eq!(outages[0]["state"], "CRITICAL");
    assert_eq!(
        (u(&outages[0]["start"]), u(&outages[0]["end"])),
        (t_crit, t_ok2)
    );

    // an event's output is the plugin's summary as Nagios logs it in its alerts and
    // history.cgi shows it: the first line without its perfdata
    assert_eq!(
        outputs,
        [
            "FLIP OK - fine",
            "FLIP CRITICAL - broken",
            "FLIP OK - fine again"
        ],
        "{events:#}"
    );
}

#[test]
fn corrupt_store_is_moved_aside_and_reported() {
    let mut d = Daemon::start("");
    d.kill9();
    let db = d.dir.path().join("history.db");
    for extra in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(d.dir.path().join(format!("history.db{extra}")));
    }
    let garbage: Vec<u8> = (0..64 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&db, &garbage).unwrap();
    d.spawn();
    let v = d.wait_service("hcoop-monitor/history", 10.0, |v| v["state"] == "CRITICAL");
    let output = v["output"].as_str().unwrap_or("");
    assert!(output.to_lowercase().contains("corrupt"), "{v}");
    assert!(d.running(), "the daemon stopped: {}", d.log());
    let aside: Vec<String> = std::fs::read_dir(d.dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("history.db.corrupt-"))
        .collect();
    assert!(
        aside.iter().any(|n| {
            n.strip_prefix("history.db.corrupt-")
                .is_some_and(|t| t.parse::<u64>().is_ok())
        }),
        "no history.db.corrupt-<time>: {aside:?}"
    );
    // the garbage is kept as it was, a new store is in its place and takes events
    let kept = aside
        .iter()
        .find(|n| !n.ends_with("-wal") && !n.ends_with("-shm"))
        .unwrap_or_else(|| panic!("only -wal/-shm moved aside: {aside:?}"));
    assert_eq!(std::fs::read(d.dir.path().join(kept)).unwrap(), garbage);
    assert!(db.exists());
    let starts = d.get("/api/events?kind=start&limit=10");
    assert_eq!(starts.as_array().map(Vec::len), Some(1), "{starts:#}");
}
