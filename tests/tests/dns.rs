//! check_dns against a real BIND server (see `hcoop_tests::bind`), and against fake
//! servers for what a real one does not do on demand: never answer, answer garbage.
//! Results are compared in the JSON output (`--output-format json`); the silent server's
//! run compares the Nagios text line, and bad input, refused before any output format
//! applies, is compared as the one line it prints.

use hcoop_tests::bind::{Named, ZoneSpec, MASTER_IP};
use hcoop_tests::usage::assert_one_unknown_line;
use hcoop_tests::{assert_refused_json, json_of, plugin, plugin_json};
use serde_json::{json, Value};
use std::net::UdpSocket;
use std::time::{Duration, Instant};

/// A master serving `example.test` with A, MX, CNAME and TXT records, one name whose
/// TXT records do not fit in a UDP answer.
fn server() -> Named {
    let big: String = (0..10)
        .map(|i| format!("big IN TXT \"{}{}\"\n", i, "x".repeat(200)))
        .collect();
    let zone = ZoneSpec::new("example.test", 7).records(&format!(
        "www IN A 192.0.2.1\nwww IN A 192.0.2.2\n@ IN MX 10 mail.example.test.\nmail IN A 192.0.2.25\nalias IN CNAME www\ntxt IN TXT \"v=spf1 -all\"\n{big}"
    ));
    Named::master(hcoop_tests::free_port(), &[zone])
}

/// check_dns asking the server of `n` (5 s), then `args`: its JSON object.
fn dns(n: &Named, args: &[&str]) -> Value {
    let port = n.port.to_string();
    let mut all = vec!["-s", MASTER_IP, "-p", &port, "-t", "5"];
    all.extend_from_slice(args);
    plugin_json("check_dns", &all)
}

/// The arguments that ask a fake server on 127.0.0.1 `port` about www.example.test, then
/// `extra`.
fn at_fake<'a>(port: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["-H", "www.example.test", "-s", "127.0.0.1", "-p", port];
    v.extend_from_slice(extra);
    v
}

/// The state, with the whole object shown when it differs.
fn assert_state(v: &Value, state: &str) {
    assert_eq!(v["state"], state, "{v}");
}

/// The summary, its response time (it varies) written `T`.
fn summary(v: &Value) -> String {
    let s = v["summary"].as_str().unwrap_or_default();
    match s.split_once("s response time") {
        Some((head, tail)) => {
            let cut = head.rfind(' ').map_or(0, |i| i + 1);
            format!("{}Ts response time{tail}", &head[..cut])
        }
        None => s.to_string(),
    }
}

/// The one metric, the response time: in seconds, with the levels `warn` and `crit`
/// (`null` when not given), from 0.
fn assert_time_perf(v: &Value, warn: Value, crit: Value) {
    let time = v["perfdata"][0]["value"].as_f64().unwrap_or(-1.0);
    assert!((0.0..5.0).contains(&time), "{v}");
    assert_eq!(
        v["perfdata"],
        json!([{"label": "time", "value": time, "uom": "s", "warn": warn, "crit": crit,
                "min": 0, "max": null}]),
        "{v}"
    );
}

#[test]
fn answers_expected_and_unexpected() {
    let n = server();
    let from = format!("{MASTER_IP}:{}", n.port);
    let v = dns(&n, &["-H", "www.example.test", "-a", "192.0.2.1"]);
    assert_state(&v, "OK");
    let s = summary(&v);
    assert!(
        s == format!("Ts response time, www.example.test A returns 192.0.2.1, 192.0.2.2 (from {from}, authoritative)")
            || s == format!("Ts response time, www.example.test A returns 192.0.2.2, 192.0.2.1 (from {from}, authoritative)"),
        "{s}"
    );
    assert_time_perf(&v, Value::Null, Value::Null);
    assert_eq!(v["details"], json!([]), "{v}");

    // -L: every answer must be expected
    let v = dns(&n, &["-H", "www.example.test", "-a", "192.0.2.1", "-L"]);
    assert_state(&v, "CRITICAL");
    assert!(
        summary(&v).starts_with("expected '192.0.2.1' but got '192.0.2."),
        "{v}"
    );
    let v = dns(
        &n,
        &[
            "-H",
            "www.example.test",
            "-a",
            "192.0.2.2,192.0.2.1",
            "-L",
            "-A",
        ],
    );
    assert_state(&v, "OK");
    let v = dns(&n, &["-H", "www.example.test", "-a", "192.0.2.0/24", "-L"]);
    assert_state(&v, "OK");

    // unexpected
    let v = dns(&n, &["-H", "www.example.test", "-a", "198.51.100.1"]);
    assert_state(&v, "CRITICAL");
    assert!(
        summary(&v).starts_with("expected '198.51.100.1' but got "),
        "{v}"
    );

    // a CNAME on the way counts as an answer, as in check_dns
    let v = dns(&n, &["-H", "alias.example.test", "-a", "www.example.test."]);
    assert_state(&v, "OK");

    // MX, by record text or by target
    let v = dns(
        &n,
        &["-H", "example.test", "-q", "MX", "-a", "mail.example.test."],
    );
    assert_state(&v, "OK");
    assert_eq!(
        summary(&v),
        format!("Ts response time, example.test MX returns 10 mail.example.test. (from {from}, authoritative)")
    );
    let v = dns(
        &n,
        &[
            "-H",
            "example.test",
            "-T",
            "mx",
            "-a",
            "20 mail.example.test",
        ],
    );
    assert_state(&v, "CRITICAL");

    // TXT, and no record of the asked type
    let v = dns(
        &n,
        &["-H", "txt.example.test", "-q", "TXT", "-a", "v=spf1 -all"],
    );
    assert_state(&v, "OK");
    let v = dns(&n, &["-H", "txt.example.test", "-q", "AAAA"]);
    assert_state(&v, "CRITICAL");
    assert_eq!(
        summary(&v),
        format!("no AAAA record for txt.example.test at {from}")
    );
}

