//! check_afs against real OpenAFS servers, each cell in a network namespace of its own:
//! Rx versions and statistics as `rxdebug` reports them, Ubik quorum as `udebug` reports
//! it, a silent and a stopped server, a database set without quorum, and volume quotas,
//! partitions and bosserver instances of a real file server.

use hcoop_tests::afs::{
    Cell, BOSSERVER_PORT, FILESERVER_PORT, PTSERVER_PORT, SERVER, VLSERVER_PORT, VOLSERVER_PORT,
};
use hcoop_tests::{assert_refused_json, wait_until};
use serde_json::Value;
use std::time::Instant;

fn summary(v: &Value) -> &str {
    v["summary"].as_str().unwrap_or("")
}

/// The texts of the sub-results.
fn details(v: &Value) -> Vec<&str> {
    v["details"]
        .as_array()
        .map(|d| d.iter().filter_map(|x| x["text"].as_str()).collect())
        .unwrap_or_default()
}

/// The perfdata value labelled `label`.
fn perf(v: &Value, label: &str) -> f64 {
    v["perfdata"]
        .as_array()
        .and_then(|p| p.iter().find(|x| x["label"] == label))
        .and_then(|x| x["value"].as_f64())
        .unwrap_or_else(|| panic!("no perfdata {label}: {v}"))
}

/// What follows `prefix` on the line of `text` starting with it.
fn after<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{text}"))
        .trim()
}

/// The number in front of `suffix` on the line of `text` ending with it.
fn count_before(text: &str, suffix: &str) -> u64 {
    text.lines()
        .find_map(|l| l.trim().strip_suffix(suffix))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no line ending {suffix:?} in:\n{text}"))
}

/// Rx version probes on `ports` agree with `rxdebug -version` on each.
fn assert_rx_versions(cell: &Cell, ports: &[u16]) {
    let list: Vec<String> = ports.iter().map(u16::to_string).collect();
    // levels in seconds take units: 1500ms is 1.5
    let v = cell.check_afs(&[
        "rx",
        "-H",
        SERVER,
        "-p",
        &list.join(","),
        "-t",
        "5",
        "-w",
        "1500ms",
        "-c",
        "3",
    ]);
    assert_eq!(v["state"], "OK", "{v}");
    for p in v["perfdata"].as_array().unwrap() {
        assert_eq!(
            (&p["warn"], &p["crit"]),
            (&"1.5".into(), &"3".into()),
            "{v}"
        );
    }
    let mut version = String::new();
    for (i, port) in list.iter().enumerate() {
        version = after(
            &cell.tool("rxdebug", &[SERVER, port, "-version"]),
            "AFS version:",
        )
        .to_string();
        let line = details(&v)[i];
        assert!(
            line.starts_with(&format!("{SERVER}:{port} {version} in ")),
            "{line}"
        );
        assert!(perf(&v, &format!("time_{SERVER}_{port}")) < 1.0);
    }
    let n = ports.len();
    assert_eq!(
        summary(&v),
        format!("{n} of {n} servers answered: {version}")
    );
}

/// Waits until the Ubik service on `port` has a recovered sync site, then compares our
/// view with udebug's.
fn assert_ubik_settles(cell: &Cell, port: u16) {
    let p = port.to_string();
    let args = ["ubik", "-H", SERVER, "-p", &p, "-t", "3"];
    let mut last = Value::Null;
    assert!(
        wait_until(30.0, || {
            last = cell.check_afs(&args);
            last["state"] == "OK"
        }),
        "ubik on {port} never settled: {last}"
    );
    let u = cell.tool("udebug", &[SERVER, &p]);
    assert!(u.contains("I am sync site"), "{u}");
    assert_eq!(after(&u, "Recovery state"), "1f");
    let version = after(&u, "Local db version is");
    let v = cell.check_afs(&args);
    assert_eq!(v["state"], "OK", "{v}");
    assert_eq!(
        summary(&v),
        format!(
            "sync site {SERVER} with quorum, 1 of 1 servers answering, database version {version}"
        )
    );
    assert_eq!(
        details(&v),
        [format!(
            "{SERVER}:{port} is the sync site (1 servers), recovery state 0x1f, database version {version}"
        )]
    );
    assert_eq!(perf(&v, "servers_answering"), 1.0);
}

