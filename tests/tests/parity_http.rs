//! The cases of monitoring-plugins' own check_http and check_curl tests (plugins/t and
//! plugins/tests at v2.3.3), run by Debian's plugins and ours side by side against one
//! nginx answering the peer's test paths (`hcoop_tests::web_peer`): the same exit code,
//! and the same perfdata labels and units.
//!
//! Over TLS ours verifies the server's certificate (Debian's check_http never does):
//! where Debian's plugin takes no `--ca-cert` (check_http), ours is given the test CA
//! with it, the one option added to the peer's command line; check_curl takes it too,
//! so both get the same command line. The peer's servers answer a lowercase method
//! with 501; nginx refuses it with 400, so both plugins see a 4xx there (WARNING).
//! Debian's CONNECT tunnel always leads to port 443 (not a test port), so `-j CONNECT`
//! runs ours only; so do the options Debian's 2.3.3 lacks (check_curl 3.0's
//! `--haproxy-protocol`, `-x`, `--state-regex`).

use hcoop_tests::parity::{self, Outcome};
use hcoop_tests::web::wait_port;
use hcoop_tests::web_peer::{start_peer_nginx, PeerNginx};
use hcoop_tests::{free_port, require, Guard};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

/// The one server of this binary (each test process starts its own under nextest).
fn server() -> &'static PeerNginx {
    static SERVER: OnceLock<PeerNginx> = OnceLock::new();
    SERVER.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        start_peer_nginx(&dir)
    })
}

fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

fn refs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// A peer case over TLS: check_curl gets `--ca-cert` on both sides; Debian's check_http
/// takes no such option, so only ours gets it there.
fn tls_case(plugin: &str, args: &[&str], code: i32) -> (Outcome, Outcome) {
    let with_ca = ["--ca-cert", server().ca_cert.to_str().unwrap()];
    if plugin == "check_curl" {
        return parity::case_owned(plugin, &parity::words(args, &with_ca), code);
    }
    parity::case_extra(plugin, args, &with_ca, code)
}

/// The response time our first line reports ("in N second").
fn seconds(o: &Outcome) -> f64 {
    let line = o.stdout.lines().next().unwrap_or_default();
    line.split(" bytes in ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no response time in {line}"))
}

