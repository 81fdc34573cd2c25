//! The TCP service checks against real servers started on loopback ports (nginx, sshd,
//! vsftpd, spamd, prosody) and fake servers for hang, garbage, trickle and reset. Results
//! are compared in JSON (state, summary, perfdata); each check keeps one comparison of
//! its exact Nagios text.

use hcoop_tests::line::{assert_answered, assert_json, assert_text, assert_time_perf, will_expire};
use hcoop_tests::web::{
    fake_server, start_nginx, start_prosody, start_spamd, start_sshd, start_vsftpd, Fault, Pki,
};
use hcoop_tests::{free_port, plugin};
use regex::Regex;
use std::time::Instant;

/// `N.NNN second response time on 127.0.0.1 port PORT`, as a regex.
fn response_time(port: &str) -> String {
    format!(r"\d\.\d{{3}} second response time on 127\.0\.0\.1 port {port}")
}

#[test]
fn check_tcp_against_nginx_and_faults() {
    let dir = tempfile::tempdir().unwrap();
    let n = start_nginx(dir.path());
    let hp = n.http_port.to_string();
    let sp = n.https_port.to_string();
    let ca = n.pki.ca_cert.to_string_lossy().to_string();
    let on_http = response_time(&hp);
    // the rendering: one exact Nagios line
    assert_text(
        "check_tcp",
        &["-H", "127.0.0.1", "-p", &hp],
        0,
        &format!(r"^TCP OK - {on_http} \| time=[0-9.]+s;;;0;10$"),
    );
    assert_answered("check_tcp", &["-H", "127.0.0.1", "-p", &hp], &on_http);
    let get = r"GET / HTTP/1.0\r\nHost: b.test\r\n\r\n";
    let http = ["-H", "127.0.0.1", "-p", &hp, "-E", "-s", get];
    let with = |more: &[&'static str]| {
        let mut a = http.to_vec();
        a.extend_from_slice(more);
        a
    };
    // (extra arguments, state, summary)
    let cases: [(&[&str], &str, String); 4] = [
        (
            &["-e", "HTTP/1.1 200 OK"],
            "OK",
            format!(r"{on_http} \[HTTP/1\.1 200 OK.*"),
        ),
        (
            &[
                "-e",
                "HTTP/1.1 200",
                "-e",
                "b.test here",
                "-A",
                "-m",
                "100000",
            ],
            "OK",
            format!(r"{on_http} \[HTTP/1\.1 200 OK.*"),
        ),
        (
            &["-e", "HTTP/2"],
            "WARNING",
            format!(r"unexpected response from 127\.0\.0\.1 port {hp}: HTTP/1\.1 200 OK .*"),
        ),
        (
            &["-e", "HTTP/2", "-M", "crit"],
            "CRITICAL",
            format!(r"unexpected response from 127\.0\.0\.1 port {hp}: HTTP/1\.1 200 OK .*"),
        ),
    ];
    for (more, state, summary) in &cases {
        assert_json("check_tcp", &with(more), state, summary);
    }
    // TLS with the certificate's days left, and an expired one
    let tls = |sni: &'static str, days: &'static str| {
        [
            "-H",
            "127.0.0.1",
            "-p",
            &sp,
            "-S",
            "--sni",
            sni,
            "--ca-cert",
            &ca,
            "-D",
            days,
        ]
    };
    assert_answered(
        "check_tcp",
        &tls("a.test", "30,7"),
        &format!("{}; {}", response_time(&sp), will_expire("a.test")),
    );
    let v = assert_json(
        "check_tcp",
        &tls("expired.test", "30"),
        "CRITICAL",
        &format!(
            r"TLS handshake failed: certificate has expired with 127\.0\.0\.1 port {sp}; certificate 'expired\.test' expired on 2020-02-01 00:00:00 UTC"
        ),
    );
    assert_eq!(v["perfdata"], serde_json::json!([]), "{v}");
    // refused: CRITICAL unless -r says otherwise
    let closed = free_port().to_string();
    let refused = format!(r"connect to address 127\.0\.0\.1 and port {closed}: Connection refused");
    let v = assert_json(
        "check_tcp",
        &["-H", "127.0.0.1", "-p", &closed],
        "CRITICAL",
        &refused,
    );
    assert_eq!(v["perfdata"], serde_json::json!([]), "{v}");
    assert_json(
        "check_tcp",
        &["-H", "127.0.0.1", "-p", &closed, "-r", "warn"],
        "WARNING",
        &refused,
    );

    // a server that accepts and says nothing: CRITICAL before the timeout
    let hang = fake_server(Fault::Hang).to_string();
    let start = Instant::now();
    assert_json(
        "check_tcp",
        &["-H", "127.0.0.1", "-p", &hang, "-e", "220", "-t", "2"],
        "CRITICAL",
        &format!(r"Socket timeout after 2 seconds: no response from 127\.0\.0\.1 port {hang}"),
    );
    assert!(start.elapsed().as_secs_f64() < 2.5);
    let reset = fake_server(Fault::Reset).to_string();
    assert_json(
        "check_tcp",
        &["-H", "127.0.0.1", "-p", &reset, "-e", "220"],
        "CRITICAL",
        &format!(
            r"(connection to 127\.0\.0\.1 port {reset} failed: |connect to address 127\.0\.0\.1 and port {reset}: Connection reset|No data received from host \(127\.0\.0\.1 port {reset}\)).*"
        ),
    );
    // bad usage
    let v = assert_json(
        "check_tcp",
        &["-H", "127.0.0.1"],
        "UNKNOWN",
        r"a port \(-p\) is required",
    );
    assert_eq!(v["perfdata"], serde_json::json!([]), "{v}");
}

