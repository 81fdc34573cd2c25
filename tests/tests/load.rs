//! check_load end to end, and its parity with Debian's monitoring-plugins check_load on
//! the same (bind-mounted) /proc/loadavg.

use hcoop_tests::{bin, debian_plugin, plugin, plugin_json, run_with_files};
use std::io::Write;

fn loadavg(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    writeln!(f, "{text} 1/123 4567").unwrap();
    f
}

#[test]
fn same_state_as_monitoring_plugins() {
    let theirs = debian_plugin("check_load");
    let ours = bin("check_load");
    // (loadavg, thresholds): values below, at and above each threshold
    let table: &[(&str, &[&str])] = &[
        ("0.10 0.20 0.30", &["-w", "1,1,1", "-c", "2,2,2"]),
        ("1.00 1.00 1.00", &["-w", "1,1,1", "-c", "2,2,2"]),
        ("1.01 0.20 0.30", &["-w", "1,1,1", "-c", "2,2,2"]),
        ("0.10 1.50 0.30", &["-w", "1,1,1", "-c", "2,2,2"]),
        ("0.10 0.20 2.00", &["-w", "1,1,1", "-c", "2,2,2"]),
        ("0.10 0.20 2.01", &["-w", "1,1,1", "-c", "2,2,2"]),
        ("9.00 0.00 0.00", &["-w", "5", "-c", "8"]),
        ("6.00 6.00 6.00", &["-w", "15,10,5", "-c", "30,25,20"]),
        ("26.0 6.00 1.00", &["-w", "15,10,5", "-c", "30,25,20"]),
        ("3.50 2.00 1.00", &["-r", "-w", "1,1,1", "-c", "2,2,2"]),
        ("5.00 2.00 1.00", &["-r", "-w", "1,1,1", "-c", "2,2,2"]),
        ("0.00 0.00 0.00", &["-r", "-w", "0.5", "-c", "1"]),
    ];
    for (text, args) in table {
        let f = loadavg(text);
        let binds = [(f.path(), "/proc/loadavg")];
        let a = run_with_files(&binds, &ours, args);
        let b = run_with_files(&binds, &theirs, args);
        assert_eq!(
            a.code, b.code,
            "loadavg {text} {args:?}\nours:   {}theirs: {}",
            a.stdout, b.stdout
        );
        assert!(a.first_line().starts_with("LOAD "), "{}", a.stdout);
    }
}

#[test]
fn reports_the_machine_load_with_perfdata() {
    let v = plugin_json("check_load", &["-w", "1000", "-c", "2000"]);
    assert_eq!(v["state"], "OK");
    let labels: Vec<&str> = v["perfdata"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["load1", "load5", "load15"]);
    assert_eq!(v["perfdata"][0]["warn"], "1000");
    assert_eq!(v["perfdata"][0]["crit"], "2000");
    assert_eq!(v["perfdata"][0]["min"], 0);
}

#[test]
fn names_top_processes_on_alert() {
    // a warning range that always alerts (load is never negative... so use @0:)
    let r = plugin("check_load", &["-w", "@0:", "-c", "100000", "-n", "3"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", r.stdout);
    for l in &lines[1..] {
        assert!(l.contains("% CPU pid "), "{l}");
    }
}

#[test]
fn bad_input_is_one_line_and_exit_3() {
    for (args, needle) in [
        (
            &["-w", "10", "-c", "5"][..],
            "warning load 10 is greater than the critical load 5",
        ),
        (&["-w", "abc"][..], "invalid range 'abc'"),
        (&["-w", "1,2,3,4"][..], "at most three values"),
        (&["-c", "5:1"][..], "start is greater than end"),
        (&["-t", "-3"][..], "timeout"),
        (&["--no-such-option"][..], "--no-such-option"),
        (&["-n", "many"][..], "'many'"),
    ] {
        let r = plugin("check_load", args);
        assert_eq!(r.code, 3, "{args:?}: {}", r.stdout);
        assert_eq!(r.stdout.lines().count(), 1, "{args:?}: {}", r.stdout);
        assert!(r.stdout.starts_with("LOAD UNKNOWN - "), "{}", r.stdout);
        assert!(r.stdout.contains(needle), "{args:?}: {}", r.stdout);
        assert!(r.stderr.is_empty(), "{args:?}: stderr {}", r.stderr);
    }
}

#[test]
fn help_and_version_exit_0() {
    let r = plugin("check_load", &["--help"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("--warning"));
    let r = plugin("check_load", &["-V"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("check_load "));
}