#[test]
fn response_time_levels_in_seconds_ranges_and_units() {
    let n = server();
    // an impossible range
    let v = dns(&n, &["-H", "www.example.test", "-w", "@0:100"]);
    assert_state(&v, "WARNING");
    assert_time_perf(&v, json!("@0:100"), Value::Null);
    // plain numbers, as ever, and units: 500ms is 0.5 s
    let v = dns(&n, &["-H", "www.example.test", "-w", "500ms", "-c", "2"]);
    assert_state(&v, "OK");
    assert_time_perf(&v, json!("0.5"), json!("2"));
    let v = dns(&n, &["-H", "www.example.test", "-c", "@0:5s"]);
    assert_state(&v, "CRITICAL");
    assert_time_perf(&v, Value::Null, json!("@0:5"));
}

#[test]
fn nxdomain_expected_or_not() {
    let n = server();
    let from = format!("{MASTER_IP}:{}", n.port);
    let v = dns(&n, &["-H", "nope.example.test"]);
    assert_state(&v, "CRITICAL");
    assert_eq!(
        summary(&v),
        format!("domain 'nope.example.test' was not found by {from} (NXDOMAIN)")
    );
    let v = dns(&n, &["-H", "nope.example.test", "-n"]);
    assert_state(&v, "OK");
    assert_eq!(
        summary(&v),
        format!("Ts response time, nope.example.test does not exist (NXDOMAIN from {from}), as expected")
    );
    let v = dns(&n, &["-H", "www.example.test", "-n"]);
    assert_state(&v, "CRITICAL");
    assert!(
        summary(&v).starts_with("Domain 'www.example.test' was found by the server: "),
        "{v}"
    );
    // a zone the server does not have
    let v = dns(&n, &["-H", "www.elsewhere.test"]);
    assert_state(&v, "CRITICAL");
    assert_eq!(
        summary(&v),
        format!("{from} answered REFUSED for www.elsewhere.test A")
    );
}

#[test]
fn tcp_only_and_fallback_on_truncation() {
    let n = server();
    let from = format!("{MASTER_IP}:{}", n.port);
    let v = dns(&n, &["-H", "www.example.test", "--tcp", "-a", "192.0.2.1"]);
    assert_state(&v, "OK");
    assert!(
        summary(&v).ends_with(&format!("(from {from} over TCP, authoritative)")),
        "{v}"
    );
    // ten 200-byte TXT records do not fit in 1232 bytes: asked again over TCP
    let v = dns(&n, &["-H", "big.example.test", "-q", "TXT"]);
    assert_state(&v, "OK");
    assert!(
        summary(&v).ends_with(&format!("(from {from} over TCP, authoritative)")),
        "{v}"
    );
    assert_eq!(summary(&v).matches("xxxxxxxxxx, ").count(), 9, "{v}");
}

#[test]
fn dnssec_needs_a_validating_resolver() {
    let n = server();
    let from = format!("{MASTER_IP}:{}", n.port);
    // an authoritative server does not set AD: the answer is not validated
    let v = dns(&n, &["-H", "www.example.test", "--dnssec"]);
    assert_state(&v, "CRITICAL");
    assert_eq!(
        summary(&v),
        format!(
            "the answer for www.example.test A from {from} is not DNSSEC-validated (no AD bit)"
        )
    );
}