#[test]
fn database_servers() {
    let mut cell = Cell::start(&[SERVER]);

    assert_rx_versions(&cell, &[PTSERVER_PORT, VLSERVER_PORT]);

    for port in [PTSERVER_PORT, VLSERVER_PORT] {
        let p = port.to_string();
        let stats = cell.tool("rxdebug", &[SERVER, &p, "-noconn"]);
        let waiting = count_before(&stats, "calls waiting for a thread");
        let idle = count_before(&stats, "threads are idle");
        let v = cell.check_afs(&["rxstats", "-H", SERVER, "-p", &p, "-w", "5", "-c", "10"]);
        assert_eq!(v["state"], "OK", "{v}");
        assert_eq!(
            summary(&v),
            format!("{waiting} calls waiting for a thread, {idle} threads idle")
        );
        assert_eq!(perf(&v, &format!("waiting_{SERVER}_{p}")), waiting as f64);
        assert_eq!(perf(&v, &format!("idle_{SERVER}_{p}")), idle as f64);
    }

    for port in [VLSERVER_PORT, PTSERVER_PORT] {
        assert_ubik_settles(&cell, port);
    }

    // a hung vlserver: no answer, a clear CRITICAL within the timeout
    cell.pause("vlserver");
    let start = Instant::now();
    let v = cell.check_afs(&["rx", "-H", SERVER, "-p", "7003", "-t", "2"]);
    assert!(start.elapsed().as_secs_f64() < 3.0);
    assert_eq!(v["state"], "CRITICAL", "{v}");
    assert_eq!(summary(&v), format!("{SERVER}:7003: no answer within 1.8s"));

    // a stopped ptserver
    cell.stop("ptserver");
    let start = Instant::now();
    let v = cell.check_afs(&["ubik", "-H", SERVER, "-p", "7002", "-t", "2"]);
    assert!(start.elapsed().as_secs_f64() < 3.0);
    assert_eq!(v["state"], "CRITICAL", "{v}");
    assert_eq!(
        summary(&v),
        "no sync site, no quorum (0 of 1 servers answering)"
    );
}

#[test]
fn lost_quorum() {
    // three database servers in CellServDB, only the first runs: no one can win a vote
    let cell = Cell::start(&[SERVER, "10.77.0.3", "10.77.0.4"]);
    let u = cell.tool("udebug", &[SERVER, "7003"]);
    assert!(u.contains("I am not sync site"), "{u}");
    let start = Instant::now();
    let v = cell.check_afs(&[
        "ubik",
        "-H",
        &format!("{SERVER},10.77.0.3,10.77.0.4"),
        "-t",
        "3",
    ]);
    assert!(start.elapsed().as_secs_f64() < 4.0);
    assert_eq!(v["state"], "CRITICAL", "{v}");
    assert_eq!(
        summary(&v),
        "no sync site, no quorum (1 of 3 servers answering)"
    );
    let version = after(&u, "Local db version is");
    let lines = details(&v);
    assert_eq!(lines.len(), 3, "{v}");
    assert_eq!(
        lines[0],
        format!("{SERVER}:7003 no sync site, database version {version}")
    );
    for (line, host) in lines[1..].iter().zip(["10.77.0.3", "10.77.0.4"]) {
        assert_eq!(*line, format!("{host}:7003: no answer within 2.7s"));
    }
    assert_eq!(perf(&v, "servers_answering"), 1.0);
}

#[test]
fn bad_input_is_unknown() {
    for (args, message) in [
        (&["rx", "-H", ""][..], "empty host name in -H"),
        (&["rx", "-H", SERVER, "-p", "0"], "port 0 in -p"),
        (
            &["quota", "-w", "50"],
            "name a volume (--volume) or file servers (-H)",
        ),
        (
            &["quota", "-H", SERVER, "--partition", "/vicep1"],
            "partition '/vicep1' is not a name such as a, vicepa or /vicepa",
        ),
    ] {
        assert_refused_json("check_afs", args, message);
    }
    // values the command line itself refuses are one text line whatever the format
    for (args, message) in [
        (
            &["ubik", "-H", SERVER, "-p", "0"][..],
            "invalid value '0' for '--port <PORT>': port 0 is out of range (1-65535)",
        ),
        (
            &["space", "-H", SERVER, "-c", "120"],
            "invalid value '120' for '--critical <PERCENT>': invalid threshold '120': a percentage must be from 0 to 100",
        ),
    ] {
        let r = hcoop_tests::plugin("check_afs", args);
        assert_eq!(r.code, 3, "{args:?}: {r:?}");
        assert_eq!(r.stdout, format!("AFS UNKNOWN - {message}\n"), "{args:?}");
    }
}

