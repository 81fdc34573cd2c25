//! What the check_pgsql and check_mysql tests share: a check run with the arguments
//! that reach one server (its JSON result, or its text), assertions on a result's
//! state, summary and perfdata, the command lines every database check refuses on one
//! line, and a query that runs into the check's budget.

use crate::line::perf_labels;
use crate::{bin, json_of, plugin, plugin_json, Run};
use serde_json::Value;
use std::time::{Duration, Instant};

/// A database check and the arguments that reach one server.
pub struct Db {
    pub name: &'static str,
    pub args: Vec<String>,
}

impl Db {
    /// `name` run with `args` before any others.
    pub fn new(name: &'static str, args: &[&str]) -> Db {
        Db {
            name,
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }

    fn with<'a>(&'a self, extra: &[&'a str]) -> Vec<&'a str> {
        self.args
            .iter()
            .map(String::as_str)
            .chain(extra.iter().copied())
            .collect()
    }

    /// The check's text output and exit code.
    pub fn run(&self, extra: &[&str]) -> Run {
        plugin(self.name, &self.with(extra))
    }

    /// The check's JSON result (its exit code agreeing with its state).
    pub fn json(&self, extra: &[&str]) -> Value {
        plugin_json(self.name, &self.with(extra))
    }

    /// The JSON result with `var=value` in the check's environment (for a password
    /// the arguments leave out).
    pub fn json_with_env(&self, extra: &[&str], var: &str, value: &str) -> Value {
        let mut args = self.with(extra);
        args.extend(["--output-format", "json"]);
        let out = std::process::Command::new(bin(self.name))
            .args(&args)
            .env(var, value)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.name));
        json_of(self.name, &args, &out.into())
    }
}

/// Gives `path` and everything below it to `user` (and the group of that name): the
/// database servers run as their own users.
pub fn chown_to(user: &str, path: &std::path::Path) {
    let out = std::process::Command::new("chown")
        .args(["-R", &format!("{user}:{user}")])
        .arg(path)
        .output()
        .expect("chown");
    assert!(out.status.success(), "chown {user} {}", path.display());
}

pub use crate::{assert_only, assert_says};

/// The result is `state` and its summary starts with `start`.
pub fn assert_starts(v: &Value, state: &str, start: &str) {
    assert_eq!(v["state"], state, "{v}");
    let summary = v["summary"].as_str().unwrap_or_default();
    assert!(summary.starts_with(start), "{start:?}: {v}");
}

/// Asserts that perfdata item `i` is `want` (numbers compared as numbers: `5` and
/// `5.0` are the same value).
pub fn assert_perf(v: &Value, i: usize, want: Value) {
    fn numbers_as_floats(v: &Value) -> Value {
        match v {
            Value::Number(n) => serde_json::json!(n.as_f64()),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, x)| (k.clone(), numbers_as_floats(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    assert_eq!(
        numbers_as_floats(&v["perfdata"][i]),
        numbers_as_floats(&want),
        "{v}"
    );
}

/// The query named `name` returned `value`, in `state` against the query ranges `warn`
/// and `crit`: the summary, and the perfdata of the value and the time.
pub fn assert_query(v: &Value, state: &str, name: &str, value: f64, warn: &str, crit: &str) {
    assert_says(v, state, &format!("query '{name}' returned {value}"));
    assert_perf(
        v,
        0,
        serde_json::json!({"label": "query", "value": value, "uom": "", "warn": warn, "crit": crit, "min": null, "max": null}),
    );
    assert_eq!(perf_labels(v), ["query", "time"], "{v}");
}

/// `name` over TCP to 127.0.0.1:`port` as `user` (the option `user_flag` names it),
/// with `password` when given.
pub fn over_tcp(
    name: &'static str,
    port: u16,
    user_flag: &str,
    user: &str,
    password: Option<&str>,
) -> Db {
    let port = port.to_string();
    let mut args = vec!["-H", "127.0.0.1", "-P", &port, user_flag, user];
    args.extend(password.iter().flat_map(|p| ["-p", p]));
    Db::new(name, &args)
}

/// The connections mode said `used` of `max` connections are in use, in `state`
/// against the percent levels `warn` and `crit`: the summary, and the perfdata of the
/// count, the percentage and the time.
pub fn assert_connections(v: &Value, state: &str, used: u64, max: u64, warn: &str, crit: &str) {
    let pct = used * 100 / max;
    assert_says(
        v,
        state,
        &format!("{used} of {max} connections in use ({pct}%)"),
    );
    assert_perf(
        v,
        0,
        serde_json::json!({"label": "connections", "value": used, "uom": "", "warn": null, "crit": null, "min": 0, "max": max}),
    );
    assert_perf(
        v,
        1,
        serde_json::json!({"label": "connections_pct", "value": pct, "uom": "%", "warn": warn, "crit": crit, "min": 0, "max": 100}),
    );
    assert_eq!(
        perf_labels(v),
        ["connections", "connections_pct", "time"],
        "{v}"
    );
}

/// Bad levels, ports and hosts are one line naming the problem, exit 3, before any
/// connection: the cases every database check shares (port 0, a newline in -H, a
/// password file that cannot be read), then the check's `own`.
pub fn bad_arguments_are_one_line(name: &str, label: &str, own: &[(&[&str], &str)]) {
    let shared: [(&[&str], String); 3] = [
        (
            &["-H", "127.0.0.1", "-P", "0"],
            "invalid value '0' for '--port <PORT>': port 0 is out of range (1-65535)".into(),
        ),
        (
            &["-H", "db\nx"],
            "invalid value 'db\\nx' for '--hostname <HOST>': invalid host 'db\\nx': '\\n' is not allowed in a host name".into(),
        ),
        (
            &["-H", "127.0.0.1", "--password-file", "/nonexistent"],
            "--password-file /nonexistent: No such file or directory (os error 2)".into(),
        ),
    ];
    let all = shared
        .iter()
        .map(|(a, l)| (*a, l.as_str()))
        .chain(own.iter().copied());
    for (args, why) in all {
        let r = plugin(name, args);
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (3, format!("{label} UNKNOWN - {why}\n").as_str()),
            "{args:?}"
        );
    }
}

/// A query that sleeps past the check's budget is a timeout in the state `-t` names,
/// within 2.5 s: `query 'sleep': query timed out`.
pub fn slow_query_times_out(db: &Db, query: &str) {
    for (t, state) in [("2:UNKNOWN", "UNKNOWN"), ("2", "CRITICAL")] {
        let start = Instant::now();
        let v = db.json(&["-q", query, "--queryname", "sleep", "-t", t]);
        assert!(start.elapsed() < Duration::from_millis(2500), "{v}");
        assert_says(&v, state, "query 'sleep': query timed out");
    }
}
