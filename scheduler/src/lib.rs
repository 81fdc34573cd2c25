//! hcoop-monitor: runs the hcoop-plugins checks for a set of hosts and services.
//!
//! # Layout
//! - [`cli`]: the command line of `hcoop-monitor`.
//! - [`config`]: TOML configuration (a directory of files, or the embedded default).
//! - [`nrpe`]: the NRPE agent (`hcoop-monitor nrpe`): serves an nrpe.cfg to
//!   Nagios's check_nrpe over TLS or plain TCP.
//! - [`exec`]: running one check, built-in in-process or as an external plugin.
//! - [`spawn`]: starting an external plugin (cloned without copying the daemon's
//!   memory, limits and user set before the exec) and its process group registry.
//! - [`privileges`]: looking up accounts and leaving root for good (ids, groups,
//!   capabilities kept), verified.
//! - [`checkall`]: run every configured check once, concurrently, and print a table.
//! - [`daemon`]: the running objects, the scheduler loop, reload, saving, shutdown.
//! - [`retention`]: the state files (snapshot and journal) in a directory only the
//!   daemon may write, opened without following symlinks; loading, damaged files moved
//!   aside.
//! - [`journal`]: every change journaled by a writer thread (group commit, admin
//!   actions fsynced before they are answered), compaction into a new snapshot, the
//!   `hcoop-monitor/retention` self-check.
//! - [`lateness`]: how late checks start against their schedule (a histogram).
//! - [`notify`]: notifications by email (SMTP) and by command.
//! - [`forward`]: passive results handed to Nagios (external command file) and
//!   other peers through bounded queues.
//! - [`http`]: the status listener (JSON API, Prometheus metrics, status page) on TCP
//!   and on the control socket, with bounded connections.
//! - [`admin`]: admin actions (unacknowledge, downtimes, comments) and their input bounds.
//! - [`startup`]: what the daemon does as root (control socket, open-file limit), then
//!   dropping to `[daemon] user` with only the capabilities its checks need.
//! - [`listeners`]: the API on TCP (bound again while a squatter holds the port) and
//!   on the control socket (a directory only the daemon may write).
//! - [`slots`]: connection slots, a total and a share per peer, for every listener.
//! - [`auth`]: who may use the API (peer uid on the control socket, tokens over TCP).
//! - [`client`]: the `status`, `ack`, `downtime`, ... commands, talking to the API
//!   through the control socket (or over TCP with a token).
//! - [`state`]: the Nagios state rules (soft/hard, flapping, acks, downtimes,
//!   notification decisions), pure, with the clock passed in.

pub mod admin;
pub mod auth;
pub mod checkall;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod exec;
pub mod forward;
pub mod http;
pub mod journal;
pub mod lateness;
pub mod listeners;
pub mod notify;
pub mod nrpe;
pub mod privileges;
pub mod registry;
pub mod retention;
pub mod slots;
pub mod spawn;
pub mod startup;
pub mod state;
