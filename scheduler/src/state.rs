//! The Nagios Core 4 state rules as a pure module: soft and hard states, attempts,
//! flap detection, acknowledgements, downtimes and the notification decision.
//!
//! Nothing here reads a clock or does I/O: every function takes `now` (Unix seconds)
//! and returns what happened, so the rules are tested as a table.

use hcoop_plugins::plugin::State;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt::Debug;

/// Unix time in seconds.
pub type Time = u64;

/// How many past states flap detection keeps (Nagios `MAX_STATE_HISTORY_ENTRIES`).
pub const FLAP_HISTORY: usize = 21;

/// A host's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HostState {
    Up,
    Down,
    Unreachable,
}

/// What both service and host states provide to the shared rules.
pub trait Condition: Copy + PartialEq + Debug + Serialize + DeserializeOwned {
    /// The good state (OK, UP).
    const GOOD: Self;
    /// Upper-case name as Nagios prints it.
    fn name(self) -> &'static str;
    /// The contact option letter that lets a problem notification in this state through.
    fn option(self) -> char;
    /// Whether this is the good state.
    fn is_good(self) -> bool {
        self == Self::GOOD
    }
}

impl Condition for State {
    const GOOD: Self = State::Ok;
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn option(self) -> char {
        match self {
            State::Ok => 'r',
            State::Warning => 'w',
            State::Critical => 'c',
            State::Unknown => 'u',
        }
    }
}

impl Condition for HostState {
    const GOOD: Self = HostState::Up;
    fn name(self) -> &'static str {
        match self {
            HostState::Up => "UP",
            HostState::Down => "DOWN",
            HostState::Unreachable => "UNREACHABLE",
        }
    }
    fn option(self) -> char {
        match self {
            HostState::Up => 'r',
            HostState::Down => 'd',
            HostState::Unreachable => 'u',
        }
    }
}

impl HostState {
    /// A host check result as a host state: OK and WARNING are UP, anything else is
    /// DOWN, or UNREACHABLE when the host has parents and none of them is UP.
    pub fn from_check(state: State, parents: &[HostState]) -> HostState {
        match state {
            State::Ok | State::Warning => HostState::Up,
            _ if !parents.is_empty() && parents.iter().all(|p| !p.is_good()) => {
                HostState::Unreachable
            }
            _ => HostState::Down,
        }
    }
}

/// SOFT or HARD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum StateType {
    Soft,
    Hard,
}

/// Nagios notification types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum NotificationType {
    Problem,
    Recovery,
    Acknowledgement,
    FlappingStart,
    FlappingStop,
    DowntimeStart,
    DowntimeEnd,
}

impl NotificationType {
    /// The name Nagios puts in `$NOTIFICATIONTYPE$`.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationType::Problem => "PROBLEM",
            NotificationType::Recovery => "RECOVERY",
            NotificationType::Acknowledgement => "ACKNOWLEDGEMENT",
            NotificationType::FlappingStart => "FLAPPINGSTART",
            NotificationType::FlappingStop => "FLAPPINGSTOP",
            NotificationType::DowntimeStart => "DOWNTIMESTART",
            NotificationType::DowntimeEnd => "DOWNTIMEEND",
        }
    }

    /// The contact option letter for this type; `None` for acknowledgements, which
    /// every contact receives.
    pub fn option<C: Condition>(self, state: C) -> Option<char> {
        match self {
            NotificationType::Problem => Some(state.option()),
            NotificationType::Recovery => Some('r'),
            NotificationType::FlappingStart | NotificationType::FlappingStop => Some('f'),
            NotificationType::DowntimeStart | NotificationType::DowntimeEnd => Some('s'),
            NotificationType::Acknowledgement => None,
        }
    }
}

/// An acknowledgement of a problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ack {
    pub author: String,
    pub comment: String,
    /// A sticky acknowledgement lasts until recovery; a plain one until any state change.
    pub sticky: bool,
    pub time: Time,
    /// When it is removed if still there (Icinga 2's expiring acknowledgements; Nagios'
    /// never expire): at the first tick at or after this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<Time>,
}

