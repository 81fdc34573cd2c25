//! Performance data: `'label'=value[UOM];[warn];[crit];[min];[max]`.

use super::range::{format_number, Range};
use serde::{Serialize, Serializer};
use std::fmt;

/// Unit of measurement, the set Nagios and Icinga 2 understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Uom {
    #[default]
    None,
    Seconds,
    Millis,
    Micros,
    Percent,
    Bytes,
    Kilobytes,
    Megabytes,
    Gigabytes,
    Terabytes,
    Counter,
}

impl Uom {
    /// The text written after the value.
    pub fn as_str(self) -> &'static str {
        match self {
            Uom::None => "",
            Uom::Seconds => "s",
            Uom::Millis => "ms",
            Uom::Micros => "us",
            Uom::Percent => "%",
            Uom::Bytes => "B",
            Uom::Kilobytes => "KB",
            Uom::Megabytes => "MB",
            Uom::Gigabytes => "GB",
            Uom::Terabytes => "TB",
            Uom::Counter => "c",
        }
    }

    /// The unit for a UOM text (case-insensitive for the byte units, as Nagios is).
    pub fn parse(text: &str) -> Option<Uom> {
        Some(match text {
            "" => Uom::None,
            "s" => Uom::Seconds,
            "ms" => Uom::Millis,
            "us" => Uom::Micros,
            "%" => Uom::Percent,
            "c" => Uom::Counter,
            t => match t.to_ascii_uppercase().as_str() {
                "B" => Uom::Bytes,
                "KB" => Uom::Kilobytes,
                "MB" => Uom::Megabytes,
                "GB" => Uom::Gigabytes,
                "TB" => Uom::Terabytes,
                _ => return None,
            },
        })
    }
}

impl Serialize for Uom {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A number as it is printed: integers stay integers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    /// `U`: the check could not determine the value (the plugin guidelines' form, as
    /// check_ping's `rta=U` at 100% loss); graphs show a gap, not a zero.
    Undetermined,
}

impl Value {
    /// The value as a float, for threshold comparison (NaN when undetermined).
    pub fn as_f64(self) -> f64 {
        match self {
            Value::Int(i) => i as f64,
            Value::Float(f) => f,
            Value::Undetermined => f64::NAN,
        }
    }

    /// False for [`Value::Undetermined`].
    pub fn is_determined(self) -> bool {
        self != Value::Undetermined
    }
}

impl fmt::Display for Value {
    /// Integers as they are; floats with at most 6 decimals, trailing zeros cut.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Value::Undetermined => f.write_str("U"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) if x.fract() == 0.0 && x.abs() < 1e15 => f.write_str(&format_number(x)),
            Value::Float(x) => {
                let s = format!("{x:.6}");
                let s = s.trim_end_matches('0').trim_end_matches('.');
                f.write_str(if s == "-0" { "0" } else { s })
            }
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Value::Int(i) => s.serialize_i64(i),
            Value::Float(x) => s.serialize_f64(x),
            Value::Undetermined => s.serialize_none(),
        }
    }
}

macro_rules! value_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
            }
        }
    )*};
}
value_from_int!(i32, i64, u32, u64, usize);

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

/// One performance data item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PerfData {
    pub label: String,
    pub value: Value,
    pub uom: Uom,
    pub warn: Option<Range>,
    pub crit: Option<Range>,
    pub min: Option<Value>,
    pub max: Option<Value>,
}

impl PerfData {
    /// An item with a value and nothing else; add the rest with the builder methods.
    pub fn new(label: impl Into<String>, value: impl Into<Value>) -> Self {
        PerfData {
            label: label.into(),
            value: value.into(),
            uom: Uom::None,
            warn: None,
            crit: None,
            min: None,
            max: None,
        }
    }

    /// Sets the unit.
    pub fn uom(mut self, uom: Uom) -> Self {
        self.uom = uom;
        self
    }

    /// Sets both threshold fields.
    pub fn thresholds(mut self, t: &super::thresholds::Thresholds) -> Self {
        self.warn = t.warning;
        self.crit = t.critical;
        self
    }

    /// Sets the minimum.
    pub fn min(mut self, v: impl Into<Value>) -> Self {
        self.min = Some(v.into());
        self
    }

    /// Sets the maximum.
    pub fn max(mut self, v: impl Into<Value>) -> Self {
        self.max = Some(v.into());
        self
    }
}

/// Writes a label, single-quoted when it holds white space, `'` or `=` (a `'` doubled).
/// A label with a control character or `|` (a name a member chose: a mount point, a
/// process) is written escaped, so it can never end the perfdata or the line.
fn write_label(f: &mut fmt::Formatter<'_>, label: &str) -> fmt::Result {
    let escaped;
    let label = if label.contains(|c: char| c.is_control() || c == '|') {
        escaped = super::text::shown(label);
        escaped.as_str()
    } else {
        label
    };
    if label.is_empty() || label.contains(char::is_whitespace) || label.contains(['\'', '=']) {
        write!(f, "'{}'", label.replace('\'', "''"))
    } else {
        f.write_str(label)
    }
}

