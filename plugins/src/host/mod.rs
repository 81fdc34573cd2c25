//! Facts of the local machine: processes and accounts, mounts and file system numbers,
//! memory and cgroups, disk quotas, network interfaces and listening sockets,
//! subprocesses, state files. Checks build on these; they never import a check.

pub mod clock;
pub mod files;
pub mod listeners;
pub mod memory;
pub mod mounts;
pub mod net;
pub mod posix_regex;
pub mod processes;
pub mod quota;
pub mod statefile;
pub mod subprocess;
