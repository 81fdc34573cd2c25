//! The options check_ntp_time and check_ntp_peer share as monitoring-plugins declares
//! them: the server (`-H`, `-p` defaulting to 123, `-4`/`-6`) and the offset levels
//! (`-w`/`-c` in seconds, 60 and 120 unless given).

use super::family_args::FamilyArgs;
use super::range::Range;
use super::target::{parse_host, parse_port, Family};
use super::thresholds::Thresholds;

/// The NTP server asked: `-H`, `-p`, `-4`/`-6`.
#[derive(Debug, Clone, clap::Args)]
pub struct NtpServerArgs {
    /// The NTP server (also as the first bare word)
    #[arg(short = 'H', long = "hostname", value_parser = parse_host)]
    pub hostname: String,

    /// The server's port
    #[arg(short = 'p', long = "port", default_value_t = 123, value_parser = parse_port)]
    pub port: u16,

    #[command(flatten)]
    pub family: FamilyArgs,
}

impl NtpServerArgs {
    /// The address family `-4`/`-6` ask for.
    pub fn family(&self) -> Family {
        self.family.family()
    }
}

/// `-w`/`-c` on the offset, in seconds.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OffsetArgs {
    /// Offset (seconds) for WARNING (default 60)
    #[arg(
        short = 'w',
        long = "warning",
        value_name = "THRESHOLD",
        allow_hyphen_values = true
    )]
    pub warning: Option<Range>,

    /// Offset (seconds) for CRITICAL (default 120)
    #[arg(
        short = 'c',
        long = "critical",
        value_name = "THRESHOLD",
        allow_hyphen_values = true
    )]
    pub critical: Option<Range>,
}

impl OffsetArgs {
    /// The two levels, each its default when not given.
    pub fn thresholds(&self) -> Thresholds {
        let or_default = |r: Option<Range>, text: &str| {
            r.unwrap_or_else(|| text.parse().expect("a valid default range"))
        };
        Thresholds::new(
            Some(or_default(self.warning, "60")),
            Some(or_default(self.critical, "120")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Probe {
        #[command(flatten)]
        server: NtpServerArgs,
        #[command(flatten)]
        offset: OffsetArgs,
    }

    #[test]
    fn port_123_and_offset_defaults() {
        let p = Probe::try_parse_from(["x", "-H", "h", "-6"]).unwrap();
        assert_eq!((p.server.port, p.server.family()), (123, Family::V6));
        let t = p.offset.thresholds();
        assert_eq!(t, Thresholds::new("60".parse().ok(), "120".parse().ok()));
        let p = Probe::try_parse_from(["x", "-H", "h", "-w", "1", "-c", "-2:2"]).unwrap();
        let t = p.offset.thresholds();
        assert_eq!(t, Thresholds::new("1".parse().ok(), "-2:2".parse().ok()));
        assert!(Probe::try_parse_from(["x", "-H", "h", "-w", "5:2"]).is_err());
    }
}