/// The rendering: the whole Nagios text of a server that never answers.
#[test]
fn silent_server_is_critical_within_the_timeout() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    let start = Instant::now();
    let r = plugin("check_dns", &at_fake(&port, &["-t", "2"]));
    let took = start.elapsed();
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert_eq!(
        r.stdout,
        format!("DNS CRITICAL - 127.0.0.1:{port}: no answer within 1.8s\n")
    );
    assert!(took < Duration::from_millis(2300), "took {took:?}");
    // nothing listening over TCP: refused at once
    let v = plugin_json("check_dns", &at_fake(&port, &["--tcp"]));
    assert_state(&v, "CRITICAL");
    assert_eq!(
        v["summary"],
        format!("127.0.0.1:{port}: tcp connect: connection refused")
    );
    assert_eq!((&v["details"], &v["perfdata"]), (&json!([]), &json!([])));
}

#[test]
fn garbage_answer_is_critical() {
    let fake = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = fake.local_addr().unwrap().port().to_string();
    let t = std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        if let Ok((_, peer)) = fake.recv_from(&mut buf) {
            // our id, then noise
            let _ = fake.send_to(&[buf[0], buf[1], 0x81, 0x80, 0xff, 0xff, 1, 2, 3], peer);
        }
    });
    let start = Instant::now();
    let v = plugin_json("check_dns", &at_fake(&port, &["-t", "5"]));
    t.join().unwrap();
    assert_state(&v, "CRITICAL");
    let s = v["summary"].as_str().unwrap_or_default();
    assert!(
        s.starts_with(&format!("127.0.0.1:{port}: malformed answer: ")),
        "{v}"
    );
    assert_eq!((&v["details"], &v["perfdata"]), (&json!([]), &json!([])));
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn system_resolver_from_resolv_conf() {
    let n = server();
    let unshare = hcoop_tests::require("unshare", "util-linux");
    let conf = n.dir.path().join("resolv.conf");
    std::fs::write(&conf, format!("# test\nnameserver {MASTER_IP}\n")).unwrap();
    let ours = hcoop_tests::bin("check_dns");
    // a private mount namespace in which /etc/resolv.conf names the test server
    let script = format!(
        "mount --bind {} /etc/resolv.conf && exec {} -H www.example.test -p {} -a 192.0.2.1 --output-format json",
        conf.display(),
        ours.display(),
        n.port
    );
    let args = ["-m", "sh", "-c", &script];
    let r = hcoop_tests::run(&unshare, &args);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    let v = json_of("check_dns", &args, &r);
    assert_state(&v, "OK");
    assert!(
        summary(&v).ends_with(&format!("(from {MASTER_IP}:{}, authoritative)", n.port)),
        "{v}"
    );
}

/// What check_dns itself refuses, in JSON: UNKNOWN, the summary naming the problem
/// (a name never echoed raw), nothing else.
#[test]
fn bad_input_is_refused_in_one_summary() {
    for (args, message) in [
        (
            &["-H", "x.test", "-q", "BOGUS"][..],
            "unknown query type 'BOGUS': use one of A, AAAA, MX, NS, TXT, SOA, CNAME, PTR, SRV, CAA",
        ),
        (
            &["-H", "x.test", "-a", "10.0.0.0/40"],
            "invalid network '10.0.0.0/40': prefix must be 0 to 32",
        ),
        (
            &["-H", "www\nx.test", "-s", "127.0.0.1"],
            "invalid host 'www\\nx.test': '\\n' is not allowed in a host name",
        ),
        (
            &["-H", "x.test", "-s", "ns\n1"],
            "-s: invalid host 'ns\\n1': '\\n' is not allowed in a host name",
        ),
    ] {
        assert_refused_json("check_dns", args, message);
    }
    // a 100 KB name: one short line, cut
    let long = "a".repeat(100_000);
    for args in [
        ["-H", long.as_str(), "-s", "127.0.0.1"],
        ["-H", "x.test", "-s", long.as_str()],
    ] {
        let v = plugin_json("check_dns", &args);
        assert_eq!(v["state"], "UNKNOWN");
        let text = v["text"].as_str().unwrap_or_default();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.len() <= 400, "{} bytes", text.len());
        assert!(text.ends_with("longer than 253 characters\n"), "{text}");
    }
}

/// What the command line itself refuses, before any output format applies: one line.
#[test]
fn bad_command_lines_are_one_line_exit_3() {
    for (args, line) in [
        (
            vec!["-H", "x.test", "-w", "3:1"],
            "DNS UNKNOWN - invalid value '3:1' for '--warning <SECONDS>': invalid range '3:1': start is greater than end",
        ),
        (
            vec!["-H", "x.test", "-s", "127.0.0.1", "-p", "0"],
            "DNS UNKNOWN - invalid value '0' for '--port <PORT>': port 0 is out of range (1-65535)",
        ),
    ] {
        let r = plugin("check_dns", &args);
        assert_eq!(r.code, 3, "{args:?}: {}", r.stdout);
        assert_eq!(r.stdout, format!("{line}\n"), "{args:?}");
    }
    assert_one_unknown_line(
        "check_dns",
        "DNS",
        &[(&[], "the following required arguments were not provided")],
    );
}
