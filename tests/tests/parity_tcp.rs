//! The peer's cases of check_tcp, check_ssh, check_ftp, check_jabber, check_udp and
//! check_pop (monitoring-plugins 2.3.3, plugins/t), run by Debian's plugins and ours
//! against real servers on loopback ports: nginx, sshd, vsftpd, prosody, Dovecot (POP3,
//! POP3S, IMAPS, submissions) and a UDP socket of the test answering datagrams. The peer's "host not
//! responsive to network requests" is a loopback port whose accept queue is full (a
//! connect to it is never answered); its unknown host is `nosuchhost`. check_spop,
//! check_simap and check_ssmtp have no peer tests: their cases here are check_pop's.
//!
//! Debian's plugins do not verify TLS certificates; ours do, so where a case uses TLS
//! ours is also given the test CA (`--ca-cert`), and the case without it is a
//! deliberate difference (tests/PARITY.md).

use hcoop_tests::banners::{free_udp_port, Greeters, UdpResponder};
use hcoop_tests::free_port;
use hcoop_tests::parity::{
    self, case, differs, Outcome, OLD_LEVELS_300_600, OLD_TIMING_0, OLD_TIMING_9, TIMING_9,
};
use hcoop_tests::web::{start_nginx, start_prosody, start_sshd, start_vsftpd, Pki};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

/// A loopback port whose accept queue is full: a connect to it is never answered (the
/// kernel drops the SYN). The listener and the queued connections live as long as the
/// returned value.
struct Unanswered {
    _listener: TcpListener,
    _queued: Vec<TcpStream>,
    port: String,
}

fn unanswered() -> Unanswered {
    use std::os::fd::AsRawFd;
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    // SAFETY: listen(2) on a socket this function owns.
    assert_eq!(unsafe { libc::listen(l.as_raw_fd(), 0) }, 0);
    let addr = l.local_addr().unwrap();
    let queued: Vec<_> = (0..3)
        .filter_map(|_| TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok())
        .collect();
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_err(),
        "the accept queue of {addr} is not full"
    );
    Unanswered {
        _listener: l,
        _queued: queued,
        port: addr.port().to_string(),
    }
}

/// A peer case over TLS: Debian's plugin with `args`, ours with `args` and the test CA
/// to trust; both exit `code`, with the same perfdata labels and units.
fn case_trusting(plugin: &str, args: &[&str], ca: &str, code: i32) -> (Outcome, Outcome) {
    parity::case_extra(plugin, args, &["--ca-cert", ca], code)
}

fn says(o: &Outcome, text: &str) {
    assert!(
        o.stdout.contains(text),
        "expected {text:?} in {:?}",
        o.stdout
    );
}

#[test]
fn check_tcp_peer_cases() {
    let dir = tempfile::tempdir().unwrap();
    let n = start_nginx(dir.path());
    let (hp, sp) = (n.http_port.to_string(), n.https_port.to_string());
    let ca = n.pki.ca_cert.to_string_lossy().to_string();
    // the host as a bare word, the old -wt/-ct/-to
    let (_, o) = case(
        "check_tcp",
        &[&["localhost", "-p", &hp][..], &OLD_LEVELS_300_600].concat(),
        0,
    );
    says(&o, "TCP OK - ");
    assert_eq!(o.perf[0].label, "time");
    let closed = free_port().to_string();
    let (_, o) = case(
        "check_tcp",
        &[&["localhost", "-p", &closed][..], &OLD_TIMING_0].concat(),
        2,
    );
    says(&o, "Connection refused");
    let u = unanswered();
    let (d, o) = case(
        "check_tcp",
        &[&["127.0.0.1", "-p", &u.port][..], &OLD_TIMING_0].concat(),
        2,
    );
    says(&d, "Socket timeout after 1 seconds");
    says(&o, "Socket timeout after 1 seconds");
    let (d, o) = case(
        "check_tcp",
        &[&["nosuchhost", "-p", "80"][..], &OLD_TIMING_0].concat(),
        2,
    );
    says(&d, "Invalid hostname, address or socket: nosuchhost");
    says(&o, "Invalid hostname, address or socket: nosuchhost");
    // the certificate's days left (-D implies -S in both)
    let tls_at = ["-H", "127.0.0.1", "-p", &sp, "--sni", "a.test"];
    for (days, code) in [("1", 0), ("9000,1", 1), ("9000", 1), ("9000,8999", 2)] {
        let args = [&["-S", "-D", days][..], &tls_at].concat();
        case_trusting("check_tcp", &args, &ca, code);
    }
    // without the CA ours refuses the certificate (Debian does not verify)
    let (_, o) = differs(
        "check_tcp",
        &[&["-S", "-D", "1"][..], &tls_at].concat(),
        0,
        2,
    );
    says(&o, "issuer is not trusted");
    // -j hides the reply; -E makes \r\n bytes
    let (_, o) = case(
        "check_tcp",
        &[
            "localhost",
            "-p",
            &hp,
            "-E",
            "-s",
            r"GET / HTTP/1.1\r\n\r\n",
            "-e",
            "ThisShouldntMatch",
            "-j",
        ],
        1,
    );
    says(&o, "TCP WARNING - unexpected response from localhost port");
    assert!(!o.stdout.contains("400"), "{}", o.stdout);
    // over IPv6: a listener on ::1 (the peer's case also reaches www.heise.de, which
    // needs the internet)
    if let Ok(l6) = TcpListener::bind("[::1]:0") {
        let p6 = l6.local_addr().unwrap().port().to_string();
        case(
            "check_tcp",
            &[&["::1", "-p", &p6][..], &OLD_LEVELS_300_600, &["-6"]].concat(),
            0,
        );
    }
}

