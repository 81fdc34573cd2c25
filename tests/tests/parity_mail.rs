//! The cases of monitoring-plugins' own tests of check_imap and check_smtp
//! (plugins/t/check_imap.t, plugins/t/check_smtp.t at v2.3.3), run by Debian's plugins
//! and ours side by side against a real Dovecot and two real Exims on loopback (one with
//! STARTTLS, one without). The peer's "non-responsive host" is a server that accepts and
//! never answers, with -t 2 instead of the peer's 10 seconds to keep the test short.

use hcoop_tests::bind::ensure_loopback;
use hcoop_tests::free_port;
use hcoop_tests::mail::{Dovecot, Exim, EximSpec, MailUser};
use hcoop_tests::parity::{case, differs, OLD_TIMING_9, TIMING_9};
use hcoop_tests::web::{fake_server, Fault, Pki};

fn exim(ip: &str, port: u16, cert: Option<&hcoop_tests::web::CertPair>) -> Exim {
    Exim::start(&EximSpec {
        ip,
        port,
        hostname: "mx1.coop.test",
        cert,
        queue_only: false,
        auth: None,
    })
}

/// The loopback address of the Exim with STARTTLS, on port 25.
const SMTP_IP: &str = "127.0.0.45";

#[test]
fn peer_cases_of_check_imap_and_check_smtp() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let cert = pki.issue("mx1.coop.test", &[], None);
    let user = MailUser::create("hcooppar1", "pw");
    let dovecot = Dovecot::start(&[&user], &cert, true);
    // Debian's check_smtp ignores -p after a bare host: the peer's first case needs the
    // server on port 25, here on an address of its own
    ensure_loopback(SMTP_IP);
    let tls = exim(SMTP_IP, 25, Some(&cert));
    let plain = exim("127.0.0.1", free_port(), None);
    let hang = fake_server(Fault::Hang).to_string();
    let imap = dovecot.imap_port.to_string();
    let smtp = tls.port.to_string();
    let notls = plain.port.to_string();

    // check_imap.t
    // "Contacted imap": the host as a bare word
    case("check_imap", &["127.0.0.1", "-p", &imap], 0);
    // "Got right response": -w/-c are the response time
    let (d, o) = case(
        "check_imap",
        &[
            "-H",
            "127.0.0.1",
            "-p",
            &imap,
            "-w",
            "9",
            "-c",
            "9",
            "-to",
            "10",
            "-e",
            "* OK",
        ],
        0,
    );
    assert_eq!(o.labels_and_units(), [("time", "s")], "{}", o.stdout);
    assert_eq!(d.labels_and_units(), o.labels_and_units());
    // "Check old parameter options"
    case(
        "check_imap",
        &[
            &["127.0.0.1", "-p", &imap][..],
            &OLD_TIMING_9,
            &["-e", "* OK"],
        ]
        .concat(),
        0,
    );
    // "Get error with non reponsive host"
    let (d, o) = case(
        "check_imap",
        &["-H", "127.0.0.1", "-p", &hang, "-t", "2"],
        2,
    );
    // the phrase scripts grep for, kept
    for out in [&d.stdout, &o.stdout] {
        assert!(out.contains("Socket timeout after 2 seconds"), "{out}");
    }
    // "Invalid hostname"
    case("check_imap", &["nosuchhost.invalid"], 2);
    // "Got warning with bad response", "Got critical error with bad response"
    for (more, code) in [(&[][..], 1), (&["-M", "crit"], 2)] {
        let bad = ["-H", "127.0.0.1", "-p", &imap, "-e", "unlikely_string"];
        let (_, o) = case("check_imap", &[&bad[..], more].concat(), code);
        assert!(
            o.stdout
                .contains("Unexpected response from host/socket: * OK"),
            "{}",
            o.stdout
        );
    }

    // beyond the peer's tests: check_tcp's options as check_imap has them
    let imap_at = ["-H", "127.0.0.1", "-p", &imap];
    let (_, o) = case(
        "check_imap",
        &[
            &imap_at[..],
            &[
                "-E",
                "-s",
                "a1 CAPABILITY\\r\\n",
                "-e",
                "a1 OK",
                "-q",
                "a2 LOGOUT\\r\\n",
            ],
        ]
        .concat(),
        0,
    );
    assert!(o.stdout.starts_with("IMAP OK - "), "{}", o.stdout);
    let (_, o) = case(
        "check_imap",
        &[&imap_at[..], &["-e", "nothing like it", "-j", "-M", "ok"]].concat(),
        0,
    );
    assert!(!o.stdout.contains("Dovecot"), "{}", o.stdout);
    let closed = free_port().to_string();
    case(
        "check_imap",
        &["-H", "127.0.0.1", "-p", &closed, "-r", "warn"],
        1,
    );
    case("check_imap", &["-H", "127.0.0.1", "-p", &closed], 2);

    // check_smtp.t
    // "OK": the host as a bare word
    case("check_smtp", &[SMTP_IP], 0);
    // "OK, within 9 second response"
    let at = ["-H", SMTP_IP, "-p", &smtp];
    let (d, o) = case(
        "check_smtp",
        &[&at[..], &TIMING_9, &["-e", "220"]].concat(),
        0,
    );
    assert_eq!(o.labels_and_units(), [("time", "s")], "{}", o.stdout);
    assert_eq!(d.labels_and_units(), o.labels_and_units());
    // "OK, old syntax"
    case(
        "check_smtp",
        &[&at[..], &OLD_TIMING_9, &["-e", "220"]].concat(),
        0,
    );
    // "WARNING - got correct error when expecting 221 instead of 220"
    // "Correct error message" (a TODO in the peer's test: Debian's output starts with
    // the banner on a line of its own); ours starts with it
    let (_, o) = case("check_smtp", &["-H", SMTP_IP, "-p", &smtp, "-e", "221"], 1);
    assert!(o.stdout.starts_with("SMTP WARNING"), "{}", o.stdout);
    // "OK, with STARTTLS": ours verifies the certificate (the test CA is not trusted
    // without --ca-cert, which Debian's does not take); with it, OK
    let (_, o) = differs("check_smtp", &["-H", SMTP_IP, "-p", &smtp, "-S"], 0, 2);
    assert!(o.stdout.contains("certificate"), "{}", o.stdout);
    let ca = pki.ca_cert.display().to_string();
    let o = hcoop_tests::parity::ours(
        "check_smtp",
        &[
            "-H",
            SMTP_IP,
            "-p",
            &smtp,
            "-S",
            "--sni",
            "mx1.coop.test",
            "--ca-cert",
            &ca,
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stdout);
    // "OK, got warning from server without TLS": ours is CRITICAL, the words kept
    let (d, o) = differs("check_smtp", &["-H", "127.0.0.1", "-p", &notls, "-S"], 1, 2);
    assert_eq!(d.stdout, "WARNING - TLS not supported by server\n");
    assert!(
        o.stdout.contains("TLS not supported by server"),
        "{}",
        o.stdout
    );
    // "CRITICAL - host non responding"
    let (d, o) = case(
        "check_smtp",
        &["-H", "127.0.0.1", "-p", &hang, "-t", "2"],
        2,
    );
    // the phrase scripts grep for, kept
    for out in [&d.stdout, &o.stdout] {
        assert!(out.contains("Socket timeout after 2 seconds"), "{out}");
    }
    // "UNKNOWN - hostname invalid": ours is CRITICAL (a mail server whose name does not
    // resolve cannot be reached), as Debian's check_imap is for the same case
    differs("check_smtp", &["nosuchhost.invalid"], 3, 2);
    drop(user);
}

/// check_smtp -r (monitoring-plugins 3.0's --proxy, not in Debian's 2.3.3): the PROXY
/// header comes first, then the dialogue goes on as usual.
#[test]
fn smtp_proxy_header_comes_first() {
    use std::io::{BufRead, BufReader, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port().to_string();
    let server = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        let mut r = BufReader::new(s.try_clone().unwrap());
        let mut w = s;
        let mut first = String::new();
        r.read_line(&mut first).unwrap();
        w.write_all(b"220 fake ESMTP\r\n").unwrap();
        let mut seen = vec![first];
        for reply in [&b"250 fake\r\n"[..], b"221 bye\r\n"] {
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            w.write_all(reply).unwrap();
            seen.push(line);
        }
        seen
    });
    let o = hcoop_tests::parity::ours(
        "check_smtp",
        &["-H", "127.0.0.1", "-p", &port, "-r", "-F", "mon.test"],
    );
    assert_eq!(o.code, 0, "{}", o.stdout);
    let seen = server.join().unwrap();
    assert_eq!(
        seen,
        [
            "PROXY TCP4 0.0.0.0 0.0.0.0 25 25\r\n",
            "EHLO mon.test\r\n",
            "QUIT\r\n"
        ]
    );
}
