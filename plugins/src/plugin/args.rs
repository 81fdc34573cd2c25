//! Argument groups that many checks share, declared once and flattened into each
//! check's `Args`: the network target (`-H`, `-p`, `-4`/`-6`), response-time levels
//! (`-w`/`-c` in seconds), plain range levels (`-w`/`-c` over a count), and the state
//! words of `-M`/`-r`.
//!
//! A check names what its levels measure by changing the shared help on its own command:
//! `#[command(mut_arg("warning", |a| a.help("...")))]`.

use super::levels::{parse_level, Level, Unit};
use super::range::Range;
use super::state::State;
use super::target::{parse_host, parse_port, Family};
use super::text::shown;
use super::thresholds::Thresholds;

/// Where a network check connects: `-H`, `-p`, `-4`/`-6`.
#[derive(Debug, Clone, clap::Args)]
pub struct TargetArgs {
    /// Host name or address to connect to (may also be given as the first bare word:
    /// `check_tcp localhost -p 80`)
    #[arg(short = 'H', long = "hostname", value_name = "HOST", value_parser = parse_host)]
    pub hostname: String,

    /// Port to connect to (default: the service's port)
    #[arg(short = 'p', long = "port", value_name = "PORT", value_parser = parse_port)]
    pub port: Option<u16>,

    /// Use IPv4 only
    #[arg(short = '4', long = "use-ipv4", conflicts_with = "ipv6")]
    pub ipv4: bool,

    /// Use IPv6 only
    #[arg(short = '6', long = "use-ipv6")]
    pub ipv6: bool,
}

impl TargetArgs {
    /// The address family `-4`/`-6` ask for.
    pub fn family(&self) -> Family {
        Family::from_flags(self.ipv4, self.ipv6)
    }
}

/// A level in seconds: `2.5`, `500ms`, `2m`, or a range (`@1:2`).
pub fn seconds_level(text: &str) -> Result<Level, String> {
    parse_level(text, &[Unit::Seconds])
}

/// `-w`/`-c` on the response time.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ResponseTimeArgs {
    /// Response time that makes the result WARNING, in seconds (2.5, 500ms, a range)
    #[arg(short = 'w', long = "warning", value_name = "SECONDS", value_parser = seconds_level)]
    pub warning: Option<Level>,

    /// Response time that makes the result CRITICAL, in seconds (5, 2m, a range)
    #[arg(short = 'c', long = "critical", value_name = "SECONDS", value_parser = seconds_level)]
    pub critical: Option<Level>,
}

impl ResponseTimeArgs {
    /// The two levels as thresholds over seconds.
    pub fn thresholds(&self) -> Thresholds {
        Thresholds::new(
            self.warning.map(|l| l.range),
            self.critical.map(|l| l.range),
        )
    }
}

/// `-w`/`-c` as Nagios ranges over the check's own measure (usually a count).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RangeArgs {
    /// Range that makes the result WARNING
    #[arg(
        short = 'w',
        long = "warning",
        value_name = "RANGE",
        allow_hyphen_values = true
    )]
    pub warning: Option<Range>,

    /// Range that makes the result CRITICAL
    #[arg(
        short = 'c',
        long = "critical",
        value_name = "RANGE",
        allow_hyphen_values = true
    )]
    pub critical: Option<Range>,
}

impl RangeArgs {
    /// The two ranges as thresholds.
    pub fn thresholds(&self) -> Thresholds {
        Thresholds::new(self.warning, self.critical)
    }
}

/// A state named as monitoring-plugins' `-M` and `-r` take it: ok, warn, crit (or the
/// full names).
pub fn parse_state_word(s: &str) -> Result<State, String> {
    match s.to_ascii_lowercase().as_str() {
        "ok" => Ok(State::Ok),
        "warn" | "warning" => Ok(State::Warning),
        "crit" | "critical" => Ok(State::Critical),
        _ => Err(format!("'{}' is not one of ok, warn, crit", shown(s))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Probe {
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        time: ResponseTimeArgs,
    }

    #[test]
    fn groups_parse_and_refuse() {
        let p =
            Probe::try_parse_from(["x", "-H", "::1", "-p", "25", "-6", "-w", "500ms", "-c", "2"])
                .unwrap();
        assert_eq!(p.target.family(), Family::V6);
        assert_eq!(p.target.port, Some(25));
        let t = p.time.thresholds();
        assert_eq!(t.state(0.4), State::Ok);
        assert_eq!(t.state(0.6), State::Warning);
        assert_eq!(t.state(2.5), State::Critical);
        for bad in [
            &["x", "-H", "a\nb"][..],
            &["x", "-H", "h", "-p", "0"],
            &["x", "-H", "h", "-w", "é"],
            &["x", "-H", "h", "-c", "5%"],
        ] {
            let e = Probe::try_parse_from(bad).unwrap_err().to_string();
            assert!(e.lines().next().is_some_and(|l| !l.contains("a\nb")), "{e}");
        }
        assert_eq!(parse_state_word("WARN"), Ok(State::Warning));
    }

    #[derive(Parser, Debug)]
    #[command(mut_arg("warning", |a| a.help("Queued messages that make the result WARNING")))]
    struct Counted {
        #[command(flatten)]
        levels: RangeArgs,
    }

    #[test]
    fn range_levels_parse_refuse_and_take_the_check_s_help() {
        use clap::CommandFactory;
        let p = Counted::try_parse_from(["x", "-w", "10", "-c", "@-5:-1"]).unwrap();
        let t = p.levels.thresholds();
        assert_eq!(t.state(5.0), State::Ok);
        assert_eq!(t.state(11.0), State::Warning);
        assert_eq!(t.state(-3.0), State::Critical);
        assert!(Counted::try_parse_from(["x", "-w", "１０"]).is_err());
        let help = Counted::command().render_help().to_string();
        assert!(
            help.contains("Queued messages that make the result WARNING"),
            "{help}"
        );
        assert!(
            help.contains("Range that makes the result CRITICAL"),
            "{help}"
        );
        assert!(parse_state_word("maybe").is_err());
    }
}
