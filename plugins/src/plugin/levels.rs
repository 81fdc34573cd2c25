//! The one threshold type of every `-w`/`-c`: a Nagios range with a unit.
//!
//! `parse_level` is the only way to build one from user input. It never panics, whatever
//! the text (multibyte, control characters, huge numbers), and it refuses what cannot be
//! meant: a percentage outside 0..=100, a doubled `%`, a unit the option does not take.

use super::range::Range;
use super::text::shown;
use super::units::unit_factor;

/// What a level's numbers count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A plain number (processes, messages, load).
    Count,
    /// Bytes; the text may carry `K`, `M`, `G`, `T`, `P` (binary, as `df`) or `B`.
    Bytes,
    /// Percent of a whole: `80%`.
    Percent,
    /// Seconds; the text may carry `ms`, `s`, `m`, `h`, `d`.
    Seconds,
    /// A rate per second; the text may carry `/s`, `/m`, `/h`.
    Rate,
}

impl Unit {
    fn name(self) -> &'static str {
        match self {
            Unit::Count => "a number",
            Unit::Bytes => "a size (512M, 2G)",
            Unit::Percent => "a percentage (80%)",
            Unit::Seconds => "a duration (2.5, 500ms, 2m)",
            Unit::Rate => "a rate (100, 100/s, 5/m)",
        }
    }
}

/// A parsed `-w`/`-c` value: the range, in the unit's base (bytes, seconds, per second,
/// percent), and the unit it was given in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    /// The range, in the unit's base.
    pub range: Range,
    /// What the numbers count.
    pub unit: Unit,
}

impl Level {
    /// The range over an absolute amount: a percentage level becomes its share of
    /// `whole`; any other level is returned as it is.
    pub fn absolute(&self, whole: f64) -> Range {
        match self.unit {
            Unit::Percent => self.range.scaled(whole / 100.0),
            _ => self.range,
        }
    }
}

/// Splits a trailing unit (letters, `%`, `/`) off the number part, at a character
/// boundary whatever the text.
fn split_unit(text: &str) -> (&str, &str) {
    let cut = text
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_ascii_alphabetic() || c == '%' || c == '/'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    text.split_at(cut)
}

fn seconds_factor(suffix: &str) -> Option<f64> {
    Some(match suffix {
        "" | "s" | "sec" => 1.0,
        "ms" => 0.001,
        "us" => 1e-6,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => return None,
    })
}

fn rate_factor(suffix: &str) -> Option<f64> {
    Some(match suffix {
        "" | "/s" => 1.0,
        "/m" | "/min" => 1.0 / 60.0,
        "/h" => 1.0 / 3600.0,
        _ => return None,
    })
}

/// Reads a level for an option that takes the units in `allowed`; a bare number is in
/// `allowed[0]`. The error is one line naming the option's value (escaped and cut) and
/// what it takes.
pub fn parse_level(text: &str, allowed: &[Unit]) -> Result<Level, String> {
    let default = *allowed.first().unwrap_or(&Unit::Count);
    let bad = |why: String| format!("invalid threshold '{}': {why}", shown(text));
    let t = text.trim();
    if let Some(c) = t.chars().find(|c| !c.is_ascii() || c.is_ascii_control()) {
        return Err(bad(format!(
            "'{}' is not allowed (use ASCII digits)",
            shown(&c.to_string())
        )));
    }
    let (num, suffix) = split_unit(t);
    let lower = suffix.to_ascii_lowercase();
    let (unit, factor) = if suffix.is_empty() {
        (default, 1.0)
    } else if suffix == "%" {
        (Unit::Percent, 1.0)
    } else if suffix.contains('%') {
        return Err(bad(format!(
            "'{suffix}' is not a unit (a percentage is 80%)"
        )));
    } else if let Some(f) = allowed
        .contains(&Unit::Bytes)
        .then(|| unit_factor(&lower))
        .flatten()
    {
        (Unit::Bytes, f)
    } else if let Some(f) = allowed
        .contains(&Unit::Seconds)
        .then(|| seconds_factor(&lower))
        .flatten()
    {
        (Unit::Seconds, f)
    } else if let Some(f) = allowed
        .contains(&Unit::Rate)
        .then(|| rate_factor(&lower))
        .flatten()
    {
        (Unit::Rate, f)
    } else {
        return Err(bad(format!("unknown unit '{suffix}'")));
    };
    if !allowed.contains(&unit) {
        let takes: Vec<&str> = allowed.iter().map(|u| u.name()).collect();
        return Err(bad(format!("this option takes {}", takes.join(" or "))));
    }
    let range: Range = num
        .parse()
        .map_err(|e: super::range::RangeError| e.to_string())?;
    if unit == Unit::Percent {
        let out = |v: Option<f64>| v.is_some_and(|v| !(0.0..=100.0).contains(&v));
        if out(range.start()) || out(range.end()) {
            return Err(bad("a percentage must be from 0 to 100".to_string()));
        }
    }
    Ok(Level {
        range: range.scaled(factor),
        unit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPACE: &[Unit] = &[Unit::Bytes, Unit::Percent];

    #[test]
    fn units_and_defaults() {
        let l = parse_level("80%", SPACE).unwrap();
        assert_eq!(l.unit, Unit::Percent);
        assert_eq!(l.range, "80".parse().unwrap());
        assert_eq!(l.absolute(200.0), "160".parse().unwrap());
        let l = parse_level("2G", SPACE).unwrap();
        assert_eq!(
            (l.unit, l.range),
            (Unit::Bytes, "2147483648".parse().unwrap())
        );
        let l = parse_level("@1:2K", SPACE).unwrap();
        assert_eq!(l.range, "@1024:2048".parse().unwrap());
        let l = parse_level("4096", SPACE).unwrap();
        assert_eq!((l.unit, l.range), (Unit::Bytes, "4096".parse().unwrap()));
        let l = parse_level("500ms", &[Unit::Seconds]).unwrap();
        assert_eq!(l.range, "0.5".parse().unwrap());
        let l = parse_level("2m", &[Unit::Seconds]).unwrap();
        assert_eq!(l.range, "120".parse().unwrap());
        let l = parse_level("60/m", &[Unit::Rate]).unwrap();
        assert_eq!(l.range, "1".parse().unwrap());
        let l = parse_level("10:", &[Unit::Count]).unwrap();
        assert_eq!(l.range, "10:".parse().unwrap());
    }

    #[test]
    fn refusals_are_one_line_errors() {
        for (text, allowed, part) in [
            ("200%", SPACE, "from 0 to 100"),
            ("-5%", SPACE, "start is greater"),
            ("-5:10%", SPACE, "from 0 to 100"),
            ("10%%", SPACE, "is not a unit"),
            ("é", SPACE, "not allowed"),
            ("１０", SPACE, "not allowed"),
            ("5é", SPACE, "not allowed"),
            ("10é%", SPACE, "not allowed"),
            ("a\nb", SPACE, "not allowed"),
            ("80%", &[Unit::Count][..], "takes a number"),
            ("5X", SPACE, "unknown unit"),
            ("5:2", SPACE, "start is greater"),
            ("", SPACE, "empty"),
            ("2G", &[Unit::Seconds][..], "unknown unit"),
        ] {
            let e = parse_level(text, allowed).unwrap_err();
            assert!(e.contains(part), "{text:?}: {e}");
            assert!(!e.contains('\n'), "{text:?}: {e}");
        }
    }
}
