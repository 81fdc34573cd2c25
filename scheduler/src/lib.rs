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
//! - [`retention`]: states saved atomically and restored on start.
//! - [`notify`]: notifications by email (SMTP) and by command.
//! - [`forward`]: passive results handed to Nagios (external command file) and
//!   other peers through bounded queues.
//! - [`http`]: the status listener (JSON API, Prometheus metrics, status page).
//! - [`client`]: the `status`, `ack` and `downtime` commands, talking to the API.
//! - [`state`]: the Nagios state rules (soft/hard, flapping, acks, downtimes,
//!   notification decisions), pure, with the clock passed in.

pub mod checkall;
pub mod cli;
pub mod client;
pub mod config;
pub mod daemon;
pub mod exec;
pub mod forward;
pub mod http;
pub mod notify;
pub mod nrpe;
pub mod privileges;
pub mod retention;
pub mod spawn;
pub mod state;
