//! check_dns_serial against a real BIND master and slave (see `hcoop_tests::bind`).

use hcoop_tests::bind::{master_and_slave, Named, ZoneSpec, MASTER_IP, SLAVE_IP};
use hcoop_tests::{plugin, plugin_json, Run};
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

/// Runs check_dns_serial with [`args`] and a 5 s timeout.
fn check(m: &Named, state: &tempfile::TempDir, extra: &[&str]) -> Run {
    let mut extra = extra.to_vec();
    extra.extend(["-t", "5"]);
    let a = args(m, state, &extra);
    plugin(
        "check_dns_serial",
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
    )
}

fn perf_of(r: &Run) -> &str {
    r.first_line().split_once(" | ").map_or("", |(_, p)| p)
}

fn summary_of(r: &Run) -> &str {
    r.first_line()
        .split_once(" | ")
        .map_or(r.first_line(), |(s, _)| s)
}

#[test]
fn all_in_sync_from_arguments_named_conf_and_mname() {
    let (m, _s) = master_and_slave(&zones(3));
    let state = tempfile::tempdir().unwrap();
    let r = check(
        &m,
        &state,
        &["z000.test", "z001.test", "Z002.test.", "hcoop.test"],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(
        summary_of(&r),
        "DNS_SERIAL OK - 4 zones in sync on 2 servers"
    );
    assert!(
        perf_of(&r).starts_with("zones=4;;;0 out_of_sync=0;;;0 lame=0;;;0 max_delta=0;0;;0 time="),
        "{}",
        r.stdout
    );
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);

    // the master's own named.conf: its four master zones
    let conf = m.conf();
    let r = check(&m, &state, &["--named-conf", conf.to_str().unwrap()]);
    assert_eq!(
        summary_of(&r),
        "DNS_SERIAL OK - 4 zones in sync on 2 servers"
    );

    // no -m: the master is the SOA MNAME (ns1.hcoop.test), found through a resolver
    let port = m.port.to_string();
    let resolver = format!("{MASTER_IP}:{port}");
    let state_dir = state.path().to_str().unwrap();
    let r = plugin(
        "check_dns_serial",
        &[
            "--resolver",
            &resolver,
            "-p",
            &port,
            "--state-dir",
            state_dir,
            "z001.test",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(
        summary_of(&r),
        "DNS_SERIAL OK - 1 zone in sync on 2 servers"
    );
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
    let r = check(&m, &state, &["--grace", "1", "a.test", "b.test"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(
        summary_of(&r),
        "DNS_SERIAL OK - 2 zones in sync on 2 servers, 1 catching up"
    );
    assert_eq!(
        r.stdout.lines().nth(1).unwrap(),
        format!("[OK] a.test: {who} serial 10 is 2 behind the master's 12 for 0s (grace 1s)")
    );
    std::thread::sleep(Duration::from_millis(2100));
    let r = check(&m, &state, &["--grace", "1", "a.test", "b.test"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(
        summary_of(&r),
        "DNS_SERIAL WARNING - 1 zone out of sync: a.test (of 2 zones on 2 servers)"
    );
    let line = r.stdout.lines().nth(1).unwrap();
    assert!(
        line.starts_with(&format!(
            "[WARNING] a.test: {who} serial 10 is 2 behind the master's 12 for "
        )),
        "{line}"
    );
    assert!(
        perf_of(&r).contains("out_of_sync=1;;;0 lame=0;;;0 max_delta=2;0;;0"),
        "{}",
        r.stdout
    );
    // a critical range: 2 behind is outside 0..1
    let a = args(
        &m,
        &state,
        &["-t", "5", "--grace", "1", "-c", "1", "a.test", "b.test"],
    );
    let v = plugin_json(
        "check_dns_serial",
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(v["state"], "CRITICAL");
    assert_eq!(v["perfdata"][3]["label"], "max_delta");
    assert_eq!(v["perfdata"][3]["value"], 2);
    // exactly one state file, written atomically (no temporary left)
    let files: Vec<_> = std::fs::read_dir(state.path()).unwrap().collect();
    assert_eq!(files.len(), 1);
}

#[test]
fn frozen_slave_is_lame_within_the_timeout() {
    let (m, s) = master_and_slave(&zones(3));
    s.freeze();
    let state = tempfile::tempdir().unwrap();
    let port = m.port.to_string();
    let start = Instant::now();
    let a = args(
        &m,
        &state,
        &["-t", "2", "z000.test", "z001.test", "z002.test"],
    );
    let r = plugin(
        "check_dns_serial",
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let took = start.elapsed();
    s.thaw();
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(took < Duration::from_millis(2400), "took {took:?}");
    assert_eq!(
        summary_of(&r),
        "DNS_SERIAL CRITICAL - 3 zones with lame servers: z000.test, z001.test, z002.test (of 3 zones on 2 servers)"
    );
    for (i, line) in r.stdout.lines().skip(1).enumerate() {
        assert!(
            line.starts_with(&format!(
                "[CRITICAL] z00{i}.test: ns2.hcoop.test ({SLAVE_IP}:{port}) is lame: "
            )),
            "{line}"
        );
        assert!(
            line.contains("no answer within") || line.contains("not answering"),
            "{line}"
        );
    }
}

#[test]
fn slave_without_the_zone_is_lame() {
    let (m, _s) = master_and_slave(&[
        ZoneSpec::new("a.test", 1),
        ZoneSpec::new("b.test", 1).master_only(),
    ]);
    let state = tempfile::tempdir().unwrap();
    let r = check(&m, &state, &["a.test", "b.test"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert_eq!(
        summary_of(&r),
        "DNS_SERIAL CRITICAL - 1 zone with lame servers: b.test (of 2 zones on 2 servers)"
    );
    assert_eq!(
        r.stdout.lines().nth(1).unwrap(),
        format!(
            "[CRITICAL] b.test: ns2.hcoop.test ({SLAVE_IP}:{}) is lame: REFUSED",
            m.port
        )
    );
    assert!(perf_of(&r).contains("lame=1;;;0"), "{}", r.stdout);
}

#[test]
fn serial_wrap_is_behind_not_ahead() {
    let (mut m, s) = master_and_slave(&[ZoneSpec::new("w.test", 4_294_967_295)]);
    m.set_serial("w.test", 1);
    assert_eq!(s.serial("w.test"), Some(4_294_967_295));
    let state = tempfile::tempdir().unwrap();
    let r = check(&m, &state, &["--grace", "0", "w.test"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(
        r.stdout.lines().nth(1).unwrap(),
        format!(
            "[WARNING] w.test: ns2.hcoop.test ({SLAVE_IP}:{}) serial 4294967295 is 2 behind the master's 1 for 0s",
            m.port
        )
    );
    assert!(perf_of(&r).contains("max_delta=2;0;;0"), "{}", r.stdout);
}

#[test]
fn five_hundred_zones() {
    let (m, _s) = master_and_slave(&zones(500));
    let state = tempfile::tempdir().unwrap();
    let list = state.path().join("zones.txt");
    let text: String = (0..500).map(|i| format!("z{i:03}.test\n")).collect();
    std::fs::write(&list, text).unwrap();
    let r = check(&m, &state, &["--zones-from", list.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(
        summary_of(&r),
        "DNS_SERIAL OK - 500 zones in sync on 2 servers"
    );
}

#[test]
fn bad_input_is_one_line_exit_3() {
    for (args, line) in [
        (
            vec![],
            "DNS_SERIAL UNKNOWN - no zones: name them, or give --zones-from FILE or --named-conf FILE",
        ),
        (
            vec!["--zones-from", "/nonexistent/zones"],
            "DNS_SERIAL UNKNOWN - cannot read /nonexistent/zones: No such file or directory (os error 2)",
        ),
        (
            vec!["--zones-from", "/dev/zero"],
            "DNS_SERIAL UNKNOWN - cannot read /dev/zero: larger than 16777216 bytes",
        ),
        (
            vec!["a.test", "-w", "5:1"],
            "DNS_SERIAL UNKNOWN - invalid value '5:1' for '--warning <RANGE>': invalid range '5:1': start is greater than end",
        ),
    ] {
        let r = plugin("check_dns_serial", &args);
        assert_eq!(r.code, 3, "{args:?}: {}", r.stdout);
        assert_eq!(r.stdout, format!("{line}\n"), "{args:?}");
    }
}

#[test]
fn port_zero_and_hosts_never_echoed_raw() {
    let state = tempfile::tempdir().unwrap();
    let dir = state.path().to_str().unwrap();
    let r = plugin(
        "check_dns_serial",
        &["-m", "127.0.0.1", "-p", "0", "--state-dir", dir, "a.test"],
    );
    assert_eq!(r.code, 3, "{}", r.stdout);
    assert_eq!(
        r.stdout,
        "DNS_SERIAL UNKNOWN - invalid value '0' for '--port <PORT>': port 0 is out of range (1-65535)\n"
    );
    let r = plugin(
        "check_dns_serial",
        &["-m", "ns1\nx", "--state-dir", dir, "a.test"],
    );
    assert_eq!(r.code, 3, "{}", r.stdout);
    assert_eq!(
        r.stdout,
        "DNS_SERIAL UNKNOWN - invalid host 'ns1\\nx': '\\n' is not allowed in a host name\n"
    );
    let long = "a".repeat(100_000);
    for args in [
        ["-m", long.as_str(), "a.test"],
        ["-s", long.as_str(), "a.test"],
        ["-m", "127.0.0.1", long.as_str()],
    ] {
        let r = plugin("check_dns_serial", &args);
        assert_eq!(r.code, 3, "{args:?}: {}", r.stdout);
        assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
        assert!(r.stdout.len() < 600, "{} bytes", r.stdout.len());
    }
}
