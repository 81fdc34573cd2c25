//! Passive results through the daemon binary: a backup job submitting its results with
//! `hcoop-monitor submit`, freshness when it stops (a CRITICAL "no result for ..."
//! and its notification), the external command file written as Nagios scripts write
//! it, and the API's `POST /api/result`.

use hcoop_tests::daemon::Daemon;
use hcoop_tests::scenario::{every_second, spawn_as, wait_command_file};
use hcoop_tests::{bin, wait_until};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

/// A passive-only backup service, stale after 4 s, and a contact whose command
/// appends its NAGIOS_ environment to `notified` in `out`; the command file at
/// `fifo`, group nogroup.
fn config(out: &Path, fifo: &Path) -> String {
    format!(
        r#"command_file = "{fifo}"
command_group = "nogroup"
{defaults}
[[contact]]
name = "pager"
command = "/bin/sh -c 'env | grep ^NAGIOS_ | sort >> {out}/notified; echo --- >> {out}/notified'"

[[host]]
name = "vault"
address = "127.0.0.1"

[[service]]
host = "vault"
name = "backup"
active_checks_enabled = false
check_freshness = true
freshness_threshold = "4s"
contacts = ["pager"]

[[service]]
host = "vault"
name = "closed"
active_checks_enabled = false
passive_checks_enabled = false
"#,
        defaults = every_second(1),
        fifo = fifo.display(),
        out = out.display(),
    )
}

