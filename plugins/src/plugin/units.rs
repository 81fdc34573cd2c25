//! Sizes and thresholds with units: `512M`, `2GiB`, `80%`, `@1G:2G`.

use super::range::Range;
use std::str::FromStr;

/// Bytes in one unit named by a suffix. Binary multiples, as `df`, `free` and
/// monitoring-plugins' `-u` use them; `kB`/`KB`/`K`/`KiB` all mean 1024.
pub fn unit_factor(suffix: &str) -> Option<f64> {
    let k = 1024f64;
    Some(match suffix.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => k,
        "m" | "mb" | "mib" => k * k,
        "g" | "gb" | "gib" => k * k * k,
        "t" | "tb" | "tib" => k * k * k * k,
        "p" | "pb" | "pib" => k * k * k * k * k,
        _ => return None,
    })
}

/// Splits `text` into the number part and a trailing alphabetic or `%` suffix.
fn split_suffix(text: &str) -> (&str, &str) {
    let t = text.trim();
    // the end of the last character that is not part of the suffix (any width)
    let cut = t
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_ascii_alphabetic() || c == '%'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    t.split_at(cut)
}

/// Reads a size such as `4096`, `512M`, `2GiB`, `1.5T` into bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let (num, suffix) = split_suffix(text);
    let factor = unit_factor(suffix).ok_or_else(|| {
        format!(
            "'{}': unknown size unit '{}'",
            super::text::shown(text),
            super::text::shown(suffix)
        )
    })?;
    let v: f64 = num.parse().map_err(|_| {
        format!(
            "'{}' is not a size (examples: 4096, 512M, 2GiB)",
            super::text::shown(text)
        )
    })?;
    if !(v.is_finite() && v >= 0.0) {
        return Err(format!("'{}' is not a size", super::text::shown(text)));
    }
    Ok((v * factor).round() as u64)
}

/// A threshold that is either a percentage or an amount of bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Level {
    /// `80%`: a range over percent.
    Percent(Range),
    /// `2G`, `@1G:2G`, or a bare number (bytes): a range over bytes.
    Bytes(Range),
}

impl FromStr for Level {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (num, suffix) = split_suffix(text);
        if suffix == "%" {
            let r: Range = num
                .parse()
                .map_err(|e: super::range::RangeError| e.to_string())?;
            return Ok(Level::Percent(r));
        }
        let factor = unit_factor(suffix).ok_or_else(|| {
            format!(
                "'{}': unknown unit '{}' (use %, K, M, G, T)",
                super::text::shown(text),
                super::text::shown(suffix)
            )
        })?;
        let r: Range = num
            .parse()
            .map_err(|e: super::range::RangeError| e.to_string())?;
        Ok(Level::Bytes(r.scaled(factor)))
    }
}

/// Formats bytes for people: `1.5 GiB`, `512 MiB`, `100 B`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = bytes as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < UNITS.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{bytes} B")
    } else if v >= 100.0 {
        format!("{v:.0} {}", UNITS[i])
    } else {
        format!("{:.1} {}", v, UNITS[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multibyte_input_is_an_error_not_a_panic() {
        for text in ["é", "１０", "5é", "é%", "10é%", "\u{301}"] {
            assert!(parse_size(text).is_err(), "{text}");
            assert!(text.parse::<Level>().is_err(), "{text}");
        }
        assert_eq!(split_suffix("10é%"), ("10é", "%"));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert_eq!(parse_size("512M").unwrap(), 512 << 20);
        assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
        assert_eq!(parse_size("1.5k").unwrap(), 1536);
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("G").is_err());
        assert!(parse_size("-5M").is_err());
    }

    #[test]
    fn levels() {
        assert_eq!(
            "80%".parse::<Level>().unwrap(),
            Level::Percent("80".parse().unwrap())
        );
        assert_eq!(
            "@10:20%".parse::<Level>().unwrap(),
            Level::Percent("@10:20".parse().unwrap())
        );
        assert_eq!(
            "2G".parse::<Level>().unwrap(),
            Level::Bytes("2147483648".parse().unwrap())
        );
        assert_eq!(
            "1:2K".parse::<Level>().unwrap(),
            Level::Bytes("1024:2048".parse().unwrap())
        );
        assert!("5:2%".parse::<Level>().is_err());
        assert!("5X".parse::<Level>().is_err());
    }

    #[test]
    fn human() {
        assert_eq!(human_bytes(100), "100 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(300 << 20), "300 MiB");
    }
}
