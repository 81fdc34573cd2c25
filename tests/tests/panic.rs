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
