//! check_smtp and check_imap against a real Exim and a real Dovecot on loopback ports,
//! with certificates from a test CA; fakes only for a server that hangs.

use hcoop_tests::mail::{Dovecot, Exim, EximSpec, MailUser};
use hcoop_tests::web::{fake_server, CertPair, Fault, Pki};
use hcoop_tests::{free_port, plugin, Run};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The CA, a valid and an expired certificate for `name`, and a password file.
struct Fixture {
    dir: tempfile::TempDir,
    pki: Pki,
    valid: CertPair,
    expired: CertPair,
}

impl Fixture {
    fn new(name: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::new(dir.path());
        let valid = pki.issue(name, &[], None);
        let expired = pki.issue(
            &format!("old.{name}"),
            &[name],
            Some(("20200101000000Z", "20210101000000Z")),
        );
        Fixture {
            dir,
            pki,
            valid,
            expired,
        }
    }

    fn ca(&self) -> String {
        self.pki.ca_cert.display().to_string()
    }

    fn secret(&self, text: &str) -> String {
        let p: PathBuf = self.dir.path().join(format!("pw-{}", text.len()));
        std::fs::write(&p, format!("{text}\n")).unwrap();
        p.display().to_string()
    }
}

fn exim(cert: Option<&CertPair>, auth: Option<(&str, &str)>) -> Exim {
    Exim::start(&EximSpec {
        ip: "127.0.0.1",
        port: free_port(),
        hostname: "mx1.coop.test",
        cert,
        queue_only: false,
        auth,
    })
}

fn expect(r: &Run, code: i32, first: &str) {
    assert_eq!(r.code, code, "{}{}", r.stdout, r.stderr);
    assert!(
        r.first_line().starts_with(first),
        "expected a first line starting with {first:?}, got {:?}",
        r.first_line()
    );
}

fn perf_labels(r: &Run) -> Vec<String> {
    let perf = r.first_line().split_once(" | ").map_or("", |(_, p)| p);
    perf.split_whitespace()
        .map(|i| i.split('=').next().unwrap().to_string())
        .collect()
}

#[test]
fn smtp_starttls_auth_and_certificate() {
    let f = Fixture::new("mx1.coop.test");
    let x = exim(Some(&f.valid), Some(("monitor", "s3cret pw")));
    let port = x.port.to_string();
    let pw = f.secret("s3cret pw");
    let ca = f.ca();
    let base = [
        "-H",
        "127.0.0.1",
        "-p",
        &port,
        "-F",
        "monitor.test",
        "-S",
        "--sni",
        "mx1.coop.test",
        "--ca-cert",
        &ca,
        "-D",
        "30,7",
    ];
    let mut args = base.to_vec();
    args.extend(["-A", "PLAIN", "-U", "monitor", "--authpass-file", &pw]);
    let r = plugin("check_smtp", &args);
    expect(&r, 0, "SMTP OK - ");
    let line = r.first_line();
    assert!(
        line.contains(&format!(
            "on 127.0.0.1 port {port} [220 mx1.coop.test ESMTP Exim"
        )),
        "{line}"
    );
    assert!(
        line.contains(
            "], STARTTLS, AUTH PLAIN as monitor; certificate 'mx1.coop.test' will expire on "
        ),
        "{line}"
    );
    assert_eq!(
        perf_labels(&r),
        [
            "time",
            "connect_time",
            "banner_time",
            "ehlo_time",
            "starttls_time",
            "ehlo_tls_time",
            "auth_time",
            "quit_time"
        ]
    );
    // LOGIN with the wrong password
    let bad = f.secret("wrong");
    let mut args = base.to_vec();
    args.extend(["-A", "LOGIN", "-U", "monitor", "--authpass-file", &bad]);
    let r = plugin("check_smtp", &args);
    expect(
        &r,
        2,
        &format!("SMTP CRITICAL - authentication as monitor failed: '535 Incorrect authentication data' (127.0.0.1 port {port})"),
    );
    // command/response pairs
    let mut args = base.to_vec();
    args.extend([
        "-C",
        "NOOP",
        "-R",
        "^250",
        "-C",
        "VRFY nobody",
        "-R",
        "^250",
    ]);
    let r = plugin("check_smtp", &args);
    expect(&r, 1, "SMTP WARNING - reply '");
    assert!(
        r.first_line()
            .contains("to 'VRFY nobody' does not match '^250'"),
        "{}",
        r.stdout
    );
    // the certificate's name must match the name asked for
    let mut args = base.to_vec();
    args[8] = "other.coop.test";
    let r = plugin("check_smtp", &args);
    expect(&r, 2, "SMTP CRITICAL - ");
    assert!(
        r.first_line()
            .contains("certificate does not match the host name"),
        "{}",
        r.stdout
    );
}

