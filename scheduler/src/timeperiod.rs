//! Time periods with Nagios' syntax and meaning: when checks may run and
//! notifications may go out (`check_period`, `notification_period`).
//!
//! A [`TimePeriod`] is data parsed from the lines of a Nagios `define timeperiod`
//! (or given one rule at a time): weekday lines (`monday 09:00-17:00,18:00-20:00`),
//! exceptions — calendar dates (`2026-12-25 00:00-24:00`,
//! `2026-12-01 - 2027-01-05 / 3 10:00-12:00`), days of every month (`day 1`,
//! `day -1`, `day 1 - 15`), dates of a month (`february 10`, `april 10 - may 15`),
//! weekdays of every month (`monday 3`, `monday 2 - thursday 3`) or of a given month
//! (`thursday -1 november`, `tuesday 1 april - friday 2 may`), each with an optional
//! skip (`/ N`: every Nth day from the start) — and the names of the periods it
//! excludes. [`TimePeriods`] is a checked set of them (every excluded name defined,
//! no exclusion cycle) that answers [`TimePeriods::contains`] and
//! [`TimePeriods::next_valid`].
//!
//! # Meaning (as Nagios 4)
//! - A day's time ranges come from the first exception that covers the day, taken in
//!   Nagios' order of kinds (calendar dates, month dates, days of month, weekdays of a
//!   given month, weekdays of every month) and in the order written within a kind;
//!   otherwise from the weekday's line; a weekday without a line has no time. An
//!   exception thus overrides the weekday for its whole day, even with an empty range
//!   (`2026-12-25 00:00-00:00` makes Christmas a day without time).
//! - `-1` is the last day (or weekday) of the month, `-2` the one before, and so on. A
//!   start that a month does not have (`day 31` in April, `monday 5` in a month with
//!   four Mondays) means the exception does not apply that month; an end past the end
//!   of the month stops at its last day, as in Nagios.
//! - A skip counts days from the start of the range: `day 1 - 15 / 5` is the 1st, 6th
//!   and 11th; a calendar date with a skip and no end date (`2026-04-01 / 7`) goes on
//!   forever.
//! - A time is in a period when it is in the day's ranges and in none of the excluded
//!   periods (which apply their own exclusions in turn).
//!
//! # Where this differs from Nagios, on purpose
//! - A range is half-open: `09:00-17:00` holds 09:00:00 up to 16:59:59; Nagios also
//!   counts the second 17:00:00 in. `24:00` is the end of the day.
//! - A range of month dates over the end of the year (`november 15 - february 15`)
//!   holds all its days; Nagios only looks at the occurrence starting in the tested
//!   date's own year, so it misses the January half. A skip on a range over the end of
//!   a month or year (`day 25 - day 5 / 2`) counts on from the range's start; Nagios
//!   counts from the start in the tested month.
//! - Input Nagios takes but reads in surprising ways is refused with an error naming
//!   the line: a range ending before it starts (`22:00-06:00`, which never matches in
//!   Nagios: write `22:00-24:00` and the next day's `00:00-06:00`), impossible dates
//!   (`2026-02-30`, which Nagios rolls over to March 2; `april 31`), a day of month or
//!   week number of 0 or beyond 31 or 5 either way, a calendar range ending before it
//!   starts, a skip of 0, a second line for the same weekday (Nagios keeps the last).
//!   Names of days and months may be in capitals (Nagios wants lower case).
//! - [`TimePeriods::next_valid`] answers `None` when nothing is valid within a year;
//!   Nagios then answers the preferred time itself.
//!
//! # Local time
//! Days and hours are those of a [`Zone`]: a fixed offset from UTC, or the system's
//! local time (`localtime_r`, so the `TZ` environment and /etc/localtime), where each
//! instant is taken with the offset in effect at that instant — a range that a
//! daylight-saving change skips over is not there that day, and the repeated hour in
//! autumn counts twice. Times are Unix seconds.

use hcoop_plugins::host::clock::{civil_from_unix, days_from_civil};
use std::collections::HashMap;
use std::fmt;

/// Unix seconds (the daemon's time).
pub use crate::state::Time;

const DAY: i64 = 86_400;

/// How far [`TimePeriods::next_valid`] looks ahead, in days (Nagios stops after about
/// 300 steps of at least a day).
pub const HORIZON_DAYS: i64 = 366;

/// The weekdays as time period rules (and Nagios' weekday directives) name them,
/// Sunday first.
pub(crate) const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// A bad definition, set or rule: one line saying what and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// A time range of a day, in seconds after local midnight: `start` included, `end`
/// excluded, `start <= end <= 86400`. An empty range (`00:00-00:00`) holds nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub start: u32,
    pub end: u32,
}

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    /// 1 = January.
    pub month: u8,
    pub day: u8,
}

/// The days an exception covers. Months are 1 = January, weekdays 0 = Sunday (as in
/// Nagios); a day of month or a week number counts from the end when negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Days {
    /// `2026-12-25`, `2026-12-01 - 2027-01-05` (start == end for one date).
    Calendar { start: Date, end: Date },
    /// `february 10`, `april 10 - may 15`, `july 10 - 15`: (month, day of month).
    MonthDate { start: (u8, i8), end: (u8, i8) },
    /// `day 1`, `day -1`, `day 1 - 15` of every month.
    MonthDay { start: i8, end: i8 },
    /// `thursday -1 november`, `tuesday 1 april - friday 2 may`:
    /// (month, weekday, week number).
    MonthWeekday {
        start: (u8, u8, i8),
        end: (u8, u8, i8),
    },
    /// `monday 3`, `monday 2 - thursday 3`, `monday 1 - 3` of every month:
    /// (weekday, week number).
    Weekday { start: (u8, i8), end: (u8, i8) },
}

impl Days {
    /// Nagios' order of exception kinds: the first covering exception in this order
    /// gives a day its ranges.
    fn rank(&self) -> u8 {
        match self {
            Days::Calendar { .. } => 0,
            Days::MonthDate { .. } => 1,
            Days::MonthDay { .. } => 2,
            Days::MonthWeekday { .. } => 3,
            Days::Weekday { .. } => 4,
        }
    }
}

/// An exception: days, a skip (1 = every day) and the ranges of those days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    pub days: Days,
    pub skip: u32,
    pub ranges: Vec<TimeRange>,
}

/// One rule line of a time period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// `monday 09:00-17:00`: weekday (0 = Sunday) and its ranges.
    Weekday(u8, Vec<TimeRange>),
    Exception(Exception),
}

/// A time period as written: its rules, and the names of the periods it excludes
/// (resolved by [`TimePeriods::new`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TimePeriod {
    pub name: String,
    pub alias: String,
    /// Ranges per weekday, 0 = Sunday; a weekday without a line has none.
    pub weekdays: [Vec<TimeRange>; 7],
    /// In the order written.
    pub exceptions: Vec<Exception>,
    pub exclude: Vec<String>,
}

impl TimePeriod {
    /// An empty period (no time at all until rules are added).
    pub fn new(name: &str, alias: &str) -> TimePeriod {
        TimePeriod {
            name: name.to_string(),
            alias: alias.to_string(),
            ..TimePeriod::default()
        }
    }

    /// Adds one rule line (`monday 09:00-17:00`, `day -1 00:00-24:00`, ...). A second
    /// line for the same weekday is refused.
    pub fn add_rule(&mut self, line: &str) -> Result<(), String> {
        match parse_rule(line)? {
            Rule::Weekday(d, ranges) => {
                let slot = &mut self.weekdays[usize::from(d)];
                if !slot.is_empty() {
                    return Err(format!("{} is given twice", WEEKDAYS[usize::from(d)]));
                }
                *slot = ranges;
            }
            Rule::Exception(e) => self.exceptions.push(e),
        }
        Ok(())
    }

