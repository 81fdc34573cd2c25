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

/// One sub-check of monitoring-plugins 3.0's result model, as our result maps onto it.
struct MpSubcheck<'a> {
    state: super::state::State,
    output: String,
    perfdata: &'a [PerfData],
}

/// Our result in monitoring-plugins 3.0's model: the state, the summary (its first line,
/// then the plain long-output lines), and the sub-checks: one per sub-result, in order,
/// after a first one that holds the check's own state and summary when there is no
/// sub-result or the check's own state is worse than all of them (a 3.0 check always has
/// a sub-check, and its state is the worst of them). The perfdata goes on the first
/// sub-check.
fn mp_model(result: &CheckResult) -> (super::state::State, String, Vec<MpSubcheck<'_>>) {
    use super::state::State;
    let one_line = |t: &str| t.replace(['\n', '\r'], " ");
    let state = result.state();
    let mut summary = one_line(&result.summary);
    match &result.relayed {
        // a remote plugin's long output, without its perfdata
        Some(text) => {
            for line in text.lines().skip(1) {
                let (line, perf) = line.split_once('|').unwrap_or((line, ""));
                if !line.trim().is_empty() {
                    summary.push('\n');
                    summary.push_str(line.trim_end());
                }
                if !perf.is_empty() {
                    break;
                }
            }
        }
        None => {
            for d in result.details.iter().filter(|d| d.state.is_none()) {
                summary.push('\n');
                summary.push_str(&one_line(&d.text));
            }
        }
    }
    let subs: Vec<(State, &str)> = result
        .details
        .iter()
        .filter_map(|d| d.state.map(|s| (s, d.text.as_str())))
        .collect();
    let worst_sub = State::worst_of(subs.iter().map(|s| s.0));
    let mut checks = Vec::with_capacity(subs.len() + 1);
    if subs.is_empty() || state != worst_sub {
        checks.push(MpSubcheck {
            state,
            output: one_line(&result.summary),
            perfdata: &[],
        });
    }
    checks.extend(subs.into_iter().map(|(state, text)| MpSubcheck {
        state,
        output: one_line(text),
        perfdata: &[],
    }));
    checks[0].perfdata = &result.perfdata;
    (state, summary, checks)
}

/// A number as 3.0 prints a perfdata value: integers as they are, others with `%f`.
fn mp_number(v: super::perfdata::Value) -> (&'static str, String) {
    use super::perfdata::Value;
    match v {
        Value::Int(i) => ("int", i.to_string()),
        // 3.0 has no undetermined value: a double that is not a number
        Value::Undetermined => ("double", "nan".to_string()),
        Value::Float(f) if f.is_nan() => ("double", "nan".to_string()),
        Value::Float(f) if f.is_infinite() => {
            ("double", if f > 0.0 { "inf" } else { "-inf" }.to_string())
        }
        Value::Float(f) => ("double", format!("{f:.6}")),
    }
}

/// A range end as 3.0 reads it from the threshold text: an integer when it is one.
fn mp_range_number(v: f64) -> super::perfdata::Value {
    use super::perfdata::Value;
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        Value::Int(v as i64)
    } else {
        Value::Float(v)
    }
}

/// A range as 3.0 prints it in perfdata: `@` when inside, `~:` for an open start, the
/// start with `:` unless it is 0, then the end unless it is open.
fn mp_range(r: &super::range::Range) -> String {
    let mut out = String::new();
    if r.is_inside() {
        out.push('@');
    }
    match r.start() {
        None => out.push_str("~:"),
        Some(0.0) => {}
        Some(s) => {
            out.push_str(&mp_number(mp_range_number(s)).1);
            out.push(':');
        }
    }
    if let Some(e) = r.end() {
        out.push_str(&mp_number(mp_range_number(e)).1);
    }
    out
}

/// One perfdata item as 3.0 prints it: `'label'=valueUOM;warn;crit;min[;max]`, the label
/// always quoted (a `'` in it becomes `_`).
fn mp_perf_item(p: &PerfData) -> String {
    let label = if p.label.contains(|c: char| c.is_control() || c == '|') {
        super::text::shown(&p.label)
    } else {
        p.label.clone()
    };
    let mut out = format!(
        "'{}'={}{}",
        label.replace('\'', "_"),
        mp_number(p.value).1,
        p.uom.as_str()
    );
    for range in [&p.warn, &p.crit] {
        out.push(';');
        if let Some(r) = range {
            out.push_str(&mp_range(r));
        }
    }
    out.push(';');
    if let Some(min) = p.min {
        out.push_str(&mp_number(min).1);
    }
    if let Some(max) = p.max {
        out.push(';');
        out.push_str(&mp_number(max).1);
    }
    out
}