/// A scheduled downtime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Downtime {
    pub id: u64,
    pub start: Time,
    pub end: Time,
    pub author: String,
    pub comment: String,
    /// Whether DOWNTIMESTART was already handled.
    #[serde(default)]
    pub started: bool,
}

/// A comment an admin left on a host or service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    /// Unique among comments and downtimes.
    pub id: u64,
    pub author: String,
    pub text: String,
    pub time: Time,
}

/// The settings the rules need for one host or service.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub max_check_attempts: u32,
    /// Seconds from the start of a hard problem before the first notification.
    pub first_notification_delay: u64,
    /// Seconds between re-notifications; 0 notifies once.
    pub notification_interval: u64,
    pub notifications_enabled: bool,
    pub flap_detection: bool,
    pub low_flap_threshold: f64,
    pub high_flap_threshold: f64,
    /// Problem and recovery notifications held back (none sent, none counted), the
    /// others (acknowledgements, flapping, downtime) not: a failed notification
    /// dependency, as Nagios' notification viability.
    pub normal_notifications_held: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_check_attempts: 3,
            first_notification_delay: 0,
            notification_interval: 1800,
            notifications_enabled: true,
            flap_detection: true,
            low_flap_threshold: 5.0,
            high_flap_threshold: 20.0,
            normal_notifications_held: false,
        }
    }
}

/// Everything kept about one host or service; saved and restored as a whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record<C> {
    pub state: C,
    pub state_type: StateType,
    pub attempt: u32,
    /// Whether a result was ever applied.
    pub checked: bool,
    pub last_check: Time,
    pub last_state_change: Time,
    pub last_hard_state: C,
    pub last_hard_state_change: Time,
    /// When the current hard problem began (for first_notification_delay).
    pub problem_since: Option<Time>,
    pub output: String,
    pub history: VecDeque<C>,
    pub flapping: bool,
    pub percent_state_change: f64,
    pub ack: Option<Ack>,
    pub downtimes: Vec<Downtime>,
    /// Comments left by admins.
    #[serde(default)]
    pub comments: Vec<Comment>,
    /// Problem notifications sent for the current problem (0 = none).
    pub notification_number: u32,
    pub last_notification: Option<Time>,
    /// The state the last problem notification was about.
    pub notified_state: Option<C>,
    /// The problem notifications the last recovered problem had: what escalates its
    /// recovery notification (Nagios chooses a recovery's escalations by the number of
    /// the last problem notification).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub recovered_number: u32,
    /// Active checks switched on or off at run time (`None`: as configured), kept
    /// across restarts as Nagios keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_checks: Option<bool>,
    /// Notifications switched on or off at run time (`None`: as configured), kept
    /// across restarts as Nagios keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<bool>,
    /// Passive results taken or refused as switched at run time (`None`: as
    /// configured), kept across restarts as Nagios keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passive_checks: Option<bool>,
}

impl<C: Condition> Default for Record<C> {
    fn default() -> Self {
        Record {
            state: C::GOOD,
            state_type: StateType::Hard,
            attempt: 1,
            checked: false,
            last_check: 0,
            last_state_change: 0,
            last_hard_state: C::GOOD,
            last_hard_state_change: 0,
            problem_since: None,
            output: "(not checked yet)".into(),
            history: VecDeque::new(),
            flapping: false,
            percent_state_change: 0.0,
            ack: None,
            downtimes: Vec::new(),
            comments: Vec::new(),
            notification_number: 0,
            last_notification: None,
            notified_state: None,
            recovered_number: 0,
            active_checks: None,
            notifications: None,
            passive_checks: None,
        }
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// What a host or service was before a result was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Before {
    /// Its state's name (`OK`, `DOWN`, ...).
    pub state: &'static str,
    pub state_type: StateType,
    pub attempt: u32,
    /// Whether it had been checked before.
    pub checked: bool,
    /// Whether it was flapping.
    pub flapping: bool,
}

impl Before {
    /// What `record` says now, before a result is applied to it.
    pub fn of<C: Condition>(record: &Record<C>) -> Before {
        Before {
            state: record.state.name(),
            state_type: record.state_type,
            attempt: record.attempt,
            checked: record.checked,
            flapping: record.flapping,
        }
    }
}

/// Which interval schedules the next check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// check_interval
    Normal,
    /// retry_interval (soft problem)
    Retry,
}

