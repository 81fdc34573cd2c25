//! check_http against a real nginx with name-based virtual hosts over HTTP and HTTPS
//! (certificates from a test CA: valid, expired, wrong name, self-signed), against
//! Debian's check_http on the same pages, against nginx redirecting to other addresses
//! (sticky, stickyport, follow within --redirect-networks, the hop bound, and the
//! daemon's redirect_networks), and against fake servers that hang, send garbage,
//! trickle, reset or never end their reply.

use hcoop_tests::daemon::Daemon;
use hcoop_tests::line::perf;
use hcoop_tests::web::{
    fake_server, origin_page, start_nginx, start_redirect_nginx, Fault, Nginx, RedirectNginx,
    A_INDEX, SECOND_PAGE,
};
use hcoop_tests::{assert_only, debian_plugin, plugin, plugin_json, run};
use regex::Regex;
use serde_json::{json, Value};
use std::time::Instant;

fn http_args<'a>(n: &Nginx, vhost: &'a str, extra: &[&'a str]) -> Vec<String> {
    let mut args = vec!["-H", vhost, "-I", "127.0.0.1", "-p"]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
    args.push(n.http_port.to_string());
    args.extend(extra.iter().map(|a| a.to_string()));
    args
}

/// check_http's JSON result for `vhost` on the test's nginx over HTTP.
fn http(n: &Nginx, vhost: &str, extra: &[&str]) -> Value {
    json("check_http", &http_args(n, vhost, extra))
}

/// The same over HTTPS, trusting the test CA.
fn https(n: &Nginx, vhost: &str, extra: &[&str]) -> Value {
    let port = n.https_port.to_string();
    let ca = n.pki.ca_cert.to_string_lossy().to_string();
    let mut args = vec![
        "-S",
        "-H",
        vhost,
        "-I",
        "127.0.0.1",
        "-p",
        &port,
        "--ca-cert",
        &ca,
    ];
    args.extend_from_slice(extra);
    plugin_json("check_http", &args)
}