#[test]
fn check_ssh_against_sshd_and_faults() {
    let dir = tempfile::tempdir().unwrap();
    let d = start_sshd(dir.path());
    let port = d.port.to_string();
    let at = |more: &[&'static str]| {
        let mut a = vec!["-H", "127.0.0.1", "-p", &port];
        a.extend_from_slice(more);
        a
    };
    assert_text(
        "check_ssh",
        &at(&[]),
        0,
        r"^SSH OK - OpenSSH_\S+( .*)? \(protocol 2\.0\) \| time=[0-9.]+s;;;0;10$",
    );
    let v = assert_answered(
        "check_ssh",
        &at(&[]),
        r"OpenSSH_\S+( .*)? \(protocol 2\.0\)",
    );
    let version = Regex::new(r"^(.*) \(protocol")
        .unwrap()
        .captures(v["summary"].as_str().unwrap())
        .unwrap()[1]
        .to_string();
    let mut exact = at(&["-r"]);
    exact.push(&version);
    assert_json(
        "check_ssh",
        &exact,
        "OK",
        &format!("{} \\(protocol 2\\.0\\)", regex::escape(&version)),
    );
    assert_json(
        "check_ssh",
        &at(&["-r", "OpenSSH_1.0"]),
        "CRITICAL",
        r"OpenSSH_.* \(protocol 2\.0\) version mismatch, expected 'OpenSSH_1\.0'",
    );
    assert_json(
        "check_ssh",
        &at(&["-P", "2.0"]),
        "OK",
        r"OpenSSH_.* \(protocol 2\.0\)",
    );

    let garbage = fake_server(Fault::Garbage(b"220 not ssh\r\n".to_vec())).to_string();
    assert_json(
        "check_ssh",
        &["-H", "127.0.0.1", "-p", &garbage],
        "CRITICAL",
        &format!(r"unexpected response from 127\.0\.0\.1 port {garbage}: 220 not ssh"),
    );
    let trickle = fake_server(Fault::Trickle(b"SSH-2.0-slowly".to_vec())).to_string();
    let start = Instant::now();
    assert_json(
        "check_ssh",
        &["-H", "127.0.0.1", "-p", &trickle, "-t", "2"],
        "CRITICAL",
        &format!(
            r"Socket timeout after 2 seconds: incomplete response from 127\.0\.0\.1 port {trickle}: SSH-2.*"
        ),
    );
    assert!(start.elapsed().as_secs_f64() < 2.5);
}

#[test]
fn check_ftp_against_vsftpd() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let cert = pki.issue("ftp.test", &[], None);
    let d = start_vsftpd(dir.path(), &cert);
    let port = d.port.to_string();
    let ca = pki.ca_cert.to_string_lossy().to_string();
    let greeting = format!(r"{} \[220 hcoop test FTP\]", response_time(&port));
    assert_text(
        "check_ftp",
        &["-H", "127.0.0.1", "-p", &port],
        0,
        &format!(r"^FTP OK - {greeting} \| time=[0-9.]+s;;;0;10$"),
    );
    let tls = [
        "-H",
        "127.0.0.1",
        "-p",
        &port,
        "--starttls",
        "--ca-cert",
        &ca,
        "-D",
        "30,7",
    ];
    let mut named = tls.to_vec();
    named.extend(["--sni", "ftp.test"]);
    assert_answered(
        "check_ftp",
        &named,
        &format!("{greeting}; {}", will_expire("ftp.test")),
    );
    assert_json(
        "check_ftp",
        &tls,
        "CRITICAL",
        &format!(
            r"TLS handshake failed: certificate does not match the host name with 127\.0\.0\.1 port {port}; certificate 'ftp\.test' \(expires .*"
        ),
    );
}

