//! check_afs: OpenAFS servers. Modes:
//! - `rx`: the Rx VERSION probe (`rxdebug -version`), natively, with the round-trip time;
//! - `rxstats`: Rx statistics (`rxdebug -noconn`): calls waiting for a thread, idle threads;
//! - `ubik`: the Ubik state of a set of database servers (`udebug`), natively;
//! - `quota`: volumes near or over their quota (`vos listvol`/`vos examine -format`);
//! - `space`: partitions per file server (`vos partinfo`);
//! - `bos`: every bosserver instance running normally (`bos status -long`).
//!
//! Layout: this file holds the command line, the facts of each mode ([`Facts`]) and the
//! dispatch to the modes; each mode is a module of its own ([`rx`], [`rxstats`],
//! [`ubik`], [`quota`], [`space`], [`bos`]) with its arguments, validated
//! configuration, fetch and pure evaluation. [`probe`]
//! asks many servers over Rx at once, [`tools`] runs and reads `vos` and `bos`,
//! [`common`] holds what the modes share. The Rx codec and the Ubik debug RPC are in
//! [`crate::proto::rx`] and [`crate::proto::ubik`].

pub mod bos;
pub mod common;
pub mod probe;
pub mod quota;
pub mod rx;
pub mod rxstats;
pub mod space;
pub mod tools;
pub mod ubik;

use crate::plugin::{Check, CheckResult, CommonArgs, UsageError, Work};
use clap::{Parser, Subcommand};
use std::time::Duration;

/// Command line of check_afs.
#[derive(Parser, Debug)]
#[command(
    name = "check_afs",
    version,
    about = "Checks OpenAFS servers: Rx liveness and load, Ubik quorum, volume quotas, partitions, bosserver instances.",
    after_help = "Ports: 7000 fileserver, 7002 ptserver, 7003 vlserver, 7005 volserver, 7007 bosserver.\n\
rx, rxstats and ubik speak Rx themselves; quota and space run vos, bos runs bos (Debian package \
openafs-client), unauthenticated (-noauth) unless --localauth.\n\n\
Timeouts (-t): a server still silent as the time runs out is a CRITICAL sub-result while \
others answer; when none answered in time, the result takes the state -t names (CRITICAL \
unless given, e.g. -t 5:UNKNOWN).\n\n\
Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad options, missing tool, internal error). \
--help and --version exit 0."
)]
pub struct Args {
    #[command(subcommand)]
    pub mode: Mode,
}

/// The modes of check_afs.
#[derive(Subcommand, Debug)]
pub enum Mode {
    /// Rx VERSION probe of each server and port (rxdebug -version); -w/-c on the round-trip time in seconds
    Rx(rx::RxArgs),
    /// Rx statistics (rxdebug -noconn); -w/-c on the calls waiting for a thread
    Rxstats(rxstats::RxStatsArgs),
    /// Ubik state of the whole set of database servers (udebug): one sync site all agree on, recovered, same database version
    Ubik(ubik::UbikArgs),
    /// Volumes near or over quota; -w/-c in percent of the quota used (default 85, 95)
    Quota(quota::QuotaArgs),
    /// Partitions of file servers; -w/-c in percent used (default 90, 95)
    Space(space::SpaceArgs),
    /// Every bosserver instance running normally, no core files, no salvager running
    Bos(bos::BosArgs),
}

/// The validated mode.
#[derive(Debug)]
pub enum Config {
    Rx(rx::RxConfig),
    RxStats(rx::RxConfig),
    Ubik(ubik::UbikConfig),
    Quota(quota::QuotaConfig),
    Space(space::SpaceConfig),
    Bos(bos::BosConfig),
}

/// The validated check.
#[derive(Debug)]
pub struct AfsCheck {
    pub config: Config,
    /// Time for the network exchanges: a little less than the timeout, so a silent server
    /// is named in the result.
    pub budget: Duration,
}