#[test]
fn check_tcp_options_of_the_peer() {
    let dir = tempfile::tempdir().unwrap();
    let n = start_nginx(dir.path());
    let hp = n.http_port.to_string();
    let get = r"GET / HTTP/1.0\r\nHost: a.test\r\n\r\n";
    let base = ["-H", "127.0.0.1", "-p", &hp, "-E", "-s", get];
    let with = |more: &[&'static str]| {
        let mut a = base.to_vec();
        a.extend_from_slice(more);
        a
    };
    case("check_tcp", &with(&["-e", "HTTP/1.1 200"]), 0);
    case(
        "check_tcp",
        &with(&["-e", "HTTP/1.1 200", "-e", "nginx", "-A"]),
        0,
    );
    case("check_tcp", &with(&["-e", "HTTP/2", "-M", "crit"]), 2);
    case("check_tcp", &with(&["-e", "HTTP/2", "-M", "ok"]), 0);
    case("check_tcp", &with(&["-e", "HTTP/1.1", "-m", "8"]), 0);
    case("check_tcp", &with(&["-e", "HTTP/1.1", "-d", "1"]), 0);
    // codes and --protocol are accepted and ignored, as the peer does
    case(
        "check_tcp",
        &with(&["-W", "1", "-C", "2", "--protocol", "x"]),
        0,
    );
    let closed = free_port().to_string();
    for (state, code) in [("ok", 0), ("warn", 1), ("crit", 2)] {
        case(
            "check_tcp",
            &["-H", "127.0.0.1", "-p", &closed, "-r", state],
            code,
        );
    }
    // a quit string gets \r\n unless -E
    case(
        "check_tcp",
        &["-H", "127.0.0.1", "-p", &hp, "-q", "QUIT"],
        0,
    );
    // bad options: UNKNOWN
    case(
        "check_tcp",
        &["-H", "127.0.0.1", "-p", &hp, "-r", "maybe"],
        3,
    );
    case("check_tcp", &["-H", "127.0.0.1", "-p", "-1"], 3);
}