/// The notifications sent so far, each its NAGIOS_ variables.
fn notified(out: &Path) -> Vec<String> {
    std::fs::read_to_string(out.join("notified"))
        .unwrap_or_default()
        .split("---\n")
        .filter(|n| !n.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// Writes `line` to the FIFO as Nagios' example scripts do: `printf ... > FIFO`.
fn write_fifo(fifo: &Path, line: &str) {
    let status = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("printf '%s\\n' \"$1\" > {}", fifo.display()))
        .arg("sh")
        .arg(line)
        .status()
        .unwrap();
    assert!(status.success());
}

fn now() -> u64 {
    hcoop_monitor::clock::unix_now()
}

#[test]
fn a_backup_job_that_stops_submitting_goes_critical_after_its_freshness_threshold() {
    let out = tempfile::tempdir().unwrap();
    // the contact's command runs as the plugin user
    std::fs::set_permissions(out.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let probe = tempfile::tempdir().unwrap();
    let fifo = probe.path().join("unused");
    let mut d = Daemon::start(&config(out.path(), &fifo));
    let fifo = d.dir.path().join("nagios.cmd");
    d.restart_with(&config(out.path(), &fifo));

    // the command file: a FIFO of the daemon's user, group nogroup, rw--w----
    let m = wait_command_file(&d, &fifo);
    assert_eq!(m.mode() & 0o7777, 0o620);
    assert_eq!((m.uid(), m.gid()), (unsafe { libc::geteuid() }, 65534));

    // the nightly job: OK every 2 s (the "nights"), three times, then it stops
    let config_dir = d.config_dir();
    let job = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(
            "for night in 1 2 3; do \
               \"$0\" -c \"$1\" submit vault/backup OK \"BACKUP OK - night $night|size=12GB;;;0\" \
                 || exit 1; sleep 2; done",
        )
        .arg(bin("hcoop-monitor"))
        .arg(&config_dir)
        .output()
        .unwrap();
    assert!(job.status.success(), "{job:?}");
    assert_eq!(
        String::from_utf8_lossy(&job.stdout),
        "result submitted for vault/backup\n".repeat(3)
    );
    let v = d.service("vault/backup");
    assert_eq!(v["state"], "OK", "{v}");
    assert_eq!(v["output"], "BACKUP OK - night 3|size=12GB;;;0\n", "{v}");
    assert_eq!(notified(out.path()), Vec::<String>::new());

    // no result any more: CRITICAL once the 4 s threshold is past, and notified
    let v = d.wait_service("vault/backup", 8.0, |v| v["state"] == "CRITICAL");
    let output = v["output"].as_str().unwrap();
    assert!(
        output.starts_with("no result for ") && output.ends_with(" s (freshness threshold 4s)\n"),
        "{output}"
    );
    assert_eq!(v["state_type"], "HARD", "{v}");
    assert!(wait_until(5.0, || notified(out.path()).len() == 1));
    let n = &notified(out.path())[0];
    for line in [
        "NAGIOS_NOTIFICATIONTYPE=PROBLEM",
        "NAGIOS_HOSTNAME=vault",
        "NAGIOS_SERVICEDESC=backup",
        "NAGIOS_SERVICESTATE=CRITICAL",
        "NAGIOS_CONTACTNAME=pager",
    ] {
        assert!(n.lines().any(|l| l == line), "{line} not in {n}");
    }
    assert!(n.contains("NAGIOS_SERVICEOUTPUT=no result for "), "{n}");
    d.wait_log(1.0, "freshness: vault/backup: no result for ");

    // acknowledged through the FIFO: the author is the command's
    write_fifo(
        &fifo,
        &format!(
            "[{}] ACKNOWLEDGE_SVC_PROBLEM;vault;backup;2;0;1;nightly-script;looking into it",
            now()
        ),
    );
    let v = d.wait_service("vault/backup", 5.0, |v| v["acknowledged"] == true);
    assert_eq!(v["ack"]["author"], "nightly-script", "{v}");
    assert_eq!(v["ack"]["comment"], "looking into it", "{v}");

    // a wrong field count, a ';' in the service name: refused, logged, nothing applied
    let before = d.service("vault/backup");
    write_fifo(
        &fifo,
        &format!("[{}] PROCESS_SERVICE_CHECK_RESULT;vault;backup;0", now()),
    );
    d.wait_log(
        5.0,
        "external command refused: PROCESS_SERVICE_CHECK_RESULT: 3 fields where 4 are expected \
         (host_name;service_description;return_code;plugin_output); nothing done",
    );
    write_fifo(
        &fifo,
        &format!(
            "[{}] PROCESS_SERVICE_CHECK_RESULT;vault;back;up;0;OK",
            now()
        ),
    );
    d.wait_log(
        5.0,
        "external command refused: PROCESS_SERVICE_CHECK_RESULT: return_code 'up' is not a whole number; nothing done",
    );
    write_fifo(&fifo, &format!("[{}] RESTART_PROGRAM", now()));
    d.wait_log(
        5.0,
        "external command refused: unknown or unsupported command 'RESTART_PROGRAM'",
    );
    let after = d.service("vault/backup");
    assert_eq!(
        (&after["state"], &after["output"], &after["last_check"]),
        (&before["state"], &before["output"], &before["last_check"])
    );

    // the result through the FIFO, as a Nagios script sends it: a recovery
    write_fifo(
        &fifo,
        &format!(
            "[{}] PROCESS_SERVICE_CHECK_RESULT;vault;backup;0;BACKUP OK - late run|size=11GB\\nall volumes",
            now()
        ),
    );
    let v = d.wait_service("vault/backup", 5.0, |v| v["state"] == "OK");
    assert_eq!(
        v["output"], "BACKUP OK - late run|size=11GB\nall volumes\n",
        "{v}"
    );
    assert!(wait_until(5.0, || notified(out.path()).len() == 2));
    let n = &notified(out.path())[1];
    assert!(
        n.lines().any(|l| l == "NAGIOS_NOTIFICATIONTYPE=RECOVERY"),
        "{n}\n{}",
        d.log()
    );
    d.wait_log(1.0, "EXTERNAL COMMAND: [");

    // the API: with credentials only
    d.post(
        "/api/result",
        serde_json::json!({"target": "vault/backup", "state": "WARNING", "output": "BACKUP WARNING - slow"}),
    )
    .unwrap();
    assert_eq!(d.service("vault/backup")["state"], "WARNING");
    let anonymous = hcoop_monitor::client::request(
        &d.api(),
        "POST",
        "/api/result",
        Some(r#"{"target":"vault/backup","state":"OK","output":"x"}"#.into()),
    );
    assert!(anonymous.is_err(), "{anonymous:?}");
    assert_eq!(d.service("vault/backup")["state"], "WARNING");

    // refused where passive results are not taken, and for a bad state
    let r = d.cli(&["submit", "vault/closed", "OK", "x"]);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains(
            "vault/closed: passive results are not taken (passive_checks_enabled = false)"
        ),
        "{}",
        r.stderr
    );
    let r = d.cli(&["submit", "vault/backup", "PURPLE", "x"]);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("'PURPLE' is not a service state"),
        "{}",
        r.stderr
    );
    let r = d.cli(&["submit", "vault", "DOWN", "PING CRITICAL"]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // passive results switched off through the FIFO: refused until switched on
    write_fifo(
        &fifo,
        &format!("[{}] DISABLE_PASSIVE_SVC_CHECKS;vault;backup", now()),
    );
    d.wait_log(5.0, "(passive results of vault/backup refused)");
    let r = d.cli(&["submit", "vault/backup", "OK", "x"]);
    assert!(
        r.stderr
            .contains("vault/backup: passive results are not taken (switched off)"),
        "{}",
        r.stderr
    );
    let v = d.service("vault/backup");
    assert_eq!(
        (&v["state"], &v["passive_checks_enabled"]),
        (&"WARNING".into(), &false.into())
    );
    assert_eq!(d.service("vault/closed")["passive_checks_enabled"], false);
}

#[test]
fn a_command_file_that_is_not_ours_is_refused_and_the_daemon_runs_on() {
    let out = tempfile::tempdir().unwrap();
    let probe = tempfile::tempdir().unwrap();
    let mut d = Daemon::start(&config(out.path(), &probe.path().join("x")));
    let plain = d.dir.path().join("nagios.cmd");
    std::fs::write(&plain, "not a fifo").unwrap();
    d.restart_with(&config(out.path(), &plain));
    d.wait_log(
        5.0,
        &format!(
            "command_file: not used: {}: exists and is not a FIFO",
            plain.display()
        ),
    );
    assert_eq!(std::fs::read_to_string(&plain).unwrap(), "not a fifo");
    // results still come in by the control socket
    let r = d.cli(&["submit", "vault/backup", "0", "BACKUP OK"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(d.service("vault/backup")["state"], "OK");
}

#[test]
fn a_stale_service_with_a_check_has_it_run_at_once() {
    // checked once a day, its first check spread over that day: only freshness (3 s
    // from the start without a result) runs it within seconds
    let d = Daemon::start(
        "[[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n\n\
         [[service]]\nhost = \"h\"\nname = \"nightly\"\n\
         command = \"/bin/echo NIGHTLY OK - fresh\"\ncheck_interval = \"24h\"\n\
         check_freshness = true\nfreshness_threshold = \"3s\"\n",
    );
    let v = d.wait_service("h/nightly", 10.0, |v| v["checked"] == true);
    assert_eq!(v["state"], "OK", "{v}");
    assert_eq!(v["output"], "NIGHTLY OK - fresh\n", "{v}");
    d.wait_log(
        1.0,
        "freshness: h/nightly: no result since the daemon started 3 s ago (freshness threshold 3s): checking it now",
    );
}

#[test]
fn a_daemon_started_as_root_makes_the_command_file_for_its_user_and_group() {
    let nagios = hcoop_monitor::auth::user_ids("nagios")
        .expect("user nagios (from nagios-nrpe-server or nagios4-core)");
    let out = tempfile::tempdir().unwrap();
    let mut d = Daemon::start(&config(out.path(), &out.path().join("unused")));
    d.kill9();
    // neither the state's nor the command file's directory exists: both are made the
    // daemon user's; the user is not a member of the command file's group
    let state = d.dir.path().join("var/state.json");
    let fifo = d.dir.path().join("cmd/nagios.cmd");
    spawn_as(
        &mut d,
        ("nagios", nagios.0),
        &config(out.path(), &fifo),
        &state,
    );
    let m = wait_command_file(&d, &fifo);
    assert_eq!(
        (m.uid(), m.gid(), m.mode() & 0o7777),
        (nagios.0, 65534, 0o620)
    );
    let dir = std::fs::metadata(fifo.parent().unwrap()).unwrap();
    assert_eq!((dir.uid(), dir.mode() & 0o777), (nagios.0, 0o755));
    write_fifo(
        &fifo,
        &format!(
            "[{}] PROCESS_SERVICE_CHECK_RESULT;vault;backup;1;BACKUP WARNING - slow",
            now()
        ),
    );
    let v = d.wait_service("vault/backup", 5.0, |v| v["state"] == "WARNING");
    assert_eq!(v["output"], "BACKUP WARNING - slow\n");
}
