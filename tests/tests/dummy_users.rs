//! check_dummy and check_users side by side with Debian's: the cases of
//! monitoring-plugins' plugins/t/check_dummy.t and plugins/t/check_users.t, and
//! check_users on real utmp files written by glibc (see `hcoop_tests::utmp`).

use hcoop_tests::parity::{self, case, Outcome};
use hcoop_tests::utmp::{self, Entry};
use hcoop_tests::{bin, debian_plugin};

/// The peer's text lines, which ours prints word for word.
#[test]
fn dummy_prints_each_state_and_its_text_as_the_peer() {
    for (args, code, text) in [
        (&["0"][..], 0, "OK"),
        (&["0", "some random data"], 0, "OK: some random data"),
        (&["1"], 1, "WARNING"),
        (&["1", "more stuff"], 1, "WARNING: more stuff"),
        (&["2"], 2, "CRITICAL"),
        (&["2", "roughly drafted"], 2, "CRITICAL: roughly drafted"),
        (&["3"], 3, "UNKNOWN"),
        (&["3", "daringfireball"], 3, "UNKNOWN: daringfireball"),
        (
            &["4"],
            3,
            "UNKNOWN: Status 4 is not a supported error state",
        ),
        (
            &["-1"],
            3,
            "UNKNOWN: Status -1 is not a supported error state",
        ),
        (&["2", "a", "b"], 2, "CRITICAL: a"),
    ] {
        let (d, o) = case("check_dummy", args, code);
        assert_eq!(d.stdout, format!("{text}\n"), "Debian's, {args:?}");
        assert_eq!(o.stdout, d.stdout, "ours, {args:?}");
    }
}

#[test]
fn dummy_without_a_state_or_with_a_word_is_a_usage_error() {
    let (d, o) = case("check_dummy", &[], 3);
    for out in [&d.stdout, &o.stdout] {
        assert!(out.contains("Could not parse arguments"), "{out}");
    }
    let (d, o) = case("check_dummy", &["x"], 3);
    for out in [&d.stdout, &o.stdout] {
        assert!(
            out.contains("Arguments to check_dummy must be an integer"),
            "{out}"
        );
    }
    // ours speaks JSON when asked; Debian's has no such option
    let v = hcoop_tests::plugin_json("check_dummy", &["1", "text"]);
    assert_eq!(
        (v["state"].as_str(), v["exit_code"].as_i64()),
        (Some("WARNING"), Some(1))
    );
}

/// Debian's check_users and ours, each run with `utmp` as the system's login records.
fn users_both(utmp: &std::path::Path, args: &[&str]) -> (Outcome, Outcome, String) {
    let outcome = |program: &std::path::Path| {
        let r = utmp::run_with(utmp, program, args);
        Outcome {
            code: r.code,
            perf: parity::perfdata(&r.stdout),
            stdout: r.stdout,
        }
    };
    let (d, o) = (
        outcome(&debian_plugin("check_users")),
        outcome(&bin("check_users")),
    );
    let why = format!(
        "check_users {}\n--- Debian's (exit {}):\n{}--- ours (exit {}):\n{}",
        args.join(" "),
        d.code,
        d.stdout,
        o.code,
        o.stdout
    );
    (d, o, why)
}

/// The peer case over `utmp`: both exit `code`, the same perfdata labels and units, and
/// the same count `users`.
fn users_case(utmp: &std::path::Path, args: &[&str], code: i32, users: u64) -> (Outcome, Outcome) {
    let (d, o, why) = users_both(utmp, args);
    assert_eq!((d.code, o.code), (code, code), "{why}");
    assert_eq!(o.labels_and_units(), [("users", "")], "{why}");
    assert_eq!(o.labels_and_units(), d.labels_and_units(), "{why}");
    let count = format!("{users} users currently logged in");
    assert!(
        d.stdout.contains(&count) && o.stdout.contains(&count),
        "{why}"
    );
    let state = ["OK", "WARNING", "CRITICAL", "UNKNOWN"][code as usize];
    for out in [&d.stdout, &o.stdout] {
        assert!(out.starts_with(&format!("USERS {state} - ")), "{why}");
    }
    let value = format!("users={users};");
    assert!(d.item("users").unwrap().raw.starts_with(&value), "{why}");
    assert!(o.item("users").unwrap().raw.starts_with(&value), "{why}");
    (d, o)
}

