//! The cases of monitoring-plugins' own check_dns tests, run by Debian's check_dns and by
//! ours side by side against one real BIND master on port 53 of a loopback address
//! (Debian's check_dns runs nslookup, which asks port 53 only). The cases that use the
//! system resolver run both plugins with a made-up /etc/resolv.conf naming that server.

use hcoop_tests::bind::{Named, ZoneSpec, MASTER_IP};
use hcoop_tests::parity::{case, case_over, differs};
use std::net::UdpSocket;
use std::path::Path;
use std::sync::OnceLock;

/// The address of a server that takes questions and never answers.
const SILENT_IP: &str = "127.0.0.23";

/// One master for the whole binary: `example.test` (www has one address) and the
/// reverse zone of 192.0.2.0/24.
fn server() -> &'static Named {
    static NAMED: OnceLock<Named> = OnceLock::new();
    NAMED.get_or_init(|| {
        let forward = ZoneSpec::new("example.test", 1).records("www IN A 192.0.2.1\n");
        let reverse =
            ZoneSpec::new("2.0.192.in-addr.arpa", 1).records("1 IN PTR www.example.test.\n");
        Named::master(53, &[forward, reverse])
    })
}

/// A UDP socket on port 53 of [`SILENT_IP`] that reads questions and never answers (a
/// fault a real server does not make on demand).
fn silent_server() -> &'static UdpSocket {
    static SILENT: OnceLock<UdpSocket> = OnceLock::new();
    SILENT.get_or_init(|| {
        hcoop_tests::bind::ensure_loopback(SILENT_IP);
        UdpSocket::bind((SILENT_IP, 53)).expect("bind the silent server")
    })
}

/// The peer's `-s` cases: both plugins ask our master.
fn at_master<'a>(args: &[&'a str]) -> Vec<&'a str> {
    server();
    let mut all = vec!["-s", MASTER_IP];
    all.extend_from_slice(args);
    all
}

/// A resolv.conf naming our master, for the cases without `-s`.
fn resolv_conf() -> &'static Path {
    static FILE: OnceLock<tempfile::NamedTempFile> = OnceLock::new();
    FILE.get_or_init(|| {
        server();
        let f = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(f.path(), format!("nameserver {MASTER_IP}\n")).expect("write");
        f
    })
    .path()
}

/// A peer case run with the system resolver being our master.
fn case_with_resolver(args: &[&str], code: i32) -> (String, String) {
    let (d, o) = case_over(
        &[(resolv_conf(), "/etc/resolv.conf")],
        "check_dns",
        args,
        code,
    );
    (d.stdout, o.stdout)
}

#[test]
fn a_known_name_is_found_through_the_system_resolver_and_a_given_server() {
    let (_, ours) = case_with_resolver(&["-H", "www.example.test", "-t", "5"], 0);
    assert!(ours.starts_with("DNS OK - "), "{ours}");
    assert!(ours.contains("s response time"), "{ours}");
    let (_, ours) = case(
        "check_dns",
        &at_master(&["-H", "www.example.test", "-t", "5"]),
        0,
    );
    assert!(ours.stdout.contains("s response time"), "{}", ours.stdout);
}

#[test]
fn response_time_levels_and_their_perfdata() {
    case(
        "check_dns",
        &at_master(&["-H", "www.example.test", "-t", "5", "-w", "0", "-c", "0"]),
        2,
    );
    let (debian, ours) = case(
        "check_dns",
        &at_master(&["-H", "www.example.test", "-t", "5", "-w", "0", "-c", "5"]),
        1,
    );
    // the peer's test reads `time=Ns;0.0*;5.0*;0.0*`
    for o in [&debian, &ours] {
        let time = o.item("time").unwrap_or_else(|| panic!("{}", o.stdout));
        let fields: Vec<f64> = time.raw["time=".len()..]
            .trim_end_matches(';')
            .split(';')
            .map(|f| f.trim_end_matches('s').parse().unwrap())
            .collect();
        assert_eq!(&fields[1..], &[0.0, 5.0, 0.0], "{}", o.stdout);
        assert_eq!(time.uom, "s");
    }
}

#[test]
fn an_unknown_name_is_critical() {
    case_with_resolver(&["-H", "nosuchhost.example.test", "-t", "1"], 2);
    case(
        "check_dns",
        &at_master(&["-H", "nosuchhost.example.test", "-t", "1"]),
        2,
    );
}

#[test]
fn a_server_that_never_answers_is_critical() {
    silent_server();
    let (_, ours) = case(
        "check_dns",
        &[
            "-H",
            "www.example.test",
            "-a",
            "192.0.2.1",
            "-s",
            SILENT_IP,
            "-t",
            "2",
        ],
        2,
    );
    assert!(ours.stdout.contains("CRITICAL - "), "{}", ours.stdout);
}

#[test]
fn expected_addresses_hosts_and_networks() {
    case_with_resolver(&["-H", "www.example.test", "-a", "192.0.2.1", "-t", "5"], 0);
    let (_, ours) = case(
        "check_dns",
        &at_master(&["-H", "www.example.test", "-a", "10.10.10.10", "-t", "5"]),
        2,
    );
    assert!(
        ours.stdout
            .lines()
            .next()
            .unwrap()
            .contains("expected '10.10.10.10' but got '192.0.2.1'"),
        "{}",
        ours.stdout
    );
    // an address asks for its PTR record
    let (_, ours) = case_with_resolver(
        &["-H", "192.0.2.1", "-a", "www.example.test.", "-t", "5"],
        0,
    );
    assert!(ours.contains("s response time"), "{ours}");
    case_with_resolver(
        &["-H", "www.example.test", "-a", "192.0.2.0/30", "-t", "5"],
        0,
    );
    let (_, ours) = case_with_resolver(
        &["-H", "www.example.test", "-a", "192.0.2.4/30", "-t", "5"],
        2,
    );
    assert!(
        ours.lines()
            .next()
            .unwrap()
            .contains("expected '192.0.2.4/30' but got '192.0.2.1'"),
        "{ours}"
    );
}

#[test]
fn expecting_nxdomain() {
    let (_, ours) = case_with_resolver(&["-H", "www.example.test", "-n"], 2);
    assert!(
        ours.contains("Domain 'www.example.test' was found by the server:"),
        "{ours}"
    );
    case_with_resolver(&["-H", "nosuchhost.example.test", "-n"], 0);
}

#[test]
fn a_bad_command_line_is_unknown_in_both() {
    // a host name that is no name at all
    differs("check_dns", &at_master(&["-H", "a b", "-t", "1"]), 2, 3);
}