fn json(name: &str, args: &[String]) -> Value {
    plugin_json(name, &args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// The result is `state` and its summary matches `pattern`.
fn assert_result(v: &Value, state: &str, pattern: &str) {
    let re = Regex::new(pattern).unwrap();
    let summary = v["summary"].as_str().unwrap_or_default();
    assert!(
        v["state"] == state && re.is_match(summary),
        "expected {state} and /{pattern}/, got {v}"
    );
}

/// The long output: each line's state (none for a plain line) and text.
fn details(v: &Value) -> Vec<(Option<String>, String)> {
    let text = |x: &Value| x.as_str().map(String::from);
    v["details"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|x| (text(&x["state"]), text(&x["text"]).unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn vhosts_status_content_redirects_and_auth() {
    let dir = tempfile::tempdir().unwrap();
    let n = start_nginx(dir.path());
    let hp = n.http_port;
    // the status line and headers vary in length with the date; the body is known
    let page = A_INDEX.len();
    // the whole text line, as Nagios reads it
    let r = plugin(
        "check_http",
        &["-H", "a.test", "-I", "127.0.0.1", "-p", &hp.to_string()],
    );
    let line = r"^HTTP OK - HTTP/1\.1 200 OK - \d+ bytes in \d\.\d{3} second response time \| time=[0-9.]+s;;;0;10 size=\d+B;;;0$";
    assert!(
        r.code == 0 && Regex::new(line).unwrap().is_match(r.first_line()),
        "{r:?}"
    );
    let v = http(&n, "a.test", &[]);
    assert_result(
        &v,
        "OK",
        r"^HTTP/1\.1 200 OK - \d+ bytes in \d\.\d{3} second response time$",
    );
    let size = perf(&v, "size")["value"].as_u64().unwrap() as usize;
    assert!(size > page && size < page + 400, "{size}");
    assert_eq!(v["perfdata"][0]["max"].as_f64(), Some(10.0), "{v}");

    // content, status classes and -e, redirects as results: the virtual host, the
    // options, and the state and summary they give ("" for any summary)
    let on_b =
        format!(r"^string 'Welcome' not found on http://b\.test:{hp}/ - HTTP/1\.1 200 OK - ");
    let missing =
        format!(r"^status 404 on http://a\.test:{hp}/missing - HTTP/1\.1 404 Not Found - ");
    let cases: [(&str, &[&str], &str, &str); 16] = [
        // the name selects the virtual host
        ("a.test", &["-s", "Welcome to a.test"], "OK", ""),
        ("b.test", &["-s", "b.test here"], "OK", ""),
        ("b.test", &["-s", "Welcome"], "CRITICAL", &on_b),
        ("a.test", &["-r", "Welcome.*a\\.test"], "OK", ""),
        ("a.test", &["-R", "WELCOME"], "OK", ""),
        (
            "a.test",
            &["-r", "Welcome", "--invert-regex"],
            "CRITICAL",
            r"^pattern 'Welcome' found on ",
        ),
        ("a.test", &["-d", "X-Member: a"], "OK", ""),
        (
            "a.test",
            &["-d", "X-Member: b"],
            "CRITICAL",
            r"^header 'X-Member: b' not found on ",
        ),
        (
            "a.test",
            &["-m", "100000"],
            "WARNING",
            r"^page size \d+ too small - ",
        ),
        // status classes and -e
        ("a.test", &["-u", "/missing"], "WARNING", &missing),
        ("a.test", &["-u", "/broken"], "CRITICAL", r"^status 500 on "),
        ("a.test", &["-u", "/missing", "-e", "404,410"], "OK", ""),
        (
            "a.test",
            &["-e", "301"],
            "CRITICAL",
            r"^unexpected status 200 on ",
        ),
        // redirects
        ("a.test", &["-u", "/redirect1"], "OK", ""),
        (
            "a.test",
            &["-u", "/redirect1", "-f", "critical"],
            "CRITICAL",
            r"status 301 on ",
        ),
        ("a.test", &["-j", "HEAD", "-e", "200"], "OK", ""),
    ];
    for (vhost, extra, state, summary) in cases {
        assert_result(&http(&n, vhost, extra), state, summary);
    }
    let r = http(
        &n,
        "a.test",
        &["-u", "/redirect1", "-f", "sticky", "-s", "b.test here"],
    );
    assert_eq!(r["state"], "OK", "{r}");
    assert_eq!(
        details(&r),
        [
            (
                None,
                format!("redirect 301 -> http://a.test:{hp}/redirect2")
            ),
            (None, format!("redirect 302 -> http://b.test:{hp}/")),
        ]
    );
    // plain follow resolves the new name, which only the test's nginx knows
    assert_result(
        &http(&n, "a.test", &["-u", "/redirect1", "-f", "follow"]),
        "CRITICAL",
        r"^cannot resolve b\.test",
    );
    // a loop ends at the hop bound, as with monitoring-plugins
    let r = http(&n, "a.test", &["-u", "/loop", "-f", "follow"]);
    assert_result(
        &r,
        "WARNING",
        &format!(
            r"^maximum redirection depth 15 exceeded - http://a\.test:{hp}/loop - HTTP/1\.1 301"
        ),
    );
    assert_eq!(details(&r).len(), 15, "{r}");
    assert_result(
        &http(
            &n,
            "a.test",
            &["-u", "/redirect1", "-f", "sticky", "--max-redirs", "1"],
        ),
        "WARNING",
        &format!(r"^maximum redirection depth 1 exceeded - http://b\.test:{hp}/ - HTTP/1\.1 302"),
    );
    // Debian's check_http says the same of the loop
    for f in ["sticky", "stickyport"] {
        let args = [
            "-H",
            "a.test",
            "-I",
            "127.0.0.1",
            "-p",
            &hp.to_string(),
            "-u",
            "/loop",
            "-f",
            f,
        ];
        let theirs = run(&debian_plugin("check_http"), &args);
        let ours = plugin("check_http", &args);
        assert_eq!(
            (ours.code, theirs.code),
            (1, 1),
            "{} / {}",
            ours.stdout,
            theirs.stdout
        );
        assert!(
            ours.first_line().starts_with(theirs.first_line()),
            "{} / {}",
            ours.stdout,
            theirs.stdout
        );
    }

    // basic authentication, the password inline or from a file; method and body
    // (nginx answers POST to a static file with 405)
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "s3cret\n").unwrap();
    let pw = pw.to_string_lossy().to_string();
    let cases: [(&[&str], &str, &str); 5] = [
        (&["-u", "/private/"], "WARNING", r"status 401 on "),
        (
            &["-u", "/private/", "-a", "member:s3cret", "-s", "secret"],
            "OK",
            "",
        ),
        (
            &["-u", "/private/", "-a", "member", "--password-file", &pw],
            "OK",
            "",
        ),
        (
            &["-u", "/private/", "-a", "member:wrong"],
            "WARNING",
            r"status 401 on ",
        ),
        (&["-P", "a=1"], "WARNING", r"status 405 on "),
    ];
    for (extra, state, summary) in cases {
        assert_result(&http(&n, "a.test", extra), state, summary);
    }

    // extended perfdata names each phase (time_ssl only over TLS, as Debian's)
    let v = http(&n, "a.test", &["-E"]);
    let labels: Vec<&str> = v["perfdata"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "time",
            "size",
            "time_connect",
            "time_headers",
            "time_firstbyte",
            "time_transfer"
        ]
    );

    // Debian's check_http agrees on the states
    let debian = debian_plugin("check_http");
    for (uri, code) in [("/", 0), ("/missing", 1), ("/broken", 2), ("/redirect1", 0)] {
        let args = http_args(&n, "a.test", &["-u", uri]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let theirs = run(&debian, &args);
        let ours = plugin("check_http", &args);
        assert_eq!(
            (ours.code, theirs.code),
            (code, code),
            "{uri}: {} / {}",
            ours.stdout,
            theirs.stdout
        );
    }

    // bad usage is one line and exit 3
    let args = http_args(&n, "a.test", &["-f", "sideways"]);
    let r = plugin(
        "check_http",
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(r.code, 3);
    assert_eq!(
        r.stdout,
        "HTTP UNKNOWN - -f 'sideways': use ok, warning, critical, follow, sticky, stickyport or curl\n"
    );
}

/// `--http-version 2`: HTTP/2 where nginx offers it by ALPN (the status line as curl
/// prints it, a request body, a body larger than the flow-control window, a 404), HTTP/1.1
/// where it does not (a TLS server without HTTP/2, plain HTTP) or where it is not asked
/// for; Debian's check_curl agrees on the HTTP/2 pages.
#[test]
fn http2_by_alpn() {
    let dir = tempfile::tempdir().unwrap();
    let n = start_nginx(dir.path());
    let ca = n.pki.ca_cert.to_string_lossy().to_string();
    let (h2, h1) = (n.http2_port.to_string(), n.https_port.to_string());
    let args = |port: &str, extra: &[&str]| -> Vec<String> {
        let mut a = vec!["-S", "-H", "a.test", "-I", "127.0.0.1", "-p", port];
        a.extend(["--ca-cert", ca.as_str()]);
        a.extend(extra);
        a.into_iter().map(String::from).collect()
    };
    let v2: &[&str] = &["--http-version", "2"];
    let cases: Vec<(Vec<String>, &str, &str)> = vec![
        (
            args(
                &h2,
                &[v2, &["-u", "/protocol", "-s", "HTTP/2.0 GET"]].concat(),
            ),
            "OK",
            r"^HTTP/2 200 - \d+ bytes in ",
        ),
        (
            args(&h2, &[v2, &["-u", "/protocol", "-P", "hello"]].concat()),
            "OK",
            r"^HTTP/2 200 - ",
        ),
        (
            args(&h2, &[v2, &["-u", "/missing-page"]].concat()),
            "WARNING",
            r"^status 404 on https://a\.test:\d+/missing-page - HTTP/2 404 - ",
        ),
        (
            args(&h2, &[v2, &["-u", "/protocol", "-s", "HTTP/1.1"]].concat()),
            "CRITICAL",
            r"^string 'HTTP/1\.1' not found",
        ),
        // not asked for: no ALPN, HTTP/1.1 on the same server
        (
            args(&h2, &["-u", "/protocol", "-s", "HTTP/1.1 GET"]),
            "OK",
            r"^HTTP/1\.1 200 OK - ",
        ),
        // offered to a server without HTTP/2: HTTP/1.1, as curl falls back
        (args(&h1, v2), "OK", r"^HTTP/1\.1 200 OK - "),
    ];
    for (a, state, summary) in &cases {
        assert_result(&json("check_curl", a), state, summary);
    }
    let post = plugin(
        "check_curl",
        &args(
            &h2,
            &[
                v2,
                &["-u", "/protocol", "-P", "hello", "-s", "HTTP/2.0 POST 5"],
            ]
            .concat(),
        )
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>(),
    );
    assert_eq!(post.code, 0, "the body went with its length: {post:?}");
    // 300,000 bytes through HTTP/2 flow control, whole
    let large = json(
        "check_curl",
        &args(
            &h2,
            &[v2, &["-u", "/large.html", "-m", "300000:300400"]].concat(),
        ),
    );
    assert_result(&large, "OK", r"^HTTP/2 200 - 3\d{5} bytes in ");
    // plain HTTP: HTTP/1.1 (nothing to negotiate)
    let plain = json(
        "check_curl",
        &http_args(&n, "a.test", &["--http-version", "2"]),
    );
    assert_result(&plain, "OK", r"^HTTP/1\.1 200 OK - ");
    // Debian's check_curl on the HTTP/2 pages: the same exit codes and status lines
    let debian = debian_plugin("check_curl");
    for (a, state, _) in &cases[..3] {
        let theirs = run(&debian, &a.iter().map(String::as_str).collect::<Vec<_>>());
        let code = match *state {
            "OK" => 0,
            "WARNING" => 1,
            _ => 2,
        };
        assert_eq!(theirs.code, code, "Debian's check_curl {a:?}: {theirs:?}");
        assert!(theirs.stdout.contains("HTTP/2 "), "{theirs:?}");
    }
}

#[test]
fn tls_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let n = start_nginx(dir.path());
    let sp = n.https_port;
    assert_result(
        &https(&n, "a.test", &["-s", "Welcome"]),
        "OK",
        r"^HTTP/1\.1 200 OK - \d+ bytes in ",
    );
    assert_eq!(https(&n, "www.a.test", &[])["state"], "OK", "the SAN name");
    // days left: issued for 200 days
    let cases: [(&[&str], &str, &str); 4] = [
        (
            &["-C", "30,7"],
            "OK",
            r"^certificate 'a\.test' will expire on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \((199|200) days\)$",
        ),
        (
            &["-C", "250,7"],
            "WARNING",
            r"^certificate 'a\.test' will expire on ",
        ),
        (
            &["-C", "250,220"],
            "CRITICAL",
            r"^certificate 'a\.test' will expire on ",
        ),
        (
            &["-C", "30,7", "--continue-after-certificate", "-s", "nope"],
            "CRITICAL",
            r"^string 'nope' not found on .*, certificate 'a\.test' will expire on ",
        ),
    ];
    for (extra, state, summary) in cases {
        assert_result(&https(&n, "a.test", extra), state, summary);
    }
    // an expired certificate is reported with its date, with or without -C
    for extra in [&[][..], &["-C", "30,7"][..]] {
        assert_result(
            &https(&n, "expired.test", extra),
            "CRITICAL",
            &format!(
                r"^TLS handshake failed: certificate has expired: certificate 'expired\.test' expired on 2020-02-01 00:00:00 UTC \(https://expired\.test:{sp}/\)$"
            ),
        );
    }
    assert_result(
        &https(&n, "wrong.test", &[]),
        "CRITICAL",
        r"^TLS handshake failed: certificate does not match the host name: certificate 'other\.test' \(expires \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\) failed verification: certificate does not match the host name ",
    );
    assert_result(
        &https(&n, "self.test", &[]),
        "CRITICAL",
        r"^TLS handshake failed: certificate issuer is not trusted: certificate 'self\.test' ",
    );
    assert_eq!(https(&n, "self.test", &["--insecure"])["state"], "OK");
    // without the test CA, the Mozilla roots do not trust it
    let r = plugin_json(
        "check_http",
        &[
            "-S",
            "-H",
            "a.test",
            "-I",
            "127.0.0.1",
            "-p",
            &sp.to_string(),
        ],
    );
    assert_result(&r, "CRITICAL", r"certificate issuer is not trusted");
    let ca = n.pki.ca_cert.to_string_lossy().to_string();
    // the server speaks TLS 1.2 only
    for (pin, state) in [("--ssl=1.2", "OK"), ("--ssl=1.3", "CRITICAL")] {
        let r = plugin_json(
            "check_http",
            &[
                pin,
                "-H",
                "a.test",
                "-I",
                "127.0.0.1",
                "-p",
                &sp.to_string(),
                "--ca-cert",
                &ca,
            ],
        );
        assert_eq!(r["state"], state, "{pin}: {r}");
    }
}

#[test]
fn slow_pages_and_faulty_servers() {
    let dir = tempfile::tempdir().unwrap();
    let n = start_nginx(dir.path());
    // 2500 bytes at 1000 bytes/s
    assert_result(
        &http(
            &n,
            "a.test",
            &["-u", "/slow/big.html", "-w", "1", "-c", "20"],
        ),
        "WARNING",
        r"^response time [12]\.\d{3}s - HTTP/1\.1 200 OK - ",
    );
    let start = Instant::now();
    let r = http(&n, "a.test", &["-u", "/slow/big.html", "-t", "1"]);
    assert_only(&r, "CRITICAL", "Socket timeout after 1 seconds");
    assert!(start.elapsed().as_secs_f64() < 1.9);

    let fake = |f: Fault, t: &str| {
        let port = fake_server(f).to_string();
        let start = Instant::now();
        let r = plugin_json(
            "check_http",
            &["-H", "x.test", "-I", "127.0.0.1", "-p", &port, "-t", t],
        );
        (r, start.elapsed().as_secs_f64(), port)
    };
    let (r, secs, _) = fake(Fault::Hang, "2");
    assert_only(&r, "CRITICAL", "Socket timeout after 2 seconds");
    assert!(secs < 2.9);
    let (r, _, port) = fake(Fault::Garbage(b"SSH-2.0-OpenSSH_9.2\r\n\r\n".to_vec()), "5");
    assert_only(
        &r,
        "CRITICAL",
        &format!("invalid HTTP response: 'SSH-2.0-OpenSSH_9.2' (http://x.test:{port}/)"),
    );
    let (r, secs, _) = fake(Fault::Trickle(b"HTTP/1.1 200 OK\r\n".to_vec()), "2");
    assert_only(&r, "CRITICAL", "Socket timeout after 2 seconds");
    assert!(secs < 2.9);
    let (r, _, _) = fake(Fault::Reset, "5");
    assert_result(
        &r,
        "CRITICAL",
        r"^(connection failed while reading the response|cannot send the request|the server closed the connection without a response|connect to address 127\.0\.0\.1 and port \d+: Connection reset)",
    );
    // nothing listening
    let port = hcoop_tests::free_port().to_string();
    let r = plugin_json(
        "check_http",
        &["-H", "x.test", "-I", "127.0.0.1", "-p", &port],
    );
    assert_only(
        &r,
        "CRITICAL",
        &format!("connect to address 127.0.0.1 and port {port}: Connection refused"),
    );
}

#[test]
fn many_vhosts_from_a_list_and_an_apache_config() {
    let dir = tempfile::tempdir().unwrap();
    let n = start_nginx(dir.path());
    let (hp, sp) = (n.http_port, n.https_port);
    let ca = n.pki.ca_cert.to_string_lossy().to_string();
    let mut list = String::from("# members' sites\n");
    for i in 1..=40 {
        list.push_str(&format!("v{i}.test\n"));
    }
    list.push_str(&format!("a.test /missing\nb.test /missing 404\nhttps://a.test:{sp}\nhttps://expired.test:{sp}\nhttps://wrong.test:{sp} /\n"));
    let file = dir.path().join("vhosts.txt");
    std::fs::write(&file, list).unwrap();
    let file = file.to_string_lossy().to_string();
    let args = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "--vhosts-from",
            &file,
            "-I",
            "127.0.0.1",
            "-p",
            &hp.to_string(),
            "--ca-cert",
            &ca,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let v = json("check_http", &args(&[]));
    assert_result(
        &v,
        "CRITICAL",
        r"^45 vhosts checked in \d+\.\d{3}s: 42 OK, 1 WARNING, 2 CRITICAL, 0 UNKNOWN; failing: a\.test, expired\.test, wrong\.test$",
    );
    let counts: Vec<(&str, Option<f64>)> =
        ["vhosts", "failing", "ok", "warning", "critical", "unknown"]
            .into_iter()
            .map(|l| (l, perf(&v, l)["value"].as_f64()))
            .collect();
    assert_eq!(
        counts,
        [
            ("vhosts", Some(45.0)),
            ("failing", Some(3.0)),
            ("ok", Some(42.0)),
            ("warning", Some(1.0)),
            ("critical", Some(2.0)),
            ("unknown", Some(0.0))
        ],
        "{v}"
    );
    assert_eq!(
        (&v["perfdata"][1]["warn"], &v["perfdata"][1]["crit"]),
        (&json!(null), &json!(null)),
        "{v}"
    );
    let long = details(&v);
    assert_eq!(long.len(), 3, "{v}");
    assert_eq!(long[0].0.as_deref(), Some("WARNING"));
    assert!(long[0].1.starts_with(&format!("http://a.test:{hp}/missing: status 404 on http://a.test:{hp}/missing - HTTP/1.1 404 Not Found")), "{}", long[0].1);
    assert_eq!(
        long[1],
        (Some("CRITICAL".into()), format!("https://expired.test:{sp}/: TLS handshake failed: certificate has expired: certificate 'expired.test' expired on 2020-02-01 00:00:00 UTC (https://expired.test:{sp}/)"))
    );
    assert_eq!(long[2].0.as_deref(), Some("CRITICAL"));
    assert!(long[2].1.starts_with(&format!(
        "https://wrong.test:{sp}/: TLS handshake failed: certificate does not match the host name"
    )));
    // thresholds on the failing vhosts (counts and percents are not mixed: a usage error)
    let a = args(&["-w", "2", "-c", "10%"]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    assert_eq!(
        plugin("check_http", &a)
            .stdout
            .lines()
            .next()
            .unwrap()
            .split(" - ")
            .next(),
        Some("HTTP UNKNOWN")
    );
    let v = json("check_http", &args(&["-w", "2", "-c", "10"]));
    assert_eq!(v["state"], "WARNING", "{v}");
    assert!(
        details(&v)
            .iter()
            .any(|d| d.0.is_none() && d.1.starts_with("[CRITICAL] https://expired.test")),
        "{v}"
    );
    assert_eq!(
        json("check_http", &args(&["-w", "5%", "-c", "10%"]))["state"],
        "WARNING"
    );

    // an Apache-style configuration naming the same sites
    let conf = dir.path().join("apache2");
    std::fs::create_dir_all(conf.join("sites-enabled")).unwrap();
    std::fs::write(
        conf.join("apache2.conf"),
        "IncludeOptional sites-enabled/*.conf\n",
    )
    .unwrap();
    std::fs::write(
        conf.join("sites-enabled/members.conf"),
        format!(
            "<VirtualHost 127.0.0.1:{hp}>\n ServerName a.test\n ServerAlias v1.test v2.test\n</VirtualHost>\n\
<VirtualHost 127.0.0.1:{hp}>\n ServerName b.test\n</VirtualHost>\n\
<VirtualHost 127.0.0.1:{sp}>\n ServerName a.test\n SSLEngine on\n</VirtualHost>\n\
<VirtualHost 127.0.0.1:{sp}>\n ServerName expired.test\n SSLEngine on\n</VirtualHost>\n"
        ),
    )
    .unwrap();
    let conf = conf.to_string_lossy().to_string();
    let v = plugin_json(
        "check_http",
        &["--apache-config", &conf, "--with-aliases", "--ca-cert", &ca],
    );
    assert_result(
        &v,
        "CRITICAL",
        r"^6 vhosts checked in \d+\.\d{3}s: 5 OK, 0 WARNING, 1 CRITICAL, 0 UNKNOWN; failing: expired\.test$",
    );
    assert_eq!(perf(&v, "vhosts")["value"].as_f64(), Some(6.0), "{v}");
    assert_only(
        &plugin_json("check_http", &["--apache-config", "/nonexistent"]),
        "UNKNOWN",
        "--apache-config /nonexistent: no such file or directory",
    );
}

/// check_http starting at the origin server's address (no -I: the address is the name).
fn from_origin(r: &RedirectNginx, uri: &str, extra: &[&str]) -> Value {
    let port = r.port.to_string();
    let mut args = vec!["-H", "127.0.0.1", "-p", &port, "-u", uri, "-t", "5"];
    args.extend_from_slice(extra);
    plugin_json("check_http", &args)
}

#[test]
fn sticky_redirects_stay_on_the_starting_address() {
    let dir = tempfile::tempdir().unwrap();
    let r = start_redirect_nginx(dir.path());
    let (p, q) = (r.port, r.other_port);
    // a redirect to another address: the page is asked of the origin, with the new
    // Host; a redirect to a name no resolver knows: never resolved; stickyport keeps the
    // port as well
    for (uri, how, host) in [
        ("/to-addr", "sticky", format!("127.0.0.2:{p}")),
        ("/to-name", "sticky", format!("elsewhere.test:{p}")),
        ("/to-port", "stickyport", format!("127.0.0.2:{p}")),
    ] {
        let res = from_origin(&r, uri, &["-f", how, "-s", &origin_page(&host)]);
        assert_result(&res, "OK", r"^HTTP/1\.1 200 OK - ");
        assert_eq!(
            details(&res),
            [(None, format!("redirect 302 -> http://{host}/"))]
        );
    }
    // sticky alone takes the redirect's port, on the origin's address (closed there)
    let res = from_origin(&r, "/to-port", &["-f", "sticky"]);
    assert_only(
        &res,
        "CRITICAL",
        &format!("connect to address 127.0.0.1 and port {q}: Connection refused"),
    );
    // the same rules for many virtual hosts at once
    let list = dir.path().join("vhosts");
    std::fs::write(
        &list,
        format!("http://127.0.0.1:{p}/to-addr\nhttp://127.0.0.1:{p}/to-port\n"),
    )
    .unwrap();
    let res = plugin_json(
        "check_http",
        &[
            "--vhosts-from",
            list.to_str().unwrap(),
            "-f",
            "stickyport",
            "-s",
            "origin server",
        ],
    );
    assert_result(
        &res,
        "OK",
        r"^2 vhosts checked in \d+\.\d{3}s: 2 OK, 0 WARNING, 0 CRITICAL, 0 UNKNOWN$",
    );
    assert_eq!(details(&res), [], "{res}");
    assert_eq!(r.second_requests(), Vec::<String>::new());
}

#[test]
fn follow_is_bounded_by_networks_and_hops() {
    let dir = tempfile::tempdir().unwrap();
    let r = start_redirect_nginx(dir.path());
    let p = r.port;
    // outside the allowed networks: refused before any connection
    let res = from_origin(
        &r,
        "/to-addr",
        &[
            "-f",
            "follow",
            "--redirect-networks",
            "127.0.0.3/32,192.0.2.0/24",
        ],
    );
    assert_result(
        &res,
        "CRITICAL",
        &format!(
            r"^redirect to http://127\.0\.0\.2:{p}/ refused: 127\.0\.0\.2 is outside the allowed networks \(loopback\) - HTTP/1\.1 302 Moved Temporarily - \d+ bytes in "
        ),
    );
    let res = from_origin(
        &r,
        "/to-meta",
        &["-f", "follow", "--redirect-networks", "global"],
    );
    assert_result(
        &res,
        "CRITICAL",
        r"^redirect to http://169\.254\.169\.254/latest/meta-data/ refused: 169\.254\.169\.254 is outside the allowed networks \(cloud metadata\) - HTTP/1\.1 302 ",
    );
    assert_eq!(r.second_requests(), Vec::<String>::new());
    // inside: followed
    let res = from_origin(
        &r,
        "/to-addr",
        &[
            "-f",
            "follow",
            "--redirect-networks",
            "127.0.0.2/32",
            "-s",
            SECOND_PAGE,
        ],
    );
    assert_result(&res, "OK", r"^HTTP/1\.1 200 OK - ");
    assert_eq!(r.second_requests().len(), 1);
    // a stand-alone check without the option follows anywhere, as monitoring-plugins
    let res = from_origin(&r, "/to-addr", &["-f", "follow", "-s", SECOND_PAGE]);
    assert_result(&res, "OK", r"^HTTP/1\.1 200 OK - ");
    assert_eq!(r.second_requests().len(), 2);
    // the hop bound, with the hop count
    let res = from_origin(&r, "/loop", &["-f", "follow", "--max-redirs", "3"]);
    assert_result(
        &res,
        "WARNING",
        &format!(
            r"^maximum redirection depth 3 exceeded - http://127\.0\.0\.1:{p}/loop - HTTP/1\.1 301 Moved Permanently - "
        ),
    );
    assert_eq!(details(&res).len(), 3, "{res}");
    let res = from_origin(&r, "/loop", &["-f", "follow"]);
    assert_result(
        &res,
        "WARNING",
        r"^maximum redirection depth 15 exceeded - ",
    );
    // a bad list is a usage error
    let port = r.port.to_string();
    let res = plugin(
        "check_http",
        &[
            "-H",
            "127.0.0.1",
            "-p",
            &port,
            "--redirect-networks",
            "127.0.0.0/40",
        ],
    );
    assert_eq!(
        (res.code, res.stdout.as_str()),
        (
            3,
            "HTTP UNKNOWN - --redirect-networks: '127.0.0.0/40' is not a network (ADDRESS/PREFIX, e.g. 192.0.2.0/24)\n"
        )
    );
}

#[test]
fn daemon_redirect_networks_setting() {
    use hcoop_monitor::config::Config;
    let conf = |daemon: &str| {
        Config::from_files(vec![(
            Some("d.toml".into()),
            format!("[daemon]\n{daemon}\n"),
        )])
    };
    assert_eq!(
        conf("").unwrap().daemon.redirect_networks,
        ["global"],
        "the default"
    );
    let c = conf(r#"redirect_networks = ["global", "10.0.0.0/8", "2001:db8::/32", "192.0.2.7"]"#)
        .unwrap();
    assert_eq!(c.daemon.redirect_networks.len(), 4);
    let e = conf(r#"redirect_networks = ["global", "10.0.0.0/33"]"#)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "d.toml: [daemon] redirect_networks: '10.0.0.0/33' is not a network (ADDRESS/PREFIX, e.g. 192.0.2.0/24)"
    );
}

#[test]
fn daemon_refuses_redirects_outside_its_networks() {
    let dir = tempfile::tempdir().unwrap();
    let r = start_redirect_nginx(dir.path());
    let p = r.port;
    let d = Daemon::start(&format!(
        r#"redirect_networks = ["127.0.0.3/32"]

[defaults]
check_interval = "1s"
retry_interval = "1s"
max_check_attempts = 1

[[host]]
name = "web"
address = "127.0.0.1"

[[service]]
host = "web"
name = "member"
check = "check_http"
args = ["-H", "127.0.0.1", "-p", "{p}", "-u", "/to-addr", "-f", "follow"]

[[service]]
host = "web"
name = "allowed"
check = "check_http"
args = ["-H", "127.0.0.1", "-p", "{p}", "-u", "/to-addr", "-f", "follow", "--redirect-networks", "127.0.0.2", "-s", "{SECOND_PAGE}", "-A", "allowed-service"]
"#
    ));
    let v = d.wait_service("web/member", 20.0, |v| v["state"] == "CRITICAL");
    let out = v["output"].as_str().unwrap();
    assert!(
        out.starts_with(&format!(
            "HTTP CRITICAL - redirect to http://127.0.0.2:{p}/ refused: 127.0.0.2 is outside the allowed networks (loopback) - HTTP/1.1 302 "
        )),
        "{out}"
    );
    d.wait_service("web/allowed", 20.0, |v| v["state"] == "OK");
    // only the service allowed there reached the second server
    assert!(!r.second_requests().is_empty());
    assert!(
        r.second_requests()
            .iter()
            .all(|l| l.contains("allowed-service")),
        "{:?}",
        r.second_requests()
    );
}

#[test]
fn replies_over_a_bound_are_clear_results() {
    let check = |f: Fault, extra: &[&str]| {
        let port = fake_server(f).to_string();
        let start = Instant::now();
        let mut args = vec!["-H", "x.test", "-I", "127.0.0.1", "-p", &port, "-t", "10"];
        args.extend_from_slice(extra);
        let r = plugin_json("check_http", &args);
        let secs = start.elapsed().as_secs_f64();
        assert!(secs < 9.0, "{secs}s: {r}");
        (r, port)
    };
    // an endless header line
    let (r, port) = check(
        Fault::Endless {
            head: b"HTTP/1.1 200 OK\r\nX-Long: ".to_vec(),
            unit: vec![b'a'; 4096],
        },
        &[],
    );
    assert_only(
        &r,
        "CRITICAL",
        &format!("response headers longer than 65536 bytes (http://x.test:{port}/)"),
    );
    // too many header lines
    let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
    many.extend(b"X-Cookie: y\r\n".repeat(300));
    many.extend(b"\r\n");
    let (r, port) = check(Fault::Garbage(many), &[]);
    assert_only(
        &r,
        "CRITICAL",
        &format!("more than 256 response header lines (http://x.test:{port}/)"),
    );
    // an endless chunked body: read up to the limit, matched in its first bytes
    let mut unit = b"1000\r\n".to_vec();
    unit.extend(vec![b'x'; 4096]);
    unit.extend(b"\r\n");
    let (r, _) = check(
        Fault::Endless {
            head: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(),
            unit,
        },
        &["-s", "xxxx"],
    );
    assert_result(
        &r,
        "OK",
        r"^body read up to the 16777216-byte limit - HTTP/1\.1 200 OK - 167\d{5} bytes in ",
    );
    // a chunk size no integer holds
    let (r, port) = check(
        Fault::Garbage(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n"
                .to_vec(),
        ),
        &[],
    );
    assert_only(
        &r,
        "CRITICAL",
        &format!("invalid chunk size 'fffffffffffffffffff' (http://x.test:{port}/)"),
    );
    // a 1 GB Content-Length: its size counts, only the read limit is read
    let (r, _) = check(
        Fault::Endless {
            head: b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n".to_vec(),
            unit: vec![b'z'; 65536],
        },
        &["-m", "1:1000000"],
    );
    assert_result(
        &r,
        "WARNING",
        r"^page size 10737418\d\d too large, body read up to the 16777216-byte limit - HTTP/1\.1 200 OK - 10737418\d\d bytes in ",
    );
    // an endless Location is not followed
    let mut loc = b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\nLocation: http://x.test/".to_vec();
    loc.extend(vec![b'l'; 9000]);
    loc.extend(b"\r\n\r\n");
    let (r, _) = check(Fault::Garbage(loc), &["-f", "follow"]);
    assert_result(
        &r,
        "CRITICAL",
        r"^redirect Location longer than 8192 bytes - HTTP/1\.1 302 Found - ",
    );
}

/// Validating the command line reads no file: a password file that cannot be read is
/// found by the check when it runs, UNKNOWN naming it (as before, exit 3), and the
/// daemon can load a check whose file is not there yet.
#[test]
fn an_unreadable_password_file_is_unknown() {
    let r = plugin_json(
        "check_http",
        &[
            "-H",
            "127.0.0.1",
            "-p",
            "1",
            "-a",
            "member",
            "--password-file",
            "/nonexistent",
        ],
    );
    assert_only(
        &r,
        "UNKNOWN",
        "--password-file /nonexistent: No such file or directory (os error 2)",
    );
}
