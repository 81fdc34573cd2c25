//! Configuration: TOML files in a directory (or one file), or the embedded default.
//!
//! ```toml
//! [defaults]
//! check_interval = "5m"     # humantime
//! retry_interval = "1m"
//! max_check_attempts = 3
//! timeout = "30s"           # external plugins
//! check_period = "24x7"     # when checks run (a [[timeperiod]] name)
//! notification_period = "24x7"   # when notifications go out
//!
//! [[timeperiod]]            # Nagios' define timeperiod, one rule line a string
//! name = "business"
//! alias = "Business hours"
//! rules = ["monday 09:00-17:00", "tuesday 09:00-17:00", "2026-12-25 00:00-00:00"]
//! exclude = ["holidays"]    # other [[timeperiod]] names
//!
//! [[contact]]
//! name = "oncall"
//! command = "/usr/local/bin/page"
//! notification_period = "business"   # or service_/host_notification_period
//!
//! [[host]]
//! name = "main"
//! address = "10.0.0.1"
//!
//! [[service]]
//! host = "main"
//! name = "load"
//! check = "check_load"                  # a built-in check, run in-process
//! args = ["-w", "5", "-c", "10"]
//! check_period = "business"             # own settings win over templates and defaults
//!
//! [[service]]
//! host = "main"
//! name = "ntp"
//! command = "/usr/lib/nagios/plugins/check_ntp_time -H $HOSTADDRESS$"   # external plugin
//! ```
//!
//! # Time periods
//! `[[timeperiod]]` takes the rule lines of a Nagios `define timeperiod` (weekdays,
//! dates, date ranges with skips: see [`crate::timeperiod`]) and `exclude`; they are
//! answered in the system's local time. `24x7` (all time) exists unless defined. As in
//! Nagios 4, `check_period` and `notification_period` may be set in `[defaults]`, a
//! `[template.NAME]` or a host or service, and mean:
//! - a check due outside its `check_period` is not run then but at the next time the
//!   period holds;
//! - outside its `notification_period` an object sends no notification of any kind
//!   and counts none: a problem still there is notified at its first check result
//!   inside the period (Nagios' next notification attempt); a recovery, downtime or
//!   acknowledgement outside it is not notified later;
//! - a contact outside its own `notification_period` (`service_notification_period`,
//!   `host_notification_period` for one kind) is passed over for that notification.
//!
//! An unknown period named anywhere, an exclusion cycle, a bad rule line or a period
//! defined twice refuses the configuration (on reload the running one is kept).
//!
//! # Groups
//! ```toml
//! [[hostgroup]]
//! name = "web"
//! alias = "Web servers"            # optional
//! members = ["www1", "www2"]       # host names
//! pattern = "^www[0-9]+$"          # optional: a regex searched in every host name
//! hostgroup_members = ["proxies"]  # optional: nested groups' members are members
//!
//! [[servicegroup]]
//! name = "mail"
//! members = ["mail1/smtp"]         # HOST/SERVICE
//! pattern = "^mail[0-9]+/(smtp|imap)$"   # searched in every HOST/SERVICE
//! servicegroup_members = []
//!
//! [[contactgroup]]
//! name = "admins"
//! members = ["alice"]              # contact names
//! pattern = "^ops-"                # searched in every contact name
//! contactgroup_members = []
//!
//! [[host]]
//! name = "www3"
//! address = "10.0.0.3"
//! hostgroups = ["web"]             # joins these groups (Nagios' hostgroups)
//!
//! [[service]]
//! host = "mail1"
//! name = "pop3"
//! command = "/usr/lib/nagios/plugins/check_pop"
//! servicegroups = ["mail"]         # (Nagios' servicegroups)
//! contact_groups = ["admins"]      # notified besides `contacts`
//! ```
//! A group's members are those of `members`, those its `pattern` matches, the objects
//! that join it themselves and the members of its nested groups, each once (host and
//! service groups in the order of the configuration; a contact group's contacts in
//! that order of sources). A `pattern` is the regex crate's syntax (linear-time, no
//! backreferences), searched anywhere in the name unless anchored with `^...$`; it is
//! at most 1024 characters and 1 MiB compiled. `contact_groups` is set in `[defaults]`,
//! a `[template.NAME]` or a host or service like `contacts`: a notification goes to
//! the object's `contacts`, then its contact groups' members, each contact once (an
//! escalated notification goes to the escalation's). Groups are resolved once when the
//! configuration loads; a name that is not a host, service or contact, a group named
//! but not defined, a group defined twice, an empty name, a bad pattern or groups
//! nested in a cycle refuse the configuration, each at its file and line.
//!
//! # Dependencies
//! ```toml
//! [[servicedependency]]
//! host = "db1"                      # the master (Nagios' host_name)
//! service = "postgres"              # (service_description)
//! dependent_host = "web1"           # default: the master's host
//! dependent_service = "app"
//! execution_failure_criteria = "c,u"        # o,w,u,c,p or n (the default)
//! notification_failure_criteria = "w,u,c"   # o,w,u,c,p or n (the default)
//! inherits_parent = false
//! dependency_period = "24x7"        # optional: outside it the dependency never fails
//!
//! [[hostdependency]]
//! host = "router"
//! dependent_host = "server"
//! execution_failure_criteria = "d,u"        # o,d,u,p or n
//! notification_failure_criteria = "d,u"
//!
//! [daemon]
//! soft_state_dependencies = false   # true: a master's soft state counts too
//! ```
//! As Nagios 4, a dependency fails when its master's state matches one of its letters
//! (`o` OK or UP, `w` WARNING, `u` UNKNOWN or UNREACHABLE, `c` CRITICAL, `d` DOWN, `p`
//! pending: never checked yet; a master never checked also counts as OK or UP), inside
//! its `dependency_period` only. The master's state is its last hard state while it is
//! in a soft state, unless `soft_state_dependencies`. With `inherits_parent`, it also
//! fails when a dependency of the same kind of its master fails (and so on up the
//! chain). `n`, alone, makes no dependency of that kind.
//! - A failed **execution** dependency holds the dependent's check when it is due: it
//!   is not run, its state is kept, and it is looked at again a check interval later
//!   (a check asked for by an admin runs anyway).
//! - A failed **notification** dependency holds back the dependent's problem and
//!   recovery notifications (none sent, none counted; a problem still there is notified
//!   at its first check after the dependency stops failing); acknowledgement, flapping
//!   and downtime notifications go out. A service's notifications are also held back
//!   by its host's failed host notification dependencies.
//!
//! The API's view of a held object says why (`held`, `notifications_held`). A
//! dependency naming an unknown host, service or time period, a bad or combined `n`
//! letter, a dependency of an object on itself and a circular dependency (execution and
//! notification dependencies checked separately; each cycle reported once with its
//! path) refuse the configuration, with the file and line of the entry's `host`.
//!
//! # Event handlers
//! ```toml
//! [defaults]                # or a [template.NAME], a [[host]], a [[service]]
//! event_handler = "/usr/local/bin/restart-apache $HOSTADDRESS$ $SERVICESTATE$ $SERVICESTATETYPE$ $SERVICEATTEMPT$"
//! event_handler_enabled = true
//!
//! [daemon]
//! event_handlers_enabled = true     # false: no handler runs at all
//! global_host_event_handler = "/usr/local/bin/log-host-event $HOSTNAME$ $HOSTSTATE$"
//! global_service_event_handler = "/usr/local/bin/log-service-event"
//! event_handler_timeout = "30s"     # then killed with its process group
//! ```
//! As Nagios 4.4, a host's or service's handlers run after a result that changes its
//! state, after each result in a SOFT problem state (every retry, and the one that
//! makes the problem HARD), on a change between HARD problems, and on a recovery, SOFT
//! or HARD; not while a state stays OK or the same HARD problem (see
//! [`crate::handler`]). The global handler runs first, then the object's own, one after
//! the other; `event_handler_enabled = false` on an object stops both for it (Nagios
//! 4.4). A handler is a program and its arguments, run without a shell as the plugin
//! user with the plugins' limits: shell syntax (`| ; & > < ' "` ...) in the line is
//! refused with its file and line. Macros (`$HOSTNAME$`, `$HOSTADDRESS$`,
//! `$HOSTSTATE$`, `$HOSTSTATETYPE$`, `$HOSTATTEMPT$`, `$HOSTOUTPUT$`, `$SERVICEDESC$`,
//! `$SERVICESTATE$`, `$SERVICESTATEID$`, `$SERVICESTATETYPE$`, `$SERVICEATTEMPT$`,
//! `$SERVICEOUTPUT$`, `$LASTSERVICESTATE$`, ... the list in [`crate::handler::MACROS`])
//! are expanded inside the one argument they are in, and are also in the handler's
//! environment as `NAGIOS_SERVICESTATE`, `NAGIOS_SERVICESTATETYPE`, ... Each run is
//! logged with its exit and the first line of its output.
//!
//! # Event log
//! ```toml
//! [daemon]
//! event_log = "/var/log/hcoop-monitor/events.log"   # unset: none
//! ```
//! What happens to hosts and services, one line each in the grammar of Nagios'
//! nagios.log, so Nagios log readers (and the history import) read it: `SERVICE ALERT:
//! HOST;SERVICE;STATE;SOFT|HARD;ATTEMPT;OUTPUT` and `HOST ALERT: HOST;STATE;TYPE;ATTEMPT;
//! OUTPUT` when Nagios 4 writes them (on every change of state, on a state becoming
//! HARD and on every result in a SOFT problem state, as with Nagios' sample
//! `log_service_retries=1` and `log_host_retries=1`), `SERVICE NOTIFICATION:
//! CONTACT;HOST;SERVICE;STATE;METHOD;OUTPUT` (`ACKNOWLEDGEMENT (STATE)`, `DOWNTIMESTART
//! (STATE)`, ... for other types; one line per contact and method: `email` or the file
//! name of the contact's command) and `HOST NOTIFICATION`, `SERVICE EVENT HANDLER`,
//! `SERVICE FLAPPING ALERT` and `SERVICE DOWNTIME ALERT` (and their host forms), each
//! prefixed with `[UNIX TIME]`. The output is the plugin's first line without its
//! perfdata, `;` turned into `:` as Nagios does, at most 8 KiB. The file is appended to
//! (made with mode 0640; never through a symlink or a second hard link), written by a
//! thread of its own that is handed lines through a bounded queue (lines beyond it are
//! dropped and counted in the daemon's log) and never syncs; a reload (SIGHUP) reopens
//! it, as logrotate needs.
//!
//! # Escalations
//! ```toml
//! [[serviceescalation]]
//! host = "db1"
//! service = "postgres"
//! first_notification = 3            # from the third problem notification...
//! last_notification = 0             # ...to the end (else the last one escalated)
//! notification_interval = "30m"     # while escalated; "0s": no more; unset: the object's
//! escalation_period = "24x7"        # optional: outside it the escalation does not hold
//! escalation_options = "w,u,c,r"    # the states escalated, r the recovery (default all)
//! contacts = ["boss"]               # neither contacts nor contact_groups: the object's
//! contact_groups = ["admins"]
//!
//! [[hostescalation]]
//! host = "router"
//! first_notification = 2
//! escalation_options = "d,u,r"      # n: none
//! contact_groups = ["admins"]
//! ```
//! As Nagios 4, the problem notifications of an object are numbered from 1 for each
//! problem (a change between problem states counts on; a recovery starts again).
//! An escalation holds for a notification when its number is within
//! `first_notification` and `last_notification`, its `escalation_period` holds then
//! and the state is among its `escalation_options`; a recovery is held against the
//! number of the last problem notification and `r`, an acknowledgement, flapping or
//! downtime notification during a problem against the current number and state. When
//! escalations hold, the notification goes to their `contacts` and `contact_groups`'
//! members (each contact once, still passed over when the contact's own options or
//! period say so) **instead of** the object's `contacts` and `contact_groups`, and is
//! marked escalated (`NAGIOS_NOTIFICATIONISESCALATED=1` for commands, an `Escalated:
//! yes` line in mail). The next problem notification then waits the shortest
//! `notification_interval` of the escalations that held for the last one (one without
//! its own counts as the object's): `"0s"` sends no more until the state changes. As in
//! Nagios, an escalation without `contacts` and `contact_groups` takes the object's
//! (only the interval changes then); one without `escalation_period` holds all time
//! (Nagios takes the object's `notification_period`, which holds whenever a
//! notification goes out: the same). An escalation naming an unknown host, service,
//! contact, contact group or time period, with `first_notification` after a non-zero
//! `last_notification` or an option letter not of its kind refuses the configuration,
//! at the file and line of its `host`.
//!
//! # Passive results and freshness
//! ```toml
//! [[service]]                       # or [defaults], a [template.NAME], a [[host]]
//! host = "vault"
//! name = "backup"
//! active_checks_enabled = false     # never scheduled: passive results only
//! passive_checks_enabled = true     # false: submitted results are refused
//! check_freshness = true
//! freshness_threshold = "26h"       # unset or "0s": the check interval and 15 s
//! freshness_state = "critical"      # ok, warning, critical, unknown (hosts: up, down)
//! max_check_attempts = 1            # a stale result is HARD at once
//!
//! [daemon]
//! command_file = "/run/hcoop-monitor/nagios.cmd"   # unset: no external command file
//! command_group = "nagios"          # may write it besides root and the daemon's user
//! ```
//! A service with neither `check` nor `command` must have `active_checks_enabled =
//! false` (from its own settings, its template or the defaults): it takes passive
//! results only (`hcoop-monitor submit`, `POST /api/result`, the command file's
//! `PROCESS_SERVICE_CHECK_RESULT`), which go through the soft/hard rules as check
//! results (a host's are HARD at once, as Nagios' default). One with a check and
//! `active_checks_enabled = false` is not run when due (unless switched on at run
//! time), but freshness and `recheck` run it. As in Nagios, an object with
//! `check_freshness` whose last result (or, before any, the daemon's start) is older
//! than `freshness_threshold`, inside its `check_period`, is stale: its check is run
//! now if it has one; a passive-only one gets `freshness_state` with the output "no
//! result for 26 h (freshness threshold 25h)", as a check result, then again each
//! threshold while nothing comes (so with `max_check_attempts` above 1 the problem is
//! SOFT at first, as a Nagios dummy freshness check's). `command_file` is a FIFO that
//! takes Nagios' external commands (see [`crate::external`] for the list and
//! [`crate::cmdfile`] for who may write it); `command_group` must exist. A daemon
//! started as root makes the FIFO (and its directory, when missing) for its `user`
//! before leaving root; one started as its user must be a member of `command_group`.
//!
//! # History
//! ```toml
//! [history]
//! enabled = true                      # false: no store (pages show current state only)
//! path = "/var/lib/hcoop-monitor/history.db"   # default: history.db beside state_file
//! perfdata = true                     # consolidate perfdata into graphs
//! archives = ["1m:48h", "5m:10d", "30m:90d", "6h:4y"]   # STEP:SPAN (min/avg/max kept)
//! keep_events = "4y"                  # events older than this are deleted (hourly)
//! ```
//! The daemon records what happens (state changes as logged in the event log,
//! notifications with their result, acknowledgements, downtimes, comments, flapping,
//! its own starts, stops and reloads) in an embedded SQLite store, one file written by
//! one thread: an event is committed and synced before what follows from it is done
//! (every notification, an action's answer), perfdata within a second. A store that
//! cannot record delays these at most 10 s and never fails them: an admin action is
//! applied and saved all the same, and the `hcoop-monitor/history` self-check turns
//! CRITICAL saying what was not recorded. A daemon killed
//! without stopping gets its stop recorded at its last heartbeat (written every 10 s)
//! when it starts again. The store, its `-wal` and `-shm` are mode 0600, in a directory
//! held to the state directory's rules (only root or the daemon's user may own or
//! write it, symlinks never followed); a store that is not a database or fails SQLite's
//! `quick_check` is renamed `history.db.corrupt-UNIXTIME` (its `-wal` and `-shm` alike),
//! a new one is made and the `hcoop-monitor/history` self-check says so until a reload.
//! `archives` are STEP:SPAN (`s`, `m`, `h`, `d`, `w`, `y`): steps increasing, each a
//! multiple of the one before, each span a multiple of its step and not shorter than
//! the one before, at most 8. `keep_events` is between `1d` and `100y`. Texts are cut
//! to 8 KiB (output) and 1 KiB (names, comments, authors).