#[test]
fn smtp_without_starttls_and_with_expired_certificate() {
    let f = Fixture::new("mx1.coop.test");
    let plain = exim(None, None);
    let port = plain.port.to_string();
    let r = plugin(
        "check_smtp",
        &["-H", "127.0.0.1", "-p", &port, "-F", "m.test"],
    );
    expect(&r, 0, "SMTP OK - ");
    let r = plugin(
        "check_smtp",
        &["-H", "127.0.0.1", "-p", &port, "-F", "m.test", "-S"],
    );
    expect(
        &r,
        2,
        &format!("SMTP CRITICAL - STARTTLS not offered (127.0.0.1 port {port}) |"),
    );
    let old = exim(Some(&f.expired), None);
    let port = old.port.to_string();
    let ca = f.ca();
    let r = plugin(
        "check_smtp",
        &[
            "-H",
            "127.0.0.1",
            "-p",
            &port,
            "-F",
            "m.test",
            "-S",
            "--sni",
            "mx1.coop.test",
            "--ca-cert",
            &ca,
        ],
    );
    expect(
        &r,
        2,
        "SMTP CRITICAL - TLS handshake failed: certificate has expired (127.0.0.1 port ",
    );
    assert!(
        r.first_line()
            .contains("; certificate 'old.mx1.coop.test' expired on 2021-01-01 00:00:00 UTC"),
        "{}",
        r.stdout
    );
}

#[test]
fn smtp_refused_hanging_garbage_and_bad_options() {
    let port = free_port().to_string();
    let r = plugin("check_smtp", &["-H", "127.0.0.1", "-p", &port]);
    expect(
        &r,
        2,
        &format!(
            "SMTP CRITICAL - connect to address 127.0.0.1 and port {port}: Connection refused"
        ),
    );
    let hang = fake_server(Fault::Garbage(b"220 fake ESMTP\r\n".to_vec())).to_string();
    let start = Instant::now();
    let r = plugin("check_smtp", &["-H", "127.0.0.1", "-p", &hang, "-t", "2"]);
    assert!(start.elapsed() < Duration::from_secs(4));
    expect(
        &r,
        2,
        &format!("SMTP CRITICAL - no reply to EHLO within 1.8 seconds (127.0.0.1 port {hang})"),
    );
    let junk = fake_server(Fault::Garbage(b"SSH-2.0-OpenSSH\r\n".to_vec())).to_string();
    let r = plugin("check_smtp", &["-H", "127.0.0.1", "-p", &junk]);
    expect(
        &r,
        2,
        &format!("SMTP CRITICAL - not an SMTP reply: 'SSH-2.0-OpenSSH' (for banner) (127.0.0.1 port {junk})"),
    );
    let r = plugin("check_smtp", &["-H", "127.0.0.1", "-D", "30"]);
    assert_eq!(
        (r.code, r.first_line()),
        (3, "SMTP UNKNOWN - -D needs TLS (-S or -s)")
    );
}

fn imap_user(name: &str) -> MailUser {
    let u = MailUser::create(name, "imap pw");
    let new = u.home.join("Maildir/new");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(u.home.join("Maildir").join(sub)).unwrap();
    }
    std::fs::write(
        new.join("1700000000.M1P1.test"),
        "From: a@coop.test\r\nSubject: hello\r\n\r\nbody\r\n",
    )
    .unwrap();
    let chown = std::process::Command::new("chown")
        .args(["-R", &format!("{}:{}", u.uid, u.gid)])
        .arg(u.home.join("Maildir"))
        .status()
        .unwrap();
    assert!(chown.success());
    u
}