#[test]
fn check_ssh_peer_cases() {
    let dir = tempfile::tempdir().unwrap();
    let sshd = start_sshd(dir.path());
    let p = sshd.port.to_string();
    let (d, o) = case("check_ssh", &["-H", "localhost", "-p", &p], 0);
    says(&d, "SSH OK - ");
    says(&o, "SSH OK - ");
    let u = unanswered();
    let (d, o) = case(
        "check_ssh",
        &["-H", "127.0.0.1", "-p", &u.port, "-t", "2"],
        2,
    );
    says(&d, "CRITICAL - Socket timeout after 2 seconds");
    says(&o, "Socket timeout after 2 seconds");
    // an unknown host: Debian refuses the name as a bad option (UNKNOWN); ours is
    // CRITICAL, as check_tcp, check_ftp and check_jabber are in both
    let (d, o) = differs("check_ssh", &["-H", "nosuchhost", "-t", "2"], 3, 2);
    says(&d, "check_ssh: Invalid hostname");
    says(&o, "Invalid hostname, address or socket: nosuchhost");
    // the versions the server must announce
    let banner = {
        use std::io::{BufRead, BufReader};
        let s = TcpStream::connect(("127.0.0.1", sshd.port)).unwrap();
        let mut line = String::new();
        BufReader::new(s).read_line(&mut line).unwrap();
        line.trim_end().to_string()
    };
    let software = banner.strip_prefix("SSH-2.0-").expect("an SSH-2.0 banner");
    case(
        "check_ssh",
        &["-H", "127.0.0.1", "-p", &p, "-r", software],
        0,
    );
    case(
        "check_ssh",
        &["-H", "127.0.0.1", "-p", &p, "-r", "OpenSSH_0.1"],
        2,
    );
    case("check_ssh", &["-H", "127.0.0.1", "-p", &p, "-P", "2.0"], 0);
    case("check_ssh", &["-H", "127.0.0.1", "-p", &p, "-P", "1.99"], 2);
    // the host as the last word, as the peer's usage puts it
    case("check_ssh", &["-p", &p, "127.0.0.1"], 0);
    let closed = free_port().to_string();
    let (_, o) = case("check_ssh", &["-H", "127.0.0.1", "-p", &closed], 2);
    says(&o, "Connection refused");
}

#[test]
fn check_ftp_peer_cases() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let cert = pki.issue("ftp.test", &[], None);
    let ftp = start_vsftpd(dir.path(), &cert);
    let p = ftp.port.to_string();
    let (_, o) = case(
        "check_ftp",
        &[&["localhost", "-p", &p][..], &OLD_LEVELS_300_600].concat(),
        0,
    );
    says(&o, "FTP OK - ");
    let u = unanswered();
    case(
        "check_ftp",
        &[&["127.0.0.1", "-p", &u.port][..], &OLD_TIMING_0].concat(),
        2,
    );
    case("check_ftp", &["nosuchhost", "-wt", "0", "-ct", "0"], 2);
}

#[test]
fn check_jabber_peer_cases() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let cert = pki.issue("localhost", &[], None);
    let prosody = start_prosody(dir.path(), "localhost", &cert);
    let p = prosody.port.to_string();
    let ok = "second response time on localhost port";
    let (_, o) = case("check_jabber", &["-H", "localhost", "-p", &p], 0);
    says(&o, "JABBER OK - ");
    says(&o, ok);
    for timing in [TIMING_9, OLD_TIMING_9] {
        let (_, o) = case(
            "check_jabber",
            &[&["-H", "localhost", "-p", &p][..], &timing].concat(),
            0,
        );
        says(&o, ok);
    }
    // the peer waits its default 10 seconds here; 2 keeps this test short
    let u = unanswered();
    let (d, o) = case("check_jabber", &["127.0.0.1", "-p", &u.port, "-t", "2"], 2);
    says(&d, "CRITICAL - Socket timeout after 2 seconds");
    says(&o, "Socket timeout after 2 seconds");
    let (d, o) = case("check_jabber", &["nosuchhost"], 2);
    says(
        &d,
        "JABBER CRITICAL - Invalid hostname, address or socket: nosuchhost",
    );
    says(
        &o,
        "JABBER CRITICAL - Invalid hostname, address or socket: nosuchhost",
    );
}

