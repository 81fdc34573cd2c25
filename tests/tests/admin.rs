//! End-to-end tests of the admin actions through the daemon binary: active checks and
//! notifications switched off and on again (and kept across a kill -9), checks run at
//! once on demand, and the same actions on a host with its services.

use hcoop_tests::daemon::Daemon;
use hcoop_tests::scenario::{daemon_with_out, pager_defaults, set_script};
use hcoop_tests::{require, wait_until, Run};
use std::path::Path;
use std::time::{Duration, Instant};

/// A plugin whose state the test sets by rewriting its script.
fn set_plugin(dir: &Path, name: &str, code: i32, text: &str) {
    set_script(&dir.join(format!("{name}.sh")), code, text);
}

/// Host `db` with `fast` (checked every second), `slow` (every hour, its output the
/// time it ran) and `flip` (a script the test rewrites); one attempt makes a problem
/// hard, notified once to `pager`, a command writing a line to `out/pager`; `more`
/// after them.
fn config(dir: &Path, out: &Path, more: &str) -> String {
    format!(
        r#"{defaults}
[[host]]
name = "db"
address = "127.0.0.1"

[[service]]
host = "db"
name = "fast"
command = "/bin/echo FAST OK"

[[service]]
host = "db"
name = "slow"
command = "/bin/sh -c 'echo SLOW OK - ran at $(date +%s.%N)'"
check_interval = "1h"

[[service]]
host = "db"
name = "flip"
command = "/bin/sh {dir}/flip.sh"
{more}
"#,
        defaults = pager_defaults(out, 1),
        dir = dir.display(),
    )
}

/// A daemon on [`config`] with `more`, `flip` OK; and the file the pager writes.
fn start(more: &str) -> (Daemon, std::path::PathBuf) {
    let (mut d, dir, out) = daemon_with_out();
    set_plugin(&dir, "flip", 0, "FLIP OK - fine");
    d.restart_with(&config(&dir, &out, more));
    (d, out.join("pager"))
}

/// What the pager received so far.
fn paged(pager: &Path) -> String {
    std::fs::read_to_string(pager).unwrap_or_default()
}

/// Runs the CLI; its stdout, once it succeeded.
fn cli(d: &Daemon, args: &[&str]) -> String {
    let run = d.cli(args);
    assert_eq!(run.code, 0, "{args:?}: {}{}", run.stdout, run.stderr);
    run.stdout
}

/// The status line of `name`.
fn status_line(d: &Daemon, name: &str) -> String {
    let status = d.cli(&["status"]).stdout;
    status
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("{name} not in {status}"))
        .to_string()
}