    /// Parses the body of a Nagios `define timeperiod { ... }` (the `define` line and
    /// the closing brace may be included): `timeperiod_name`, `alias`, `exclude` (a
    /// comma-separated list) and rule lines; a line starting with `#` is a comment, and
    /// so is the rest of a line from `;`. Templates are not resolved here: `use` and
    /// `register 0` are refused, `name` (the name as a template) is passed over. Errors
    /// name the line (counted from 1 in `text`).
    pub fn parse(text: &str) -> Result<TimePeriod, Error> {
        let mut period = TimePeriod::default();
        let mut name_line = None;
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            // as Nagios: '#' comments a whole line, ';' the rest of one
            let line = match raw.find(';') {
                Some(at) => &raw[..at],
                None => raw,
            }
            .trim();
            let fail = |why: String| Error(format!("line {n} '{}': {why}", shown(raw)));
            if line.is_empty() || line == "}" || line.starts_with('#') {
                continue;
            }
            if let Some(rest) = line.strip_prefix("define") {
                let rest = rest.trim_start();
                match rest.strip_prefix("timeperiod") {
                    Some(brace) if matches!(brace.trim(), "{" | "") => continue,
                    _ => return Err(fail("only a timeperiod definition is read here".into())),
                }
            }
            let (key, value) = match line.split_once(char::is_whitespace) {
                Some((k, v)) => (k, v.trim()),
                None => (line, ""),
            };
            match key {
                "timeperiod_name" => {
                    if value.is_empty() {
                        return Err(fail("timeperiod_name needs a name".into()));
                    }
                    if name_line.is_some() {
                        return Err(fail("timeperiod_name is given twice".into()));
                    }
                    period.name = value.to_string();
                    name_line = Some(n);
                }
                "alias" => period.alias = value.to_string(),
                "exclude" => {
                    for name in value.split(',').map(str::trim) {
                        if name.is_empty() {
                            return Err(fail("exclude needs comma-separated names".into()));
                        }
                        period.exclude.push(name.to_string());
                    }
                }
                // the name a definition has as a template: no meaning of its own
                "name" => {}
                "register" if value == "1" => {}
                "register" => {
                    return Err(fail("a template (register 0) is not a time period".into()))
                }
                "use" => {
                    return Err(fail(
                        "'use' (templates) is not read here: give the period whole".into(),
                    ))
                }
                _ => period.add_rule(line).map_err(fail)?,
            }
        }
        if name_line.is_none() {
            return Err(Error("a time period needs a timeperiod_name".into()));
        }
        Ok(period)
    }
}

/// A line as shown in an error: at most 80 characters.
fn shown(line: &str) -> String {
    let line = line.trim();
    match line.char_indices().nth(80) {
        Some((at, _)) => format!("{}...", &line[..at]),
        None => line.to_string(),
    }
}

/// Parses one rule line: a weekday line or an exception, then its ranges.
pub fn parse_rule(line: &str) -> Result<Rule, String> {
    // the ranges start at the first word holding a ':'
    let line = line.trim();
    let mut days_end = line.len();
    let mut at = 0;
    for word in line.split_whitespace() {
        let start = at + line[at..].find(word).unwrap_or(0);
        if word.contains(':') {
            days_end = start;
            break;
        }
        at = start + word.len();
    }
    let (days_text, ranges_text) = line.split_at(days_end);
    if ranges_text.is_empty() {
        return Err("no time ranges (HH:MM-HH:MM, comma-separated)".into());
    }
    let ranges = parse_ranges(ranges_text)?;
    let toks = lex(days_text)?;
    let (toks, skip) = match toks.as_slice() {
        [rest @ .., Tok::Slash, Tok::Int(n)] => {
            let skip = u32::try_from(*n)
                .ok()
                .filter(|s| *s >= 1)
                .ok_or_else(|| format!("a skip ('/ N') must be 1 or more, not {n}"))?;
            (rest, Some(skip))
        }
        toks => (toks, None),
    };
    if toks.contains(&Tok::Slash) {
        return Err("a skip is written '/ N' after the days".into());
    }
    let (start, end) = match toks.iter().position(|t| *t == Tok::Dash) {
        Some(i) => (&toks[..i], Some(&toks[i + 1..])),
        None => (toks, None),
    };
    if let (None, None, [Tok::Word(w)]) = (end, skip, start) {
        if let Some(d) = weekday(w) {
            return Ok(Rule::Weekday(d, ranges));
        }
    }
    let days = parse_days(start, end)?;
    let single = match days {
        Days::Calendar { .. } => false,
        Days::MonthDate { start, end } => start == end,
        Days::MonthDay { start, end } => start == end,
        Days::MonthWeekday { start, end } => start == end,
        Days::Weekday { start, end } => start == end,
    };
    if single && skip.is_some() {
        return Err("a skip ('/ N') needs a range of days".into());
    }
    Ok(Rule::Exception(Exception {
        days,
        skip: skip.unwrap_or(1),
        ranges,
    }))
}

fn weekday(w: &str) -> Option<u8> {
    WEEKDAYS.iter().position(|d| *d == w).map(|d| d as u8)
}

fn month(w: &str) -> Option<u8> {
    MONTHS.iter().position(|m| *m == w).map(|m| m as u8 + 1)
}

fn parse_days(start: &[Tok], end: Option<&[Tok]>) -> Result<Days, String> {
    let unknown = |w: &str| format!("'{w}' is not a weekday, a month or 'day'");
    let days = match start {
        [Tok::Date(s)] => {
            let e = match end {
                None => *s,
                Some([Tok::Date(e)]) => *e,
                Some(_) => return Err("a range of calendar dates ends with a date".into()),
            };
            if e < *s {
                return Err("the range of dates ends before it starts".into());
            }
            Days::Calendar { start: *s, end: e }
        }
        [Tok::Word(w), Tok::Int(n)] => {
            if let Some(d) = weekday(w) {
                let s = (d, week_number(*n)?);
                let e = match end {
                    None => s,
                    Some([Tok::Int(m)]) => (d, week_number(*m)?),
                    Some([Tok::Word(w2), Tok::Int(m)]) => (
                        weekday(w2).ok_or_else(|| format!("'{w2}' is not a weekday"))?,
                        week_number(*m)?,
                    ),
                    Some(_) => return Err("expected 'WEEKDAY N' after '-'".into()),
                };
                Days::Weekday { start: s, end: e }
            } else if let Some(mo) = month(w) {
                let s = (mo, month_day(*n, Some(mo))?);
                let e = match end {
                    None => s,
                    Some([Tok::Int(m)]) => (mo, month_day(*m, Some(mo))?),
                    Some([Tok::Word(w2), Tok::Int(m)]) => {
                        let mo2 = month(w2).ok_or_else(|| format!("'{w2}' is not a month"))?;
                        (mo2, month_day(*m, Some(mo2))?)
                    }
                    Some(_) => return Err("expected 'MONTH N' after '-'".into()),
                };
                Days::MonthDate { start: s, end: e }
            } else if w == "day" {
                let s = month_day(*n, None)?;
                let e = match end {
                    None => s,
                    Some([Tok::Int(m)]) => month_day(*m, None)?,
                    Some([Tok::Word(w2), Tok::Int(m)]) if w2 == "day" => month_day(*m, None)?,
                    Some(_) => return Err("expected 'day N' after '-'".into()),
                };
                Days::MonthDay { start: s, end: e }
            } else {
                return Err(unknown(w));
            }
        }
        [Tok::Word(w), Tok::Int(n), Tok::Word(m)] => {
            let d = weekday(w).ok_or_else(|| format!("'{w}' is not a weekday"))?;
            let mo = month(m).ok_or_else(|| format!("'{m}' is not a month"))?;
            let s = (mo, d, week_number(*n)?);
            let e = match end {
                None => s,
                Some([Tok::Word(w2), Tok::Int(n2), Tok::Word(m2)]) => (
                    month(m2).ok_or_else(|| format!("'{m2}' is not a month"))?,
                    weekday(w2).ok_or_else(|| format!("'{w2}' is not a weekday"))?,
                    week_number(*n2)?,
                ),
                Some(_) => return Err("expected 'WEEKDAY N MONTH' after '-'".into()),
            };
            Days::MonthWeekday { start: s, end: e }
        }
        [Tok::Word(w)] if weekday(w).is_some() => {
            return Err(format!(
                "'{w}' takes ranges alone, or a week number ('{w} 3')"
            ))
        }
        [Tok::Word(w), ..] if weekday(w).is_none() && month(w).is_none() && w != "day" => {
            return Err(unknown(w))
        }
        [] => return Err("no days before the time ranges".into()),
        _ => return Err("cannot read the days".into()),
    };
    Ok(days)
}

