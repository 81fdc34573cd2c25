//! check_log end to end: lines appended, files rotated (rename + new file,
//! copytruncate, gzip) and truncated between runs; every line is read exactly once, and
//! the state survives a crash between runs.

use hcoop_tests::{plugin, plugin_json, require};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Log {
    dir: tempfile::TempDir,
    next: usize,
}

impl Log {
    fn new() -> Log {
        Log {
            dir: tempfile::tempdir().unwrap(),
            next: 0,
        }
    }
    fn path(&self) -> PathBuf {
        self.dir.path().join("app.log")
    }
    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }
    /// Appends `n` numbered lines, every third one an ERROR.
    fn write(&mut self, n: usize) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path())
            .unwrap();
        for _ in 0..n {
            let kind = if self.next.is_multiple_of(3) {
                "ERROR"
            } else {
                "info"
            };
            writeln!(f, "{kind} line {}", self.next).unwrap();
            self.next += 1;
        }
    }
    /// Runs the check; returns (lines read, critical matches).
    fn check(&self, extra: &[&str]) -> (u64, u64) {
        let p = self.path().display().to_string();
        let s = self.state().display().to_string();
        let mut args = vec![
            "-F",
            &p,
            "--state-dir",
            &s,
            "--critical-pattern",
            "^ERROR",
            "-c",
            "1000",
        ];
        args.extend(extra);
        let v = plugin_json("check_log", &args);
        let perf = |label: &str| {
            v["perfdata"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["label"] == label)
                .unwrap_or_else(|| panic!("no {label} in {v}"))["value"]
                .as_u64()
                .unwrap()
        };
        (perf("lines"), perf("critical"))
    }
}

fn errors_in(range: std::ops::Range<usize>) -> u64 {
    range.filter(|i| i.is_multiple_of(3)).count() as u64
}

#[test]
fn every_line_once_across_rotations() {
    let mut log = Log::new();
    log.write(10);
    // first run starts at the end
    assert_eq!(log.check(&[]), (0, 0));
    log.write(7); // lines 10..17
    assert_eq!(log.check(&[]), (7, errors_in(10..17)));
    assert_eq!(log.check(&[]), (0, 0));

    // rename + new file: the rest of app.log.1 is read first
    log.write(5); // 17..22
    std::fs::rename(log.path(), log.dir.path().join("app.log.1")).unwrap();
    log.write(4); // 22..26 in the new file
    assert_eq!(log.check(&[]), (9, errors_in(17..26)));

    // copytruncate: copied to app.log.1, then truncated in place
    log.write(6); // 26..32
    std::fs::copy(log.path(), log.dir.path().join("app.log.1")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(log.path())
        .unwrap()
        .set_len(0)
        .unwrap();
    log.write(3); // 32..35
    assert_eq!(log.check(&[]), (9, errors_in(26..35)));

    // rename then gzip (no .1 left, only .1.gz)
    require("gzip", "gzip");
    log.write(8); // 35..43
    let rotated = log.dir.path().join("app.log.1");
    std::fs::rename(log.path(), &rotated).unwrap();
    let st = Command::new("gzip")
        .arg("-f")
        .arg(&rotated)
        .status()
        .unwrap();
    assert!(st.success());
    log.write(2); // 43..45
    assert_eq!(log.check(&[]), (10, errors_in(35..45)));

    // a plain truncation without rotation: the new lines only
    std::fs::write(log.path(), "").unwrap();
    log.write(5); // 45..50
    assert_eq!(log.check(&[]), (5, errors_in(45..50)));
}

#[test]
fn partial_lines_wait_for_their_newline() {
    let mut log = Log::new();
    log.write(1);
    assert_eq!(log.check(&[]), (0, 0));
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(log.path())
        .unwrap();
    write!(f, "ERROR half").unwrap();
    assert_eq!(log.check(&[]), (0, 0));
    writeln!(f, " and the rest").unwrap();
    assert_eq!(log.check(&[]), (1, 1));
}

#[test]
fn state_survives_a_crash_between_runs() {
    let mut log = Log::new();
    log.write(3);
    assert_eq!(log.check(&["--from-start"]), (3, 1));
    // a run killed while writing its state leaves a temporary file behind: the saved
    // state is still whole
    let st = std::fs::read_dir(log.state())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(
        st.with_file_name(format!(
            ".{}.999999.tmp",
            st.file_name().unwrap().to_string_lossy()
        )),
        "inode 1\noff",
    )
    .unwrap();
    // a run killed before it saved: its lines are read again by the next run (never lost)
    let saved = std::fs::read(&st).unwrap();
    log.write(3); // 3..6
    assert_eq!(log.check(&[]), (3, 1));
    std::fs::write(&st, &saved).unwrap();
    assert_eq!(log.check(&[]), (3, 1));
    assert_eq!(log.check(&[]), (0, 0));
    // a damaged state file is UNKNOWN with what to do
    std::fs::write(&st, "garbage").unwrap();
    let p = log.path().display().to_string();
    let s = log.state().display().to_string();
    let r = plugin(
        "check_log",
        &["-F", &p, "--state-dir", &s, "--critical-pattern", "x"],
    );
    assert_eq!(r.code, 3, "{}", r.stdout);
    assert!(
        r.stdout.contains("is damaged; delete it to start again"),
        "{}",
        r.stdout
    );
}

#[test]
fn states_output_and_missing_file() {
    let mut log = Log::new();
    log.write(1);
    let p = log.path().display().to_string();
    let s = log.state().display().to_string();
    let base = ["-F", p.as_str(), "--state-dir", s.as_str()];
    let run = |extra: &[&str]| {
        let mut a = base.to_vec();
        a.extend(extra);
        plugin("check_log", &a)
    };
    let pats = [
        "--critical-pattern",
        "ERROR",
        "--critical-exception",
        "ignorable",
        "--warning-pattern",
        "WARN",
        "--ok-pattern",
        "all clear",
        "--lines",
        "2",
    ];
    assert_eq!(run(&pats).code, 0);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(log.path())
        .unwrap();
    writeln!(f, "ERROR disk\nERROR ignorable\nWARN one\nWARN two").unwrap();
    let r = run(&pats);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert_eq!(
        r.stdout,
        format!("LOG CRITICAL - {p}: 1 critical, 2 warning matches in 4 new lines | lines=4;;;0 critical=1;;0;0 warning=2;0;;0\n[WARNING] WARN one\n[WARNING] WARN two\n")
    );
    writeln!(f, "ERROR again\nall clear\nWARN three").unwrap();
    let r = run(&pats);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.starts_with(&format!(
            "LOG WARNING - {p}: 0 critical, 1 warning match in 3 new lines"
        )),
        "{}",
        r.stdout
    );

    let gone = format!("{}/nope.log", log.dir.path().display());
    let r = plugin(
        "check_log",
        &["-F", &gone, "--state-dir", &s, "--critical-pattern", "x"],
    );
    assert_eq!(r.code, 3);
    assert_eq!(
        r.stdout,
        format!("LOG UNKNOWN - {gone}: {gone} does not exist\n")
    );
    let r = plugin(
        "check_log",
        &[
            "-F",
            &gone,
            "--state-dir",
            &s,
            "--critical-pattern",
            "x",
            "--missing",
            "critical",
        ],
    );
    assert_eq!(r.code, 2);
}

