//! The daemon's API on a shared host, tried as a member would (uid 65534 through
//! setpriv) and as the admin does it (root, through the CLI and the control socket):
//! writes need credentials and are authored by them, inputs are bounded, idle
//! connections cannot starve the API, a squatted port or a fake control socket cannot
//! fool the CLI, reloads say whether they took, and the daemon gives root up.

use hcoop_tests::daemon::Daemon;
use hcoop_tests::rawhttp::raw;
use hcoop_tests::scenario::spawn_as;
use hcoop_tests::{require, wait_until, Run};
use serde_json::{json, Value};
use std::io::Read;
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

const CHECKS: &str = concat!(
    hcoop_tests::db_checks!(),
    r#"
[[service]]
host = "db"
name = "later"
command = "/bin/echo LATER OK"
check_interval = "1000h"
"#
);

/// Runs a command as uid/gid 65534 (a member without privileges).
fn as_member(program: &std::path::Path, args: &[&str]) -> Run {
    let setpriv = require("setpriv", "util-linux");
    Command::new(setpriv)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(program)
        .args(args)
        .output()
        .expect("setpriv")
        .into()
}

/// A POST with JSON and optional extra header lines.
fn post(addr: &str, path: &str, body: &str, headers: &str) -> (u16, String) {
    raw(
        addr,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
}

fn ack_body(author: &str) -> String {
    json!({"target": "db/bad", "author": author, "comment": "known", "sticky": true}).to_string()
}

fn member_curl_like(d: &Daemon, body: &str, headers: &str) -> (u16, String) {
    post(&d.api(), "/api/ack", body, headers)
}

/// Each acknowledgement by `author` with the request headers of `cases` gets `code` and
/// the case's answer.
fn assert_refused(d: &Daemon, author: &str, code: u16, cases: &[(String, &str)]) {
    for (headers, answer) in cases {
        let (got, body) = member_curl_like(d, &ack_body(author), headers);
        assert_eq!((got, body.as_str()), (code, *answer), "{headers:?}");
    }
}

#[test]
fn writes_need_credentials_and_are_authored_by_them() {
    let d = Daemon::start(CHECKS);
    d.wait_service("db/bad", 15.0, |v| v["state"] == "CRITICAL");
    let json_type = "Content-Type: application/json\r\n";

    // a member (uid 65534) over TCP, with curl: no token
    let curl = require("curl", "curl");
    let url = format!("http://{}/api/ack", d.api());
    let r = as_member(
        &curl,
        &[
            "-s",
            "-w",
            " %{http_code}",
            "-H",
            "Content-Type: application/json",
            "--data",
            &ack_body("root"),
            &url,
        ],
    );
    assert_eq!(
        r.stdout, r#"{"error":"credentials needed: Authorization: Bearer TOKEN"} 401"#,
        "{r:?}"
    );
    // the same from the test, and with a wrong token
    let wrong = format!("Authorization: Bearer {}\r\n", "0".repeat(64));
    let unauthorized = [
        (
            json_type.to_string(),
            r#"{"error":"credentials needed: Authorization: Bearer TOKEN"}"#,
        ),
        (
            format!("{json_type}{wrong}"),
            r#"{"error":"unknown token"}"#,
        ),
    ];
    assert_refused(&d, "root", 401, &unauthorized);
    let (code, _) = raw(
        &d.api(),
        &format!(
            "DELETE /api/downtime/1 HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            d.api()
        ),
    );
    assert_eq!(code, 401);
    assert_eq!(d.service("db/bad")["acknowledged"], false);
    assert!(
        wait_until(5.0, || d
            .log()
            .contains("api: refused POST /api/ack from 127.0.0.1:")),
        "{}",
        d.log()
    );

    // a page of another site cannot drive it, even with the token cached
    let token = format!("Authorization: Bearer {}\r\n", d.token);
    let forbidden = [
        (
            format!("{json_type}{token}Origin: http://evil.example\r\n"),
            r#"{"error":"request from another origin refused"}"#,
        ),
        (
            format!("Content-Type: text/plain\r\n{token}"),
            r#"{"error":"writes must be sent as Content-Type: application/json"}"#,
        ),
    ];
    assert_refused(&d, "x", 403, &forbidden);
    assert_eq!(d.service("db/bad")["acknowledged"], false);

    // with the token: the author is the token's name, not what the client says
    let (code, body) = member_curl_like(&d, &ack_body("root"), &format!("{json_type}{token}"));
    assert_eq!(code, 200, "{body}");
    let bad = d.service("db/bad");
    assert_eq!(bad["ack"]["author"], "tester", "{bad}");

    // a member on the control socket is refused; nothing changes
    let hm = hcoop_tests::bin("hcoop-monitor");
    let cfg = d.config_dir();
    let r = as_member(&hm, &["-c", cfg.to_str().unwrap(), "unack", "db/bad"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert_eq!(
        r.stderr.trim(),
        "hcoop-monitor: nobody may not use the control socket (root, the daemon's user, admin_users and admin_groups may)"
    );
    let r = as_member(&hm, &["-c", cfg.to_str().unwrap(), "status"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert_eq!(d.service("db/bad")["acknowledged"], true);

    // root through the CLI: every admin action, authored "root"
    let r = d.cli(&["unack", "db/bad"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "acknowledgement of db/bad removed\n"),
        "{r:?}"
    );
    let r = d.cli(&["ack", "db/bad", "-m", "disk replaced tonight"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(d.service("db/bad")["ack"]["author"], "root");
    let r = d.cli(&[
        "downtime", "db/good", "-d", "2h", "-s", "+1h", "-m", "upgrade",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let id: u64 = r
        .stdout
        .strip_prefix("downtime ")
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{r:?}"));
    let list: Vec<Value> = serde_json::from_value(d.get("/api/downtimes")).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["author"], "root");
    assert_eq!(list[0]["target"], "db/good");
    assert_eq!(list[0]["in_effect"], false);
    assert_eq!(
        list[0]["end"].as_u64().unwrap() - list[0]["start"].as_u64().unwrap(),
        7200
    );
    let r = d.cli(&["downtimes"]);
    assert!(
        r.stdout
            .lines()
            .nth(1)
            .unwrap()
            .starts_with(&format!("{id}  db/good  ")),
        "{r:?}"
    );
    assert!(r.stdout.contains("  root  upgrade"), "{r:?}");
    let r = d.cli(&["comment", "db/bad", "-m", "vendor ticket 4711"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = d.cli(&["comments"]);
    assert!(
        r.stdout.contains("db/bad") && r.stdout.contains("root  vendor ticket 4711"),
        "{r:?}"
    );
    let cid: u64 = r
        .stdout
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let r = d.cli(&["delete-comment", &cid.to_string()]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = d.cli(&["cancel-downtime", &id.to_string()]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, format!("downtime {id} cancelled\n").as_str())
    );
    assert_eq!(d.get("/api/downtimes"), json!([]));
    assert_eq!(d.get("/api/comments"), json!([]));
    let r = d.cli(&["cancel-downtime", &id.to_string()]);
    assert_eq!(r.code, 3);
    assert_eq!(r.stderr.trim(), format!("hcoop-monitor: no downtime {id}"));

    // the status table shows who acknowledged; a service never checked is PENDING
    let r = d.cli(&["status"]);
    assert!(r.stdout.contains("[ack by root]"), "{r:?}");
    let later = d.service("db/later");
    assert_eq!(
        (&later["state"], &later["checked"]),
        (&json!("PENDING"), &json!(false))
    );
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("db/later") && l.contains("PENDING")),
        "{r:?}"
    );
    let host = &d.get("/api/hosts")[0];
    assert_eq!(host["state"], "UP");
    assert_eq!(host["output"], "no host check configured: assumed UP\n");
}

#[test]
fn admin_inputs_are_bounded() {
    let mut d = Daemon::start("");
    d.restart_with(&format!("max_downtimes = 3\n{CHECKS}"));
    let post_dt = |duration: &str, comment: &str| {
        d.post(
            "/api/downtime",
            json!({"target": "db/good", "duration": duration, "comment": comment}),
        )
    };
    let e = post_dt("99999999999y", "x").unwrap_err();
    assert!(
        e.contains("is longer than the longest allowed, 30d (max_downtime)"),
        "{e}"
    );
    assert_eq!(
        post_dt("31d", "x").unwrap_err(),
        "a downtime of 31d is longer than the longest allowed, 30d (max_downtime)"
    );
    post_dt("30d", "x").unwrap();
    post_dt("1h", "x").unwrap();
    assert_eq!(
        post_dt("1h", &"c".repeat(1025)).unwrap_err(),
        "the comment is 1025 bytes long, more than 1024"
    );
    assert_eq!(
        post_dt("1h", "a\nb").unwrap_err(),
        "the comment holds control characters"
    );
    // a 1.9 MB comment never reaches the handler
    let (code, _) = post(
        &d.api(),
        "/api/downtime",
        &json!({"target": "db/good", "duration": "1h", "comment": "c".repeat(1_900_000)})
            .to_string(),
        &format!(
            "Content-Type: application/json\r\nAuthorization: Bearer {}\r\n",
            d.token
        ),
    );
    assert_eq!(code, 413);
    post_dt("1h", "third").unwrap();
    assert_eq!(
        post_dt("1h", "fourth").unwrap_err(),
        "there are 3 downtimes already, the most allowed (max_downtimes)"
    );
    // nesting is bounded by the parser: an answer, not a crash
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let (code, _) = post(
        &d.api(),
        "/api/comment",
        &deep[..60_000],
        &format!(
            "Content-Type: application/json\r\nAuthorization: Bearer {}\r\n",
            d.token
        ),
    );
    assert!((400..500).contains(&code), "{code}");
    assert!(d.running());
    let state_len = std::fs::metadata(d.state_file()).map_or(0, |m| m.len());
    assert!(state_len < 200_000, "state file {state_len} bytes");
}

#[test]
fn idle_connections_cannot_starve_the_api() {
    let d = Daemon::start(CHECKS);
    d.wait_service("db/good", 15.0, |v| v["checked"] == true);
    // 1100 idle connections from one member address: 16 are held, the rest closed
    let started = Instant::now();
    let mut idle = Vec::new();
    for _ in 0..1100 {
        if let Ok(s) = TcpStream::connect(d.api()) {
            idle.push(s);
        }
    }
    let mut closed = 0;
    for s in &mut idle {
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut b = [0u8; 1];
        if matches!(s.read(&mut b), Ok(0)) {
            closed += 1;
        }
    }
    assert!(closed >= 1100 - 16 - 5, "only {closed} of 1100 closed");
    // the admin is served at once through the control socket
    let t = Instant::now();
    let r = d.cli(&["status"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(t.elapsed() < Duration::from_secs(5));
    // the held ones are dropped after the header timeout; the checks went on
    assert!(
        wait_until(20.0, || {
            let (code, _) = raw(
                &d.api(),
                "GET /api/hosts HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            );
            code == 200
        }),
        "the API never answered again"
    );
    assert!(started.elapsed() >= Duration::from_secs(9));
    let good = d.service("db/good");
    assert!(
        hcoop_monitor::clock::unix_now() - good["last_check"].as_u64().unwrap() < 5,
        "{good}"
    );
    assert!(!d.log().contains("Too many open files"), "{}", d.log());
    drop(idle);
}

#[test]
fn squatted_port_and_fake_socket() {
    // a member holds the API port before the daemon starts
    let squatter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = squatter.local_addr().unwrap().port();
    let mut d = Daemon::start("");
    d.kill9();
    d.port = port;
    d.write_config(CHECKS);
    d.spawn_without_api();
    assert!(
        wait_until(10.0, || d
            .log()
            .contains(&format!("cannot listen on 127.0.0.1:{port}"))),
        "{}",
        d.log()
    );
    // the daemon checks on, says so in its own service, and the CLI reaches it through
    // the control socket
    assert!(
        wait_until(10.0, || d
            .cli(&["status", "--problems"])
            .stdout
            .lines()
            .any(|l| l.starts_with("hcoop-monitor/listener")
                && l.contains(&format!(
                    "LISTENER CRITICAL - cannot listen on 127.0.0.1:{port}"
                )))),
        "{}",
        d.log()
    );
    assert!(wait_until(15.0, || d
        .cli(&["status", "--problems"])
        .stdout
        .contains("db/bad")));
    assert!(d.running());
    let r = d.cli(&["ack", "db/bad", "-m", "known"]);
    assert_eq!(r.code, 0, "{r:?}");
    // once the port is free, the API comes up
    drop(squatter);
    assert!(
        wait_until(25.0, || TcpStream::connect(("127.0.0.1", port)).is_ok()),
        "{}",
        d.log()
    );
    assert_eq!(d.service("db/bad")["ack"]["author"], "root");
    let own = d.service("hcoop-monitor/listener");
    assert_eq!(own["state"], "OK", "{own}");

    // a socket a member serves is refused by the CLI
    let fake = d.dir.path().join("fake");
    std::fs::create_dir(&fake).unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let sock = fake.join("control.sock");
    let python = require("/usr/bin/python3", "python3");
    let setpriv = require("setpriv", "util-linux");
    let mut server = hcoop_tests::Guard::spawn(
        Command::new(setpriv)
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(python)
            .arg("-c")
            .arg(format!(
                "import socket\ns=socket.socket(socket.AF_UNIX)\ns.bind('{}')\ns.listen()\n\
                 while True:\n  c,_=s.accept()\n  try:\n    c.recv(4096)\n    c.sendall(b'HTTP/1.1 200 OK\\r\\n\\r\\n[]')\n  except OSError:\n    pass\n  c.close()\n",
                sock.display()
            )),
    );
    assert!(wait_until(10.0, || sock.exists()));
    let r = d.cli(&["status", "--socket", sock.to_str().unwrap()]);
    assert_eq!(r.code, 3, "{r:?}");
    assert_eq!(
        r.stderr.trim(),
        format!(
            "hcoop-monitor: {} is served by nobody (uid 65534), not by the daemon: refusing to talk to it",
            sock.display()
        )
    );
    let _ = server.0.kill();
}

#[test]
fn reload_says_whether_it_took() {
    let mut d = Daemon::start(CHECKS);
    d.wait_service("db/bad", 15.0, |v| v["checked"] == true);
    let r = d.cli(&["reload"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "reloaded: 1 hosts, 3 services\n"),
        "{r:?}"
    );
    // odd bytes in a built-in check's level: refused, never a panic; the old one runs
    let bad = format!(
        "{CHECKS}\n[[service]]\nhost = \"db\"\nname = \"mem\"\ncheck = \"check_mem\"\nargs = [\"-w\", \"é\"]\n"
    );
    d.write_config(&bad);
    let v = d.cli(&["validate"]);
    assert_eq!(v.code, 3, "{v:?}");
    assert!(!v.stderr.contains("panicked"), "{v:?}");
    assert!(
        v.stderr.contains("service 'mem' on 'db': check_mem: "),
        "{v:?}"
    );
    let r = d.cli(&["reload"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        r.stderr.starts_with(
            "hcoop-monitor: reload refused: configuration invalid, the running one is kept:"
        ),
        "{r:?}"
    );
    assert!(r.stderr.contains("check_mem: "), "{r:?}");
    assert!(d.running());
    assert!(d.find_service("db/mem").is_none());
    // a changed listen address is bound again; a changed state file needs a restart
    let port = hcoop_tests::free_port();
    let moved = d.config_dir().join("a.toml");
    let text = std::fs::read_to_string(&moved).unwrap();
    let text = text
        .replace(
            &format!("127.0.0.1:{}", d.port),
            &format!("127.0.0.1:{port}"),
        )
        .replace("state.json", "other.json");
    let text = text.replace(&bad[CHECKS.len()..], "");
    std::fs::write(&moved, text).unwrap();
    let r = d.cli(&["reload"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(&format!(
            "listen: now 127.0.0.1:{port} (was 127.0.0.1:{})",
            d.port
        )),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("other.json takes effect at the next restart"),
        "{r:?}"
    );
    assert!(wait_until(5.0, || TcpStream::connect(("127.0.0.1", port)).is_ok()));
    assert!(wait_until(5.0, || TcpStream::connect(d.api()).is_err()));
    // SIGHUP with the broken file: still running
    d.write_config(&bad);
    d.hup();
    assert!(wait_until(5.0, || d
        .log()
        .matches("configuration invalid")
        .count()
        >= 2));
    assert!(d.running());
}

#[test]
fn daemon_started_as_root_gives_root_up() {
    let nagios = hcoop_monitor::auth::user_ids("nagios")
        .expect("user nagios (from nagios-nrpe-server or nagios4-core)");
    let mut d = Daemon::start("");
    d.kill9();
    // the state directory does not exist yet: the daemon makes it for its user
    let state = d.dir.path().join("var/state.json");
    // the credentials file is made readable by the daemon's user
    let text = format!(
        "{CHECKS}\n[[service]]\nhost = \"db\"\nname = \"whoami\"\ncommand = \"/usr/bin/id -u\"\n"
    );
    spawn_as(&mut d, ("nagios", nagios.0), &text, &state);
    let pid = d.pid();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap()
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let uid = nagios.0.to_string();
    assert_eq!(
        field("Uid:"),
        [uid.clone(), uid.clone(), uid.clone(), uid.clone()],
        "{status}"
    );
    // no capability but the ones its checks need: none for this configuration
    assert_eq!(field("CapEff:"), ["0000000000000000"], "{status}");
    assert_eq!(field("CapPrm:"), ["0000000000000000"], "{status}");
    let who = d.wait_service("db/whoami", 15.0, |v| v["checked"] == true);
    assert_eq!(who["output"], format!("{uid}\n"));
    // root's CLI trusts the daemon's user on the control socket
    d.wait_service("db/bad", 15.0, |v| v["state"] == "CRITICAL");
    let r = d.cli(&["ack", "db/bad", "-m", "known"]);
    assert_eq!(r.code, 0, "{r:?}");
    // a reload that adds a check needing a capability given up says it takes a restart
    let file = d.config_dir().join("a.toml");
    let t = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        format!("{t}\n[[service]]\nhost = \"db\"\nname = \"procs\"\ncheck = \"check_procs\"\n"),
    )
    .unwrap();
    let r = d.cli(&["reload"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (
            0,
            "reloaded: 1 hosts, 5 services\nSysPtrace is needed by check_procs: it takes a restart\n"
        ),
        "{r:?}"
    );
    assert!(wait_until(5.0, || state.exists()));
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(state.parent().unwrap()).unwrap().uid(),
        nagios.0
    );
}

#[test]
fn reads_can_require_credentials_too() {
    let mut d = Daemon::start("");
    d.restart_with(&format!("require_auth_for_reads = true\n{CHECKS}"));
    let get = |auth: &str| {
        raw(
            &d.api(),
            &format!("GET /api/services HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}\r\n"),
        )
    };
    let (code, body) = get("");
    assert_eq!(
        (code, body.as_str()),
        (
            401,
            r#"{"error":"credentials needed: Authorization: Bearer TOKEN"}"#
        )
    );
    // the pages send anyone not signed in to the sign-in page, showing nothing
    let (code, body) = raw(
        &d.api(),
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(code, 303, "{body}");
    assert!(!body.contains("data-object"), "{body}");
    let (code, body) = get(&format!("Authorization: Bearer {}\r\n", d.token));
    assert_eq!(code, 200, "{body}");
    // basic auth, as a browser sends it, with the token as the password
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("tester:{}", d.token));
    let (code, _) = get(&format!("Authorization: Basic {basic}\r\n"));
    assert_eq!(code, 200);
    // the admin's CLI needs nothing more
    assert!(wait_until(15.0, || d.cli(&["status"]).code == 2));
}

#[test]
fn every_admin_action_is_durable_when_confirmed() {
    let mut d = Daemon::start(CHECKS);
    d.wait_service("db/bad", 15.0, |v| v["state"] == "CRITICAL");
    let restart = |d: &mut Daemon| {
        std::thread::sleep(Duration::from_millis(200));
        d.kill9();
        d.spawn();
    };
    assert_eq!(d.cli(&["ack", "db/bad", "-m", "known"]).code, 0);
    restart(&mut d);
    assert_eq!(d.service("db/bad")["ack"]["author"], "root");
    assert_eq!(d.cli(&["unack", "db/bad"]).code, 0);
    restart(&mut d);
    assert_eq!(d.service("db/bad")["acknowledged"], false);
    let r = d.cli(&["comment", "db/good", "-m", "new disk"]);
    assert_eq!(r.code, 0, "{r:?}");
    restart(&mut d);
    let comments = d.get("/api/comments");
    assert_eq!(comments[0]["text"], "new disk", "{comments}");
    assert_eq!(comments[0]["author"], "root");
    let id = comments[0]["id"].as_u64().unwrap().to_string();
    assert_eq!(d.cli(&["delete-comment", &id]).code, 0);
    restart(&mut d);
    assert_eq!(d.get("/api/comments"), json!([]));
}