fn imap_args<'a>(port: &'a str, ca: &'a str, pw: &'a str) -> Vec<&'a str> {
    vec![
        "-H",
        "127.0.0.1",
        "-p",
        port,
        "--sni",
        "imap.coop.test",
        "--ca-cert",
        ca,
        "-U",
        "hcoopimap1",
        "--password-file",
        pw,
    ]
}

#[test]
fn imap_starttls_imaps_login_and_counts() {
    let f = Fixture::new("imap.coop.test");
    let u = imap_user("hcoopimap1");
    let d = Dovecot::start(&[&u], &f.valid, true);
    let port = d.imap_port.to_string();
    let ca = f.ca();
    let pw = f.secret("imap pw");
    let mut args = imap_args(&port, &ca, &pw);
    args.extend([
        "--starttls",
        "-D",
        "30,7",
        "-m",
        "INBOX",
        "-w",
        "5",
        "-c",
        "10",
    ]);
    let r = plugin("check_imap", &args);
    expect(&r, 0, "IMAP OK - ");
    let line = r.first_line();
    assert!(
        line.contains(&format!("on 127.0.0.1 port {port} [* OK ")),
        "{line}"
    );
    assert!(line.contains(", STARTTLS, logged in as hcoopimap1, INBOX: 1 messages (1 unseen, 1 recent); certificate 'imap.coop.test' will expire on "), "{line}");
    assert!(
        line.contains(" messages=1;5;10;0 unseen=1;;;0 recent=1;;;0 "),
        "{line}"
    );
    assert_eq!(
        perf_labels(&r)[4..],
        [
            "connect_time",
            "greeting_time",
            "capability_time",
            "starttls_time",
            "capability_tls_time",
            "login_time",
            "mailbox_time",
            "logout_time"
        ]
    );
    // -w/-c on the message count
    let mut args = imap_args(&port, &ca, &pw);
    args.extend(["--starttls", "-m", "INBOX", "-c", "0"]);
    expect(&plugin("check_imap", &args), 2, "IMAP CRITICAL - ");
    // IMAPS
    let sport = d.imaps_port.to_string();
    let mut args = imap_args(&sport, &ca, &pw);
    args.extend(["-S", "-D", "30"]);
    let r = plugin("check_imap", &args);
    expect(&r, 0, "IMAP OK - ");
    assert!(
        r.first_line()
            .contains("logged in as hcoopimap1; certificate 'imap.coop.test'"),
        "{}",
        r.stdout
    );
    // wrong password
    let bad = f.secret("wrong");
    let mut args = imap_args(&port, &ca, &bad);
    args.push("--starttls");
    let r = plugin("check_imap", &args);
    expect(
        &r,
        2,
        &format!("IMAP CRITICAL - login as hcoopimap1 failed: NO [AUTHENTICATIONFAILED] Authentication failed. (127.0.0.1 port {port})"),
    );
    // the password from the environment
    let out = std::process::Command::new(hcoop_tests::bin("check_imap"))
        .args([
            "-H",
            "127.0.0.1",
            "-p",
            &port,
            "--starttls",
            "--sni",
            "imap.coop.test",
            "--ca-cert",
            &ca,
        ])
        .args([
            "-U",
            "hcoopimap1",
            "--password-env",
            "IMAP_PW",
            "-m",
            "INBOX",
        ])
        .env("IMAP_PW", "imap pw")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    drop(u);
}

