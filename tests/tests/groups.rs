//! Host, service and contact groups through the running daemon: `status --hostgroup`
//! and `--servicegroup` show a group's objects (an unknown group is one clear error),
//! `/api/groups` counts them, the objects' views name their groups, the page links
//! every group, and a contact group's members are notified by their commands.

use hcoop_tests::daemon::Daemon;
use hcoop_tests::scenario::{daemon_with_out, set_script};
use hcoop_tests::wait_until;

/// The NAME column of a status table, in its order.
fn names(table: &str) -> Vec<&str> {
    table
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect()
}

#[test]
fn status_by_group_and_contact_groups_notified() {
    let (mut d, dir, out) = daemon_with_out();
    set_script(&dir.join("ok.sh"), 0, "FINE OK - fine");
    set_script(&dir.join("crit.sh"), 2, "DISK CRITICAL - full");
    let config = format!(
        r#"
[defaults]
check_interval = "1s"
retry_interval = "1s"
max_check_attempts = 1

[[contact]]
name = "pager"
command = "/bin/sh -c 'echo $NAGIOS_NOTIFICATIONTYPE $NAGIOS_HOSTNAME/$NAGIOS_SERVICEDESC $NAGIOS_CONTACTNAME >> {out}/pager'"

[[contact]]
name = "lead"
command = "/bin/sh -c 'echo $NAGIOS_NOTIFICATIONTYPE $NAGIOS_HOSTNAME/$NAGIOS_SERVICEDESC $NAGIOS_CONTACTNAME >> {out}/lead'"

[[contactgroup]]
name = "oncall"
members = ["pager"]
contactgroup_members = ["leads"]

[[contactgroup]]
name = "leads"
pattern = "^lea"

[[hostgroup]]
name = "web"
alias = "Web <servers>"
pattern = "^www[0-9]+$"

[[servicegroup]]
name = "disks"
members = ["db1/disk"]

[[host]]
name = "www1"
address = "127.0.0.1"

[[host]]
name = "db1"
address = "127.0.0.1"
hostgroups = ["web"]

[[service]]
host = "www1"
name = "http"
command = "/bin/sh {dir}/ok.sh"

[[service]]
host = "db1"
name = "disk"
command = "/bin/sh {dir}/crit.sh"
servicegroups = ["disks"]
contact_groups = ["oncall"]

[[service]]
host = "db1"
name = "load"
command = "/bin/sh {dir}/ok.sh"

[[host]]
name = "mx"
address = "127.0.0.1"

[[service]]
host = "mx"
name = "smtp"
command = "/bin/sh {dir}/ok.sh"
"#,
        dir = dir.display(),
        out = out.display()
    );
    d.restart_with(&config);
    d.wait_service("db1/disk", 10.0, |v| v["state"] == "CRITICAL");
    d.wait_service("www1/http", 10.0, |v| v["state"] == "OK");
    d.wait_service("db1/load", 10.0, |v| v["state"] == "OK");
    d.wait_service("mx/smtp", 10.0, |v| v["state"] == "OK");

    // the host group: its hosts (by pattern, and db1 joining) and their services
    let run = d.cli(&["status", "--hostgroup", "web"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        names(&run.stdout),
        ["db1/disk", "db1", "db1/load", "www1", "www1/http"],
        "{}",
        run.stdout
    );
    // the service group: its service and its host
    let run = d.cli(&["status", "--servicegroup", "disks"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(names(&run.stdout), ["db1/disk", "db1"], "{}", run.stdout);
    let run = d.cli(&["status", "--servicegroup", "disks", "--problems"]);
    assert_eq!(names(&run.stdout), ["db1/disk"], "{}", run.stdout);
    // an unknown group: one clear error, nothing listed
    let run = d.cli(&["status", "--hostgroup", "mail"]);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("no host group 'mail'"),
        "{}",
        run.stderr
    );
    assert_ne!(run.code, 0);
    let run = d.cli(&["status", "--hostgroup", "web", "--servicegroup", "disks"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);

    // the API: the summary of every group, each view's groups, 404 for an unknown one
    let groups = d.get("/api/groups");
    assert_eq!(
        groups,
        serde_json::json!({
            "hostgroups": [{
                "name": "web", "alias": "Web <servers>", "members": 2,
                "hosts": {"UP": 2}, "services": {"CRITICAL": 1, "OK": 2}, "problems": 1
            }],
            "servicegroups": [{
                "name": "disks", "alias": "", "members": 1,
                "hosts": {"UP": 1}, "services": {"CRITICAL": 1}, "problems": 1
            }]
        })
    );
    assert_eq!(
        d.service("db1/disk")["servicegroups"],
        serde_json::json!(["disks"])
    );
    assert_eq!(
        d.service("db1/load")["servicegroups"],
        serde_json::json!([])
    );
    let hosts = d.get("/api/hosts?hostgroup=web");
    let db1 = hosts
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["host"] == "db1");
    assert_eq!(db1.unwrap()["hostgroups"], serde_json::json!(["web"]));
    let e = hcoop_monitor::client::request(&d.api(), "GET", "/api/services?servicegroup=x", None)
        .unwrap_err();
    assert_eq!(e.to_string(), "no service group 'x'");

    // the page: a link per group with its counts, the alias escaped
    let page = raw_page(&d, "/?hostgroup=web");
    assert!(
        page.contains("Showing host group <strong>web</strong> (Web &lt;servers&gt;)"),
        "{page}"
    );
    assert!(
        page.contains("<a href=\"/?hostgroup=web\">web</a> (2 hosts, 1 problems)"),
        "{page}"
    );
    assert!(
        page.contains("<a href=\"/?servicegroup=disks\">disks</a> (1 services, 1 problems)"),
        "{page}"
    );
    assert!(page.contains("data-object=\"www1/http\""), "{page}");
    assert!(!page.contains("data-object=\"mx/smtp\""), "{page}");
    assert!(raw_page(&d, "/").contains("data-object=\"mx/smtp\""));

    // the contact group's members (nested group too) were notified of the problem
    let notified = |who: &str| std::fs::read_to_string(out.join(who)).unwrap_or_default();
    assert!(
        wait_until(10.0, || !notified("pager").is_empty()
            && !notified("lead").is_empty()),
        "{}",
        d.log()
    );
    assert_eq!(notified("pager"), "PROBLEM db1/disk pager\n");
    assert_eq!(notified("lead"), "PROBLEM db1/disk lead\n");
}

/// The page at `path` (HTML, not JSON), answered 200.
fn raw_page(d: &Daemon, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(d.api()).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        d.api()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    out
}
