//! `-t N:STATE` for the line-protocol and mail checks: against a server that accepts
//! and never answers (a TCP listener holding the socket; for check_sip a UDP socket
//! that never answers), each check reports its own time running out in the state `-t`
//! names: `-t 2:UNKNOWN` exits 3 within 2.5 s, `-t 2` exits 2 (CRITICAL), with the
//! same line.

use hcoop_tests::line::{perf, times_out};
use hcoop_tests::mail::{mx_args, ROUNDTRIP_LOGIN};
use hcoop_tests::plugin_json;
use hcoop_tests::web::{fake_server, Fault};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// No perfdata: nothing was measured.
fn no_perf(v: &Value) {
    assert_eq!(v["perfdata"], json!([]), "{v}");
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

/// The service checks against a server that accepts and says nothing: no response,
/// nothing measured.
#[test]
fn service_checks_that_get_no_response() {
    let p = hang();
    let said = format!(r"Socket timeout after 2 seconds: no response from 127\.0\.0\.1 port {p}");
    let cases: [(&str, &[&str]); 6] = [
        ("check_tcp", &["-e", "220"]),
        ("check_tcp", &["-E", "-s", r"PING\r\n"]),
        ("check_ssh", &[]),
        ("check_ftp", &[]),
        ("check_jabber", &["--domain", "xmpp.test"]),
        ("check_spamd", &[]),
    ];
    for (name, extra) in cases {
        let mut args = vec!["-H", "127.0.0.1", "-p", &p];
        args.extend_from_slice(extra);
        no_perf(&times_out(name, &args, &said));
    }
}

#[test]
fn check_smtp() {
    let p = hang();
    let v = times_out(
        "check_smtp",
        &["-H", "127.0.0.1", "-p", &p, "-F", "monitor.test"],
        &format!(
            r"Socket timeout after 2 seconds: no banner within 1\.8 seconds \(127\.0\.0\.1 port {p}\)"
        ),
    );
    perf(&v, "time");
}

#[test]
fn mail_checks_whose_connect_is_never_answered() {
    let (_l, _queued, p) = unanswered_connects();
    let said = format!(
        r"Socket timeout after 2 seconds: connect to 127\.0\.0\.1 port {p}: no answer within 1\.8 seconds"
    );
    let smtp = ["-H", "127.0.0.1", "-p", &p, "-F", "monitor.test"];
    no_perf(&times_out("check_smtp", &smtp, &said));
    no_perf(&times_out("check_imap", &smtp[..4], &said));
}

#[test]
fn service_checks_whose_connect_is_never_answered() {
    let (_l, _queued, p) = unanswered_connects();
    let said =
        format!(r"Socket timeout after 2 seconds: connect to 127\.0\.0\.1 port {p}: no answer");
    for name in ["check_tcp", "check_ssh"] {
        no_perf(&times_out(name, &["-H", "127.0.0.1", "-p", &p], &said));
    }
}

#[test]
fn check_imap() {
    let p = hang();
    let v = times_out(
        "check_imap",
        &["-H", "127.0.0.1", "-p", &p],
        &format!(
            r"Socket timeout after 2 seconds: no IMAP greeting within 1\.8 seconds \(127\.0\.0\.1 port {p}\)"
        ),
    );
    perf(&v, "time");
}

#[test]
fn check_sip_over_udp_and_tcp() {
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let p = silent.local_addr().unwrap().port().to_string();
    let tcp = hang();
    for (p, transport) in [(&p, None), (&tcp, Some("--tcp"))] {
        let mut args = vec!["-H", "127.0.0.1", "-p", p];
        args.extend(transport);
        let said = format!(r"no final response from 127\.0\.0\.1 port {p} within 1\.8 seconds");
        no_perf(&times_out("check_sip", &args, &said));
    }
}

#[test]
fn check_mail_roundtrip() {
    let p = hang();
    let args = [
        &["-H", "127.0.0.1", "-p", &p, "-F", "monitor.test"][..],
        &ROUNDTRIP_LOGIN,
    ]
    .concat();
    let v = times_out(
        "check_mail_roundtrip",
        &args,
        &format!(r"send side failed: no banner within 1\.8 seconds \(127\.0\.0\.1 port {p}\)"),
    );
    perf(&v, "time");
    // the send side's line carries the state of -t too
    assert_eq!(
        v["details"],
        json!([
            {
                "state": "UNKNOWN",
                "text": format!("send: no banner within 1.8 seconds (127.0.0.1 port {p})")
            },
            { "state": null, "text": "receive: not tried, the message was not sent" }
        ]),
        "{v}"
    );
}

#[test]
fn check_mx_with_a_silent_exchanger_and_a_silent_dns_server() {
    use hcoop_tests::bind::{Named, ZoneSpec};
    let p = hang();
    let dns_port = hcoop_tests::free_port();
    let _named = Named::master(
        dns_port,
        &[ZoneSpec::new("coop.test", 1)
            .records("@ IN MX 10 mx1.coop.test.\nmx1 IN A 127.0.0.1\n")
            .master_only()],
    );
    let dp = dns_port.to_string();
    let args = mx_args(&dp, &p);
    let v = times_out(
        "check_mx",
        &args,
        r"0 of 1 MX hosts of coop\.test work; broken: mx1\.coop\.test \(127\.0\.0\.1\).*",
    );
    assert_eq!(
        v["details"][0],
        json!({
            "state": "UNKNOWN",
            "text": format!("mx1.coop.test (preference 10) 127.0.0.1: no banner within 1.8 seconds (127.0.0.1 port {p})")
        }),
        "{v}"
    );
    // an exchanger whose connect is never answered
    let (_l, _queued, full) = unanswered_connects();
    let mut all = args.to_vec();
    all[7] = full.as_str();
    all.extend(["-t", "2:UNKNOWN"]);
    let start = Instant::now();
    let v = plugin_json("check_mx", &all);
    assert!(start.elapsed() < Duration::from_millis(2500));
    assert_eq!(v["state"], "UNKNOWN", "{v}");
    assert_eq!(
        v["details"][0],
        json!({
            "state": "UNKNOWN",
            "text": format!("mx1.coop.test (preference 10) 127.0.0.1: connect to address 127.0.0.1 and port {full}: no answer within 1.8 seconds")
        }),
        "{v}"
    );
    // a DNS server that never answers
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let sp = silent.local_addr().unwrap().port().to_string();
    let v = times_out(
        "check_mx",
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
        &format!(r"coop\.test MX: no answer within [0-9.]+s from 127\.0\.0\.1:{sp}"),
    );
    no_perf(&v);
}