use crate::clock::Time;
use crate::timeperiod::{TimePeriod, TimePeriods, TimeRange, Zone};
use anyhow::{anyhow, bail, Context, Result};
use hcoop_plugins::plugin::runner::DynCheck;
use hcoop_plugins::plugin::State;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use toml::Spanned;

pub mod dependencies;
pub mod escalations;
pub mod groups;
pub mod history;
pub mod sections;

pub use crate::history::store::HistorySettings;

/// The embedded default: the local machine.
pub const DEFAULT_CONFIG: &str = include_str!("../../checks.d/default.toml");

/// Values services inherit unless they set their own.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    #[serde(default = "default_check_interval", with = "humantime_serde_compat")]
    pub check_interval: Duration,
    #[serde(default = "default_retry_interval", with = "humantime_serde_compat")]
    pub retry_interval: Duration,
    #[serde(default = "default_attempts")]
    pub max_check_attempts: u32,
    #[serde(default = "default_timeout", with = "humantime_serde_compat")]
    pub timeout: Duration,
    /// Re-notify a problem this often; "0s" notifies once.
    #[serde(
        default = "default_notification_interval",
        with = "humantime_serde_compat"
    )]
    pub notification_interval: Duration,
    /// Wait this long into a hard problem before the first notification.
    #[serde(default = "zero", with = "humantime_serde_compat")]
    pub first_notification_delay: Duration,
    /// Contacts notified unless a host or service names its own.
    #[serde(default)]
    pub contacts: Vec<String>,
    /// Contact groups notified besides `contacts`, unless a host or service names its
    /// own.
    #[serde(default)]
    pub contact_groups: Vec<String>,
    #[serde(default = "yes")]
    pub notifications_enabled: bool,
    #[serde(default = "yes")]
    pub flap_detection: bool,
    #[serde(default = "default_low_flap")]
    pub low_flap_threshold: f64,
    #[serde(default = "default_high_flap")]
    pub high_flap_threshold: f64,
    /// The time period checks run in (a `[[timeperiod]]` name; default `24x7`).
    #[serde(default = "all_the_time")]
    pub check_period: String,
    /// The time period notifications go out in (default `24x7`).
    #[serde(default = "all_the_time")]
    pub notification_period: String,
    /// The event handler command line (a program and its arguments, no shell).
    pub event_handler: Option<String>,
    #[serde(default = "yes")]
    pub event_handler_enabled: bool,
    /// Whether checks are scheduled (false: passive results only).
    #[serde(default = "yes")]
    pub active_checks_enabled: bool,
    /// Whether submitted (passive) results are taken.
    #[serde(default = "yes")]
    pub passive_checks_enabled: bool,
    /// Whether a result older than `freshness_threshold` is acted on.
    #[serde(default)]
    pub check_freshness: bool,
    /// Unset (or "0s"): the check interval and 15 s, as Nagios' automatic threshold.
    #[serde(default, with = "opt_duration")]
    pub freshness_threshold: Option<Duration>,
    /// The state a stale object without a check is given (default critical).
    #[serde(default = "critical", deserialize_with = "state_name")]
    pub freshness_state: State,
}

fn critical() -> State {
    State::Critical
}

/// A state by name: ok, warning, critical, unknown, or a host's up (ok), down
/// (critical), unreachable (critical: DOWN or UNREACHABLE as the host's parents say).
fn state_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<State, D::Error> {
    let s = String::deserialize(d)?;
    match s.to_ascii_lowercase().as_str() {
        "ok" | "up" => Ok(State::Ok),
        "warning" => Ok(State::Warning),
        "critical" | "down" | "unreachable" => Ok(State::Critical),
        "unknown" => Ok(State::Unknown),
        _ => Err(serde::de::Error::custom(format!(
            "'{s}' is not a state (expected ok, warning, critical, unknown, up, down or unreachable)"
        ))),
    }
}

