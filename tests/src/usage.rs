//! Bad command lines: a check answers them with one line, `LABEL UNKNOWN - ` and the
//! problem, exit 3, nothing on stderr, and never a panic (which would also be one
//! UNKNOWN line, an internal error). Asked for `--output-format json`, the refusal is
//! the same, as one JSON object.

use crate::plugin;

/// Runs the plugin `name` with each case's arguments and asserts that it answers one
/// `LABEL UNKNOWN - ` line containing the case's words, exits 3, writes nothing on
/// stderr, and did not panic; and that with `--output-format json` first it answers the
/// same refusal as one JSON object.
pub fn assert_one_unknown_line(name: &str, label: &str, cases: &[(&[&str], &str)]) {
    let lead = format!("{label} UNKNOWN - ");
    for (args, needle) in cases {
        let r = plugin(name, args);
        assert_eq!(r.code, 3, "{args:?}: {}", r.stdout);
        assert!(
            !r.stdout.contains("internal error"),
            "{args:?}: {}",
            r.stdout
        );
        assert_eq!(r.stdout.lines().count(), 1, "{args:?}: {}", r.stdout);
        assert!(
            r.stdout.starts_with(&lead) && r.stdout.contains(needle),
            "{args:?}: {}",
            r.stdout
        );
        assert!(r.stderr.is_empty(), "{args:?}: stderr {}", r.stderr);
        let mut json_args = vec!["--output-format", "json"];
        json_args.extend_from_slice(args);
        let r = plugin(name, &json_args);
        let v = crate::json_of(name, &json_args, &r);
        assert_eq!(v["state"], "UNKNOWN", "{json_args:?}: {}", r.stdout);
        let text = v["text"].as_str().unwrap_or_default();
        assert!(
            text.starts_with(&lead) && text.contains(needle) && text.lines().count() == 1,
            "{json_args:?}: {}",
            r.stdout
        );
    }
}