/// A week number of a month: 1..=5 or -5..=-1.
fn week_number(n: i64) -> Result<i8, String> {
    match n {
        1..=5 | -5..=-1 => Ok(n as i8),
        _ => Err(format!("week number {n}: 1 to 5, or -1 (the last) to -5")),
    }
}

/// A day of month: 1..=31 or -31..=-1, within the month's length (February: 29) when
/// the month is known.
fn month_day(n: i64, month: Option<u8>) -> Result<i8, String> {
    let max = month.map_or(31, |m| days_in_month(2000, m));
    if (1..=i64::from(max)).contains(&n) || (-i64::from(max)..=-1).contains(&n) {
        return Ok(n as i8);
    }
    match month {
        Some(m) => Err(format!(
            "{} has no day {n} (1 to {max}, or -1 for the last)",
            MONTHS[usize::from(m - 1)]
        )),
        None => Err(format!("day {n}: 1 to 31, or -1 (the last) to -31")),
    }
}

/// `09:00-12:00,13:00-17:00` (commas or spaces between ranges).
fn parse_ranges(text: &str) -> Result<Vec<TimeRange>, String> {
    let mut out = Vec::new();
    for part in text.split([',', ' ', '\t']).filter(|p| !p.is_empty()) {
        let bad = || format!("bad time range '{}': HH:MM-HH:MM", shown(part));
        let (s, e) = part.split_once('-').ok_or_else(bad)?;
        let start = time_of_day(s).ok_or_else(bad)?;
        let end = time_of_day(e).ok_or_else(bad)?;
        if start >= DAY as u32 {
            return Err(format!("time range '{part}' starts at the end of the day"));
        }
        if end < start {
            return Err(format!(
                "time range '{part}' ends before it starts (split it at midnight: \
                 ...-24:00 and 00:00-... of the next day)"
            ));
        }
        out.push(TimeRange { start, end });
    }
    if out.is_empty() {
        return Err("no time ranges (HH:MM-HH:MM, comma-separated)".into());
    }
    Ok(out)
}

/// `HH:MM` (00:00 to 24:00) in seconds.
fn time_of_day(text: &str) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    let digits = |s: &str, n: std::ops::RangeInclusive<usize>| {
        n.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(h, 1..=2) || !digits(m, 2..=2) {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 || h == 24 && m == 0).then_some(h * 3600 + m * 60)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Int(i64),
    Date(Date),
    Dash,
    Slash,
}

/// The days part of a rule as tokens. A '-' right after a number or date is the range
/// dash; elsewhere, before a digit, it is a minus sign (`day -1`).
fn lex(text: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let digits_at = |i: usize| {
        let n = chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        (n, chars[i..i + n].iter().collect::<String>())
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let (n, first) = digits_at(i);
            i += n;
            // YYYY-MM-DD
            if n == 4
                && chars.get(i) == Some(&'-')
                && chars.get(i + 1).is_some_and(char::is_ascii_digit)
            {
                let (n2, mo) = digits_at(i + 1);
                let after = i + 1 + n2;
                if chars.get(after) == Some(&'-')
                    && chars.get(after + 1).is_some_and(char::is_ascii_digit)
                {
                    let (n3, d) = digits_at(after + 1);
                    i = after + 1 + n3;
                    out.push(Tok::Date(date(&first, &mo, &d)?));
                    continue;
                }
            }
            out.push(Tok::Int(number(&first)?));
        } else if c == '-' {
            let after_value = matches!(out.last(), Some(Tok::Int(_) | Tok::Date(_)));
            if !after_value && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
                let (n, d) = digits_at(i + 1);
                i += 1 + n;
                out.push(Tok::Int(-number(&d)?));
            } else {
                out.push(Tok::Dash);
                i += 1;
            }
        } else if c == '/' {
            out.push(Tok::Slash);
            i += 1;
        } else if c.is_alphabetic() {
            let n = chars[i..].iter().take_while(|c| c.is_alphabetic()).count();
            let word: String = chars[i..i + n].iter().collect();
            out.push(Tok::Word(word.to_lowercase()));
            i += n;
        } else {
            return Err(format!("unexpected '{c}' in the days"));
        }
    }
    let dashes = out.iter().filter(|t| **t == Tok::Dash).count();
    if dashes > 1 {
        return Err("more than one '-' between days".into());
    }
    Ok(out)
}

fn number(digits: &str) -> Result<i64, String> {
    digits
        .parse::<i64>()
        .ok()
        .filter(|n| *n <= 100_000)
        .ok_or_else(|| format!("number {} is too large", shown(digits)))
}

fn date(y: &str, m: &str, d: &str) -> Result<Date, String> {
    let text = format!("{y}-{m}-{d}");
    let bad = || format!("{} is not a date", shown(&text));
    let (year, month, day) = (number(y)?, number(m)?, number(d)?);
    if !(1..=12).contains(&month) || year < 1 {
        return Err(bad());
    }
    let (year, month) = (year as i32, month as u8);
    if !(1..=i64::from(days_in_month(i64::from(year), month))).contains(&day) {
        return Err(bad());
    }
    Ok(Date {
        year,
        month,
        day: day as u8,
    })
}

// ---- the calendar: days counted from 1970-01-01, proleptic Gregorian ----

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: u8) -> u8 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The day number of a date (0 = 1970-01-01).
fn day_number(y: i64, m: u8, d: u8) -> i64 {
    days_from_civil(y, i64::from(m), i64::from(d))
}

/// The date of a day number.
fn civil(day: i64) -> (i64, u8, u8) {
    let c = civil_from_unix(day * DAY);
    (c.year, c.month as u8, c.day as u8)
}

/// 0 = Sunday.
fn weekday_of(day: i64) -> u8 {
    (day + 4).rem_euclid(7) as u8
}

fn next_month(y: i64, m: u8) -> (i64, u8) {
    if m == 12 {
        (y + 1, 1)
    } else {
        (y, m + 1)
    }
}

fn prev_month(y: i64, m: u8) -> (i64, u8) {
    if m == 1 {
        (y - 1, 12)
    } else {
        (y, m - 1)
    }
}

/// The day `n` of a month (negative: from its end), if the month has it.
fn nth_day(y: i64, m: u8, n: i8) -> Option<i64> {
    let len = i64::from(days_in_month(y, m));
    let d = if n > 0 {
        i64::from(n)
    } else {
        len + i64::from(n) + 1
    };
    (1..=len).contains(&d).then(|| day_number(y, m, d as u8))
}

/// The `n`th weekday `wd` of a month (negative: from its end), if the month has it.
fn nth_weekday(y: i64, m: u8, wd: u8, n: i8) -> Option<i64> {
    let len = i64::from(days_in_month(y, m));
    let first = day_number(y, m, 1);
    let d = if n > 0 {
        let to_first = (i64::from(wd) - i64::from(weekday_of(first))).rem_euclid(7);
        1 + to_first + 7 * (i64::from(n) - 1)
    } else {
        let last = first + len - 1;
        let from_last = (i64::from(weekday_of(last)) - i64::from(wd)).rem_euclid(7);
        len - from_last + 7 * (i64::from(n) + 1)
    };
    (1..=len).contains(&d).then_some(first + d - 1)
}

/// One end of a range of days other than calendar dates: a day of month or a weekday
/// of month, in a given month or (`None`) in the month the occurrence is in.
#[derive(Clone, Copy)]
enum Bound {
    Day(Option<u8>, i8),
    Weekday(Option<u8>, u8, i8),
}

impl Bound {
    /// The day in the year `y` and month `m` of an occurrence, if that month has it.
    fn day(self, (y, m): (i64, u8)) -> Option<i64> {
        match self {
            Bound::Day(month, n) => nth_day(y, month.unwrap_or(m), n),
            Bound::Weekday(month, wd, n) => nth_weekday(y, month.unwrap_or(m), wd, n),
        }
    }

    /// As an end: a day the month lacks stops at its last day when counted from the
    /// start of the month (as Nagios); counted from its end, there is no end.
    fn end(self, (y, m): (i64, u8)) -> Option<i64> {
        let (month, n) = match self {
            Bound::Day(month, n) | Bound::Weekday(month, _, n) => (month.unwrap_or(m), n),
        };
        self.day((y, m))
            .or_else(|| (n > 0).then(|| nth_day(y, month, -1)).flatten())
    }
}