/// `Option<State>` by name ([`state_name`]).
fn opt_state_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<State>, D::Error> {
    state_name(d).map(Some)
}

/// The built-in time period that holds all time, unless a `[[timeperiod]]` defines it.
pub const ALL_THE_TIME: &str = "24x7";

fn all_the_time() -> String {
    ALL_THE_TIME.into()
}

fn default_notification_interval() -> Duration {
    Duration::from_secs(1800)
}
fn zero() -> Duration {
    Duration::ZERO
}
fn yes() -> bool {
    true
}
fn default_low_flap() -> f64 {
    5.0
}
fn default_high_flap() -> f64 {
    20.0
}

fn default_check_interval() -> Duration {
    Duration::from_secs(300)
}
fn default_retry_interval() -> Duration {
    Duration::from_secs(60)
}
fn default_attempts() -> u32 {
    3
}
fn default_timeout() -> Duration {
    Duration::from_secs(60)
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            check_interval: default_check_interval(),
            retry_interval: default_retry_interval(),
            max_check_attempts: default_attempts(),
            timeout: default_timeout(),
            notification_interval: default_notification_interval(),
            first_notification_delay: zero(),
            contacts: Vec::new(),
            contact_groups: Vec::new(),
            notifications_enabled: true,
            flap_detection: true,
            low_flap_threshold: default_low_flap(),
            high_flap_threshold: default_high_flap(),
            check_period: all_the_time(),
            notification_period: all_the_time(),
            event_handler: None,
            event_handler_enabled: true,
            active_checks_enabled: true,
            passive_checks_enabled: true,
            check_freshness: false,
            freshness_threshold: None,
            freshness_state: critical(),
        }
    }
}

/// Durations as humantime strings ("5m", "30s").
mod humantime_serde_compat {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s).map_err(|e| serde::de::Error::custom(format!("'{s}': {e}")))
    }
}

/// Settings a host or service may set for itself (unset: the defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    #[serde(default, with = "opt_duration")]
    pub check_interval: Option<Duration>,
    #[serde(default, with = "opt_duration")]
    pub retry_interval: Option<Duration>,
    pub max_check_attempts: Option<u32>,
    #[serde(default, with = "opt_duration")]
    pub timeout: Option<Duration>,
    #[serde(default, with = "opt_duration")]
    pub notification_interval: Option<Duration>,
    #[serde(default, with = "opt_duration")]
    pub first_notification_delay: Option<Duration>,
    pub contacts: Option<Vec<String>>,
    pub contact_groups: Option<Vec<String>>,
    pub notifications_enabled: Option<bool>,
    pub flap_detection: Option<bool>,
    pub check_period: Option<String>,
    pub notification_period: Option<String>,
    pub event_handler: Option<String>,
    pub event_handler_enabled: Option<bool>,
    pub active_checks_enabled: Option<bool>,
    pub passive_checks_enabled: Option<bool>,
    pub check_freshness: Option<bool>,
    #[serde(default, with = "opt_duration")]
    pub freshness_threshold: Option<Duration>,
    #[serde(default, deserialize_with = "opt_state_name")]
    pub freshness_state: Option<State>,
}

/// A host as written in a file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostFile {
    name: Spanned<String>,
    address: String,
    #[serde(default)]
    parents: Vec<String>,
    /// A built-in host check (e.g. check_tcp); none: the host is always UP.
    check: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    /// An external host check command line.
    command: Option<String>,
    /// The `[[hostgroup]]`s this host joins.
    #[serde(default)]
    hostgroups: Vec<String>,
    #[serde(flatten)]
    settings: Overrides,
}

/// The schedule and notification settings of a host or service, defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub check_interval: Duration,
    pub retry_interval: Duration,
    pub max_check_attempts: u32,
    pub timeout: Duration,
    pub notification_interval: Duration,
    pub first_notification_delay: Duration,
    pub contacts: Vec<String>,
    /// Contact groups notified besides `contacts` (names of [`Config::groups`]).
    pub contact_groups: Vec<String>,
    pub notifications_enabled: bool,
    pub flap_detection: bool,
    pub low_flap_threshold: f64,
    pub high_flap_threshold: f64,
    /// The time period checks run in (a name of [`Config::periods`]).
    pub check_period: String,
    /// The time period notifications go out in.
    pub notification_period: String,
    /// The event handler (refused at load when it does not parse).
    pub event_handler: Option<crate::handler::Command>,
    pub event_handler_enabled: bool,
    /// Whether checks are scheduled (false: passive results only, and freshness).
    pub active_checks_enabled: bool,
    /// Whether submitted results are taken.
    pub passive_checks_enabled: bool,
    pub check_freshness: bool,
    /// `None`: automatic (see [`Schedule::freshness`]).
    pub freshness_threshold: Option<Duration>,
    /// What a stale object without a check becomes.
    pub freshness_state: State,
}

impl Schedule {
    /// The settings of a host or service: each from the first of `layers` that sets it
    /// (its own, then its template's), else from the defaults.
    fn new(d: &Defaults, layers: &[&Overrides]) -> Schedule {
        fn first<T: Clone>(
            layers: &[&Overrides],
            field: fn(&Overrides) -> &Option<T>,
        ) -> Option<T> {
            layers.iter().find_map(|o| field(o).clone())
        }
        Schedule {
            check_interval: first(layers, |o| &o.check_interval).unwrap_or(d.check_interval),
            retry_interval: first(layers, |o| &o.retry_interval).unwrap_or(d.retry_interval),
            max_check_attempts: first(layers, |o| &o.max_check_attempts)
                .unwrap_or(d.max_check_attempts),
            timeout: first(layers, |o| &o.timeout).unwrap_or(d.timeout),
            notification_interval: first(layers, |o| &o.notification_interval)
                .unwrap_or(d.notification_interval),
            first_notification_delay: first(layers, |o| &o.first_notification_delay)
                .unwrap_or(d.first_notification_delay),
            contacts: first(layers, |o| &o.contacts).unwrap_or_else(|| d.contacts.clone()),
            contact_groups: first(layers, |o| &o.contact_groups)
                .unwrap_or_else(|| d.contact_groups.clone()),
            notifications_enabled: first(layers, |o| &o.notifications_enabled)
                .unwrap_or(d.notifications_enabled),
            flap_detection: first(layers, |o| &o.flap_detection).unwrap_or(d.flap_detection),
            low_flap_threshold: d.low_flap_threshold,
            high_flap_threshold: d.high_flap_threshold,
            check_period: first(layers, |o| &o.check_period)
                .unwrap_or_else(|| d.check_period.clone()),
            notification_period: first(layers, |o| &o.notification_period)
                .unwrap_or_else(|| d.notification_period.clone()),
            event_handler: first(layers, |o| &o.event_handler)
                .or_else(|| d.event_handler.clone())
                .and_then(|line| crate::handler::Command::parse(&line).ok()),
            event_handler_enabled: first(layers, |o| &o.event_handler_enabled)
                .unwrap_or(d.event_handler_enabled),
            active_checks_enabled: first(layers, |o| &o.active_checks_enabled)
                .unwrap_or(d.active_checks_enabled),
            passive_checks_enabled: first(layers, |o| &o.passive_checks_enabled)
                .unwrap_or(d.passive_checks_enabled),
            check_freshness: first(layers, |o| &o.check_freshness).unwrap_or(d.check_freshness),
            freshness_threshold: first(layers, |o| &o.freshness_threshold)
                .or(d.freshness_threshold),
            freshness_state: first(layers, |o| &o.freshness_state).unwrap_or(d.freshness_state),
        }
    }

    /// The freshness threshold: the one set, else (unset or 0) Nagios' automatic one,
    /// the check interval and 15 s (its `additional_freshness_latency`).
    pub fn freshness(&self) -> Duration {
        match self.freshness_threshold {
            Some(t) if !t.is_zero() => t,
            _ => self.check_interval + Duration::from_secs(15),
        }
    }

    /// The state rules' view of these settings (the notification period and run-time
    /// switches aside: [`crate::daemon::Core::policy`]).
    pub fn policy(&self) -> crate::state::Policy {
        crate::state::Policy {
            max_check_attempts: self.max_check_attempts,
            first_notification_delay: self.first_notification_delay.as_secs(),
            notification_interval: self.notification_interval.as_secs(),
            notifications_enabled: self.notifications_enabled,
            flap_detection: self.flap_detection,
            low_flap_threshold: self.low_flap_threshold,
            high_flap_threshold: self.high_flap_threshold,
            normal_notifications_held: false,
        }
    }
}

/// A monitored host.
#[derive(Debug, Clone, PartialEq)]
pub struct Host {
    pub name: String,
    pub address: String,
    pub parents: Vec<String>,
    /// The host check; `None`: always UP.
    pub check: Option<Arc<CheckSpec>>,
    /// Shared by the hosts and services that have the same settings.
    pub schedule: Arc<Schedule>,
}

/// Whom to notify and how.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    /// Address for notification emails.
    pub email: Option<String>,
    /// A command run for each notification, facts in `NAGIOS_*` environment variables.
    pub command: Option<String>,
    /// Service notification options: w,u,c,r,f,s (or "n" for none).
    #[serde(default = "all_service_options")]
    pub service_options: String,
    /// Host notification options: d,u,r,f,s (or "n" for none).
    #[serde(default = "all_host_options")]
    pub host_options: String,
    /// The time period this contact is notified in (default `24x7`), for services and
    /// hosts unless the two below say otherwise (Nagios'
    /// `service_notification_period` and `host_notification_period`).
    pub notification_period: Option<String>,
    pub service_notification_period: Option<String>,
    pub host_notification_period: Option<String>,
}

fn all_service_options() -> String {
    "w,u,c,r,f,s".into()
}
fn all_host_options() -> String {
    "d,u,r,f,s".into()
}