#[test]
fn imap_without_tls_expired_and_hanging() {
    let f = Fixture::new("imap.coop.test");
    let u = imap_user("hcoopimap2");
    let plain = Dovecot::start(&[&u], &f.valid, false);
    let port = plain.imap_port.to_string();
    let r = plugin(
        "check_imap",
        &["-H", "127.0.0.1", "-p", &port, "--starttls"],
    );
    expect(
        &r,
        2,
        &format!("IMAP CRITICAL - STARTTLS not offered (127.0.0.1 port {port}) |"),
    );
    expect(
        &plugin("check_imap", &["-H", "127.0.0.1", "-p", &port]),
        0,
        "IMAP OK - ",
    );
    let old = Dovecot::start(&[&u], &f.expired, true);
    let port = old.imap_port.to_string();
    let ca = f.ca();
    let r = plugin(
        "check_imap",
        &[
            "-H",
            "127.0.0.1",
            "-p",
            &port,
            "--starttls",
            "--sni",
            "imap.coop.test",
            "--ca-cert",
            &ca,
        ],
    );
    expect(
        &r,
        2,
        "IMAP CRITICAL - TLS handshake failed: certificate has expired",
    );
    assert!(
        r.first_line()
            .contains("certificate 'old.imap.coop.test' expired on 2021-01-01"),
        "{}",
        r.stdout
    );
    let hang = fake_server(Fault::Garbage(b"* OK fake ready\r\n".to_vec())).to_string();
    let r = plugin("check_imap", &["-H", "127.0.0.1", "-p", &hang, "-t", "2"]);
    expect(
        &r,
        2,
        &format!(
            "IMAP CRITICAL - no reply to CAPABILITY within 1.8 seconds (127.0.0.1 port {hang})"
        ),
    );
}

#[test]
fn mx_both_exchangers_and_one_down() {
    use hcoop_tests::bind::{ensure_loopback, Named, ZoneSpec, MASTER_IP};
    let f = Fixture::new("mx1.coop.test");
    let mx2_cert = f.pki.issue("mx2.coop.test", &[], None);
    ensure_loopback("127.0.0.31");
    ensure_loopback("127.0.0.32");
    let dns_port = free_port();
    let _named = Named::master(
        dns_port,
        &[ZoneSpec::new("coop.test", 1)
            .records(
                "@ IN MX 10 mx1.coop.test.\n@ IN MX 20 mx2.coop.test.\n\
                 mx1 IN A 127.0.0.31\nmx2 IN A 127.0.0.32\n",
            )
            .master_only()],
    );
    let port = free_port();
    let spec = |ip, hostname, cert| EximSpec {
        ip,
        port,
        hostname,
        cert: Some(cert),
        queue_only: false,
        auth: None,
    };
    let _mx1 = Exim::start(&spec("127.0.0.31", "mx1.coop.test", &f.valid));
    let mut mx2 = Exim::start(&spec("127.0.0.32", "mx2.coop.test", &mx2_cert));
    let (p, dp, ca) = (port.to_string(), dns_port.to_string(), f.ca());
    let args = [
        "-d",
        "coop.test",
        "-s",
        MASTER_IP,
        "--dns-port",
        &dp,
        "-p",
        &p,
        "--ca-cert",
        &ca,
        "-F",
        "monitor.test",
        "-D",
        "30,7",
    ];
    let r = plugin("check_mx", &args);
    expect(
        &r,
        0,
        "MX OK - 2 of 2 MX hosts of coop.test work: mx1.coop.test, mx2.coop.test | working=2;;2:;0;2 'mx1.coop.test 127.0.0.31'=",
    );
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", r.stdout);
    assert!(
        lines[1].starts_with("[OK] mx1.coop.test (preference 10) 127.0.0.31: "),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains(&format!(
            "on 127.0.0.31 port {port} [220 mx1.coop.test ESMTP Exim"
        )),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains("], STARTTLS; certificate 'mx1.coop.test' will expire on "),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("[OK] mx2.coop.test (preference 20) 127.0.0.32: "),
        "{}",
        lines[2]
    );
    mx2.stop();
    let r = plugin("check_mx", &args);
    expect(
        &r,
        2,
        "MX CRITICAL - 1 of 2 MX hosts of coop.test work; broken: mx2.coop.test (127.0.0.32) |",
    );
    assert_eq!(
        r.stdout.lines().nth(2),
        Some(format!("[CRITICAL] mx2.coop.test (preference 20) 127.0.0.32: connect to address 127.0.0.32 and port {port}: Connection refused").as_str())
    );
    let mut min1 = args.to_vec();
    min1.extend(["--min-ok", "1"]);
    let r = plugin("check_mx", &min1);
    expect(
        &r,
        1,
        "MX WARNING - 1 of 2 MX hosts of coop.test work (1 needed); broken: mx2.coop.test (127.0.0.32) | working=1;;1:;0;2",
    );
    let mut none = args.to_vec();
    none[1] = "nomail.coop.test";
    let r = plugin("check_mx", &none);
    expect(
        &r,
        2,
        "MX CRITICAL - nomail.coop.test MX: NXDOMAIN from 127.0.0.21:",
    );
}

