//! check_ntp_time and check_ntp_peer against a real ntpd (ntpsec) in a network namespace,
//! side by side with Debian's: the cases of monitoring-plugins' plugins/t/check_ntp.t,
//! and ours. One synchronized server for every case of the first test; the second test
//! starts one with no time source.

use hcoop_tests::ntp::NtpServer;
use hcoop_tests::parity::{self, Outcome};
use regex::Regex;

/// Our first line: `NTP STATE - Offset N secs` and what follows.
fn assert_ours(o: &Outcome, pattern: &str) {
    let re = Regex::new(pattern).unwrap();
    assert!(re.is_match(&o.stdout), "{pattern}\n{}", o.stdout);
}

const OFFSET: &str = r"Offset -?[0-9]+(\.[0-9]+)?(e-[0-9]{2})? secs";

#[test]
fn ntp_checks_against_ntpd() {
    let server = NtpServer::start();
    server.enter();
    for plugin in ["check_ntp_time", "check_ntp_peer"] {
        // the peer's simple checks: OK, WARNING, CRITICAL on the offset
        let (_, o) = parity::case(plugin, &["-H", "127.0.0.1", "-w", "1000", "-c", "2000"], 0);
        assert_ours(&o, &format!("^NTP OK - {OFFSET}"));
        assert_eq!(o.item("offset").unwrap().uom, "s");
        let (_, o) = parity::case(plugin, &["-H", "127.0.0.1", "-w", "1000:", "-c", "2000"], 1);
        assert_ours(&o, &format!("^NTP WARNING - {OFFSET}"));
        let (_, o) = parity::case(plugin, &["-H", "127.0.0.1", "-w", "1000", "-c", "2000:"], 2);
        assert_ours(&o, &format!("^NTP CRITICAL - {OFFSET}"));
        // no NTP service on the port, a host that cannot be reached
        let (_, o) = parity::case(plugin, &["-H", "127.0.0.1", "-p", "124", "-t", "3"], 2);
        assert_ours(&o, "^NTP CRITICAL - No response from NTP server");
        let (_, o) = parity::case(plugin, &["-H", "10.0.0.1", "-t", "3"], 2);
        assert_ours(&o, "^NTP CRITICAL - No response from NTP server");
        // a name that does not resolve
        let (_, o) = parity::case(plugin, &["-H", "nosuchhost"], 3);
        assert_ours(&o, "Invalid hostname/address - nosuchhost");
        // the host as a bare word; -q; the defaults
        parity::case(plugin, &["-H", "127.0.0.1", "-q"], 0);
        let (d, o) = parity::case(plugin, &["-H", "127.0.0.1", "-4"], 0);
        assert_eq!(o.labels_and_units(), d.labels_and_units());
    }
    // check_ntp_time: -o shifts the offset by a known skew
    parity::case("check_ntp_time", &["-H", "127.0.0.1", "-o", "100"], 1);
    parity::case("check_ntp_time", &["-H", "127.0.0.1", "-o", "-200"], 2);
    parity::case(
        "check_ntp_time",
        &["-H", "127.0.0.1", "-o", "100", "-w", "200"],
        0,
    );

    // check_ntp_peer's jitter, stratum and truechimers (check_ntp.t)
    let all = |stratum_w: &'static str, jitter_c: &'static str| {
        vec![
            "-H",
            "127.0.0.1",
            "-w",
            "1000",
            "-c",
            "2000",
            "-W",
            stratum_w,
            "-C",
            "21",
            "-j",
            "100000",
            "-k",
            jitter_c,
            "-m",
            "1:",
            "-n",
            "0:",
        ]
    };
    let (d, o) = parity::case("check_ntp_peer", &all("20", "200000"), 0);
    assert_ours(
        &o,
        &format!(r"^NTP OK - {OFFSET}, jitter=[0-9]+\.[0-9]+, stratum=3, truechimers=1 \|"),
    );
    assert_eq!(
        o.labels_and_units(),
        [
            ("offset", "s"),
            ("jitter", ""),
            ("stratum", ""),
            ("truechimers", "")
        ]
    );
    assert_eq!(d.labels_and_units(), o.labels_and_units());
    let (_, o) = parity::case("check_ntp_peer", &all("~:-1", "200000"), 1);
    assert_ours(&o, r"stratum=3 \(WARNING\), truechimers=1");
    let (_, o) = parity::case("check_ntp_peer", &all("20", "~:-1"), 2);
    assert_ours(&o, r"jitter=[0-9]+\.[0-9]+ \(CRITICAL\), stratum=3,");
    // ours: the truechimers, stratum ranges
    for (levels, code) in [
        (["-m", "2:", "-n", "1:"], 1),
        (["-m", "1:", "-n", "2:"], 2),
        (["-W", "1", "-C", "5"], 1),
        (["-W", "1", "-C", "2"], 2),
    ] {
        let args = [&["-H", "127.0.0.1"][..], &levels].concat();
        parity::case("check_ntp_peer", &args, code);
    }
}

/// An ntpd with no time source answers unsynchronized (leap indicator 3): both checks
/// are CRITICAL with the offset unknown, as Debian's; check_ntp_peer names the cause.
#[test]
fn an_unsynchronized_server_is_critical() {
    let server = NtpServer::start_unsynchronized();
    server.enter();
    let (d, o) = parity::case("check_ntp_time", &["-H", "127.0.0.1", "-t", "5"], 2);
    assert!(
        d.stdout.starts_with("NTP CRITICAL: Offset unknown"),
        "{}",
        d.stdout
    );
    assert_eq!(o.stdout, "NTP CRITICAL - Offset unknown\n");
    let (d, o) = parity::case("check_ntp_peer", &["-H", "127.0.0.1", "-t", "5"], 2);
    assert!(d.stdout.contains("Server not synchronized"), "{}", d.stdout);
    assert_eq!(
        o.stdout,
        "NTP CRITICAL - Server not synchronized, Offset unknown | offset=0s;60;120\n"
    );
}
