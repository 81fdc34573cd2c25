//! Passive results: results submitted from outside (`hcoop-monitor submit`, `POST
//! /api/result`, the external command file) applied as check results
//! ([`Core::submit_result`]), and freshness: a host or service with `check_freshness`
//! whose last result is older than its threshold gets its active check run now, or,
//! passive only, its `freshness_state` ([`Core::check_freshness`], every second).
//!
//! As Nagios 4: a passive service result goes through the soft/hard rules as an active
//! one; a passive host result is HARD at once (`passive_host_checks_are_soft=0`), its
//! code 0 UP, 1 DOWN, 2 UNREACHABLE taken as given (`translate_passive_host_checks=0`:
//! the host's parents are not looked at). The threshold is counted from the last
//! result, or from the daemon's start when there has been none.

use crate::config::Schedule;
use crate::daemon::{Core, Target};
use crate::exec::Outcome;
use crate::state::{HostState, Time};
use hcoop_plugins::plugin::State;
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime};

/// The longest submitted output kept (bytes): Nagios' `MAX_PLUGIN_OUTPUT_LENGTH`.
pub const MAX_OUTPUT: usize = 8192;

/// A submitted result (`POST /api/result`; the submitter is who the credentials say).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubmitRequest {
    /// "HOST" or "HOST/SERVICE".
    pub target: String,
    /// 0-3 or OK, WARNING, CRITICAL, UNKNOWN for a service; 0-2 or UP, DOWN,
    /// UNREACHABLE for a host.
    pub state: String,
    /// The plugin output: `text|perfdata`, long output on further lines.
    pub output: String,
}

/// A submitted state as its Nagios code: a service's 0-3 (or OK, WARNING, CRITICAL,
/// UNKNOWN), a host's 0-2 (or UP, DOWN, UNREACHABLE), names in any case.
pub fn parse_state(text: &str, host: bool) -> Result<u8, String> {
    let t = text.trim().to_ascii_uppercase();
    let code = match (host, t.as_str()) {
        (false, "0" | "OK") | (true, "0" | "UP") => 0,
        (false, "1" | "WARNING") | (true, "1" | "DOWN") => 1,
        (false, "2" | "CRITICAL") | (true, "2" | "UNREACHABLE") => 2,
        (false, "3" | "UNKNOWN") => 3,
        (false, _) => {
            return Err(format!(
                "'{}' is not a service state (0-3, OK, WARNING, CRITICAL, UNKNOWN)",
                shown(text)
            ))
        }
        (true, _) => {
            return Err(format!(
                "'{}' is not a host state (0-2, UP, DOWN, UNREACHABLE)",
                shown(text)
            ))
        }
    };
    Ok(code)
}

/// A text shown in a message: at most 40 characters, control characters escaped.
pub(crate) fn shown(text: &str) -> String {
    cut_escaped(text, 40, char::escape_default)
}

/// A whole line shown in a log line: at most 300 characters, control characters
/// escaped.
pub fn shown_line(text: &str) -> String {
    cut_escaped(text, 300, char::escape_debug)
}

/// `text`'s first `most` characters, each written by `escape`, and `...` when it has
/// more.
fn cut_escaped<E: Iterator<Item = char>>(text: &str, most: usize, escape: fn(char) -> E) -> String {
    let mut out: String = text.chars().take(most).flat_map(escape).collect();
    if text.chars().count() > most {
        out.push_str("...");
    }
    out
}

/// A submitted output as kept: at most [`MAX_OUTPUT`] bytes (cut at a character
/// boundary), ending in a newline as a plugin's printed text; `\r` dropped, other
/// control characters but newlines and tabs made spaces.
pub fn bounded_output(text: &str) -> String {
    let mut end = text.len().min(MAX_OUTPUT - 1);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out: String = text[..end]
        .chars()
        .filter(|&c| c != '\r')
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                ' '
            } else {
                c
            }
        })
        .collect();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// A duration as people say it: `45 s`, `12 min`, `26 h`, `3 days`.
