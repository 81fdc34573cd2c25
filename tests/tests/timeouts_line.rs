//! `-t N:STATE` for the line-protocol and mail checks: against a server that accepts
//! and never answers (a TCP listener holding the socket; for check_sip a UDP socket
//! that never answers), each check reports its own time running out in the state `-t`
//! names: `-t 2:UNKNOWN` exits 3 within 2.5 s, `-t 2` exits 2 (CRITICAL), with the
//! same line.

use hcoop_tests::web::{fake_server, Fault};
use hcoop_tests::{plugin, Run};
use regex::Regex;
use std::time::{Duration, Instant};

/// Runs `name` with `-t 2:UNKNOWN` and with `-t 2`; asserts exit 3 within 2.5 s and then
/// exit 2, each with the first line `LABEL STATE - ` followed by `rest` (a regex).
fn times_out(name: &str, label: &str, args: &[&str], rest: &str) {
    for (t, state, code) in [("2:UNKNOWN", "UNKNOWN", 3), ("2", "CRITICAL", 2)] {
        let mut all = args.to_vec();
        all.extend(["-t", t]);
        let start = Instant::now();
        let r = plugin(name, &all);
        let took = start.elapsed();
        assert_first_line(&r, code, &format!("^{label} {state} - {rest}"));
        assert!(
            took < Duration::from_millis(2500),
            "{name} -t {t} took {took:?}: {}",
            r.stdout
        );
    }
}

fn assert_first_line(r: &Run, code: i32, pattern: &str) {
    let re = Regex::new(pattern).unwrap();
    assert!(
        r.code == code && re.is_match(r.first_line()),
        "expected exit {code} and /{pattern}/, got exit {}: {}{}",
        r.code,
        r.stdout,
        r.stderr
    );
}

fn hang() -> String {
    fake_server(Fault::Hang).to_string()
}

/// A port on 127.0.0.1 whose accept queue is full, so that a connect to it is never
/// answered (the kernel drops the SYN); the listener and the queued connection live as
/// long as the returned value.
fn unanswered_connects() -> (std::net::TcpListener, Vec<std::net::TcpStream>, String) {
    use std::os::fd::AsRawFd;
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    // SAFETY: listen(2) on a socket this function owns.
    assert_eq!(unsafe { libc::listen(l.as_raw_fd(), 0) }, 0);
    let addr = l.local_addr().unwrap();
    let queued: Vec<_> = (0..3)
        .filter_map(|_| {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()
        })
        .collect();
    assert!(
        std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_err(),
        "the accept queue of {addr} is not full"
    );
    (l, queued, addr.port().to_string())
}

/// What the service checks say when nothing comes back.
fn no_response(port: &str) -> String {
    format!(r"no response from 127\.0\.0\.1 port {port} within 1\.[89] seconds$")
}

#[test]
fn check_tcp_expect_and_send() {
    let p = hang();
    times_out(
        "check_tcp",
        "TCP",
        &["-H", "127.0.0.1", "-p", &p, "-e", "220"],
        &no_response(&p),
    );
    times_out(
        "check_tcp",
        "TCP",
        &["-H", "127.0.0.1", "-p", &p, "-E", "-s", r"PING\r\n"],
        &no_response(&p),
    );
}

#[test]
fn check_ssh() {
    let p = hang();
    times_out(
        "check_ssh",
        "SSH",
        &["-H", "127.0.0.1", "-p", &p],
        &no_response(&p),
    );
}

#[test]
fn check_ftp() {
    let p = hang();
    times_out(
        "check_ftp",
        "FTP",
        &["-H", "127.0.0.1", "-p", &p],
        &no_response(&p),
    );
}

#[test]
fn check_jabber() {
    let p = hang();
    times_out(
        "check_jabber",
        "JABBER",
        &["-H", "127.0.0.1", "-p", &p, "--domain", "xmpp.test"],
        &no_response(&p),
    );
}

#[test]
fn check_spamd() {
    let p = hang();
    times_out(
        "check_spamd",
        "SPAMD",
        &["-H", "127.0.0.1", "-p", &p],
        &no_response(&p),
    );
}

#[test]
fn check_smtp() {
    let p = hang();
    times_out(
        "check_smtp",
        "SMTP",
        &["-H", "127.0.0.1", "-p", &p, "-F", "monitor.test"],
        &format!(r"no banner within 1\.8 seconds \(127\.0\.0\.1 port {p}\) \| time="),
    );
}

#[test]
fn mail_checks_whose_connect_is_never_answered() {
    let (_l, _queued, p) = unanswered_connects();
    let said = format!(r"connect to 127\.0\.0\.1 port {p}: no answer within 1\.8 seconds");
    times_out(
        "check_smtp",
        "SMTP",
        &["-H", "127.0.0.1", "-p", &p, "-F", "monitor.test"],
        &format!("{said}$"),
    );
    times_out(
        "check_imap",
        "IMAP",
        &["-H", "127.0.0.1", "-p", &p],
        &format!("{said}$"),
    );
}