impl fmt::Display for PerfData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_label(f, &self.label)?;
        write!(f, "={}{}", self.value, self.uom.as_str())?;
        let fields = [
            self.warn.map(|r| r.to_string()),
            self.crit.map(|r| r.to_string()),
            self.min.map(|v| v.to_string()),
            self.max.map(|v| v.to_string()),
        ];
        let used = fields
            .iter()
            .rposition(Option::is_some)
            .map_or(0, |i| i + 1);
        for field in &fields[..used] {
            write!(f, ";{}", field.as_deref().unwrap_or(""))?;
        }
        Ok(())
    }
}

/// Why a perfdata text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad perfdata '{item}': {reason}")]
pub struct PerfParseError {
    item: String,
    reason: String,
}

fn parse_value(text: &str) -> Option<Value> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(Value::Int(i));
    }
    let f: f64 = text.replace(',', ".").parse().ok()?;
    f.is_finite().then_some(Value::Float(f))
}

fn parse_item(label: String, rest: &str) -> Result<PerfData, PerfParseError> {
    let err = |reason: &str| PerfParseError {
        item: format!("{label}={rest}"),
        reason: reason.to_string(),
    };
    let mut fields = rest.split(';');
    let value_uom = fields.next().unwrap_or("");
    let split = value_uom
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E' | ',')))
        .unwrap_or(value_uom.len());
    let (value, uom) = match value_uom.strip_prefix('U') {
        // `U`: undetermined (a unit may follow, as with a number)
        Some(uom) => ("U", uom),
        None => value_uom.split_at(split),
    };
    let value = match value {
        "U" => Value::Undetermined,
        v => parse_value(v).ok_or_else(|| err("value is not a number"))?,
    };
    let uom = Uom::parse(uom).ok_or_else(|| err("unknown unit"))?;
    let range = |f: Option<&str>| -> Result<Option<Range>, PerfParseError> {
        match f.map(str::trim) {
            None | Some("") => Ok(None),
            Some(t) => t
                .parse()
                .map(Some)
                .map_err(|e: super::range::RangeError| err(&e.to_string())),
        }
    };
    let warn = range(fields.next())?;
    let crit = range(fields.next())?;
    let bound = |f: Option<&str>| -> Result<Option<Value>, PerfParseError> {
        match f.map(str::trim) {
            None | Some("") => Ok(None),
            Some(t) => parse_value(t)
                .map(Some)
                .ok_or_else(|| err("min/max is not a number")),
        }
    };
    let min = bound(fields.next())?;
    let max = bound(fields.next())?;
    Ok(PerfData {
        label,
        value,
        uom,
        warn,
        crit,
        min,
        max,
    })
}

