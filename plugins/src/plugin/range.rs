//! The Nagios threshold range: `[@]start:end`, endpoints inclusive.
//!
//! | text     | alerts when          |
//! |----------|----------------------|
//! | `10`     | value < 0 or > 10    |
//! | `10:`    | value < 10           |
//! | `~:10`   | value > 10           |
//! | `10:20`  | value < 10 or > 20   |
//! | `@10:20` | 10 <= value <= 20    |
//!
//! A [`Range`] can only be built by parsing, which rejects `start > end`, so a check
//! never holds an invalid threshold.

use serde::{Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A parsed threshold range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    /// Lower end; `None` is minus infinity (`~`).
    start: Option<f64>,
    /// Upper end; `None` is plus infinity (nothing after the colon).
    end: Option<f64>,
    /// `@`: alert inside the range instead of outside.
    inside: bool,
}

/// Why a range text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid range '{}': {reason}", super::text::shown(text))]
pub struct RangeError {
    text: String,
    reason: &'static str,
}

impl Range {
    /// Alert when the value is above `max` (the `~:max` form).
    pub fn above(max: f64) -> Range {
        Range {
            start: None,
            end: Some(max),
            inside: false,
        }
    }

    /// Alert when the value is below `min` (the `min:` form).
    pub fn below(min: f64) -> Range {
        Range {
            start: Some(min),
            end: None,
            inside: false,
        }
    }

    /// True when `value` should raise an alert.
    pub fn alerts(&self, value: f64) -> bool {
        let within = self.start.is_none_or(|s| value >= s) && self.end.is_none_or(|e| value <= e);
        within == self.inside
    }

    /// Lower end (`None` = minus infinity).
    pub fn start(&self) -> Option<f64> {
        self.start
    }

    /// Upper end (`None` = plus infinity).
    pub fn end(&self) -> Option<f64> {
        self.end
    }

    /// True for the `@` form.
    pub fn is_inside(&self) -> bool {
        self.inside
    }

    /// The same range with both ends multiplied by `factor` (> 0): used to turn a
    /// threshold given in one unit into another (per-CPU load, MiB to bytes).
    pub fn scaled(&self, factor: f64) -> Range {
        Range {
            start: self.start.map(|s| s * factor),
            end: self.end.map(|e| e * factor),
            inside: self.inside,
        }
    }
}

fn parse_end(text: &str, whole: &str) -> Result<f64, RangeError> {
    let err = |reason| RangeError {
        text: whole.to_string(),
        reason,
    };
    let t = text.trim();
    if t.is_empty() {
        return Err(err("missing number"));
    }
    if !t
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
    {
        return Err(err("not a number"));
    }
    let v: f64 = t.parse().map_err(|_| err("not a number"))?;
    if !v.is_finite() {
        return Err(err("number out of range"));
    }
    Ok(if v == 0.0 { 0.0 } else { v })
}

impl FromStr for Range {
    type Err = RangeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = |reason| RangeError {
            text: text.to_string(),
            reason,
        };
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err(err("empty"));
        }
        let inside = rest.starts_with('@');
        if inside {
            rest = &rest[1..];
        }
        let (start, end) = match rest.split_once(':') {
            None => (Some(0.0), Some(parse_end(rest, text)?)),
            Some((s, e)) => {
                if e.contains(':') {
                    return Err(err("more than one ':'"));
                }
                let start = match s.trim() {
                    "~" => None,
                    // monitoring-plugins reads an empty start as 0
                    "" => Some(0.0),
                    s => Some(parse_end(s, text)?),
                };
                let end = match e.trim() {
                    "" => None,
                    e => Some(parse_end(e, text)?),
                };
                (start, end)
            }
        };
        if let (Some(s), Some(e)) = (start, end) {
            if s > e {
                return Err(err("start is greater than end"));
            }
        }
        Ok(Range { start, end, inside })
    }
}

/// Formats a number the shortest exact way: `10`, `0.5`, `-3.25`.
pub fn format_number(v: f64) -> String {
    if v == 0.0 {
        "0".to_string()
    } else {
        format!("{v}")
    }
}

impl fmt::Display for Range {
    /// The canonical text, as written into perfdata: `10`, `10:`, `~:10`, `@10:20`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.inside {
            f.write_str("@")?;
        }
        match (self.start, self.end) {
            (Some(s), Some(e)) if s == 0.0 && !self.inside => f.write_str(&format_number(e)),
            (Some(s), Some(e)) => write!(f, "{}:{}", format_number(s), format_number(e)),
            (Some(s), None) => write!(f, "{}:", format_number(s)),
            (None, Some(e)) => write!(f, "~:{}", format_number(e)),
            (None, None) => f.write_str("~:"),
        }
    }
}

