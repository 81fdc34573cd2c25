//! `hcoop-monitor import nagios-log` into the store of a running daemon: a nagios.log
//! that Nagios 4.4.6 wrote (with one malformed line added) is imported, reported with
//! its counts and the malformed line's FILE:LINE, and imported again without adding
//! anything; what it held is then read back through the API and `hcoop-monitor
//! history` (state changes with their durations, the acknowledgement between them).
//! A missing file and an unknown object are refused with one line and exit 3.

use hcoop_tests::daemon::{command_service, host, Daemon};
use serde_json::Value;

/// The log Nagios 4.4.6 wrote (the parser's fixture): host `web`, service `http`.
fn nagios_log() -> String {
    let path = hcoop_tests::dist::workspace_root().join("scheduler/src/history/nagios-4.4.6.log");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The number in `text` just before `word` (`12 new` → 12).
fn count_before(text: &str, word: &str) -> u64 {
    let at = text
        .find(&format!(" {word}"))
        .unwrap_or_else(|| panic!("no '{word}' in {text}"));
    text[..at]
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count before '{word}' in {text}"))
}

#[test]
fn a_nagios_log_is_imported_once_and_read_back() {
    // web/http is checked once an hour: its first result is the daemon's only event
    let config = format!(
        "[defaults]\ncheck_interval = \"1h\"\n{}{}",
        host("web", None),
        command_service("web", "http", "/bin/echo HTTP OK", "")
    );
    let d = Daemon::start(&config);
    let log = d.dir.path().join("nagios.log");
    let text = nagios_log();
    let lines = text.lines().count() as u64;
    std::fs::write(&log, format!("{text}this is not a log line\n")).unwrap();
    let log_arg = log.to_str().unwrap();

    let first = d.cli(&["import", "nagios-log", log_arg]);
    assert_eq!(first.code, 0, "{first:?}");
    let said = first.stdout.trim();
    assert!(
        said.starts_with(&format!("imported {} lines of 1 file into ", lines + 1)),
        "{said}"
    );
    let events = count_before(said, "events");
    assert_eq!(count_before(said, "new;"), events, "{said}");
    assert!(events >= 100, "{said}");
    assert_eq!(count_before(said, "malformed"), 1, "{said}");
    // every line Nagios wrote is an event or skipped
    let skipped = count_before(said, "lines of other kinds");
    assert!(skipped > 0 && skipped < lines, "{said}");
    assert_eq!(
        first.stderr.trim(),
        format!(
            "hcoop-monitor: {}:{}: not a log line: no [TIME] at its start",
            log.display(),
            lines + 1
        )
    );

    // again: the same events, none new
    let second = d.cli(&["import", "nagios-log", log_arg]);
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(count_before(&second.stdout, "events"), events, "{second:?}");
    assert_eq!(count_before(&second.stdout, "new;"), 0, "{second:?}");

    // the store holds each once: the events of the log's span, Nagios' starts included
    let (start, end) = (1_796_573_896u64, 1_796_573_969u64);
    let stored = d.get(&format!("/api/events?since={start}&until={end}&limit=5000"));
    let stored = stored.as_array().expect("an array of events");
    assert_eq!(stored.len() as u64, events, "{stored:#?}");
    let kinds = |k: &str| stored.iter().filter(|e| e["kind"] == k).count();
    assert_eq!((kinds("start"), kinds("stop"), kinds("reload")), (2, 2, 1));

    // the acknowledgement, once, with its author, comment and stickiness
    let acks = d.get(&format!(
        "/api/events?host=web&service=http&kind=ack&since={start}&until={end}"
    ));
    let acks = acks.as_array().unwrap();
    assert_eq!(acks.len(), 1, "{acks:#?}");
    assert_eq!(
        (&acks[0]["author"], &acks[0]["comment"], &acks[0]["sticky"]),
        (
            &Value::from("alice"),
            &Value::from("on it; looking"),
            &Value::from(true)
        )
    );

    // the state changes with how long each lasted
    let history = d.get(&format!("/api/history?host=web&service=http&since={start}"));
    let changes: Vec<(u64, String, bool, u64)> = history["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("{history:#}"))
        .iter()
        .filter(|c| c["at"].as_u64() < Some(1_796_573_905))
        .map(|c| {
            (
                c["at"].as_u64().unwrap(),
                c["state"].as_str().unwrap().to_string(),
                c["hard"] == true,
                c["duration"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            (1_796_573_896, "OK".to_string(), true, 3),
            (1_796_573_899, "CRITICAL".to_string(), false, 1),
            (1_796_573_900, "CRITICAL".to_string(), true, 2),
            (1_796_573_902, "WARNING".to_string(), true, 1),
            (1_796_573_903, "OK".to_string(), true, 13),
        ],
        "{history:#}"
    );

    // the CLI: the same changes with their durations, the acknowledgement between them
    let r = d.cli(&["history", "web/http", "--since", &start.to_string()]);
    assert_eq!(r.code, 0, "{r:?}");
    let row = |what: &str| {
        r.stdout
            .lines()
            .find(|l| l.contains(what))
            .unwrap_or_else(|| panic!("no line with {what}:\n{}", r.stdout))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        row("2026-12-06T16:18:20Z  state"),
        "2026-12-06T16:18:20Z state CRITICAL HARD 2 2s HTTP CRITICAL - refused: really"
    );
    assert_eq!(
        row("2026-12-06T16:18:23Z  state"),
        "2026-12-06T16:18:23Z state OK HARD 2 13s HTTP OK - 200"
    );
    assert_eq!(
        row("  ack  "),
        "2026-12-06T16:18:21Z ack by alice: on it; looking [sticky]"
    );
    assert!(r.stdout.contains("notification"), "{}", r.stdout);

    // refusals: one line, exit 3
    let missing = d.dir.path().join("nagios-12-05-2026-00.log");
    let r = d.cli(&["import", "nagios-log", missing.to_str().unwrap()]);
    assert_eq!(r.code, 3, "{r:?}");
    assert_eq!(r.stderr.lines().count(), 1, "{r:?}");
    assert!(
        r.stderr.contains("nagios-12-05-2026-00.log: cannot read"),
        "{r:?}"
    );
    let r = d.cli(&["history", "web/nope"]);
    assert_eq!(
        (r.code, r.stderr.trim()),
        (3, "hcoop-monitor: no service web/nope"),
        "{r:?}"
    );
}
