//! check_mailq against a real Exim queue.

use hcoop_tests::exim::Exim;
use hcoop_tests::line::assert_json;
use hcoop_tests::plugin;
use hcoop_tests::usage::assert_one_unknown_line;
use serde_json::{json, Value};

fn args<'a>(e: &'a [String], more: &[&'a str]) -> Vec<&'a str> {
    let mut v: Vec<&str> = e.iter().map(String::as_str).collect();
    v.extend(more);
    v
}

/// The perfdata items as `label=value;warn;crit;min`.
fn perf(v: &Value) -> Vec<String> {
    v["perfdata"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let level = |l: &Value| l.as_str().unwrap_or("").to_string();
            format!(
                "{}={}{};{};{};{}",
                p["label"].as_str().unwrap(),
                p["value"],
                p["uom"].as_str().unwrap(),
                level(&p["warn"]),
                level(&p["crit"]),
                p["min"]
            )
        })
        .collect()
}

#[test]
fn counts_a_real_exim_queue() {
    let exim = Exim::new();
    let base = vec![
        "--exim".to_string(),
        exim.binary().display().to_string(),
        "--exim-config".to_string(),
        exim.config().display().to_string(),
    ];
    let v = assert_json(
        "check_mailq",
        &args(&base, &["-w", "2", "-c", "4"]),
        "OK",
        "mail queue is empty",
    );
    assert_eq!(
        perf(&v),
        [
            "unsent=0;2;4;0",
            "oldest=0s;;;0",
            "frozen=0;;;0",
            "largest_domain=0;;;0"
        ]
    );
    assert_eq!(v["details"], json!([]));

    exim.submit(
        "alice@main.test",
        &["bob@remote.example", "carol@other.example"],
        false,
    );
    exim.submit("alice@main.test", &["dave@remote.example"], true);
    let frozen = exim.submit("<>", &["eve@remote.example"], false);
    exim.freeze(&frozen);

    // the rendering: the exact Nagios text
    let r = plugin(
        "check_mailq",
        &args(&base, &["-w", "2", "-c", "4", "-W", "2"]),
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(
        r.stdout,
        "MAILQ WARNING - 3 messages in queue, oldest 0s, 1 frozen | unsent=3;2;4;0 oldest=0s;;;0 frozen=1;;;0 largest_domain=3;2;;0\n[WARNING] remote.example: 3 messages\n[OK] other.example: 1 message\n"
    );
    let v = assert_json(
        "check_mailq",
        &args(&base, &["-c", "2"]),
        "CRITICAL",
        "3 messages in queue, oldest 0s, 1 frozen",
    );
    assert_eq!(
        perf(&v),
        [
            "unsent=3;;2;0",
            "oldest=0s;;;0",
            "frozen=1;;;0",
            "largest_domain=3;;;0"
        ]
    );
    assert_eq!(
        v["details"],
        json!([
            { "state": "OK", "text": "remote.example: 3 messages" },
            { "state": "OK", "text": "other.example: 1 message" }
        ])
    );
}

#[test]
fn unreadable_queue_is_unknown() {
    for (exim, said) in [
        (
            "/nonexistent/exim",
            "cannot run /nonexistent/exim: No such file or directory \\(os error 2\\)",
        ),
        ("false", "false failed: no output"),
    ] {
        let v = assert_json("check_mailq", &["--exim", exim], "UNKNOWN", said);
        assert_eq!((&v["details"], &v["perfdata"]), (&json!([]), &json!([])));
    }
}

#[test]
fn bad_input_is_one_line_and_exit_3() {
    assert_one_unknown_line(
        "check_mailq",
        "MAILQ",
        &[
            (
                &["-w", "5:1"],
                "invalid range '5:1': start is greater than end",
            ),
            (&["-M", "qmail"], "invalid value 'qmail'"),
            (&["--domains", "x"], "invalid value 'x'"),
        ],
    );
}