#[test]
fn mail_roundtrip_delivers_cleans_up_and_times_out() {
    let f = Fixture::new("imap.coop.test");
    let u = imap_user("hcooprt1");
    // a test message an earlier failed run left behind
    std::fs::write(
        u.home.join("Maildir/new/1600000000.M2P2.test"),
        "From: mon@coop.test\r\nSubject: old\r\nX-Hcoop-Monitor-Roundtrip: 1600000000-1-00\r\n\r\nold\r\n",
    )
    .unwrap();
    let d = Dovecot::start(&[&u], &f.valid, true);
    let x = exim(None, None);
    let stuck = Exim::start(&EximSpec {
        ip: "127.0.0.1",
        port: free_port(),
        hostname: "stuck.coop.test",
        cert: None,
        queue_only: true,
        auth: None,
    });
    let pw = f.secret("imap pw");
    let (ca, ip, sp, qp) = (
        f.ca(),
        d.imap_port.to_string(),
        x.port.to_string(),
        stuck.port.to_string(),
    );
    // the delivery levels: generous when delivery is expected (a loaded machine may
    // take seconds), short when the message is known to never arrive
    let args = |smtp: &'static str, warning: &str, critical: &str| {
        let smtp_port = if smtp == "stuck" {
            qp.clone()
        } else {
            sp.clone()
        };
        [
            "-H".to_string(),
            "127.0.0.1".into(),
            "-p".into(),
            smtp_port,
            "-F".into(),
            "monitor.test".into(),
            "-f".into(),
            "mon@coop.test".into(),
            "-r".into(),
            "hcooprt1@coop.test".into(),
            "--imap-port".into(),
            ip.clone(),
            "--imap-starttls".into(),
            "--imap-sni".into(),
            "imap.coop.test".into(),
            "--ca-cert".into(),
            ca.clone(),
            "-U".into(),
            "hcooprt1".into(),
            "--password-file".into(),
            pw.clone(),
            "-w".into(),
            warning.into(),
            "-c".into(),
            critical.into(),
            "-t".into(),
            "40".into(),
        ]
    };
    let a = args("ok", "20", "30");
    let argv: Vec<&str> = a.iter().map(String::as_str).collect();
    let r = plugin("check_mail_roundtrip", &argv);
    expect(&r, 0, "MAIL_ROUNDTRIP OK - message delivered in ");
    assert!(
        r.first_line().contains(&format!(
            "(sent via 127.0.0.1 port {sp}, read from 127.0.0.1 port {ip}) | delivery="
        )),
        "{}",
        r.stdout
    );
    assert!(
        r.first_line().ends_with("older_removed=1;;;0"),
        "{}",
        r.stdout
    );
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[1].starts_with("[OK] send: "), "{}", r.stdout);
    assert!(
        lines[1].contains(", message accepted [250 OK id="),
        "{}",
        r.stdout
    );
    assert!(
        lines[2].starts_with(&format!(
            "[OK] receive: delivered into INBOX on 127.0.0.1 port {ip} after "
        )),
        "{}",
        r.stdout
    );
    assert!(
        lines[2].ends_with(", 1 test message(s) of earlier runs removed"),
        "{}",
        r.stdout
    );
    assert!(
        !u.messages()
            .iter()
            .any(|m| m.contains("X-Hcoop-Monitor-Roundtrip")),
        "test messages left in the mailbox"
    );
    // accepted but never delivered
    let a = args("stuck", "2", "3");
    let argv: Vec<&str> = a.iter().map(String::as_str).collect();
    let start = Instant::now();
    let r = plugin("check_mail_roundtrip", &argv);
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "{:?}",
        start.elapsed()
    );
    expect(
        &r,
        2,
        "MAIL_ROUNDTRIP CRITICAL - receive side failed: message ",
    );
    assert!(
        r.first_line()
            .contains(&format!(" not in INBOX on 127.0.0.1 port {ip} after ")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.lines().nth(1).unwrap().starts_with("[OK] send: "),
        "{}",
        r.stdout
    );
    // refused on the send side
    let mut a = args("ok", "20", "30");
    a[9] = "nobody-here@coop.test".into();
    let argv: Vec<&str> = a.iter().map(String::as_str).collect();
    let r = plugin("check_mail_roundtrip", &argv);
    expect(
        &r,
        2,
        &format!("MAIL_ROUNDTRIP CRITICAL - send side failed: RCPT TO refused: '550 Administrative prohibition' (127.0.0.1 port {sp})"),
    );
    assert_eq!(
        r.stdout.lines().nth(2),
        Some("receive: not tried, the message was not sent")
    );
}

