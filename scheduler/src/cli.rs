//! The command line of `hcoop-monitor` (also read by the generator of its man page,
//! shell completions and packaging files).

use crate::client::Endpoint;
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
    /// Acknowledge a problem of the running daemon (HOST or HOST/SERVICE); the author
    /// is the user running this command
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
    /// Remove the acknowledgement of a host or service
    Unack {
        target: String,
        #[command(flatten)]
        api: Api,
    },
    /// Schedule a downtime in the running daemon (HOST or HOST/SERVICE)
    Downtime {
        target: String,
        /// How long, e.g. 30m or 2h (at most max_downtime, 30 days by default)
        #[arg(short = 'd', long)]
        duration: String,
        /// When it starts: Unix seconds, +DURATION from now, or YYYY-MM-DD HH:MM[:SS]
        /// (UTC) (default: now)
        #[arg(short = 's', long)]
        start: Option<String>,
        /// Comment
        #[arg(short = 'm', long, default_value = "scheduled downtime")]
        comment: String,
        #[command(flatten)]
        api: Api,
    },
    /// List the downtimes, with their ids and authors
    Downtimes {
        #[command(flatten)]
        api: Api,
    },
    /// Cancel a downtime by its id
    CancelDowntime {
        id: u64,
        #[command(flatten)]
        api: Api,
    },
    /// Leave a comment on a host or service
    Comment {
        target: String,
        /// The comment
        #[arg(short = 'm', long)]
        comment: String,
        #[command(flatten)]
        api: Api,
    },
    /// List the comments, with their ids and authors
    Comments {
        #[command(flatten)]
        api: Api,
    },
    /// Delete a comment by its id
    DeleteComment {
        id: u64,
        #[command(flatten)]
        api: Api,
    },
    /// Make the running daemon read its configuration again; says whether it took
    Reload {
        #[command(flatten)]
        api: Api,
    },
    /// Make an API token for NAME (for writes over the TCP API), add its hash to the
    /// credentials file and print the token once
    Token {
        name: String,
        /// The credentials file (default: credentials_file of the configuration)
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Serve an nrpe.cfg (given with -c) to Nagios's check_nrpe, as nrpe does
    Nrpe(crate::nrpe::NrpeArgs),
}

impl Command {
    /// Whether this command only talks to the running daemon.
    pub fn talks_to_daemon(&self) -> bool {
        matches!(
            self,
            Command::Status { .. }
                | Command::Ack { .. }
                | Command::Unack { .. }
                | Command::Downtime { .. }
                | Command::Downtimes { .. }
                | Command::CancelDowntime { .. }
                | Command::Comment { .. }
                | Command::Comments { .. }
                | Command::DeleteComment { .. }
                | Command::Reload { .. }
        )
    }
}

/// Where the running daemon's API is.
#[derive(clap::Args, Debug)]
pub struct Api {
    /// The control socket (default: socket of the configuration)
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Use the TCP API at this address instead of the control socket
    #[arg(long, value_name = "ADDRESS:PORT")]
    pub api: Option<String>,
    /// A file holding the API token for writes over --api (or the environment variable
    /// HCOOP_MONITOR_TOKEN)
    #[arg(long, value_name = "FILE", requires = "api")]
    pub token_file: Option<PathBuf>,
}

impl Api {
    /// The control socket (trusting root, this user, the daemon's configured user and
    /// the package's `hcoop-monitor` user), or the TCP API with `--api`.
    pub fn endpoint(&self, config: &Config) -> anyhow::Result<Endpoint> {
        if let Some(addr) = &self.api {
            let token = match &self.token_file {
                Some(f) => Some(
                    std::fs::read_to_string(f)
                        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", f.display()))?
                        .trim()
                        .to_string(),
                ),
                None => std::env::var("HCOOP_MONITOR_TOKEN").ok(),
            };
            return Ok(Endpoint::Tcp {
                addr: addr.clone(),
                token,
            });
        }
        // SAFETY: geteuid has no preconditions.
        let mut trusted = vec![0, unsafe { libc::geteuid() }];
        // the configured daemon user, and the package's system user (so that root's
        // `hcoop-monitor status` without -c reaches the packaged daemon)
        let users = config.daemon.user.iter().map(String::as_str);
        for name in users.chain(["hcoop-monitor"]) {
            if let Some((uid, _)) = crate::auth::user_ids(name) {
                trusted.push(uid);
            }
        }
        Ok(Endpoint::Socket {
            path: self
                .socket
                .clone()
                .unwrap_or_else(|| config.daemon.socket.clone()),
            trusted,
        })
    }
}
