//! Renders a [`CheckResult`] as Nagios plugin text or as one JSON object.

use super::perfdata::PerfData;
use super::result::CheckResult;
use serde::Serialize;

/// The first line keeps perfdata only while it stays within this many bytes, so it
/// survives NRPE v2 (1023 bytes) and Nagios's first-line handling; the rest of the
/// perfdata follows the long output after a `|`.
pub const FIRST_LINE_BUDGET: usize = 1000;

/// Nagios text output treats `|` as the perfdata separator and newlines as line ends:
/// neither may appear inside a summary or a detail line.
fn clean(text: &str) -> String {
    text.replace('|', "¦").replace(['\n', '\r'], " ")
}

/// The Nagios plugin text: `LABEL STATE - summary | perfdata`, then one line per detail
/// (sub-results as `[STATE] text`), then any perfdata that did not fit on line one.
/// A relayed result ([`CheckResult::relayed`]) prints its text unchanged.
pub fn render_text(label: &str, result: &CheckResult) -> String {
    if let Some(text) = &result.relayed {
        let mut out = text.clone();
        if !out.ends_with('\n') {
            out.push('\n');
        }
        return out;
    }
    let mut first = format!("{} {} - {}", label, result.state(), clean(&result.summary));
    let mut items = result.perfdata.iter().map(PerfData::to_string).peekable();
    if items.peek().is_some() {
        first.push_str(" |");
        while let Some(item) = items.next_if(|i| first.len() + 1 + i.len() <= FIRST_LINE_BUDGET) {
            first.push(' ');
            first.push_str(&item);
        }
        if first.ends_with(" |") {
            first.truncate(first.len() - 2);
        }
    }
    let mut out = first;
    for d in &result.details {
        out.push('\n');
        match d.state {
            Some(s) => out.push_str(&format!("[{}] {}", s, clean(&d.text))),
            None => out.push_str(&clean(&d.text)),
        }
    }
    let rest: Vec<String> = items.collect();
    if !rest.is_empty() {
        out.push_str(if result.details.is_empty() {
            "\n| "
        } else {
            " | "
        });
        out.push_str(&rest.join("\n"));
    }
    out.push('\n');
    out
}

#[derive(Serialize)]
struct JsonResult<'a> {
    label: &'a str,
    state: super::state::State,
    exit_code: i32,
    summary: &'a str,
    details: &'a [super::result::Detail],
    perfdata: &'a [PerfData],
    text: String,
}

/// The same result as one JSON object on one line (`--output-format json`).
pub fn render_json(label: &str, result: &CheckResult) -> String {
    let state = result.state();
    let j = JsonResult {
        label,
        state,
        exit_code: state.exit_code(),
        summary: &result.summary,
        details: &result.details,
        perfdata: &result.perfdata,
        text: render_text(label, result),
    };
    let mut s = serde_json::to_string(&j).unwrap_or_else(|e| {
        format!(r#"{{"label":"{label}","state":"UNKNOWN","exit_code":3,"summary":"json: {e}"}}"#)
    });
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::{perfdata::Uom, state::State};

    #[test]
    fn one_line_with_perfdata() {
        let r = CheckResult::new(State::Ok, "load average: 0.5, 0.4, 0.3")
            .with_perf(PerfData::new("load1", 0.5).min(0))
            .with_perf(PerfData::new("load5", 0.4).min(0));
        assert_eq!(
            render_text("LOAD", &r),
            "LOAD OK - load average: 0.5, 0.4, 0.3 | load1=0.5;;;0 load5=0.4;;;0\n"
        );
    }

    #[test]
    fn relayed_text_is_unchanged() {
        let r = CheckResult::relayed(State::Critical, "remote | x=1\nline two");
        assert_eq!(render_text("NRPE", &r), "remote | x=1\nline two\n");
    }

    #[test]
    fn no_perfdata_no_bar() {
        let r = CheckResult::new(State::Critical, "a|b\nc");
        assert_eq!(render_text("X", &r), "X CRITICAL - a¦b c\n");
    }

    #[test]
    fn long_output_and_worst_state() {
        let mut r = CheckResult::new(State::Ok, "2 of 3 disks fine")
            .with_perf(PerfData::new("/", 1).uom(Uom::Bytes));
        r.push_sub(State::Ok, "/ 50% free");
        r.push_sub(State::Warning, "/var 9% free");
        r.push_line("checked in 1 ms");
        assert_eq!(
            render_text("DISK", &r),
            "DISK WARNING - 2 of 3 disks fine | /=1B\n[OK] / 50% free\n[WARNING] /var 9% free\nchecked in 1 ms\n"
        );
    }

    #[test]
    fn overflowing_perfdata_follows_long_output() {
        let mut r = CheckResult::new(State::Ok, "many");
        for i in 0..200 {
            r.push_perf(PerfData::new(format!("vhost{i:03}.example.org"), i));
        }
        r.push_line("detail");
        let text = render_text("HTTP", &r);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].len() <= FIRST_LINE_BUDGET, "{}", lines[0].len());
        assert!(lines[0].starts_with("HTTP OK - many | vhost000.example.org=0 "));
        assert!(lines[1].starts_with("detail | vhost"));
        // every item appears exactly once
        let all: Vec<_> = text
            .lines()
            .flat_map(|l| {
                l.rsplit_once('|')
                    .map(|(_, p)| p)
                    .unwrap_or(l)
                    .split_whitespace()
            })
            .filter(|t| t.starts_with("vhost"))
            .collect();
        assert_eq!(all.len(), 200);
        // without long output the rest goes on a line of its own
        let mut r2 = r.clone();
        r2.details.clear();
        assert!(render_text("HTTP", &r2)
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("| vhost"));
    }

    #[test]
    fn json_has_the_same_facts() {
        let mut r = CheckResult::new(State::Ok, "fine")
            .with_perf(PerfData::new("t", 0.25).uom(Uom::Seconds));
        r.push_sub(State::Critical, "slave down");
        let v: serde_json::Value = serde_json::from_str(&render_json("DNS", &r)).unwrap();
        assert_eq!(v["state"], "CRITICAL");
        assert_eq!(v["exit_code"], 2);
        assert_eq!(v["summary"], "fine");
        assert_eq!(v["details"][0]["state"], "CRITICAL");
        assert_eq!(v["perfdata"][0]["label"], "t");
        assert_eq!(v["perfdata"][0]["value"], 0.25);
        assert_eq!(v["perfdata"][0]["uom"], "s");
        assert_eq!(
            v["text"],
            "DNS CRITICAL - fine | t=0.25s\n[CRITICAL] slave down\n"
        );
    }
}