impl Exception {
    /// Whether the exception covers day `day` (whose date is `y-m-d`).
    fn covers(&self, day: i64, (y, m, _): (i64, u8, u8)) -> bool {
        let skip = i64::from(self.skip.max(1));
        let holds = |first: i64, last: Option<i64>| {
            day >= first && last.is_none_or(|l| day <= l) && (day - first) % skip == 0
        };
        let (start, end, yearly) = match self.days {
            Days::Calendar { start, end } => {
                let s = day_number(i64::from(start.year), start.month, start.day);
                let e = day_number(i64::from(end.year), end.month, end.day);
                // a single date with a skip goes on forever (as Nagios)
                return holds(s, (!(s == e && skip > 1)).then_some(e));
            }
            Days::MonthDate { start, end } => (
                Bound::Day(Some(start.0), start.1),
                Bound::Day(Some(end.0), end.1),
                true,
            ),
            Days::MonthWeekday { start, end } => (
                Bound::Weekday(Some(start.0), start.1, start.2),
                Bound::Weekday(Some(end.0), end.1, end.2),
                true,
            ),
            Days::MonthDay { start, end } => {
                (Bound::Day(None, start), Bound::Day(None, end), false)
            }
            Days::Weekday { start, end } => (
                Bound::Weekday(None, start.0, start.1),
                Bound::Weekday(None, end.0, end.1),
                false,
            ),
        };
        // the occurrences that may hold the day start in this year (month) or the one
        // before; each ends in the year (month) it starts in or, when that end comes
        // before its start, in the next
        let (this, before) = if yearly {
            ((y, 1), (y - 1, 1))
        } else {
            ((y, m), prev_month(y, m))
        };
        let after = |(y, m): (i64, u8)| if yearly { (y + 1, 1) } else { next_month(y, m) };
        [this, before].into_iter().any(|at| {
            let Some(first) = start.day(at) else {
                return false;
            };
            end.end(at)
                .filter(|e| *e >= first)
                .or_else(|| end.end(after(at)))
                .is_some_and(|last| holds(first, Some(last)))
        })
    }
}

/// Where local time is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// A fixed offset east of UTC, in seconds (`Offset(3600)` for UTC+1).
    Offset(i32),
    /// The system's local time (`localtime_r`), with the offset of each instant.
    Local,
    /// Offsets that change at given instants: (from, offset), sorted; before the first,
    /// the first's offset. For tests of changes of offset without the system's zones.
    #[cfg(test)]
    Changes(&'static [(i64, i64)]),
}

impl Zone {
    /// The offset east of UTC at an instant, in seconds.
    pub fn offset_at(self, t: i64) -> i64 {
        match self {
            Zone::Offset(o) => i64::from(o),
            #[cfg(test)]
            Zone::Changes(changes) => changes
                .iter()
                .rev()
                .find(|(from, _)| *from <= t)
                .or(changes.first())
                .map_or(0, |(_, off)| *off),
            Zone::Local => {
                // out of range: localtime_r fails, offset 0
                let t = libc::time_t::try_from(t).unwrap_or(libc::time_t::MAX);
                // SAFETY: a zeroed tm is a valid out value.
                let mut tm: libc::tm = unsafe { std::mem::zeroed() };
                // SAFETY: t and tm are valid for the call; localtime_r is thread-safe.
                let r = unsafe { libc::localtime_r(&t, &mut tm) };
                if r.is_null() {
                    0
                } else {
                    tm.tm_gmtoff
                }
            }
        }
    }