/// A bad host or port is one line naming the problem, exit 3, before any connection:
/// a newline in -H (or the IMAP host, or the DNS server) is shown escaped, never raw;
/// port 0 is refused.
#[test]
fn bad_hosts_and_ports_are_one_line_and_unknown() {
    let roundtrip = [
        "-f",
        "mon@coop.test",
        "-r",
        "box@coop.test",
        "-U",
        "box",
        "--password-env",
        "PATH",
    ];
    let bad = "mx.test\nFAKE OK - injected";
    let shown = "mx.test\\nFAKE OK - injected";
    let cases: Vec<(&str, &str, Vec<&str>, &str)> = vec![
        ("check_smtp", "SMTP", vec!["-H", bad], "--hostname <HOST>"),
        ("check_imap", "IMAP", vec!["-H", bad], "--hostname <HOST>"),
        (
            "check_mail_roundtrip",
            "MAIL_ROUNDTRIP",
            [&["-H", bad][..], &roundtrip[..]].concat(),
            "--hostname <HOST>",
        ),
        (
            "check_mail_roundtrip",
            "MAIL_ROUNDTRIP",
            [&["-H", "mx.test", "-I", bad][..], &roundtrip[..]].concat(),
            "--imap-host <HOST>",
        ),
        (
            "check_mx",
            "MX",
            vec!["-d", "coop.test", "-s", bad],
            "--server <HOST>",
        ),
    ];
    for (name, label, args, option) in cases {
        let r = plugin(name, &args);
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (
                3,
                format!("{label} UNKNOWN - invalid value '{shown}' for '{option}': invalid host '{shown}': '\\n' is not allowed in a host name\n").as_str()
            ),
            "{name} {args:?}"
        );
    }
    let ports: Vec<(&str, &str, Vec<&str>, &str)> = vec![
        (
            "check_smtp",
            "SMTP",
            vec!["-H", "mx.test", "-p", "0"],
            "--port",
        ),
        (
            "check_imap",
            "IMAP",
            vec!["-H", "mx.test", "-p", "0"],
            "--port",
        ),
        (
            "check_mail_roundtrip",
            "MAIL_ROUNDTRIP",
            [&["-H", "mx.test", "-p", "0"][..], &roundtrip[..]].concat(),
            "--port",
        ),
        (
            "check_mail_roundtrip",
            "MAIL_ROUNDTRIP",
            [&["-H", "mx.test", "--imap-port", "0"][..], &roundtrip[..]].concat(),
            "--imap-port",
        ),
        (
            "check_mx",
            "MX",
            vec!["-d", "coop.test", "-p", "0"],
            "--port",
        ),
        (
            "check_mx",
            "MX",
            vec!["-d", "coop.test", "--dns-port", "0"],
            "--dns-port",
        ),
    ];
    for (name, label, args, option) in ports {
        let r = plugin(name, &args);
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (
                3,
                format!("{label} UNKNOWN - invalid value '0' for '{option} <PORT>': port 0 is out of range (1-65535)\n").as_str()
            ),
            "{name} {args:?}"
        );
    }
    // a mail address with a control character is shown escaped
    let r = plugin(
        "check_mail_roundtrip",
        &[
            "-H",
            "mx.test",
            "-f",
            "mon\x1b[2J",
            "-r",
            "box@coop.test",
            "-U",
            "box",
            "--password-env",
            "PATH",
        ],
    );
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (
            3,
            "MAIL_ROUNDTRIP UNKNOWN - -f 'mon\\x1b[2J' is not a mail address\n"
        )
    );
}
