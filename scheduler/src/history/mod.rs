//! The history: what happened to hosts and services, and how their numbers moved, kept
//! in an embedded store inside the daemon (SQLite, one file, no server).
//!
//! - [`Event`]: one thing that happened (a state change, a notification, an
//!   acknowledgement, a downtime, flapping, the daemon starting, stopping, reloading),
//!   written by the core through [`store::History`] and read back for the event log,
//!   the timelines and the availability reports.
//! - [`perf`]: perfdata consolidated like an RRD (min/avg/max per step, a fixed number
//!   of rows per archive), sealed into compressed chunks ([`codec`]), so the store's
//!   size is bounded by the number of metrics, not by time.
//! - [`availability`]: the share of a period each host and service spent in each state,
//!   as Nagios' avail.cgi reports it.
//! - [`nagioslog`]: Nagios' nagios.log (and its archives) read into events, so that a
//!   site moving from Nagios keeps its past.
//!
//! This module is data and facts (layer 1): it names neither the core nor the API.

pub mod availability;
pub mod codec;
pub mod nagioslog;
pub mod perf;
pub mod store;

use serde::{Deserialize, Serialize};

/// Unix time in seconds, as everywhere in the daemon.
pub type Time = crate::state::Time;

/// What kind of thing an [`Event`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A result that Nagios would log as an alert: every soft attempt of a problem, a
    /// hard change, a recovery, and the first result of an object.
    #[default]
    State,
    /// A notification to one contact by one method, with its result.
    Notification,
    /// A problem acknowledged (author, comment, sticky, expiry in `until`).
    Ack,
    /// An acknowledgement removed (by `author`, or because the state changed / expired).
    Unack,
    /// A downtime scheduled (`downtime_id`, `author`, `comment`, end in `until`).
    DowntimeScheduled,
    /// A downtime began.
    DowntimeStart,
    /// A downtime ended at its end time.
    DowntimeEnd,
    /// A downtime cancelled before its end (`author`).
    DowntimeCancel,
    /// A comment added (author, comment).
    Comment,
    /// Flapping started (`comment`: the percent state change and threshold).
    FlappingStart,
    /// Flapping stopped.
    FlappingStop,
    /// The daemon started (no host).
    Start,
    /// The daemon stopped: cleanly (`comment` says why), or, written at the next
    /// start, last seen alive at `at` (`comment`: "not stopped cleanly").
    Stop,
    /// The configuration was reloaded (`author` when asked for by someone).
    Reload,
}

impl Kind {
    /// Every kind, in declaration order.
    pub const ALL: [Kind; 14] = [
        Kind::State,
        Kind::Notification,
        Kind::Ack,
        Kind::Unack,
        Kind::DowntimeScheduled,
        Kind::DowntimeStart,
        Kind::DowntimeEnd,
        Kind::DowntimeCancel,
        Kind::Comment,
        Kind::FlappingStart,
        Kind::FlappingStop,
        Kind::Start,
        Kind::Stop,
        Kind::Reload,
    ];

    /// The name stored and shown (`state`, `downtime_start`, ...), as serde writes it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::State => "state",
            Kind::Notification => "notification",
            Kind::Ack => "ack",
            Kind::Unack => "unack",
            Kind::DowntimeScheduled => "downtime_scheduled",
            Kind::DowntimeStart => "downtime_start",
            Kind::DowntimeEnd => "downtime_end",
            Kind::DowntimeCancel => "downtime_cancel",
            Kind::Comment => "comment",
            Kind::FlappingStart => "flapping_start",
            Kind::FlappingStop => "flapping_stop",
            Kind::Start => "start",
            Kind::Stop => "stop",
            Kind::Reload => "reload",
        }
    }

    /// The kind of a stored or asked-for name.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// One thing that happened. Fields a kind does not use are `None`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Event {
    /// The store's id (increasing with insertion); 0 before it is stored.
    #[serde(default)]
    pub id: i64,
    /// When it happened.
    pub at: Time,
    pub kind: Kind,
    /// The host; `None` for the daemon's own events (start, stop, reload).
    pub host: Option<String>,
    /// The service; `None` for a host's events.
    pub service: Option<String>,
    /// The state name (`OK`, `WARNING`, `CRITICAL`, `UNKNOWN`, `UP`, `DOWN`,
    /// `UNREACHABLE`): the new state of a state change, the state notified.
    pub state: Option<String>,
    /// Whether the state is hard (state changes).
    pub hard: Option<bool>,
    /// The check attempt (state changes).
    pub attempt: Option<u32>,
    /// The plugin output (first line; state changes and notifications).
    pub output: Option<String>,
    /// How long the check ran, in milliseconds (state changes).
    pub duration_ms: Option<u64>,
    /// Who did it: the author of an action, the contact notified.
    pub author: Option<String>,
    /// The comment of an acknowledgement, downtime or comment; why the daemon stopped.
    pub comment: Option<String>,
    /// The notification type (`PROBLEM`, `RECOVERY`, `ACKNOWLEDGEMENT`, ...) and method
    /// (`email`, a command's program name).
    pub notification_type: Option<String>,
    pub method: Option<String>,
    /// What came of a notification: `sent`, or `failed: REASON`.
    pub result: Option<String>,
    /// The downtime a downtime event is about.
    pub downtime_id: Option<u64>,
    /// The end of a downtime, the expiry of an acknowledgement.
    pub until: Option<Time>,
    /// Whether an acknowledgement is sticky.
    pub sticky: Option<bool>,
}

impl Event {
    /// An event of `kind` at `at` about `host` (and `service`), every other field unset.
    pub fn new(kind: Kind, at: Time, host: Option<&str>, service: Option<&str>) -> Event {
        Event {
            kind,
            at,
            host: host.map(str::to_string),
            service: service.map(str::to_string),
            ..Event::default()
        }
    }

    /// `HOST` or `HOST/SERVICE`; empty for the daemon's own events.
    pub fn object(&self) -> String {
        match (&self.host, &self.service) {
            (Some(h), Some(s)) => format!("{h}/{s}"),
            (Some(h), None) => h.clone(),
            _ => String::new(),
        }
    }
}