pub fn human(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 120 * 60 => format!("{} min", s / 60),
        s if s < 48 * 3600 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

/// A duration as the configuration writes it: `26h`, `90m`, `45s`.
pub fn written(secs: u64) -> String {
    match secs {
        s if s >= 3600 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

impl Core {
    /// The hosts and services with `check_freshness`, found once when the core is
    /// built (the every-second look goes over these alone): each with its threshold in
    /// seconds and when it was last found stale and acted on (0: never).
    pub fn watched_for_freshness(&self) -> Vec<(Target, u64, Time)> {
        let watch = |target: Target, s: &Schedule| {
            s.check_freshness
                .then(|| (target, s.freshness().as_secs().max(1), 0))
        };
        // a host without a check is UP by design (as Nagios' empty host check), never
        // stale, unless it takes passive results only
        let hosts = self
            .hosts
            .iter()
            .enumerate()
            .filter(|(_, e)| e.runnable.is_some() || !e.schedule.active_checks_enabled)
            .filter_map(|(i, e)| watch(Target::Host(i), &e.schedule));
        let services = self
            .services
            .iter()
            .enumerate()
            .filter_map(|(i, e)| watch(Target::Service(i), &e.schedule));
        hosts.chain(services).collect()
    }

    /// The settings of a host or service.
    pub(crate) fn object_schedule(&self, target: Target) -> &Schedule {
        match target {
            Target::Host(i) => &self.hosts[i].schedule,
            Target::Service(i) => &self.services[i].schedule,
        }
    }

    /// "HOST" or "HOST/SERVICE" of a target.
    fn key_of(&self, target: Target) -> &str {
        match target {
            Target::Host(i) => &self.hosts[i].key,
            Target::Service(i) => &self.services[i].key,
        }
    }

    /// Applies a submitted result to `target` through the same path as a check's
    /// (state rules, notifications, event handlers, forwarding, the journal): `code` is
    /// a service's 0-3 or a host's 0-2 ([`parse_state`]), `output` the plugin text
    /// (`text|perfdata`, long output on further lines; cut at [`MAX_OUTPUT`] bytes).
    /// Refused when the object takes no passive results.
    pub fn submit_result(
        &mut self,
        target: Target,
        code: u8,
        output: &str,
        now: Time,
    ) -> Result<(), String> {
        if !self.passive_checks_enabled(target) {
            let why = match self.object_schedule(target).passive_checks_enabled {
                true => "switched off",
                false => "passive_checks_enabled = false",
            };
            return Err(format!(
                "{}: passive results are not taken ({why})",
                self.key_of(target)
            ));
        }
        let (state, host) = match (target, code) {
            (Target::Service(_), 0..=3) => (State::from_exit_code(code.into()), None),
            (Target::Host(_), 0) => (State::Ok, Some(HostState::Up)),
            (Target::Host(_), 1) => (State::Critical, Some(HostState::Down)),
            (Target::Host(_), 2) => (State::Critical, Some(HostState::Unreachable)),
            (Target::Service(_), _) => return Err(format!("{code} is not a service state (0-3)")),
            (Target::Host(_), _) => return Err(format!("{code} is not a host state (0-2)")),
        };
        let text = bounded_output(output);
        tracing::info!(
            "PASSIVE {} CHECK: {};{code};{}",
            match target {
                Target::Host(_) => "HOST",
                Target::Service(_) => "SERVICE",
            },
            self.key_of(target).replacen('/', ";", 1),
            text.lines().next().unwrap_or("")
        );
        let outcome = Outcome::printed(state, text, SystemTime::now(), Duration::ZERO);
        self.apply_result(target, &outcome, 0.0, now, host);
        Ok(())
    }

    /// Whether `target` takes passive results: as configured, unless switched at run
    /// time ([`Core::set_passive_checks_enabled`]).
    pub fn passive_checks_enabled(&self, target: Target) -> bool {
        let switched = match target {
            Target::Host(i) => self.hosts[i].record.passive_checks,
            Target::Service(i) => self.services[i].record.passive_checks,
        };
        switched.unwrap_or(self.object_schedule(target).passive_checks_enabled)
    }

    /// Switches passive results of `targets` on or off (Nagios'
    /// ENABLE_PASSIVE_SVC_CHECKS, DISABLE_PASSIVE_SVC_CHECKS and their host forms),
    /// kept across restarts; journaled at once.
    pub fn set_passive_checks_enabled(&mut self, targets: &[Target], enabled: bool) {
        for &t in targets {
            let value =
                (enabled != self.object_schedule(t).passive_checks_enabled).then_some(enabled);
            match t {
                Target::Host(i) => self.hosts[i].record.passive_checks = value,
                Target::Service(i) => self.services[i].record.passive_checks = value,
            }
            drop(self.persist(t, crate::journal::Durability::Sync));
        }
    }

    /// Submits a result by name: "HOST" or "HOST/SERVICE" and a state as text
    /// ([`parse_state`]).
    pub fn submit(
        &mut self,
        key: &str,
        state: &str,
        output: &str,
        now: Time,
    ) -> Result<(), String> {
        let target = self
            .find(key)
            .ok_or_else(|| format!("no host or service '{}'", shown(key)))?;
        let code = parse_state(state, matches!(target, Target::Host(_)))?;
        self.submit_result(target, code, output, now)
    }

    /// Acts on the watched objects whose last result is older than their freshness
    /// threshold at `now` (inside their check period): one with an active check has
    /// it run now ([`Core::request_check`]); a passive-only one gets its
    /// `freshness_state` with the output "no result for 26 h (freshness threshold
    /// 25h)". Each is acted on at most once per threshold.
    pub fn check_freshness(&mut self, now: Time) {
        let mut stale = Vec::new();
        for (k, &(target, threshold, acted)) in self.freshness.iter().enumerate() {
            let (checked, last) = match target {
                Target::Host(i) => (
                    self.hosts[i].record.checked,
                    self.hosts[i].record.last_check,
                ),
                Target::Service(i) => (
                    self.services[i].record.checked,
                    self.services[i].record.last_check,
                ),
            };
            let from = if checked { last } else { self.started };
            if now < from.max(acted).saturating_add(threshold) {
                continue;
            }
            let period = &self.object_schedule(target).check_period;
            if !self.config.periods.contains(period, now) {
                continue;
            }
            stale.push((k, checked, now.saturating_sub(from)));
        }
        for (k, checked, age) in stale {
            self.freshness[k].2 = now;
            let (target, threshold, _) = self.freshness[k];
            let schedule = self.object_schedule(target);
            let limit = written(threshold);
            let since = if checked {
                format!("no result for {}", human(age))
            } else {
                format!("no result since the daemon started {} ago", human(age))
            };
            let key = self.key_of(target).to_string();
            if self.has_active_check(target) {
                tracing::info!(
                    "freshness: {key}: {since} (freshness threshold {limit}): checking it now"
                );
                self.request_check(&[target]);
                continue;
            }
            if !self.passive_checks_enabled(target) && !schedule.active_checks_enabled {
                continue;
            }
            let state = schedule.freshness_state;
            tracing::warn!(
                "freshness: {key}: {since} (freshness threshold {limit}): now {}",
                match target {
                    Target::Host(_) if state == State::Ok => "UP",
                    Target::Host(_) => "DOWN",
                    Target::Service(_) => crate::state::Condition::name(state),
                }
            );
            let text = format!("{since} (freshness threshold {limit})\n");
            let outcome = Outcome::printed(state, text, SystemTime::now(), Duration::ZERO);
            self.apply(target, &outcome, 0.0, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::exec::Limits;
    use crate::notify::Notice;
    use crate::state::{HostState, StateType};
    use std::collections::HashMap;
    use tokio::sync::mpsc;

    fn core(text: &str) -> (Core, mpsc::UnboundedReceiver<Notice>) {
        let c = Config::from_files(vec![(None, text.to_string())]).unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        let core = Core::build(c, Limits::default(), tx, HashMap::new(), HashMap::new());
        (core, rx)
    }

    const BASE: &str = "[defaults]\nmax_check_attempts = 2\n\n\
        [[contact]]\nname = \"ops\"\ncommand = \"/bin/true\"\n\n\
        [[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\ncontacts = [\"ops\"]\n\n\
        [[service]]\nhost = \"h\"\nname = \"backup\"\nactive_checks_enabled = false\n\
        contacts = [\"ops\"]\n";

    fn notices(rx: &mut mpsc::UnboundedReceiver<Notice>) -> Vec<(String, String, String)> {
        std::iter::from_fn(|| rx.try_recv().ok())
            .map(|n| (n.kind.as_str().to_string(), n.state, n.output))
            .collect()
    }

    fn refused(text: &str) -> String {
        match Config::from_files(vec![(Some("p.toml".into()), text.to_string())]) {
            Ok(_) => panic!("validated"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_configuration_takes_passive_services_and_names_bad_settings() {
        // passive only through a template, with the settings of the schema
        let text = "[template.passive]\nactive_checks_enabled = false\ncheck_freshness = true\n\
            freshness_threshold = \"26h\"\nfreshness_state = \"warning\"\n\n\
            [[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n\n\
            [[service]]\nhost = \"h\"\nname = \"backup\"\nuse = \"passive\"\n";
        let c = Config::from_files(vec![(None, text.into())]).unwrap();
        let s = &c.services[0];
        assert_eq!(*s.check, crate::config::CheckSpec::Passive);
        let sched = &s.schedule;
        assert!(!sched.active_checks_enabled && sched.passive_checks_enabled);
        assert_eq!(sched.freshness(), Duration::from_secs(26 * 3600));
        assert_eq!(sched.freshness_state, State::Warning);
        // unset: Nagios' automatic threshold, the check interval and 15 s
        assert_eq!(
            c.hosts[0].schedule.freshness(),
            c.hosts[0].schedule.check_interval + Duration::from_secs(15)
        );
        let e = refused(&text.replace("use = \"passive\"\n", ""));
        assert_eq!(
            e,
            "p.toml:line 13: service 'backup' on 'h': expected exactly one of 'check' or \
             'command' (or active_checks_enabled = false for passive results only)"
        );
        let e = refused(&text.replace("\"warning\"", "\"purple\""));
        assert!(e.starts_with("p.toml: TOML parse error at line 5"), "{e}");
        assert!(e.contains("'purple' is not a state"), "{e}");
        let e = refused(&format!(
            "{text}\n[daemon]\ncommand_file = \"nagios.cmd\"\ncommand_group = \"no-such-group-here\"\n"
        ));
        assert!(
            e.contains("[daemon] command_file = 'nagios.cmd': expected an absolute file path"),
            "{e}"
        );
        assert!(
            e.contains("[daemon] command_group: no group named 'no-such-group-here'"),
            "{e}"
        );
    }

    #[test]
    fn the_every_second_look_stays_cheap_at_100000_services() {
        use std::fmt::Write as _;
        let n = 100_000;
        let mut text = String::from(
            "[defaults]\nactive_checks_enabled = false\ncheck_freshness = true\n\
             freshness_threshold = \"26h\"\n\n[[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n",
        );
        for i in 0..n {
            let _ = write!(text, "\n[[service]]\nhost = \"h\"\nname = \"s{i}\"\n");
        }
        let (mut c, _rx) = core(&text);
        // the services and their host (the defaults hold for hosts too)
        let n = n + 1;
        assert_eq!(c.freshness.len(), n);
        c.started = 1_000_000;
        let t = std::time::Instant::now();
        let rounds = 20;
        for k in 0..rounds {
            c.check_freshness(1_000_000 + k);
        }
        let each = t.elapsed() / rounds as u32;
        println!("freshness: {n} watched objects looked at in {each:?} a second");
        assert_eq!(c.checks_run, 0);
        // generous for an unoptimised build on a busy machine
        assert!(each < Duration::from_millis(200), "{each:?}");
        // all stale at once: each acted on once
        c.check_freshness(1_000_000 + 26 * 3600);
        assert_eq!(c.checks_run, n as u64);
        c.check_freshness(1_000_000 + 26 * 3600 + 1);
        assert_eq!(c.checks_run, n as u64);
    }

    #[test]
    fn states_are_read_by_code_and_name() {
        assert_eq!(parse_state("2", false), Ok(2));
        assert_eq!(parse_state("warning", false), Ok(1));
        assert_eq!(parse_state("UNKNOWN", false), Ok(3));
        assert_eq!(parse_state("unreachable", true), Ok(2));
        assert_eq!(parse_state("Down", true), Ok(1));
        assert_eq!(
            parse_state("3", true),
            Err("'3' is not a host state (0-2, UP, DOWN, UNREACHABLE)".into())
        );
        assert_eq!(
            parse_state("UP", false),
            Err("'UP' is not a service state (0-3, OK, WARNING, CRITICAL, UNKNOWN)".into())
        );
    }

    #[test]
    fn output_is_bounded_and_ends_a_line() {
        assert_eq!(bounded_output("OK - fine|t=1s"), "OK - fine|t=1s\n");
        assert_eq!(bounded_output("a\r\nb\u{1b}c\n"), "a\nb c\n");
        let long = "é".repeat(MAX_OUTPUT);
        let b = bounded_output(&long);
        assert!(b.len() <= MAX_OUTPUT && b.ends_with("é\n"), "{}", b.len());
        assert_eq!(human(59), "59 s");
        assert_eq!(human(12 * 60 + 5), "12 min");
        assert_eq!(human(26 * 3600 + 100), "26 h");
        assert_eq!(human(3 * 86_400), "3 days");
        assert_eq!(
            [
                written(26 * 3600),
                written(90 * 60),
                written(45),
                written(3601)
            ],
            ["26h", "90m", "45s", "3601s"]
        );
    }

    #[test]
    fn a_passive_service_result_goes_soft_then_hard_and_notifies() {
        let (mut c, mut rx) = core(BASE);
        let s = c.find("h/backup").unwrap();
        assert!(c.services[0].runnable.is_none(), "passive only: never run");
        c.submit(
            "h/backup",
            "CRITICAL",
            "BACKUP CRITICAL - failed|size=0B",
            1_000,
        )
        .unwrap();
        let r = &c.services[0].record;
        assert_eq!(
            (r.state, r.state_type, r.attempt),
            (State::Critical, StateType::Soft, 1)
        );
        assert_eq!(notices(&mut rx), vec![]);
        c.submit_result(s, 2, "BACKUP CRITICAL - failed again", 1_010)
            .unwrap();
        let r = &c.services[0].record;
        assert_eq!(
            (r.state, r.state_type, r.last_check),
            (State::Critical, StateType::Hard, 1_010)
        );
        assert_eq!(
            notices(&mut rx),
            vec![(
                "PROBLEM".into(),
                "CRITICAL".into(),
                "BACKUP CRITICAL - failed again\n".into()
            )]
        );
        c.submit("h/backup", "0", "BACKUP OK - done|size=12GB", 1_020)
            .unwrap();
        assert_eq!(c.services[0].record.state, State::Ok);
        assert_eq!(c.services[0].perfdata.len(), 1);
        assert_eq!(notices(&mut rx)[0].0, "RECOVERY");
        assert_eq!(c.checks_run, 3);
    }

    #[test]
    fn a_passive_host_result_is_hard_at_once() {
        let (mut c, mut rx) = core(&BASE.replace(
            "address = \"127.0.0.1\"\n",
            "address = \"127.0.0.1\"\nactive_checks_enabled = false\n",
        ));
        // passive only: pending until a result comes, not assumed UP
        assert!(!c.hosts[0].record.checked);
        c.submit("h", "DOWN", "PING CRITICAL - lost", 1_000)
            .unwrap();
        let r = &c.hosts[0].record;
        assert_eq!((r.state, r.state_type), (HostState::Down, StateType::Hard));
        assert_eq!(notices(&mut rx)[0].0, "PROBLEM");
        assert_eq!(
            c.submit("h", "3", "x", 1_001),
            Err("'3' is not a host state (0-2, UP, DOWN, UNREACHABLE)".into())
        );
        c.submit("h", "up", "PING OK", 1_002).unwrap();
        assert_eq!(c.hosts[0].record.state, HostState::Up);
        // UNREACHABLE as given, though the host has no parents
        c.submit("h", "2", "PING CRITICAL - no route", 1_003)
            .unwrap();
        let r = &c.hosts[0].record;
        assert_eq!(
            (r.state, r.state_type),
            (HostState::Unreachable, StateType::Hard)
        );
    }

    #[test]
    fn a_result_is_refused_when_passive_checks_are_disabled() {
        let (mut c, _rx) = core(&BASE.replace(
            "active_checks_enabled = false\n",
            "active_checks_enabled = false\npassive_checks_enabled = false\n",
        ));
        assert_eq!(
            c.submit("h/backup", "0", "OK", 1_000),
            Err("h/backup: passive results are not taken (passive_checks_enabled = false)".into())
        );
        assert!(!c.services[0].record.checked);
        assert_eq!(c.checks_run, 0);
        // switched on at run time (and off again)
        let s = c.find("h/backup").unwrap();
        c.set_passive_checks_enabled(&[s], true);
        c.submit("h/backup", "0", "BACKUP OK", 1_000).unwrap();
        assert_eq!(c.services[0].record.passive_checks, Some(true));
        c.set_passive_checks_enabled(&[s], false);
        assert_eq!(c.services[0].record.passive_checks, None);
        assert_eq!(
            c.submit("h/backup", "2", "x", 1_001).unwrap_err(),
            "h/backup: passive results are not taken (passive_checks_enabled = false)"
        );
        assert_eq!(c.checks_run, 1);
        let (mut open, _rx) = core(BASE);
        open.set_passive_checks_enabled(&[s], false);
        assert_eq!(
            open.submit("h/backup", "2", "x", 1_001).unwrap_err(),
            "h/backup: passive results are not taken (switched off)"
        );
        assert_eq!(
            c.submit("h/nothing", "0", "OK", 1_000),
            Err("no host or service 'h/nothing'".into())
        );
        assert_eq!(
            c.submit("h/backup", "BAD", "OK", 1_000).unwrap_err(),
            "'BAD' is not a service state (0-3, OK, WARNING, CRITICAL, UNKNOWN)"
        );
    }

    #[test]
    fn a_stale_passive_service_gets_its_freshness_state_once_per_threshold() {
        let (mut c, mut rx) = core(&BASE.replace(
            "active_checks_enabled = false\n",
            "active_checks_enabled = false\ncheck_freshness = true\n\
             freshness_threshold = \"25h\"\nmax_check_attempts = 1\n",
        ));
        assert_eq!(c.freshness.len(), 1);
        let t0 = 1_000_000;
        c.submit("h/backup", "OK", "BACKUP OK - done", t0).unwrap();
        c.check_freshness(t0 + 25 * 3600 - 1);
        assert_eq!(c.services[0].record.state, State::Ok);
        // 26 h later: stale
        let t1 = t0 + 26 * 3600;
        c.check_freshness(t1);
        let r = &c.services[0].record;
        assert_eq!((r.state, r.state_type), (State::Critical, StateType::Hard));
        assert_eq!(r.output, "no result for 26 h (freshness threshold 25h)\n");
        assert_eq!(
            notices(&mut rx),
            vec![(
                "PROBLEM".into(),
                "CRITICAL".into(),
                "no result for 26 h (freshness threshold 25h)\n".into()
            )]
        );
        // not again every second: next after another threshold
        let runs = c.checks_run;
        for t in [t1 + 1, t1 + 3600, t1 + 25 * 3600 - 1] {
            c.check_freshness(t);
        }
        assert_eq!(c.checks_run, runs);
        c.check_freshness(t1 + 25 * 3600);
        assert_eq!(c.checks_run, runs + 1);
        assert_eq!(
            c.services[0].record.output,
            "no result for 25 h (freshness threshold 25h)\n"
        );
        // a result comes again: fresh
        c.submit("h/backup", "OK", "BACKUP OK - done", t1 + 26 * 3600)
            .unwrap();
        assert_eq!(notices(&mut rx).last().unwrap().0, "RECOVERY");
    }

    #[test]
    fn never_checked_counts_from_the_start_and_the_state_is_configured() {
        let (mut c, _rx) = core(&BASE.replace(
            "active_checks_enabled = false\n",
            "active_checks_enabled = false\ncheck_freshness = true\n\
             freshness_threshold = \"10m\"\nfreshness_state = \"unknown\"\n",
        ));
        c.started = 5_000;
        c.check_freshness(5_000 + 599);
        assert!(!c.services[0].record.checked);
        c.check_freshness(5_000 + 600);
        let r = &c.services[0].record;
        assert_eq!((r.state, r.state_type), (State::Unknown, StateType::Soft));
        assert_eq!(
            r.output,
            "no result since the daemon started 10 min ago (freshness threshold 10m)\n"
        );
    }

    #[test]
    fn a_stale_service_with_an_active_check_has_it_requested() {
        let text = format!(
            "[[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n\n\
             [[service]]\nhost = \"h\"\nname = \"s\"\ncheck = \"{}\"\nargs = [\"fresh\"]\n\
             check_freshness = true\nfreshness_threshold = \"1h\"\n\n\
             [[service]]\nhost = \"h\"\nname = \"other\"\ncheck = \"{0}\"\nargs = [\"fresh\"]\n",
            crate::registry::fake::NAME
        );
        let (mut c, _rx) = core(&text.replace(
            "address = \"127.0.0.1\"\n",
            "address = \"127.0.0.1\"\ncheck_freshness = true\n",
        ));
        // one watched of two services; not the host, UP without a check
        assert_eq!(c.freshness.len(), 1);
        let s = c.find("h/s").unwrap();
        c.apply(
            s,
            &Outcome::printed(State::Ok, "OK\n", SystemTime::now(), Duration::ZERO),
            0.0,
            10_000,
        );
        c.check_freshness(10_000 + 3599);
        assert_eq!(c.requested, vec![]);
        c.check_freshness(10_000 + 3600);
        assert_eq!(c.requested, vec![s]);
        // the state is left to the check; asked once per threshold
        assert_eq!(c.services[0].record.state, State::Ok);
        c.check_freshness(10_000 + 3601);
        assert_eq!(c.requested, vec![s]);
    }
}
