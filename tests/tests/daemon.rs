//! End-to-end tests of the hcoop-monitor daemon: notification mail through a real Exim
//! (none on soft states, in downtime, when acknowledged), state kept across kill -9,
//! SIGHUP with a broken configuration, plugins that hang, fork-bomb or flood, and
//! plugins still running killed with their process groups when the daemon stops.

use hcoop_tests::daemon::{command_service, host, service, Daemon, Exim, Mail};
use std::path::Path;

/// A plugin whose state the test sets by rewriting its script.
fn set_plugin(dir: &Path, name: &str, code: i32, text: &str) {
    let p = dir.join(format!("{name}.sh"));
    let tmp = dir.join(format!(".{name}.sh"));
    std::fs::write(&tmp, format!("echo '{text}'\nexit {code}\n")).unwrap();
    std::fs::rename(tmp, p).unwrap();
}

fn mail(to: &str, subject: &str) -> Mail {
    Mail {
        to: to.into(),
        subject: subject.into(),
    }
}

#[test]
fn notifications_by_mail_and_command() {
    let exim = Exim::start();
    let mut d = Daemon::start("");
    let dir = d.dir.path().to_path_buf();
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    set_plugin(&dir, "flip", 0, "FLIP OK - fine");
    set_plugin(&dir, "crit", 2, "CRIT CRITICAL - broken");
    let config = format!(
        r#"
[defaults]
check_interval = "1s"
retry_interval = "1s"
max_check_attempts = 2
notification_interval = "0s"
contacts = ["ops", "boss", "pager"]

[smtp]
host = "127.0.0.1"
port = {port}
tls = "none"
from = "monitor@monitor.test"

[[contact]]
name = "ops"
email = "ops@example.org"
service_options = "w,c,r"

[[contact]]
name = "boss"
email = "boss@example.org"
service_options = "c"

[[contact]]
name = "pager"
command = "/bin/sh -c 'echo $NAGIOS_NOTIFICATIONTYPE $NAGIOS_HOSTNAME/$NAGIOS_SERVICEDESC $NAGIOS_SERVICESTATE $NAGIOS_CONTACTNAME >> {out}/pager'"
service_options = "c,r"

[[host]]
name = "web"
address = "127.0.0.1"

[[service]]
host = "web"
name = "flip"
command = "/bin/sh {dir}/flip.sh"

[[service]]
host = "web"
name = "soft"
command = "/bin/sh {dir}/crit.sh"
max_check_attempts = 100

[[service]]
host = "web"
name = "down"
command = "/bin/sh {dir}/crit.sh"
max_check_attempts = 4

[[service]]
host = "web"
name = "acked"
command = "/bin/sh {dir}/crit.sh"
max_check_attempts = 4
"#,
        port = exim.port,
        dir = dir.display(),
        out = out.display()
    );
    d.restart_with(&config);
    // downtime and acknowledgement while the problems are still soft
    let v = d.wait_service("web/acked", 10.0, |v| v["state"] == "CRITICAL");
    assert_eq!(v["state_type"], "SOFT");
    d.downtime("web/down", "1h", "maintenance").unwrap();
    d.ack("web/acked", "known", true).unwrap();
    // acknowledging an OK service is refused
    let e = d.ack("web/flip", "x", false).unwrap_err();
    assert!(e.contains("nothing to acknowledge"), "{e}");
    d.wait_service("web/down", 10.0, |v| v["state_type"] == "HARD");
    d.wait_service("web/acked", 10.0, |v| v["state_type"] == "HARD");
    let v = d.service("web/down");
    assert_eq!(v["in_downtime"], true);
    // a hard problem, then its recovery
    set_plugin(&dir, "flip", 2, "FLIP CRITICAL - gone");
    d.wait_service("web/flip", 10.0, |v| {
        v["state_type"] == "HARD" && v["state"] == "CRITICAL"
    });
    set_plugin(&dir, "flip", 0, "FLIP OK - back");
    d.wait_service("web/flip", 10.0, |v| v["state"] == "OK");
    let want = vec![
        mail(
            "boss@example.org",
            "** ACKNOWLEDGEMENT Service Alert: web/acked is CRITICAL **",
        ),
        mail(
            "ops@example.org",
            "** ACKNOWLEDGEMENT Service Alert: web/acked is CRITICAL **",
        ),
        mail(
            "boss@example.org",
            "** PROBLEM Service Alert: web/flip is CRITICAL **",
        ),
        mail(
            "ops@example.org",
            "** PROBLEM Service Alert: web/flip is CRITICAL **",
        ),
        mail(
            "ops@example.org",
            "** RECOVERY Service Alert: web/flip is OK **",
        ),
    ];
    let got = exim.wait_mails(want.len(), 10.0);
    // a little longer: nothing else may arrive (soft, in downtime, acknowledged)
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(exim.mails(), want, "{}", d.log());
    assert_eq!(got.len(), want.len());
    let soft = d.service("web/soft");
    assert_eq!(
        (
            soft["state_type"].as_str(),
            soft["notification_number"].as_u64()
        ),
        (Some("SOFT"), Some(0))
    );
    let pager = std::fs::read_to_string(out.join("pager")).unwrap_or_default();
    assert_eq!(
        pager,
        "ACKNOWLEDGEMENT web/acked CRITICAL pager\nPROBLEM web/flip CRITICAL pager\nRECOVERY web/flip OK pager\n",
        "{}",
        d.log()
    );
}

