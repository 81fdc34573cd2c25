//! Facts of the local machine: processes and accounts, subprocesses, state files.
//! Checks build on these; they never import a check.

pub mod processes;
pub mod statefile;
pub mod subprocess;