impl Serialize for Range {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn r(s: &str) -> Range {
        s.parse().unwrap()
    }

    /// Every row of the guideline table, at and around each endpoint.
    #[test]
    fn guideline_table() {
        // (range, value, alerts)
        let rows: &[(&str, f64, bool)] = &[
            ("10", -0.1, true),
            ("10", 0.0, false),
            ("10", 5.0, false),
            ("10", 10.0, false),
            ("10", 10.1, true),
            ("10:", 9.9, true),
            ("10:", 10.0, false),
            ("10:", 1e12, false),
            ("~:10", -1e12, false),
            ("~:10", 10.0, false),
            ("~:10", 10.01, true),
            ("10:20", 9.99, true),
            ("10:20", 10.0, false),
            ("10:20", 20.0, false),
            ("10:20", 20.5, true),
            ("@10:20", 9.99, false),
            ("@10:20", 10.0, true),
            ("@10:20", 15.0, true),
            ("@10:20", 20.0, true),
            ("@10:20", 20.01, false),
            ("-10:-5", -11.0, true),
            ("-10:-5", -10.0, false),
            ("-10:-5", -5.0, false),
            ("-10:-5", -4.9, true),
            ("0.5:1.5", 0.49, true),
            ("0.5:1.5", 0.5, false),
            ("0.5:1.5", 1.51, true),
            ("@~:0", -3.0, true),
            ("@~:0", 0.0, true),
            ("@~:0", 0.001, false),
            ("@5", 0.0, true),
            ("@5", 5.0, true),
            ("@5", 5.5, false),
            ("~:", 1e300, false),
            ("1e3", 1000.0, false),
            ("1e3", 1000.5, true),
        ];
        for &(text, value, want) in rows {
            assert_eq!(r(text).alerts(value), want, "range {text} value {value}");
        }
    }

    #[test]
    fn rejects_bad_ranges() {
        for bad in [
            "", "@", "abc", "10:5", "@20:10", "1:2:3", "x:5", "5:y", "~", "nan", "inf", "1,2",
            "10%", "-:5",
        ] {
            let e = bad.parse::<Range>();
            assert!(e.is_err(), "{bad:?} accepted as {e:?}");
        }
        let msg = "10:5".parse::<Range>().unwrap_err().to_string();
        assert_eq!(msg, "invalid range '10:5': start is greater than end");
    }

    #[test]
    fn canonical_text() {
        for (text, canon) in [
            ("10", "10"),
            ("0:10", "10"),
            ("10:", "10:"),
            ("~:10", "~:10"),
            ("10:20", "10:20"),
            ("@10:20", "@10:20"),
            ("@0:10", "@0:10"),
            ("-2.5:3", "-2.5:3"),
            (":7", "7"),
            ("~:", "~:"),
        ] {
            assert_eq!(r(text).to_string(), canon, "{text}");
        }
    }

    #[test]
    fn scaling() {
        assert_eq!(r("2:4").scaled(2.0), r("4:8"));
        assert_eq!(r("@~:3").scaled(10.0), r("@~:30"));
    }

    fn finite() -> impl Strategy<Value = f64> {
        prop_oneof![
            (-1_000_000i64..1_000_000).prop_map(|i| i as f64),
            (-1e9f64..1e9f64),
        ]
    }

    fn range() -> impl Strategy<Value = Range> {
        (
            proptest::option::of(finite()),
            proptest::option::of(finite()),
            any::<bool>(),
        )
            .prop_map(|(a, b, inside)| {
                let (start, end) = match (a, b) {
                    (Some(a), Some(b)) if a > b => (Some(b), Some(a)),
                    other => other,
                };
                Range { start, end, inside }
            })
    }

    proptest! {
        #[test]
        fn display_parses_back(rg in range()) {
            let text = rg.to_string();
            let back: Range = text.parse().unwrap();
            prop_assert_eq!(back.to_string(), text);
            // same decisions everywhere that matters
            for v in [rg.start.unwrap_or(-1e15), rg.end.unwrap_or(1e15), 0.0, -1.0, 1.0] {
                prop_assert_eq!(back.alerts(v), rg.alerts(v));
            }
        }

        #[test]
        fn inside_is_the_negation_of_outside(a in finite(), b in finite(), v in finite()) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            let out: Range = format!("{}:{}", format_number(lo), format_number(hi)).parse().unwrap();
            let ins: Range = format!("@{}:{}", format_number(lo), format_number(hi)).parse().unwrap();
            prop_assert_ne!(out.alerts(v), ins.alerts(v));
            prop_assert_eq!(out.alerts(v), v < lo || v > hi);
        }

        #[test]
        fn never_panics(s in "\\PC{0,12}") {
            let _ = s.parse::<Range>();
        }
    }
}