/// The peer's run_common_tests: `base` is `-H 127.0.0.1 -p PORT [--ssl]`.
fn common_cases(plugin: &str, base: &[String], tls: bool) {
    let run = |extra: &[&str], code: i32| {
        let mut args = base.to_vec();
        args.extend(owned(extra));
        let args = refs(&args);
        if tls {
            tls_case(plugin, &args, code)
        } else {
            parity::case(plugin, &args, code)
        }
    };
    let (_, o) = run(&["-u", "/file/root"], 0);
    assert!(o.stdout.contains(" 200 OK - "), "{}", o.stdout);
    run(&["-u", "/file/root", "-s", "Root"], 0);
    let (_, o) = run(&["-u", "/file/root", "-s", "NonRoot"], 2);
    assert!(
        o.stdout.contains("string 'NonRoot' not found"),
        "{}",
        o.stdout
    );
    run(
        &[
            "-u",
            "/file/root",
            "-s",
            "NonRootWithOver30charsAndMoreFunThanAWetFish",
        ],
        2,
    );
    run(&["-u", "/header_check", "-d", "foo"], 0);
    let (_, o) = run(&["-u", "/header_check", "-d", "bar"], 2);
    assert!(o.stdout.contains("header 'bar' not found"), "{}", o.stdout);
    let (d, o) = run(&["-u", "/slow"], 0);
    assert!(seconds(&o) > 1.0, "{}", o.stdout);
    assert!(d.stdout.contains(" second"), "{}", d.stdout);
    run(&["-u", "/statuscode/200"], 0);
    run(&["-u", "/statuscode/200", "-e", "200"], 0);
    run(&["-u", "/statuscode/201"], 0);
    run(&["-u", "/statuscode/201", "-e", "201"], 0);
    run(&["-u", "/statuscode/201", "-e", "200"], 2);
    run(&["-u", "/statuscode/200", "-e", "200,201,202"], 0);
    run(&["-u", "/statuscode/201", "-e", "200,201,202"], 0);
    run(&["-u", "/statuscode/203", "-e", "200,201,202"], 2);
    run(&["-j", "HEAD", "-u", "/method"], 0);
    run(&["-j", "POST", "-u", "/method"], 0);
    run(&["-j", "GET", "-u", "/method"], 0);
    run(&["-u", "/method"], 0);
    run(&["-P", "foo", "-u", "/method"], 0);
    run(&["-j", "DELETE", "-u", "/method"], 1);
    // the peer's server answers 501 (CRITICAL); nginx refuses a lowercase method: 400
    run(&["-j", "foo", "-u", "/method"], 1);
    run(
        &[
            "-P",
            "stufftoinclude",
            "-u",
            "/postdata",
            "-s",
            "POST:stufftoinclude",
        ],
        0,
    );
    run(
        &[
            "-j",
            "PUT",
            "-P",
            "stufftoinclude",
            "-u",
            "/postdata",
            "-s",
            "PUT:stufftoinclude",
        ],
        0,
    );
    run(
        &[
            "-P",
            "stufftoinclude",
            "-j",
            "PUT",
            "-u",
            "/postdata",
            "-s",
            "PUT:stufftoinclude",
        ],
        0,
    );
    let (_, o) = run(&["-u", "/redirect"], 0);
    assert!(o.stdout.contains("301 Moved Permanently"), "{}", o.stdout);
    let (_, o) = run(&["-f", "follow", "-u", "/redirect"], 0);
    assert!(o.stdout.contains(" 200 OK - "), "{}", o.stdout);
    run(&["-u", "/redirect", "-k", "follow: me"], 0);
    run(&["-f", "follow", "-u", "/redirect", "-k", "follow: me"], 0);
    run(&["-f", "sticky", "-u", "/redirect", "-k", "follow: me"], 0);
    run(
        &["-f", "stickyport", "-u", "/redirect", "-k", "follow: me"],
        0,
    );
    // stickyport stays on this server whatever the redirect names: within 2 seconds
    let start = Instant::now();
    let external = [
        "-f",
        "stickyport",
        "-u",
        "/redir_external",
        "-t",
        "5",
        "-s",
        "redirected",
    ];
    if tls {
        // deliberately different: the redirect names https://169.254.169.254/, a name
        // the certificate of this server does not hold, and ours verifies it
        let mut args = base.to_vec();
        args.extend(owned(&external));
        let d = parity::debian(plugin, &refs(&args));
        args.extend(owned(&["--ca-cert", server().ca_cert.to_str().unwrap()]));
        let o = parity::ours(plugin, &refs(&args));
        assert_eq!((d.code, o.code), (0, 2), "{}\n{}", d.stdout, o.stdout);
        assert!(
            o.stdout
                .contains("certificate does not match the host name"),
            "{}",
            o.stdout
        );
    } else {
        run(&external, 0);
    }
    assert!(
        start.elapsed().as_secs_f64() < 4.0,
        "two runs within 2 s each"
    );
    // sticky keeps the address but takes the redirect's port (80 or 443): refused here
    run(
        &[
            "-f",
            "sticky",
            "-u",
            "/redir_external",
            "-t",
            "5",
            "-s",
            "redirected",
        ],
        2,
    );
    // a server that never answers: the timeout is CRITICAL, with the peer's phrase
    let (d, o) = run(&["-u", "/timeout", "-t", "2"], 2);
    for out in [&d, &o] {
        assert!(
            out.stdout.contains("Socket timeout after 2 seconds")
                || out.stdout.contains("timed out after"),
            "{}",
            out.stdout
        );
    }
    let start = Instant::now();
    run(&["-f", "follow", "-u", "/redir_timeout", "-t", "2"], 2);
    assert!(
        start.elapsed().as_secs_f64() < 10.0,
        "two runs within 5 s each"
    );
    run(
        &[
            "-u",
            "/chunked/",
            "-s",
            "chunkedencodingtest",
            "-d",
            "Transfer-Encoding: chunked",
        ],
        0,
    );
}

fn base(port: u16, tls: bool) -> Vec<String> {
    let mut b = owned(&["-H", "127.0.0.1", "-p"]);
    b.push(port.to_string());
    if tls {
        b.push("--ssl".into());
    }
    b
}

