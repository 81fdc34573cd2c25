//! hcoop-monitor: runs the hcoop-plugins checks for a set of hosts and services.
//!
//! # Layout
//! - [`config`]: TOML configuration (a directory of files, or the embedded default).
//! - [`exec`]: running one check, built-in in-process or as an external plugin.
//! - [`checkall`]: run every configured check once, concurrently, and print a table.
//! - [`state`]: the Nagios state rules (soft/hard, flapping, acks, downtimes,
//!   notification decisions), pure, with the clock passed in.

pub mod checkall;
pub mod config;
pub mod exec;
pub mod state;
