//! What the modes of check_afs share: the servers and ports of `-H`/`-p`, percent
//! levels, partition names, and percent arithmetic.

use crate::plugin::{parse_level, shown, HostListArgs, Level, Thresholds, Unit, UsageError};

/// Every host of `-H` on every port (7000 when no port is given).
pub fn targets(hosts: &HostListArgs, ports: &[u16]) -> Result<Vec<(String, u16)>, UsageError> {
    if ports.contains(&0) {
        return Err(UsageError::new("port 0 in -p"));
    }
    let ports = if ports.is_empty() { &[7000][..] } else { ports };
    Ok(hosts
        .validated()?
        .into_iter()
        .flat_map(|h| ports.iter().map(move |&p| (h.clone(), p)))
        .collect())
}

/// A level in percent, 0 to 100: `85`, `85%` or a range (`@80:90`).
pub fn percent_level(text: &str) -> Result<Level, String> {
    parse_level(text, &[Unit::Percent])
}

/// `-w`/`-c` in percent; a mode names what they measure and gives their defaults on its
/// command: `mut_arg("warning", |a| a.help("...").default_value("85"))`.
#[derive(clap::Args, Debug, Clone)]
pub struct PercentArgs {
    /// Percent that makes the result WARNING
    #[arg(short = 'w', long = "warning", value_name = "PERCENT", value_parser = percent_level)]
    pub warning: Option<Level>,
    /// Percent that makes the result CRITICAL
    #[arg(short = 'c', long = "critical", value_name = "PERCENT", value_parser = percent_level)]
    pub critical: Option<Level>,
}

impl PercentArgs {
    /// The two levels as thresholds over percent.
    pub fn thresholds(&self) -> Thresholds {
        Thresholds::new(
            self.warning.map(|l| l.range),
            self.critical.map(|l| l.range),
        )
    }
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