#[test]
fn several_searches_from_a_config_file() {
    let mut log = Log::new();
    log.write(1);
    let cfg = log.dir.path().join("searches.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[search]]\nname = \"errors\"\nfile = \"{p}\"\ncritical = [\"^ERROR\"]\n\n[[search]]\nname = \"infos\"\nfile = \"{p}\"\nwarning = [\"^info\"]\nwarning_count = \"5\"\n",
            p = log.path().display()
        ),
    )
    .unwrap();
    let c = cfg.display().to_string();
    let s = log.state().display().to_string();
    let r = plugin("check_log", &["--config", &c, "--state-dir", &s]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    log.write(6); // 1..7: errors at 3 and 6, infos 1,2,4,5
    let r = plugin("check_log", &["--config", &c, "--state-dir", &s]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.first_line().starts_with("LOG CRITICAL - errors: 2 critical, 0 warning matches in 6 new lines; infos: 0 critical, 4 warning matches in 6 new lines | "), "{}", r.stdout);
    assert!(
        r.first_line().contains("errors_critical=2;;0;0"),
        "{}",
        r.stdout
    );
    assert!(
        r.first_line().contains("infos_warning=4;5;;0"),
        "{}",
        r.stdout
    );
}

#[test]
fn bad_input_is_one_line_and_exit_3() {
    let unwritable = Path::new("/proc/version/state");
    for (argv, needle) in [
        (&["--critical-pattern", "x"][..], "nothing to watch"),
        (&["-F", "/x"][..], "no pattern"),
        (
            &["-F", "/x", "--critical-pattern", "("][..],
            "bad critical pattern '('",
        ),
        (
            &["-F", "/x", "--warning-pattern", "a", "-c", "2:1"][..],
            "invalid range '2:1'",
        ),
        (
            &["--config", "/nonexistent.toml"][..],
            "cannot read /nonexistent.toml",
        ),
        (
            &[
                "-F",
                "/proc/version",
                "--warning-pattern",
                "a",
                "--state-dir",
                unwritable.to_str().unwrap(),
            ][..],
            "cannot read state file /proc/version/state/",
        ),
    ] {
        let r = plugin("check_log", argv);
        assert_eq!(r.code, 3, "{argv:?}: {}", r.stdout);
        assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
        assert!(r.stdout.starts_with("LOG UNKNOWN - "), "{}", r.stdout);
        assert!(r.stdout.contains(needle), "{argv:?}: {}", r.stdout);
    }
}
