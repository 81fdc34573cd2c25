//! Generator of the packaging and integration files, from the clap definitions of every
//! binary, so nothing is written twice: the Nagios command definitions
//! (`dist/nagios/`), the Icinga 2 CheckCommands (`dist/icinga2/`), man pages and shell
//! completions. The `gen-dist` binary writes them; the `dist` test checks that the
//! committed text files are what the generator writes.
//!
//! # Layout
//! - this file: the binaries and their commands, the committed text files.
//! - [`nagios`]: `define command` blocks, one or more variants per check.
//! - [`icinga2`]: CheckCommand objects with an `arguments` dictionary per check.
//! - [`docs`]: man pages and bash, zsh and fish completions.
//! - [`package`]: the .deb built by `dist/build-deb.sh`, installed and removed by the
//!   package test.

pub mod docs;
pub mod icinga2;
pub mod nagios;
pub mod package;

use hcoop_plugins::checks::BUILTINS;
use std::path::{Path, PathBuf};

/// Where the package installs the check binaries.
pub const PLUGIN_DIR: &str = "/usr/lib/hcoop-monitor/plugins";

/// The command that rewrites the committed text files.
pub const REFRESH_COMMAND: &str = "cargo run -p hcoop-tests --bin gen-dist -- text";

/// Every binary the package installs, with its command line definition: the checks,
/// then the daemon.
pub fn binaries() -> Vec<(&'static str, clap::Command)> {
    let mut all: Vec<(&'static str, clap::Command)> =
        BUILTINS.iter().map(|b| (b.name, (b.command)())).collect();
    all.push((
        "hcoop-monitor",
        <hcoop_monitor::cli::Cli as clap::CommandFactory>::command(),
    ));
    all
}

/// The workspace root (this crate lives in `tests/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The committed generated files: their paths under the workspace root, and contents.
pub fn text_files() -> Vec<(PathBuf, String)> {
    vec![
        (
            PathBuf::from("dist/nagios/hcoop-monitor.cfg"),
            nagios::render(),
        ),
        (
            PathBuf::from("dist/icinga2/hcoop-monitor-commands.conf"),
            icinga2::render(),
        ),
    ]
}

/// The first line of an argument's or command's help, without a final full stop.
pub fn help_line(text: Option<&clap::builder::StyledStr>) -> String {
    let text = text.map(|t| t.to_string()).unwrap_or_default();
    let first = text.split("\n\n").next().unwrap_or("").replace('\n', " ");
    first.trim().trim_end_matches('.').to_string()
}

/// The plugin name without its `check_` prefix: `load`, `dns_serial`.
pub fn short_name(check: &str) -> &str {
    check.strip_prefix("check_").unwrap_or(check)
}
