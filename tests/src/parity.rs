//! Parity with Debian's monitoring-plugins: one command line run by Debian's plugin and
//! by ours, their exit codes and perfdata compared.
//!
//! A peer case ([`case`]) holds when both exit with the code the peer's own test expects
//! and, where both print perfdata, with the same labels in the same order and the same
//! units. A deliberate difference ([`differs`]) asserts both codes as they are; each is
//! listed in tests/PARITY.md with its reason.

use crate::{bin, debian_plugin, Run};
use std::path::Path;
use std::process::Command;

/// The timing options of the peer's tests of the TCP checks (plugins/t/check_tcp.t and
/// its kin: check_ftp.t, check_imap.t, check_jabber.t, check_pop.t): response-time
/// levels of 0 seconds and a 1-second timeout, in monitoring-plugins' older spelling.
pub const OLD_TIMING_0: [&str; 6] = ["-wt", "0", "-ct", "0", "-to", "1"];
/// Levels of 300 and 600 seconds (no answer on loopback reaches them), in the older
/// spelling (as [`OLD_TIMING_0`]).
pub const OLD_LEVELS_300_600: [&str; 4] = ["-wt", "300", "-ct", "600"];
/// Levels of 9 seconds and a 10-second timeout, in the older spelling (as
/// [`OLD_TIMING_0`]).
pub const OLD_TIMING_9: [&str; 6] = ["-wt", "9", "-ct", "9", "-to", "10"];
/// Levels of 9 seconds and a 10-second timeout, in today's spelling (as
/// [`OLD_TIMING_0`]).
pub const TIMING_9: [&str; 6] = ["-w", "9", "-c", "9", "-t", "10"];

/// One perfdata item as printed: its label (quotes removed), unit and whole text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Perf {
    pub label: String,
    pub uom: String,
    pub raw: String,
}

/// What one plugin run printed and returned.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub perf: Vec<Perf>,
}

impl Outcome {
    fn of(run: Run) -> Outcome {
        Outcome {
            code: run.code,
            perf: perfdata(&run.stdout),
            stdout: run.stdout,
        }
    }

    /// The labels and units of the perfdata, in order.
    pub fn labels_and_units(&self) -> Vec<(&str, &str)> {
        self.perf
            .iter()
            .map(|p| (p.label.as_str(), p.uom.as_str()))
            .collect()
    }

    /// The perfdata item `label`.
    pub fn item(&self, label: &str) -> Option<&Perf> {
        self.perf.iter().find(|p| p.label == label)
    }
}

/// The perfdata items of a plugin's whole output: what follows a `|` on any line, and
/// every line after the first `|` of the long output (Nagios' rule).
pub fn perfdata(stdout: &str) -> Vec<Perf> {
    let mut out = Vec::new();
    let mut in_long_perf = false;
    for (n, line) in stdout.lines().enumerate() {
        let text = if in_long_perf {
            Some(line)
        } else {
            let after = line.split_once('|').map(|(_, p)| p);
            if n > 0 && after.is_some() {
                in_long_perf = true;
            }
            after
        };
        if let Some(text) = text {
            out.extend(items(text));
        }
    }
    out
}

/// Splits a perfdata text into items (labels may be single-quoted and hold spaces).
fn items(text: &str) -> Vec<Perf> {
    let mut found = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let (label, after) = if let Some(quoted) = rest.strip_prefix('\'') {
            match quoted.find("'=") {
                Some(end) => (quoted[..end].replace("''", "'"), &quoted[end + 1..]),
                None => break,
            }
        } else {
            match rest.find('=') {
                Some(eq) if !rest[..eq].contains(char::is_whitespace) => {
                    (rest[..eq].to_string(), &rest[eq..])
                }
                _ => {
                    // not an item: skip the word
                    let next = rest.find(char::is_whitespace).unwrap_or(rest.len());
                    rest = rest[next..].trim_start();
                    continue;
                }
            }
        };
        let value_end = after.find(char::is_whitespace).unwrap_or(after.len());
        let value = &after[1..value_end];
        let first = value.split(';').next().unwrap_or("");
        let uom = first
            .trim_start_matches(|c: char| c.is_ascii_digit() || "+-.eE".contains(c))
            .to_string();
        let raw_len = rest.len() - after.len() + value_end;
        found.push(Perf {
            label,
            uom,
            raw: rest[..raw_len].to_string(),
        });
        rest = after[value_end..].trim_start();
    }
    found
}

/// Runs Debian's plugin `plugin` (from /usr/lib/nagios/plugins) with `args`.
pub fn debian(plugin: &str, args: &[&str]) -> Outcome {
    Outcome::of(run_plain(&debian_plugin(plugin), args))
}

/// Runs our plugin `plugin` with `args`.
pub fn ours(plugin: &str, args: &[&str]) -> Outcome {
    Outcome::of(run_plain(&bin(plugin), args))
}

/// Runs a program in a private mount namespace where each `(fixture, target)` file is
/// bind-mounted over `target` (see [`crate::run_with_files`]), in the C locale.
fn run_over(binds: &[(&Path, &str)], program: &Path, args: &[&str]) -> Run {
    let mut all = vec!["LC_ALL=C", program.to_str().expect("UTF-8 path")];
    all.extend_from_slice(args);
    crate::run_with_files(binds, Path::new("/usr/bin/env"), &all)
}

