//! The daemon's event log end to end: lines in nagios.log's grammar as results come,
//! the file reopened by a reload after logrotate moved it, never written through a
//! symbolic link put in its place.

use hcoop_tests::daemon::Daemon;
use hcoop_tests::differential::{OurSystem, States};
use hcoop_tests::wait_until;
use std::os::unix::fs::PermissionsExt;

/// A daemon checking `web/app` every second through its state file, one attempt, its
/// event log beside the states.
fn start() -> OurSystem {
    let states = States::new();
    states.set("app", 0, "APP OK - up");
    let config = format!(
        "\n[defaults]\ncheck_interval = \"1s\"\nretry_interval = \"1s\"\nmax_check_attempts = 1\n\
         flap_detection = false\n\n\
         [[host]]\nname = \"web\"\naddress = \"127.0.0.1\"\n\n\
         [[service]]\nhost = \"web\"\nname = \"app\"\ncommand = \"{}\"\n",
        states.command("app")
    );
    OurSystem::start(states, &config)
}

/// Waits until the file at `path` holds a line ending with `tail`.
fn wait_line(d: &Daemon, path: &std::path::Path, tail: &str) {
    let found = wait_until(20.0, || {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .any(|l| l.ends_with(tail))
    });
    assert!(
        found,
        "no line ending with {tail:?} in {}:\n{}\n{}",
        path.display(),
        std::fs::read_to_string(path).unwrap_or_default(),
        d.log()
    );
}

#[test]
fn the_event_log_follows_results_and_is_reopened_on_reload() {
    let ours = start();
    let (d, states) = (&ours.daemon, &ours.states);
    let log = OurSystem::event_log(states);
    states.set("app", 2, "APP CRITICAL - down; really|time=1s");
    wait_line(
        d,
        &log,
        "] SERVICE ALERT: web;app;CRITICAL;HARD;1;APP CRITICAL - down: really",
    );
    let text = std::fs::read_to_string(&log).unwrap();
    let line = text.lines().next().unwrap();
    let stamp: u64 = line[1..line.find(']').unwrap()].parse().unwrap();
    assert!(
        stamp.abs_diff(hcoop_monitor::clock::unix_now()) < 60,
        "{line}"
    );
    assert_eq!(
        std::fs::metadata(&log).unwrap().permissions().mode() & 0o777,
        0o640
    );

    // logrotate moves the file away; the reload reopens the path
    let rotated = states.dir.path().join("events.log.1");
    std::fs::rename(&log, &rotated).unwrap();
    d.hup();
    d.wait_log(10.0, "reloaded");
    states.set("app", 0, "APP OK - up");
    wait_line(d, &log, "] SERVICE ALERT: web;app;OK;HARD;1;APP OK - up");
    assert!(!std::fs::read_to_string(&rotated).unwrap().contains(";OK;"));

    // a symbolic link put in its place is not written through
    let target = states.dir.path().join("elsewhere");
    std::fs::write(&target, "").unwrap();
    std::fs::remove_file(&log).unwrap();
    std::os::unix::fs::symlink(&target, &log).unwrap();
    d.hup();
    d.wait_log(10.0, "cannot open");
    states.set("app", 2, "APP CRITICAL - down");
    d.wait_service("web/app", 10.0, |v| v["state"] == "CRITICAL");
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "");
}