    /// The first instant after `from` and not after `until` whose offset differs from
    /// the one at `from`.
    fn next_change(self, from: i64, until: i64) -> Option<i64> {
        if let Zone::Offset(_) = self {
            return None;
        }
        let off = self.offset_at(from);
        let mut lo = from;
        let hi = loop {
            let probe = (lo + DAY).min(until);
            if self.offset_at(probe) != off {
                break probe;
            }
            if probe >= until {
                return None;
            }
            lo = probe;
        };
        // the offset is `off` at lo and differs at hi
        let (mut lo, mut hi) = (lo, hi);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.offset_at(mid) == off {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(hi)
    }
}

/// A period in a [`TimePeriods`] set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodId(usize);

#[derive(Debug, Clone)]
struct Resolved {
    period: TimePeriod,
    exclude: Vec<usize>,
}

/// A checked set of time periods: names unique, every excluded period defined, no
/// period excluding itself through others. Answers in the local time of its [`Zone`].
#[derive(Debug, Clone)]
pub struct TimePeriods {
    periods: Vec<Resolved>,
    by_name: HashMap<String, usize>,
    zone: Zone,
}

impl TimePeriods {
    pub fn new(periods: Vec<TimePeriod>, zone: Zone) -> Result<TimePeriods, Error> {
        let mut by_name = HashMap::new();
        for (i, p) in periods.iter().enumerate() {
            if p.name.is_empty() {
                return Err(Error("a time period needs a name".into()));
            }
            if by_name.insert(p.name.clone(), i).is_some() {
                return Err(Error(format!("time period '{}' is defined twice", p.name)));
            }
        }
        let mut resolved = Vec::with_capacity(periods.len());
        for mut period in periods {
            let exclude = period
                .exclude
                .iter()
                .map(|x| {
                    by_name.get(x).copied().ok_or_else(|| {
                        Error(format!(
                            "time period '{}' excludes '{x}', which is not defined",
                            period.name
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            // Nagios' order: by kind, then as written (a stable sort)
            period.exceptions.sort_by_key(|e| e.days.rank());
            resolved.push(Resolved { period, exclude });
        }
        let set = TimePeriods {
            periods: resolved,
            by_name,
            zone,
        };
        set.refuse_cycles()?;
        Ok(set)
    }

    fn refuse_cycles(&self) -> Result<(), Error> {
        // 0 unseen, 1 on the path, 2 done
        let mut mark = vec![0u8; self.periods.len()];
        for root in 0..self.periods.len() {
            if mark[root] != 0 {
                continue;
            }
            let mut path = vec![root];
            let mut next = vec![0usize];
            mark[root] = 1;
            while let Some(&at) = path.last() {
                let i = next.last_mut().expect("a cursor per path entry");
                match self.periods[at].exclude.get(*i) {
                    Some(&x) => {
                        *i += 1;
                        match mark[x] {
                            0 => {
                                mark[x] = 1;
                                path.push(x);
                                next.push(0);
                            }
                            1 => {
                                let from = path.iter().position(|p| *p == x).unwrap_or(0);
                                let names: Vec<&str> = path[from..]
                                    .iter()
                                    .chain([&x])
                                    .map(|p| self.periods[*p].period.name.as_str())
                                    .collect();
                                return Err(Error(format!(
                                    "time periods exclude each other in a cycle: {}",
                                    names.join(" -> ")
                                )));
                            }
                            _ => {}
                        }
                    }
                    None => {
                        mark[at] = 2;
                        path.pop();
                        next.pop();
                    }
                }
            }
        }
        Ok(())
    }

    /// The period of a name.
    pub fn id(&self, name: &str) -> Option<PeriodId> {
        self.by_name.get(name).map(|i| PeriodId(*i))
    }

    pub fn get(&self, id: PeriodId) -> &TimePeriod {
        &self.periods[id.0].period
    }

    pub fn zone(&self) -> Zone {
        self.zone
    }

    /// The valid parts of a local day (a day number), sorted, disjoint and not empty:
    /// the day's ranges minus those of the excluded periods.
    fn day_ranges(&self, p: usize, day: i64) -> Vec<(u32, u32)> {
        let date = civil(day);
        let resolved = &self.periods[p];
        let ranges = resolved
            .period
            .exceptions
            .iter()
            .find(|e| e.covers(day, date))
            .map_or(
                &resolved.period.weekdays[usize::from(weekday_of(day))],
                |e| &e.ranges,
            );
        let mut parts: Vec<(u32, u32)> = ranges
            .iter()
            .filter(|r| r.start < r.end)
            .map(|r| (r.start, r.end))
            .collect();
        parts.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(parts.len());
        for (s, e) in parts {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        for &x in &resolved.exclude {
            if merged.is_empty() {
                break;
            }
            for (xs, xe) in self.day_ranges(x, day) {
                merged = merged
                    .into_iter()
                    .flat_map(|(s, e)| {
                        [(s, e.min(xs)), (s.max(xe), e)]
                            .into_iter()
                            .filter(|(a, b)| a < b)
                    })
                    .collect();
            }
        }
        merged
    }

    /// Whether `t` is in the period.
    pub fn contains(&self, id: PeriodId, t: Time) -> bool {
        let Some(local) = i64::try_from(t)
            .ok()
            .and_then(|t| t.checked_add(self.zone.offset_at(t)))
        else {
            return false;
        };
        let (day, sec) = (local.div_euclid(DAY), local.rem_euclid(DAY) as u32);
        self.day_ranges(id.0, day)
            .iter()
            .any(|(s, e)| *s <= sec && sec < *e)
    }

    /// The earliest time at or after `after` in the period, looking up to
    /// [`HORIZON_DAYS`] ahead; `None` when there is none within that (a period without
    /// time, or one that only starts later).
    pub fn next_valid(&self, id: PeriodId, after: Time) -> Option<Time> {
        let after = i64::try_from(after).ok()?;
        let until = after.checked_add(HORIZON_DAYS * DAY)?;
        let mut from = after;
        // each pass covers a stretch of one offset (a change of the system's offset
        // starts the next)
        loop {
            let off = self.zone.offset_at(from);
            let change = self.zone.next_change(from, until);
            let limit = change.unwrap_or(until);
            if let Some(t) = self.search(id.0, from, off, limit) {
                return Time::try_from(t).ok();
            }
            from = change?;
        }
    }

    /// The parts of `[from, to)` in the period: sorted, disjoint, adjacent parts joined
    /// (for reports counting only the time in a period).
    pub fn intervals(&self, id: PeriodId, from: Time, to: Time) -> Vec<(Time, Time)> {
        let (Ok(mut at), Ok(end)) = (i64::try_from(from), i64::try_from(to)) else {
            return Vec::new();
        };
        let mut out: Vec<(Time, Time)> = Vec::new();
        // each pass covers a stretch of one offset, as in next_valid
        while at < end {
            let off = self.zone.offset_at(at);
            let limit = self.zone.next_change(at, end).unwrap_or(end).min(end);
            let mut day = (at + off).div_euclid(DAY);
            while day * DAY - off < limit {
                for (s, e) in self.day_ranges(id.0, day) {
                    let s = (day * DAY + i64::from(s) - off).max(at);
                    let e = (day * DAY + i64::from(e) - off).min(limit);
                    if s >= e {
                        continue;
                    }
                    let (s, e) = (s as Time, e as Time);
                    match out.last_mut() {
                        Some(last) if last.1 >= s => last.1 = last.1.max(e),
                        _ => out.push((s, e)),
                    }
                }
                day += 1;
            }
            at = limit;
        }
        out
    }

    /// The earliest time in `[from, limit)` in period `p`, with local time at `off`.
    fn search(&self, p: usize, from: i64, off: i64, limit: i64) -> Option<i64> {
        let local = from.checked_add(off)?;
        let (first, sec) = (local.div_euclid(DAY), local.rem_euclid(DAY));
        let mut day = first;
        while day * DAY - off < limit {
            for (s, e) in self.day_ranges(p, day) {
                let (s, e) = (i64::from(s), i64::from(e));
                let at = if day == first {
                    if e <= sec {
                        continue;
                    }
                    s.max(sec)
                } else {
                    s
                };
                let t = day * DAY + at - off;
                return (t < limit).then_some(t);
            }
            day += 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Unix time of a date and time in UTC.
    fn utc(y: i64, m: u8, d: u8, hh: i64, mm: i64) -> Time {
        (day_number(y, m, d) * DAY + hh * 3600 + mm * 60) as Time
    }

    /// Time ranges from (start, end) in minutes after midnight.
    fn minutes(ranges: &[(u32, u32)]) -> Vec<TimeRange> {
        let r = |(s, e): &(u32, u32)| TimeRange {
            start: s * 60,
            end: e * 60,
        };
        ranges.iter().map(r).collect()
    }

    fn set(defs: &[&str], zone: Zone) -> TimePeriods {
        let periods = defs
            .iter()
            .map(|d| TimePeriod::parse(d).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        TimePeriods::new(periods, zone).unwrap_or_else(|e| panic!("{e}"))
    }

    const WORKHOURS: &str = "# office hours
    define timeperiod {
        name            workhours
        timeperiod_name workhours
        register        1
        alias           Work hours
        monday          09:00-17:00
        tuesday         09:00-17:00
        wednesday       09:00-17:00
        thursday        09:00-17:00
        friday          09:00-12:00,13:00-17:00 ; lunch on Fridays
    }";

    const HOLIDAYS: &str = "timeperiod_name holidays
        alias Holidays
        2026-12-25 00:00-24:00
        2027-01-01 00:00-24:00
        thursday -1 november 00:00-24:00";

    const ALWAYS: &str = "timeperiod_name 24x7
        sunday 00:00-24:00
        monday 00:00-24:00
        tuesday 00:00-24:00
        wednesday 00:00-24:00
        thursday 00:00-24:00
        friday 00:00-24:00
        saturday 00:00-24:00";

    #[test]
    fn the_calendar_counts_days_and_weekdays() {
        assert_eq!(day_number(1970, 1, 1), 0);
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(weekday_of(0), 4); // a Thursday
                                      // 2026-12-06 is a Sunday
        let d = day_number(2026, 12, 6);
        assert_eq!(weekday_of(d), 0);
        assert_eq!(civil(d), (2026, 12, 6));
        assert_eq!(civil(day_number(2024, 2, 29)), (2024, 2, 29));
        assert_eq!(civil(day_number(1969, 12, 31)), (1969, 12, 31));
        assert_eq!(nth_weekday(2026, 11, 4, -1), Some(day_number(2026, 11, 26)));
        assert_eq!(nth_weekday(2026, 11, 4, 1), Some(day_number(2026, 11, 5)));
        assert_eq!(nth_weekday(2026, 11, 4, 4), Some(day_number(2026, 11, 26)));
        assert_eq!(nth_weekday(2026, 11, 4, 5), None);
        assert_eq!(nth_day(2026, 2, -1), Some(day_number(2026, 2, 28)));
        assert_eq!(nth_day(2026, 4, 31), None);
    }

    #[test]
    fn a_definition_parses_into_its_rules() {
        let p = TimePeriod::parse(WORKHOURS).unwrap();
        assert_eq!(p.name, "workhours");
        assert_eq!(p.alias, "Work hours");
        assert!(p.weekdays[0].is_empty() && p.weekdays[6].is_empty());
        assert_eq!(p.weekdays[5], minutes(&[(540, 720), (780, 1020)]));
        let rule = |l| parse_rule(l).unwrap();
        let ex = |days, skip| {
            Rule::Exception(Exception {
                days,
                skip,
                ranges: minutes(&[(0, 1440)]),
            })
        };
        let date = |year, month, day| Date { year, month, day };
        assert_eq!(
            rule("2026-12-01 - 2027-01-05 / 3 00:00-24:00"),
            ex(
                Days::Calendar {
                    start: date(2026, 12, 1),
                    end: date(2027, 1, 5)
                },
                3
            )
        );
        assert_eq!(
            rule("2026-12-01-2027-01-05 00:00-24:00"),
            ex(
                Days::Calendar {
                    start: date(2026, 12, 1),
                    end: date(2027, 1, 5)
                },
                1
            )
        );
        assert_eq!(
            rule("day -1 00:00-24:00"),
            ex(Days::MonthDay { start: -1, end: -1 }, 1)
        );
        assert_eq!(
            rule("day 1-15 / 5 00:00-24:00"),
            ex(Days::MonthDay { start: 1, end: 15 }, 5)
        );
        assert_eq!(
            rule("day 1 - day 15 00:00-24:00"),
            ex(Days::MonthDay { start: 1, end: 15 }, 1)
        );
        assert_eq!(
            rule("april 10 - may 15 00:00-24:00"),
            ex(
                Days::MonthDate {
                    start: (4, 10),
                    end: (5, 15)
                },
                1
            )
        );
        assert_eq!(
            rule("july 10 - 15 / 2 00:00-24:00"),
            ex(
                Days::MonthDate {
                    start: (7, 10),
                    end: (7, 15)
                },
                2
            )
        );
        assert_eq!(
            rule("monday 3 00:00-24:00"),
            ex(
                Days::Weekday {
                    start: (1, 3),
                    end: (1, 3)
                },
                1
            )
        );
        assert_eq!(
            rule("monday 2 - thursday 3 00:00-24:00"),
            ex(
                Days::Weekday {
                    start: (1, 2),
                    end: (4, 3)
                },
                1
            )
        );
        assert_eq!(
            rule("thursday -1 november 00:00-24:00"),
            ex(
                Days::MonthWeekday {
                    start: (11, 4, -1),
                    end: (11, 4, -1)
                },
                1
            )
        );
        assert_eq!(
            rule("tuesday 1 april - friday 2 may / 3 00:00-24:00"),
            ex(
                Days::MonthWeekday {
                    start: (4, 2, 1),
                    end: (5, 5, 2)
                },
                3
            )
        );
        assert_eq!(
            rule("Monday 9:00-12:00, 13:00-17:30"),
            Rule::Weekday(1, minutes(&[(540, 720), (780, 1050)]))
        );
    }

    #[test]
    fn bad_input_names_the_line_and_the_problem() {
        let err = |text: &str| TimePeriod::parse(text).unwrap_err().to_string();
        assert_eq!(
            err("timeperiod_name x\nmondy 09:00-17:00"),
            "line 2 'mondy 09:00-17:00': 'mondy' is not a weekday, a month or 'day'"
        );
        assert_eq!(
            err("timeperiod_name x\n\nmonday 22:00-06:00"),
            "line 3 'monday 22:00-06:00': time range '22:00-06:00' ends before it starts \
             (split it at midnight: ...-24:00 and 00:00-... of the next day)"
        );
        assert_eq!(
            err("timeperiod_name x\nmonday 09:00-25:00"),
            "line 2 'monday 09:00-25:00': bad time range '09:00-25:00': HH:MM-HH:MM"
        );
        assert_eq!(
            err("timeperiod_name x\nmonday"),
            "line 2 'monday': no time ranges (HH:MM-HH:MM, comma-separated)"
        );
        assert_eq!(
            err("timeperiod_name x\n2026-02-30 00:00-24:00"),
            "line 2 '2026-02-30 00:00-24:00': 2026-02-30 is not a date"
        );
        assert_eq!(
            err("timeperiod_name x\n2027-01-01 - 2026-01-01 00:00-24:00"),
            "line 2 '2027-01-01 - 2026-01-01 00:00-24:00': the range of dates ends before it starts"
        );
        assert_eq!(
            err("timeperiod_name x\nday 0 00:00-24:00"),
            "line 2 'day 0 00:00-24:00': day 0: 1 to 31, or -1 (the last) to -31"
        );
        assert_eq!(
            err("timeperiod_name x\nmonday 6 00:00-24:00"),
            "line 2 'monday 6 00:00-24:00': week number 6: 1 to 5, or -1 (the last) to -5"
        );
        assert_eq!(
            err("timeperiod_name x\napril 31 00:00-24:00"),
            "line 2 'april 31 00:00-24:00': april has no day 31 (1 to 30, or -1 for the last)"
        );
        assert_eq!(
            err("timeperiod_name x\nday 1 - 5 / 0 00:00-24:00"),
            "line 2 'day 1 - 5 / 0 00:00-24:00': a skip ('/ N') must be 1 or more, not 0"
        );
        assert_eq!(
            err("timeperiod_name x\nday 5 / 2 00:00-24:00"),
            "line 2 'day 5 / 2 00:00-24:00': a skip ('/ N') needs a range of days"
        );
        assert_eq!(
            err("timeperiod_name x\nmonday 09:00-12:00\nmonday 13:00-17:00"),
            "line 3 'monday 13:00-17:00': monday is given twice"
        );
        assert_eq!(
            err("timeperiod_name x\nuse base"),
            "line 2 'use base': 'use' (templates) is not read here: give the period whole"
        );
        assert_eq!(
            err("name base\nregister 0\nmonday 09:00-17:00"),
            "line 2 'register 0': a template (register 0) is not a time period"
        );
        assert_eq!(
            err("monday 09:00-17:00"),
            "a time period needs a timeperiod_name"
        );
        assert_eq!(
            err("timeperiod_name x\nmonday 09:00 - 17:00"),
            "line 2 'monday 09:00 - 17:00': bad time range '09:00': HH:MM-HH:MM"
        );
        assert_eq!(
            err("timeperiod_name x\nlundi€ 09:00-17:00"),
            "line 2 'lundi€ 09:00-17:00': unexpected '€' in the days"
        );
    }

    #[test]
    fn a_set_refuses_unknown_names_duplicates_and_cycles() {
        let parse = |t: &str| TimePeriod::parse(t).unwrap();
        let err = |defs: &[&str]| {
            TimePeriods::new(defs.iter().map(|d| parse(d)).collect(), Zone::Offset(0))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(&["timeperiod_name a\nexclude holidays"]),
            "time period 'a' excludes 'holidays', which is not defined"
        );
        assert_eq!(
            err(&["timeperiod_name a", "timeperiod_name a"]),
            "time period 'a' is defined twice"
        );
        assert_eq!(
            err(&[
                "timeperiod_name a\nexclude b",
                "timeperiod_name b\nexclude c",
                "timeperiod_name c\nexclude a",
            ]),
            "time periods exclude each other in a cycle: a -> b -> c -> a"
        );
        assert_eq!(
            err(&["timeperiod_name a\nexclude a"]),
            "time periods exclude each other in a cycle: a -> a"
        );
        // a diamond is no cycle
        let ok = TimePeriods::new(
            vec![
                parse("timeperiod_name a\nexclude b, c"),
                parse("timeperiod_name b\nexclude d"),
                parse("timeperiod_name c\nexclude d"),
                parse("timeperiod_name d"),
            ],
            Zone::Offset(0),
        );
        assert!(ok.is_ok());
    }

    /// A scenario: the periods of a set at a fixed offset (seconds east of UTC), and
    /// what one of them says, in local time, one kind a line:
    /// `in TIME, ...`, `out TIME, ...` and `next TIME = TIME|none, ...` (the earliest
    /// valid time at or after the first), times as `YYYY-MM-DD HH:MM[:SS]`.
    struct Scenario {
        what: &'static str,
        offset: i32,
        periods: &'static [&'static str],
        name: &'static str,
        says: &'static str,
    }

    const OFFICE: &str = "timeperiod_name office
        monday 09:00-17:00
        tuesday 09:00-17:00
        wednesday 09:00-17:00
        thursday 09:00-17:00
        friday 09:00-17:00
        exclude holidays, lunch";

    const SCENARIOS: &[Scenario] = &[
        Scenario {
            what: "business hours across a weekend (Friday 2026-12-04); inside a range, \
                   the time itself",
            offset: 0,
            periods: &[WORKHOURS],
            name: "workhours",
            says: "in 2026-12-04 09:00, 2026-12-04 11:59, 2026-12-04 16:59:59
                   out 2026-12-04 08:59:59, 2026-12-04 12:30, 2026-12-04 17:00, 2026-12-05 12:00, 2026-12-06 12:00
                   next 2026-12-04 17:00 = 2026-12-07 09:00, 2026-12-05 10:00 = 2026-12-07 09:00, 2026-12-04 10:17:05 = 2026-12-04 10:17:05, 2026-12-04 12:00 = 2026-12-04 13:00",
        },
        Scenario {
            what: "local time at UTC-5: Friday 18:00 local is Friday 23:00 UTC",
            offset: -5 * 3600,
            periods: &[WORKHOURS],
            name: "workhours",
            says: "in 2026-12-07 16:00
                   out 2026-12-04 18:00
                   next 2026-12-04 18:00 = 2026-12-07 09:00",
        },
        Scenario {
            what: "a holiday (Christmas, a Friday) and a short Monday override the weekdays",
            offset: 0,
            periods: &["timeperiod_name office
                monday 09:00-17:00
                friday 09:00-17:00
                2026-12-25 00:00-00:00 ; closed
                2026-12-28 10:00-12:00 ; short Monday after"],
            name: "office",
            says: "in 2026-12-18 10:00, 2026-12-28 11:00
                   out 2026-12-25 10:00, 2026-12-28 09:30, 2026-12-28 13:00
                   next 2026-12-24 00:00 = 2026-12-28 10:00, 2026-12-28 12:00 = 2027-01-01 09:00",
        },
        Scenario {
            what: "day -1: the last day of each month",
            offset: 0,
            periods: &["timeperiod_name eom\nday -1 22:00-24:00"],
            name: "eom",
            says: "in 2026-02-28 23:00, 2024-02-29 23:00
                   out 2024-02-28 23:00, 2026-04-30 21:59
                   next 2026-04-01 00:00 = 2026-04-30 22:00, 2026-04-30 23:00 = 2026-04-30 23:00, 2026-05-01 00:00 = 2026-05-31 22:00",
        },
        Scenario {
            what: "thursday -1 november: the 27th in 2025, the 26th in 2026, the 25th in 2027",
            offset: 0,
            periods: &["timeperiod_name t\nthursday -1 november 00:00-24:00"],
            name: "t",
            says: "in 2026-11-26 12:00
                   out 2026-11-19 12:00, 2026-12-31 12:00
                   next 2026-11-27 00:00 = 2027-11-25 00:00, 2025-11-01 00:00 = 2025-11-27 00:00",
        },
        Scenario {
            what: "a date range with a skip of 3; 2027-01-06 would be next but the range ends",
            offset: 0,
            periods: &["timeperiod_name rota\n2026-12-01 - 2027-01-05 / 3 08:00-10:00"],
            name: "rota",
            says: "in 2026-12-01 09:00, 2026-12-04 09:00, 2026-12-31 09:00, 2027-01-03 09:00
                   out 2026-11-30 09:00, 2026-12-02 09:00, 2026-12-03 09:00, 2027-01-04 09:00
                   next 2027-01-03 10:00 = none, 2026-12-01 10:00 = 2026-12-04 08:00",
        },
        Scenario {
            what: "a single date with a skip goes on forever",
            offset: 0,
            periods: &["timeperiod_name weekly\n2026-04-01 / 7 00:00-24:00"],
            name: "weekly",
            says: "in 2026-04-08 01:00, 2027-03-31 01:00
                   out 2026-03-25 01:00, 2026-04-09 01:00",
        },
        Scenario {
            what: "a date more than a year away is not found",
            offset: 0,
            periods: &["timeperiod_name later\n2028-06-01 00:00-24:00"],
            name: "later",
            says: "next 2026-12-06 00:00 = none, 2027-06-03 00:00 = 2028-06-01 00:00",
        },
        Scenario {
            what: "holidays and the Friday lunch excluded: across Thanksgiving (Thursday the \
                   26th), Christmas (a Friday), New Year's day (a Friday), out of lunch",
            offset: 0,
            periods: &[OFFICE, HOLIDAYS, "timeperiod_name lunch\nfriday 12:00-13:00"],
            name: "office",
            says: "in 2026-11-25 10:00, 2026-12-18 13:00
                   out 2026-11-26 10:00, 2026-12-25 10:00, 2026-12-18 12:30
                   next 2026-11-25 17:00 = 2026-11-27 09:00, 2026-12-24 18:00 = 2026-12-28 09:00, 2026-12-31 17:00 = 2027-01-04 09:00, 2026-12-18 12:00 = 2026-12-18 13:00",
        },
        Scenario {
            what: "across midnight, Monday 2026-12-07 into Tuesday",
            offset: 0,
            periods: &["timeperiod_name nights\nmonday 22:00-24:00\ntuesday 00:00-06:00"],
            name: "nights",
            says: "in 2026-12-07 23:59:59, 2026-12-08 00:00
                   out 2026-12-08 06:00
                   next 2026-12-07 12:00 = 2026-12-07 22:00, 2026-12-08 00:00 = 2026-12-08 00:00, 2026-12-08 06:00 = 2026-12-14 22:00",
        },
        Scenario {
            what: "a calendar date comes before a weekday of a month written before it",
            offset: 0,
            periods: &["timeperiod_name p\nfriday -1 december 08:00-09:00\n2026-12-25 10:00-11:00"],
            name: "p",
            says: "in 2026-12-25 10:30
                   out 2026-12-25 08:30",
        },
    ];

    /// A local time `YYYY-MM-DD HH:MM[:SS]` in Unix time, at `offset`.
    fn local(offset: i32, text: &str) -> Time {
        let num = |t: &str| t.parse::<i64>().unwrap_or_else(|_| panic!("{text}"));
        let (date, time) = text.split_once(' ').expect("date and time");
        let d: Vec<i64> = date.split('-').map(num).collect();
        let mut hms: Vec<i64> = time.split(':').map(num).collect();
        hms.resize(3, 0);
        let day = day_number(d[0], d[1] as u8, d[2] as u8);
        (day * DAY + hms[0] * 3600 + hms[1] * 60 + hms[2] - i64::from(offset)) as Time
    }

    #[test]
    fn scenarios_hold_and_find_the_times_they_say() {
        for sc in SCENARIOS {
            let s = set(sc.periods, Zone::Offset(sc.offset));
            let p = s.id(sc.name).unwrap();
            let at = |t: &str| local(sc.offset, t.trim());
            for line in sc.says.lines().map(str::trim) {
                let (kind, items) = line.split_once(' ').expect("a kind and times");
                for item in items.split(',') {
                    let why = format!("{}: {kind} {}", sc.what, item.trim());
                    match (kind, item.split_once('=')) {
                        ("in", None) => assert!(s.contains(p, at(item)), "{why}"),
                        ("out", None) => assert!(!s.contains(p, at(item)), "{why}"),
                        ("next", Some((from, want))) => {
                            let want = (want.trim() != "none").then(|| at(want));
                            assert_eq!(s.next_valid(p, at(from)), want, "{why}");
                        }
                        _ => panic!("bad expectation: {why}"),
                    }
                }
            }
        }
    }

    #[test]
    fn the_offset_gives_local_days_and_hours() {
        // UTC+1: 08:30 UTC on Monday is 09:30 local; UTC-5: Monday 09:00 local is 14:00 UTC
        let s = set(&[WORKHOURS], Zone::Offset(3600));
        let w = s.id("workhours").unwrap();
        assert!(s.contains(w, utc(2026, 12, 7, 8, 30)));
        assert!(!s.contains(w, utc(2026, 12, 7, 7, 59)));
        assert_eq!(
            s.next_valid(w, utc(2026, 12, 7, 0, 0)),
            Some(utc(2026, 12, 7, 8, 0))
        );
        let s = set(&[WORKHOURS], Zone::Offset(-5 * 3600));
        let w = s.id("workhours").unwrap();
        assert_eq!(
            s.next_valid(w, utc(2026, 12, 4, 23, 0)),
            Some(utc(2026, 12, 7, 14, 0))
        );
        assert!(!s.contains(w, utc(2026, 12, 7, 9, 0)));
    }

    #[test]
    fn days_of_month_with_a_skip_and_wrapping_ranges() {
        let s = set(
            &[
                "timeperiod_name a\nday 1 - 15 / 5 00:00-24:00",
                "timeperiod_name b\nnovember 15 - february 15 00:00-24:00",
                "timeperiod_name c\nday 25 - day 5 00:00-24:00",
                "timeperiod_name d\nmonday 3 12:00-13:00",
            ],
            Zone::Offset(0),
        );
        let days = |n, y, m| {
            let p = s.id(n).unwrap();
            (1..=days_in_month(y, m))
                .filter(|d| s.contains(p, utc(y, m, *d, 12, 0)))
                .collect::<Vec<_>>()
        };
        assert_eq!(days("a", 2026, 6), vec![1, 6, 11]);
        assert_eq!(days("b", 2027, 1).len(), 31);
        assert_eq!(days("b", 2027, 2), (1..=15).collect::<Vec<_>>());
        assert_eq!(days("b", 2026, 11), (15..=30).collect::<Vec<_>>());
        assert_eq!(
            days("c", 2026, 6),
            vec![1, 2, 3, 4, 5, 25, 26, 27, 28, 29, 30]
        );
        assert_eq!(days("d", 2026, 12), vec![21]);
    }

    #[test]
    fn always_and_never() {
        let s = set(
            &[ALWAYS, "timeperiod_name none\nalias No time"],
            Zone::Offset(0),
        );
        let (all, none) = (s.id("24x7").unwrap(), s.id("none").unwrap());
        for t in [0, 1, utc(2026, 12, 7, 0, 0) - 1, utc(2027, 2, 28, 0, 0)] {
            assert!(s.contains(all, t));
            assert_eq!(s.next_valid(all, t), Some(t));
            assert!(!s.contains(none, t));
            assert_eq!(s.next_valid(none, t), None);
        }
        assert!(!s.contains(all, u64::MAX));
        assert_eq!(s.next_valid(all, u64::MAX), None);
    }

    #[test]
    fn the_system_zone_agrees_with_its_own_offset() {
        let s = set(&[WORKHOURS], Zone::Local);
        let w = s.id("workhours").unwrap();
        let t = utc(2026, 12, 7, 12, 0);
        let fixed = set(
            &[WORKHOURS],
            Zone::Offset(Zone::Local.offset_at(t as i64) as i32),
        );
        let fw = fixed.id("workhours").unwrap();
        assert_eq!(s.contains(w, t), fixed.contains(fw, t));
        assert_eq!(s.next_valid(w, t), fixed.next_valid(fw, t));
    }

    /// Central European time in 2027: summer time from 03-28 01:00 UTC to 10-31 01:00 UTC.
    const CET_2027: Zone =
        Zone::Changes(&[(0, 3600), (1_806_195_600, 7200), (1_824_944_400, 3600)]);

    #[test]
    fn a_change_of_offset_moves_local_time() {
        assert_eq!(utc(2027, 3, 28, 1, 0), 1_806_195_600);
        assert_eq!(utc(2027, 10, 31, 1, 0), 1_824_944_400);
        central_european_2027(CET_2027);
    }

    /// The same with the system's local time: this test runs
    /// [`system_zone_in_a_child`] with `TZ=Europe/Paris` (tzdata, which the test setup
    /// installs).
    #[test]
    fn the_system_zone_follows_summer_time() {
        assert!(
            std::path::Path::new("/usr/share/zoneinfo/Europe/Paris").exists(),
            "the zone Europe/Paris is missing: install tzdata"
        );
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["timeperiod::tests::system_zone_in_a_child", "--exact"])
            .args(["--nocapture", "--test-threads=1"])
            .env("TZ", "Europe/Paris")
            .env("HCOOP_TIMEPERIOD_CHILD", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}");
        assert!(text.contains("1 passed"), "{text}");
    }

    /// Run by [`the_system_zone_follows_summer_time`]; alone, it does nothing.
    #[test]
    fn system_zone_in_a_child() {
        if std::env::var_os("HCOOP_TIMEPERIOD_CHILD").is_some() {
            assert_eq!(Zone::Local.offset_at(1_806_195_600 - 1), 3600);
            assert_eq!(Zone::Local.offset_at(1_806_195_600), 7200);
            central_european_2027(Zone::Local);
        }
    }

    /// What periods say in central European time in 2027 (`zone`).
    fn central_european_2027(zone: Zone) {
        let s = set(
            &[
                "timeperiod_name spring\nsunday 02:30-04:00",
                "timeperiod_name autumn\nsunday 02:00-02:30",
                WORKHOURS,
            ],
            zone,
        );
        let id = |n| s.id(n).unwrap();
        // 02:00 to 03:00 local does not happen on 2027-03-28: the range starts at 03:00
        let (spring, change) = (id("spring"), utc(2027, 3, 28, 1, 0));
        assert!(!s.contains(spring, change - 1));
        assert!(s.contains(spring, change));
        assert!(s.contains(spring, utc(2027, 3, 28, 1, 59)));
        assert!(!s.contains(spring, utc(2027, 3, 28, 2, 0)));
        assert_eq!(s.next_valid(spring, utc(2027, 3, 28, 0, 0)), Some(change));
        // 02:00 to 03:00 local happens twice on 2027-10-31: the range, twice
        let autumn = id("autumn");
        assert!(s.contains(autumn, utc(2027, 10, 31, 0, 0)));
        assert!(!s.contains(autumn, utc(2027, 10, 31, 0, 30)));
        assert!(s.contains(autumn, utc(2027, 10, 31, 1, 0)));
        assert!(!s.contains(autumn, utc(2027, 10, 31, 1, 30)));
        assert_eq!(
            s.next_valid(autumn, utc(2027, 10, 31, 0, 30)),
            Some(utc(2027, 10, 31, 1, 0))
        );
        // summer time for the weeks between: Monday 09:00 local is 07:00 UTC, in
        // winter 08:00 UTC
        let w = id("workhours");
        assert_eq!(
            s.next_valid(w, utc(2027, 3, 26, 16, 0)),
            Some(utc(2027, 3, 29, 7, 0))
        );
        assert_eq!(
            s.next_valid(w, utc(2027, 10, 29, 16, 0)),
            Some(utc(2027, 11, 1, 8, 0))
        );
        assert_eq!(
            s.next_valid(w, utc(2027, 10, 30, 0, 0)),
            Some(utc(2027, 11, 1, 8, 0))
        );
    }

    proptest! {
        #[test]
        fn any_text_parses_or_fails_without_panic(text in "\\PC{0,200}") {
            let _ = TimePeriod::parse(&text);
            let _ = parse_rule(&text);
        }

        #[test]
        fn next_valid_is_the_first_contained_time(
            rules in prop::collection::vec(prop::sample::select(vec![
                "monday 09:00-17:00", "day -1 22:00-24:00", "day 1 - 15 / 5 00:00-01:00",
                "thursday -1 november 00:00-24:00", "2026-12-01 - 2027-01-05 / 3 08:00-10:00",
                "november 15 - february 15 00:00-00:30", "monday 2 - thursday 3 05:00-06:00",
                "friday 00:00-24:00", "day 10 - 20 12:00-18:00",
            ]), 1..4),
            excluded in prop::sample::select(vec![
                "", "day 1 - 31 12:30-13:00", "2026-12-25 00:00-24:00", "monday 3 00:00-24:00",
            ]),
            t in 1_700_000_000u64..1_900_000_000,
            offset in -50_400i32..=50_400,
        ) {
            // weekday lines may repeat in `rules`: the first one stands
            let mut p = TimePeriod::new("p", "");
            for rule in &rules {
                let _ = p.add_rule(rule);
            }
            let mut x = TimePeriod::new("x", "");
            if !excluded.is_empty() {
                x.add_rule(excluded).unwrap();
            }
            p.exclude.push("x".into());
            let s = TimePeriods::new(vec![p, x], Zone::Offset(offset)).unwrap();
            let id = s.id("p").unwrap();
            let found = s.next_valid(id, t);
            if let Some(v) = found {
                prop_assert!(v >= t);
                prop_assert!(s.contains(id, v));
            }
            // nothing valid before it (every minute's first second, and the second
            // before it), over up to four days
            let end = found.unwrap_or(u64::MAX).min(t + 4 * 86_400);
            let mut probe = t;
            while probe < end {
                prop_assert!(!s.contains(id, probe), "{} is valid before {:?}", probe, found);
                probe = (probe / 60 + 1) * 60;
            }
            if let Some(v) = found.filter(|v| *v > t) {
                prop_assert!(!s.contains(id, v - 1));
            }
        }
    }

    proptest! {
        // few generated rules are valid: more cases, so that some dozens answer
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn rule_shaped_text_parses_or_fails_without_panic(
            text in "(day|monday|thursday|february|november|[a-zé]{1,9}|[0-9]{4}-(0?[1-9]|1[0-2])-(0?[1-9]|[12][0-9]))( -?[1-5]| -?[0-9]{1,2}| (friday|may|december|day)| -| / [1-9]| 20[0-9]{2}-(0?[1-9]|1[0-2])-(0?[1-9]|[12][0-9])){0,5} ([01][0-9]|2[0-3]):[0-5][0-9]-2[0-4]:[0-9]0(,[0-9:-]{0,11}){0,2}",
            t in prop_oneof![any::<u64>(), 0u64..4_000_000_000],
            offset in any::<i32>(),
        ) {
            // what parses also answers, at any time and offset
            if parse_rule(&text).is_ok() {
                let mut p = TimePeriod::new("p", "");
                p.add_rule(&text).unwrap();
                let s = TimePeriods::new(vec![p], Zone::Offset(offset)).unwrap();
                let id = s.id("p").unwrap();
                let _ = s.contains(id, t);
                let _ = s.next_valid(id, t);
            }
        }
    }
}