/// plugins/tests/check_http.t and check_curl.t: the common cases over HTTP and HTTPS,
/// the certificate's days, the expired certificate, the client certificate and the
/// virtual ports.
fn peer_server_cases(plugin: &str) {
    let n = server();
    common_cases(plugin, &base(n.http_port, false), false);
    common_cases(plugin, &base(n.https_port, true), true);
    let sp = n.https_port.to_string();
    let https = |extra: &[&str]| {
        let mut a = owned(&["-H", "127.0.0.1", "-p", &sp, "-S"]);
        a.extend(owned(extra));
        a
    };
    // the certificate is valid 200 days
    let (_, o) = tls_case(plugin, &refs(&https(&["-C", "14"])), 0);
    assert!(
        o.stdout
            .contains("certificate 'Monitoring Plugins' will expire on"),
        "{}",
        o.stdout
    );
    tls_case(plugin, &refs(&https(&["-C", "14000"])), 1);
    tls_case(plugin, &refs(&https(&["-C", "13960,14000"])), 2);
    let ep = n.expired_port.to_string();
    let (d, o) = tls_case(plugin, &["-H", "127.0.0.1", "-p", &ep, "-S", "-C", "7"], 2);
    // (Debian's check_curl given --ca-cert verifies, and stops at the name first)
    assert!(
        plugin == "check_curl" || d.stdout.contains("expired on"),
        "{}",
        d.stdout
    );
    assert!(o.stdout.contains("expired on"), "{}", o.stdout);
    let cp = n.clientcert_port.to_string();
    let (cert, key) = (
        n.client.cert.to_str().unwrap(),
        n.client.key.to_str().unwrap(),
    );
    let with_client = [
        "-H",
        "127.0.0.1",
        "-p",
        &cp,
        "-S",
        "-J",
        cert,
        "-K",
        key,
        "-u",
        "/statuscode/200",
    ];
    tls_case(plugin, &with_client, 0);
    // without the client certificate the server refuses the request (nginx: 400)
    tls_case(
        plugin,
        &["-H", "127.0.0.1", "-p", &cp, "-S", "-u", "/statuscode/200"],
        1,
    );

    // virtual ports: the Host header names -H's port, the connection goes to -p
    let hp = n.http_port.to_string();
    for (port, tls, vhost, expect) in [
        (&hp, false, "127.0.0.1", format!("127.0.0.1:{hp}")),
        (&hp, false, "127.0.0.1:80", "127.0.0.1".to_string()),
        (&sp, true, "127.0.0.1", format!("127.0.0.1:{sp}")),
        (&sp, true, "127.0.0.1:443", "127.0.0.1".to_string()),
        (&sp, true, "127.0.0.1:8080", "127.0.0.1:8080".to_string()),
    ] {
        let args = virtual_port(&["-H", vhost], port, tls, &expect);
        if tls {
            tls_case(plugin, &refs(&args), 0);
        } else {
            parity::case_owned(plugin, &args, 0);
        }
    }
    if plugin == "check_curl" {
        // check_curl.t's virtual host on -I 127.0.0.1, with and without a virtual port;
        // over TLS the certificate names 127.0.0.1, not the virtual host: both unverified
        // (check_curl does not verify without -D; ours with --insecure)
        let vh = "www.somefunnyhost.com";
        for (port, tls, vhost, expect) in [
            (&hp, false, vh.to_string(), format!("{vh}:{hp}")),
            (&hp, false, format!("{vh}:42"), format!("{vh}:42")),
            (&hp, false, format!("{vh}:80"), vh.to_string()),
            (&sp, true, vh.to_string(), format!("{vh}:{sp}")),
            (&sp, true, format!("{vh}:42"), format!("{vh}:42")),
            (&sp, true, format!("{vh}:443"), vh.to_string()),
        ] {
            let args = virtual_port(&["-H", &vhost, "-I", "127.0.0.1"], port, tls, &expect);
            let insecure: &[&str] = if tls { &["--insecure"] } else { &[] };
            parity::case_extra(plugin, &refs(&args), insecure, 0);
        }
    }
}

/// The command line asking the peer's /virtual_port, which answers with the Host header
/// it got, for exactly `host`: `first` (-H, -I), then the port, and `--ssl` over TLS.
fn virtual_port(first: &[&str], port: &str, tls: bool, host: &str) -> Vec<String> {
    let mut args = parity::words(first, &["-p", port]);
    if tls {
        args.push("--ssl".to_string());
    }
    let re = format!("^{host}$");
    args.extend(parity::words(&["-u", "/virtual_port", "-r"], &[&re]));
    args
}

