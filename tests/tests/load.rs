//! check_load end to end, and its parity with Debian's monitoring-plugins check_load on
//! the same (bind-mounted) /proc/loadavg.

use hcoop_tests::usage::assert_one_unknown_line;
use hcoop_tests::{bin, debian_plugin, json_of, plugin, plugin_json, run_with_files};
use serde_json::json;
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

/// The rendering: the one line on a known /proc/loadavg, as JSON and as Nagios text.
#[test]
fn output_on_a_known_loadavg() {
    let f = loadavg("0.52 0.58 0.59");
    let binds = [(f.path(), "/proc/loadavg")];
    let args = ["-w", "15,10,5", "-c", "30,25,20", "--output-format", "json"];
    let v = json_of(
        "check_load",
        &args,
        &run_with_files(&binds, &bin("check_load"), &args),
    );
    assert_eq!(v["state"], "OK");
    assert_eq!(v["summary"], "load average: 0.52, 0.58, 0.59");
    assert_eq!(
        v["perfdata"],
        json!([
            {"label": "load1", "value": 0.52, "uom": "", "warn": "15", "crit": "30", "min": 0, "max": null},
            {"label": "load5", "value": 0.58, "uom": "", "warn": "10", "crit": "25", "min": 0, "max": null},
            {"label": "load15", "value": 0.59, "uom": "", "warn": "5", "crit": "20", "min": 0, "max": null},
        ])
    );
    assert_eq!(
        v["text"],
        "LOAD OK - load average: 0.52, 0.58, 0.59 | load1=0.52;15;30;0 load5=0.58;10;25;0 load15=0.59;5;20;0\n"
    );
}

#[test]
fn reports_the_machine_load_with_perfdata() {
    let v = plugin_json("check_load", &["-w", "1000", "-c", "2000"]);
    assert_eq!(v["state"], "OK");
    assert!(v["summary"].as_str().unwrap().starts_with("load average: "));
    let perf = v["perfdata"].as_array().unwrap();
    assert_eq!(perf.len(), 3, "{v}");
    for (p, label) in perf.iter().zip(["load1", "load5", "load15"]) {
        assert_eq!(p["label"], label);
        assert_eq!(
            (&p["warn"], &p["crit"], &p["min"]),
            (&json!("1000"), &json!("2000"), &json!(0))
        );
    }
}

#[test]
fn names_top_processes_on_alert() {
    // a warning range that always alerts (load is never negative... so use @0:)
    let v = plugin_json("check_load", &["-w", "@0:", "-c", "100000", "-n", "3"]);
    assert_eq!(v["state"], "WARNING", "{v}");
    let lines = v["details"].as_array().unwrap();
    assert_eq!(lines.len(), 3, "{v}");
    for l in lines {
        assert_eq!(l["state"], serde_json::Value::Null, "{l}");
        assert!(l["text"].as_str().unwrap().contains("% CPU pid "), "{l}");
    }
    // OK: no process is named
    let v = plugin_json("check_load", &["-w", "100000", "-n", "3"]);
    assert_eq!(v["state"], "OK", "{v}");
    assert_eq!(v["details"], json!([]));
}

#[test]
fn bad_input_is_one_line_and_exit_3() {
    assert_one_unknown_line(
        "check_load",
        "LOAD",
        &[
            (
                &["-w", "10", "-c", "5"],
                "warning load 10 is greater than the critical load 5",
            ),
            (&["-w", "abc"], "invalid range 'abc'"),
            (&["-w", "1,2,3,4"], "at most three values"),
            (&["-c", "5:1"], "start is greater than end"),
            (&["-t", "-3"], "timeout"),
            (&["--no-such-option"], "--no-such-option"),
            (&["-n", "many"], "'many'"),
        ],
    );
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
