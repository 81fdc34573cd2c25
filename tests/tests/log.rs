//! check_log end to end: lines appended, files rotated (rename + new file,
//! copytruncate, gzip) and truncated between runs; every line is read exactly once, and
//! the state survives a crash between runs.

use hcoop_tests::line::perf;
use hcoop_tests::usage::assert_one_unknown_line;
use hcoop_tests::{plugin, plugin_json, require};
use serde_json::Value;
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
    /// The check on this log file, with this state directory, and `extra`.
    fn run(&self, extra: &[&str]) -> hcoop_tests::Run {
        let (p, s) = (self.path(), self.state());
        let mut args = vec![
            "-F",
            p.to_str().unwrap(),
            "--state-dir",
            s.to_str().unwrap(),
        ];
        args.extend(extra);
        plugin("check_log", &args)
    }
    /// The same as JSON.
    fn json(&self, extra: &[&str]) -> Value {
        let mut args = extra.to_vec();
        args.extend(["--output-format", "json"]);
        hcoop_tests::json_of("check_log", extra, &self.run(&args))
    }
    /// Runs the check; returns (lines read, critical matches).
    fn check(&self, extra: &[&str]) -> (u64, u64) {
        let mut args = vec!["--critical-pattern", "^ERROR", "-c", "1000"];
        args.extend(extra);
        let v = self.json(&args);
        let count = |label: &str| perf(&v, label)["value"].as_u64().unwrap();
        (count("lines"), count("critical"))
    }
}

/// The state and summary of a JSON result.
fn said(v: &Value) -> (&str, &str) {
    (
        v["state"].as_str().unwrap_or_default(),
        v["summary"].as_str().unwrap_or_default(),
    )
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
    let v = log.json(&["--critical-pattern", "x"]);
    assert_eq!(v["state"], "UNKNOWN", "{v}");
    assert!(
        said(&v).1.contains("is damaged; delete it to start again"),
        "{v}"
    );
}

#[test]
fn states_output_and_missing_file() {
    let mut log = Log::new();
    log.write(1);
    let p = log.path().display().to_string();
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
    assert_eq!(log.json(&pats)["state"], "OK");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(log.path())
        .unwrap();
    writeln!(f, "ERROR disk\nERROR ignorable\nWARN one\nWARN two").unwrap();
    // the whole text, as Nagios reads it
    let r = log.run(&pats);
    assert_eq!(
        (r.code, r.stdout),
        (2, format!("LOG CRITICAL - {p}: 1 critical, 2 warning matches in 4 new lines | lines=4;;;0 critical=1;;0;0 warning=2;0;;0\n[WARNING] WARN one\n[WARNING] WARN two\n"))
    );
    writeln!(f, "ERROR again\nall clear\nWARN three").unwrap();
    let v = log.json(&pats);
    assert_eq!(
        said(&v),
        (
            "WARNING",
            format!("{p}: 0 critical, 1 warning match in 3 new lines").as_str()
        ),
        "{v}"
    );
    assert_eq!(v["details"][0]["text"], "[WARNING] WARN three", "{v}");
    assert_eq!(perf(&v, "warning")["value"].as_u64(), Some(1), "{v}");

    let gone = Log {
        dir: tempfile::tempdir().unwrap(),
        next: 0,
    };
    let g = gone.path().display().to_string();
    let v = gone.json(&["--critical-pattern", "x"]);
    assert_eq!(
        said(&v),
        ("UNKNOWN", format!("{g}: {g} does not exist").as_str()),
        "{v}"
    );
    assert_eq!(
        (&v["details"], &v["perfdata"]),
        (&serde_json::json!([]), &serde_json::json!([]))
    );
    let v = gone.json(&["--critical-pattern", "x", "--missing", "critical"]);
    assert_eq!(v["state"], "CRITICAL", "{v}");
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
    let args = ["--config", c.as_str(), "--state-dir", s.as_str()];
    assert_eq!(plugin_json("check_log", &args)["state"], "OK");
    log.write(6); // 1..7: errors at 3 and 6, infos 1,2,4,5
    let v = plugin_json("check_log", &args);
    assert_eq!(
        said(&v),
        (
            "CRITICAL",
            "errors: 2 critical, 0 warning matches in 6 new lines; infos: 0 critical, 4 warning matches in 6 new lines"
        ),
        "{v}"
    );
    let levels = |label| {
        let p = perf(&v, label);
        (p["value"].as_u64(), p["warn"].as_str(), p["crit"].as_str())
    };
    assert_eq!(levels("errors_critical"), (Some(2), None, Some("0")), "{v}");
    assert_eq!(levels("infos_warning"), (Some(4), Some("5"), None), "{v}");
}

