//! check_dns against a real BIND server (see `hcoop_tests::bind`), and against fake
//! servers for what a real one does not do on demand: never answer, answer garbage.

use hcoop_tests::bind::{Named, ZoneSpec, MASTER_IP};
use hcoop_tests::{plugin, Run};
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

fn dns(n: &Named, args: &[&str]) -> Run {
    let port = n.port.to_string();
    let mut all = vec!["-s", MASTER_IP, "-p", &port, "-t", "5"];
    all.extend_from_slice(args);
    plugin("check_dns", &all)
}

fn summary(r: &Run) -> String {
    let s = r
        .first_line()
        .split_once(" | ")
        .map_or(r.first_line(), |(s, _)| s);
    // the response time varies: replace it
    match s.split_once("s response time") {
        Some((head, tail)) => {
            let cut = head.rfind(' ').map_or(0, |i| i + 1);
            format!("{}Ts response time{tail}", &head[..cut])
        }
        None => s.to_string(),
    }
}

#[test]
fn answers_expected_and_unexpected() {
    let n = server();
    let from = format!("{MASTER_IP}:{}", n.port);
    let r = dns(&n, &["-H", "www.example.test", "-a", "192.0.2.1"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let s = summary(&r);
    assert!(
        s == format!("DNS OK - Ts response time, www.example.test A returns 192.0.2.1, 192.0.2.2 (from {from}, authoritative)")
            || s == format!("DNS OK - Ts response time, www.example.test A returns 192.0.2.2, 192.0.2.1 (from {from}, authoritative)"),
        "{s}"
    );
    assert!(r.first_line().contains(" | time="), "{}", r.stdout);
    assert!(r.first_line().ends_with("s;;;0"), "{}", r.stdout);

    // -L: every answer must be expected
    let r = dns(&n, &["-H", "www.example.test", "-a", "192.0.2.1", "-L"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        summary(&r).starts_with("DNS CRITICAL - expected '192.0.2.1' but got '192.0.2."),
        "{}",
        r.stdout
    );
    let r = dns(
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
    assert_eq!(r.code, 0, "{}", r.stdout);
    let r = dns(&n, &["-H", "www.example.test", "-a", "192.0.2.0/24", "-L"]);
    assert_eq!(r.code, 0, "{}", r.stdout);

    // unexpected
    let r = dns(&n, &["-H", "www.example.test", "-a", "198.51.100.1"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        summary(&r).starts_with("DNS CRITICAL - expected '198.51.100.1' but got "),
        "{}",
        r.stdout
    );

    // a CNAME on the way counts as an answer, as in check_dns
    let r = dns(&n, &["-H", "alias.example.test", "-a", "www.example.test."]);
    assert_eq!(r.code, 0, "{}", r.stdout);

    // MX, by record text or by target
    let r = dns(
        &n,
        &["-H", "example.test", "-q", "MX", "-a", "mail.example.test."],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(
        summary(&r),
        format!("DNS OK - Ts response time, example.test MX returns 10 mail.example.test. (from {from}, authoritative)")
    );
    let r = dns(
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
    assert_eq!(r.code, 2, "{}", r.stdout);

    // TXT, and no record of the asked type
    let r = dns(
        &n,
        &["-H", "txt.example.test", "-q", "TXT", "-a", "v=spf1 -all"],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    let r = dns(&n, &["-H", "txt.example.test", "-q", "AAAA"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert_eq!(
        summary(&r),
        format!("DNS CRITICAL - no AAAA record for txt.example.test at {from}")
    );

    // response time ranges: an impossible one
    let r = dns(&n, &["-H", "www.example.test", "-w", "@0:100"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.first_line().contains(";@0:100;;0"), "{}", r.stdout);
}

#[test]
fn nxdomain_expected_or_not() {
    let n = server();
    let from = format!("{MASTER_IP}:{}", n.port);
    let r = dns(&n, &["-H", "nope.example.test"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert_eq!(
        summary(&r),
        format!("DNS CRITICAL - domain 'nope.example.test' was not found by {from} (NXDOMAIN)")
    );
    let r = dns(&n, &["-H", "nope.example.test", "-n"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(
        summary(&r),
        format!("DNS OK - Ts response time, nope.example.test does not exist (NXDOMAIN from {from}), as expected")
    );
    let r = dns(&n, &["-H", "www.example.test", "-n"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        summary(&r).ends_with("but NXDOMAIN was expected"),
        "{}",
        r.stdout
    );
    // a zone the server does not have
    let r = dns(&n, &["-H", "www.elsewhere.test"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert_eq!(
        summary(&r),
        format!("DNS CRITICAL - {from} answered REFUSED for www.elsewhere.test A")
    );
}

#[test]
fn tcp_only_and_fallback_on_truncation() {
    let n = server();
    let from = format!("{MASTER_IP}:{}", n.port);
    let r = dns(&n, &["-H", "www.example.test", "--tcp", "-a", "192.0.2.1"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        summary(&r).ends_with(&format!("(from {from} over TCP, authoritative)")),
        "{}",
        r.stdout
    );
    // ten 200-byte TXT records do not fit in 1232 bytes: asked again over TCP
    let r = dns(&n, &["-H", "big.example.test", "-q", "TXT"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        summary(&r).ends_with(&format!("(from {from} over TCP, authoritative)")),
        "{}",
        r.stdout
    );
    assert_eq!(
        summary(&r).matches("xxxxxxxxxx, ").count(),
        9,
        "{}",
        r.stdout
    );
}

#[test]
fn dnssec_needs_a_validating_resolver() {
    let n = server();
    let from = format!("{MASTER_IP}:{}", n.port);
    // an authoritative server does not set AD: the answer is not validated
    let r = dns(&n, &["-H", "www.example.test", "--dnssec"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert_eq!(
        summary(&r),
        format!("DNS CRITICAL - the answer for www.example.test A from {from} is not DNSSEC-validated (no AD bit)")
    );
}

#[test]
fn silent_server_is_critical_within_the_timeout() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    let start = Instant::now();
    let r = plugin(
        "check_dns",
        &[
            "-H",
            "www.example.test",
            "-s",
            "127.0.0.1",
            "-p",
            &port,
            "-t",
            "2",
        ],
    );
    let took = start.elapsed();
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert_eq!(
        r.stdout,
        format!("DNS CRITICAL - 127.0.0.1:{port}: no answer within 1.8s\n")
    );
    assert!(took < Duration::from_millis(2300), "took {took:?}");
    // nothing listening over TCP: refused at once
    let r = plugin(
        "check_dns",
        &[
            "-H",
            "www.example.test",
            "-s",
            "127.0.0.1",
            "-p",
            &port,
            "--tcp",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert_eq!(
        r.stdout,
        format!("DNS CRITICAL - 127.0.0.1:{port}: tcp connect: connection refused\n")
    );
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
    let r = plugin(
        "check_dns",
        &[
            "-H",
            "www.example.test",
            "-s",
            "127.0.0.1",
            "-p",
            &port,
            "-t",
            "5",
        ],
    );
    t.join().unwrap();
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stdout.starts_with(&format!(
            "DNS CRITICAL - 127.0.0.1:{port}: malformed answer: "
        )),
        "{}",
        r.stdout
    );
    assert_eq!(r.stdout.lines().count(), 1);
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn bad_input_is_one_line_exit_3() {
    for (args, line) in [
        (
            vec!["-H", "x.test", "-q", "BOGUS"],
            "DNS UNKNOWN - unknown query type 'BOGUS': use one of A, AAAA, MX, NS, TXT, SOA, CNAME, PTR, SRV, CAA",
        ),
        (
            vec!["-H", "x.test", "-w", "3:1"],
            "DNS UNKNOWN - invalid value '3:1' for '--warning <SECONDS>': invalid range '3:1': start is greater than end",
        ),
        (
            vec!["-H", "x.test", "-a", "10.0.0.0/40"],
            "DNS UNKNOWN - invalid network '10.0.0.0/40': prefix must be 0 to 32",
        ),
    ] {
        let r = plugin("check_dns", &args);
        assert_eq!(r.code, 3, "{args:?}: {}", r.stdout);
        assert_eq!(r.stdout, format!("{line}\n"), "{args:?}");
    }
    let r = plugin("check_dns", &[]);
    assert_eq!(r.code, 3);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    assert!(r.stdout.starts_with("DNS UNKNOWN - "), "{}", r.stdout);
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
        "mount --bind {} /etc/resolv.conf && exec {} -H www.example.test -p {} -a 192.0.2.1",
        conf.display(),
        ours.display(),
        n.port
    );
    let r = hcoop_tests::run(&unshare, &["-m", "sh", "-c", &script]);
    assert_eq!(r.code, 0, "{} {}", r.stdout, r.stderr);
    assert!(
        summary(&r).ends_with(&format!("(from {MASTER_IP}:{}, authoritative)", n.port)),
        "{}",
        r.stdout
    );
}

/// Exit 3 and one line that starts `LABEL UNKNOWN - ` and is at most `max` bytes.
fn assert_one_short_line(r: &Run, label: &str, max: usize) {
    assert_eq!(r.code, 3, "{}", r.stdout);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    assert!(
        r.stdout.starts_with(&format!("{label} UNKNOWN - ")),
        "{}",
        r.stdout
    );
    assert!(r.stdout.len() <= max, "{} bytes", r.stdout.len());
}

#[test]
fn port_zero_and_hosts_never_echoed_raw() {
    let r = plugin("check_dns", &["-H", "x.test", "-s", "127.0.0.1", "-p", "0"]);
    assert_eq!(r.code, 3, "{}", r.stdout);
    assert_eq!(
        r.stdout,
        "DNS UNKNOWN - invalid value '0' for '--port <PORT>': port 0 is out of range (1-65535)\n"
    );
    let r = plugin("check_dns", &["-H", "www\nx.test", "-s", "127.0.0.1"]);
    assert_eq!(
        r.stdout,
        "DNS UNKNOWN - invalid host 'www\\nx.test': '\\n' is not allowed in a host name\n"
    );
    assert_one_short_line(&r, "DNS", 300);
    let r = plugin("check_dns", &["-H", "x.test", "-s", "ns\n1"]);
    assert_eq!(
        r.stdout,
        "DNS UNKNOWN - -s: invalid host 'ns\\n1': '\\n' is not allowed in a host name\n"
    );
    let long = "a".repeat(100_000);
    for args in [
        ["-H", long.as_str(), "-s", "127.0.0.1"],
        ["-H", "x.test", "-s", long.as_str()],
    ] {
        let r = plugin("check_dns", &args);
        assert_one_short_line(&r, "DNS", 400);
        assert!(
            r.stdout.ends_with("longer than 253 characters\n"),
            "{}",
            r.stdout
        );
    }
}
