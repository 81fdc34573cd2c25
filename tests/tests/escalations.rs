//! End-to-end test of notification escalations through the daemon: a problem
//! escalated after its third notification, as Nagios' serviceescalation does it
//! (the escalation's contact instead of the service's from the third notification on,
//! at the escalation's interval, the recovery to the escalation's contact too), seen
//! by notification commands through their `NAGIOS_*` environment. Nagios 4.4.6 run on
//! the same objects (intervals in seconds) notifies exactly so: PROBLEM 1 and 2 to the
//! service's contact 2 s apart, PROBLEM 3 and 4 escalated 4 s apart, RECOVERY 5
//! escalated.

use hcoop_tests::daemon::Daemon;
use hcoop_tests::scenario::{daemon_with_out, every_second, set_script};
use std::path::Path;
use std::time::Duration;

/// The plugin's script: exits `code` after printing `text`.
fn set_plugin(dir: &Path, code: i32, text: &str) {
    set_script(&dir.join("plugin.sh"), code, text);
}

/// One notification as a contact's command wrote it: type, number, contact,
/// escalated (`NAGIOS_NOTIFICATIONISESCALATED`) and time.
#[derive(Debug, Clone, PartialEq)]
struct Notified {
    kind: String,
    number: u32,
    contact: String,
    escalated: String,
    time: u64,
}

/// What the contacts' commands wrote so far, in order.
fn notified(out: &Path) -> Vec<Notified> {
    let text = std::fs::read_to_string(out.join("notified")).unwrap_or_default();
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            assert_eq!(f.len(), 5, "{l}");
            Notified {
                kind: f[0].into(),
                number: f[1].parse().unwrap(),
                contact: f[2].into(),
                escalated: f[3].into(),
                time: f[4].parse().unwrap(),
            }
        })
        .collect()
}

/// Waits up to `secs` for `n` notifications.
fn wait_notified(out: &Path, n: usize, secs: u64, d: &Daemon) -> Vec<Notified> {
    for _ in 0..secs * 10 {
        let got = notified(out);
        if got.len() >= n {
            return got;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{:?}\n{}", notified(out), d.log());
}

#[test]
fn an_escalation_after_the_third_notification() {
    let (mut d, dir, out) = daemon_with_out();
    set_plugin(&dir, 2, "APP CRITICAL - down");
    let command = format!(
        "/bin/sh -c 'echo $NAGIOS_NOTIFICATIONTYPE $NAGIOS_NOTIFICATIONNUMBER \
         $NAGIOS_CONTACTNAME $NAGIOS_NOTIFICATIONISESCALATED $NAGIOS_TIMET >> {}/notified'",
        out.display()
    );
    let config = format!(
        r#"{defaults}notification_interval = "2s"
contacts = ["ops"]

[[contact]]
name = "ops"
command = "{command}"

[[contact]]
name = "boss"
command = "{command}"

[[host]]
name = "web"
address = "127.0.0.1"

[[service]]
host = "web"
name = "app"
command = "/bin/sh {dir}/plugin.sh"

[[serviceescalation]]
host = "web"
service = "app"
first_notification = 3
last_notification = 0
notification_interval = "4s"
contacts = ["boss"]
"#,
        defaults = every_second(1),
        dir = dir.display()
    );
    d.restart_with(&config);
    let got = wait_notified(&out, 4, 30, &d);
    // recovered once the fourth is in: the next would wait the escalation's 4 s
    set_plugin(&dir, 0, "APP OK - up");
    let short: Vec<(&str, u32, &str, &str)> = got
        .iter()
        .take(4)
        .map(|n| {
            (
                n.kind.as_str(),
                n.number,
                n.contact.as_str(),
                n.escalated.as_str(),
            )
        })
        .collect();
    assert_eq!(
        short,
        [
            ("PROBLEM", 1, "ops", "0"),
            ("PROBLEM", 2, "ops", "0"),
            ("PROBLEM", 3, "boss", "1"),
            ("PROBLEM", 4, "boss", "1"),
        ],
        "{}",
        d.log()
    );
    // the service's interval (2 s, checks every second) before, the escalation's after
    let gap = |a: usize, b: usize| got[b].time - got[a].time;
    assert!(gap(0, 1) >= 2, "{got:?}");
    assert!(gap(2, 3) >= 4, "{got:?}");
    d.wait_service("web/app", 10.0, |v| v["state"] == "OK");
    let got = wait_notified(&out, 5, 10, &d);
    let last = &got[4];
    // the recovery of an escalated problem goes to the escalation's contact, numbered
    // after the last problem notification as Nagios 4.4 numbers it
    assert_eq!(
        (
            last.kind.as_str(),
            last.number,
            last.contact.as_str(),
            last.escalated.as_str()
        ),
        ("RECOVERY", 5, "boss", "1"),
        "{got:?}"
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(notified(&out).len(), 5, "{:?}", notified(&out));
}