#[test]
fn bad_input_is_one_line_and_exit_3() {
    let unwritable = Path::new("/proc/version/state");
    assert_one_unknown_line(
        "check_log",
        "LOG",
        &[
            (&["--critical-pattern", "x"], "nothing to watch"),
            (&["-F", "/x"], "no pattern"),
            (
                &["-F", "/x", "--critical-pattern", "("],
                "bad critical pattern '('",
            ),
            (
                &["-F", "/x", "--warning-pattern", "a", "-c", "2:1"],
                "invalid range '2:1'",
            ),
            (
                &["--config", "/nonexistent.toml"],
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
                ],
                "cannot read state file /proc/version/state/",
            ),
        ],
    );
}

/// monitoring-plugins' plugins-scripts/t/check_log.t: `-F LOG -O OLDLOG -q QUERY`, run
/// by Debian's check_log and ours on the same log. Not through `parity::case`: each
/// plugin keeps its own copy of the log (-O), so each runs with its own copy, and both
/// are held to the peer's exit code and phrases.
/// check_log's command line searching the log `log` for `pattern`, with its copy `old`.
fn log_and_copy<'a>(log: &'a Path, old: &'a Path, pattern: &'a str) -> [&'a str; 6] {
    let path = |p: &'a Path| p.to_str().unwrap();
    ["-F", path(log), "-O", path(old), "-q", pattern]
}

#[test]
fn peer_cases_of_check_log() {
    use hcoop_tests::parity::{debian, ours, Outcome};
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("check_log.tmp");
    std::fs::write(&log, "").unwrap();
    let log = log.to_str().unwrap().to_string();
    let old_d = dir.path().join("oldlog.debian");
    let old_o = dir.path().join("oldlog.ours");
    let append = |text: &str| {
        let mut f = std::fs::File::options().append(true).open(&log).unwrap();
        f.write_all(text.as_bytes()).unwrap();
    };
    // runs both, each with its own -O; returns their outputs
    let both = |args: &[&str], code: i32, phrase: &str| -> (Outcome, Outcome) {
        let with = |old: &Path| {
            let mut v: Vec<String> = vec!["-F".into(), log.clone(), "-O".into()];
            v.push(old.to_str().unwrap().into());
            v.extend(args.iter().map(|s| s.to_string()));
            v
        };
        let (a, b) = (with(&old_d), with(&old_o));
        let d = debian(
            "check_log",
            &a.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        let o = ours(
            "check_log",
            &b.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        for (who, out) in [("Debian", &d), ("ours", &o)] {
            assert_eq!(out.code, code, "{who} {args:?}: {}", out.stdout);
            assert!(
                out.stdout.contains(phrase),
                "{who} {args:?}: {phrase:?} in {}",
                out.stdout
            );
        }
        (d, o)
    };
    for (args, phrase) in [(&[][..], ""), (&["-f"], "-f")] {
        let d = debian("check_log", args);
        let o = ours("check_log", args);
        assert_eq!(
            (d.code, o.code),
            (3, 3),
            "{args:?}\n{}\n{}",
            d.stdout,
            o.stdout
        );
        assert!(o.stdout.contains(phrase));
    }
    both(
        &["-q", "Simple match", "-e", "-p"],
        3,
        "Can not use extended and perl regex",
    );
    both(&["-q", "Simple match"], 0, "Log check data initialized");
    append("This is some text, that should not match\n");
    both(
        &["-q", "No match"],
        0,
        "Log check ok - 0 pattern matches found",
    );
    append("This text should match\n");
    both(&["-q", "should match"], 2, "(1) < This text should match");
    append("This text should not match, because it is excluded\n");
    both(
        &["-q", "match", "--exclude", "because"],
        0,
        "Log check ok - 0 pattern matches found",
    );
    append("Trying\nwith\nmultiline\nignore me\n");
    let (d, o) = both(
        &[
            "-q",
            "Trying\\|with\\|multiline\\|ignore",
            "--exclude",
            "me",
            "--all",
        ],
        2,
        "(3) < Trying",
    );
    for out in [&d, &o] {
        assert!(out.stdout.contains("< with\n< multiline"), "{}", out.stdout);
    }
    both(
        &["-q", "match", "-a"],
        0,
        "Log check ok - 0 pattern matches found",
    );
    // no perfdata in this form, from either
    assert!(d.perf.is_empty() && o.perf.is_empty());
    // a missing log is UNKNOWN in both
    let gone = dir.path().join("gone");
    let args = log_and_copy(&gone, &old_o, "x");
    assert_eq!(
        (
            debian("check_log", &args).code,
            ours("check_log", &args).code
        ),
        (3, 3)
    );
}

/// The -O copy is never written through a symbolic link (another user's link in /tmp
/// must not make the check overwrite the file it points to).
#[test]
fn the_oldlog_copy_never_follows_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    std::fs::write(&log, "secret line\n").unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "keep me\n").unwrap();
    let old = dir.path().join("oldlog");
    std::os::unix::fs::symlink(&victim, &old).unwrap();
    let r = plugin("check_log", &log_and_copy(&log, &old, "x"));
    assert_eq!(r.code, 3, "{}", r.stdout);
    assert!(
        r.stdout
            .starts_with("LOG UNKNOWN - Log check error: cannot read "),
        "{}",
        r.stdout
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me\n");
}