impl Contact {
    /// Whether this contact takes a notification with option letter `option` (`None`:
    /// acknowledgements, always taken).
    pub fn wants(&self, service: bool, option: Option<char>) -> bool {
        let opts = if service {
            &self.service_options
        } else {
            &self.host_options
        };
        option.is_none_or(|o| opts.split(',').any(|x| x.trim().starts_with(o)))
    }

    /// The time period this contact takes service (or host) notifications in.
    pub fn period(&self, service: bool) -> &str {
        let own = if service {
            &self.service_notification_period
        } else {
            &self.host_notification_period
        };
        own.as_ref()
            .or(self.notification_period.as_ref())
            .map_or(ALL_THE_TIME, String::as_str)
    }
}

/// How notification emails leave.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    /// The relay host.
    pub host: String,
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    /// "starttls" (required), "tls" (implicit TLS) or "none".
    #[serde(default = "default_tls")]
    pub tls: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The From: address.
    #[serde(default = "default_from")]
    pub from: String,
    #[serde(default = "default_smtp_timeout", with = "humantime_serde_compat")]
    pub timeout: Duration,
}

fn default_smtp_port() -> u16 {
    25
}
fn default_tls() -> String {
    "starttls".into()
}
fn default_from() -> String {
    "hcoop-monitor@localhost".into()
}
fn default_smtp_timeout() -> Duration {
    Duration::from_secs(30)
}

/// The daemon's own settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Daemon {
    /// Status HTTP listener.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Where states are saved.
    #[serde(default = "default_state_file")]
    pub state_file: PathBuf,
    /// Every change is journaled at once (admin actions synced before they are
    /// confirmed, check results within 100 ms) and compacted when the journal outgrows
    /// the snapshot; this paces the checks for a due compaction and the retries after a
    /// failed one.
    #[serde(
        default = "default_retention_interval",
        with = "humantime_serde_compat"
    )]
    pub retention_interval: Duration,
    /// The user the daemon runs as: started as root, it binds its sockets, opens its
    /// state, then drops to this user, keeping only the capabilities its checks need
    /// (see SECURITY.md). Unset: it stays as started.
    pub user: Option<String>,
    /// The control socket: `hcoop-monitor status/ack/downtime/...` talk to the daemon
    /// through it, authenticated by the peer's uid (root, the daemon's user,
    /// `admin_users`, members of `admin_groups`). Its directory is made by the daemon
    /// and must not be writable by anyone else.
    #[serde(default = "default_socket")]
    pub socket: PathBuf,
    /// Users (names) who may use the control socket besides root and the daemon's user.
    #[serde(default)]
    pub admin_users: Vec<String>,
    /// Groups whose members may use the control socket.
    #[serde(default)]
    pub admin_groups: Vec<String>,
    /// API tokens for writes over `listen` (`NAME:SHA256` lines, made by `hcoop-monitor
    /// token NAME`); without it, the TCP API is read-only.
    pub credentials_file: Option<PathBuf>,
    /// Whether reads over `listen` need a token too (default: open, on loopback).
    #[serde(default)]
    pub require_auth_for_reads: bool,
    /// The longest downtime that may be scheduled.
    #[serde(default = "default_max_downtime", with = "humantime_serde_compat")]
    pub max_downtime: Duration,
    /// How many downtimes, and how many comments, may exist at once (each).
    #[serde(default = "default_max_entries")]
    pub max_downtimes: usize,
    /// Connections the API serves at once over TCP and the control socket (each).
    #[serde(default = "default_api_connections")]
    pub api_max_connections: usize,
    /// Connections one peer address (TCP) or one uid (control socket) may hold at once.
    #[serde(default = "default_api_connections_per_peer")]
    pub api_max_connections_per_peer: usize,
    /// How many checks may run at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// The user external plugins run as when the daemon runs as root (looked up only
    /// when the configuration starts external programs; never root).
    #[serde(default = "default_plugin_user")]
    pub plugin_user: String,
    /// Per-plugin limit on processes of the plugin user (RLIMIT_NPROC).
    #[serde(default = "default_nproc")]
    pub plugin_nproc: u64,
    /// Per-plugin address space limit in MiB (RLIMIT_AS).
    #[serde(default = "default_as_mib")]
    pub plugin_address_space_mib: u64,
    /// Per-plugin CPU time limit in seconds (RLIMIT_CPU).
    #[serde(default = "default_cpu")]
    pub plugin_cpu_seconds: u64,
    /// Where built-in check_http's `-f follow` may follow a member's redirect when the
    /// check gives no `--redirect-networks`: networks (`ADDRESS/PREFIX` or an address) and
    /// `global` (global unicast addresses: not loopback, private, link-local, multicast,
    /// reserved or cloud metadata); the address a check started from is always allowed.
    #[serde(default = "default_redirect_networks")]
    pub redirect_networks: Vec<String>,
    /// Whether dependencies look at a master's soft state too (Nagios'
    /// `soft_state_dependencies`); off: a master in a soft state counts by its last hard
    /// state.
    #[serde(default)]
    pub soft_state_dependencies: bool,
    /// Whether event handlers run at all (Nagios' `enable_event_handlers`).
    #[serde(default = "yes")]
    pub event_handlers_enabled: bool,
    /// Run before the host's own handler, for every host (a program and its arguments).
    pub global_host_event_handler: Option<String>,
    /// Run before the service's own handler, for every service.
    pub global_service_event_handler: Option<String>,
    /// How long an event handler may run before it is killed with its process group.
    #[serde(
        default = "default_event_handler_timeout",
        with = "humantime_serde_compat"
    )]
    pub event_handler_timeout: Duration,
    /// The event log: alerts, notifications, event handlers, flapping and downtimes, one
    /// line each in the grammar of Nagios' nagios.log (unset: none). Reopened on every
    /// reload (SIGHUP), as logrotate needs.
    pub event_log: Option<PathBuf>,
    /// A Nagios-compatible external command file: a FIFO the daemon makes (mode 0620,
    /// its own user's, group `command_group`) and reads command lines from. Unset: none.
    pub command_file: Option<PathBuf>,
    /// The group that may write `command_file` besides root and the daemon's user
    /// (unset: the daemon user's primary group).
    pub command_group: Option<String>,
}

fn default_listen() -> String {
    "127.0.0.1:9667".into()
}
fn default_state_file() -> PathBuf {
    PathBuf::from("/var/lib/hcoop-monitor/state.json")
}
fn default_retention_interval() -> Duration {
    Duration::from_secs(10)
}
fn default_socket() -> PathBuf {
    PathBuf::from("/run/hcoop-monitor/control.sock")
}
fn default_max_downtime() -> Duration {
    Duration::from_secs(30 * 86400)
}
fn default_max_entries() -> usize {
    1000
}
fn default_api_connections() -> usize {
    256
}
fn default_api_connections_per_peer() -> usize {
    16
}
fn default_concurrency() -> usize {
    64
}
/// A user of the monitor's own (the Debian package creates it), not `nobody`, which
/// other services share.
fn default_plugin_user() -> String {
    "hcoop-monitor".into()
}
fn default_nproc() -> u64 {
    512
}
fn default_as_mib() -> u64 {
    1024
}
fn default_cpu() -> u64 {
    60
}
fn default_redirect_networks() -> Vec<String> {
    vec!["global".into()]
}
fn default_event_handler_timeout() -> Duration {
    Duration::from_secs(30)
}

impl Default for Daemon {
    fn default() -> Self {
        toml::from_str("").expect("every daemon setting has a default")
    }
}

/// One service as written in a file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceFile {
    pub host: String,
    pub name: Spanned<String>,
    /// A built-in check by plugin name.
    pub check: Option<String>,
    /// Arguments of the built-in check.
    #[serde(default)]
    pub args: Vec<String>,
    /// An external plugin command line.
    pub command: Option<String>,
    /// A `[template.NAME]` whose settings apply under this service's own.
    #[serde(rename = "use")]
    pub template: Option<String>,
    /// The `[[servicegroup]]`s this service joins.
    #[serde(default)]
    pub servicegroups: Vec<String>,
    #[serde(flatten)]
    pub settings: Overrides,
}

/// `Option<Duration>` from a humantime string (`"30s"`).
pub(crate) mod opt_duration {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        s.map(|s| {
            humantime::parse_duration(&s)
                .map_err(|e| serde::de::Error::custom(format!("'{s}': {e}")))
        })
        .transpose()
    }
}

/// One configuration file's content.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    defaults: Option<Defaults>,
    daemon: Option<Daemon>,
    smtp: Option<Smtp>,
    nrpe: Option<sections::NrpeSection>,
    forward: Option<sections::Forward>,
    history: Option<history::Section>,
    #[serde(default)]
    template: std::collections::BTreeMap<String, Overrides>,
    #[serde(default)]
    contact: Vec<Contact>,
    #[serde(default)]
    host: Vec<HostFile>,
    #[serde(default)]
    service: Vec<ServiceFile>,
    #[serde(default)]
    timeperiod: Vec<TimePeriodFile>,
    #[serde(default)]
    serviceescalation: Vec<escalations::EscalationFile>,
    #[serde(default)]
    hostescalation: Vec<escalations::EscalationFile>,
    #[serde(default)]
    hostgroup: Vec<groups::HostGroupFile>,
    #[serde(default)]
    servicegroup: Vec<groups::ServiceGroupFile>,
    #[serde(default)]
    contactgroup: Vec<groups::ContactGroupFile>,
    #[serde(default)]
    servicedependency: Vec<dependencies::ServiceDependencyFile>,
    #[serde(default)]
    hostdependency: Vec<dependencies::HostDependencyFile>,
}

/// A `[[timeperiod]]` as written: Nagios' rule lines, one string each.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TimePeriodFile {
    name: Spanned<String>,
    #[serde(default)]
    alias: String,
    #[serde(default)]
    rules: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
}

/// The configuration's time periods, with the built-in `24x7` unless it is defined,
/// answering in the system's local time (as Nagios).
#[derive(Debug, Clone)]
pub struct Periods {
    set: Arc<TimePeriods>,
    /// As defined (to answer in another zone: [`Periods::in_zone`]).
    defined: Vec<TimePeriod>,
    /// Whether `24x7` is the built-in one (answered without a look at the calendar).
    builtin_all: bool,
}