#[test]
fn check_spamd_against_spamd() {
    let dir = tempfile::tempdir().unwrap();
    let d = start_spamd(dir.path());
    let port = d.port.to_string();
    let args = ["-H", "127.0.0.1", "-p", &port, "-t", "20"];
    let pong = format!(r"{} \[SPAMD/1\.5 0 PONG\]", response_time(&port));
    assert_text(
        "check_spamd",
        &args,
        0,
        &format!(r"^SPAMD OK - {pong} \| time=[0-9.]+s;;;0;20$"),
    );
    let v = assert_json("check_spamd", &args, "OK", &pong);
    assert_time_perf(&v, 20.0, None, None, 20.0);
    let garbage =
        fake_server(Fault::Garbage(b"SPAMD/1.0 76 Bad header line\r\n".to_vec())).to_string();
    assert_json(
        "check_spamd",
        &["-H", "127.0.0.1", "-p", &garbage],
        "CRITICAL",
        &format!(
            r"unexpected response from 127\.0\.0\.1 port {garbage}: SPAMD/1\.0 76 Bad header line"
        ),
    );
}

#[test]
fn check_jabber_against_prosody() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let cert = pki.issue("xmpp.test", &[], None);
    let d = start_prosody(dir.path(), "xmpp.test", &cert);
    let port = d.port.to_string();
    let ca = pki.ca_cert.to_string_lossy().to_string();
    let domain = |name: &'static str| ["-H", "127.0.0.1", "-p", &port, "--domain", name];
    let offered = format!(
        r"{}, domain xmpp\.test, STARTTLS offered",
        response_time(&port)
    );
    assert_text(
        "check_jabber",
        &domain("xmpp.test"),
        0,
        &format!(r"^JABBER OK - {offered} \| time=[0-9.]+s;;;0;10$"),
    );
    let mut tls = domain("xmpp.test").to_vec();
    tls.extend(["--ca-cert", &ca, "-D", "30,7"]);
    assert_answered(
        "check_jabber",
        &tls,
        &format!("{offered}; {}", will_expire("xmpp.test")),
    );
    assert_json(
        "check_jabber",
        &domain("nobody.test"),
        "CRITICAL",
        r"stream error from 127\.0\.0\.1 for domain nobody\.test: .*",
    );
}

#[test]
fn check_sip_against_kamailio() {
    let dir = tempfile::tempdir().unwrap();
    let (_k, port) = hcoop_tests::web::start_kamailio(dir.path());
    let port = port.to_string();
    let ok = format!(r"SIP/2\.0 200 OK - {}", response_time(&port));
    assert_text(
        "check_sip",
        &["-H", "127.0.0.1", "-p", &port],
        0,
        &format!(r"^SIP OK - {ok} \| time=[0-9.]+s;;;0;10$"),
    );
    for transport in [&[][..], &["--tcp"][..]] {
        let mut args = vec!["-H", "127.0.0.1", "-p", &port];
        args.extend_from_slice(transport);
        assert_answered("check_sip", &args, &ok);
        args.extend_from_slice(&["-e", "404"]);
        assert_json(
            "check_sip",
            &args,
            "CRITICAL",
            &format!(
                r"unexpected status SIP/2\.0 200 OK from 127\.0\.0\.1 port {port} \(expected 404\)"
            ),
        );
    }
    // a UDP port that says nothing: retransmissions, then CRITICAL before the timeout
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let sport = silent.local_addr().unwrap().port().to_string();
    let start = Instant::now();
    let v = assert_json(
        "check_sip",
        &["-H", "127.0.0.1", "-p", &sport, "-t", "2"],
        "CRITICAL",
        &format!(r"no final response from 127\.0\.0\.1 port {sport} within 1\.8 seconds"),
    );
    assert_eq!(v["perfdata"], serde_json::json!([]), "{v}");
    assert!(start.elapsed().as_secs_f64() < 2.5);
    assert!(
        silent.recv(&mut [0u8; 2048]).is_ok(),
        "the request was sent"
    );
    drop(silent);
    let v = assert_json(
        "check_sip",
        &["-H", "127.0.0.1", "-p", &sport, "-t", "2"],
        "CRITICAL",
        &format!(r"connect to address 127\.0\.0\.1 and port {sport}: Connection refused"),
    );
    assert_eq!(v["perfdata"], serde_json::json!([]), "{v}");
}