/// plugins/t/check_http.t and check_curl.t with our server as the peer's
/// NP_HOST_TCP_HTTP / NP_HOST_TLS_HTTP (on its ports, given with -p).
fn peer_host_cases(plugin: &str) {
    let n = server();
    let (hp, sp) = (n.http_port.to_string(), n.https_port.to_string());
    if plugin == "check_curl" {
        // check_curl.t: a Host header given with -k replaces the one -H or -I makes
        for first in [["-H", "127.0.0.1:8080"], ["-I", "127.0.0.1"]] {
            let mut a = owned(&first);
            a.extend(owned(&["-p", &hp, "-k", "Host: testhost:8001"]));
            a.extend(owned(&["-u", "/virtual_port", "-r", "^testhost:8001$"]));
            parity::case(plugin, &refs(&a), 0);
        }
        // -D verifies (ours always does): the test CA is given to both
        tls_case(
            plugin,
            &[
                "-H",
                "127.0.0.1",
                "-D",
                "-S",
                "-p",
                &sp,
                "-u",
                "/virtual_port",
                "-r",
                "^127.0.0.1",
            ],
            0,
        );
    }
    // the old -wt/-ct/-to options and the bare host
    parity::case(
        plugin,
        &["127.0.0.1", "-p", &hp, "-wt", "300", "-ct", "600"],
        0,
    );
    parity::case(
        plugin,
        &[
            "127.0.0.1",
            "-p",
            &hp,
            "-wt",
            "300",
            "-ct",
            "600",
            "-v",
            "-v",
            "-v",
            "-k",
            "bob:there",
            "-k",
            "carl:frown",
        ],
        0,
    );
    if plugin == "check_curl" {
        parity::case(
            plugin,
            &["-I", "127.0.0.1", "-p", &hp, "-wt", "300", "-ct", "600"],
            0,
        );
    }
    // a server that accepts and never answers: CRITICAL, the peer's phrase
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let quiet = silent.local_addr().unwrap().port().to_string();
    let (d, o) = parity::case(
        plugin,
        &["127.0.0.1", "-p", &quiet, "-wt", "1", "-ct", "2", "-t", "3"],
        2,
    );
    if plugin == "check_http" {
        assert!(
            d.stdout.contains("Socket timeout after 3 seconds"),
            "{}",
            d.stdout
        );
        assert!(
            o.stdout.contains("Socket timeout after 3 seconds"),
            "{}",
            o.stdout
        );
    }
    drop(silent);
    parity::case(plugin, &["nosuchhost.invalid", "-wt", "1", "-ct", "2"], 2);
    // Host headers (the peer reads them from -v; here the server echoes them)
    for (vhost, expect) in [
        ("127.0.0.1", format!("127.0.0.1:{hp}")),
        ("127.0.0.1:8080", "127.0.0.1:8080".to_string()),
    ] {
        parity::case_owned(
            plugin,
            &virtual_port(&["-H", vhost], &hp, false, &expect),
            0,
        );
    }
    let plain = |extra: &[&str], code: i32| {
        let mut a = owned(&["-H", "127.0.0.1", "-p", &hp, "-u", "/file/root"]);
        a.extend(owned(extra));
        parity::case(plugin, &refs(&a), code)
    };
    plain(&["-r", "monitoring"], 0);
    let (_, o) = plain(&["-r", "mONiTORing"], 2);
    assert!(
        o.stdout.contains("pattern 'mONiTORing' not found"),
        "{}",
        o.stdout
    );
    plain(&["-R", "mONiTORing"], 0);
    let (_, o) = plain(&["-r", "monitoring", "--invert-regex"], 2);
    assert!(
        o.stdout.contains("pattern 'monitoring' found"),
        "{}",
        o.stdout
    );
    plain(&["-r", "mONiTORing", "--invert-regex"], 0);
    // TLS: -C implies --ssl, old and new syntax alike
    tls_case(plugin, &["--ssl", "127.0.0.1", "-p", &sp], 0);
    tls_case(plugin, &["-C", "1", "--ssl", "127.0.0.1", "-p", &sp], 0);
    tls_case(
        plugin,
        &["-C", "8000,1", "--ssl", "127.0.0.1", "-p", &sp],
        1,
    );
    tls_case(plugin, &["127.0.0.1", "-p", &sp, "-C", "1"], 0);
    tls_case(plugin, &["-H", "127.0.0.1", "-p", &sp, "-C", "1"], 0);
    tls_case(plugin, &["-C", "1", "127.0.0.1", "-p", &sp], 0);
    // extended perfdata: the same labels and units, time_connect and time_ssl among them
    let (d, o) = tls_case(plugin, &["--ssl", "127.0.0.1", "-p", &sp, "-E"], 0);
    for out in [&d, &o] {
        assert!(
            out.item("time_connect").is_some() && out.item("time_ssl").is_some(),
            "{}",
            out.stdout
        );
    }
    let (d, _) = parity::case(
        plugin,
        &[
            "-H",
            "127.0.0.1",
            "-p",
            &hp,
            "-u",
            "/redirect",
            "-f",
            // check_curl.t lets curl follow
            if plugin == "check_curl" {
                "curl"
            } else {
                "follow"
            },
            "--extended-perfdata",
        ],
        0,
    );
    assert!(d.item("time_firstbyte").is_some(), "{}", d.stdout);
}