const ALWAYS_CRITICAL: &str = hcoop_tests::daemon::DB_CHECKS;

#[test]
fn kill9_keeps_state_and_broken_reload_keeps_running() {
    let mut d = Daemon::start(ALWAYS_CRITICAL);
    d.wait_service("db/bad", 10.0, |v| {
        v["state"] == "CRITICAL" && v["state_type"] == "HARD"
    });
    d.ack("db/bad", "known", true).unwrap();
    let id = d.downtime("db/good", "2h", "upgrade").unwrap();
    // one retention period (1 s) and a margin
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let before = d.service("db/bad");
    d.kill9();
    d.spawn();
    let after = d.service("db/bad");
    assert_eq!(after["state"], "CRITICAL");
    assert_eq!(after["state_type"], "HARD");
    assert_eq!(after["acknowledged"], true);
    assert_eq!(after["last_state_change"], before["last_state_change"]);
    let good = d.service("db/good");
    assert_eq!(good["downtimes"][0]["id"].as_u64(), Some(id));
    assert_eq!(good["in_downtime"], true);

    // a broken configuration is refused and the daemon keeps its state
    std::fs::write(
        d.config_dir().join("b.toml"),
        "[[service]]\nhost = \"nohost\"\nname = \"x\"\n",
    )
    .unwrap();
    d.hup();
    d.wait_log(5.0, "configuration invalid");
    assert!(
        d.log()
            .contains("b.toml:line 3: service 'x' on 'nohost': no host named 'nohost'"),
        "{}",
        d.log()
    );
    assert!(d.running());
    assert_eq!(d.service("db/bad")["acknowledged"], true);

    // a good one adds a service; the unchanged ones keep their state
    std::fs::write(
        d.config_dir().join("b.toml"),
        "[[service]]\nhost = \"db\"\nname = \"new\"\ncommand = \"/bin/echo NEW OK\"\n",
    )
    .unwrap();
    d.hup();
    d.wait_service("db/new", 10.0, |v| {
        v["checked"] == true && v["state"] == "OK"
    });
    let bad = d.service("db/bad");
    assert_eq!(bad["acknowledged"], true);
    assert_eq!(bad["last_state_change"], before["last_state_change"]);
    // the status command reads the same API
    let out = std::process::Command::new(hcoop_tests::bin("hcoop-monitor"))
        .args(["status", "--problems", "--api", &d.api()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.lines().nth(1).unwrap().starts_with("db/bad"), "{text}");
    assert!(text.contains("[ack by tester]"), "{text}");
}

#[test]
fn misbehaving_plugins_are_contained() {
    let mut d = Daemon::start("");
    let dir = d.dir.path().to_path_buf();
    std::fs::write(dir.join("hang.sh"), "sleep 1000 &\nsleep 1000\n").unwrap();
    let config = shell_config(
        "retry_interval = \"1s\"\ntimeout = \"2s\"",
        &[
            ("hang", &format!("/bin/sh {}/hang.sh", dir.display())),
            (
                "flood",
                "/bin/sh -c 'head -c 5000000 /dev/zero | tr \\\\0 x'",
            ),
        ],
    );
    d.restart_with(&config);
    let hang = d.wait_service("shell/hang", 15.0, |v| v["checked"] == true);
    assert_eq!(hang["state"], "CRITICAL");
    assert_eq!(hang["output"], "CRITICAL - plugin timed out after 2s\n");
    let flood = d.wait_service("shell/flood", 15.0, |v| v["checked"] == true);
    assert_eq!(flood["output"].as_str().unwrap().len(), 64 * 1024);
    // the daemon still answers; with the services gone, nothing of them survives
    assert!(d.running());
    d.write_config("");
    d.hup();
    assert!(hcoop_tests::wait_until(5.0, || d
        .log()
        .contains("reloaded: 0 hosts")));
    std::thread::sleep(std::time::Duration::from_secs(3));
    let hang_path = dir.join("hang.sh").display().to_string();
    assert_eq!(left(&hang_path), "");
    assert_eq!(left("sleep 1000"), "");
}

/// A configuration of host `shell` with the external `commands` (name, command line),
/// checked every second, a problem hard at once, with `defaults` (more lines of
/// `[defaults]`).
fn shell_config(defaults: &str, commands: &[(&str, &str)]) -> String {
    let mut config = format!(
        "[defaults]\ncheck_interval = \"1s\"\nmax_check_attempts = 1\n{defaults}\n{}",
        host("shell", None)
    );
    for (name, command) in commands {
        config.push_str(&command_service("shell", name, command, ""));
    }
    config
}

/// Processes whose command line contains `pattern`.
fn left(pattern: &str) -> String {
    let out = std::process::Command::new("pgrep")
        .args(["-f", pattern])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn fork_bomb_is_contained_by_nproc() {
    let mut d = Daemon::start("");
    let dir = d.dir.path().to_path_buf();
    std::fs::write(dir.join("bomb.sh"), "b() { b | b & }\nb\nsleep 100\n").unwrap();
    // plugins run as a user of their own here, so that the bomb's processes count
    // against its limit and not against the other tests' plugins
    let config = format!(
        "plugin_nproc = 40\nplugin_user = \"games\"\n\n{}{}",
        shell_config(
            "timeout = \"2s\"",
            &[("bomb", &format!("/bin/sh {}/bomb.sh", dir.display()))]
        ),
        service(
            "shell",
            "builtin",
            "check_load",
            &["-w", "1000", "-c", "2000"]
        ),
    );
    d.restart_with(&config);
    let bomb = d.wait_service("shell/bomb", 15.0, |v| v["checked"] == true);
    assert_eq!(bomb["state"], "CRITICAL", "{bomb}");
    let count = || {
        let out = std::process::Command::new("pgrep")
            .args(["-c", "-u", "games"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<u32>()
            .unwrap_or(0)
    };
    assert!(count() <= 40, "{} processes", count());
    // the daemon and its in-process checks are unaffected
    d.wait_service("shell/builtin", 5.0, |v| {
        v["checked"] == true && v["state"] == "OK"
    });
    assert!(d.running());
    d.write_config("");
    d.hup();
    let bomb_path = dir.join("bomb.sh").display().to_string();
    assert!(
        hcoop_tests::wait_until(8.0, || left(&bomb_path).is_empty()),
        "fork bomb processes left: {}",
        left(&bomb_path)
    );
}

#[test]
fn stopping_kills_running_plugins_with_their_groups() {
    let mut d = Daemon::start("");
    let dir = d.dir.path().to_path_buf();
    // a plugin that starts a grandchild in its group and never ends by itself
    std::fs::write(dir.join("slow.sh"), "sleep 900 &\nsleep 900\n").unwrap();
    let command = format!("/bin/sh {}/slow.sh", dir.display());
    d.restart_with(&shell_config("timeout = \"600s\"", &[("slow", &command)]));
    let slow = dir.join("slow.sh").display().to_string();
    // the plugin's shell leads its own group: itself and its two sleeps
    let members = |group: &str| {
        let out = std::process::Command::new("pgrep")
            .args(["-g", group])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(
        hcoop_tests::wait_until(15.0, || {
            let g = left(&slow);
            g.lines().count() == 1 && members(g.trim()).lines().count() == 3
        }),
        "the plugin did not start: {}",
        d.log()
    );
    let group = left(&slow).trim().to_string();
    d.signal(libc::SIGTERM);
    assert!(
        hcoop_tests::wait_until(15.0, || !d.running()),
        "the daemon did not stop: {}",
        d.log()
    );
    assert!(
        d.log().contains("stopping: killed 1 running plugins"),
        "{}",
        d.log()
    );
    // SIGKILL is delivered at once; the processes may take a moment to go
    assert!(
        hcoop_tests::wait_until(5.0, || members(&group).is_empty()),
        "processes of the plugin's group left after the daemon stopped: {}",
        members(&group)
    );
}
