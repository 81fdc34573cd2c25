//! check_dns_serial against a real BIND master and slave (see `hcoop_tests::bind`).
//! Results are compared in the JSON output (`--output-format json`); the lame slave's
//! run compares the Nagios text, and bad input, refused before any output format
//! applies, is compared as the one line it prints.

use hcoop_tests::bind::{master_and_slave, Named, ZoneSpec, MASTER_IP, SLAVE_IP};
use hcoop_tests::{assert_refused_json, plugin, plugin_json};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn zones(n: u32) -> Vec<ZoneSpec> {
    (0..n)
        .map(|i| ZoneSpec::new(&format!("z{i:03}.test"), 2_024_010_100 + i))
        .collect()
}

/// The options that point check_dns_serial at the master of `m` (also the resolver for
/// the name servers' addresses) with a state directory, then `extra`.
fn args(m: &Named, state: &tempfile::TempDir, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = vec![
        "-m".into(),
        MASTER_IP.into(),
        "-p".into(),
        m.port.to_string(),
        "--resolver".into(),
        format!("{MASTER_IP}:{}", m.port),
        "--state-dir".into(),
        state.path().to_str().unwrap().into(),
    ];
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

/// Runs check_dns_serial with `args`: its JSON object.
fn json_run(args: &[String]) -> Value {
    plugin_json(
        "check_dns_serial",
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    )
}

/// Runs check_dns_serial with [`args`] and a 5 s timeout: its JSON object.
fn check(m: &Named, state: &tempfile::TempDir, extra: &[&str]) -> Value {
    let mut extra = extra.to_vec();
    extra.extend(["-t", "5"]);
    json_run(&args(m, state, &extra))
}

/// The state and summary, with the whole object shown when they differ.
fn assert_result(v: &Value, state: &str, summary: &str) {
    assert_eq!(
        (&v["state"], &v["summary"]),
        (&json!(state), &json!(summary)),
        "{v}"
    );
}

/// The perfdata: the counts of zones, zones out of sync and lame, the largest distance
/// of a serial (with -w 0 and the critical level `crit`), then the time of the run.
fn assert_counts(v: &Value, [zones, out_of_sync, lame, max_delta]: [u64; 4], crit: Value) {
    let time = v["perfdata"][4]["value"].as_f64().unwrap_or(-1.0);
    assert!((0.0..10.0).contains(&time), "{v}");
    let count = |label: &str, value: u64| {
        json!({"label": label, "value": value, "uom": "", "warn": null, "crit": null,
               "min": 0, "max": null})
    };
    assert_eq!(
        v["perfdata"],
        json!([
            count("zones", zones),
            count("out_of_sync", out_of_sync),
            count("lame", lame),
            {"label": "max_delta", "value": max_delta, "uom": "", "warn": "0", "crit": crit,
             "min": 0, "max": null},
            {"label": "time", "value": time, "uom": "s", "warn": null, "crit": null,
             "min": 0, "max": null},
        ]),
        "{v}"
    );
}

/// The long output line `i`: its state and text.
fn line(v: &Value, i: usize) -> (&str, &str) {
    let d = &v["details"][i];
    (
        d["state"].as_str().unwrap_or("none"),
        d["text"].as_str().unwrap_or("none"),
    )
}

#[test]
fn all_in_sync_from_arguments_named_conf_and_mname() {
    let (m, _s) = master_and_slave(&zones(3));
    let state = tempfile::tempdir().unwrap();
    let v = check(
        &m,
        &state,
        &["z000.test", "z001.test", "Z002.test.", "hcoop.test"],
    );
    assert_result(&v, "OK", "4 zones in sync on 2 servers");
    assert_counts(&v, [4, 0, 0, 0], Value::Null);
    assert_eq!(v["details"], json!([]), "{v}");

    // the master's own named.conf: its four master zones
    let conf = m.conf();
    let v = check(&m, &state, &["--named-conf", conf.to_str().unwrap()]);
    assert_result(&v, "OK", "4 zones in sync on 2 servers");

    // no -m: the master is the SOA MNAME (ns1.hcoop.test), found through a resolver
    let v = json_run(&[
        "--resolver".into(),
        format!("{MASTER_IP}:{}", m.port),
        "-p".into(),
        m.port.to_string(),
        "--state-dir".into(),
        state.path().to_str().unwrap().into(),
        "z001.test".into(),
    ]);
    assert_result(&v, "OK", "1 zone in sync on 2 servers");
}

#[test]
fn slave_behind_within_then_past_the_grace() {
    let (mut m, s) = master_and_slave(&[ZoneSpec::new("a.test", 10), ZoneSpec::new("b.test", 20)]);
    m.set_serial("a.test", 12);
    assert_eq!(
        s.serial("a.test"),
        Some(10),
        "the slave must not be notified"
    );
    let state = tempfile::tempdir().unwrap();
    let who = format!("ns2.hcoop.test ({SLAVE_IP}:{})", m.port);
    let v = check(&m, &state, &["--grace", "1", "a.test", "b.test"]);
    assert_result(&v, "OK", "2 zones in sync on 2 servers, 1 catching up");
    assert_eq!(
        line(&v, 0),
        (
            "OK",
            format!("a.test: {who} serial 10 is 2 behind the master's 12 for 0s (grace 1s)")
                .as_str()
        )
    );
    std::thread::sleep(Duration::from_millis(2100));
    let v = check(&m, &state, &["--grace", "1", "a.test", "b.test"]);
    assert_result(
        &v,
        "WARNING",
        "1 zone out of sync: a.test (of 2 zones on 2 servers)",
    );
    let (state_of, text) = line(&v, 0);
    assert_eq!(state_of, "WARNING", "{v}");
    assert!(
        text.starts_with(&format!(
            "a.test: {who} serial 10 is 2 behind the master's 12 for "
        )),
        "{text}"
    );
    assert_counts(&v, [2, 1, 0, 2], Value::Null);
    // a critical range: 2 behind is outside 0..1
    let v = check(&m, &state, &["--grace", "1", "-c", "1", "a.test", "b.test"]);
    assert_eq!(v["state"], "CRITICAL", "{v}");
    assert_counts(&v, [2, 1, 0, 2], json!("1"));
    // exactly one state file, written atomically (no temporary left)
    let files: Vec<_> = std::fs::read_dir(state.path()).unwrap().collect();
    assert_eq!(files.len(), 1);
}

#[test]
fn frozen_slave_is_lame_within_the_timeout() {
    let (m, s) = master_and_slave(&zones(3));
    s.freeze();
    let state = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let v = json_run(&args(
        &m,
        &state,
        &["-t", "2", "z000.test", "z001.test", "z002.test"],
    ));
    let took = start.elapsed();
    s.thaw();
    assert!(took < Duration::from_millis(2400), "took {took:?}");
    assert_result(
        &v,
        "CRITICAL",
        "3 zones with lame servers: z000.test, z001.test, z002.test (of 3 zones on 2 servers)",
    );
    let lines = v["details"].as_array().map_or(0, Vec::len);
    assert_eq!(lines, 3, "{v}");
    for i in 0..lines {
        let (state_of, text) = line(&v, i);
        assert_eq!(state_of, "CRITICAL", "{v}");
        assert!(
            text.starts_with(&format!(
                "z00{i}.test: ns2.hcoop.test ({SLAVE_IP}:{}) is lame: ",
                m.port
            )),
            "{text}"
        );
        assert!(
            text.contains("no answer within") || text.contains("not answering"),
            "{text}"
        );
    }
}

/// The rendering: the Nagios text of a lame slave, but for the time the run took.
#[test]
fn slave_without_the_zone_is_lame() {
    let (m, _s) = master_and_slave(&[
        ZoneSpec::new("a.test", 1),
        ZoneSpec::new("b.test", 1).master_only(),
    ]);
    let state = tempfile::tempdir().unwrap();
    let a = args(&m, &state, &["-t", "5", "a.test", "b.test"]);
    let r = plugin(
        "check_dns_serial",
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    // the time metric varies: its value is left out
    let (head, rest) = r.stdout.split_once(" time=").unwrap_or_default();
    let rest = rest.split_once("s;;;0").map_or("", |(_, t)| t);
    assert_eq!(
        format!("{head} time=Ts;;;0{rest}"),
        format!(
            "DNS_SERIAL CRITICAL - 1 zone with lame servers: b.test (of 2 zones on 2 servers) | zones=2;;;0 out_of_sync=0;;;0 lame=1;;;0 max_delta=0;0;;0 time=Ts;;;0\n\
             [CRITICAL] b.test: ns2.hcoop.test ({SLAVE_IP}:{}) is lame: REFUSED\n",
            m.port
        )
    );
}

#[test]
fn serial_wrap_is_behind_not_ahead() {
    let (mut m, s) = master_and_slave(&[ZoneSpec::new("w.test", 4_294_967_295)]);
    m.set_serial("w.test", 1);
    assert_eq!(s.serial("w.test"), Some(4_294_967_295));
    let state = tempfile::tempdir().unwrap();
    let v = check(&m, &state, &["--grace", "0", "w.test"]);
    assert_eq!(v["state"], "WARNING", "{v}");
    let text = format!(
        "w.test: ns2.hcoop.test ({SLAVE_IP}:{}) serial 4294967295 is 2 behind the master's 1 for 0s",
        m.port
    );
    assert_eq!(line(&v, 0), ("WARNING", text.as_str()));
    assert_counts(&v, [1, 1, 0, 2], Value::Null);
}

#[test]
fn five_hundred_zones() {
    let (m, _s) = master_and_slave(&zones(500));
    let state = tempfile::tempdir().unwrap();
    let list = state.path().join("zones.txt");
    let text: String = (0..500).map(|i| format!("z{i:03}.test\n")).collect();
    std::fs::write(&list, text).unwrap();
    let v = check(&m, &state, &["--zones-from", list.to_str().unwrap()]);
    assert_result(&v, "OK", "500 zones in sync on 2 servers");
}

/// What check_dns_serial itself refuses, in JSON: UNKNOWN, the summary naming the
/// problem (a host never echoed raw), nothing else.
#[test]
fn bad_input_is_refused_in_one_summary() {
    for (args, message) in [
        (
            &[][..],
            "no zones: name them, or give --zones-from FILE or --named-conf FILE",
        ),
        (
            &["--zones-from", "/nonexistent/zones"],
            "cannot read /nonexistent/zones: No such file or directory (os error 2)",
        ),
        (
            &["--zones-from", "/dev/zero"],
            "cannot read /dev/zero: larger than 16777216 bytes",
        ),
        (
            &["-m", "ns1\nx", "a.test"],
            "invalid host 'ns1\\nx': '\\n' is not allowed in a host name",
        ),
    ] {
        assert_refused_json("check_dns_serial", args, message);
    }
    // 100 KB host and zone names: one short line, cut
    let long = "a".repeat(100_000);
    for args in [
        ["-m", long.as_str(), "a.test"],
        ["-s", long.as_str(), "a.test"],
        ["-m", "127.0.0.1", long.as_str()],
    ] {
        let v = plugin_json("check_dns_serial", &args);
        assert_eq!(v["state"], "UNKNOWN", "{args:?}");
        let text = v["text"].as_str().unwrap_or_default();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.len() < 600, "{} bytes", text.len());
    }
}

/// What the command line itself refuses, before any output format applies: one line.
#[test]
fn bad_command_lines_are_one_line_exit_3() {
    for (args, line) in [
        (
            vec!["a.test", "-w", "5:1"],
            "DNS_SERIAL UNKNOWN - invalid value '5:1' for '--warning <RANGE>': invalid range '5:1': start is greater than end",
        ),
        (
            vec!["-m", "127.0.0.1", "-p", "0", "a.test"],
            "DNS_SERIAL UNKNOWN - invalid value '0' for '--port <PORT>': port 0 is out of range (1-65535)",
        ),
    ] {
        let r = plugin("check_dns_serial", &args);
        assert_eq!(r.code, 3, "{args:?}: {}", r.stdout);
        assert_eq!(r.stdout, format!("{line}\n"), "{args:?}");
    }
}
