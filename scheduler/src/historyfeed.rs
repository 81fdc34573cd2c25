//! What the core records in the history store ([`crate::history::store::History`],
//! `[history]`): the same facts at the same points as the event log
//! ([`crate::alerts`]): a state event for every result Nagios would write an alert
//! line for (and the first result of an object), the perfdata of every result,
//! flapping starting and stopping, downtimes scheduled, started, ended and cancelled,
//! acknowledgements given and removed, comments, and the daemon's reloads (its starts
//! and stops are the store's own). Notifications are recorded by the notifier once
//! sent, one event per contact and method ([`crate::notify`]).
//!
//! Durable before acted on: every notification waits for the event it follows (a
//! state change, an acknowledgement, a downtime starting or ending) to be committed
//! ([`crate::recording::Gate`]), and an admin action is answered once its event is
//! committed as well as journaled ([`Core::persist`] chains the wait onto its
//! [`Saving`]; an event not committed is reported by the self-check, never as the
//! action's failure). Waiting is always done off the core lock.
//!
//! The self-check `hcoop-monitor/history` says whether the store is healthy.

use crate::alerts::alert_of;
use crate::daemon::{Core, Target};
use crate::history::store::{History, HistorySettings, Ticket};
use crate::history::{Event, Kind, Time};
use crate::journal::{Durability, Saving};
use crate::recording::{summary, Gate};
use crate::state::{Ack, Before, Comment, Condition, Downtime, Record, StateType, Transition};
use hcoop_plugins::plugin::State;

/// The self-check service of the history store.
pub const HISTORY_CHECK: &str = "history";

impl Core {
    /// The names of `target`: its host, and its service for a service.
    fn names_of(&self, target: Target) -> (&str, Option<&str>) {
        match target {
            Target::Host(i) => (&self.config.hosts[i].name, None),
            Target::Service(i) => (
                &self.config.hosts[self.services[i].host].name,
                Some(&self.config.services[i].name),
            ),
        }
    }