#[test]
fn checks_switched_off_are_not_run_and_a_recheck_runs_at_once() {
    let (d, _) = start("");
    d.wait_service("db/fast", 10.0, |v| v["checked"] == true);
    assert_eq!(
        cli(&d, &["disable", "checks", "db/fast"]),
        "active checks disabled: db/fast\n"
    );
    let v = d.service("db/fast");
    assert_eq!(v["active_checks_enabled"], false);
    assert_eq!(v["notifications_enabled"], true);
    let last = v["last_check"].as_u64().unwrap();
    // three check intervals and more: not run, and the status says why
    std::thread::sleep(Duration::from_millis(3500));
    assert_eq!(d.service("db/fast")["last_check"].as_u64(), Some(last));
    let line = status_line(&d, "db/fast");
    assert!(line.ends_with("FAST OK [checks disabled]"), "{line}");
    // on again: run within an interval
    assert_eq!(
        cli(&d, &["enable", "checks", "db/fast"]),
        "active checks enabled: db/fast\n"
    );
    d.wait_service("db/fast", 3.0, |v| {
        v["last_check"].as_u64() > Some(last) && v["active_checks_enabled"] == true
    });
    assert!(!status_line(&d, "db/fast").contains("[checks disabled]"));

    // a check due in up to an hour runs within a second once asked for
    let before = d.service("db/slow")["output"].clone();
    let asked = Instant::now();
    let answer = d
        .post("/api/recheck", serde_json::json!({"target": "db/slow"}))
        .unwrap();
    assert_eq!(
        answer,
        serde_json::json!({"objects": ["db/slow"], "without_check": []})
    );
    let ran = wait_until(1.0, || {
        let v = d.service("db/slow");
        v["checked"] == true && v["output"] != before
    });
    let took = asked.elapsed();
    assert!(ran, "not run within a second: {}", d.service("db/slow"));
    println!("a check asked for ran and was applied {took:?} after the request");
    // its next regular check is an hour away: nothing more within a few seconds
    let output = d.service("db/slow")["output"].clone();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(d.service("db/slow")["output"], output);

    // a host and its services through the CLI; the host has no check to run
    assert_eq!(
        cli(&d, &["recheck", "db/*"]),
        "checks asked for now: db/fast, db/slow, db/flip\nwithout an active check: db\n"
    );
    d.wait_service("db/slow", 1.0, |v| v["output"] != output);
    // a group that does not exist: refused, saying which
    let run = d.cli(&["recheck", "--hostgroup", "nowhere"]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert_eq!(run.stderr, "hcoop-monitor: no host group 'nowhere'\n");
    let run = d.cli(&["recheck", "db"]);
    assert_eq!(run.code, 3);
    assert_eq!(run.stderr, "hcoop-monitor: db: no active check to run\n");
}

#[test]
fn notifications_switched_off_send_nothing_and_the_switches_survive_a_restart() {
    let (mut d, pager) = start("");
    d.wait_service("db/flip", 10.0, |v| v["checked"] == true);
    d.wait_service("db/fast", 10.0, |v| v["checked"] == true);
    assert_eq!(
        cli(&d, &["disable", "notifications", "db/flip"]),
        "notifications disabled: db/flip\n"
    );
    cli(&d, &["disable", "checks", "db/fast"]);
    // a hard problem: not notified
    set_plugin(d.dir.path(), "flip", 2, "FLIP CRITICAL - gone");
    d.wait_service("db/flip", 10.0, |v| {
        v["state"] == "CRITICAL" && v["state_type"] == "HARD"
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(paged(&pager), "", "{}", d.log());
    let v = d.service("db/flip");
    assert_eq!(
        (
            v["notification_number"].as_u64(),
            v["notifications_enabled"].as_bool()
        ),
        (Some(0), Some(false))
    );
    let line = status_line(&d, "db/flip");
    assert!(line.ends_with("[notifications disabled]"), "{line}");

    // killed at once: the switches were saved before they were answered
    let fast = d.service("db/fast")["last_check"].as_u64();
    d.kill9();
    d.spawn();
    let v = d.service("db/flip");
    assert_eq!(v["notifications_enabled"], false, "{v}");
    assert_eq!(v["active_checks_enabled"], true);
    let v = d.service("db/fast");
    assert_eq!(v["active_checks_enabled"], false, "{v}");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(d.service("db/fast")["last_check"].as_u64(), fast);
    assert_eq!(paged(&pager), "", "{}", d.log());

    // on again: the problem still there is notified at its next check
    assert_eq!(
        cli(&d, &["enable", "notifications", "db/flip"]),
        "notifications enabled: db/flip\n"
    );
    assert!(wait_until(5.0, || !paged(&pager).is_empty()), "{}", d.log());
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(paged(&pager), "PROBLEM db/flip CRITICAL\n");
}

/// A host `router` whose check fails, in the host group `net` with `db`; the service
/// group `flaky` of `db/flip` and `db/fast`.
const GROUPS: &str = r#"
[[host]]
name = "router"
address = "127.0.0.1"
command = "/bin/sh -c 'echo ROUTER DOWN - unplugged; exit 2'"
contacts = []

[[hostgroup]]
name = "net"
members = ["router", "db"]

[[servicegroup]]
name = "flaky"
members = ["db/flip", "db/fast"]
"#;

/// The view of host `name`.
fn host(d: &Daemon, name: &str) -> serde_json::Value {
    let hosts = d.get("/api/hosts");
    hosts
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["host"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no host {name}: {hosts}"))
}

#[test]
fn groups_are_acknowledged_and_switched_whole() {
    let (d, pager) = start(GROUPS);
    assert!(
        wait_until(10.0, || host(&d, "router")["state"] == "DOWN"),
        "{}",
        d.log()
    );
    // a host group is its hosts: the one DOWN is acknowledged, the one UP passed over
    assert_eq!(
        cli(&d, &["ack", "--hostgroup", "net", "-m", "cable"]),
        "acknowledged router\n"
    );
    let router = host(&d, "router");
    assert_eq!(
        (
            router["acknowledged"].as_bool(),
            router["ack"]["author"].as_str()
        ),
        (Some(true), Some("root"))
    );
    assert_eq!(host(&d, "db")["acknowledged"], false);
    // a service group is its services
    set_plugin(d.dir.path(), "flip", 2, "FLIP CRITICAL - gone");
    d.wait_service("db/flip", 10.0, |v| {
        v["state"] == "CRITICAL" && v["state_type"] == "HARD"
    });
    assert!(wait_until(5.0, || !paged(&pager).is_empty()));
    assert_eq!(
        cli(&d, &["ack", "--servicegroup", "flaky", "-m", "known"]),
        "acknowledged db/flip\n"
    );
    assert_eq!(
        cli(&d, &["disable", "checks", "--servicegroup", "flaky"]),
        "active checks disabled: db/fast, db/flip\n"
    );
    assert_eq!(
        cli(&d, &["disable", "notifications", "--hostgroup", "net"]),
        "notifications disabled: db, router\n"
    );
    for name in ["db/flip", "db/fast"] {
        assert_eq!(d.service(name)["active_checks_enabled"], false, "{name}");
    }
    assert_eq!(d.service("db/slow")["active_checks_enabled"], true);
    assert_eq!(host(&d, "router")["notifications_enabled"], false);
    assert_eq!(host(&d, "db")["notifications_enabled"], false);
    assert_eq!(d.service("db/flip")["notifications_enabled"], true);
    // one downtime for each member; an unknown group changes nothing
    let out = cli(&d, &["downtime", "--servicegroup", "flaky", "-d", "1h"]);
    assert_eq!(out.lines().count(), 2, "{out}");
    let run = d.cli(&["downtime", "--hostgroup", "nowhere", "-d", "1h"]);
    assert_eq!(run.code, 3);
    assert_eq!(run.stderr, "hcoop-monitor: no host group 'nowhere'\n");
    assert_eq!(d.cli(&["downtimes"]).stdout.lines().count(), 3);
}

#[test]
fn a_host_and_its_services_are_acknowledged_and_put_in_downtime_at_once() {
    let (d, pager) = start("");
    set_plugin(d.dir.path(), "flip", 2, "FLIP CRITICAL - gone");
    d.wait_service("db/flip", 10.0, |v| {
        v["state"] == "CRITICAL" && v["state_type"] == "HARD"
    });
    assert!(wait_until(5.0, || !paged(&pager).is_empty()));
    // the problems among them are acknowledged, the rest passed over
    assert_eq!(
        cli(&d, &["ack", "db/*", "-m", "disk swap"]),
        "acknowledged db/flip\n"
    );
    assert_eq!(d.service("db/flip")["acknowledged"], true);
    assert_eq!(d.service("db/fast")["acknowledged"], false);
    // one downtime each
    let out = cli(&d, &["downtime", "db/*", "-d", "1h", "-m", "move"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    for (line, name) in lines.iter().zip(["db", "db/fast", "db/slow", "db/flip"]) {
        assert!(line.ends_with(&format!(" for {name}, 1h")), "{out}");
    }
    for name in ["db/fast", "db/slow", "db/flip"] {
        assert_eq!(d.service(name)["in_downtime"], true, "{name}");
    }
    let listed = d.cli(&["downtimes"]).stdout;
    assert_eq!(listed.lines().count(), 5, "{listed}");
    // exactly one of TARGET, --hostgroup, --servicegroup
    let run = d.cli(&["ack", "db/*", "--hostgroup", "web", "-m", "x"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
}

/// Runs the CLI as uid/gid 65534 (a member without privileges).
fn as_member(d: &Daemon, args: &[&str]) -> Run {
    let setpriv = require("setpriv", "util-linux");
    let config = d.config_dir();
    std::process::Command::new(setpriv)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(hcoop_tests::bin("hcoop-monitor"))
        .args(["-c", config.to_str().unwrap()])
        .args(args)
        .output()
        .expect("setpriv")
        .into()
}

#[test]
fn members_cannot_switch_or_run_checks_and_tokens_author_what_they_do() {
    let (d, _) = start("");
    d.wait_service("db/fast", 10.0, |v| v["checked"] == true);
    let refused =
        "hcoop-monitor: nobody may not use the control socket (root, the daemon's user, admin_users and admin_groups may)";
    for args in [
        &["disable", "checks", "db/fast"][..],
        &["disable", "notifications", "--hostgroup", "x"],
        &["recheck", "db/*"],
    ] {
        let r = as_member(&d, args);
        assert_eq!((r.code, r.stderr.trim()), (3, refused), "{args:?}: {r:?}");
    }
    // over TCP: a token is needed
    let anonymous = hcoop_monitor::client::Endpoint::Tcp {
        addr: d.api(),
        token: None,
    };
    let body = serde_json::json!({"target": "db/fast", "enabled": false}).to_string();
    let e = anonymous
        .request("POST", "/api/checks", Some(body.clone()))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "credentials needed: Authorization: Bearer TOKEN"
    );
    let v = d.service("db/fast");
    assert_eq!(
        (
            v["active_checks_enabled"].as_bool(),
            v["notifications_enabled"].as_bool()
        ),
        (Some(true), Some(true))
    );
    // with the token: done, and logged with the token's name
    let answer = d
        .post("/api/checks", serde_json::from_str(&body).unwrap())
        .unwrap();
    assert_eq!(
        answer,
        serde_json::json!({"active_checks": false, "objects": ["db/fast"]})
    );
    d.wait_log(5.0, "tester disabled active checks of db/fast (1 objects)");
}
