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
//! - [`nrpe`]: the NRPE packet format (v2, v3/v4, CRC-32), shared by
//!   `check_nrpe_client` and the `hcoop-monitor nrpe` agent.
//! - `src/bin/`: one binary per check, each a single call to [`plugin::runner::main`].

pub mod checks;
pub mod nrpe;
pub mod plugin;
