//! End to end: service dependencies in the daemon, with file-driven checks. The master
//! fails first: the dependent with an execution dependency is not checked while it
//! fails (its last check stays, its view says why), the one with a notification
//! dependency is checked but not notified; once the master recovers both are checked
//! and notified.

use hcoop_tests::scenario::{daemon_with_out, pager_defaults};
use hcoop_tests::wait_until;
use std::path::Path;
use std::time::Duration;

/// Sets what the check reading `name` says: its exit code and output.
fn set(dir: &Path, name: &str, code: i32, text: &str) {
    let tmp = dir.join(format!(".{name}"));
    std::fs::write(&tmp, format!("{code} {text}\n")).unwrap();
    std::fs::rename(tmp, dir.join(name)).unwrap();
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_failed_master_holds_its_dependents_checks_and_notifications() {
    let (mut d, dir, out) = daemon_with_out();
    // a check that prints and exits with what its file says
    std::fs::write(
        dir.join("check.sh"),
        "read code text < \"$1\"\necho \"$text\"\nexit \"$code\"\n",
    )
    .unwrap();
    for s in ["postgres", "app", "api"] {
        set(&dir, s, 0, &format!("{} OK - fine", s.to_uppercase()));
    }
    let service = |host: &str, name: &str| {
        format!(
            "\n[[service]]\nhost = \"{host}\"\nname = \"{name}\"\n\
             command = \"/bin/sh {dir}/check.sh {dir}/{name}\"\n",
            dir = dir.display()
        )
    };
    let config = format!(
        r#"{defaults}
[[host]]
name = "db1"
address = "127.0.0.1"

[[host]]
name = "web1"
address = "127.0.0.1"
{postgres}{app}{api}
[[servicedependency]]
host = "db1"
service = "postgres"
dependent_host = "web1"
dependent_service = "app"
execution_failure_criteria = "c,u"
notification_failure_criteria = "c,u"

[[servicedependency]]
host = "db1"
service = "postgres"
dependent_host = "web1"
dependent_service = "api"
notification_failure_criteria = "c"
"#,
        defaults = pager_defaults(&out, 2),
        postgres = service("db1", "postgres"),
        app = service("web1", "app"),
        api = service("web1", "api"),
    );
    d.restart_with(&config);
    for s in ["db1/postgres", "web1/app", "web1/api"] {
        d.wait_service(s, 10.0, |v| v["state"] == "OK");
    }
    // the master fails first
    set(&dir, "postgres", 2, "PG CRITICAL - down");
    d.wait_service("db1/postgres", 10.0, |v| {
        v["state"] == "CRITICAL" && v["state_type"] == "HARD"
    });
    let held = "execution dependency on db1/postgres (CRITICAL) failed";
    d.wait_service("web1/app", 5.0, |v| v["held"] == held);
    // a check started before may still end
    std::thread::sleep(Duration::from_secs(1));
    let last_check = d.service("web1/app")["last_check"].clone();
    set(&dir, "app", 2, "APP CRITICAL - no database");
    set(&dir, "api", 2, "API CRITICAL - no database");
    // the notification dependent is checked, goes hard, is not notified
    let v = d.wait_service("web1/api", 10.0, |v| {
        v["state"] == "CRITICAL" && v["state_type"] == "HARD"
    });
    assert_eq!(v["notification_number"], 0);
    assert_eq!(
        v["notifications_held"],
        "notification dependency on db1/postgres (CRITICAL) failed"
    );
    assert!(v.get("held").is_none(), "{v}");
    // a few more intervals: the execution dependent is still not checked
    std::thread::sleep(Duration::from_secs(3));
    let v = d.service("web1/app");
    assert_eq!(
        (&v["state"], &v["last_check"], &v["held"]),
        (&"OK".into(), &last_check, &held.into()),
        "{v}"
    );
    assert_eq!(
        lines(&out.join("pager")),
        ["PROBLEM db1/postgres CRITICAL"],
        "{}",
        d.log()
    );
    // the master recovers: both dependents are checked and notified
    set(&dir, "postgres", 0, "PG OK - back");
    for s in ["web1/app", "web1/api"] {
        d.wait_service(s, 10.0, |v| {
            v["state"] == "CRITICAL" && v["state_type"] == "HARD" && v["notification_number"] == 1
        });
    }
    let v = d.service("web1/app");
    assert!(
        v.get("held").is_none() && v.get("notifications_held").is_none(),
        "{v}"
    );
    assert!(
        wait_until(5.0, || lines(&out.join("pager")).len() == 4),
        "{:?}",
        lines(&out.join("pager"))
    );
    let mut got = lines(&out.join("pager"));
    got[1..].sort();
    assert_eq!(
        got,
        [
            "PROBLEM db1/postgres CRITICAL",
            "PROBLEM web1/api CRITICAL",
            "PROBLEM web1/app CRITICAL",
            "RECOVERY db1/postgres OK",
        ],
        "{}",
        d.log()
    );
}