/// Runs a program in the C locale, so the peer's numbers and messages are its defaults.
fn run_plain(program: &Path, args: &[&str]) -> Run {
    run_env(program, args, &[])
}

/// Runs a program with the environment `env` added, in the C locale.
fn run_env(program: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .env("LC_ALL", "C")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
        .into()
}

/// The command line and both outputs, for an assertion's message.
pub fn shown(plugin: &str, args: &[&str], d: &Outcome, o: &Outcome) -> String {
    format!(
        "{plugin} {}\n--- Debian's (exit {}):\n{}--- ours (exit {}):\n{}",
        args.join(" "),
        d.code,
        d.stdout,
        o.code,
        o.stdout
    )
}

/// A peer case: Debian's plugin and ours both exit `code`, and where both print
/// perfdata, the same labels in the same order with the same units.
pub fn case(plugin: &str, args: &[&str], code: i32) -> (Outcome, Outcome) {
    judge(plugin, args, code, debian(plugin, args), ours(plugin, args))
}

/// Asserts a peer case on the two outcomes.
fn judge(plugin: &str, args: &[&str], code: i32, d: Outcome, o: Outcome) -> (Outcome, Outcome) {
    let why = shown(plugin, args, &d, &o);
    assert_eq!(d.code, code, "Debian's exit code\n{why}");
    assert_eq!(o.code, code, "our exit code\n{why}");
    if !d.perf.is_empty() && !o.perf.is_empty() {
        assert_eq!(
            o.labels_and_units(),
            d.labels_and_units(),
            "perfdata labels and units\n{why}"
        );
    }
    (d, o)
}

/// [`case`] on a command line of owned words.
pub fn case_owned(plugin: &str, args: &[String], code: i32) -> (Outcome, Outcome) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    case(plugin, &args, code)
}

/// The command line `prefix` then `extra`, as owned words (a test's fixed start, the
/// server to reach, followed by each case's own options).
pub fn words(prefix: &[&str], extra: &[&str]) -> Vec<String> {
    prefix.iter().chain(extra).map(|s| s.to_string()).collect()
}

/// [`case`], both plugins run where each `(fixture, target)` file is bind-mounted over
/// `target` (a made-up /etc/resolv.conf, /proc file...). Needs root.
pub fn case_over(
    binds: &[(&Path, &str)],
    plugin: &str,
    args: &[&str],
    code: i32,
) -> (Outcome, Outcome) {
    let d = Outcome::of(run_over(binds, &debian_plugin(plugin), args));
    let o = Outcome::of(run_over(binds, &bin(plugin), args));
    judge(plugin, args, code, d, o)
}

/// A peer case where the two plugins need their own settings: Debian's with `args` and
/// the environment `debian_env`, ours with `args` then `our_extra` and the environment
/// `our_env`; both exit `code`, with the same perfdata labels and units (as [`case`]).
pub fn case_env(
    plugin: &str,
    args: &[&str],
    debian_env: &[(&str, &str)],
    our_extra: &[&str],
    our_env: &[(&str, &str)],
    code: i32,
) -> (Outcome, Outcome) {
    let d = Outcome::of(run_env(&debian_plugin(plugin), args, debian_env));
    let ours_args = [args, our_extra].concat();
    let o = Outcome::of(run_env(&bin(plugin), &ours_args, our_env));
    judge(plugin, args, code, d, o)
}

/// [`case_env`] where only ours takes more arguments, `our_extra` (the test CA to trust,
/// an option Debian's plugin lacks).
pub fn case_extra(
    plugin: &str,
    args: &[&str],
    our_extra: &[&str],
    code: i32,
) -> (Outcome, Outcome) {
    case_env(plugin, args, &[], our_extra, &[], code)
}

/// A deliberate difference (listed in tests/PARITY.md): Debian's plugin exits
/// `debian_code`, ours `our_code`.
pub fn differs(plugin: &str, args: &[&str], debian_code: i32, our_code: i32) -> (Outcome, Outcome) {
    let (d, o) = (debian(plugin, args), ours(plugin, args));
    let why = shown(plugin, args, &d, &o);
    assert_eq!(d.code, debian_code, "Debian's exit code\n{why}");
    assert_eq!(o.code, our_code, "our exit code\n{why}");
    (d, o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfdata_of_first_line_and_long_output() {
        let p = perfdata("LOAD OK - fine | load1=0.5;1;2;0 'a b'=3MB;;\nmore\n| x=1s\ny=2%\n");
        let got: Vec<(&str, &str)> = p.iter().map(|p| (&*p.label, &*p.uom)).collect();
        assert_eq!(got, [("load1", ""), ("a b", "MB"), ("x", "s"), ("y", "%")]);
        assert_eq!(p[1].raw, "'a b'=3MB;;");
        let peer = perfdata("PING OK - Packet loss = 0%, RTA = 0.05 ms|rta=0.050000ms;100.000000;500.000000;0.000000 pl=0%;20;60;0\n");
        assert_eq!(peer.len(), 2);
        assert_eq!((&*peer[0].label, &*peer[0].uom), ("rta", "ms"));
        assert_eq!((&*peer[1].label, &*peer[1].uom), ("pl", "%"));
        assert!(perfdata("TCP OK - no perfdata\n").is_empty());
    }
}
