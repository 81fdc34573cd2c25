//! check_dig side by side with Debian's (which runs bind9-dnsutils' dig) against a real
//! BIND master (see `hcoop_tests::bind`): the cases of monitoring-plugins'
//! plugins/t/check_dig.t, and the server that refuses or never answers. One server for
//! the whole binary: the cases run in one test, in turn.

use hcoop_tests::bind::{zone_text, Named, ZoneSpec, MASTER_IP};
use hcoop_tests::parity::{self, case, differs, Outcome};
use hcoop_tests::require;

/// The peer's success phrase.
fn says_ok(o: &Outcome) {
    let first = o.stdout.lines().next().unwrap_or("");
    let re = regex::Regex::new(r"DNS OK - [.0-9]+ seconds? response time").unwrap();
    assert!(re.is_match(first), "{}", o.stdout);
}

/// Both plugins' perfdata: `time` in seconds, from 0.
fn time_perf(d: &Outcome, o: &Outcome) {
    for out in [d, o] {
        assert_eq!(out.labels_and_units(), [("time", "s")], "{}", out.stdout);
    }
}

/// The zone both servers serve.
fn www_zone() -> ZoneSpec {
    ZoneSpec::new("example.test", 3).records(
        "www IN A 192.0.2.1\nalias IN CNAME www\n@ IN MX 10 mail.example.test.\nmail IN A 192.0.2.25\n",
    )
}

/// A named serving `zone` on ::1 only, on a free port; its guard and port.
fn named_on_v6(zone: &ZoneSpec) -> (hcoop_tests::Guard, u16, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let port = hcoop_tests::free_port();
    let d = dir.path().display();
    let zone_file = dir.path().join("zone.db");
    std::fs::write(
        &zone_file,
        zone_text(&zone.name, zone.serial, &zone.records),
    )
    .unwrap();
    let conf = format!(
        "options {{\n  directory \"{d}\";\n  pid-file \"{d}/named.pid\";\n  session-keyfile \"{d}/session.key\";\n  managed-keys-directory \"{d}\";\n  listen-on {{ none; }};\n  listen-on-v6 port {port} {{ ::1; }};\n  recursion no;\n  dnssec-validation no;\n}};\ncontrols {{ }};\nzone \"{}\" {{ type master; file \"{}\"; }};\n",
        zone.name,
        zone_file.display()
    );
    let conf_path = dir.path().join("named.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let guard = hcoop_tests::spawn_listening(
        std::process::Command::new(require("/usr/sbin/named", "bind9"))
            .arg("-g")
            .arg("-c")
            .arg(&conf_path),
        ("::1", port),
        30.0,
        || "named on ::1 did not start".to_string(),
    );
    (guard, port, dir)
}

