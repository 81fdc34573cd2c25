//! check_ntp_time: the offset of this host's clock to an NTP server's (client-mode
//! queries, as monitoring-plugins' check_ntp_time), against `-w`/`-c` in seconds.
//! Options, the "Offset N secs" text and the perfdata (`offset=Ns;w;c;`) follow the
//! peer.
//!
//! Every address of the host is asked up to four times; the server kept is the one the
//! peer keeps (not stratum 0, no leap alarm, then the lowest stratum, root dispersion
//! and root delay), and its offsets are averaged. `-o` adds a known offset.

use crate::plugin::ntp_args::{NtpServerArgs, OffsetArgs};
use crate::plugin::{
    CheckResult, CommonArgs, Family, PerfData, State, Thresholds, UsageError, Work, EXIT_CODES,
};
use crate::proto::ntp::{self, fmt_g10, resolve, Sample, LI_ALARM};
use clap::Parser;
use std::time::Duration;

/// The samples asked of each server.
pub const SAMPLES: usize = 4;

/// Command line of check_ntp_time (the peer's options).
#[derive(Parser, Debug)]
#[command(
    name = "check_ntp_time",
    version,
    about = "Checks the clock offset between this host and a remote NTP server.",
    after_help = format!("To monitor an NTP server itself, use check_ntp_peer. -o compensates a server's known and expected skew. Where ours differs from Debian's: requests go out as soon as the previous one is answered (at most 4 per address), and a threshold that is not a range is refused (exit 3).\n\n{EXIT_CODES}")
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    #[command(flatten)]
    pub server: NtpServerArgs,

    /// UNKNOWN instead of CRITICAL when the offset cannot be found
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,

    #[command(flatten)]
    pub offset: OffsetArgs,

    /// Expected offset of the server relative to this host (seconds)
    #[arg(
        short = 'o',
        long = "time-offset",
        value_name = "INTEGER",
        allow_hyphen_values = true
    )]
    pub time_offset: Option<i64>,
}

/// The validated check.
#[derive(Debug)]
pub struct NtpTimeCheck {
    pub host: String,
    pub port: u16,
    pub family: Family,
    pub quiet: bool,
    pub thresholds: Thresholds,
    pub time_offset: f64,
    pub timeout: Duration,
}

/// What the servers answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Facts {
    /// The host did not resolve.
    Resolve(String),
    /// No address answered at all.
    NoResponse,
    /// Each answering address's samples.
    Samples(Vec<Vec<Sample>>),
}

impl crate::plugin::Check for NtpTimeCheck {
    type Args = Args;
    type Facts = Facts;
    const LABEL: &'static str = "NTP";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        Ok(NtpTimeCheck {
            family: args.server.family(),
            host: args.server.hostname,
            port: args.server.port,
            quiet: args.quiet,
            thresholds: args.offset.thresholds(),
            time_offset: args.time_offset.unwrap_or(0) as f64,
            timeout: args.common.timeout.duration,
        })
    }

    /// Asks every address at once, for at most half the timeout (as the peer).
    fn fetch(&self) -> Work<'_, Facts> {
        Work::remote(async move {
            let addrs = match resolve(&self.host, self.port, self.family).await {
                Ok(a) => a,
                Err(e) => return Facts::Resolve(e),
            };
            let budget = (self.timeout / 2).max(Duration::from_millis(500));
            let asks = addrs
                .iter()
                .map(|&a| ntp::time_samples(a, SAMPLES, Duration::from_secs(1), budget));
            let answers: Vec<_> = futures_util::future::join_all(asks)
                .await
                .into_iter()
                .filter_map(Result::ok)
                .collect();
            if answers.is_empty() {
                Facts::NoResponse
            } else {
                Facts::Samples(answers)
            }
        })
    }

    fn evaluate(&self, facts: &Facts) -> CheckResult {
        let samples = match facts {
            Facts::Resolve(e) => return CheckResult::unknown(e.clone()),
            Facts::NoResponse => {
                return CheckResult::new(State::Critical, "No response from NTP server")
            }
            Facts::Samples(s) => s,
        };
        let Some(offset) = best_server(samples).map(|s| average_offset(s) + self.time_offset)
        else {
            let state = if self.quiet {
                State::Unknown
            } else {
                State::Critical
            };
            return CheckResult::new(state, "Offset unknown");
        };
        let state = self.thresholds.state(offset.abs());
        CheckResult::new(state, format!("Offset {} secs", fmt_g10(offset))).with_perf(
            PerfData::new("offset", offset)
                .uom(crate::plugin::Uom::Seconds)
                .thresholds(&self.thresholds),
        )
    }
}