/// The result as monitoring-plugins 3.0 prints it with `--output-format multi-line`:
/// `[STATE] - summary`, the summary's long output, one `\_[STATE] - text` line per
/// sub-check indented by a tab, `|` replaced by a space in all text, then `|` and the
/// perfdata straight after the last line.
pub fn render_multi_line(result: &CheckResult) -> String {
    let (state, summary, checks) = mp_model(result);
    let mut out = format!("[{state}] - {summary}");
    for sc in &checks {
        out.push_str(&format!("\n\t\\_[{}] - {}", sc.state, sc.output));
    }
    let mut out = out.replace('|', " ");
    // 3.0 joins the sub-checks' perfdata with a space each, empty ones too
    let perf = checks
        .iter()
        .map(|sc| {
            sc.perfdata
                .iter()
                .map(mp_perf_item)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join(" ");
    if !perf.is_empty() {
        out.push('|');
        out.push_str(&perf);
    }
    out.push('\n');
    out
}

#[derive(Serialize)]
struct MpJsonValue {
    #[serde(rename = "type")]
    kind: &'static str,
    value: String,
}

impl MpJsonValue {
    fn of(v: super::perfdata::Value) -> Self {
        let (kind, value) = mp_number(v);
        MpJsonValue { kind, value }
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum MpJsonEnd {
    Infinite(&'static str),
    Value(MpJsonValue),
}

#[derive(Serialize)]
struct MpJsonRange {
    alert_on_inside: bool,
    end: MpJsonEnd,
    start: MpJsonEnd,
}

impl MpJsonRange {
    fn of(r: &super::range::Range) -> Self {
        let end = |v: Option<f64>| match v {
            Some(v) => MpJsonEnd::Value(MpJsonValue::of(mp_range_number(v))),
            None => MpJsonEnd::Infinite("inf"),
        };
        MpJsonRange {
            alert_on_inside: r.is_inside(),
            end: end(r.end()),
            start: end(r.start()),
        }
    }
}

#[derive(Serialize)]
struct MpJsonPerf<'a> {
    label: &'a str,
    value: MpJsonValue,
    #[serde(skip_serializing_if = "str::is_empty")]
    uom: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    warn: Option<MpJsonRange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    crit: Option<MpJsonRange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min: Option<MpJsonValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max: Option<MpJsonValue>,
}

#[derive(Serialize)]
struct MpJsonSubcheck<'a> {
    output: &'a str,
    state: super::state::State,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    perfdata: Vec<MpJsonPerf<'a>>,
}

#[derive(Serialize)]
struct MpJsonCheck<'a> {
    state: super::state::State,
    summary: &'a str,
    checks: Vec<MpJsonSubcheck<'a>>,
}

/// The result as monitoring-plugins 3.0 prints it with `--output-format mp-test-json`:
/// one JSON object on one line, `{"state","summary","checks":[{"output","state",
/// "perfdata":[{"label","value":{"type","value"},"uom","warn","crit","min","max"}]}]}`
/// (numbers as strings with their type, absent fields left out).
pub fn render_mp_test_json(result: &CheckResult) -> String {
    let (state, summary, checks) = mp_model(result);
    let j = MpJsonCheck {
        state,
        summary: &summary,
        checks: checks
            .iter()
            .map(|sc| MpJsonSubcheck {
                output: &sc.output,
                state: sc.state,
                perfdata: sc
                    .perfdata
                    .iter()
                    .map(|p| MpJsonPerf {
                        label: &p.label,
                        value: MpJsonValue::of(p.value),
                        uom: p.uom.as_str(),
                        warn: p.warn.as_ref().map(MpJsonRange::of),
                        crit: p.crit.as_ref().map(MpJsonRange::of),
                        min: p.min.map(MpJsonValue::of),
                        max: p.max.map(MpJsonValue::of),
                    })
                    .collect(),
            })
            .collect(),
    };
    let mut s = serde_json::to_string(&j)
        .unwrap_or_else(|e| format!(r#"{{"state":"UNKNOWN","summary":"json: {e}","checks":[]}}"#));
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::{perfdata::Uom, state::State, thresholds::Thresholds};

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

    // The cases of monitoring-plugins 3.0's own output tests, as our results map onto its
    // model, and what that model makes of our sub-results, long output and perfdata.

    #[test]
    fn multi_line_one_check_is_its_own_subcheck() {
        let r = CheckResult::new(State::Warning, "foobar");
        assert_eq!(
            render_multi_line(&r),
            "[WARNING] - foobar\n\t\\_[WARNING] - foobar\n"
        );
        assert_eq!(
            render_mp_test_json(&r),
            r#"{"state":"WARNING","summary":"foobar","checks":[{"output":"foobar","state":"WARNING"}]}"#
                .to_string()
                + "\n"
        );
    }

    #[test]
    fn multi_line_subchecks_and_perfdata() {
        let mut r = CheckResult::new(State::Ok, "fine")
            .with_perf(PerfData::new("foo", 23).uom(Uom::Seconds));
        r.push_sub(State::Warning, "foobar");
        r.push_sub(State::Ok, "baz");
        // the perfdata is the first subcheck's; 3.0 adds a space for each further one
        assert_eq!(
            render_multi_line(&r),
            "[WARNING] - fine\n\t\\_[WARNING] - foobar\n\t\\_[OK] - baz|'foo'=23s;;; \n"
        );
    }

    #[test]
    fn multi_line_own_state_worse_than_the_subresults_and_long_output() {
        let mut r = CheckResult::new(State::Critical, "cannot read /a|b").with_perf(
            PerfData::new("load1", 0.5)
                .thresholds(&Thresholds::new(
                    Some("@5:10".parse().unwrap()),
                    Some("2.5:".parse().unwrap()),
                ))
                .min(0),
        );
        r.push_sub(State::Ok, "/b fine");
        r.push_line("checked 2 files");
        r.push_line("in 1 ms");
        assert_eq!(
            render_multi_line(&r),
            "[CRITICAL] - cannot read /a b\nchecked 2 files\nin 1 ms\n\
             \t\\_[CRITICAL] - cannot read /a b\n\t\\_[OK] - /b fine\
             |'load1'=0.500000;@5:10;2.500000:;0 \n"
        );
    }

    #[test]
    fn multi_line_perfdata_as_3_0_prints_it() {
        let t =
            |w: &str, c: &str| Thresholds::new(Some(w.parse().unwrap()), Some(c.parse().unwrap()));
        let r = CheckResult::new(State::Ok, "x")
            .with_perf(PerfData::new("foo", 23))
            .with_perf(PerfData::new("bar", 1))
            .with_perf(PerfData::new("floatMe", 1024.1024))
            .with_perf(
                PerfData::new("it's", 2)
                    .uom(Uom::Percent)
                    .thresholds(&t("10", "~:20"))
                    .min(0)
                    .max(100),
            )
            .with_perf(PerfData::new("open", 5).thresholds(&t("0:", "@~:3")));
        assert_eq!(
            render_multi_line(&r),
            "[OK] - x\n\t\\_[OK] - x|'foo'=23;;; 'bar'=1;;; 'floatMe'=1024.102400;;; \
             'it_s'=2%;10;~:20;0;100 'open'=5;;@~:3;\n"
        );
    }

    #[test]
    fn mp_test_json_as_3_0_prints_it() {
        let mut r = CheckResult::new(State::Ok, "2 disks \"fine\"").with_perf(
            PerfData::new("/", 1.5)
                .uom(Uom::Bytes)
                .thresholds(&Thresholds::new(
                    Some("10".parse().unwrap()),
                    Some("@~:2.5".parse().unwrap()),
                ))
                .min(0)
                .max(100),
        );
        r.push_sub(State::Critical, "/var full");
        r.push_line("line two");
        r.perfdata.push(PerfData::new("n", 3));
        assert_eq!(
            render_mp_test_json(&r),
            concat!(
                r#"{"state":"CRITICAL","summary":"2 disks \"fine\"\nline two","checks":["#,
                r#"{"output":"/var full","state":"CRITICAL","perfdata":["#,
                r#"{"label":"/","value":{"type":"double","value":"1.500000"},"uom":"B","#,
                r#""warn":{"alert_on_inside":false,"end":{"type":"int","value":"10"},"#,
                r#""start":{"type":"int","value":"0"}},"#,
                r#""crit":{"alert_on_inside":true,"end":{"type":"double","value":"2.500000"},"#,
                r#""start":"inf"},"#,
                r#""min":{"type":"int","value":"0"},"max":{"type":"int","value":"100"}},"#,
                r#"{"label":"n","value":{"type":"int","value":"3"}}]}]}"#,
                "\n"
            )
        );
    }

    #[test]
    fn relayed_text_keeps_its_long_output_without_perfdata() {
        let r = CheckResult::relayed(
            State::Warning,
            "DISK WARNING - low | a=1\nline two\nthree | b=2\nc=3",
        );
        assert_eq!(
            render_multi_line(&r),
            "[WARNING] - DISK WARNING - low\nline two\nthree\n\t\\_[WARNING] - DISK WARNING - low\n"
        );
    }
}