/// What the mode observed: the answers of the servers, or the output of `vos`/`bos`,
/// each failure kept beside its server.
#[derive(Debug, Clone, PartialEq)]
pub enum Facts {
    Rx(Vec<probe::Probe<String>>),
    RxStats(Vec<probe::Probe<crate::proto::rx::DebugStats>>),
    Ubik(Vec<probe::Probe<crate::proto::ubik::UbikDebug>>),
    Quota(Result<Vec<tools::Volume>, tools::ToolError>),
    Space(space::Partitions),
    Bos(bos::Statuses),
}

impl Check for AfsCheck {
    type Args = Args;
    type Facts = Facts;
    const LABEL: &'static str = "AFS";

    fn common(args: &Args) -> &CommonArgs {
        match &args.mode {
            Mode::Rx(a) => &a.servers.common,
            Mode::Rxstats(a) => &a.servers.common,
            Mode::Ubik(a) => &a.common,
            Mode::Quota(a) => &a.servers.common,
            Mode::Space(a) => &a.servers.common,
            Mode::Bos(a) => &a.servers.common,
        }
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        let timeout = Self::common(&args).timeout.duration;
        let config = match args.mode {
            Mode::Rx(a) => Config::Rx(rx::RxConfig::new(&a.servers, a.time.thresholds())?),
            Mode::Rxstats(a) => {
                Config::RxStats(rx::RxConfig::new(&a.servers, a.levels.thresholds())?)
            }
            Mode::Ubik(a) => Config::Ubik(ubik::UbikConfig::new(a)?),
            Mode::Quota(a) => Config::Quota(quota::QuotaConfig::new(a)?),
            Mode::Space(a) => Config::Space(space::SpaceConfig::new(a)?),
            Mode::Bos(a) => Config::Bos(bos::BosConfig::new(a)?),
        };
        let margin = (timeout / 10).min(Duration::from_millis(500));
        Ok(AfsCheck {
            config,
            budget: timeout - margin,
        })
    }

    fn fetch(&self) -> Work<'_, Facts> {
        let budget = self.budget;
        match &self.config {
            Config::Rx(c) => Work::remote(async move { Facts::Rx(c.fetch(budget).await) }),
            Config::RxStats(c) => {
                Work::remote(async move { Facts::RxStats(rxstats::fetch(c, budget).await) })
            }
            Config::Ubik(c) => Work::remote(async move { Facts::Ubik(c.fetch(budget).await) }),
            Config::Quota(c) => Work::local(move || Facts::Quota(c.fetch(budget))),
            Config::Space(c) => Work::local(move || Facts::Space(c.fetch(budget))),
            Config::Bos(c) => Work::local(move || Facts::Bos(c.fetch(budget))),
        }
    }

    /// The mode's own evaluation of the facts its fetch made.
    fn evaluate(&self, facts: &Facts) -> CheckResult {
        match (&self.config, facts) {
            (Config::Rx(c), Facts::Rx(f)) => rx::evaluate(f, &c.thresholds),
            (Config::RxStats(c), Facts::RxStats(f)) => rxstats::evaluate(f, &c.thresholds),
            (Config::Ubik(_), Facts::Ubik(f)) => ubik::evaluate(f),
            (Config::Quota(c), Facts::Quota(f)) => quota::evaluate(f, c.regex.as_ref(), &c.percent),
            (Config::Space(c), Facts::Space(f)) => space::evaluate(f, &c.percent),
            (Config::Bos(_), Facts::Bos(f)) => bos::evaluate(f),
            // fetch makes the facts of the check's own mode: this is a caller's mistake
            _ => CheckResult::unknown("internal error: facts of another mode"),
        }
    }
}

/// A check of the mode `argv` names, validated, for the modes' unit tests.
#[cfg(test)]
pub fn test_check(argv: &[&str]) -> AfsCheck {
    crate::plugin::runner::validate::<AfsCheck>(argv).unwrap()
}

#[cfg(test)]
mod tests;