#[test]
fn check_udp_peer_cases() {
    let none = free_udp_port().to_string();
    let need = "With UDP checks, a send/expect string must be specified.";
    for more in [&[][..], &["-s", "send"], &["-e", "expect"]] {
        let mut args = vec!["-H", "localhost", "-p", &none];
        args.extend_from_slice(more);
        let (d, o) = case("check_udp", &args, 3);
        says(&d, need);
        says(&o, need);
    }
    let (d, o) = case(
        "check_udp",
        &["-H", "localhost", "-p", &none, "-s", "foo", "-e", "bar"],
        2,
    );
    says(&d, "No data received from host");
    says(&o, "No data received from host");
    let echo = UdpResponder::start("barbar");
    let ep = echo.port.to_string();
    let (_, o) = case(
        "check_udp",
        &["-H", "localhost", "-p", &ep, "-s", "", "-e", "barbar", "-4"],
        0,
    );
    says(&o, "[barbar]");
    case(
        "check_udp",
        &["-H", "127.0.0.1", "-p", &ep, "-s", "x", "-e", "other"],
        1,
    );
    case(
        "check_udp",
        &[
            "-H",
            "127.0.0.1",
            "-p",
            &ep,
            "-s",
            "x",
            "-e",
            "other",
            "-M",
            "crit",
        ],
        2,
    );
    // a service that reads and never answers: the time runs out (the peer waits 5
    // seconds; 2 keeps this test short), and the datagram arrived whole
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let sp = silent.local_addr().unwrap().port().to_string();
    let args = [
        "-H",
        "localhost",
        "-p",
        &sp,
        "-s",
        "foofoo",
        "-e",
        "barbar",
        "-t",
        "2",
        "-4",
    ];
    for debians in [true, false] {
        let who = if debians { "Debian's" } else { "ours" };
        let start = Instant::now();
        let o = if debians {
            parity::debian("check_udp", &args)
        } else {
            parity::ours("check_udp", &args)
        };
        let took = start.elapsed().as_secs_f64();
        assert_eq!(o.code, 2, "{who}: {}", o.stdout);
        says(&o, "Socket timeout after 2 seconds");
        assert!((1.5..3.0).contains(&took), "{who} took {took} s");
        let mut buf = [0u8; 64];
        let n = silent.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"foofoo", "{who}");
    }
}

#[test]
fn check_pop_and_the_tls_mail_banners() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let cert = pki.issue("localhost", &[], None);
    let ca = pki.ca_cert.to_string_lossy().to_string();
    let g = Greeters::start(&cert);
    let pop = g.pop3_port.to_string();
    // the peer's check_pop cases
    let (_, o) = case("check_pop", &["localhost", "-p", &pop], 0);
    says(&o, "POP OK - ");
    for (host, timing) in [
        (&["-H", "localhost"][..], TIMING_9),
        (&["localhost"], OLD_TIMING_9),
    ] {
        let args = [host, &["-p", &pop], &timing, &["-e", "+OK"]].concat();
        case("check_pop", &args, 0);
    }
    let u = unanswered();
    case("check_pop", &["127.0.0.1", "-p", &u.port, "-t", "2"], 2);
    case("check_pop", &["nosuchhost"], 2);
    // a reply without the expected string: WARNING, or the state of -M
    for (more, code) in [(&[][..], 1), (&["-M", "crit"], 2)] {
        let args = [&["-H", "localhost", "-p", &pop, "-e", "unlikely"][..], more].concat();
        case("check_pop", &args, code);
    }
    // the same cases for the TLS checks, whose ports are TLS from the start
    let tls = [
        ("check_pop", g.pop3s_port, "-S"),
        ("check_spop", g.pop3s_port, ""),
        ("check_simap", g.imaps_port, ""),
        ("check_ssmtp", g.submissions_port, ""),
    ];
    for (name, port, flag) in tls {
        let port = port.to_string();
        let mut args = vec!["localhost", "-p", &port];
        if !flag.is_empty() {
            args.push(flag);
        }
        let (_, o) = case_trusting(name, &args, &ca, 0);
        assert_eq!(o.perf[0].label, "time", "{}", o.stdout);
        let mut days = args.clone();
        days.extend_from_slice(&["-D", "9000,1"]);
        case_trusting(name, &days, &ca, 1);
        let mut odd = args.clone();
        odd.extend_from_slice(&["-e", "unlikely", "-M", "crit"]);
        case_trusting(name, &odd, &ca, 2);
        // without the CA ours refuses the certificate (Debian does not verify)
        differs(name, &args, 0, 2);
        case(name, &["127.0.0.1", "-p", &u.port, "-t", "1"], 2);
        case(name, &["nosuchhost"], 2);
    }
    // a plain port to a TLS check: the handshake fails
    case_trusting("check_simap", &["localhost", "-p", &pop], &ca, 2);
    assert!(!g.log().contains("Fatal"), "{}", g.log());
}
