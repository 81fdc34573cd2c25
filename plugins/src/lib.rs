//! hcoop-plugins: Nagios-compatible checks for the hcoop shared servers.
//!
//! # Layout
//! - [`plugin`]: the plugin contract every check uses — [`plugin::State`] and exit codes,
//!   the `[@]start:end` [`plugin::Range`], [`plugin::PerfData`], the one
//!   [`plugin::CheckResult`] type, its rendering, the shared options and the runner that
//!   maps everything to output and exit codes.
//! - [`checks`]: one module per check, each the same shape: a clap `Args` struct, a
//!   validated config (the [`plugin::Check`] type), a fetch of facts and a pure
//!   `evaluate`. [`checks::builtin`] finds a check by name for the scheduler.
//! - [`proto`]: protocol clients and wire formats (DNS, HTTP, TLS, mail dialogues, SQL,
//!   NRPE packets, Rx/Ubik), with no thresholds in them.
//! - [`host`]: facts of the local machine (processes, subprocesses, state files).
//! - `src/bin/`: one binary per check, each a single call to [`plugin::runner::main`].

pub mod checks;
pub mod host;
pub mod plugin;
pub mod proto;
