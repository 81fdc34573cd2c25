//! check_file_age on files with set modification times.

use hcoop_tests::plugin;
use std::time::{Duration, SystemTime};

fn file_aged(path: &std::path::Path, bytes: usize, age_secs: u64) {
    std::fs::write(path, vec![b'x'; bytes]).unwrap();
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(age_secs))
        .unwrap();
}

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
    let r = plugin(
        "check_file_age",
        &["-f", &glob, "-w", "90000", "-c", "180000", "-C", "1K"],
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stdout
            .contains("backup-3.tar is 10 seconds old and 10 bytes"),
        "{}",
        r.stdout
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
    let r = plugin(
        "check_file_age",
        &[
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
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", r.stdout);
    assert!(
        lines[0].starts_with("FILE_AGE CRITICAL - 2 of 3 files out of bounds | oldest_age=400"),
        "{}",
        lines[0]
    );
    assert!(lines[0].ends_with(" count=3;5;;0"), "{}", lines[0]);
    assert!(
        lines[1].starts_with(&format!("[CRITICAL] {}/b is 400", d.path().display())),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with(&format!("[WARNING] {}/c is 40", d.path().display())),
        "{}",
        lines[2]
    );
    let r = plugin(
        "check_file_age",
        &[
            "-f",
            &glob,
            "-w",
            "1000000",
            "-c",
            "2000000",
            "--count-critical",
            "2",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stdout.contains("(3 files)"), "{}", r.stdout);
}

#[test]
fn missing_file_is_critical_unless_ignored() {
    let r = plugin("check_file_age", &["-f", "/nonexistent/backup.tar"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stdout,
        "FILE_AGE CRITICAL - /nonexistent/backup.tar: no such file | count=0;;;0\n"
    );
    let r = plugin("check_file_age", &["-i", "-f", "/nonexistent/backup.tar"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn bad_input_is_one_line_and_exit_3() {
    for (argv, needle) in [
        (
            &["-f", "/x", "-W", "3 parsecs"][..],
            "warning size: '3 parsecs': unknown size unit 'parsecs'",
        ),
        (&["-f", "/x", "-c", "9:1"][..], "invalid range '9:1'"),
        (&["-f", "/x/[z"][..], "bad glob '/x/[z'"),
        (&["-f", "/x", "-W", "é"][..], "'é'"),
        (&["-f", "/x", "-C", "5é"][..], "'5é'"),
        (&["-W", "é"][..], "FILE_AGE UNKNOWN - "),
        (&[][..], "no file to check: give -f PATH"),
    ] {
        let r = plugin("check_file_age", argv);
        assert_eq!(r.code, 3, "{argv:?}: {}", r.stdout);
        // a panic is also one UNKNOWN line: make sure this is not one
        assert!(
            !r.stdout.contains("internal error"),
            "{argv:?}: {}",
            r.stdout
        );
        assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
        assert!(r.stdout.starts_with("FILE_AGE UNKNOWN - "), "{}", r.stdout);
        assert!(r.stdout.contains(needle), "{argv:?}: {}", r.stdout);
    }
}