impl Periods {
    /// The set of `defined` (the built-in `24x7` added unless among them).
    fn new(mut defined: Vec<TimePeriod>, zone: Zone) -> Result<Periods, String> {
        let builtin_all = !defined.iter().any(|p| p.name == ALL_THE_TIME);
        if builtin_all {
            let mut all = TimePeriod::new(ALL_THE_TIME, "24 Hours A Day, 7 Days A Week");
            all.weekdays = std::array::from_fn(|_| {
                vec![TimeRange {
                    start: 0,
                    end: 86_400,
                }]
            });
            defined.push(all);
        }
        let set = TimePeriods::new(defined.clone(), zone).map_err(|e| e.to_string())?;
        Ok(Periods {
            set: Arc::new(set),
            defined,
            builtin_all,
        })
    }

    /// The same periods, answering in `zone`.
    pub fn in_zone(&self, zone: Zone) -> Periods {
        let mut defined = self.defined.clone();
        if self.builtin_all {
            defined.retain(|p| p.name != ALL_THE_TIME);
        }
        Periods::new(defined, zone).expect("a checked set stays valid")
    }

    /// Whether a period of this name exists.
    pub fn has(&self, name: &str) -> bool {
        self.set.id(name).is_some()
    }

    /// Whether `t` is in the period `name` (a name not defined holds all time: the
    /// configuration refuses one).
    pub fn contains(&self, name: &str, t: Time) -> bool {
        if self.builtin_all && name == ALL_THE_TIME {
            return true;
        }
        self.set.id(name).is_none_or(|id| self.set.contains(id, t))
    }

    /// The earliest time at or after `t` in the period `name` (`t` itself for a name
    /// not defined); `None` when there is none within a year.
    pub fn next_valid(&self, name: &str, t: Time) -> Option<Time> {
        match self.set.id(name) {
            Some(id) => self.set.next_valid(id, t),
            None => Some(t),
        }
    }

    /// The names of the periods (the built-in `24x7` included).
    pub fn names(&self) -> Vec<String> {
        self.defined.iter().map(|p| p.name.clone()).collect()
    }

    /// The parts of `[from, to)` in the period `name` (`None` for a name not defined).
    pub fn intervals(&self, name: &str, from: Time, to: Time) -> Option<Vec<(Time, Time)>> {
        let id = self.set.id(name)?;
        if self.builtin_all && name == ALL_THE_TIME {
            return Some(
                vec![(from, to)]
                    .into_iter()
                    .filter(|(f, t)| f < t)
                    .collect(),
            );
        }
        Some(self.set.intervals(id, from, to))
    }
}

impl Default for Periods {
    fn default() -> Periods {
        Periods::new(Vec::new(), Zone::Local).expect("24x7 alone is valid")
    }
}

/// Reads the `[[timeperiod]]` entries (each `(place, entry)`) through the time period
/// library: errors name the entry's file and line.
fn time_periods(raw: Vec<(String, TimePeriodFile)>, errors: &mut Vec<String>) -> Periods {
    let names: std::collections::HashSet<&str> =
        raw.iter().map(|(_, p)| p.name.get_ref().as_str()).collect();
    let mut seen = std::collections::HashSet::new();
    let mut defined = Vec::new();
    let mut bad = false;
    for (at, p) in &raw {
        let name = p.name.get_ref();
        let at = format!("{at}: timeperiod '{name}'");
        let before = errors.len();
        if !seen.insert(name.as_str()) {
            errors.push(format!("{at}: defined twice"));
        }
        let mut period = TimePeriod::new(name, &p.alias);
        for rule in &p.rules {
            if let Err(e) = period.add_rule(rule) {
                errors.push(format!("{at}: rule '{rule}': {e}"));
            }
        }
        for x in &p.exclude {
            if !names.contains(x.as_str()) && x != ALL_THE_TIME {
                errors.push(format!("{at}: excludes '{x}', which is not a time period"));
            }
        }
        period.exclude = p.exclude.clone();
        bad |= errors.len() > before;
        defined.push(period);
    }
    // a refused configuration still knows the names, so that the objects naming them
    // are not reported as well
    let names_only = || {
        let empty = names.iter().map(|n| TimePeriod::new(n, "")).collect();
        Periods::new(empty, Zone::Local).expect("periods without exclusions are valid")
    };
    if bad {
        return names_only();
    }
    Periods::new(defined, Zone::Local).unwrap_or_else(|e| {
        // a cycle (what is left): placed at the entry of the first period it names
        let first = e.rsplit(": ").next().and_then(|c| c.split(" -> ").next());
        let at = raw
            .iter()
            .find(|(_, p)| Some(p.name.get_ref().as_str()) == first)
            .map_or(String::new(), |(at, _)| format!("{at}: "));
        errors.push(format!("{at}[[timeperiod]]: {e}"));
        names_only()
    })
}

/// How a service is checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CheckSpec {
    /// A built-in check and its arguments.
    Builtin { name: String, args: Vec<String> },
    /// An external plugin command line (macros expanded).
    External { command: String },
    /// No check: passive results only (`active_checks_enabled = false` and neither
    /// `check` nor `command`). Never run.
    Passive,
}

/// A service with its defaults applied and macros expanded.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub host: String,
    pub name: String,
    /// Shared by the services that run the same check with the same arguments.
    pub check: Arc<CheckSpec>,
    /// Shared by the hosts and services that have the same settings.
    pub schedule: Arc<Schedule>,
}

/// The built-in checks built while the configuration was validated, by check: the
/// daemon runs these rather than parsing each check's arguments a second time.
#[derive(Clone, Default)]
pub struct Built(pub HashMap<Arc<CheckSpec>, Arc<dyn DynCheck>>);

impl std::fmt::Debug for Built {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Built({} checks)", self.0.len())
    }
}

/// The whole validated configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub hosts: Vec<Host>,
    pub services: Vec<Service>,
    pub contacts: Vec<Contact>,
    pub smtp: Option<Smtp>,
    pub daemon: Daemon,
    /// The NRPE agent served by the daemon (`[nrpe]`), if enabled.
    pub nrpe: Option<sections::NrpeSection>,
    /// Where results are forwarded (`[forward]`): Nagios, ...
    pub forward: sections::Forward,
    /// The built-in checks validation built (taken by the daemon when it builds its
    /// running objects).
    pub built: Built,
    /// The time periods (`[[timeperiod]]`, and `24x7`).
    pub periods: Periods,
    /// The notification escalations (`[[serviceescalation]]`, `[[hostescalation]]`).
    pub escalations: escalations::Escalations,
    /// The host, service and contact groups, resolved.
    pub groups: groups::Groups,
    /// The service and host dependencies, resolved to indices.
    pub dependencies: dependencies::Dependencies,
    /// The history store's settings (`[history]`), its path resolved.
    pub history: HistorySettings,
}

/// Where a configuration came from, for error messages.
fn origin(path: Option<&Path>) -> String {
    path.map_or_else(
        || "embedded default".to_string(),
        |p| p.display().to_string(),
    )
}

fn parse_file(text: &str, path: Option<&Path>) -> Result<File> {
    toml::from_str(text).map_err(|e| {
        // toml's message already names line and column
        anyhow!("{}: {}", origin(path), e.to_string().trim_end())
    })
}

impl Config {
    /// The embedded default configuration.
    pub fn embedded() -> Result<Config> {
        Config::from_files(vec![(None, DEFAULT_CONFIG.to_string())])
    }