/// A bad host or port is one line naming the problem, exit 3, before any connection:
/// a newline in -H is shown escaped, never raw; port 0 is refused.
#[test]
fn bad_hosts_and_ports_are_one_line_and_unknown() {
    let checks = [
        ("check_tcp", "TCP", &["-p", "22"][..]),
        ("check_ssh", "SSH", &[][..]),
        ("check_ftp", "FTP", &[][..]),
        ("check_jabber", "JABBER", &[][..]),
        ("check_spamd", "SPAMD", &[][..]),
        ("check_sip", "SIP", &[][..]),
        ("check_pop", "POP", &[][..]),
        ("check_simap", "SIMAP", &[][..]),
        ("check_udp", "UDP", &["-p", "22", "-s", "x", "-e", "y"][..]),
    ];
    for (name, label, extra) in checks {
        let mut args = vec!["-H", "mail.test\nFAKE OK - injected"];
        args.extend_from_slice(extra);
        let r = plugin(name, &args);
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (
                3,
                format!("{label} UNKNOWN - invalid value 'mail.test\\nFAKE OK - injected' for '--hostname <HOST>': invalid host 'mail.test\\nFAKE OK - injected': '\\n' is not allowed in a host name\n").as_str()
            ),
            "{name}"
        );
        let long = "a".repeat(100_000);
        let r = plugin(name, &["-H", &long, "-p", "22"]);
        assert_eq!(r.code, 3, "{name}: {}", r.stdout);
        assert_eq!(r.stdout.lines().count(), 1, "{name}: {}", r.stdout);
        assert!(r.stdout.len() < 1000, "{name}: {} bytes", r.stdout.len());
        let r = plugin(name, &["-H", "127.0.0.1", "-p", "0"]);
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (
                3,
                format!("{label} UNKNOWN - invalid value '0' for '--port <PORT>': port 0 is out of range (1-65535)\n").as_str()
            ),
            "{name}"
        );
    }
    let r = plugin("check_jabber", &["-H", "127.0.0.1", "--domain", "a\nb'<x>"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (
            3,
            "JABBER UNKNOWN - --domain: invalid host 'a\\nb'<x>': '\\n' is not allowed in a host name\n"
        )
    );
}

/// Garbage from a server: check_tcp -e and check_ftp answer WARNING, as
/// monitoring-plugins' check_tcp does by default; `-M` picks the state (ok, warn, crit),
/// also for check_ssh, check_jabber and check_spamd (CRITICAL unless -M says otherwise).
#[test]
fn garbage_takes_the_state_of_mismatch() {
    let junk = fake_server(Fault::Garbage(b"HTTP/1.0 400 Bad Request\r\n".to_vec())).to_string();
    let said = format!("unexpected response from 127.0.0.1 port {junk}: HTTP/1.0 400 Bad Request");
    let cases: [(&str, &[&str], &str); 5] = [
        ("check_tcp", &["-e", "220"], "WARNING"),
        ("check_ftp", &[], "WARNING"),
        ("check_ssh", &[], "CRITICAL"),
        ("check_jabber", &[], "CRITICAL"),
        ("check_spamd", &[], "CRITICAL"),
    ];
    for (name, extra, default) in cases {
        for (mismatch, state) in [
            (None, default),
            (Some("ok"), "OK"),
            (Some("warn"), "WARNING"),
            (Some("crit"), "CRITICAL"),
        ] {
            let mut args = vec!["-H", "127.0.0.1", "-p", &junk];
            args.extend_from_slice(extra);
            if let Some(m) = mismatch {
                args.extend(["-M", m]);
            }
            let start = Instant::now();
            let v = assert_json(name, &args, state, &regex::escape(&said));
            assert_time_perf(&v, 2.0, None, None, 10.0);
            assert!(
                start.elapsed().as_secs_f64() < 2.0,
                "{name} {args:?}: garbage is judged at once"
            );
        }
        // --help says what -M does and its default
        let help = one_line(&plugin(name, &["--help"]).stdout);
        assert!(help.contains("-M, --mismatch <STATE>"), "{name}: {help}");
        assert!(
            help.contains(&format!("[default: {}]", &default[..4].to_lowercase())),
            "{name}: {help}"
        );
    }
    let help = one_line(&plugin("check_tcp", &["--help"]).stdout);
    assert!(
        help.contains("a reply without it takes the state of -M"),
        "{help}"
    );
    assert!(
        help.contains("-M, --mismatch <STATE> State when the reply does not contain the expected strings (-e): ok, warn, crit (default warn: WARNING, as monitoring-plugins' check_tcp) [default: warn]"),
        "{help}"
    );
}

/// Help text with its line wrapping undone.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
