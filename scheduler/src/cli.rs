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
        /// Only the hosts of this host group and their services
        #[arg(long, value_name = "NAME", conflicts_with = "servicegroup")]
        hostgroup: Option<String>,
        /// Only the services of this service group and their hosts
        #[arg(long, value_name = "NAME")]
        servicegroup: Option<String>,
        #[command(flatten)]
        api: Api,
    },
    /// Acknowledge a problem of the running daemon (HOST, HOST/SERVICE, HOST/* or a
    /// group: the problems among them); the author is the user running this command
    Ack {
        #[command(flatten)]
        which: Which,
        /// Comment
        #[arg(short = 'm', long, default_value = "acknowledged")]
        comment: String,
        /// Keep the acknowledgement until recovery, across problem state changes
        #[arg(long)]
        sticky: bool,
        /// Remove the acknowledgement after this long ("4h", at most a year) if still
        /// there, as Icinga 2's expiring acknowledgements (Nagios 4's never expire)
        #[arg(long, value_name = "DURATION")]
        expire: Option<String>,
        #[command(flatten)]
        api: Api,
    },
    /// Remove the acknowledgement of a host or service
    Unack {
        target: String,
        #[command(flatten)]
        api: Api,
    },
    /// Schedule a downtime in the running daemon (HOST, HOST/SERVICE, HOST/* or a
    /// group: one downtime each)
    Downtime {
        #[command(flatten)]
        which: Which,
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
    /// Run checks now (HOST, HOST/SERVICE, HOST/* or a group), even outside their
    /// check period or with active checks disabled; their regular checks follow an
    /// interval later
    Recheck {
        #[command(flatten)]
        which: Which,
        #[command(flatten)]
        api: Api,
    },
    /// Enable active checks or notifications again (kept across restarts)
    #[command(
        override_usage = "hcoop-monitor enable [OPTIONS] <checks|notifications> <TARGET|--hostgroup <NAME>|--servicegroup <NAME>>"
    )]
    Enable {
        what: Switch,
        #[command(flatten)]
        which: Which,
        #[command(flatten)]
        api: Api,
    },
    /// Disable active checks (due checks are not run) or notifications (held back)
    /// until enabled again (kept across restarts)
    #[command(
        override_usage = "hcoop-monitor disable [OPTIONS] <checks|notifications> <TARGET|--hostgroup <NAME>|--servicegroup <NAME>>"
    )]
    Disable {
        what: Switch,
        #[command(flatten)]
        which: Which,
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
    /// Reports the running daemon computes from its history
    Report {
        #[command(subcommand)]
        report: ReportKind,
    },
    /// Show what happened to a host or service of the running daemon (from its
    /// history): each state change with how long the state lasted, and the
    /// notifications, acknowledgements, downtimes and flapping between them, oldest
    /// first; exit 3 for an unknown object or an unreachable daemon
    History {
        /// HOST or HOST/SERVICE
        target: String,
        /// How far back: a duration (2h, 7d) or Unix seconds; the state the object was
        /// in then is the first line
        #[arg(long, value_name = "TIME", default_value = "2h")]
        since: String,
        /// Print {"object", "changes", "events"} as JSON (the answers of /api/history
        /// and /api/events)
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        api: Api,
    },
    /// Make the running daemon read its configuration again; says whether it took
    Reload {
        #[command(flatten)]
        api: Api,
    },
    /// Submit a passive check result to the running daemon, as a plugin would print
    /// it: `submit HOST/SERVICE STATE "output|perfdata"` (STATE 0-3 or OK, WARNING,
    /// CRITICAL, UNKNOWN) or `submit HOST STATE "output"` (STATE 0-2 or UP, DOWN,
    /// UNREACHABLE); applied as a check result (refused when the object has
    /// passive_checks_enabled = false)
    Submit {
        /// HOST or HOST/SERVICE
        target: String,
        /// The state: a number or its name
        state: String,
        /// The plugin output: text, then `|` and perfdata; long output on further lines
        output: String,
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
    /// Read another monitor's configuration and write it as hcoop-monitor's TOML
    Import {
        #[command(subcommand)]
        from: ImportFrom,
    },
}

/// What `hcoop-monitor import` reads.
#[derive(Subcommand, Debug)]
pub enum ImportFrom {
    /// A Nagios 4 configuration: nagios.cfg and the files it names
    ///
    /// Reads the main file (nagios.cfg), the object files of its cfg_file and cfg_dir
    /// lines and the $USERn$ of its resource_file. Templates,
    /// time periods, commands, contacts, hosts, services (one per host they apply
    /// to), groups, dependencies and escalations are written as TOML; a command
    /// running a plugin that is built in (check_tcp, check_http, ...) becomes the
    /// built-in check when it accepts the arguments, others stay external commands
    /// with the same command line. Everything not carried over is reported with its
    /// file and line (on stderr, and in import-report.txt with --out). Exit 0 when
    /// written (even with a report), 3 when the configuration cannot be read or
    /// Nagios would refuse it (the message names file and line).
    Nagios {
        /// The main configuration file, e.g. /etc/nagios4/nagios.cfg
        config: PathBuf,
        /// Write one TOML file per section and import-report.txt into this directory
        /// (made when missing) instead of one document on stdout; check the result
        /// with `hcoop-monitor -c DIR validate`
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Nagios' event log: nagios.log and its archives (nagios-MM-DD-YYYY-HH.log)
    ///
    /// Reads the files (in the order they were written, whatever the order given)
    /// into the history store of the configuration (-c, [history] path): state
    /// changes (alerts and the initial and current states), notifications,
    /// acknowledgements, downtimes, flapping, and Nagios' starts and stops, so
    /// availability reports and the event log cover the time before the move. Our own
    /// event log ([daemon] event_log) reads the same way. The daemon may be running.
    /// Importing a file again adds nothing. Lines of other kinds are counted as
    /// skipped; malformed lines are listed with FILE:LINE on stderr and skipped. Exit
    /// 0 when imported, 3 when a file or the store cannot be read or written.
    NagiosLog {
        /// The log files
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

impl Command {
    /// Whether this command only talks to the running daemon.
    pub fn talks_to_daemon(&self) -> bool {
        matches!(
            self,
            Command::Status { .. }
                | Command::Submit { .. }
                | Command::Ack { .. }
                | Command::Unack { .. }
                | Command::Downtime { .. }
                | Command::Recheck { .. }
                | Command::Enable { .. }
                | Command::Disable { .. }
                | Command::Downtimes { .. }
                | Command::CancelDowntime { .. }
                | Command::Comment { .. }
                | Command::Comments { .. }
                | Command::DeleteComment { .. }
                | Command::Reload { .. }
                | Command::History { .. }
                | Command::Report { .. }
        )
    }
}

/// What `hcoop-monitor report` computes.
#[derive(Subcommand, Debug)]
pub enum ReportKind {
    /// The share of a period each host and service spent in each state, as Nagios'
    /// avail.cgi: hard states only unless --include-soft, the time in scheduled
    /// downtime shown (and, unless --downtime-apart, counted as the state), the time
    /// the daemon was not running and the time before anything was known
    /// undetermined; with each object's outages
    Availability(AvailabilityArgs),
}

/// `hcoop-monitor report availability`.
#[derive(clap::Args, Debug)]
pub struct AvailabilityArgs {
    /// The window ending now (or at --to): 24h, 7d, 31d or any duration [default: 7d]
    #[arg(long, value_name = "DURATION", conflicts_with = "from")]
    pub period: Option<String>,
    /// The window's start: Unix seconds or RFC 3339 (2026-03-02T09:00:00Z)
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// The window's end (default: now)
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Only this host and its services (with --service: that service)
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    /// Only the services of this name
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,
    /// Only the hosts of this host group and their services
    #[arg(long, value_name = "NAME", conflicts_with = "servicegroup")]
    pub hostgroup: Option<String>,
    /// Only the services of this service group
    #[arg(long, value_name = "NAME")]
    pub servicegroup: Option<String>,
    /// Count only the times inside this configured time period
    #[arg(long, value_name = "NAME")]
    pub report_period: Option<String>,
    /// Count soft states too
    #[arg(long)]
    pub include_soft: bool,
    /// Keep time in scheduled downtime apart, in no state's total (by default it
    /// counts as the state the object was in, as in Nagios)
    #[arg(long)]
    pub downtime_apart: bool,
    /// Print CSV (a line per object)
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub api: Api,
}

impl AvailabilityArgs {
    /// The query of `GET /api/availability` these options make.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        let mut q: Vec<(&'static str, String)> = [
            ("period", &self.period),
            ("from", &self.from),
            ("to", &self.to),
            ("host", &self.host),
            ("service", &self.service),
            ("hostgroup", &self.hostgroup),
            ("servicegroup", &self.servicegroup),
            ("report_period", &self.report_period),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
        .collect();
        if self.include_soft {
            q.push(("include_soft", "1".into()));
        }
        if self.downtime_apart {
            q.push(("downtime_counts", "0".into()));
        }
        q
    }
}

/// The objects an admin command is about: TARGET, or one group.
#[derive(clap::Args, Debug)]
#[group(required = true, multiple = false)]
pub struct Which {
    /// HOST, HOST/SERVICE, or HOST/* (the host and all its services)
    pub target: Option<String>,
    /// The hosts of this host group instead of TARGET
    #[arg(long, value_name = "NAME")]
    pub hostgroup: Option<String>,
    /// The services of this service group instead of TARGET
    #[arg(long, value_name = "NAME")]
    pub servicegroup: Option<String>,
}

impl Which {
    /// The objects as the API names them.
    pub fn objects(&self) -> crate::actions::Objects {
        crate::actions::Objects {
            target: self.target.clone(),
            hostgroup: self.hostgroup.clone(),
            servicegroup: self.servicegroup.clone(),
        }
    }
}

/// What `enable` and `disable` switch.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    /// Active checks
    Checks,
    /// Notifications
    Notifications,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("hcoop-monitor").chain(args.iter().copied()))
    }

    #[test]
    fn no_command_runs_the_daemon_and_config_is_global() {
        let cli = parse(&[]).unwrap();
        assert!(cli.command.is_none() && cli.config.is_none());
        let cli = parse(&["status", "-p", "-c", "/etc/x"]).unwrap();
        assert_eq!(cli.config, Some(PathBuf::from("/etc/x")));
        let Some(Command::Status { problems, api, .. }) = cli.command else {
            panic!("not status");
        };
        assert!(problems && api.socket.is_none() && api.api.is_none());
        let cli = parse(&["status", "--hostgroup", "web"]).unwrap();
        let Some(Command::Status {
            hostgroup,
            servicegroup,
            ..
        }) = cli.command
        else {
            panic!("not status");
        };
        assert_eq!((hostgroup.as_deref(), servicegroup), (Some("web"), None));
        let e = parse(&["status", "--hostgroup", "web", "--servicegroup", "mail"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn admin_commands() {
        let cli = parse(&["ack", "web/http", "-m", "on it", "--sticky"]).unwrap();
        let Some(Command::Ack {
            which,
            comment,
            sticky,
            ..
        }) = cli.command
        else {
            panic!("not ack");
        };
        assert_eq!(
            (which.target.as_deref(), comment.as_str(), sticky),
            (Some("web/http"), "on it", true)
        );
        let cli = parse(&["downtime", "web", "-d", "2h", "-s", "+1h"]).unwrap();
        let Some(Command::Downtime {
            duration,
            start,
            comment,
            ..
        }) = cli.command
        else {
            panic!("not downtime");
        };
        assert_eq!(duration, "2h");
        assert_eq!(start.as_deref(), Some("+1h"));
        assert_eq!(comment, "scheduled downtime");
        assert!(matches!(
            parse(&["cancel-downtime", "7"]).unwrap().command,
            Some(Command::CancelDowntime { id: 7, .. })
        ));
        assert!(matches!(
            parse(&["check-all"]).unwrap().command,
            Some(Command::CheckAll { concurrency: 32 })
        ));
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }

    #[test]
    fn switches_and_checks_now_of_objects_and_groups() {
        let which = |args: &[&str]| match parse(args).unwrap().command {
            Some(
                Command::Recheck { which, .. }
                | Command::Enable { which, .. }
                | Command::Disable { which, .. }
                | Command::Ack { which, .. }
                | Command::Downtime { which, .. },
            ) => which.objects(),
            other => panic!("{other:?}"),
        };
        use crate::actions::Objects;
        assert_eq!(which(&["recheck", "web/*"]), Objects::target("web/*"));
        let web = Objects {
            hostgroup: Some("web".into()),
            ..Objects::default()
        };
        assert_eq!(which(&["recheck", "--hostgroup", "web"]), web);
        assert_eq!(which(&["ack", "--hostgroup", "web", "-m", "x"]), web);
        assert_eq!(
            which(&["downtime", "--servicegroup", "mail", "-d", "1h"]),
            Objects {
                servicegroup: Some("mail".into()),
                ..Objects::default()
            }
        );
        let Some(Command::Disable { what, which, .. }) =
            parse(&["disable", "notifications", "web/http"])
                .unwrap()
                .command
        else {
            panic!("not disable");
        };
        assert_eq!(
            (what, which.objects()),
            (Switch::Notifications, Objects::target("web/http"))
        );
        assert!(matches!(
            parse(&["enable", "checks", "--servicegroup", "mail"])
                .unwrap()
                .command,
            Some(Command::Enable {
                what: Switch::Checks,
                ..
            })
        ));
        // exactly one of TARGET, --hostgroup, --servicegroup
        assert!(parse(&["recheck"]).is_err());
        assert!(parse(&["recheck", "web", "--hostgroup", "web"]).is_err());
        assert!(parse(&[
            "enable",
            "checks",
            "--hostgroup",
            "a",
            "--servicegroup",
            "b"
        ])
        .is_err());
        assert!(parse(&["ack", "-m", "x"]).is_err());
        assert!(parse(&["enable", "web/http"]).is_err());
        assert!(parse(&["disable", "everything", "web/http"]).is_err());
    }

    #[test]
    fn bad_command_lines_are_refused() {
        // a downtime needs its duration; an id is a number; no unknown commands
        assert!(parse(&["downtime", "web"]).is_err());
        assert!(parse(&["cancel-downtime", "seven"]).is_err());
        assert!(parse(&["frobnicate"]).is_err());
        // a token file goes with --api only
        assert!(parse(&["status", "--token-file", "/t"]).is_err());
        assert!(parse(&["status", "--api", "127.0.0.1:9667", "--token-file", "/t"]).is_ok());
    }

    #[test]
    fn history_and_the_import_of_nagios_logs() {
        let Some(Command::History {
            target,
            since,
            json,
            ..
        }) = parse(&["history", "web/http"]).unwrap().command
        else {
            panic!("not history");
        };
        assert_eq!(
            (target.as_str(), since.as_str(), json),
            ("web/http", "2h", false)
        );
        let Some(Command::History { since, json, .. }) =
            parse(&["history", "web", "--since", "7d", "--json"])
                .unwrap()
                .command
        else {
            panic!("not history");
        };
        assert_eq!((since.as_str(), json), ("7d", true));
        assert!(parse(&["history"]).is_err());
        assert!(parse(&["history", "web"])
            .unwrap()
            .command
            .unwrap()
            .talks_to_daemon());
        let Some(Command::Import {
            from: ImportFrom::NagiosLog { files },
        }) = parse(&["import", "nagios-log", "a.log", "nagios-12-05-2026-00.log"])
            .unwrap()
            .command
        else {
            panic!("not import nagios-log");
        };
        assert_eq!(
            files,
            [
                PathBuf::from("a.log"),
                PathBuf::from("nagios-12-05-2026-00.log")
            ]
        );
        assert!(parse(&["import", "nagios-log"]).is_err());
    }

    #[test]
    fn which_commands_talk_to_the_daemon() {
        let talks = |args: &[&str]| parse(args).unwrap().command.unwrap().talks_to_daemon();
        assert!(talks(&["status"]));
        assert!(talks(&["reload"]));
        assert!(talks(&["comments"]));
        assert!(talks(&["recheck", "web"]));
        assert!(talks(&["disable", "checks", "web"]));
        assert!(!talks(&["validate"]));
        assert!(!talks(&["check-all"]));
        assert!(!talks(&["token", "alice"]));
    }

    #[test]
    fn the_api_endpoint() {
        let config = Config::embedded().unwrap();
        let api = Api {
            socket: None,
            api: Some("127.0.0.1:9667".into()),
            token_file: None,
        };
        assert!(matches!(
            api.endpoint(&config).unwrap(),
            Endpoint::Tcp { ref addr, .. } if addr == "127.0.0.1:9667"
        ));
        let api = Api {
            socket: Some("/run/x.sock".into()),
            api: None,
            token_file: None,
        };
        let Endpoint::Socket { path, trusted } = api.endpoint(&config).unwrap() else {
            panic!("not the socket");
        };
        assert_eq!(path, PathBuf::from("/run/x.sock"));
        assert!(trusted.contains(&0));
        let missing = Api {
            socket: None,
            api: Some("127.0.0.1:1".into()),
            token_file: Some("/nonexistent/token".into()),
        };
        assert!(missing.endpoint(&config).is_err());
    }

    proptest::proptest! {
        /// Whatever an admin types as a target, comment or start time, the answer is a
        /// value or an error, never a panic.
        #[test]
        fn admin_input_never_panics(text in "\\PC*", bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let lossy = String::from_utf8_lossy(&bytes).into_owned();
            for t in [&text, &lossy] {
                let _ = crate::admin::check_input(t, t);
                let _ = crate::client::parse_start(t, 0);
            }
        }
    }
}
