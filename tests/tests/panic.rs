//! The plugin contract's last resort: a panic anywhere in a plugin prints one UNKNOWN
//! line naming the place and exits 3, never Rust's 101 with a message on stderr.

use hcoop_tests::{bin, run};

#[test]
fn a_panic_is_unknown_with_exit_code_3() {
    let program = bin("check_panics");
    for (place, message) in [
        ("new", "broken while validating"),
        ("local", "broken locally"),
        ("remote", "broken in the runtime"),
    ] {
        let r = run(&program, &["--panic-in", place]);
        assert_eq!(r.code, 3, "{place}: {r:?}");
        let want = format!(
            "PANICKY UNKNOWN - internal error: {message} at tests/src/bin/check_panics.rs:"
        );
        assert!(r.stdout.starts_with(&want), "{place}: {r:?}");
        assert_eq!(r.stdout.lines().count(), 1, "{place}: {r:?}");
        assert_eq!(r.stderr, "", "{place}");
    }
    // once the output format is known, the panic is reported in it
    let r = run(
        &program,
        &["--panic-in", "remote", "--output-format", "json"],
    );
    assert_eq!(r.code, 3, "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["state"], "UNKNOWN", "{v}");
}

/// Hostile level values to every local check: each is refused with one UNKNOWN line and
/// exit 3 (never an internal error), the value echoed escaped and cut.
#[test]
fn hostile_levels_are_one_unknown_line() {
    let long = "9".repeat(400);
    let values = [
        "é",
        "１０",
        "10é%",
        "\u{301}",
        "200%",
        "-1%",
        "10%%",
        "a\nb",
        long.as_str(),
    ];
    let checks: &[(&str, &str, &[&str])] = &[
        ("check_swap", "SWAP", &["-w", "-c"]),
        (
            "check_mem",
            "MEM",
            &["-w", "-c", "--swap-warning", "--pressure-critical"],
        ),
        ("check_disk", "DISK", &["-w", "-c", "-W", "-K"]),
        (
            "check_procs",
            "PROCS",
            &[
                "-w",
                "-c",
                "--nproc-warning",
                "--user-rss-critical",
                "--cputime-warning",
            ],
        ),
        ("check_load", "LOAD", &["-w", "-c"]),
        ("check_file_age", "FILE_AGE", &["-w", "-c", "-W", "-C"]),
        ("check_quota", "QUOTA", &["-w", "-c"]),
        ("check_net", "NET", &["-w", "-c", "--errors-warning"]),
        (
            "check_mailq",
            "MAILQ",
            &["-w", "-c", "-W", "--age-critical"],
        ),
        ("check_log", "LOG", &["-w", "-c"]),
    ];
    for (name, label, options) in checks {
        let program = bin(name);
        for option in *options {
            for value in values {
                let arg = format!("{option}={value}");
                let argv: Vec<&str> = if option.starts_with("--") {
                    vec![arg.as_str()]
                } else {
                    vec![option, value]
                };
                let r = run(&program, &argv);
                let what = format!("{name} {option} {value:?}: {r:?}");
                assert_eq!(r.code, 3, "{what}");
                assert_eq!(r.stdout.lines().count(), 1, "{what}");
                assert!(
                    r.stdout.starts_with(&format!("{label} UNKNOWN - ")),
                    "{what}"
                );
                assert!(!r.stdout.contains("internal error"), "{what}");
                assert!(r.stdout.len() < 2000, "{what}");
                assert_eq!(r.stderr, "", "{what}");
            }
        }
    }
}
