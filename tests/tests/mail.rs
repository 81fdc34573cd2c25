//! check_smtp and check_imap against a real Exim and a real Dovecot on loopback ports,
//! with certificates from a test CA; fakes only for a server that hangs.

use hcoop_tests::line::{
    assert_answered, assert_json, assert_text, perf, perf_labels, will_expire,
};
use hcoop_tests::mail::{mx_args, Dovecot, Exim, EximSpec, MailUser, ROUNDTRIP_LOGIN};
use hcoop_tests::web::{fake_server, CertPair, Fault, Pki};
use hcoop_tests::{free_port, json_of, plugin};
use regex::Regex;
use serde_json::json;
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

/// `base` and then `more`.
fn plus<'a>(base: &[&'a str], more: &[&'a str]) -> Vec<&'a str> {
    [base, more].concat()
}

/// `N.NNN seconds response time on 127.0.0.1 port PORT`, as a regex.
fn response_time(ip: &str, port: &str) -> String {
    format!(
        r"\d\.\d{{3}} seconds response time on {} port {port}",
        regex::escape(ip)
    )
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
    let banner = format!(
        r"{} \[220 mx1\.coop\.test ESMTP Exim [^\]]*\], STARTTLS",
        response_time("127.0.0.1", &port)
    );
    let cert = will_expire("mx1.coop.test");
    let auth = plus(
        &base,
        &[
            "-A",
            "PLAIN",
            "-U",
            "monitor",
            "--authpass-file",
            &pw,
            "--step-times",
        ],
    );
    // the rendering: the whole Nagios line
    assert_text(
        "check_smtp",
        &auth,
        0,
        &format!(
            r"^SMTP OK - {banner}, AUTH PLAIN as monitor; {cert} \| time=[0-9.]+s;;;0;10 connect_time=[0-9.]+s;;;0 banner_time=[0-9.]+s;;;0 ehlo_time=[0-9.]+s;;;0 starttls_time=[0-9.]+s;;;0 ehlo_tls_time=[0-9.]+s;;;0 auth_time=[0-9.]+s;;;0 quit_time=[0-9.]+s;;;0$"
        ),
    );
    let v = assert_answered(
        "check_smtp",
        &auth,
        &format!("{banner}, AUTH PLAIN as monitor; {cert}"),
    );
    assert_eq!(
        perf_labels(&v),
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
    assert_json(
        "check_smtp",
        &plus(
            &base,
            &["-A", "LOGIN", "-U", "monitor", "--authpass-file", &bad],
        ),
        "CRITICAL",
        &format!(
            r"authentication as monitor failed: '535 Incorrect authentication data' \(127\.0\.0\.1 port {port}\); {cert}"
        ),
    );
    // command/response pairs
    assert_json(
        "check_smtp",
        &plus(
            &base,
            &[
                "-C",
                "NOOP",
                "-R",
                "^250",
                "-C",
                "VRFY nobody",
                "-R",
                "^250",
            ],
        ),
        "WARNING",
        &format!(
            r"reply '.*' to 'VRFY nobody' does not match '\^250' \(127\.0\.0\.1 port {port}\); {cert}"
        ),
    );
    // the certificate's name must match the name asked for
    let mut other = base.to_vec();
    other[8] = "other.coop.test";
    assert_json(
        "check_smtp",
        &other,
        "CRITICAL",
        r".*certificate does not match the host name.*",
    );
}

#[test]
fn smtp_without_starttls_and_with_expired_certificate() {
    let f = Fixture::new("mx1.coop.test");
    let plain = exim(None, None);
    let port = plain.port.to_string();
    assert_answered(
        "check_smtp",
        &["-H", "127.0.0.1", "-p", &port, "-F", "m.test"],
        &format!(r"{} \[220 .*\]", response_time("127.0.0.1", &port)),
    );
    let v = assert_json(
        "check_smtp",
        &["-H", "127.0.0.1", "-p", &port, "-F", "m.test", "-S"],
        "CRITICAL",
        &format!(
            r"TLS not supported by server \(no STARTTLS offered\) \(127\.0\.0\.1 port {port}\)"
        ),
    );
    perf(&v, "time");
    let old = exim(Some(&f.expired), None);
    let port = old.port.to_string();
    let ca = f.ca();
    assert_json(
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
        "CRITICAL",
        &format!(
            r"TLS handshake failed: certificate has expired \(127\.0\.0\.1 port {port}\); certificate 'old\.mx1\.coop\.test' expired on 2021-01-01 00:00:00 UTC"
        ),
    );
}

#[test]
fn smtp_refused_hanging_garbage_and_bad_options() {
    let port = free_port().to_string();
    let v = assert_json(
        "check_smtp",
        &["-H", "127.0.0.1", "-p", &port],
        "CRITICAL",
        &format!(r"connect to address 127\.0\.0\.1 and port {port}: Connection refused"),
    );
    assert_eq!(v["perfdata"], json!([]), "{v}");
    let hang = fake_server(Fault::Garbage(b"220 fake ESMTP\r\n".to_vec())).to_string();
    let start = Instant::now();
    assert_json(
        "check_smtp",
        &["-H", "127.0.0.1", "-p", &hang, "-t", "2"],
        "CRITICAL",
        &format!(
            r"Socket timeout after 2 seconds: no reply to EHLO within 1\.8 seconds \(127\.0\.0\.1 port {hang}\)"
        ),
    );
    assert!(start.elapsed() < Duration::from_secs(4));
    let junk = fake_server(Fault::Garbage(b"SSH-2.0-OpenSSH\r\n".to_vec())).to_string();
    assert_json(
        "check_smtp",
        &["-H", "127.0.0.1", "-p", &junk],
        "CRITICAL",
        &format!(
            r"not an SMTP reply: 'SSH-2\.0-OpenSSH' \(for banner\) \(127\.0\.0\.1 port {junk}\)"
        ),
    );
    let v = assert_json(
        "check_smtp",
        &["-H", "127.0.0.1", "-D", "30"],
        "UNKNOWN",
        r"-D needs TLS \(-S or -s\)",
    );
    assert_eq!((&v["details"], &v["perfdata"]), (&json!([]), &json!([])));
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

/// Dovecot on `port`, its certificate checked for imap.coop.test against `ca`.
fn imap_at<'a>(port: &'a str, ca: &'a str) -> Vec<&'a str> {
    vec![
        "-H",
        "127.0.0.1",
        "-p",
        port,
        "--sni",
        "imap.coop.test",
        "--ca-cert",
        ca,
    ]
}

fn imap_args<'a>(port: &'a str, ca: &'a str, pw: &'a str) -> Vec<&'a str> {
    plus(
        &imap_at(port, ca),
        &["-U", "hcoopimap1", "--password-file", pw],
    )
}

#[test]
fn imap_starttls_imaps_login_and_counts() {
    let f = Fixture::new("imap.coop.test");
    let u = imap_user("hcoopimap1");
    let d = Dovecot::start(&[&u], &f.valid, true);
    let port = d.imap_port.to_string();
    let ca = f.ca();
    let pw = f.secret("imap pw");
    let with = |port: &str, pw: &str, more: &[&str]| -> Vec<String> {
        [&imap_args(port, &ca, pw)[..], more]
            .concat()
            .into_iter()
            .map(String::from)
            .collect()
    };
    let greeting = format!(r"{} \[\* OK .*\]", response_time("127.0.0.1", &port));
    let cert = will_expire("imap.coop.test");
    let counted = with(
        &port,
        &pw,
        &[
            "--starttls",
            "-D",
            "30,7",
            "--mailbox",
            "INBOX",
            "--messages-warning",
            "5",
            "--messages-critical",
            "10",
        ],
    );
    let counted: Vec<&str> = counted.iter().map(String::as_str).collect();
    // the rendering: the whole Nagios line
    assert_text(
        "check_imap",
        &counted,
        0,
        &format!(
            r"^IMAP OK - {greeting}, STARTTLS, logged in as hcoopimap1, INBOX: 1 messages \(1 unseen, 1 recent\); {cert} \| time=[0-9.]+s;;;0;10 messages=1;5;10;0 unseen=1;;;0 recent=1;;;0 connect_time=[0-9.]+s;;;0 greeting_time=[0-9.]+s;;;0 capability_time=[0-9.]+s;;;0 starttls_time=[0-9.]+s;;;0 capability_tls_time=[0-9.]+s;;;0 login_time=[0-9.]+s;;;0 mailbox_time=[0-9.]+s;;;0 logout_time=[0-9.]+s;;;0$"
        ),
    );
    let v = assert_answered(
        "check_imap",
        &counted,
        &format!(
            r"{greeting}, STARTTLS, logged in as hcoopimap1, INBOX: 1 messages \(1 unseen, 1 recent\); {cert}"
        ),
    );
    let m = perf(&v, "messages");
    assert_eq!(
        (&m["value"], &m["warn"], &m["crit"], m["min"].as_f64()),
        (&json!(1), &json!("5"), &json!("10"), Some(0.0)),
        "{v}"
    );
    for label in ["unseen", "recent"] {
        assert_eq!(perf(&v, label)["value"], 1, "{v}");
    }
    assert_eq!(
        perf_labels(&v)[4..],
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
    // --messages-warning/--messages-critical on the message count
    let over = with(
        &port,
        &pw,
        &[
            "--starttls",
            "--mailbox",
            "INBOX",
            "--messages-critical",
            "0",
        ],
    );
    let over: Vec<&str> = over.iter().map(String::as_str).collect();
    assert_json(
        "check_imap",
        &over,
        "CRITICAL",
        &format!(
            r"{greeting}, STARTTLS, logged in as hcoopimap1, INBOX: 1 messages \(1 unseen, 1 recent\)"
        ),
    );
    // IMAPS
    let sport = d.imaps_port.to_string();
    let imaps = with(&sport, &pw, &["-S", "-D", "30"]);
    let imaps: Vec<&str> = imaps.iter().map(String::as_str).collect();
    assert_json(
        "check_imap",
        &imaps,
        "OK",
        &format!(
            r"{} \[\* OK .*\], logged in as hcoopimap1; {cert}",
            response_time("127.0.0.1", &sport)
        ),
    );
    // wrong password
    let bad = f.secret("wrong");
    let wrong = with(&port, &bad, &["--starttls"]);
    let wrong: Vec<&str> = wrong.iter().map(String::as_str).collect();
    assert_json(
        "check_imap",
        &wrong,
        "CRITICAL",
        &format!(
            r"login as hcoopimap1 failed: NO \[AUTHENTICATIONFAILED\] Authentication failed\. \(127\.0\.0\.1 port {port}\)"
        ),
    );
    // the password from the environment
    let out = std::process::Command::new(hcoop_tests::bin("check_imap"))
        .args(imap_at(&port, &ca))
        .args([
            "--starttls",
            "-U",
            "hcoopimap1",
            "--password-env",
            "IMAP_PW",
            "--mailbox",
            "INBOX",
            "--output-format",
            "json",
        ])
        .env("IMAP_PW", "imap pw")
        .output()
        .unwrap();
    let v = json_of("check_imap", &["--password-env"], &out.into());
    assert_eq!(v["state"], "OK", "{v}");
    assert!(
        v["summary"]
            .as_str()
            .unwrap()
            .ends_with(", logged in as hcoopimap1, INBOX: 1 messages (1 unseen, 1 recent)"),
        "{v}"
    );
    drop(u);
}

#[test]
fn imap_without_tls_expired_and_hanging() {
    let f = Fixture::new("imap.coop.test");
    let u = imap_user("hcoopimap2");
    let plain = Dovecot::start(&[&u], &f.valid, false);
    let port = plain.imap_port.to_string();
    let v = assert_json(
        "check_imap",
        &["-H", "127.0.0.1", "-p", &port, "--starttls"],
        "CRITICAL",
        &format!(r"STARTTLS not offered \(127\.0\.0\.1 port {port}\)"),
    );
    perf(&v, "time");
    assert_answered(
        "check_imap",
        &["-H", "127.0.0.1", "-p", &port],
        &format!(r"{} \[\* OK .*\]", response_time("127.0.0.1", &port)),
    );
    let old = Dovecot::start(&[&u], &f.expired, true);
    let port = old.imap_port.to_string();
    let ca = f.ca();
    assert_json(
        "check_imap",
        &plus(&imap_at(&port, &ca), &["--starttls"]),
        "CRITICAL",
        &format!(
            r"TLS handshake failed: certificate has expired \(127\.0\.0\.1 port {port}\); certificate 'old\.imap\.coop\.test' expired on 2021-01-01 00:00:00 UTC"
        ),
    );
    let hang = fake_server(Fault::Garbage(b"* OK fake ready\r\n".to_vec())).to_string();
    assert_json(
        "check_imap",
        &["-H", "127.0.0.1", "-p", &hang, "-t", "2"],
        "CRITICAL",
        &format!(
            r"Socket timeout after 2 seconds: no reply to CAPABILITY within 1\.8 seconds \(127\.0\.0\.1 port {hang}\)"
        ),
    );
}

#[test]
fn mx_both_exchangers_and_one_down() {
    use hcoop_tests::bind::{ensure_loopback, Named, ZoneSpec};
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
    let args = plus(&mx_args(&dp, &p), &["--ca-cert", &ca, "-D", "30,7"]);
    let v = assert_json(
        "check_mx",
        &args,
        "OK",
        r"2 of 2 MX hosts of coop\.test work: mx1\.coop\.test, mx2\.coop\.test",
    );
    let working = perf(&v, "working");
    assert_eq!(
        (
            &working["value"],
            &working["warn"],
            &working["crit"],
            working["min"].as_f64(),
            working["max"].as_f64()
        ),
        (&json!(2), &json!(null), &json!("2:"), Some(0.0), Some(2.0)),
        "{v}"
    );
    perf(&v, "mx1.coop.test 127.0.0.31");
    let details = v["details"].as_array().unwrap();
    assert_eq!(details.len(), 2, "{v}");
    let mx1 = Regex::new(&format!(
        r"^mx1\.coop\.test \(preference 10\) 127\.0\.0\.31: \d\.\d{{3}} seconds response time on 127\.0\.0\.31 port {port} \[220 mx1\.coop\.test ESMTP Exim [^\]]*\], STARTTLS; certificate 'mx1\.coop\.test' will expire on .*$"
    ))
    .unwrap();
    assert!(
        details[0]["state"] == "OK" && mx1.is_match(details[0]["text"].as_str().unwrap()),
        "{v}"
    );
    assert!(
        details[1]["state"] == "OK"
            && details[1]["text"]
                .as_str()
                .unwrap()
                .starts_with("mx2.coop.test (preference 20) 127.0.0.32: "),
        "{v}"
    );
    mx2.stop();
    let v = assert_json(
        "check_mx",
        &args,
        "CRITICAL",
        r"1 of 2 MX hosts of coop\.test work; broken: mx2\.coop\.test \(127\.0\.0\.32\)",
    );
    assert_eq!(
        v["details"][1],
        json!({
            "state": "CRITICAL",
            "text": format!("mx2.coop.test (preference 20) 127.0.0.32: connect to address 127.0.0.32 and port {port}: Connection refused")
        }),
        "{v}"
    );
    // the rendering: the Nagios line, up to the response times
    let mut min1 = args.to_vec();
    min1.extend(["--min-ok", "1"]);
    assert_text(
        "check_mx",
        &min1,
        1,
        r"^MX WARNING - 1 of 2 MX hosts of coop\.test work \(1 needed\); broken: mx2\.coop\.test \(127\.0\.0\.32\) \| working=1;;1:;0;2 ",
    );
    let mut none = args.to_vec();
    none[1] = "nomail.coop.test";
    assert_json(
        "check_mx",
        &none,
        "CRITICAL",
        r"nomail\.coop\.test MX: NXDOMAIN from 127\.0\.0\.21:.*",
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
    let v = assert_json(
        "check_mail_roundtrip",
        &argv,
        "OK",
        &format!(
            r"message delivered in \d+\.\d\d seconds \(sent via 127\.0\.0\.1 port {sp}, read from 127\.0\.0\.1 port {ip}\)"
        ),
    );
    let delivery = perf(&v, "delivery");
    assert_eq!(
        (&delivery["uom"], &delivery["warn"], &delivery["crit"]),
        (&json!("s"), &json!("20"), &json!("30")),
        "{v}"
    );
    perf(&v, "send_time");
    assert_eq!(
        perf_labels(&v).last().map(String::as_str),
        Some("older_removed"),
        "{v}"
    );
    let older = perf(&v, "older_removed");
    assert_eq!(
        (&older["value"], older["min"].as_f64()),
        (&json!(1), Some(0.0)),
        "{v}"
    );
    let send = Regex::new(r"^send: .*, message accepted \[250 OK id=.*\]$").unwrap();
    let receive = Regex::new(&format!(
        r"^receive: delivered into INBOX on 127\.0\.0\.1 port {ip} after \d+\.\d\d seconds \(\d+ looks\), 1 test message\(s\) of earlier runs removed$"
    ))
    .unwrap();
    let d = &v["details"];
    assert!(
        d[0]["state"] == "OK"
            && send.is_match(d[0]["text"].as_str().unwrap())
            && d[1]["state"] == "OK"
            && receive.is_match(d[1]["text"].as_str().unwrap()),
        "{v}"
    );
    assert!(
        !u.messages()
            .iter()
            .any(|m| m.contains("X-Hcoop-Monitor-Roundtrip")),
        "test messages left in the mailbox"
    );
    // accepted but never delivered; the rendering: the Nagios lines
    let a = args("stuck", "2", "3");
    let argv: Vec<&str> = a.iter().map(String::as_str).collect();
    let start = Instant::now();
    let r = plugin("check_mail_roundtrip", &argv);
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "{:?}",
        start.elapsed()
    );
    let lines = Regex::new(&format!(
        r"^MAIL_ROUNDTRIP CRITICAL - receive side failed: message \S+ not in INBOX on 127\.0\.0\.1 port {ip} after \d+\.\d seconds \| delivery=[0-9.]+s;2;3;0 send_time=[0-9.]+s;;;0 older_removed=0;;;0\n\[OK\] send: .*\n\[CRITICAL\] receive: message \S+ not in INBOX on 127\.0\.0\.1 port {ip} after \d+\.\d seconds\n$"
    ))
    .unwrap();
    assert!(r.code == 2 && lines.is_match(&r.stdout), "{}", r.stdout);
    // refused on the send side
    let mut a = args("ok", "20", "30");
    a[9] = "nobody-here@coop.test".into();
    let argv: Vec<&str> = a.iter().map(String::as_str).collect();
    let v = assert_json(
        "check_mail_roundtrip",
        &argv,
        "CRITICAL",
        &format!(
            r"send side failed: RCPT TO refused: '550 Administrative prohibition' \(127\.0\.0\.1 port {sp}\)"
        ),
    );
    assert_eq!(
        v["details"][1],
        json!({ "state": null, "text": "receive: not tried, the message was not sent" }),
        "{v}"
    );
}

/// A bad host or port is one line naming the problem, exit 3, before any connection:
/// a newline in -H (or the IMAP host, or the DNS server) is shown escaped, never raw;
/// port 0 is refused.
#[test]
fn bad_hosts_and_ports_are_one_line_and_unknown() {
    let bad = "mx.test\nFAKE OK - injected";
    let shown = "mx.test\\nFAKE OK - injected";
    let host = |option: &str| {
        format!("invalid value '{shown}' for '{option} <HOST>': invalid host '{shown}': '\\n' is not allowed in a host name")
    };
    let port = |option: &str| {
        format!("invalid value '0' for '{option} <PORT>': port 0 is out of range (1-65535)")
    };
    let rt = |args: &[&'static str]| [args, &ROUNDTRIP_LOGIN[..]].concat();
    // (check, arguments, what it says after `LABEL UNKNOWN - `)
    let cases: Vec<(&str, Vec<&str>, String)> = vec![
        ("check_smtp", vec!["-H", bad], host("--hostname")),
        ("check_imap", vec!["-H", bad], host("--hostname")),
        ("check_mail_roundtrip", rt(&["-H", bad]), host("--hostname")),
        (
            "check_mail_roundtrip",
            rt(&["-H", "mx.test", "-I", bad]),
            host("--imap-host"),
        ),
        (
            "check_mx",
            vec!["-d", "coop.test", "-s", bad],
            host("--server"),
        ),
        (
            "check_smtp",
            vec!["-H", "mx.test", "-p", "0"],
            port("--port"),
        ),
        (
            "check_imap",
            vec!["-H", "mx.test", "-p", "0"],
            port("--port"),
        ),
        (
            "check_mail_roundtrip",
            rt(&["-H", "mx.test", "-p", "0"]),
            port("--port"),
        ),
        (
            "check_mail_roundtrip",
            rt(&["-H", "mx.test", "--imap-port", "0"]),
            port("--imap-port"),
        ),
        (
            "check_mx",
            vec!["-d", "coop.test", "-p", "0"],
            port("--port"),
        ),
        (
            "check_mx",
            vec!["-d", "coop.test", "--dns-port", "0"],
            port("--dns-port"),
        ),
    ];
    for (name, args, said) in cases {
        let label = name.trim_start_matches("check_").to_uppercase();
        let r = plugin(name, &args);
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (3, format!("{label} UNKNOWN - {said}\n").as_str()),
            "{name} {args:?}"
        );
    }
    // a mail address with a control character is shown escaped
    let mut args = rt(&["-H", "mx.test"]);
    args[3] = "mon\x1b[2J";
    let r = plugin("check_mail_roundtrip", &args);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (
            3,
            "MAIL_ROUNDTRIP UNKNOWN - -f 'mon\\x1b[2J' is not a mail address\n"
        )
    );
}