/// The peer's proxy cases (plugins/t: NP_HOST_TCP_PROXY) against tinyproxy.
fn proxy_cases(plugin: &str) {
    let n = server();
    let (_proxy, pport) = tinyproxy(n);
    let pp = pport.to_string();
    let url = format!("http://127.0.0.1:{}/statuscode/200", n.http_port);
    parity::case(
        plugin,
        &[
            "-I",
            "127.0.0.1",
            "-p",
            &pp,
            "-u",
            &url,
            "-e",
            "200,301,302",
        ],
        0,
    );
}

/// tinyproxy on a free port of loopback, allowing CONNECT to the test's HTTPS port.
fn tinyproxy(n: &PeerNginx) -> (Guard, u16) {
    let bin = require("/usr/bin/tinyproxy", "tinyproxy-bin");
    let port = free_port();
    let conf = n.dir.join(format!("tinyproxy-{port}.conf"));
    std::fs::write(
        &conf,
        format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 20\nAllow 127.0.0.1\n\
             ConnectPort {}\nConnectPort {}\nLogLevel Critical\nDisableViaHeader Yes\n",
            n.https_port, n.http_port
        ),
    )
    .unwrap();
    let guard = Guard::spawn(
        Command::new(bin)
            .arg("-d")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    assert!(wait_port(port, 10.0), "tinyproxy did not start");
    (guard, port)
}

/// A run of ours alone: what the case shows, the command line, the exit code expected
/// and what the output must hold.
type OursCase<'a> = (&'a str, Vec<String>, i32, fn(&str) -> bool);