/// What applying one result did.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub next: Next,
    pub state_change: bool,
    pub hard_change: bool,
    /// Notifications to send, in order.
    pub notify: Vec<NotificationType>,
}

/// The weighted percent state change of a history, oldest first (Nagios weighting:
/// the change at position x of 1..=20 weighs 0.75 + (x-1)*0.5/19; sum*100/20).
pub fn percent_state_change<C: PartialEq>(history: &VecDeque<C>) -> f64 {
    let steps = (FLAP_HISTORY - 1) as f64;
    // a short history counts as if its first state had been seen all along
    let offset = FLAP_HISTORY - history.len().min(FLAP_HISTORY);
    let mut sum = 0.0;
    for (i, pair) in history.iter().collect::<Vec<_>>().windows(2).enumerate() {
        if pair[0] != pair[1] {
            let x = (offset + i + 1) as f64;
            sum += 0.75 + (x - 1.0) * 0.5 / (steps - 1.0);
        }
    }
    sum * 100.0 / steps
}

impl<C: Condition> Record<C> {
    /// Whether a downtime is in effect at `now`.
    pub fn in_downtime(&self, now: Time) -> bool {
        self.downtimes.iter().any(|d| d.start <= now && now < d.end)
    }

    /// Whether the current problem is acknowledged.
    pub fn acknowledged(&self) -> bool {
        self.ack.is_some()
    }

    /// A problem in a HARD state.
    pub fn hard_problem(&self) -> bool {
        self.state_type == StateType::Hard && !self.state.is_good()
    }

    /// Applies one check result.
    ///
    /// `host_up` is false for a service whose host is not UP: a problem goes HARD at
    /// once and is not notified.
    pub fn apply(
        &mut self,
        state: C,
        output: &str,
        now: Time,
        policy: &Policy,
        host_up: bool,
    ) -> Transition {
        let old = self.state;
        let old_type = self.state_type;
        let first = !self.checked;
        self.checked = true;
        self.last_check = now;
        self.output = output.to_string();
        self.state = state;
        let state_change = first || state != old;
        let mut notify = Vec::new();

        // attempts and soft/hard
        if state.is_good() {
            // OK is always hard; a recovery from a soft problem is a soft recovery
            self.state_type = StateType::Hard;
            self.attempt = 1;
        } else if old.is_good() || first {
            self.attempt = 1;
            self.state_type = StateType::Soft;
        } else if old_type == StateType::Soft {
            self.attempt += 1;
        }
        let max = policy.max_check_attempts.max(1);
        if !state.is_good() && (self.attempt >= max || !host_up) {
            self.attempt = max;
            self.state_type = StateType::Hard;
        }
        // a soft recovery does not make a hard state change
        let soft_recovery = state.is_good() && !old.is_good() && old_type == StateType::Soft;
        let hard_change = self.state_type == StateType::Hard
            && !soft_recovery
            && (state != self.last_hard_state || (first && !state.is_good()));

        if state_change {
            self.last_state_change = now;
            match &self.ack {
                Some(a) if state.is_good() || !a.sticky => self.ack = None,
                _ => {}
            }
        }
        let was_flapping = self.flapping;
        if policy.flap_detection {
            self.record_flap(state, policy);
        } else {
            self.flapping = false;
        }
        if self.flapping && !was_flapping {
            notify.push(NotificationType::FlappingStart);
        } else if was_flapping && !self.flapping {
            notify.push(NotificationType::FlappingStop);
        }

        if hard_change {
            self.last_hard_state = state;
            self.last_hard_state_change = now;
            if state.is_good() {
                // recovery: notified only when the problem was
                if self.notification_number > 0 {
                    notify.push(NotificationType::Recovery);
                }
                self.recovered_number = self.notification_number;
                self.notification_number = 0;
                self.notified_state = None;
                self.problem_since = None;
            } else if self.problem_since.is_none() {
                self.problem_since = Some(now);
            }
        }
        if self.hard_problem() && host_up && self.problem_notification_due(now, policy) {
            notify.push(NotificationType::Problem);
        }
        let notify = self.filter(notify, now, policy);
        for n in &notify {
            if *n == NotificationType::Problem {
                self.notification_number += 1;
                self.last_notification = Some(now);
                self.notified_state = Some(self.state);
            }
        }
        Transition {
            next: if self.state_type == StateType::Soft && !state.is_good() {
                Next::Retry
            } else {
                Next::Normal
            },
            state_change,
            hard_change,
            notify,
        }
    }