#[test]
fn service_checks_whose_connect_is_never_answered() {
    let (_l, _queued, p) = unanswered_connects();
    let said = format!(r"connect to 127\.0\.0\.1 port {p}: no answer within 1\.[89] seconds$");
    times_out("check_tcp", "TCP", &["-H", "127.0.0.1", "-p", &p], &said);
    times_out("check_ssh", "SSH", &["-H", "127.0.0.1", "-p", &p], &said);
}

#[test]
fn check_imap() {
    let p = hang();
    times_out(
        "check_imap",
        "IMAP",
        &["-H", "127.0.0.1", "-p", &p],
        &format!(r"no IMAP greeting within 1\.8 seconds \(127\.0\.0\.1 port {p}\) \| time="),
    );
}

#[test]
fn check_sip_over_udp_and_tcp() {
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let p = silent.local_addr().unwrap().port().to_string();
    times_out(
        "check_sip",
        "SIP",
        &["-H", "127.0.0.1", "-p", &p],
        &format!(r"no final response from 127\.0\.0\.1 port {p} within 1\.8 seconds$"),
    );
    let p = hang();
    times_out(
        "check_sip",
        "SIP",
        &["-H", "127.0.0.1", "-p", &p, "--tcp"],
        &format!(r"no final response from 127\.0\.0\.1 port {p} within 1\.8 seconds$"),
    );
}

#[test]
fn check_mail_roundtrip() {
    let p = hang();
    let args = [
        "-H",
        "127.0.0.1",
        "-p",
        &p,
        "-F",
        "monitor.test",
        "-f",
        "mon@coop.test",
        "-r",
        "box@coop.test",
        "-U",
        "box",
        "--password-env",
        "PATH",
    ];
    times_out(
        "check_mail_roundtrip",
        "MAIL_ROUNDTRIP",
        &args,
        &format!(
            r"send side failed: no banner within 1\.8 seconds \(127\.0\.0\.1 port {p}\) \| time="
        ),
    );
    // the send side's line carries the state of -t too
    let mut all = args.to_vec();
    all.extend(["-t", "2:UNKNOWN"]);
    let r = plugin("check_mail_roundtrip", &all);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines[1..],
        [
            format!("[UNKNOWN] send: no banner within 1.8 seconds (127.0.0.1 port {p})").as_str(),
            "receive: not tried, the message was not sent"
        ],
        "{}",
        r.stdout
    );
}

#[test]
fn check_mx_with_a_silent_exchanger_and_a_silent_dns_server() {
    use hcoop_tests::bind::{Named, ZoneSpec, MASTER_IP};
    let p = hang();
    let dns_port = hcoop_tests::free_port();
    let _named = Named::master(
        dns_port,
        &[ZoneSpec::new("coop.test", 1)
            .records("@ IN MX 10 mx1.coop.test.\nmx1 IN A 127.0.0.1\n")
            .master_only()],
    );
    let dp = dns_port.to_string();
    let args = [
        "-d",
        "coop.test",
        "-s",
        MASTER_IP,
        "--dns-port",
        &dp,
        "-p",
        &p,
        "-F",
        "monitor.test",
    ];
    times_out(
        "check_mx",
        "MX",
        &args,
        r"0 of 1 MX hosts of coop\.test work; broken: mx1\.coop\.test \(127\.0\.0\.1\)",
    );
    let mut all = args.to_vec();
    all.extend(["-t", "2:UNKNOWN"]);
    let r = plugin("check_mx", &all);
    assert_eq!(
        r.stdout.lines().nth(1),
        Some(
            format!(
                "[UNKNOWN] mx1.coop.test (preference 10) 127.0.0.1: no banner within 1.8 seconds (127.0.0.1 port {p})"
            )
            .as_str()
        ),
        "{}",
        r.stdout
    );
    // an exchanger whose connect is never answered
    let (_l, _queued, full) = unanswered_connects();
    let mut all = args.to_vec();
    all[7] = full.as_str();
    all.extend(["-t", "2:UNKNOWN"]);
    let start = Instant::now();
    let r = plugin("check_mx", &all);
    assert!(start.elapsed() < Duration::from_millis(2500));
    assert_eq!(r.code, 3, "{}", r.stdout);
    assert_eq!(
        r.stdout.lines().nth(1),
        Some(
            format!(
                "[UNKNOWN] mx1.coop.test (preference 10) 127.0.0.1: connect to address 127.0.0.1 and port {full}: no answer within 1.8 seconds"
            )
            .as_str()
        ),
        "{}",
        r.stdout
    );
    // a DNS server that never answers
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let sp = silent.local_addr().unwrap().port().to_string();
    times_out(
        "check_mx",
        "MX",
        &[
            "-d",
            "coop.test",
            "-s",
            "127.0.0.1",
            "--dns-port",
            &sp,
            "-F",
            "monitor.test",
        ],
        &format!(r"coop\.test MX: no answer within [0-9.]+s from 127\.0\.0\.1:{sp}$"),
    );
}
