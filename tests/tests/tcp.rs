//! The TCP service checks against real servers started on loopback ports (nginx, sshd,
//! vsftpd, spamd, prosody) and fake servers for hang, garbage, trickle and reset.

use hcoop_tests::web::{
    fake_server, start_nginx, start_prosody, start_spamd, start_sshd, start_vsftpd, Fault, Pki,
};
use hcoop_tests::{free_port, plugin, Run};
use regex::Regex;
use std::time::Instant;

fn assert_line(r: &Run, code: i32, pattern: &str) {
    let re = Regex::new(pattern).unwrap();
    assert!(
        r.code == code && re.is_match(r.first_line()),
        "expected exit {code} and /{pattern}/, got exit {}: {}{}",
        r.code,
        r.stdout,
        r.stderr
    );
}

#[test]
fn check_tcp_against_nginx_and_faults() {
    let dir = tempfile::tempdir().unwrap();
    let n = start_nginx(dir.path());
    let hp = n.http_port.to_string();
    let sp = n.https_port.to_string();
    let ca = n.pki.ca_cert.to_string_lossy().to_string();
    assert_line(
        &plugin("check_tcp", &["-H", "127.0.0.1", "-p", &hp]),
        0,
        &format!(
            r"^TCP OK - \d\.\d{{3}} second response time on 127\.0\.0\.1 port {hp} \| time=[0-9.]+s;;;0;10$"
        ),
    );
    let get = r"GET / HTTP/1.0\r\nHost: b.test\r\n\r\n";
    assert_line(
        &plugin(
            "check_tcp",
            &[
                "-H",
                "127.0.0.1",
                "-p",
                &hp,
                "-E",
                "-s",
                get,
                "-e",
                "HTTP/1.1 200 OK",
            ],
        ),
        0,
        &format!(
            r"^TCP OK - \d\.\d{{3}} second response time on 127\.0\.0\.1 port {hp} \[HTTP/1\.1 200 OK"
        ),
    );
    assert_line(
        &plugin(
            "check_tcp",
            &[
                "-H",
                "127.0.0.1",
                "-p",
                &hp,
                "-E",
                "-s",
                get,
                "-e",
                "HTTP/1.1 200",
                "-e",
                "b.test here",
                "-A",
                "-m",
                "100000",
            ],
        ),
        0,
        r"^TCP OK - ",
    );
    assert_line(
        &plugin(
            "check_tcp",
            &[
                "-H",
                "127.0.0.1",
                "-p",
                &hp,
                "-E",
                "-s",
                get,
                "-e",
                "HTTP/2",
            ],
        ),
        1,
        &format!(
            r"^TCP WARNING - unexpected response from 127\.0\.0\.1 port {hp}: HTTP/1\.1 200 OK "
        ),
    );
    assert_eq!(
        plugin(
            "check_tcp",
            &[
                "-H",
                "127.0.0.1",
                "-p",
                &hp,
                "-E",
                "-s",
                get,
                "-e",
                "HTTP/2",
                "-M",
                "crit"
            ]
        )
        .code,
        2
    );
    // TLS with the certificate's days left, and an expired one
    assert_line(
        &plugin(
            "check_tcp",
            &[
                "-H",
                "127.0.0.1",
                "-p",
                &sp,
                "-S",
                "--sni",
                "a.test",
                "--ca-cert",
                &ca,
                "-D",
                "30,7",
            ],
        ),
        0,
        &format!(
            r"^TCP OK - \d\.\d{{3}} second response time on 127\.0\.0\.1 port {sp}; certificate 'a\.test' will expire on .* \((199|200) days\) \|"
        ),
    );
    assert_line(
        &plugin(
            "check_tcp",
            &[
                "-H",
                "127.0.0.1",
                "-p",
                &sp,
                "-S",
                "--sni",
                "expired.test",
                "--ca-cert",
                &ca,
                "-D",
                "30",
            ],
        ),
        2,
        &format!(
            r"^TCP CRITICAL - TLS handshake failed: certificate has expired with 127\.0\.0\.1 port {sp}; certificate 'expired\.test' expired on 2020-02-01 00:00:00 UTC$"
        ),
    );
    // refused: CRITICAL unless -r says otherwise
    let closed = free_port().to_string();
    let r = plugin("check_tcp", &["-H", "127.0.0.1", "-p", &closed]);
    assert_eq!(
        (r.code, r.stdout.clone()),
        (2, format!("TCP CRITICAL - connect to address 127.0.0.1 and port {closed}: Connection refused\n"))
    );
    assert_eq!(
        plugin(
            "check_tcp",
            &["-H", "127.0.0.1", "-p", &closed, "-r", "warn"]
        )
        .code,
        1
    );

    // a server that accepts and says nothing: CRITICAL before the timeout
    let hang = fake_server(Fault::Hang).to_string();
    let start = Instant::now();
    let r = plugin(
        "check_tcp",
        &["-H", "127.0.0.1", "-p", &hang, "-e", "220", "-t", "2"],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stdout.starts_with(&format!(
            "TCP CRITICAL - no response from 127.0.0.1 port {hang} within 1."
        )),
        "{}",
        r.stdout
    );
    assert!(start.elapsed().as_secs_f64() < 2.5);
    let reset = fake_server(Fault::Reset).to_string();
    assert_line(
        &plugin("check_tcp", &["-H", "127.0.0.1", "-p", &reset, "-e", "220"]),
        2,
        &format!(
            r"^TCP CRITICAL - (connection to 127\.0\.0\.1 port {reset} failed: |connect to address 127\.0\.0\.1 and port {reset}: Connection reset|no response from 127\.0\.0\.1 port {reset})"
        ),
    );
    // bad usage
    let r = plugin("check_tcp", &["-H", "127.0.0.1"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (3, "TCP UNKNOWN - a port (-p) is required\n")
    );
}

#[test]
fn check_ssh_against_sshd_and_faults() {
    let dir = tempfile::tempdir().unwrap();
    let d = start_sshd(dir.path());
    let port = d.port.to_string();
    let r = plugin("check_ssh", &["-H", "127.0.0.1", "-p", &port]);
    assert_line(
        &r,
        0,
        r"^SSH OK - OpenSSH_\S+( .*)? \(protocol 2\.0\) \| time=",
    );
    let version = Regex::new(r"^SSH OK - (.*) \(protocol")
        .unwrap()
        .captures(r.first_line())
        .unwrap()[1]
        .to_string();
    assert_eq!(
        plugin(
            "check_ssh",
            &["-H", "127.0.0.1", "-p", &port, "-r", &version]
        )
        .code,
        0
    );
    assert_line(
        &plugin(
            "check_ssh",
            &["-H", "127.0.0.1", "-p", &port, "-r", "OpenSSH_1.0"],
        ),
        2,
        r"^SSH CRITICAL - OpenSSH_.* \(protocol 2\.0\) version mismatch, expected 'OpenSSH_1\.0'",
    );
    assert_eq!(
        plugin("check_ssh", &["-H", "127.0.0.1", "-p", &port, "-P", "2.0"]).code,
        0
    );

    let garbage = fake_server(Fault::Garbage(b"220 not ssh\r\n".to_vec())).to_string();
    assert_line(
        &plugin("check_ssh", &["-H", "127.0.0.1", "-p", &garbage]),
        2,
        &format!(
            r"^SSH CRITICAL - unexpected response from 127\.0\.0\.1 port {garbage}: 220 not ssh"
        ),
    );
    let trickle = fake_server(Fault::Trickle(b"SSH-2.0-slowly".to_vec())).to_string();
    let start = Instant::now();
    assert_line(
        &plugin("check_ssh", &["-H", "127.0.0.1", "-p", &trickle, "-t", "2"]),
        2,
        &format!(
            r"^SSH CRITICAL - incomplete response from 127\.0\.0\.1 port {trickle} within 1\.\d seconds: SSH-2"
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
    assert_line(
        &plugin("check_ftp", &["-H", "127.0.0.1", "-p", &port]),
        0,
        &format!(
            r"^FTP OK - \d\.\d{{3}} second response time on 127\.0\.0\.1 port {port} \[220 hcoop test FTP\] \|"
        ),
    );
    assert_line(
        &plugin(
            "check_ftp",
            &[
                "-H",
                "127.0.0.1",
                "-p",
                &port,
                "--starttls",
                "--sni",
                "ftp.test",
                "--ca-cert",
                &ca,
                "-D",
                "30,7",
            ],
        ),
        0,
        r"^FTP OK - .*\[220 hcoop test FTP\]; certificate 'ftp\.test' will expire on .* \((199|200) days\) \|",
    );
    assert_line(
        &plugin(
            "check_ftp",
            &[
                "-H",
                "127.0.0.1",
                "-p",
                &port,
                "--starttls",
                "--ca-cert",
                &ca,
                "-D",
                "30,7",
            ],
        ),
        2,
        r"^FTP CRITICAL - TLS handshake failed: certificate does not match the host name with 127\.0\.0\.1 port \d+; certificate 'ftp\.test' \(expires ",
    );
}

#[test]
fn check_spamd_against_spamd() {
    let dir = tempfile::tempdir().unwrap();
    let d = start_spamd(dir.path());
    let port = d.port.to_string();
    assert_line(
        &plugin("check_spamd", &["-H", "127.0.0.1", "-p", &port, "-t", "20"]),
        0,
        &format!(
            r"^SPAMD OK - \d\.\d{{3}} second response time on 127\.0\.0\.1 port {port} \[SPAMD/1\.5 0 PONG\] \|"
        ),
    );
    let garbage =
        fake_server(Fault::Garbage(b"SPAMD/1.0 76 Bad header line\r\n".to_vec())).to_string();
    assert_line(
        &plugin("check_spamd", &["-H", "127.0.0.1", "-p", &garbage]),
        2,
        r"^SPAMD CRITICAL - unexpected response from 127\.0\.0\.1 port \d+: SPAMD/1\.0 76 Bad header line",
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
    assert_line(
        &plugin(
            "check_jabber",
            &["-H", "127.0.0.1", "-p", &port, "--domain", "xmpp.test"],
        ),
        0,
        &format!(
            r"^JABBER OK - \d\.\d{{3}} second response time on 127\.0\.0\.1 port {port}, domain xmpp\.test, STARTTLS offered \|"
        ),
    );
    assert_line(
        &plugin(
            "check_jabber",
            &[
                "-H",
                "127.0.0.1",
                "-p",
                &port,
                "--domain",
                "xmpp.test",
                "--ca-cert",
                &ca,
                "-D",
                "30,7",
            ],
        ),
        0,
        r"^JABBER OK - .*STARTTLS offered; certificate 'xmpp\.test' will expire on .* \((199|200) days\) \|",
    );
    assert_line(
        &plugin(
            "check_jabber",
            &["-H", "127.0.0.1", "-p", &port, "--domain", "nobody.test"],
        ),
        2,
        r"^JABBER CRITICAL - stream error from 127\.0\.0\.1 for domain nobody\.test",
    );
}

#[test]
fn check_sip_against_kamailio() {
    let dir = tempfile::tempdir().unwrap();
    let (_k, port) = hcoop_tests::web::start_kamailio(dir.path());
    let port = port.to_string();
    for transport in [&[][..], &["--tcp"][..]] {
        let mut args = vec!["-H", "127.0.0.1", "-p", &port];
        args.extend_from_slice(transport);
        assert_line(
            &plugin("check_sip", &args),
            0,
            &format!(
                r"^SIP OK - SIP/2\.0 200 OK - \d\.\d{{3}} second response time on 127\.0\.0\.1 port {port} \| time="
            ),
        );
        args.extend_from_slice(&["-e", "404"]);
        assert_line(
            &plugin("check_sip", &args),
            2,
            &format!(
                r"^SIP CRITICAL - unexpected status SIP/2\.0 200 OK from 127\.0\.0\.1 port {port} \(expected 404\)"
            ),
        );
    }
    // a UDP port that says nothing: retransmissions, then CRITICAL before the timeout
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let sport = silent.local_addr().unwrap().port().to_string();
    let start = Instant::now();
    let r = plugin("check_sip", &["-H", "127.0.0.1", "-p", &sport, "-t", "2"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (
            2,
            format!(
                "SIP CRITICAL - no final response from 127.0.0.1 port {sport} within 1.8 seconds\n"
            )
            .as_str()
        )
    );
    assert!(start.elapsed().as_secs_f64() < 2.5);
    assert!(
        silent.recv(&mut [0u8; 2048]).is_ok(),
        "the request was sent"
    );
    drop(silent);
    let r = plugin("check_sip", &["-H", "127.0.0.1", "-p", &sport, "-t", "2"]);
    assert_eq!(
        r.stdout,
        format!(
            "SIP CRITICAL - connect to address 127.0.0.1 and port {sport}: Connection refused\n"
        )
    );
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
    let cases: [(&str, &str, &[&str], &str); 5] = [
        ("check_tcp", "TCP", &["-e", "220"], "WARNING"),
        ("check_ftp", "FTP", &[], "WARNING"),
        ("check_ssh", "SSH", &[], "CRITICAL"),
        ("check_jabber", "JABBER", &[], "CRITICAL"),
        ("check_spamd", "SPAMD", &[], "CRITICAL"),
    ];
    for (name, label, extra, default) in cases {
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
            let r = plugin(name, &args);
            let code = match state {
                "OK" => 0,
                "WARNING" => 1,
                _ => 2,
            };
            assert_line(
                &r,
                code,
                &format!(r"^{label} {state} - {} \| time=", regex::escape(&said)),
            );
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
        help.contains("a reply without it is WARNING, or the state of -M"),
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