    /// What the events about `target` read from it, host or service alike.
    fn kept(&self, target: Target) -> Kept<'_> {
        fn of<'a, C: Condition>(key: &'a str, r: &'a Record<C>) -> Kept<'a> {
            Kept {
                key,
                state: r.state.name(),
                ack: r.ack.as_ref(),
                downtimes: &r.downtimes,
                comments: &r.comments,
            }
        }
        match target {
            Target::Host(i) => of(&self.hosts[i].key, &self.hosts[i].record),
            Target::Service(i) => of(&self.services[i].key, &self.services[i].record),
        }
    }

    /// An event of `kind` about `target` at `at`.
    fn event_about(&self, kind: Kind, target: Target, at: Time) -> Event {
        let (host, service) = self.names_of(target);
        Event::new(kind, at, Some(host), service)
    }

    /// Hands an event to the store (nothing without one); its ticket.
    fn history_record(&self, e: Event) -> Option<Ticket> {
        self.history.as_ref().map(|h| h.record(e))
    }

    /// Records an event of an admin action: its answer waits for it ([`Core::persist`]),
    /// and so do the notifications the action sends (the gate returned).
    fn history_record_action(&mut self, e: Event) -> Option<Gate> {
        let t = self.history_record(e)?;
        self.history_feed.waits.push(t.clone());
        Some(Gate::new(t))
    }

    /// Hands the notifications `types` of `target` over, each waiting for `gate` (the
    /// commit of the event they follow) before it is sent.
    pub(crate) fn send_after(
        &mut self,
        gate: Option<Gate>,
        target: Target,
        types: &[crate::state::NotificationType],
        now: Time,
    ) {
        let was = std::mem::replace(&mut self.history_feed.gate, gate);
        self.send(target, types, now);
        self.history_feed.gate = was;
    }

    /// Opens the store of `[history]` at start (none when it is disabled); a store
    /// that cannot be opened leaves the daemon monitoring without one, and its
    /// self-check says why.
    pub fn open_history(&mut self, now: Time) {
        let opened = open_store(&self.config.history, now);
        self.install_history(opened, now);
    }

    /// Takes `opened` (see [`open_store`]) as the core's store.
    fn install_history(&mut self, opened: OpenedStore, now: Time) {
        self.history = None;
        self.history_feed.open_error = None;
        let Some(opened) = opened else { return };
        match opened {
            Ok(h) => self.history = Some(h),
            Err(e) => {
                tracing::error!(
                    "history store {}: {e}; monitoring without it",
                    self.config.history.path.display()
                );
                self.history_feed.open_error = Some(e);
            }
        }
        self.seed_history(now);
    }

    /// Takes over the store of the core a reload replaces (`old`): the same one when
    /// `[history]` still names it, else the old one is closed and the new one taken:
    /// `opened`, opened off the core lock when [`history_changes`] said so (opened
    /// here when `None`). The old store is returned to be closed off the core lock.
    pub fn carry_history(
        &mut self,
        old: &mut Core,
        opened: Option<OpenedStore>,
        now: Time,
    ) -> Option<History> {
        let same = !history_changes(&old.config.history, &self.config.history);
        self.history_feed.started = std::mem::take(&mut old.history_feed.started);
        self.history_feed.acked = std::mem::take(&mut old.history_feed.acked);
        if same {
            self.history = old.history.take();
            if let Some(h) = &self.history {
                // the self-check shows what happens from now on
                h.reset_problems();
            }
            self.history_feed.open_error = old.history_feed.open_error.take();
            return None;
        }
        let closing = old.history.take();
        let opened = opened.unwrap_or_else(|| open_store(&self.config.history, now));
        self.install_history(opened, now);
        closing
    }

    /// Notes the downtimes in effect and the acknowledgements without recording them
    /// (a daemon starting with downtimes kept from before does not start them again).
    pub fn seed_history(&mut self, _now: Time) {
        let acked: Vec<String> = (self.hosts.iter().map(|e| (&e.key, e.record.ack.is_some())))
            .chain(
                self.services
                    .iter()
                    .map(|e| (&e.key, e.record.ack.is_some())),
            )
            .filter(|(_, acked)| *acked)
            .map(|(k, _)| k.clone())
            .collect();
        self.history_feed.acked.extend(acked);
        let hosts = self.hosts.iter().map(|e| (&e.key, &e.record.downtimes));
        let services = self.services.iter().map(|e| (&e.key, &e.record.downtimes));
        let started: Vec<(u64, String)> = hosts
            .chain(services)
            .flat_map(|(key, ds)| ds.iter().filter(|d| d.started).map(|d| (d.id, key.clone())))
            .collect();
        self.history_feed.started.extend(started);
    }

    /// Records the reload of the configuration (`author`: who asked for it through
    /// the API; `None`: a hangup).
    pub fn history_reload(&self, author: Option<&str>, now: Time) -> Option<Ticket> {
        let mut e = Event::new(Kind::Reload, now, None, None);
        e.author = author.map(str::to_string);
        self.history_record(e)
    }

    /// Records a result just applied to `target` (`before`: what it was): its state
    /// event when Nagios writes an alert line for it (or it is the object's first),
    /// flapping starting or stopping, and the downtimes it passed. Called before its
    /// notifications are handed over: they wait for the state event's commit.
    pub(crate) fn history_result(
        &mut self,
        target: Target,
        tr: &Transition,
        before: Before,
        now: Time,
    ) {
        self.history_feed.gate = None;
        if self.history.is_none() {
            return;
        }
        self.history_downtimes(target, now);
        let kept = self.kept(target);
        if kept.ack.is_none() && self.history_feed.acked.contains(kept.key) {
            // the state rules removed it: a plain one at a change, a sticky one at recovery
            let key = kept.key.to_string();
            self.history_feed.acked.remove(&key);
            let mut e = self.event_about(Kind::Unack, target, now);
            e.comment = Some("removed by a change of state".into());
            self.history_record(e);
        }
        let events = match target {
            Target::Host(i) => {
                let e = &self.hosts[i];
                result_events(true, &e.record, tr, before, &e.schedule, e.execution_time)
            }
            Target::Service(i) => {
                let e = &self.services[i];
                result_events(false, &e.record, tr, before, &e.schedule, e.execution_time)
            }
        };
        let (host, service) = self.names_of(target);
        let (host, service) = (host.to_string(), service.map(str::to_string));
        for mut e in events {
            e.at = now;
            e.host = Some(host.clone());
            e.service = service.clone();
            let state = e.kind == Kind::State;
            if let Some(t) = self.history_record(e) {
                if state && !tr.notify.is_empty() {
                    self.history_feed.gate = Some(Gate::new(t));
                }
            }
        }
    }

    /// After every result applied to `target`: its perfdata to the store (with
    /// `[history] perfdata`); the notifications of the result are out of the core, so
    /// the next ones wait for nothing of it.
    pub(crate) fn history_after_result(&mut self, target: Target, now: Time) {
        self.history_feed.gate = None;
        let Some(h) = &self.history else { return };
        if !self.config.history.perfdata {
            return;
        }
        let perfdata = match target {
            Target::Host(i) => &self.hosts[i].perfdata,
            Target::Service(i) => &self.services[i].perfdata,
        };
        if perfdata.is_empty() {
            return;
        }
        let (host, service) = self.names_of(target);
        h.perfdata(host, service, now, perfdata);
    }

    /// Records the downtimes of `target` that started or ended since the store was
    /// last told (each downtime on its own, with its id); the commit their
    /// notifications wait for (that of the last, the events being committed in order).
    pub(crate) fn history_downtimes(&mut self, target: Target, now: Time) -> Option<Gate> {
        self.history.as_ref()?;
        let Kept { key, downtimes, .. } = self.kept(target);
        let mut events = Vec::new();
        for d in downtimes.iter().filter(|d| d.started) {
            if !self.history_feed.started.contains_key(&d.id) {
                let mut e = self.event_about(Kind::DowntimeStart, target, now);
                e.downtime_id = Some(d.id);
                e.author = Some(d.author.clone());
                e.comment = Some(d.comment.clone());
                e.until = Some(d.end);
                events.push(e);
            }
        }
        let ended: Vec<u64> = self
            .history_feed
            .started
            .iter()
            .filter(|(id, k)| *k == key && !downtimes.iter().any(|d| d.id == **id && d.started))
            .map(|(id, _)| *id)
            .collect();
        for id in ended {
            let mut e = self.event_about(Kind::DowntimeEnd, target, now);
            e.downtime_id = Some(id);
            events.push(e);
        }
        let key = key.to_string();
        let mut last = None;
        for e in events {
            match e.kind {
                Kind::DowntimeStart => {
                    let id = e.downtime_id.unwrap_or_default();
                    self.history_feed.started.insert(id, key.clone());
                }
                _ => {
                    let id = e.downtime_id.unwrap_or_default();
                    self.history_feed.started.remove(&id);
                }
            }
            last = self.history_record(e).or(last);
        }
        last.map(Gate::new)
    }

    /// Records the acknowledgement `target` just got; the commit its notification
    /// waits for.
    pub(crate) fn history_ack(&mut self, target: Target, now: Time) -> Option<Gate> {
        self.history.as_ref()?;
        let kept = self.kept(target);
        let ack = kept.ack.cloned()?;
        let (key, state) = (kept.key.to_string(), kept.state);
        self.history_feed.acked.insert(key);
        let mut e = self.event_about(Kind::Ack, target, now);
        e.state = Some(state.to_string());
        e.author = Some(ack.author);
        e.comment = Some(ack.comment);
        e.sticky = Some(ack.sticky);
        e.until = ack.expires;
        self.history_record_action(e)
    }

    /// Records the acknowledgement of `target` removed by `author`.
    pub(crate) fn history_unack(&mut self, target: Target, author: Option<&str>, now: Time) {
        let e = self.unack_event(target, author, now);
        self.history_record_action(e);
    }

    /// Records the acknowledgement of `target` removed by its expiry: no admin action
    /// is answered after it, so nothing waits for it.
    pub(crate) fn history_ack_expired(&mut self, target: Target, now: Time) {
        let e = self.unack_event(target, None, now);
        self.history_record(e);
    }

    fn unack_event(&mut self, target: Target, author: Option<&str>, now: Time) -> Event {
        let key = self.kept(target).key.to_string();
        self.history_feed.acked.remove(&key);
        let mut e = self.event_about(Kind::Unack, target, now);
        e.author = author.map(str::to_string);
        e
    }

    /// Records the downtime `id` of `target` just scheduled.
    pub(crate) fn history_downtime_scheduled(&mut self, target: Target, id: u64, now: Time) {
        if self.history.is_none() {
            return;
        }
        let d = self.kept(target).downtimes.iter().find(|d| d.id == id);
        let Some(d) = d.cloned() else { return };
        let mut e = self.event_about(Kind::DowntimeScheduled, target, now);
        e.downtime_id = Some(id);
        e.author = Some(d.author);
        e.comment = Some(d.comment);
        e.until = Some(d.end);
        self.history_record_action(e);
    }

    /// Records the downtime `id` of `target` cancelled by `author`.
    pub(crate) fn history_downtime_cancelled(
        &mut self,
        target: Target,
        id: u64,
        author: Option<&str>,
        now: Time,
    ) {
        self.history_feed.started.remove(&id);
        let mut e = self.event_about(Kind::DowntimeCancel, target, now);
        e.downtime_id = Some(id);
        e.author = author.map(str::to_string);
        self.history_record_action(e);
    }

    /// Records the comment `id` just added to `target`.
    pub(crate) fn history_comment(&mut self, target: Target, id: u64, now: Time) {
        if self.history.is_none() {
            return;
        }
        let c = self.kept(target).comments.iter().find(|c| c.id == id);
        let Some(c) = c.cloned() else { return };
        let mut e = self.event_about(Kind::Comment, target, now);
        e.author = Some(c.author);
        e.comment = Some(c.text);
        self.history_record_action(e);
    }

    /// What an admin change saved with `durability` waits for besides the journal:
    /// the history events of the action under way (a synchronous change only).
    pub(crate) fn history_durable(&mut self, saving: Saving, durability: Durability) -> Saving {
        if durability != Durability::Sync {
            return saving;
        }
        match self.history_feed.take_waits() {
            Some(wait) => saving.then(wait),
            None => saving,
        }
    }

    /// Sets the `hcoop-monitor/history` self-check from the store's health (none
    /// with `[history] enabled = false`).
    pub(crate) fn refresh_history_check(&mut self) {
        if !self.config.history.enabled {
            return;
        }
        let problem = match (&self.history, &self.history_feed.open_error) {
            (Some(h), _) => h.problem().or_else(|| {
                let noted = self.history_feed.unrecorded.lock();
                noted.unwrap_or_else(|e| e.into_inner()).clone()
            }),
            (None, Some(e)) => Some(format!("cannot open the history store: {e}")),
            (None, None) => return,
        };
        let (state, output) = match problem {
            Some(p) => (State::Critical, format!("HISTORY CRITICAL - {p}\n")),
            None => (
                State::Ok,
                format!("history store ok: {}\n", self.config.history.path.display()),
            ),
        };
        self.set_self_check(HISTORY_CHECK, state, &output);
    }
}