#[test]
fn dig_peer_cases_against_a_real_named() {
    require("dig", "bind9-dnsutils");
    let zone = www_zone();
    let reverse = ZoneSpec::new("2.0.192.in-addr.arpa", 1).records("1 IN PTR www.example.test.\n");
    let named = Named::master(hcoop_tests::free_port(), &[zone, reverse]);
    let port = named.port.to_string();
    let at = |extra: &[&str]| parity::words(&["-H", MASTER_IP, "-p", &port], extra);
    let run = |args: &[String], code: i32| parity::case_owned("check_dig", args, code);

    // Found www, the success phrase and the time perfdata
    let (d, o) = run(&at(&["-l", "www.example.test", "-t", "5"]), 0);
    says_ok(&d);
    says_ok(&o);
    time_perf(&d, &o);
    assert!(
        o.stdout.contains("www.example.test. 300 IN A 192.0.2.1"),
        "{}",
        o.stdout
    );

    // Critical and warning thresholds passed
    for (crit, code) in [("0.00001", 2), ("5", 1)] {
        let (d, o) = run(
            &at(&[
                "-l",
                "www.example.test",
                "-t",
                "5",
                "-w",
                "0.000001",
                "-c",
                crit,
            ]),
            code,
        );
        time_perf(&d, &o);
    }

    // Invalid command line: -l missing
    let (_, o) = run(&at(&["-t", "1"]), 3);
    assert!(
        o.stdout.contains("Could not parse arguments"),
        "{}",
        o.stdout
    );

    // A name the server does not know
    let (d, o) = run(&at(&["-l", "nosuchhost.example.test", "-t", "1"]), 2);
    for out in [&d, &o] {
        assert!(
            out.stdout.contains("No ANSWER SECTION found"),
            "{}",
            out.stdout
        );
    }

    // -4
    let (d, o) = run(&at(&["-l", "www.example.test", "-t", "5", "-4"]), 0);
    says_ok(&d);
    says_ok(&o);

    // Expected address, and a wrong one
    run(
        &at(&["-l", "www.example.test", "-a", "192.0.2.1", "-t", "5"]),
        0,
    );
    let (d, o) = run(
        &at(&["-l", "www.example.test", "-a", "10.10.10.10", "-t", "5"]),
        1,
    );
    for out in [&d, &o] {
        assert!(
            out.stdout.contains("Server not found in ANSWER SECTION"),
            "{}",
            out.stdout
        );
    }

    // The reverse name and its PTR
    let (d, o) = run(
        &at(&[
            "-l",
            "1.2.0.192.in-addr.arpa",
            "-a",
            "www.example.test.",
            "-T",
            "PTR",
            "-t",
            "5",
        ]),
        0,
    );
    says_ok(&d);
    says_ok(&o);

    // -6: a second named of the same zone on ::1 (where the kernel has IPv6, as the
    // peer's test asks)
    if std::net::UdpSocket::bind("[::1]:0").is_ok() {
        let v6 = named_on_v6(&www_zone());
        let v6_port = v6.1.to_string();
        let asked = ["-H", "::1", "-p", &v6_port, "-l", "www.example.test", "-6"];
        let loaded =
            hcoop_tests::wait_until(10.0, || hcoop_tests::plugin("check_dig", &asked).code == 0);
        assert!(loaded, "named on ::1 does not serve example.test");
        let (d, o) = case(
            "check_dig",
            &[
                "-H",
                "::1",
                "-p",
                &v6_port,
                "-l",
                "www.example.test",
                "-t",
                "5",
                "-6",
            ],
            0,
        );
        says_ok(&d);
        says_ok(&o);
    }

    // More than check_dig.t: other types, a CNAME on the way, -A +tcp, the server as
    // the bare first word
    run(
        &at(&["-l", "example.test", "-T", "MX", "-a", "mail.example.test"]),
        0,
    );
    run(&at(&["-l", "alias.example.test", "-a", "192.0.2.1"]), 0);
    run(&at(&["-l", "www.example.test", "-A", "+tcp"]), 0);
    let bare: Vec<String> = [MASTER_IP, "-p", &port, "-l", "www.example.test"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let (d, o) = run(&bare, 0);
    says_ok(&d);
    says_ok(&o);

    // Nothing listens: dig's error status is a WARNING in both
    let closed = hcoop_tests::free_port().to_string();
    let args = [
        "-H",
        "127.0.0.1",
        "-p",
        &closed,
        "-l",
        "www.example.test",
        "-t",
        "3",
    ];
    let (d, o) = case("check_dig", &args, 1);
    for out in [&d, &o] {
        assert!(
            out.stdout.contains("dig returned an error status"),
            "{}",
            out.stdout
        );
    }

    // A server that never answers: CRITICAL in both when the time runs out (Debian's
    // `Plugin timed out`, ours `no answer within`)
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port().to_string();
    let silent_at = ["-H", "127.0.0.1", "-p", &silent_port];
    let (_, o) = run(
        &parity::words(&silent_at, &["-l", "www.example.test", "-t", "2"]),
        2,
    );
    assert!(o.stdout.contains("no answer within"), "{}", o.stdout);
    drop(silent);

    // Deliberately different: a dig option ours does not take is refused, where
    // Debian's passes it on to dig
    differs(
        "check_dig",
        &[
            "-H",
            MASTER_IP,
            "-p",
            &port,
            "-l",
            "www.example.test",
            "-A",
            "+nsid",
        ],
        0,
        3,
    );
}