    fn record_flap(&mut self, state: C, policy: &Policy) {
        self.history.push_back(state);
        while self.history.len() > FLAP_HISTORY {
            self.history.pop_front();
        }
        let pct = percent_state_change(&self.history);
        self.percent_state_change = pct;
        if pct >= policy.high_flap_threshold {
            self.flapping = true;
        } else if pct <= policy.low_flap_threshold {
            self.flapping = false;
        }
    }

    /// Whether a problem notification is due now (before the filters that hold back
    /// every notification).
    fn problem_notification_due(&self, now: Time, policy: &Policy) -> bool {
        if let Some(since) = self.problem_since {
            if now < since + policy.first_notification_delay {
                return false;
            }
        }
        if self.acknowledged() {
            return false;
        }
        match (self.notification_number, self.last_notification) {
            (0, _) | (_, None) => true,
            _ if self.notified_state != Some(self.state) => true,
            _ if policy.notification_interval == 0 => false,
            (_, Some(last)) => now >= last + policy.notification_interval,
        }
    }

    /// Holds back what Nagios holds back: everything when notifications are disabled,
    /// while in downtime, and problems and recoveries while flapping.
    fn filter(
        &self,
        notify: Vec<NotificationType>,
        now: Time,
        policy: &Policy,
    ) -> Vec<NotificationType> {
        if !policy.notifications_enabled || self.in_downtime(now) {
            return Vec::new();
        }
        notify
            .into_iter()
            .filter(|n| {
                !((self.flapping || policy.normal_notifications_held)
                    && matches!(n, NotificationType::Problem | NotificationType::Recovery))
            })
            .collect()
    }

    /// Acknowledges the current problem; returns the ACKNOWLEDGEMENT notification to
    /// send, or an error when there is no problem to acknowledge.
    pub fn acknowledge(
        &mut self,
        ack: Ack,
        policy: &Policy,
    ) -> Result<Vec<NotificationType>, String> {
        if self.state.is_good() {
            return Err(format!(
                "state is {}: nothing to acknowledge",
                self.state.name()
            ));
        }
        let now = ack.time;
        self.ack = Some(ack);
        Ok(self.filter(vec![NotificationType::Acknowledgement], now, policy))
    }

    /// Removes the acknowledgement.
    pub fn unacknowledge(&mut self) {
        self.ack = None;
    }

    /// Adds a downtime; the start is handled by [`Record::tick`].
    pub fn add_downtime(&mut self, d: Downtime) {
        self.downtimes.push(d);
    }

