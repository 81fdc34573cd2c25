//! check_file_age on files with set modification times.

use hcoop_tests::usage::assert_one_unknown_line;
use hcoop_tests::{assert_refused_json, plugin, plugin_json};
use serde_json::{json, Value};
use std::time::{Duration, SystemTime};

fn file_aged(path: &std::path::Path, bytes: usize, age_secs: u64) {
    std::fs::write(path, vec![b'x'; bytes]).unwrap();
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(age_secs))
        .unwrap();
}

fn file_age(args: &[&str]) -> Value {
    plugin_json("check_file_age", args)
}

/// The one test of the Nagios text: the rest compare the JSON result.
#[test]
fn newest_backup_age_and_size() {
    let d = tempfile::tempdir().unwrap();
    file_aged(&d.path().join("backup-1.tar"), 5000, 200_000);
    file_aged(&d.path().join("backup-2.tar"), 4000, 100_000);
    let glob = format!("{}/backup-*.tar", d.path().display());
    let r = plugin(
        "check_file_age",
        &["-f", &glob, "-w", "90000", "-c", "180000", "-W", "1K"],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.starts_with(&format!(
            "FILE_AGE WARNING - newest of 2 files: {}/backup-2.tar is 100000 seconds old and 4000 bytes | age=100000s;90000;180000 size=4000B;1024:;;0 count=2;;;0"
        , d.path().display())) || r.stdout.contains("is 100001 seconds old"),
        "{}",
        r.stdout
    );
    // the newest is too small: critical size
    file_aged(&d.path().join("backup-3.tar"), 10, 10);
    let v = file_age(&["-f", &glob, "-w", "90000", "-c", "180000", "-C", "1K"]);
    assert_eq!(v["state"], "CRITICAL", "{v}");
    let summary = v["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("newest of 3 files: ")
            && summary.ends_with("backup-3.tar is 10 seconds old and 10 bytes"),
        "{v}"
    );
    assert_eq!(
        v["perfdata"][1],
        json!({"label": "size", "value": 10, "uom": "B", "warn": null, "crit": "1024:", "min": 0, "max": null})
    );
}

#[test]
fn every_file_of_a_spool_and_the_count() {
    let d = tempfile::tempdir().unwrap();
    file_aged(&d.path().join("a"), 1, 5);
    file_aged(&d.path().join("b"), 1, 4000);
    file_aged(&d.path().join("c"), 1, 400);
    std::fs::create_dir(d.path().join("subdir")).unwrap();
    let glob = format!("{}/*", d.path().display());
    let v = file_age(&[
        "-f",
        &glob,
        "--select",
        "every",
        "-w",
        "300",
        "-c",
        "3600",
        "--count-warning",
        "5",
    ]);
    assert_eq!(v["state"], "CRITICAL", "{v}");
    assert_eq!(v["summary"], "2 of 3 files out of bounds", "{v}");
    let dir = d.path().display();
    let details = v["details"].as_array().unwrap();
    assert_eq!(details.len(), 2, "{v}");
    for (detail, (state, start)) in details.iter().zip([
        ("CRITICAL", format!("{dir}/b is 400")),
        ("WARNING", format!("{dir}/c is 40")),
    ]) {
        assert_eq!(detail["state"], state, "{v}");
        assert!(detail["text"].as_str().unwrap().starts_with(&start), "{v}");
    }
    // b, 4000 seconds old, is the oldest (a second may pass while the check runs)
    let oldest = &v["perfdata"][0];
    assert!(
        (4000..=4001).contains(&oldest["value"].as_u64().unwrap()),
        "{v}"
    );
    assert_eq!(
        v["perfdata"],
        json!([
            {"label": "oldest_age", "value": oldest["value"], "uom": "s", "warn": "300", "crit": "3600", "min": null, "max": null},
            {"label": "count", "value": 3, "uom": "", "warn": "5", "crit": null, "min": 0, "max": null},
        ])
    );
    let v = file_age(&[
        "-f",
        &glob,
        "-w",
        "1000000",
        "-c",
        "2000000",
        "--count-critical",
        "2",
    ]);
    assert_eq!(v["state"], "CRITICAL", "{v}");
    assert!(
        v["summary"].as_str().unwrap().ends_with(" (3 files)"),
        "{v}"
    );
}