/// Ours only: what Debian's 2.3.3 plugins cannot do (check_curl 3.0's options, the
/// CONNECT tunnel to a test port, a proxy, decompression, -M, -L, -B, --state-regex).
fn ours_only(plugin: &str) {
    let n = server();
    let hp = n.http_port.to_string();
    let sp = n.https_port.to_string();
    let pp = n.haproxy_port.to_string();
    let ep = n.expired_port.to_string();
    let ca = n.ca_cert.to_str().unwrap();
    let (_proxy, pport) = tinyproxy(n);
    let proxy_port = pport.to_string();
    let via = format!("http://127.0.0.1:{pport}");
    let vhost_port = format!("^127.0.0.1:{hp}$");
    let vhost = format!("127.0.0.1:{sp}");
    let at = |port: &str, extra: &[&str]| parity::words(&["-H", "127.0.0.1", "-p", port], extra);
    let any: fn(&str) -> bool = |_| true;
    let gz = ["-u", "/gzip", "-s", "inflated"];
    let cases: Vec<OursCase> = vec![
        (
            "the PROXY protocol header names our side of the connection",
            at(&pp, &["--haproxy-protocol", "-s", "client 127.0.0.1:"]),
            0,
            any,
        ),
        (
            "without the header nginx closes the connection",
            at(&pp, &[]),
            2,
            |s| s.contains("closed the connection without a response"),
        ),
        (
            "HTTP/1.0",
            at(&hp, &["-u", "/statuscode/200", "--http-version", "1.0"]),
            0,
            |s| s.contains("HTTP/1.1 200 OK"),
        ),
        (
            "HTTP/2 if offered, which this client answers with 1.1",
            at(&hp, &["--http-version", "2.0", "-u", "/statuscode/200"]),
            0,
            |s| s.contains("HTTP/1.1 200"),
        ),
        ("no HTTP/3", at(&hp, &["--http-version", "3"]), 3, any),
        (
            "compressed, the word is not found",
            at(&hp, &[&gz[..], &["-k", "Accept-Encoding: gzip"]].concat()),
            2,
            any,
        ),
        (
            "a compressed page is searched once decompressed",
            at(
                &hp,
                &[
                    &gz[..],
                    &[
                        "--enable-automatic-decompression",
                        "-d",
                        "Content-Encoding: gzip",
                    ],
                ]
                .concat(),
            ),
            0,
            any,
        ),
        (
            "-M: the page was last modified in 2001",
            at(&hp, &["-u", "/modified", "-M", "1d"]),
            2,
            |s| s.contains("Last modified"),
        ),
        (
            "-M: within 100000 days",
            at(&hp, &["-u", "/modified", "-M", "100000d"]),
            0,
            any,
        ),
        (
            "-M without a Last-Modified header",
            at(&hp, &["-u", "/statuscode/200", "-M", "60"]),
            2,
            |s| s.contains("Document modification date unknown"),
        ),
        (
            "-L and -B",
            at(&hp, &["-u", "/redirect2", "-L", "-B"]),
            0,
            |s| {
                s.starts_with("HTTP OK - <A HREF=\"http://127.0.0.1:")
                    && s.lines().any(|l| l == "redirected")
            },
        ),
        (
            "--state-regex",
            at(
                &hp,
                &[
                    "-u",
                    "/file/root",
                    "-r",
                    "nowhere",
                    "--state-regex",
                    "warning",
                ],
            ),
            1,
            any,
        ),
        (
            "-l: . matches the newline",
            at(&hp, &["-u", "/file/root", "-r", "server.\\.", "-l"]),
            0,
            any,
        ),
        (
            "without -l . does not match the newline",
            at(&hp, &["-u", "/file/root", "-r", "server.\\."]),
            2,
            any,
        ),
        (
            "through a proxy: plain HTTP with the whole URL",
            at(&hp, &["-x", &via, "-u", "/virtual_port", "-r", &vhost_port]),
            0,
            any,
        ),
        (
            "through a proxy: HTTPS through CONNECT",
            at(
                &sp,
                &["-S", "--ca-cert", ca, "-x", &via, "-u", "/statuscode/201"],
            ),
            0,
            |s| s.contains("201 Created"),
        ),
        (
            "reached directly (nothing on port 1)",
            at("1", &["-x", &via, "--noproxy", "127.0.0.1"]),
            2,
            any,
        ),
        (
            "-j CONNECT",
            parity::words(
                &["-I", "127.0.0.1", "-p", &proxy_port, "-H", &vhost],
                &["-S", "--ca-cert", ca, "-j", "CONNECT:HEAD", "-u", "/method"],
            ),
            0,
            |s| s.contains("200"),
        ),
        (
            "a proxy that refuses the tunnel (a port it does not allow)",
            at(&ep, &["-S", "-x", &via]),
            2,
            |s| s.contains("refused CONNECT"),
        ),
    ];
    for (what, args, code, holds) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = parity::ours(plugin, &args);
        assert!(
            o.code == code && holds(&o.stdout),
            "{what}: {plugin} {}\nexpected exit {code}, ours (exit {}):\n{}",
            args.join(" "),
            o.code,
            o.stdout
        );
    }
}

#[test]
fn check_http_peer_cases() {
    peer_server_cases("check_http");
    peer_host_cases("check_http");
    proxy_cases("check_http");
    ours_only("check_http");
}

/// --cookie-jar: the cookie set by a redirect is sent on the next hop and saved, by
/// Debian's check_curl (letting curl follow) and ours alike.
fn cookie_cases() {
    let n = server();
    let hp = n.http_port.to_string();
    for who in ["debian", "ours"] {
        let jar = n.dir.join(format!("cookies-{who}.txt"));
        let _ = std::fs::remove_file(&jar);
        let args = [
            "-H",
            "127.0.0.1",
            "-p",
            &hp,
            "-u",
            "/cookie",
            "-f",
            "curl",
            "-s",
            "cookie yes",
            "--cookie-jar",
            jar.to_str().unwrap(),
        ];
        let o = if who == "debian" {
            parity::debian("check_curl", &args)
        } else {
            parity::ours("check_curl", &args)
        };
        assert_eq!(o.code, 0, "{who}: {}", o.stdout);
        let saved = std::fs::read_to_string(&jar).unwrap_or_default();
        assert!(saved.contains("\tpeer\tyes"), "{who}: {saved}");
    }
    // without a jar the cookie is not carried
    let o = parity::ours(
        "check_curl",
        &[
            "-H",
            "127.0.0.1",
            "-p",
            &hp,
            "-u",
            "/cookie",
            "-f",
            "curl",
            "-s",
            "cookie yes",
        ],
    );
    assert_eq!(o.code, 2, "{}", o.stdout);
}

#[test]
fn check_curl_peer_cases() {
    cookie_cases();
    peer_server_cases("check_curl");
    peer_host_cases("check_curl");
    ours_only("check_curl");
}