/// A store opened for `[history]`: none when it is disabled, else the store or why
/// it could not be opened.
pub type OpenedStore = Option<Result<History, String>>;

/// Opens the store `settings` names (see [`History::open`]). Blocking: a reload calls
/// it off the core lock, before it swaps the new store in ([`Core::carry_history`]).
pub fn open_store(settings: &HistorySettings, now: Time) -> OpenedStore {
    settings.enabled.then(|| History::open(settings, now))
}

/// Whether a reload from `old` to `new` changes the store (another file, or turned on
/// or off): the new one is then opened and the old one closed.
pub fn history_changes(old: &HistorySettings, new: &HistorySettings) -> bool {
    old.enabled != new.enabled || old.path != new.path
}

/// What a host's and a service's records have alike, as the events about one read it.
struct Kept<'a> {
    key: &'a str,
    /// Its state's name (`OK`, `DOWN`, ...).
    state: &'static str,
    ack: Option<&'a Ack>,
    downtimes: &'a [Downtime],
    comments: &'a [Comment],
}

/// The events of a result (their time and object set by the caller): the state event
/// when Nagios writes an alert line for it, or the first result of the object, and the
/// flapping event when flapping started or stopped.
fn result_events<C: Condition>(
    host: bool,
    r: &Record<C>,
    tr: &Transition,
    before: Before,
    schedule: &crate::config::Schedule,
    execution_time: f64,
) -> Vec<Event> {
    let mut out = Vec::new();
    let logged = alert_of(host, r, before, tr.hard_change, schedule.max_check_attempts)
        .or((!before.checked).then_some((r.state_type, r.attempt)));
    if let Some((state_type, attempt)) = logged {
        out.push(Event {
            kind: Kind::State,
            state: Some(r.state.name().to_string()),
            hard: Some(state_type == StateType::Hard),
            attempt: Some(attempt),
            output: Some(summary(&r.output)),
            duration_ms: Some((execution_time.max(0.0) * 1000.0).round() as u64),
            ..Event::default()
        });
    }
    if r.flapping != before.flapping {
        let (kind, threshold, side) = if r.flapping {
            (Kind::FlappingStart, schedule.high_flap_threshold, "above")
        } else {
            (Kind::FlappingStop, schedule.low_flap_threshold, "below")
        };
        out.push(Event {
            kind,
            comment: Some(format!(
                "percent state change {:.1}% {side} threshold {:.1}%",
                r.percent_state_change, threshold
            )),
            ..Event::default()
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::HISTORY_CHECK;
    use crate::daemon::tests::utc_core;
    use crate::daemon::{Core, SELF_HOST};
    use crate::exec::{Limits, Outcome};
    use crate::history::store::{events, EventFilter};
    use crate::history::{Event, Kind, Time};
    use crate::notify::{Notice, Notifier};
    use crate::registry::fake;
    use crate::state::Ack;
    use crate::state::NotificationType;
    use hcoop_plugins::plugin::State;
    use std::time::{Duration, SystemTime};
    use tokio::sync::mpsc;

    /// A core of service `h/s` (3 attempts, notified every minute, contacts `ops` by
    /// mail through a relay that refuses the connection (`[smtp]` on a closed port) and
    /// `pager` by command) recording into a store in a temp dir; `extra`: more settings
    /// of the service.
    fn recorded(extra: &str) -> (Core, mpsc::UnboundedReceiver<Notice>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "[defaults]\nmax_check_attempts = 3\nnotification_interval = \"1m\"\n\
             flap_detection = false\ncontacts = [\"ops\", \"pager\"]\n\n\
             [history]\npath = \"{}\"\n\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\ntimeout = \"5s\"\n\n\
             [[contact]]\nname = \"ops\"\nemail = \"ops@example.org\"\n\n\
             [[contact]]\nname = \"pager\"\ncommand = \"/bin/true --now\"\n\n\
             [[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n\n\
             [[service]]\nhost = \"h\"\nname = \"s\"\ncheck = \"{}\"\nargs = [\"s\"]\n{extra}\n",
            dir.path().join("history.db").display(),
            closed_port(),
            fake::NAME
        );
        let (mut core, rx) = utc_core(text);
        core.open_history(crate::clock::unix_now());
        assert!(core.history.is_some(), "{:?}", core.history_feed.open_error);
        (core, rx, dir)
    }

    /// A local TCP port nothing listens on.
    fn closed_port() -> u16 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }

    fn result(state: State, text: &str, ms: u64) -> Outcome {
        Outcome::printed(state, text, SystemTime::now(), Duration::from_millis(ms))
    }

    /// The events of `kinds` recorded so far, oldest first (once everything handed
    /// to the store before is committed).
    fn recorded_events(core: &Core, kinds: &[Kind]) -> Vec<Event> {
        let t = core.history_reload(None, 0).unwrap();
        assert!(t.wait(Duration::from_secs(10)), "the store commits");
        let filter = EventFilter {
            kinds: kinds.to_vec(),
            ..EventFilter::default()
        };
        let h = core.history.as_ref().unwrap();
        let mut got = h.read(|c| events(c, &filter)).unwrap();
        got.reverse();
        got
    }

    /// A state event as the feed makes it.
    fn state(at: Time, s: &str, hard: bool, attempt: u32, output: &str, ms: u64) -> Event {
        Event {
            state: Some(s.into()),
            hard: Some(hard),
            attempt: Some(attempt),
            output: Some(output.into()),
            duration_ms: Some(ms),
            ..Event::new(Kind::State, at, Some("h"), Some("s"))
        }
    }

    fn without_ids(events: Vec<Event>) -> Vec<Event> {
        events.into_iter().map(|e| Event { id: 0, ..e }).collect()
    }

    #[test]
    fn state_events_are_recorded_when_nagios_logs_an_alert_and_at_the_first_result() {
        let (mut c, _rx, _dir) = recorded("");
        let s = c.find("h/s").unwrap();
        let t: Time = 1_700_000_000;
        let ok = result(State::Ok, "S OK - up|t=1s;2;3\n", 12);
        let crit = result(State::Critical, "S CRITICAL - down\nmore\n", 1500);
        // the first result; OK again (nothing); a soft problem that recovers
        c.apply(s, &ok, 0.0, t);
        c.apply(s, &ok, 0.0, t + 1);
        c.apply(s, &crit, 0.0, t + 2);
        c.apply(s, &ok, 0.0, t + 3);
        // soft, soft, hard, the same hard problem (nothing), the recovery
        for i in 0..4 {
            c.apply(s, &crit, 0.0, t + 10 + i);
        }
        c.apply(s, &ok, 0.0, t + 20);
        let down = "S CRITICAL - down";
        assert_eq!(
            without_ids(recorded_events(&c, &[Kind::State])),
            [
                state(t, "OK", true, 1, "S OK - up", 12),
                state(t + 2, "CRITICAL", false, 1, down, 1500),
                state(t + 3, "OK", false, 2, "S OK - up", 12),
                state(t + 10, "CRITICAL", false, 1, down, 1500),
                state(t + 11, "CRITICAL", false, 2, down, 1500),
                state(t + 12, "CRITICAL", true, 3, down, 1500),
                state(t + 20, "OK", true, 3, "S OK - up", 12),
            ]
        );
    }

    #[test]
    fn the_perfdata_of_every_result_is_consolidated() {
        let (mut c, _rx, _dir) = recorded("");
        let s = c.find("h/s").unwrap();
        let now = crate::clock::unix_now();
        for i in 0..3 {
            let ok = result(State::Ok, &format!("S OK|load={i};5;9;0;10\n"), 1);
            c.apply(s, &ok, 0.0, now - 2 + i);
        }
        let h = c.history.clone().unwrap();
        let mut metrics = Vec::new();
        for _ in 0..50 {
            metrics = h
                .read(|conn| crate::history::perf::metrics(conn, "h", Some("s")))
                .unwrap();
            if metrics.first().is_some_and(|m| m.last == 2.0) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let labels: Vec<(&str, f64)> = metrics.iter().map(|m| (m.label.as_str(), m.last)).collect();
        assert_eq!(labels, [("load", 2.0)]);
    }

    #[tokio::test]
    async fn each_contact_and_method_of_a_notification_is_recorded_with_its_result() {
        let (mut c, mut rx, _dir) = recorded("");
        let s = c.find("h/s").unwrap();
        let crit = result(State::Critical, "S CRITICAL - down\n", 1);
        for i in 0..3 {
            c.apply(s, &crit, 0.0, 1_700_000_000 + i);
        }
        let n = rx.try_recv().expect("a problem notification");
        assert!(n.history.after.is_some(), "it waits for its state change");
        let smtp = c.config.smtp.clone();
        Notifier::new(smtp, Limits::default()).deliver(&n).await;
        let got: Vec<_> = recorded_events(&c, &[Kind::Notification])
            .into_iter()
            .map(|e| {
                assert_eq!(e.object(), "h/s");
                assert_eq!(e.at, n.time);
                assert_eq!(e.output.as_deref(), Some("S CRITICAL - down"));
                (
                    e.author.unwrap(),
                    e.state.unwrap(),
                    e.notification_type.unwrap(),
                    e.method.unwrap(),
                    e.result.unwrap(),
                )
            })
            .collect();
        let row = |who: &str, method: &str, result: &str| {
            (
                who.to_string(),
                "CRITICAL".to_string(),
                "PROBLEM".to_string(),
                method.to_string(),
                result.to_string(),
            )
        };
        assert_eq!(
            got,
            [row("ops", "email", &got[0].4), row("pager", "true", "sent"),]
        );
        assert!(got[0].4.starts_with("failed: "), "{}", got[0].4);
        // the state change it told of was committed before it went out
        let hard = recorded_events(&c, &[Kind::State]).pop().unwrap();
        assert_eq!((hard.hard, hard.attempt), (Some(true), Some(3)));
    }

    #[test]
    fn acknowledgements_downtimes_and_comments_are_recorded_with_their_author() {
        let (mut c, _rx, _dir) = recorded("");
        let s = c.find("h/s").unwrap();
        let now = crate::clock::unix_now();
        let crit = result(State::Critical, "S CRITICAL - down\n", 1);
        for i in 0..3 {
            c.apply(s, &crit, 0.0, now - 10 + i);
        }
        let ack = Ack {
            author: "alice".into(),
            comment: "on it".into(),
            sticky: true,
            time: now,
            expires: None,
        };
        // answered once the event is committed
        c.acknowledge("h/s", ack).unwrap().wait().unwrap();
        c.unacknowledge_by("h/s", Some("bob"))
            .unwrap()
            .wait()
            .unwrap();
        let (id, saving) = c
            .schedule_downtime("h/s", now - 1, now + 3600, "carol".into(), "upgrade".into())
            .unwrap();
        saving.wait().unwrap();
        c.cancel_downtime_by(id, Some("dave"))
            .unwrap()
            .wait()
            .unwrap();
        let (_, saving) = c
            .add_comment("h/s", "erin".into(), "see ticket 7".into())
            .unwrap();
        saving.wait().unwrap();
        // one that ends by the clock
        let (ended, saving) = c
            .schedule_downtime("h/s", now - 1, now + 1, "carol".into(), "short".into())
            .unwrap();
        saving.wait().unwrap();
        c.tick(now + 2);
        let kinds = [
            Kind::Ack,
            Kind::Unack,
            Kind::DowntimeScheduled,
            Kind::DowntimeStart,
            Kind::DowntimeEnd,
            Kind::DowntimeCancel,
            Kind::Comment,
        ];
        let got: Vec<_> = recorded_events(&c, &kinds)
            .into_iter()
            .map(|e| {
                assert_eq!(e.object(), "h/s");
                (
                    e.kind,
                    e.author,
                    e.comment,
                    e.downtime_id,
                    e.until,
                    e.sticky,
                )
            })
            .collect();
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            got,
            [
                (
                    Kind::Ack,
                    some("alice"),
                    some("on it"),
                    None,
                    None,
                    Some(true)
                ),
                (Kind::Unack, some("bob"), None, None, None, None),
                (
                    Kind::DowntimeScheduled,
                    some("carol"),
                    some("upgrade"),
                    Some(id),
                    Some(now + 3600),
                    None
                ),
                (
                    Kind::DowntimeStart,
                    some("carol"),
                    some("upgrade"),
                    Some(id),
                    Some(now + 3600),
                    None
                ),
                (
                    Kind::DowntimeCancel,
                    some("dave"),
                    None,
                    Some(id),
                    None,
                    None
                ),
                (
                    Kind::Comment,
                    some("erin"),
                    some("see ticket 7"),
                    None,
                    None,
                    None
                ),
                (
                    Kind::DowntimeScheduled,
                    some("carol"),
                    some("short"),
                    Some(ended),
                    Some(now + 1),
                    None
                ),
                (
                    Kind::DowntimeStart,
                    some("carol"),
                    some("short"),
                    Some(ended),
                    Some(now + 1),
                    None
                ),
                (Kind::DowntimeEnd, None, None, Some(ended), None, None),
            ]
        );
    }

    #[test]
    fn an_acknowledgement_the_state_rules_remove_is_recorded_as_removed_by_nobody() {
        let (mut c, _rx, _dir) = recorded("");
        let s = c.find("h/s").unwrap();
        let t: Time = 1_700_000_000;
        let crit = result(State::Critical, "S CRITICAL - down\n", 1);
        for i in 0..3 {
            c.apply(s, &crit, 0.0, t + i);
        }
        let ack = Ack {
            author: "alice".into(),
            comment: "on it".into(),
            sticky: false,
            time: t + 5,
            expires: None,
        };
        c.acknowledge("h/s", ack).unwrap().wait().unwrap();
        // still the same problem: kept; another state: removed
        c.apply(s, &crit, 0.0, t + 10);
        c.apply(s, &result(State::Warning, "S WARNING\n", 1), 0.0, t + 20);
        let got: Vec<_> = recorded_events(&c, &[Kind::Ack, Kind::Unack])
            .into_iter()
            .map(|e| (e.at, e.kind, e.author, e.comment))
            .collect();
        assert_eq!(
            got,
            [
                (t + 5, Kind::Ack, Some("alice".into()), Some("on it".into())),
                (
                    t + 20,
                    Kind::Unack,
                    None,
                    Some("removed by a change of state".into())
                ),
            ]
        );
    }

    #[test]
    fn flapping_start_and_stop_are_recorded() {
        let (mut c, _rx, _dir) = recorded("flap_detection = true\nmax_check_attempts = 1\n");
        let s = c.find("h/s").unwrap();
        let ok = result(State::Ok, "S OK\n", 1);
        let crit = result(State::Critical, "S CRITICAL\n", 1);
        let t: Time = 1_700_000_000;
        for i in 0..10 {
            let r = if i % 2 == 0 { &crit } else { &ok };
            c.apply(s, r, 0.0, t + i);
        }
        for i in 10..40 {
            c.apply(s, &ok, 0.0, t + i);
        }
        let got: Vec<_> = recorded_events(&c, &[Kind::FlappingStart, Kind::FlappingStop])
            .into_iter()
            .map(|e| {
                assert_eq!(e.object(), "h/s");
                let comment = e.comment.unwrap();
                (
                    e.kind,
                    comment.split(" threshold ").nth(1).map(str::to_string),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (Kind::FlappingStart, Some("20.0%".to_string())),
                (Kind::FlappingStop, Some("5.0%".to_string())),
            ]
        );
    }

    #[test]
    fn the_self_check_says_whether_the_store_is_healthy() {
        let (mut c, _rx, dir) = recorded("");
        c.tick(crate::clock::unix_now());
        let own = c.find(&format!("{SELF_HOST}/{HISTORY_CHECK}")).unwrap();
        let crate::daemon::Target::Service(own) = own else {
            panic!("a service")
        };
        let e = &c.services[own];
        assert_eq!(e.record.state, State::Ok);
        assert_eq!(
            e.record.output,
            format!(
                "history store ok: {}\n",
                dir.path().join("history.db").display()
            )
        );
        // a store that cannot be opened: CRITICAL, saying why, and monitoring goes on
        let text = "[history]\npath = \"/proc/no/such/history.db\"\n\n\
                    [[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n";
        let (mut c, _rx) = utc_core(text.into());
        c.open_history(crate::clock::unix_now());
        assert!(c.history.is_none());
        c.tick(crate::clock::unix_now());
        let own = c.find(&format!("{SELF_HOST}/{HISTORY_CHECK}")).unwrap();
        let crate::daemon::Target::Service(own) = own else {
            panic!("a service")
        };
        let e = &c.services[own];
        assert_eq!(e.record.state, State::Critical);
        assert!(
            e.record
                .output
                .starts_with("HISTORY CRITICAL - cannot open the history store: "),
            "{}",
            e.record.output
        );
        // none when disabled
        let text = "[history]\nenabled = false\n\n\
                    [[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n";
        let (mut c, _rx) = utc_core(text.into());
        c.open_history(crate::clock::unix_now());
        c.tick(crate::clock::unix_now());
        assert!(c.history.is_none());
        assert_eq!(c.find(&format!("{SELF_HOST}/{HISTORY_CHECK}")), None);
    }

    /// The problem `h/s` in a hard CRITICAL since `now - 8`, its notifications drained.
    fn hard_problem(c: &mut Core, rx: &mut mpsc::UnboundedReceiver<Notice>, now: Time) {
        let s = c.find("h/s").unwrap();
        let crit = result(State::Critical, "S CRITICAL - down\n", 1);
        for i in 0..3 {
            c.apply(s, &crit, 0.0, now - 10 + i);
        }
        while rx.try_recv().is_ok() {}
    }

    fn ack_by(who: &str, now: Time, expires: Option<Time>) -> Ack {
        Ack {
            author: who.into(),
            comment: "on it".into(),
            sticky: true,
            time: now,
            expires,
        }
    }

    /// The next notification of `kind` handed to the notifier.
    fn next_of(rx: &mut mpsc::UnboundedReceiver<Notice>, kind: NotificationType) -> Notice {
        loop {
            let n = rx
                .try_recv()
                .unwrap_or_else(|_| panic!("a {kind:?} notification"));
            if n.kind == kind {
                return n;
            }
        }
    }

    #[tokio::test]
    async fn acknowledgement_and_downtime_notifications_wait_for_their_events_commit() {
        let (mut c, mut rx, _dir) = recorded("");
        let now = crate::clock::unix_now();
        hard_problem(&mut c, &mut rx, now);
        drop(c.acknowledge("h/s", ack_by("alice", now, None)).unwrap());
        let n = next_of(&mut rx, NotificationType::Acknowledgement);
        assert!(n.history.after.is_some(), "it waits for the ack's event");
        assert!(n.history.ready().await, "the ack's event is committed");
        let (_, saving) = c
            .schedule_downtime("h/s", now - 1, now + 3600, "carol".into(), "upgrade".into())
            .unwrap();
        drop(saving);
        let n = next_of(&mut rx, NotificationType::DowntimeStart);
        assert!(
            n.history.after.is_some(),
            "it waits for the downtime's start"
        );
        assert!(n.history.ready().await);
        c.tick(now + 3601);
        let n = next_of(&mut rx, NotificationType::DowntimeEnd);
        assert!(n.history.after.is_some(), "it waits for the downtime's end");
        assert!(n.history.ready().await);
        let kinds = [Kind::Ack, Kind::DowntimeStart, Kind::DowntimeEnd];
        assert_eq!(recorded_events(&c, &kinds).len(), 3);
    }

    #[test]
    fn an_admin_action_the_store_cannot_record_is_answered_as_done_and_the_self_check_says_so() {
        let (mut c, mut rx, _dir) = recorded("");
        let now = crate::clock::unix_now();
        hard_problem(&mut c, &mut rx, now);
        c.history.as_ref().unwrap().close("broken");
        // applied and saved: answered so (an error would have it done twice)
        c.acknowledge("h/s", ack_by("alice", now, None))
            .unwrap()
            .wait()
            .unwrap();
        let s = c.find("h/s").unwrap();
        let crate::daemon::Target::Service(s) = s else {
            panic!("a service")
        };
        assert!(c.services[s].record.ack.is_some());
        c.tick(now);
        let own = c.find(&format!("{SELF_HOST}/{HISTORY_CHECK}")).unwrap();
        let crate::daemon::Target::Service(own) = own else {
            panic!("a service")
        };
        let r = &c.services[own].record;
        assert_eq!(r.state, State::Critical);
        assert_eq!(
            r.output,
            "HISTORY CRITICAL - 1 of the 1 events of an admin action not recorded in the \
             history store (the action was applied and saved)\n"
        );
    }

    #[test]
    fn an_expiring_acknowledgement_leaves_nothing_for_the_next_action_to_wait_for() {
        let (mut c, mut rx, _dir) = recorded("");
        let now = crate::clock::unix_now();
        hard_problem(&mut c, &mut rx, now);
        drop(
            c.acknowledge("h/s", ack_by("alice", now, Some(now + 60)))
                .unwrap(),
        );
        assert!(c.history_feed.waits.is_empty(), "taken by the ack's answer");
        c.tick(now + 61);
        assert!(
            c.history_feed.waits.is_empty(),
            "the expiry is nobody's answer"
        );
        let got: Vec<_> = recorded_events(&c, &[Kind::Unack])
            .into_iter()
            .map(|e| (e.at, e.author))
            .collect();
        assert_eq!(got, [(now + 61, None)]);
    }
}
