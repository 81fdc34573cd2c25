//! What the modes of check_afs share: the host lists and ports of `-H`/`-p`, percent
//! levels, partition names, and percent arithmetic.

use crate::plugin::{parse_host, shown, Range, Thresholds, UsageError};

/// The hosts of `-H`, trimmed; none may be empty, each a name or an address (never
/// echoed raw: a newline or 100 KB is refused with the value escaped and cut).
pub fn hosts(list: Vec<String>) -> Result<Vec<String>, UsageError> {
    let list: Vec<String> = list.into_iter().map(|h| h.trim().to_string()).collect();
    if list.is_empty() || list.iter().any(String::is_empty) {
        return Err(UsageError::new("empty host name in -H"));
    }
    list.iter()
        .map(|h| parse_host(h).map_err(UsageError))
        .collect()
}

/// Every host on every port (7000 when no port is given).
pub fn targets(list: Vec<String>, ports: &[u16]) -> Result<Vec<(String, u16)>, UsageError> {
    if ports.contains(&0) {
        return Err(UsageError::new("port 0 in -p"));
    }
    let ports = if ports.is_empty() { &[7000][..] } else { ports };
    Ok(hosts(list)?
        .into_iter()
        .flat_map(|h| ports.iter().map(move |&p| (h.clone(), p)))
        .collect())
}

/// Levels in percent (0 to 100) of `-w`/`-c`.
pub fn percent_levels(w: f64, c: f64) -> Result<Thresholds, UsageError> {
    for (what, v) in [("warning", w), ("critical", c)] {
        if !(0.0..=100.0).contains(&v) {
            return Err(UsageError::new(format!(
                "{what} {v} must be a percentage from 0 to 100"
            )));
        }
    }
    let level = |v: f64| {
        format!("{v}")
            .parse::<Range>()
            .map_err(|e| UsageError::new(e.to_string()))
    };
    Ok(Thresholds::new(Some(level(w)?), Some(level(c)?)))
}

/// A partition as `/vicepX`, from `a`, `vicepa` or `/vicepa`.
pub fn partition_name(p: Option<String>) -> Result<Option<String>, UsageError> {
    let Some(p) = p else { return Ok(None) };
    let bare = p
        .trim()
        .trim_start_matches("/vicep")
        .trim_start_matches("vicep");
    if bare.is_empty() || bare.len() > 2 || !bare.chars().all(|c| c.is_ascii_lowercase()) {
        return Err(UsageError::new(format!(
            "partition '{}' is not a name such as a, vicepa or /vicepa",
            shown(&p)
        )));
    }
    Ok(Some(format!("/vicep{bare}")))
}

/// A perfdata label safe for any host name.
pub fn label(parts: &[&str]) -> String {
    parts.join("_")
}

/// A number rounded to six decimals (microseconds, millionths of a percent).
pub fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Percent of `max` that `used` is.
pub fn percent(used: u64, max: u64) -> f64 {
    if max == 0 {
        0.0
    } else {
        used as f64 * 100.0 / max as f64
    }
}