    /// Starts and ends downtimes as time passes; returns DOWNTIMESTART/DOWNTIMEEND.
    pub fn tick(&mut self, now: Time, policy: &Policy) -> Vec<NotificationType> {
        let mut out = Vec::new();
        for d in &mut self.downtimes {
            if !d.started && d.start <= now && now < d.end {
                d.started = true;
                out.push(NotificationType::DowntimeStart);
            }
        }
        let before = self.downtimes.len();
        let ended = self
            .downtimes
            .iter()
            .filter(|d| d.end <= now && d.started)
            .count();
        self.downtimes.retain(|d| d.end > now);
        if ended > 0 && before > 0 && !self.in_downtime(now) {
            out.push(NotificationType::DowntimeEnd);
        }
        if policy.notifications_enabled {
            out
        } else {
            Vec::new()
        }
    }

    /// Deletes a downtime by id; true when it existed.
    pub fn cancel_downtime(&mut self, id: u64) -> bool {
        let before = self.downtimes.len();
        self.downtimes.retain(|d| d.id != id);
        before != self.downtimes.len()
    }

    /// The number of a notification of `kind` about this record (sent after the
    /// record counted it), as Nagios 4.4 gives it in `$NOTIFICATIONNUMBER$`: a problem
    /// its own, a recovery the one after the last problem notification (Nagios 4.4
    /// counts the recovery too), the others the number of the last problem
    /// notification.
    pub fn number_of(&self, kind: NotificationType) -> u32 {
        match kind {
            NotificationType::Recovery => self.recovered_number + 1,
            _ => self.notification_number,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use NotificationType::*;
    use State::*;

    fn pol(max: u32) -> Policy {
        Policy {
            max_check_attempts: max,
            notification_interval: 0,
            flap_detection: false,
            ..Policy::default()
        }
    }

    /// Applies a sequence of (time, state) and returns (state_type, attempt, notify)
    /// after each.
    fn run(
        rec: &mut Record<State>,
        p: &Policy,
        steps: &[(Time, State)],
    ) -> Vec<(StateType, u32, Vec<NotificationType>)> {
        steps
            .iter()
            .map(|&(t, s)| {
                let tr = rec.apply(s, "x", t, p, true);
                (rec.state_type, rec.attempt, tr.notify)
            })
            .collect()
    }

    use StateType::{Hard as H, Soft as S};

    /// One step of a sequence: the check says `State` at a time; after it the record is
    /// SOFT or HARD at an attempt, and these notifications go out.
    type Step = (Time, State, StateType, u32, &'static [NotificationType]);

    /// Sequences of results and what each step made, as Nagios 4 does it: what the
    /// sequence shows, max_check_attempts, first_notification_delay, the steps, and the
    /// problem notifications counted at the end.
    const SEQUENCES: &[(&str, u32, u64, &[Step], u32)] = &[
        (
            "soft, then hard, then a recovery",
            3,
            0,
            &[
                (0, Ok, H, 1, &[]),
                (10, Critical, S, 1, &[]),
                (20, Critical, S, 2, &[]),
                (30, Critical, H, 3, &[Problem]),
                (40, Critical, H, 3, &[]),
                (50, Ok, H, 1, &[Recovery]),
            ],
            0,
        ),
        (
            "a soft recovery does not notify",
            3,
            0,
            &[
                (0, Ok, H, 1, &[]),
                (1, Critical, S, 1, &[]),
                (2, Ok, H, 1, &[]),
                (3, Ok, H, 1, &[]),
            ],
            0,
        ),
        (
            "a hard state change between problems notifies",
            1,
            0,
            &[
                (0, Warning, H, 1, &[Problem]),
                (1, Critical, H, 1, &[Problem]),
                (2, Critical, H, 1, &[]),
            ],
            2,
        ),
        (
            "a soft state change between problems counts attempts",
            3,
            0,
            &[
                (0, Ok, H, 1, &[]),
                (1, Warning, S, 1, &[]),
                (2, Critical, S, 2, &[]),
                (3, Unknown, H, 3, &[Problem]),
            ],
            1,
        ),
        (
            "a recovery without a problem notification is silent",
            1,
            100,
            &[
                (0, Ok, H, 1, &[]),
                (10, Critical, H, 1, &[]),
                (20, Critical, H, 1, &[]),
                (30, Ok, H, 1, &[]),
            ],
            0,
        ),
        (
            "the first notification waits first_notification_delay",
            1,
            60,
            &[
                (0, Ok, H, 1, &[]),
                (100, Critical, H, 1, &[]),
                (130, Critical, H, 1, &[]),
                (160, Critical, H, 1, &[Problem]),
            ],
            1,
        ),
    ];

    #[test]
    fn sequences_of_results() {
        for &(what, max, delay, steps, notified) in SEQUENCES {
            let p = Policy {
                first_notification_delay: delay,
                ..pol(max)
            };
            let mut r = Record::default();
            for &(t, state, state_type, attempt, notify) in steps {
                let tr = r.apply(state, "x", t, &p, true);
                assert_eq!(
                    (r.state_type, r.attempt, &tr.notify[..]),
                    (state_type, attempt, notify),
                    "{what}: at {t}"
                );
            }
            assert_eq!(r.notification_number, notified, "{what}");
        }
    }

    #[test]
    fn retry_interval_while_soft() {
        let mut r = Record::default();
        let p = pol(2);
        assert_eq!(r.apply(Ok, "", 0, &p, true).next, Next::Normal);
        assert_eq!(r.apply(Warning, "", 1, &p, true).next, Next::Retry);
        assert_eq!(r.apply(Warning, "", 2, &p, true).next, Next::Normal);
    }

    #[test]
    fn renotification_interval() {
        let mut r = Record::default();
        let mut p = pol(1);
        p.notification_interval = 60;
        let got = run(
            &mut r,
            &p,
            &[
                (0, Critical),
                (30, Critical),
                (59, Critical),
                (60, Critical),
                (100, Critical),
                (120, Critical),
            ],
        );
        let n: Vec<_> = got.iter().map(|g| g.2.len()).collect();
        assert_eq!(n, vec![1, 0, 0, 1, 0, 1]);
        assert_eq!(r.notification_number, 3);
        // interval 0: once
        let mut r = Record::default();
        let got = run(&mut r, &pol(1), &[(0, Critical), (1000, Critical)]);
        assert_eq!(got[1].2, vec![]);
    }

    #[test]
    fn host_not_up_forces_hard_without_notification() {
        let mut r = Record::default();
        let p = pol(3);
        r.apply(Ok, "", 0, &p, true);
        let t = r.apply(Critical, "", 1, &p, false);
        assert_eq!((r.state_type, r.attempt), (H, 3));
        assert!(t.notify.is_empty());
        // the host comes back, the service stays critical: now it is notified
        let t = r.apply(Critical, "", 2, &p, true);
        assert_eq!(t.notify, vec![Problem]);
    }

    #[test]
    fn acknowledgement_suppresses_and_clears() {
        let mut r = Record::default();
        let mut p = pol(1);
        p.notification_interval = 10;
        r.apply(Critical, "", 0, &p, true);
        let ack = Ack {
            author: "a".into(),
            comment: "c".into(),
            sticky: false,
            time: 5,
            expires: None,
        };
        assert_eq!(
            r.acknowledge(ack.clone(), &p).unwrap(),
            vec![Acknowledgement]
        );
        assert!(r.apply(Critical, "", 20, &p, true).notify.is_empty());
        // a plain ack ends with a state change, which notifies again
        assert_eq!(r.apply(Warning, "", 30, &p, true).notify, vec![Problem]);
        assert!(r.ack.is_none());
        // sticky: kept across problem changes, dropped on recovery
        r.acknowledge(
            Ack {
                sticky: true,
                ..ack.clone()
            },
            &p,
        )
        .unwrap();
        assert!(r.apply(Critical, "", 40, &p, true).notify.is_empty());
        assert!(r.ack.is_some());
        assert_eq!(r.apply(Ok, "", 50, &p, true).notify, vec![Recovery]);
        assert!(r.ack.is_none());
        assert!(r.acknowledge(ack, &p).is_err());
    }

    #[test]
    fn downtime_suppresses_and_announces() {
        let mut r = Record::default();
        let p = pol(1);
        r.apply(Ok, "", 0, &p, true);
        r.add_downtime(Downtime {
            id: 1,
            start: 10,
            end: 20,
            author: "a".into(),
            comment: "c".into(),
            started: false,
        });
        assert!(r.tick(5, &p).is_empty());
        assert_eq!(r.tick(10, &p), vec![DowntimeStart]);
        assert!(r.tick(11, &p).is_empty());
        assert!(r.apply(Critical, "", 12, &p, true).notify.is_empty());
        assert_eq!(r.tick(20, &p), vec![DowntimeEnd]);
        assert!(r.downtimes.is_empty());
        // still critical after the downtime: the problem was never notified
        assert_eq!(r.apply(Critical, "", 21, &p, true).notify, vec![Problem]);
        assert!(!r.cancel_downtime(9));
    }

    #[test]
    fn flap_weighting() {
        // one change at the newest position weighs 1.25: 6.25 %
        let mut h: VecDeque<State> = std::iter::repeat_n(Ok, 20).collect();
        h.push_back(Critical);
        assert!((percent_state_change(&h) - 6.25).abs() < 1e-9);
        // one change at the oldest position weighs 0.75: 3.75 %
        let mut h: VecDeque<State> = VecDeque::from([Ok]);
        h.extend(std::iter::repeat_n(Critical, 20));
        assert!((percent_state_change(&h) - 3.75).abs() < 1e-9);
        // alternating: every position changes: 20 changes averaging 1.0 = 100 %
        let h: VecDeque<State> = (0..21)
            .map(|i| if i % 2 == 0 { Ok } else { Critical })
            .collect();
        assert!((percent_state_change(&h) - 100.0).abs() < 1e-9);
    }

    #[test]
    fn flapping_starts_stops_and_holds_back_notifications() {
        let mut r = Record::default();
        let p = Policy {
            max_check_attempts: 1,
            notification_interval: 0,
            ..Policy::default()
        };
        let mut events = Vec::new();
        let mut t = 0;
        for s in [Ok, Critical, Ok, Critical, Ok, Critical] {
            t += 1;
            events.push(r.apply(s, "", t, &p, true).notify);
        }
        // changes at positions 17..20 of the padded history
        assert_eq!(events[1], vec![Problem]);
        assert_eq!(events[2], vec![Recovery]);
        assert!(events.iter().flatten().any(|n| *n == FlappingStart));
        assert!(r.flapping);
        let start = events
            .iter()
            .position(|e| e.contains(&FlappingStart))
            .unwrap();
        assert!(events[start..]
            .iter()
            .flatten()
            .all(|n| *n == FlappingStart));
        let mut stop = Vec::new();
        for _ in 0..30 {
            t += 1;
            stop.extend(r.apply(Critical, "", t, &p, true).notify);
        }
        assert!(!r.flapping);
        assert_eq!(stop.first(), Some(&FlappingStop));
        // after the flapping stops, the hard problem is notified
        assert!(stop.contains(&Problem));
    }

    #[test]
    fn host_state_from_check() {
        use HostState::*;
        assert_eq!(HostState::from_check(Warning, &[]), Up);
        assert_eq!(HostState::from_check(Critical, &[]), Down);
        assert_eq!(HostState::from_check(Critical, &[Down]), Unreachable);
        assert_eq!(HostState::from_check(Critical, &[Down, Up]), Down);
        assert_eq!(HostState::from_check(Unknown, &[Up]), Down);
    }

    #[test]
    fn contact_option_letters() {
        assert_eq!(Problem.option(Warning), Some('w'));
        assert_eq!(Problem.option(HostState::Unreachable), Some('u'));
        assert_eq!(Recovery.option(Ok), Some('r'));
        assert_eq!(FlappingStop.option(Ok), Some('f'));
        assert_eq!(DowntimeStart.option(Ok), Some('s'));
        assert_eq!(Acknowledgement.option(Critical), None);
    }
}