#[test]
fn missing_file_is_critical_unless_ignored() {
    let v = file_age(&["-f", "/nonexistent/backup.tar"]);
    assert_eq!(v["state"], "CRITICAL", "{v}");
    assert_eq!(v["summary"], "/nonexistent/backup.tar: no such file");
    assert_eq!(v["details"], json!([]));
    // one plain path: no count (monitoring-plugins prints no perfdata here either)
    assert_eq!(v["perfdata"], json!([]));
    let v = file_age(&["-i", "-f", "/nonexistent/backup.tar"]);
    assert_eq!(v["state"], "OK", "{v}");
}

/// Options the check's validation refuses: one UNKNOWN result.
#[test]
fn bad_input_is_unknown() {
    for (argv, message) in [
        (
            &["-f", "/x", "-W", "3 parsecs"][..],
            "warning size: '3 parsecs': unknown size unit 'parsecs'",
        ),
        (
            &["-f", "/x/[z"],
            "bad glob '/x/[z': Pattern syntax error near position 3: invalid range pattern",
        ),
        (
            &["-f", "/x", "-W", "é"],
            "warning size: 'é' is not a size (examples: 4096, 512M, 2GiB)",
        ),
        (
            &["-f", "/x", "-C", "5é"],
            "critical size: '5é' is not a size (examples: 4096, 512M, 2GiB)",
        ),
        (
            &["-W", "é"],
            "no file to check: give -f PATH (a path or glob)",
        ),
        (&[], "no file to check: give -f PATH (a path or glob)"),
    ] {
        assert_refused_json("check_file_age", argv, message);
    }
}

/// A value the command line parser refuses is one UNKNOWN line, before any output
/// format is known.
#[test]
fn a_refused_range_is_one_line_and_exit_3() {
    assert_one_unknown_line(
        "check_file_age",
        "FILE_AGE",
        &[(
            &["-f", "/x", "-c", "9:1"],
            "--critical-age: invalid range '9:1': start is greater than end",
        )],
    );
}

/// monitoring-plugins' plugins-scripts/t/check_file_age.t, run by Debian's plugin and
/// ours on the same 100-byte file (ten seconds old instead of the peer's sleep of two),
/// a symbolic link to a new file and a new directory.
#[test]
fn peer_cases_of_check_file_age() {
    use hcoop_tests::parity::case;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("check_file_age.tmp");
    let f = file.to_str().unwrap();
    let c = |args: &[&str], code: i32| {
        let (d, o) = case("check_file_age", args, code);
        if d.perf.is_empty() {
            assert!(o.perf.is_empty(), "{args:?}: {}", o.stdout);
        }
        (d, o)
    };
    c(&[], 3);
    c(&["-f", f], 2);
    file_aged(&file, 100, 0);
    c(&["-f", f], 0);
    file_aged(&file, 100, 10);
    c(&["-f", f, "-w", "1"], 1);
    c(&["-f", f, "-c", "1"], 2);
    let (d, o) = c(&["-f", f, "-c", "1000", "-W", "100"], 0);
    assert_eq!(d.labels_and_units(), [("age", "s"), ("size", "B")]);
    assert_eq!(o.labels_and_units(), [("age", "s"), ("size", "B")]);
    c(&["-f", "/non/existent", "--ignore-missing"], 0);
    c(&["-f", f, "-c", "1000", "-W", "101"], 1);
    c(&["-f", f, "-c", "1000", "-C", "101"], 2);
    // ranges: when one level is a range, all four are standard ranges
    c(&["-f", f, "-w", "0:1"], 1);
    c(&["-f", f, "-c", "0:1"], 2);
    c(&["-f", f, "-c", "0:1000", "-W", "0:100"], 0);
    c(&["-f", f, "-c", "1000", "-W", "101:"], 1);
    c(&["-f", f, "-c", "1000", "-W", "0:99"], 1);
    c(&["-f", f, "-c", "1000", "-C", "101:"], 2);
    c(&["-f", f, "-c", "1000", "-C", "0:99"], 2);
    // a symbolic link to a new file, a new directory, the file as a bare word
    let new = dir.path().join("new");
    file_aged(&new, 10, 0);
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&new, &link).unwrap();
    c(&["-f", link.to_str().unwrap(), "-c", "10"], 0);
    let sub = dir.path().join("dir");
    std::fs::create_dir(&sub).unwrap();
    c(&["-f", sub.to_str().unwrap(), "-c", "10"], 0);
    c(&[f, "-c", "1"], 2);
}
