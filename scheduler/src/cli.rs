//! The command line of `hcoop-monitor` (also read by the generator of its man page,
//! shell completions and packaging files).

use crate::config::Config;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// hcoop-monitor: Nagios-compatible checks and scheduler for the hcoop servers.
#[derive(Parser, Debug)]
#[command(name = "hcoop-monitor", version)]
pub struct Cli {
    /// Configuration file or directory of *.toml files (default: the embedded
    /// configuration, which checks the local machine)
    #[arg(short = 'c', long = "config", global = true)]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What `hcoop-monitor` does.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run every configured check once, concurrently, and print a table
    CheckAll {
        /// How many checks may run at once
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
    },
    /// Run one service now and print its plugin output (HOST/SERVICE or SERVICE)
    Check { name: String },
    /// Check the configuration and report every error
    Validate,
    /// Run the daemon: schedule every check, keep state, notify, serve the status API
    /// (the default when no command is given)
    Run,
    /// Show the running daemon's hosts and services, problems first
    Status {
        /// Only problems
        #[arg(short = 'p', long)]
        problems: bool,
        #[command(flatten)]
        api: Api,
    },
    /// Acknowledge a problem of the running daemon (HOST or HOST/SERVICE)
    Ack {
        target: String,
        /// Comment
        #[arg(short = 'm', long, default_value = "acknowledged")]
        comment: String,
        /// Keep the acknowledgement until recovery, across problem state changes
        #[arg(long)]
        sticky: bool,
        #[command(flatten)]
        api: Api,
    },
    /// Schedule a downtime in the running daemon (HOST or HOST/SERVICE)
    Downtime {
        target: String,
        /// How long, e.g. 30m or 2h
        #[arg(short = 'd', long)]
        duration: String,
        /// Comment
        #[arg(short = 'm', long, default_value = "scheduled downtime")]
        comment: String,
        #[command(flatten)]
        api: Api,
    },
    /// Serve an nrpe.cfg (given with -c) to Nagios's check_nrpe, as nrpe does
    Nrpe(crate::nrpe::NrpeArgs),
}

/// Where the running daemon's API is.
#[derive(clap::Args, Debug)]
pub struct Api {
    /// The daemon's status address (default: `listen` of the configuration)
    #[arg(long, value_name = "ADDRESS:PORT")]
    pub api: Option<String>,
}

impl Api {
    /// The address given with `--api`, else `listen` of the configuration.
    pub fn address(&self, config: &Config) -> String {
        self.api
            .clone()
            .unwrap_or_else(|| config.daemon.listen.clone())
    }
}