    /// Loads a file, or every `*.toml` file of a directory in name order.
    pub fn load(path: &Path) -> Result<Config> {
        let mut files = Vec::new();
        if path.is_dir() {
            let mut names: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot read {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            names.sort();
            for p in names {
                let text = std::fs::read_to_string(&p)
                    .with_context(|| format!("cannot read {}", p.display()))?;
                files.push((Some(p), text));
            }
            if files.is_empty() {
                bail!("{}: no *.toml files", path.display());
            }
        } else {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            files.push((Some(path.to_path_buf()), text));
        }
        Config::from_files(files)
    }

    /// Builds the configuration from file texts; every error found is reported.
    pub fn from_files(files: Vec<(Option<PathBuf>, String)>) -> Result<Config> {
        let mut errors = Vec::new();
        let mut defaults = Defaults::default();
        let mut config = Config::default();
        let mut templates = std::collections::BTreeMap::new();
        let mut raw_hosts = Vec::new();
        let mut raw = Vec::new();
        let mut raw_periods = Vec::new();
        let mut raw_escalations = Vec::new();
        let mut pending_groups = groups::Pending::default();
        let (mut raw_service_deps, mut raw_host_deps) = (Vec::new(), Vec::new());
        let mut history_section = None;
        for (path, text) in &files {
            let lines = Lines::new(text);
            let place = origin(path.as_deref());
            let at =
                |span: std::ops::Range<usize>| format!("{place}:{}", lines.line_of(span.start));
            match parse_file(text, path.as_deref()) {
                Ok(f) => {
                    // a bad event handler is reported at its own line
                    let handlers = f
                        .defaults
                        .iter()
                        .map(|d| &d.event_handler)
                        .chain(f.template.values().map(|t| &t.event_handler))
                        .chain(f.host.iter().map(|h| &h.settings.event_handler))
                        .chain(f.service.iter().map(|s| &s.settings.event_handler))
                        .chain(f.daemon.iter().flat_map(|d| {
                            [
                                &d.global_host_event_handler,
                                &d.global_service_event_handler,
                            ]
                        }))
                        .flatten();
                    if handlers
                        .into_iter()
                        .any(|h| crate::handler::Command::parse(h).is_err())
                    {
                        errors.extend(crate::handler::placed_problems(text, &place));
                    }
                    if let Some(d) = f.defaults {
                        defaults = d;
                    }
                    if let Some(d) = f.daemon {
                        if let Err(e) = hcoop_plugins::proto::http::RedirectNetworks::parse_list(
                            &d.redirect_networks,
                        ) {
                            errors.push(format!(
                                "{}: [daemon] redirect_networks: {e}",
                                origin(path.as_deref())
                            ));
                        }
                        config.daemon = d;
                    }
                    if f.smtp.is_some() {
                        config.smtp = f.smtp;
                    }
                    if let Some(h) = f.history {
                        history_section = Some(h.check(&at, &mut errors));
                    }
                    if let Some(fw) = f.forward {
                        config.forward = fw;
                    }
                    if let Some(n) = f.nrpe {
                        if let Err(e) = n.resolve() {
                            errors.push(format!("{}: [nrpe] {e}", origin(path.as_deref())));
                        }
                        config.nrpe = Some(n);
                    }
                    templates.extend(f.template);
                    config.contacts.extend(f.contact);
                    raw_hosts.extend(f.host.into_iter().map(|h| (at(h.name.span()), h)));
                    raw.extend(f.service.into_iter().map(|s| (at(s.name.span()), s)));
                    raw_periods.extend(f.timeperiod.into_iter().map(|p| (at(p.name.span()), p)));
                    for (list, is_service) in
                        [(f.serviceescalation, true), (f.hostescalation, false)]
                    {
                        raw_escalations
                            .extend(list.into_iter().map(|e| (at(e.host.span()), e, is_service)));
                    }
                    pending_groups.add_file(&at, f.hostgroup, f.servicegroup, f.contactgroup);
                    raw_service_deps.extend(
                        f.servicedependency
                            .into_iter()
                            .map(|d| (at(d.host.span()), d)),
                    );
                    raw_host_deps
                        .extend(f.hostdependency.into_iter().map(|d| (at(d.host.span()), d)));
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
        let mut validated = Validated::default();
        // one schedule per distinct settings (own, and the template's by name), shared by
        // the objects that have them
        let mut schedules: HashMap<(Overrides, Option<String>), Arc<Schedule>> = HashMap::new();
        let mut schedule_of = |own: &Overrides, template: Option<(&String, &Overrides)>| {
            schedules
                .entry((own.clone(), template.map(|(name, _)| name.clone())))
                .or_insert_with(|| {
                    let layers: Vec<&Overrides> = std::iter::once(own)
                        .chain(template.map(|(_, t)| t))
                        .collect();
                    Arc::new(Schedule::new(&defaults, &layers))
                })
                .clone()
        };
        // host names, found by hashing rather than by a scan per host or service
        let written: std::collections::HashSet<&str> = raw_hosts
            .iter()
            .map(|(_, h)| h.name.get_ref().as_str())
            .collect();
        let mut index: std::collections::HashMap<String, usize> = Default::default();
        for (at, h) in &raw_hosts {
            let name = h.name.get_ref();
            let at = format!("{at}: host '{name}'");
            if index.contains_key(name) {
                errors.push(format!("{at}: defined twice"));
                continue;
            }
            for p in &h.parents {
                if !written.contains(p.as_str()) {
                    errors.push(format!("{at}: parent '{p}' is not a host"));
                }
            }
            let check = if h.check.is_none() && h.command.is_none() && h.args.is_empty() {
                None
            } else {
                match check_spec(
                    &h.check,
                    &h.args,
                    &h.command,
                    &h.address,
                    name,
                    &mut validated,
                ) {
                    Ok(c) => c,
                    Err(e) => {
                        errors.push(format!("{at}: {e}"));
                        continue;
                    }
                }
            };
            index.insert(name.clone(), config.hosts.len());
            pending_groups.host(&at, config.hosts.len(), &h.hostgroups, &h.settings);
            config.hosts.push(Host {
                name: name.clone(),
                address: h.address.clone(),
                parents: h.parents.clone(),
                check,
                schedule: schedule_of(&h.settings, None),
            });
        }
        // what dependencies may name, refused objects too (not reported again for them)
        let mut dependency_names = dependencies::Written::default();
        if !raw_service_deps.is_empty() || !raw_host_deps.is_empty() {
            dependency_names.hosts = written.iter().map(|h| h.to_string()).collect();
            dependency_names.services = raw
                .iter()
                .map(|(_, s)| (s.host.clone(), s.name.get_ref().clone()))
                .collect();
        }
        let mut seen = std::collections::HashSet::new();
        let passive_only = Arc::new(CheckSpec::Passive);
        for (at, s) in raw {
            let name = s.name.into_inner();
            let at = format!("{at}: service '{name}' on '{}'", s.host);
            let Some(host) = index.get(&s.host).map(|&i| &config.hosts[i]) else {
                errors.push(format!("{at}: no host named '{}'", s.host));
                continue;
            };
            // neither check nor command: passive results only, if the settings say so
            let passive = s.check.is_none() && s.command.is_none() && s.args.is_empty();
            let check = match passive {
                true => None,
                false => match check_spec(
                    &s.check,
                    &s.args,
                    &s.command,
                    &host.address,
                    &host.name,
                    &mut validated,
                ) {
                    Ok(Some(c)) => Some(c),
                    Ok(None) => unreachable!("check_spec returns a spec or an error"),
                    Err(e) => {
                        errors.push(format!("{at}: {e}"));
                        continue;
                    }
                },
            };
            if !seen.insert((s.host.clone(), name.clone())) {
                errors.push(format!("{at}: defined twice"));
                continue;
            }
            let template = match &s.template {
                None => None,
                Some(t) => match templates.get_key_value(t) {
                    Some(named) => Some(named),
                    None => {
                        errors.push(format!("{at}: no [template.{t}]"));
                        continue;
                    }
                },
            };
            let schedule = schedule_of(&s.settings, template);
            let check = match check {
                Some(c) => c,
                None if !schedule.active_checks_enabled => passive_only.clone(),
                None => {
                    errors.push(format!(
                        "{at}: expected exactly one of 'check' or 'command' \
                         (or active_checks_enabled = false for passive results only)"
                    ));
                    continue;
                }
            };
            pending_groups.service(&at, config.services.len(), &s.servicegroups, &s.settings);
            config.services.push(Service {
                host: s.host,
                name,
                check,
                schedule,
            });
        }
        config.periods = time_periods(raw_periods, &mut errors);
        config.history = history::resolve(history_section, &config.daemon.state_file, &mut errors);
        config.dependencies = dependencies::resolve(
            raw_service_deps,
            raw_host_deps,
            &config,
            &dependency_names,
            &mut errors,
        );
        let mut contact_names = std::collections::BTreeSet::new();
        for c in &config.contacts {
            // the period for services, and the one for hosts where it is another
            let (services, hosts) = (c.period(true), c.period(false));
            for p in std::iter::once(services).chain((hosts != services).then_some(hosts)) {
                if !config.periods.has(p) {
                    errors.push(format!("contact '{}': no time period named '{p}'", c.name));
                }
            }
            if !contact_names.insert(c.name.as_str()) {
                errors.push(format!("contact '{}': defined twice", c.name));
            }
            if c.email.is_none() && c.command.is_none() {
                errors.push(format!(
                    "contact '{}': expected 'email' or 'command' (or both)",
                    c.name
                ));
            }
            if c.email.is_some() && config.smtp.is_none() {
                errors.push(format!(
                    "contact '{}': has an email address but there is no [smtp] section",
                    c.name
                ));
            }
            for (opts, allowed) in [(&c.service_options, "wucrfsn"), (&c.host_options, "durfsn")] {
                for o in opts.split(',').map(str::trim) {
                    if o.len() != 1 || !allowed.contains(o) {
                        errors.push(format!(
                            "contact '{}': option '{o}' is not one of {}",
                            c.name,
                            allowed
                                .chars()
                                .map(String::from)
                                .collect::<Vec<_>>()
                                .join(",")
                        ));
                    }
                }
            }
        }
        config.groups = {
            let hosts: Vec<&str> = config.hosts.iter().map(|h| h.name.as_str()).collect();
            let services: Vec<String> = config
                .services
                .iter()
                .map(|s| format!("{}/{}", s.host, s.name))
                .collect();
            let contacts: Vec<&str> = config.contacts.iter().map(|c| c.name.as_str()).collect();
            pending_groups.resolve(
                &hosts,
                &services,
                &contacts,
                &defaults,
                &templates,
                &mut errors,
            )
        };
        if !raw_escalations.is_empty() {
            config.escalations = config.resolve_escalations(raw_escalations, &mut errors);
        }
        // named only when there is something to say (a name made per entry costs more
        // than the check itself at 100,000 services)
        let named = config
            .hosts
            .iter()
            .map(|h| (None, h.name.as_str(), &h.schedule))
            .chain(
                config
                    .services
                    .iter()
                    .map(|s| (Some(s.name.as_str()), s.host.as_str(), &s.schedule)),
            );
        for (service, host, sched) in named {
            let what = || match service {
                None => format!("host '{host}'"),
                Some(s) => format!("service '{s}' on '{host}'"),
            };
            for c in &sched.contacts {
                if !contact_names.contains(c.as_str()) {
                    errors.push(format!("{}: no contact named '{c}'", what()));
                }
            }
            for p in [&sched.check_period, &sched.notification_period] {
                if !config.periods.has(p) {
                    errors.push(format!("{}: no time period named '{p}'", what()));
                }
            }
            if sched.check_interval.is_zero() || sched.retry_interval.is_zero() {
                errors.push(format!("{}: intervals must be longer than 0s", what()));
            }
        }
        if let Some(smtp) = &config.smtp {
            if !["starttls", "tls", "none"].contains(&smtp.tls.as_str()) {
                errors.push(format!(
                    "[smtp] tls = '{}': expected 'starttls', 'tls' or 'none'",
                    smtp.tls
                ));
            }
        }
        if config
            .daemon
            .listen
            .parse::<std::net::SocketAddr>()
            .is_err()
        {
            errors.push(format!(
                "[daemon] listen = '{}': expected ADDRESS:PORT",
                config.daemon.listen
            ));
        }
        errors.extend(daemon_problems(&config.daemon));
        errors.extend(config.forward.validate(&config));
        config.built = Built(
            validated
                .into_iter()
                .filter_map(|(spec, built)| Some((spec, built.ok()?)))
                .collect(),
        );
        if errors.is_empty() {
            Ok(config)
        } else {
            bail!("{}", errors.join("\n"))
        }
    }

    /// A configuration that has only the `[daemon]` section of the files at `path` (or
    /// the defaults), read leniently: what a command for the running daemon needs when
    /// the files do not validate as a whole.
    pub fn for_client(path: Option<&Path>) -> Config {
        let mut texts = Vec::new();
        match path {
            Some(p) if p.is_dir() => {
                let mut names: Vec<PathBuf> = std::fs::read_dir(p)
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                    .collect();
                names.sort();
                texts.extend(names.iter().filter_map(|n| std::fs::read_to_string(n).ok()));
            }
            Some(p) => texts.extend(std::fs::read_to_string(p).ok()),
            None => texts.push(DEFAULT_CONFIG.to_string()),
        }
        let mut config = Config::default();
        for text in texts {
            let daemon = text
                .parse::<toml::Table>()
                .ok()
                .and_then(|t| t.get("daemon").cloned())
                .and_then(|d| d.try_into::<Daemon>().ok());
            if let Some(d) = daemon {
                config.daemon = d;
            }
        }
        config
    }

    /// The contacts of the contact group `name` (nested groups' included, each once);
    /// `None`: no such group.
    pub fn contact_group_members(&self, name: &str) -> Option<&[String]> {
        self.groups.contactgroup(name).map(|g| g.members.as_slice())
    }

    /// Finds a host by name (a scan: for many lookups, [`Config::host_indices`]).
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name == name)
    }

    /// The index of every host in `hosts` by name: one map for resolving the hosts of
    /// many services (the first host of a name, as [`Config::host`] finds).
    pub fn host_indices(&self) -> std::collections::HashMap<&str, usize> {
        let mut index = std::collections::HashMap::with_capacity(self.hosts.len());
        for (i, h) in self.hosts.iter().enumerate() {
            index.entry(h.name.as_str()).or_insert(i);
        }
        index
    }
}

/// Problems of the `[daemon]` section's API settings.
fn daemon_problems(d: &Daemon) -> Vec<String> {
    let mut errors = Vec::new();
    for (key, value) in [
        ("max_downtimes", d.max_downtimes),
        ("api_max_connections", d.api_max_connections),
        (
            "api_max_connections_per_peer",
            d.api_max_connections_per_peer,
        ),
    ] {
        if value == 0 {
            errors.push(format!("[daemon] {key}: must be at least 1"));
        }
    }
    if d.event_handler_timeout.is_zero() {
        errors.push("[daemon] event_handler_timeout: must be longer than 0s".into());
    }
    if d.max_downtime.is_zero() {
        errors.push("[daemon] max_downtime: must be longer than 0s".into());
    }
    if let Some(u) = &d.user {
        if crate::auth::user_ids(u).is_none() {
            errors.push(format!("[daemon] user: no user named '{u}'"));
        }
    }
    for u in &d.admin_users {
        if crate::auth::user_ids(u).is_none() {
            errors.push(format!("[daemon] admin_users: no user named '{u}'"));
        }
    }
    for g in &d.admin_groups {
        if crate::auth::group_id(g).is_none() {
            errors.push(format!("[daemon] admin_groups: no group named '{g}'"));
        }
    }
    if d.socket.as_os_str().is_empty() || d.socket.file_name().is_none() {
        errors.push(format!(
            "[daemon] socket = '{}': expected a file path",
            d.socket.display()
        ));
    }
    if let Some(f) = &d.command_file {
        if !f.is_absolute() || f.file_name().is_none() {
            errors.push(format!(
                "[daemon] command_file = '{}': expected an absolute file path",
                f.display()
            ));
        }
    }
    if let Some(g) = &d.command_group {
        if crate::auth::group_id(g).is_none() {
            errors.push(format!("[daemon] command_group: no group named '{g}'"));
        }
    }
    errors
}

/// Where each line of a text starts, found once: the line of any byte offset is then a
/// binary search, so naming the line of every entry of a file stays linear in its size.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Lines {
        let starts = std::iter::once(0)
            .chain(
                text.bytes()
                    .enumerate()
                    .filter(|&(_, b)| b == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .collect();
        Lines(starts)
    }

    /// The 1-based line of a byte offset, as "line N".
    fn line_of(&self, offset: usize) -> String {
        // the number of line starts at or before the offset
        let line = self.0.partition_point(|&start| start <= offset);
        format!("line {line}")
    }
}

/// The verdicts of the built-in checks' argument validation so far, by check (name and
/// arguments, macros expanded): services that run the same check with the same
/// arguments are validated once and share one [`CheckSpec`], and the check built then
/// is kept for the daemon ([`Built`]).
type Validated = HashMap<Arc<CheckSpec>, Result<Arc<dyn DynCheck>, String>>;

/// The check of a host or service: a built-in check with args, or a command line.
fn check_spec(
    check: &Option<String>,
    args: &[String],
    command: &Option<String>,
    address: &str,
    host: &str,
    validated: &mut Validated,
) -> Result<Option<Arc<CheckSpec>>, String> {
    let expand = |t: &str| expand(t, host, address);
    match (check, command) {
        (Some(name), None) => {
            let spec = CheckSpec::Builtin {
                name: name.clone(),
                args: args.iter().map(|a| expand(a)).collect(),
            };
            if let Some((spec, verdict)) = validated.get_key_value(&spec) {
                return verdict
                    .as_ref()
                    .map(|_| Some(spec.clone()))
                    .map_err(Clone::clone);
            }
            let CheckSpec::Builtin { args, .. } = &spec else {
                unreachable!("a built-in check was made above")
            };
            // the check's own argument validation, as at run time
            let verdict = crate::registry::build(name, args).map_err(|e| match e {
                crate::registry::BuildError::Usage(e) => format!("{name}: {e}"),
                e => e.to_string(),
            });
            let spec = Arc::new(spec);
            validated.insert(spec.clone(), verdict.clone());
            verdict.map(|_| Some(spec))
        }
        (None, Some(cmd)) if args.is_empty() => Ok(Some(Arc::new(CheckSpec::External {
            command: expand(cmd),
        }))),
        (None, Some(_)) => Err("'args' goes with 'check'; put arguments into 'command'".into()),
        _ => Err("expected exactly one of 'check' or 'command'".into()),
    }
}

/// Expands `$HOSTNAME$` and `$HOSTADDRESS$`.
fn expand(text: &str, host: &str, address: &str) -> String {
    text.replace("$HOSTADDRESS$", address)
        .replace("$HOSTNAME$", host)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The errors of a configuration file that does not validate, as one text.
    pub(super) fn refused(file: &str, text: impl Into<String>) -> String {
        match Config::from_files(vec![(Some(file.into()), text.into())]) {
            Ok(_) => panic!("{file} validated"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn time_periods_are_read_through_the_layers_and_bad_ones_refused() {
        let base = "[defaults]\ncheck_period = \"work\"\n\n\
            [[timeperiod]]\nname = \"work\"\nalias = \"Work\"\nrules = [\"monday 09:00-17:00\"]\n\
            exclude = [\"holidays\"]\n\n\
            [[timeperiod]]\nname = \"holidays\"\nrules = [\"2026-12-25 00:00-24:00\"]\n\n\
            [[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n\n\
            [[service]]\nhost = \"h\"\nname = \"a\"\ncommand = \"/bin/true\"\n\
            notification_period = \"holidays\"\n";
        let c = Config::from_files(vec![(None, base.to_string())]).unwrap();
        let s = &c.services[0].schedule;
        assert_eq!(
            (s.check_period.as_str(), s.notification_period.as_str()),
            ("work", "holidays")
        );
        assert_eq!(c.hosts[0].schedule.notification_period, ALL_THE_TIME);
        assert!(c.periods.has("24x7") && c.periods.has("work"));
        let e = refused(
            "p.toml",
            base.replace("09:00-17:00", "9-17")
                .replace("\"holidays\"]", "\"nothing\"]"),
        );
        assert!(
            e.contains("p.toml:line 5: timeperiod 'work': rule 'monday 9-17': "),
            "{e}"
        );
        assert!(
            e.contains(
                "p.toml:line 5: timeperiod 'work': excludes 'nothing', which is not a time period"
            ),
            "{e}"
        );
        assert_eq!(e.lines().count(), 2, "{e}");
        let e = refused(
            "p.toml",
            base.replace("\"/bin/true\"", "\"/bin/true\"\ncheck_period = \"never\""),
        );
        assert!(
            e.contains("service 'a' on 'h': no time period named 'never'"),
            "{e}"
        );
        let e = refused(
            "p.toml",
            format!(
                "{base}\n[[contact]]\nname = \"c\"\ncommand = \"/bin/true\"\n\
                 host_notification_period = \"nights\"\n"
            ),
        );
        assert!(
            e.contains("contact 'c': no time period named 'nights'"),
            "{e}"
        );
        let e = refused(
            "p.toml",
            format!(
                "{base}\n[[contact]]\nname = \"c\"\ncommand = \"/bin/true\"\n\
                 notification_period = \"nights\"\n"
            ),
        );
        assert_eq!(
            e.matches("contact 'c': no time period named 'nights'")
                .count(),
            1,
            "{e}"
        );
        let e = refused(
            "p.toml",
            base.replace("rules = [\"2026", "exclude = [\"work\"]\nrules = [\"2026"),
        );
        assert!(
            e.contains(
                "p.toml:line 5: [[timeperiod]]: time periods exclude each other in a cycle: \
                 work -> holidays -> work"
            ),
            "{e}"
        );
        // the periods refused, the objects naming them are not reported as well
        assert_eq!(e.lines().count(), 1, "{e}");
    }

    #[test]
    fn embedded_default_is_valid() {
        let c = Config::embedded().unwrap();
        assert!(!c.services.is_empty());
        assert!(c
            .services
            .iter()
            .all(|s| matches!(*s.check, CheckSpec::Builtin { .. })));
    }

    #[test]
    fn reports_every_error_with_its_place() {
        let text = r#"
[[host]]
name = "h"
address = "127.0.0.1"

[[service]]
host = "h"
name = "a"
check = "check_nonexistent"

[[service]]
host = "nohost"
name = "b"
command = "/bin/true"

[[service]]
host = "h"
name = "c"
"#;
        let e = refused("x.toml", text);
        assert!(
            e.contains(
                "x.toml:line 8: service 'a' on 'h': no built-in check named 'check_nonexistent'"
            ),
            "{e}"
        );
        assert!(
            e.contains("x.toml:line 13: service 'b' on 'nohost': no host named 'nohost'"),
            "{e}"
        );
        assert!(
            e.contains("service 'c' on 'h': expected exactly one of 'check' or 'command'"),
            "{e}"
        );
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let e = Config::from_files(vec![(
            Some("bad.toml".into()),
            "[[host]]\nname = \n".into(),
        )])
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("bad.toml: "), "{e}");
        assert!(e.contains("line 2"), "{e}");
        let e = Config::from_files(vec![(
            None,
            "[defaults]\ncheck_interval = \"5 parsecs\"\n".into(),
        )])
        .unwrap_err()
        .to_string();
        assert!(e.contains("5 parsecs"), "{e}");
    }

    #[test]
    fn defaults_and_macros_apply() {
        let text = r#"
[defaults]
check_interval = "30s"
[[host]]
name = "web"
address = "127.0.0.9"
[[service]]
host = "web"
name = "x"
command = "/bin/echo $HOSTNAME$ $HOSTADDRESS$"
retry_interval = "5s"
"#;
        let c = Config::from_files(vec![(None, text.into())]).unwrap();
        let s = &c.services[0];
        assert_eq!(s.schedule.check_interval, Duration::from_secs(30));
        assert_eq!(s.schedule.retry_interval, Duration::from_secs(5));
        assert_eq!(
            *s.check,
            CheckSpec::External {
                command: "/bin/echo web 127.0.0.9".into()
            }
        );
    }
}

#[cfg(test)]
mod more_tests {
    use super::tests::refused;
    use super::*;

    #[test]
    fn lines_are_counted_as_by_a_scan() {
        let text = "a\n\nbc\nd";
        let lines = Lines::new(text);
        for offset in 0..=text.len() + 2 {
            let scan = text[..offset.min(text.len())].matches('\n').count() + 1;
            assert_eq!(lines.line_of(offset), format!("line {scan}"), "{offset}");
        }
        assert_eq!(Lines::new("").line_of(0), "line 1");
    }

    /// One file of `n` services on 10 hosts; service `bad` (if any) names a host that
    /// does not exist. Returns the text and the line of the bad service's name.
    fn generated(n: usize, bad: Option<usize>) -> (String, usize) {
        use std::fmt::Write as _;
        let mut text = String::from("[defaults]\ncheck_interval = \"1m\"\n\n");
        for h in 0..10 {
            let _ = writeln!(
                text,
                "[[host]]\nname = \"h{h}\"\naddress = \"127.0.0.{}\"\n",
                h + 1
            );
        }
        let mut bad_line = 0;
        for i in 0..n {
            let host = if Some(i) == bad {
                // the name line is the one after "[[service]]" and "host = ..."
                bad_line = text.matches('\n').count() + 3;
                "nowhere".to_string()
            } else {
                format!("h{}", i % 10)
            };
            let _ = writeln!(
                text,
                "[[service]]\nhost = \"{host}\"\nname = \"s{i}\"\ncommand = \"/bin/true $HOSTADDRESS$\"\n"
            );
        }
        (text, bad_line)
    }

    #[test]
    fn a_large_file_loads_and_errors_name_their_line() {
        // a count of newlines per entry from the start of the file took minutes here
        let n = 30_000;
        let (text, _) = generated(n, None);
        let t = std::time::Instant::now();
        let c = Config::from_files(vec![(Some("big.toml".into()), text)]).unwrap();
        let took = t.elapsed();
        assert_eq!((c.hosts.len(), c.services.len()), (10, n));
        assert_eq!(c.services[n - 1].host, "h9");
        assert_eq!(
            *c.services[n - 1].check,
            CheckSpec::External {
                command: "/bin/true 127.0.0.10".into()
            }
        );
        // generous for an unoptimised build on a busy machine; minutes before
        assert!(took < Duration::from_secs(30), "{took:?}");
        let (text, line) = generated(n, Some(n - 7));
        let e = refused("big.toml", text);
        assert_eq!(
            e,
            format!(
                "big.toml:line {line}: service 's{}' on 'nowhere': no host named 'nowhere'",
                n - 7
            )
        );
    }

    #[test]
    fn the_example_is_valid() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../checks.d/example");
        let c = Config::load(&dir).unwrap_or_else(|e| panic!("{e:#}"));
        let names: Vec<_> = c.hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["dynamic", "main", "shell"]);
        assert!(c.services.len() >= 20, "{}", c.services.len());
        assert_eq!(c.host("shell").unwrap().parents, ["main"]);
        let ssh = c
            .services
            .iter()
            .find(|s| s.host == "shell" && s.name == "ssh")
            .unwrap();
        assert_eq!(ssh.schedule.check_interval, Duration::from_secs(60));
        assert_eq!(
            ssh.schedule.first_notification_delay,
            Duration::from_secs(120)
        );
        assert_eq!(c.contacts.len(), 2);
    }

    #[test]
    fn the_agent_example_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../checks.d/agent.toml");
        let c = Config::load(&path).unwrap_or_else(|e| panic!("{e:#}"));
        let nrpe = c.nrpe.expect("an [nrpe] section").resolve().unwrap();
        // every NRPE command the example monitor asks for is served
        let example = Config::load(&path.with_file_name("example")).unwrap();
        for s in &example.services {
            if let CheckSpec::Builtin { name, args } = &*s.check {
                if name == "check_nrpe_client" {
                    let command = &args[args.iter().position(|a| a == "-c").unwrap() + 1];
                    assert!(nrpe.commands.contains_key(command), "{}: {command}", s.name);
                }
            }
        }
    }

    #[test]
    fn builtin_arguments_are_validated() {
        let text = "[[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n\n[[service]]\nhost = \"h\"\nname = \"l\"\ncheck = \"check_load\"\nargs = [\"-w\", \"5:2\"]\n";
        let e = refused("z.toml", text);
        assert!(
            e.starts_with("z.toml:line 7: service 'l' on 'h': check_load: "),
            "{e}"
        );
        // the same arguments are validated once, and every service using them is named
        let twice = format!(
            "{text}\n{}",
            text.split_once("\n\n").unwrap().1.replace("\"l\"", "\"m\"")
        );
        let e = refused("z.toml", twice);
        let lines: Vec<&str> = e.lines().collect();
        assert_eq!(lines.len(), 2, "{e}");
        assert!(
            lines[0].starts_with("z.toml:line 7: service 'l' on 'h': check_load: "),
            "{e}"
        );
        assert_eq!(
            lines[1],
            lines[0].replace("line 7: service 'l'", "line 13: service 'm'")
        );
    }

    #[test]
    fn own_settings_win_over_the_template_and_the_template_over_the_defaults() {
        let text = r#"
[defaults]
check_interval = "7m"
max_check_attempts = 5
check_period = "day"

[template.fast]
check_interval = "5s"
max_check_attempts = 1
check_period = "night"

[[timeperiod]]
name = "day"
rules = ["monday 09:00-17:00"]

[[timeperiod]]
name = "night"
rules = ["monday 00:00-09:00"]

[[host]]
name = "h"
address = "127.0.0.1"

[[service]]
host = "h"
name = "own"
use = "fast"
command = "/bin/true"
max_check_attempts = 2
check_period = "24x7"

[[service]]
host = "h"
name = "template"
use = "fast"
command = "/bin/true"

[[service]]
host = "h"
name = "defaults"
command = "/bin/true"
"#;
        let c = Config::from_files(vec![(None, text.into())]).unwrap();
        let got: Vec<(Duration, u32, &str)> = c
            .services
            .iter()
            .map(|s| {
                let s = &s.schedule;
                (
                    s.check_interval,
                    s.max_check_attempts,
                    s.check_period.as_str(),
                )
            })
            .collect();
        let (fast, seven) = (Duration::from_secs(5), Duration::from_secs(420));
        assert_eq!(
            got,
            [(fast, 2, "24x7"), (fast, 1, "night"), (seven, 5, "day")]
        );
    }

    #[test]
    fn unknown_keys_templates_contacts() {
        let text = r#"
[smtp]
host = "127.0.0.1"
tls = "none"

[template.fast]
check_interval = "5s"
max_check_attempts = 1

[[contact]]
name = "admins"
email = "root@localhost"
service_options = "w,c,x"

[[host]]
name = "h"
address = "127.0.0.1"
parents = ["ghost"]

[[service]]
host = "h"
name = "t"
use = "fast"
command = "/bin/true"
retry_interval = "2s"
contacts = ["admins", "nobody"]

[[service]]
host = "h"
name = "typo"
command = "/bin/true"
chek_interval = "5s"
"#;
        let e = refused("y.toml", text);
        assert!(e.contains("chek_interval"), "{e}");
        let ok = text.replace("chek_interval", "check_interval");
        let e = refused("y.toml", ok.clone());
        assert!(
            e.contains("y.toml:line 16: host 'h': parent 'ghost' is not a host"),
            "{e}"
        );
        assert!(
            e.contains("contact 'admins': option 'x' is not one of"),
            "{e}"
        );
        assert!(
            e.contains("service 't' on 'h': no contact named 'nobody'"),
            "{e}"
        );
        let ok = ok
            .replace("parents = [\"ghost\"]", "")
            .replace(",x", "")
            .replace(", \"nobody\"", "");
        let c = Config::from_files(vec![(None, ok)]).unwrap();
        let t = &c.services[0].schedule;
        assert_eq!(t.check_interval, Duration::from_secs(5));
        assert_eq!(t.retry_interval, Duration::from_secs(2));
        assert_eq!(t.max_check_attempts, 1);
        assert_eq!(t.contacts, ["admins"]);
        assert!(c.contacts[0].wants(true, Some('w')));
        assert!(!c.contacts[0].wants(true, Some('u')));
        assert!(c.contacts[0].wants(true, None));
    }
}
