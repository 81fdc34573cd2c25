//! The Debian package made by `dist/build-deb.sh`: found, or built when missing or older
//! than the sources, then installed, inspected and purged with dpkg by the package test.

use crate::{require, run, Run};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// The package name.
pub const PACKAGE: &str = "hcoop-monitor";

/// What the .deb is built from: a change to any of these makes a built .deb stale.
const SOURCES: &[&str] = &[
    "Cargo.toml",
    "Cargo.lock",
    "plugins/Cargo.toml",
    "plugins/src",
    "scheduler/Cargo.toml",
    "scheduler/src",
    "tests/src/dist",
    "tests/src/bin/gen-dist.rs",
    "checks.d",
    "dist",
];

/// The target directory holding `debug/` and `release/` (the test runs from
/// `TARGET/debug/deps`).
pub fn target_root() -> PathBuf {
    crate::target_dir()
        .parent()
        .expect("the profile directory has a parent")
        .to_path_buf()
}

/// The newest modification time of a file under `path`.
fn newest(path: &Path) -> Option<SystemTime> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.is_dir() {
        return meta.modified().ok();
    }
    std::fs::read_dir(path)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| newest(&e.path()))
        .max()
}

/// The newest .deb of ours in `TARGET/debian`.
fn built_deb() -> Option<(PathBuf, SystemTime)> {
    std::fs::read_dir(target_root().join("debian"))
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "deb")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&format!("{PACKAGE}_")))
        })
        .filter_map(|p| Some((p.clone(), p.metadata().ok()?.modified().ok()?)))
        .max_by_key(|(_, t)| *t)
}

/// The .deb to test: the one `dist/build-deb.sh` left in `TARGET/debian` when it is
/// newer than every source, else a new one built by the script now (a release build).
pub fn deb() -> PathBuf {
    let root = super::workspace_root();
    let sources = SOURCES
        .iter()
        .filter_map(|s| newest(&root.join(s)))
        .max()
        .expect("the sources exist");
    if let Some((deb, built)) = built_deb() {
        if built > sources {
            return deb;
        }
    }
    let out = Command::new(root.join("dist/build-deb.sh"))
        .env("CARGO_TARGET_DIR", target_root())
        .output()
        .expect("run dist/build-deb.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "dist/build-deb.sh failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deb = PathBuf::from(stdout.lines().last().unwrap_or("").trim());
    assert!(
        deb.is_file(),
        "dist/build-deb.sh did not print a .deb path:\n{stdout}"
    );
    deb
}

/// Runs dpkg (fails naming the Debian package when it is missing).
pub fn dpkg(args: &[&str]) -> Run {
    let dpkg = require("dpkg", "dpkg");
    run(&dpkg, args)
}

/// Whether the package is installed (not just its conffiles left).
pub fn installed() -> bool {
    let query = require("dpkg-query", "dpkg");
    run(&query, &["-W", "-f=${Status}", PACKAGE])
        .stdout
        .contains("install ok installed")
}

/// Whether dpkg knows the package in any state (installed, or conffiles left).
pub fn known() -> bool {
    let query = require("dpkg-query", "dpkg");
    let status = run(&query, &["-W", "-f=${Status}", PACKAGE]).stdout;
    !status.is_empty() && !status.contains("not-installed")
}

/// Removes the package and its configuration, when dpkg knows it.
pub fn purge() {
    if known() {
        let r = dpkg(&["--purge", PACKAGE]);
        assert_eq!(
            r.code, 0,
            "dpkg --purge {PACKAGE}:\n{}{}",
            r.stdout, r.stderr
        );
    }
}

/// The files the installed package owns (`dpkg -L`), without directories.
pub fn files() -> Vec<PathBuf> {
    let r = dpkg(&["-L", PACKAGE]);
    assert_eq!(r.code, 0, "dpkg -L {PACKAGE}: {}", r.stderr);
    r.stdout
        .lines()
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .collect()
}

/// The command line of a unit's `ExecStart=` (its words; no quoting is used there).
pub fn exec_start(unit: &str) -> Vec<String> {
    let line = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("the unit has an ExecStart= line");
    line.split_whitespace().map(String::from).collect()
}