#[test]
fn file_server() {
    let mut cell = Cell::start(&[SERVER]);
    cell.start_fileserver();
    cell.create_volume("user.alice", 100);
    cell.create_volume("user.full", 2);

    // the file server, volserver and bosserver answer Rx as rxdebug sees them
    assert_rx_versions(&cell, &[FILESERVER_PORT, VOLSERVER_PORT, BOSSERVER_PORT]);

    // quotas: vos says 2 KB used of each fresh volume
    let examined = cell.tool("vos", &["examine", "user.full", "-format", "-noauth"]);
    assert_eq!(after(&examined, "diskused"), "2");
    let v = cell.check_afs(&["quota", "-H", SERVER]);
    assert_eq!(v["state"], "CRITICAL", "{v}");
    assert_eq!(
        summary(&v),
        "user.full 100.0% of quota (2.0 KiB of 2.0 KiB)"
    );
    assert_eq!(perf(&v, "user.alice"), 2.0);
    let v = cell.check_afs(&[
        "quota",
        "-H",
        SERVER,
        "--partition",
        "a",
        "--regex",
        "alice",
    ]);
    assert_eq!(v["state"], "OK", "{v}");
    assert_eq!(
        summary(&v),
        "1 volume under quota, fullest user.alice 2.0% of quota (2.0 KiB of 100 KiB)"
    );
    // percent levels: plain numbers as before, and 1% the same
    for (w, c) in [("1", "50"), ("1%", "50%")] {
        let v = cell.check_afs(&["quota", "--volume", "user.alice", "-w", w, "-c", c]);
        assert_eq!(v["state"], "WARNING", "{v}");
        assert_eq!(summary(&v), "user.alice 2.0% of quota (2.0 KiB of 100 KiB)");
        // the levels in KB of the 100 KB quota
        let p = &v["perfdata"][0];
        assert_eq!((&p["warn"], &p["crit"]), (&"1".into(), &"50".into()), "{v}");
    }
    let v = cell.check_afs(&["quota", "--volume", "user.nobody"]);
    assert_eq!(v["state"], "CRITICAL", "{v}");

    // partitions: the percent used that vos partinfo gives (the disk is shared, so
    // within a little)
    let info = cell.tool("vos", &["partinfo", SERVER, "-noauth"]);
    let nums = after(&info, "Free space on partition /vicepa:");
    let (free, total) = nums
        .split_once(" K blocks out of total ")
        .expect("partinfo");
    let (free, total): (f64, f64) = (free.parse().unwrap(), total.parse().unwrap());
    let pct = (total - free) * 100.0 / total;
    let v = cell.check_afs(&["space", "-H", SERVER, "-w", "0", "-c", "100"]);
    assert_eq!(v["state"], "WARNING", "{v}");
    assert!(
        (perf(&v, &format!("{SERVER}:/vicepa")) - pct).abs() < 0.5,
        "{v}"
    );
    assert!(
        details(&v)[0].starts_with(&format!("{SERVER} /vicepa ")),
        "{v}"
    );

    // bosserver instances
    let v = cell.check_afs(&["bos", "-H", SERVER]);
    assert_eq!(v["state"], "OK", "{v}");
    assert_eq!(summary(&v), "1 instances running normally");
    assert_eq!(
        details(&v),
        [format!(
            "{SERVER} fs currently running normally (file server running)"
        )]
    );
    cell.tool("bos", &["shutdown", SERVER, "fs", "-wait", "-noauth"]);
    let v = cell.check_afs(&["bos", "-H", SERVER]);
    assert_eq!(v["state"], "CRITICAL", "{v}");
    assert_eq!(
        summary(&v),
        format!("{SERVER} fs temporarily disabled, currently shutdown (file server shut down)")
    );
}

#[test]
fn hosts_never_echoed_raw() {
    // the rendering: the exact Nagios line
    let r = hcoop_tests::plugin("check_afs", &["rx", "-H", "fs\nx", "-p", "7000"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert_eq!(
        r.stdout,
        "AFS UNKNOWN - invalid host 'fs\\nx': '\\n' is not allowed in a host name\n"
    );
    // a 100 KB host name: one line of 261 characters, the name cut at 200
    let long = "a".repeat(100_000);
    let message = format!(
        "invalid host '{}... (100000 bytes)': longer than 253 characters",
        &long[..200]
    );
    for mode in ["rx", "rxstats", "ubik", "quota", "space", "bos"] {
        assert_refused_json("check_afs", &[mode, "-H", &long], &message);
    }
}