/// Three sessions among records of other kinds (boot, a getty waiting, a dead one).
fn three_sessions(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("utmp");
    utmp::write(
        &path,
        &[
            Entry {
                kind: libc::BOOT_TIME,
                user: "reboot",
                line: "~",
            },
            Entry::session("alice", "pts/0"),
            Entry {
                kind: libc::LOGIN_PROCESS,
                user: "LOGIN",
                line: "tty1",
            },
            Entry::session("bob", "pts/1"),
            Entry {
                kind: libc::DEAD_PROCESS,
                user: "",
                line: "pts/2",
            },
            Entry::session("alice", "pts/3"),
        ],
    );
    path
}

/// The cases of check_users.t, which need logged-in users: here three, on a utmp file
/// both plugins read as the system's.
#[test]
fn users_counts_sessions_against_thresholds_as_the_peer() {
    let dir = tempfile::tempdir().unwrap();
    let path = three_sessions(dir.path());
    users_case(&path, &["1000", "1000"], 0, 3);
    users_case(&path, &["0", "0"], 2, 3);
    users_case(&path, &["-w", "0:1000", "-c", "0:1000"], 0, 3);
    users_case(&path, &["-w", "0:0", "-c", "0:0"], 2, 3);
    users_case(&path, &["-w", "2", "-c", "5"], 1, 3);
    users_case(&path, &["-w", "5", "-c", "10"], 0, 3);
    let (_, o) = users_case(&path, &["-w", "1", "2"], 2, 3);
    assert_eq!(o.item("users").unwrap().raw, "users=3;1;2;0");
    // ours reads the same file named by --utmp-file, outside any namespace
    let r = hcoop_tests::plugin(
        "check_users",
        &["--utmp-file", path.to_str().unwrap(), "-w", "2", "-c", "5"],
    );
    assert_eq!(
        (r.code, r.first_line()),
        (
            1,
            "USERS WARNING - 3 users currently logged in | users=3;2;5;0"
        )
    );
}

#[test]
fn users_with_no_utmp_file_counts_nobody_as_the_peer() {
    // a /run without utmp (as in containers): both count no one
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("utmp");
    utmp::write(&empty, &[]);
    users_case(&empty, &["-w", "0:0", "-c", "0:0"], 0, 0);
    // our --utmp-file naming a missing file is UNKNOWN, not "no one"
    let gone = dir.path().join("gone");
    let r = hcoop_tests::plugin("check_users", &["--utmp-file", gone.to_str().unwrap()]);
    assert_eq!(r.code, 3, "{}", r.stdout);
    assert!(r.stdout.contains("cannot read"), "{}", r.stdout);
}

/// Thresholds Debian's takes without complaint but does not understand (`-w x`) are
/// refused by ours; a negative one is refused by both; no threshold at all is Debian's
/// usage text and our plain count.
#[test]
fn users_bad_or_missing_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    let path = three_sessions(dir.path());
    let (d, o, why) = users_both(&path, &["-w", "x", "-c", "1000"]);
    assert_eq!((d.code, o.code), (1, 3), "{why}");
    let (d, o, why) = users_both(&path, &["-w", "-1", "-c", "5"]);
    assert_eq!((d.code, o.code), (3, 3), "{why}");
    assert!(o.stdout.starts_with("USERS UNKNOWN - "), "{why}");
    let (d, o, why) = users_both(&path, &[]);
    assert_eq!((d.code, o.code), (3, 0), "{why}");
    assert_eq!(
        o.stdout, "USERS OK - 3 users currently logged in | users=3;;;0\n",
        "{why}"
    );
}
