//! The line-protocol and mail checks (check_tcp, ssh, ftp, jabber, spamd, sip, smtp,
//! imap, mail_roundtrip, mailq) seen through their JSON results: a state and a summary
//! (a regex), the perfdata items by label, and the time running out in the state `-t`
//! names.

use crate::{plugin, plugin_json};
use regex::Regex;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Runs our plugin `name` with `args` in JSON and asserts its state and that its whole
/// summary matches `summary` (a regex, anchored at both ends); returns the object.
pub fn assert_json(name: &str, args: &[&str], state: &str, summary: &str) -> Value {
    let v = plugin_json(name, args);
    let re = Regex::new(&format!("^(?:{summary})$")).unwrap();
    assert!(
        v["state"] == state && v["summary"].as_str().is_some_and(|s| re.is_match(s)),
        "{name} {args:?}: expected {state} and /{summary}/, got {v}"
    );
    v
}

/// The perfdata item `label` of a JSON result.
pub fn perf<'a>(v: &'a Value, label: &str) -> &'a Value {
    v["perfdata"]
        .as_array()
        .and_then(|p| p.iter().find(|i| i["label"] == label))
        .unwrap_or_else(|| panic!("no perfdata item {label}: {v}"))
}

/// The labels of the perfdata items, in order.
pub fn perf_labels(v: &Value) -> Vec<String> {
    v["perfdata"]
        .as_array()
        .map(|p| {
            p.iter()
                .map(|i| i["label"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts the `time` item: seconds below `below`, the levels `warn` and `crit` as the
/// check prints them, minimum 0 and maximum `max` (the time limit).
pub fn assert_time_perf(v: &Value, below: f64, warn: Option<&str>, crit: Option<&str>, max: f64) {
    let t = perf(v, "time");
    assert!(
        t["value"]
            .as_f64()
            .is_some_and(|s| (0.0..below).contains(&s))
            && t["uom"] == "s"
            && t["warn"].as_str() == warn
            && t["crit"].as_str() == crit
            && t["min"].as_f64() == Some(0.0)
            && t["max"].as_f64() == Some(max),
        "time item: {t}"
    );
}

/// Runs our plugin `name` with `args` in JSON and asserts that it answered OK with a
/// summary matching `summary`, and its `time` item under the default time limit of 10
/// seconds, without levels; returns the object.
pub fn assert_answered(name: &str, args: &[&str], summary: &str) -> Value {
    let v = assert_json(name, args, "OK", summary);
    assert_time_perf(&v, 10.0, None, None, 10.0);
    v
}

/// What a check says of a certificate of the test CA (valid 200 days) for `name`, as
/// a regex.
pub fn will_expire(name: &str) -> String {
    format!(
        r"certificate '{}' will expire on .* \((199|200) days\)",
        regex::escape(name)
    )
}

/// Runs `name` with `-t 2:UNKNOWN` and with `-t 2`; asserts UNKNOWN (exit 3) within
/// 2.5 s and then CRITICAL (exit 2), each with a summary matching `summary`; returns the
/// UNKNOWN result.
pub fn times_out(name: &str, args: &[&str], summary: &str) -> Value {
    let mut first = Value::Null;
    for (t, state) in [("2:UNKNOWN", "UNKNOWN"), ("2", "CRITICAL")] {
        let mut all = args.to_vec();
        all.extend(["-t", t]);
        let start = Instant::now();
        let v = assert_json(name, &all, state, summary);
        let took = start.elapsed();
        assert!(
            took < Duration::from_millis(2500),
            "{name} -t {t} took {took:?}: {v}"
        );
        if first.is_null() {
            first = v;
        }
    }
    first
}

/// Asserts the Nagios text of our plugin `name` with `args`: its exit code, and a first
/// line matching `pattern` (a regex).
pub fn assert_text(name: &str, args: &[&str], code: i32, pattern: &str) {
    let r = plugin(name, args);
    let re = Regex::new(pattern).unwrap();
    assert!(
        r.code == code && re.is_match(r.first_line()),
        "{name} {args:?}: expected exit {code} and /{pattern}/, got exit {}: {}{}",
        r.code,
        r.stdout,
        r.stderr
    );
}