/// The server whose samples are used: not stratum 0 and no leap alarm (its last
/// answer), then the lowest stratum, root dispersion and root delay, the first of equals.
pub fn best_server(servers: &[Vec<Sample>]) -> Option<&[Sample]> {
    let mut best: Option<&Sample> = None;
    let mut best_i = None;
    for (i, s) in servers.iter().enumerate() {
        let Some(last) = s.last() else { continue };
        if last.stratum == 0 || last.leap == LI_ALARM {
            continue;
        }
        let better = match best {
            None => true,
            Some(b) => {
                last.stratum <= b.stratum
                    && last.root_dispersion <= b.root_dispersion
                    && last.root_delay < b.root_delay
            }
        };
        if better {
            best = Some(last);
            best_i = Some(i);
        }
    }
    best_i.map(|i| servers[i].as_slice())
}

/// The mean offset of samples.
pub fn average_offset(s: &[Sample]) -> f64 {
    s.iter().map(|x| x.offset).sum::<f64>() / s.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::Check;

    fn check(argv: &[&str]) -> Result<NtpTimeCheck, UsageError> {
        crate::plugin::runner::validate::<NtpTimeCheck>(argv)
    }

    fn sample(offset: f64, stratum: u8, leap: u8, disp: f64, delay: f64) -> Sample {
        Sample {
            offset,
            stratum,
            leap,
            root_delay: delay,
            root_dispersion: disp,
        }
    }

    #[test]
    fn picks_the_server_the_peer_picks() {
        let servers = vec![
            vec![sample(1.0, 0, 0, 0.0, 0.0)],
            vec![sample(2.0, 2, LI_ALARM, 0.0, 0.0)],
            vec![sample(3.0, 3, 0, 0.1, 0.1), sample(5.0, 3, 0, 0.1, 0.1)],
            vec![sample(4.0, 2, 0, 0.1, 0.05)],
        ];
        assert_eq!(average_offset(best_server(&servers).unwrap()), 4.0);
        assert_eq!(average_offset(best_server(&servers[..3]).unwrap()), 4.0);
        assert!(best_server(&servers[..2]).is_none());
    }

    #[test]
    fn states_text_and_perfdata() {
        let c = check(&["-H", "h"]).unwrap();
        let ok = Facts::Samples(vec![vec![sample(-0.5, 2, 0, 0.0, 0.0)]]);
        let r = c.evaluate(&ok);
        assert_eq!(r.state(), State::Ok);
        assert_eq!(
            crate::plugin::output::render_text("NTP", &r)
                .lines()
                .next()
                .unwrap(),
            "NTP OK - Offset -0.5 secs | offset=-0.5s;60;120"
        );
        let c = check(&["-H", "h", "-w", "0.1", "-c", "1"]).unwrap();
        assert_eq!(c.evaluate(&ok).state(), State::Warning);
        let c = check(&["-H", "h", "-w", "1000:", "-c", "2000"]).unwrap();
        assert_eq!(c.evaluate(&ok).state(), State::Warning);
        let c = check(&["-H", "h", "-o", "100"]).unwrap();
        assert_eq!(c.evaluate(&ok).state(), State::Warning);
        let unsynced = Facts::Samples(vec![vec![sample(0.0, 16, LI_ALARM, 0.0, 0.0)]]);
        let r = c.evaluate(&unsynced);
        assert_eq!(
            (r.state(), r.summary.as_str()),
            (State::Critical, "Offset unknown")
        );
        assert!(r.perfdata.is_empty());
        let q = check(&["-H", "h", "-q"]).unwrap();
        assert_eq!(q.evaluate(&unsynced).state(), State::Unknown);
        let r = q.evaluate(&Facts::NoResponse);
        assert_eq!(
            (r.state(), r.summary.as_str()),
            (State::Critical, "No response from NTP server")
        );
        assert!(check(&["-H", "h", "-w", "x"]).is_err());
        assert!(check(&["-H", "h", "-p", "0"]).is_err());
        assert!(check(&[]).is_err());
    }
}