/// Reads a perfdata string (the part after `|`) into its items. Items that cannot be
/// read are returned as errors in place, so a caller may keep the good ones.
pub fn parse_perfdata(text: &str) -> Vec<Result<PerfData, PerfParseError>> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let (label, after) = if let Some(quoted) = rest.strip_prefix('\'') {
            // quoted label: '' is an escaped quote
            let mut label = String::new();
            let mut chars = quoted.char_indices().peekable();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                if c == '\'' {
                    if chars.peek().map(|&(_, n)| n) == Some('\'') {
                        label.push('\'');
                        chars.next();
                    } else {
                        end = Some(i + 1);
                        break;
                    }
                } else {
                    label.push(c);
                }
            }
            match end {
                Some(e) => (label, &quoted[e..]),
                None => {
                    out.push(Err(PerfParseError {
                        item: rest.to_string(),
                        reason: "unterminated quote".into(),
                    }));
                    break;
                }
            }
        } else {
            let e = rest.find('=').unwrap_or(rest.len());
            (rest[..e].to_string(), &rest[e..])
        };
        let Some(after) = after.strip_prefix('=') else {
            let e = after.find(char::is_whitespace).unwrap_or(after.len());
            out.push(Err(PerfParseError {
                item: label,
                reason: "missing '='".into(),
            }));
            rest = after[e..].trim_start();
            continue;
        };
        let e = after.find(char::is_whitespace).unwrap_or(after.len());
        out.push(parse_item(label, &after[..e]));
        rest = after[e..].trim_start();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn labels_never_break_the_line() {
        let p = PerfData::new("a\nb|c", Value::Int(1));
        assert_eq!(p.to_string(), "a\\nb¦c=1");
        let p = PerfData::new("x\u{a0}y", Value::Int(1));
        assert_eq!(p.to_string(), "'x\u{a0}y'=1");
    }

    #[test]
    fn formats_items() {
        let t = super::super::thresholds::Thresholds::new(
            Some("15".parse().unwrap()),
            Some("~:30".parse().unwrap()),
        );
        let p = PerfData::new("load1", 0.52).thresholds(&t).min(0);
        assert_eq!(p.to_string(), "load1=0.52;15;~:30;0");
        assert_eq!(PerfData::new("procs", 3).to_string(), "procs=3");
        assert_eq!(
            PerfData::new("/var", 1024u64)
                .uom(Uom::Bytes)
                .min(0)
                .max(4096u64)
                .to_string(),
            "/var=1024B;;;0;4096"
        );
        assert_eq!(
            PerfData::new("time", 0.1 + 0.2)
                .uom(Uom::Seconds)
                .to_string(),
            "time=0.3s"
        );
        assert_eq!(PerfData::new("x", 2.0).to_string(), "x=2");
        assert_eq!(PerfData::new("x", -0.0000001).to_string(), "x=0");
    }

    #[test]
    fn undetermined_values_are_u() {
        let p = PerfData::new("rta", Value::Undetermined);
        assert_eq!(p.to_string(), "rta=U");
        assert_eq!(
            serde_json::to_value(&p).unwrap()["value"],
            serde_json::Value::Null
        );
        assert!(p.value.as_f64().is_nan() && !p.value.is_determined());
        let items: Vec<_> = parse_perfdata("rta=U;10.000000;10.000000;; pl=100%;100;100;0 t=Us")
            .into_iter()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(items[0].value, Value::Undetermined);
        assert_eq!(items[0].warn.unwrap().to_string(), "10");
        assert_eq!(items[1].value, Value::Int(100));
        assert_eq!(
            (items[2].value, items[2].uom),
            (Value::Undetermined, Uom::Seconds)
        );
        assert!(parse_perfdata("x=Ux").into_iter().all(|r| r.is_err()));
        assert!(parse_perfdata("x=UU").into_iter().all(|r| r.is_err()));
    }

    #[test]
    fn quotes_labels() {
        assert_eq!(PerfData::new("a b", 1).to_string(), "'a b'=1");
        assert_eq!(PerfData::new("it's", 1).to_string(), "'it''s'=1");
        assert_eq!(PerfData::new("k=v", 1).to_string(), "'k=v'=1");
        assert_eq!(PerfData::new("", 1).to_string(), "''=1");
    }

    #[test]
    fn parses_what_nagios_plugins_write() {
        let items: Vec<_> = parse_perfdata(
            "load1=0.110;15.000;30.000;0; 'my disk'=5MB;;;0;10 'it''s'=1c time=0,5s",
        )
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
        assert_eq!(items.len(), 4);
        assert_eq!(items[0].label, "load1");
        assert_eq!(items[0].value, Value::Float(0.11));
        assert_eq!(items[0].warn.unwrap().to_string(), "15");
        assert_eq!(items[0].min, Some(Value::Int(0)));
        assert_eq!(items[1].label, "my disk");
        assert_eq!(items[1].uom, Uom::Megabytes);
        assert_eq!(items[1].max, Some(Value::Int(10)));
        assert_eq!(items[2].label, "it's");
        assert_eq!(items[2].uom, Uom::Counter);
        assert_eq!(items[3].value, Value::Float(0.5));
    }

    #[test]
    fn reports_bad_items_in_place() {
        let items = parse_perfdata("a=1 b=x c=3furlongs d=4 'open=1");
        assert!(items[0].is_ok());
        assert!(items[1].is_err());
        assert!(items[2].is_err());
        assert!(items[3].is_ok());
        assert!(items[4].is_err());
    }

    fn uom() -> impl Strategy<Value = Uom> {
        prop_oneof![
            Just(Uom::None),
            Just(Uom::Seconds),
            Just(Uom::Millis),
            Just(Uom::Micros),
            Just(Uom::Percent),
            Just(Uom::Bytes),
            Just(Uom::Kilobytes),
            Just(Uom::Megabytes),
            Just(Uom::Gigabytes),
            Just(Uom::Terabytes),
            Just(Uom::Counter),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<i64>().prop_map(Value::Int),
            (-1e6f64..1e6).prop_map(|f| Value::Float((f * 1000.0).round() / 1000.0)),
        ]
    }

    fn range() -> impl Strategy<Value = Option<Range>> {
        proptest::option::of(
            (0i64..1000, 0i64..1000, any::<bool>()).prop_map(|(a, b, at)| {
                let (lo, hi) = (a.min(b), a.max(b));
                format!("{}{lo}:{hi}", if at { "@" } else { "" })
                    .parse()
                    .unwrap()
            }),
        )
    }

    proptest! {
        #[test]
        fn round_trip(
            label in "[a-zA-Z0-9_ '/=.-]{1,20}",
            value in value(), uom in uom(), warn in range(), crit in range(),
            min in proptest::option::of(value()), max in proptest::option::of(value()),
        ) {
            let p = PerfData { label, value, uom, warn, crit, min, max };
            let text = format!("{p} {p}");
            let back = parse_perfdata(&text);
            prop_assert_eq!(back.len(), 2);
            for b in back {
                let b = b.unwrap();
                prop_assert_eq!(b.to_string(), p.to_string());
                prop_assert_eq!(&b.label, &p.label);
                prop_assert_eq!(b.uom, p.uom);
                prop_assert!((b.value.as_f64() - p.value.as_f64()).abs() <= 1e-9 * p.value.as_f64().abs().max(1.0));
            }
        }

        #[test]
        fn parser_never_panics(s in "\\PC{0,40}") {
            let _ = parse_perfdata(&s);
        }
    }
}
