//! The daemon's core: the running hosts and services with their states, and what
//! changes them (results applied, downtimes starting and ending, acknowledgements,
//! the daemon's own self-checks), journaled as they change; compaction of the state
//! journal.
//!
//! [`Core`] holds everything the status API reads and changes, behind one mutex; the
//! scheduler loop ([`crate::scheduler`]) owns the timing and calls it.

use crate::clock::unix_now;
use crate::config::dependencies::{self, Kind as Dependency};
use crate::config::{CheckSpec, Config, Contact, Schedule};
use crate::exec::{Limits, Outcome, Runnable};
use crate::journal::{Durability, Journal, Saving};
use crate::notify::Notice;
use crate::retention;
use crate::state::{
    Ack, Condition, Downtime, HostState, Next, NotificationType, Policy, Record, Time,
};
use hcoop_plugins::plugin::{PerfData, State};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// The self-check service of an `[nrpe]` agent that cannot start.
pub const NRPE_CHECK: &str = "nrpe";

/// The host of the daemon's own checks ([`Core::set_self_check`]).
pub const SELF_HOST: &str = "hcoop-monitor";
/// How many of the daemon's own checks a build leaves room for.
const SELF_CHECK_ROOM: usize = 8;
/// The self-check service of the state files.
pub const RETENTION_CHECK: &str = "retention";

/// The output of a host without a check command.
pub const NO_HOST_CHECK: &str = "no host check configured: assumed UP\n";

/// A host or a service (by index into [`Core`]'s lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    Host(usize),
    Service(usize),
}

/// One host or service as the daemon runs it.
pub struct Entry<C> {
    /// "host" or "host/service".
    pub key: String,
    pub host: usize,
    pub record: Record<C>,
    /// The check prepared to run (`None`: never scheduled), or why it cannot be.
    pub runnable: Option<Result<Arc<Runnable>, String>>,
    /// Shared with the configuration's host or service.
    pub schedule: Arc<Schedule>,
    pub perfdata: Vec<PerfData>,
    /// Seconds the last check ran.
    pub execution_time: f64,
    /// Seconds the last check started after it was due.
    pub latency: f64,
}

impl<C: Condition> Entry<C> {
    fn new(
        key: String,
        host: usize,
        check: Option<&Arc<CheckSpec>>,
        schedule: &Arc<Schedule>,
        prepared: &mut crate::prepared::Cache,
    ) -> Self {
        // a passive-only service has nothing to run: never scheduled
        let runnable = check
            .filter(|c| !matches!(***c, CheckSpec::Passive))
            .map(|c| prepared.get(c, schedule.timeout));
        Entry {
            key,
            host,
            record: Record::default(),
            runnable,
            schedule: schedule.clone(),
            perfdata: Vec::new(),
            execution_time: 0.0,
            latency: 0.0,
        }
    }

    /// Starts and ends this entry's downtimes at `now`: the notifications to send and
    /// whether a downtime changed (to journal); `None` when it has none.
    fn tick(&mut self, now: Time, policy: &Policy) -> Option<(Vec<NotificationType>, bool)> {
        if self.record.downtimes.is_empty() {
            return None;
        }
        let marks = |r: &Record<C>| -> Vec<(u64, bool)> {
            r.downtimes.iter().map(|d| (d.id, d.started)).collect()
        };
        let before = marks(&self.record);
        let notify = self.record.tick(now, policy);
        Some((notify, before != marks(&self.record)))
    }

    /// The interval to the next check after the current record.
    fn interval(&self, next: Next) -> Duration {
        match next {
            Next::Normal => self.schedule.check_interval,
            Next::Retry => self.schedule.retry_interval,
        }
    }
}

/// Everything the daemon knows, shared by the scheduler and the status API.
pub struct Core {
    pub config: Config,
    pub hosts: Vec<Entry<HostState>>,
    pub services: Vec<Entry<State>>,
    pub next_downtime_id: u64,
    /// Checks run since start (for the metrics).
    pub checks_run: u64,
    pub started: Time,
    notices: mpsc::UnboundedSender<Notice>,
    /// The sinks every result is forwarded to (none until [`run`] starts them).
    pub forward: crate::forward::Forwarder,
    /// The state journal every change goes to ([`Core::persist`]); `None` (nothing
    /// saved) until [`run`] opens it; moved to the new Core on reload.
    pub journal: Option<Journal>,
    /// Tells a Core from the one a reload replaced it with (a compaction copying
    /// records starts over then).
    build_id: u64,
    /// Starts the event handlers of results ([`crate::handlers`]).
    pub handlers: crate::handlers::Runner,
    /// The event log lines go to (`[daemon] event_log`); `None` until [`run`] opens it;
    /// moved to the new Core on reload.
    pub event_log: Option<crate::eventlog::EventLog>,
    /// The history store events and perfdata go to (`[history]`); `None` until [`run`]
    /// opens it (or when disabled); moved to the new Core on reload.
    pub history: Option<crate::history::store::History>,
    /// What feeding the history keeps beside it (carried with it on reload).
    pub history_feed: crate::recording::Feed,
    /// Checks asked to run at once ([`Core::request_check`]), taken by the scheduler
    /// loop when `wake` tells it.
    pub requested: Vec<Target>,
    /// Wakes the scheduler loop for `requested`; the loop's own, kept across reloads.
    pub wake: Arc<tokio::sync::Notify>,
    /// The hosts and services whose results' freshness is watched: each with its
    /// threshold (seconds) and when it was last found stale ([`Core::check_freshness`]).
    pub freshness: Vec<(Target, u64, Time)>,
}

/// Cores built so far.
static BUILDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Records a compaction serializes under the lock at once (a few ms at most).
const COPY_CHUNK: usize = 2000;

impl Core {
    /// Builds the running objects of a configuration, taking over the records of
    /// `old` (same host or host/service name).
    pub fn build(
        mut config: Config,
        limits: Limits,
        notices: mpsc::UnboundedSender<Notice>,
        mut hosts_old: HashMap<String, Record<HostState>>,
        mut services_old: HashMap<String, Record<State>>,
    ) -> Core {
        // one prepared check per distinct check, shared by the objects that run it, the
        // built-in ones as validation built them
        let built = std::mem::take(&mut config.built);
        let mut prepared = crate::prepared::Cache::new(limits, built);
        // room for the daemon's own checks, added later: a push past the exact length
        // would double the vectors of every object (tens of MB at 100,000 services)
        config.hosts.reserve_exact(1);
        config.services.reserve_exact(SELF_CHECK_ROOM);
        // made with the room for the self-checks at once: reserving it after a collect
        // would copy every entry again
        let mut hosts: Vec<Entry<HostState>> = Vec::with_capacity(config.hosts.len() + 1);
        hosts.extend(config.hosts.iter().enumerate().map(|(i, h)| {
            let mut e = Entry::new(
                h.name.clone(),
                i,
                h.check.as_ref(),
                &h.schedule,
                &mut prepared,
            );
            if let Some(r) = hosts_old.remove(&h.name) {
                e.record = r;
            }
            if e.runnable.is_none() && h.schedule.active_checks_enabled {
                // never scheduled: shown as UP, saying why, rather than PENDING forever
                e.record.checked = true;
                e.record.state = HostState::Up;
                e.record.output = NO_HOST_CHECK.into();
            }
            e
        }));
        let host_index = config.host_indices();
        let mut services = Vec::with_capacity(config.services.len() + SELF_CHECK_ROOM);
        services.extend(config.services.iter().map(|s| {
            let host = host_index.get(s.host.as_str()).copied().unwrap_or(0);
            let key = format!("{}/{}", s.host, s.name);
            let old = services_old.remove(&key);
            let mut e = Entry::new(key, host, Some(&s.check), &s.schedule, &mut prepared);
            if let Some(r) = old {
                e.record = r;
            }
            e
        }));
        let mut core = Core {
            config,
            hosts,
            services,
            next_downtime_id: 1,
            checks_run: 0,
            started: unix_now(),
            notices,
            forward: Default::default(),
            journal: None,
            build_id: BUILDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            handlers: crate::handlers::Runner::new(limits),
            event_log: None,
            history: None,
            history_feed: Default::default(),
            requested: Vec::new(),
            wake: Arc::new(tokio::sync::Notify::new()),
            freshness: Vec::new(),
        };
        core.freshness = core.watched_for_freshness();
        // the daemon's own checks (hcoop-monitor/...) are kept across reloads
        let mut own: Vec<_> = services_old
            .into_iter()
            .filter_map(|(k, r)| {
                let name = k.strip_prefix(SELF_HOST)?.strip_prefix('/')?.to_string();
                Some((name, r))
            })
            .collect();
        own.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, r) in own {
            if core.self_check(&name).is_none() {
                core.add_self_check(&name, r);
            }
        }
        core
    }

    /// How many hosts and services the configuration has (the daemon's own checks
    /// aside).
    pub fn counts(&self) -> (usize, usize) {
        let own = |k: &str| k == SELF_HOST || k.starts_with(&format!("{SELF_HOST}/"));
        (
            self.hosts.iter().filter(|e| !own(&e.key)).count(),
            self.services.iter().filter(|e| !own(&e.key)).count(),
        )
    }

    /// The records by key, for saving or for a rebuild.
    pub fn records(
        &self,
    ) -> (
        HashMap<String, Record<HostState>>,
        HashMap<String, Record<State>>,
    ) {
        (
            self.hosts
                .iter()
                .map(|e| (e.key.clone(), e.record.clone()))
                .collect(),
            self.services
                .iter()
                .map(|e| (e.key.clone(), e.record.clone()))
                .collect(),
        )
    }

    /// Finds a host or service by "HOST" or "HOST/SERVICE".
    pub fn find(&self, key: &str) -> Option<Target> {
        if key.contains('/') {
            self.services
                .iter()
                .position(|e| e.key == key)
                .map(Target::Service)
        } else {
            self.hosts
                .iter()
                .position(|e| e.key == key)
                .map(Target::Host)
        }
    }

    fn host_up(&self, host: usize) -> bool {
        self.hosts
            .get(host)
            .is_none_or(|h| h.record.state.is_good())
    }

    /// Applies a check outcome; returns the interval to the next check.
    pub fn apply(
        &mut self,
        target: Target,
        outcome: &Outcome,
        latency: f64,
        now: Time,
    ) -> Duration {
        self.apply_result(target, outcome, latency, now, None)
    }

    /// Applies a check outcome; `passive_host`: a submitted host result and the state
    /// it gives, taken as given and HARD at once, as Nagios' defaults
    /// `translate_passive_host_checks=0` and `passive_host_checks_are_soft=0`.
    pub(crate) fn apply_result(
        &mut self,
        target: Target,
        outcome: &Outcome,
        latency: f64,
        now: Time,
        passive_host: Option<HostState>,
    ) -> Duration {
        self.checks_run += 1;
        match target {
            Target::Host(i) => {
                let parents: Vec<HostState> = self.config.hosts[i]
                    .parents
                    .iter()
                    .filter_map(|p| self.hosts.iter().find(|h| &h.key == p))
                    .map(|h| h.record.state)
                    .collect();
                let state = passive_host
                    .unwrap_or_else(|| HostState::from_check(outcome.state(), &parents));
                self.forward_result(target, Some(state), outcome);
                let mut policy = self.policy(target, now);
                if passive_host.is_some() {
                    policy.max_check_attempts = 1;
                }
                let e = &mut self.hosts[i];
                let was = crate::state::Before::of(&e.record);
                let tr = e.record.apply(state, &outcome.text(), now, &policy, true);
                record_run(e, outcome, latency);
                let interval = e.interval(tr.next);
                self.history_result(target, &tr, was, now);
                self.send(target, &tr.notify, now);
                self.after_result(target, &tr, was, now);
                let _ = self.persist(target, Durability::Batched);
                interval
            }
            Target::Service(i) => {
                self.forward_result(target, None, outcome);
                let up = self.host_up(self.services[i].host);
                let policy = self.policy(target, now);
                let e = &mut self.services[i];
                let was = crate::state::Before::of(&e.record);
                let tr = e
                    .record
                    .apply(outcome.state(), &outcome.text(), now, &policy, up);
                record_run(e, outcome, latency);
                let interval = e.interval(tr.next);
                self.history_result(target, &tr, was, now);
                self.send(target, &tr.notify, now);
                self.after_result(target, &tr, was, now);
                let _ = self.persist(target, Durability::Batched);
                interval
            }
        }
    }

    /// Hands the result of a check that just ended to the forwarding sinks: a
    /// service's own state, or the host state the check made (`host_state`).
    fn forward_result(&mut self, target: Target, host_state: Option<HostState>, outcome: &Outcome) {
        if self.forward.is_empty() {
            return;
        }
        let result = match target {
            Target::Host(i) => crate::forward::Passive::new(
                &self.config.hosts[i].name,
                None,
                crate::forward::host_code(host_state.unwrap_or(HostState::Up)),
                outcome,
            ),
            Target::Service(i) => {
                let s = &self.config.services[i];
                crate::forward::Passive::new(
                    &s.host,
                    Some(&s.name),
                    outcome.state().exit_code(),
                    outcome,
                )
            }
        };
        self.forward.submit(&result);
    }

    /// Starts and ends downtimes; sends their notifications; journals the records they
    /// changed; updates the retention self-check.
    pub fn tick(&mut self, now: Time) {
        let targets = (0..self.hosts.len())
            .map(Target::Host)
            .chain((0..self.services.len()).map(Target::Service));
        for target in targets {
            let ticked = match target {
                Target::Host(i) if !self.hosts[i].record.downtimes.is_empty() => {
                    let policy = self.policy(target, now);
                    self.hosts[i].tick(now, &policy)
                }
                Target::Service(i) if !self.services[i].record.downtimes.is_empty() => {
                    let policy = self.policy(target, now);
                    self.services[i].tick(now, &policy)
                }
                _ => None,
            };
            if let Some((notify, changed)) = ticked {
                self.log_downtime(target, false, now);
                let gate = self.history_downtimes(target, now);
                self.send_after(gate, target, &notify, now);
                if changed {
                    let _ = self.persist(target, Durability::Batched);
                }
            }
        }
        self.expire_acks(now);
        self.check_freshness(now);
        self.refresh_retention_check(now);
        self.refresh_history_check();
    }

    /// Acknowledges a problem; confirmed once the returned [`Saving`] is waited for.
    pub fn acknowledge(&mut self, key: &str, ack: Ack) -> Result<Saving, String> {
        let target = self
            .find(key)
            .ok_or_else(|| format!("no host or service '{key}'"))?;
        let now = ack.time;
        let policy = self.policy(target, now);
        let n = match target {
            Target::Host(i) => self.hosts[i].record.acknowledge(ack, &policy)?,
            Target::Service(i) => self.services[i].record.acknowledge(ack, &policy)?,
        };
        let gate = self.history_ack(target, now);
        self.send_after(gate, target, &n, now);
        Ok(self.persist(target, Durability::Sync))
    }

    /// Schedules a downtime; returns its id (confirmed once the [`Saving`] is waited
    /// for).
    pub fn schedule_downtime(
        &mut self,
        key: &str,
        start: Time,
        end: Time,
        author: String,
        comment: String,
    ) -> Result<(u64, Saving), String> {
        let target = self
            .find(key)
            .ok_or_else(|| format!("no host or service '{key}'"))?;
        if end <= start {
            return Err("downtime ends before it starts".into());
        }
        let id = self.next_downtime_id;
        self.next_downtime_id += 1;
        let d = Downtime {
            id,
            start,
            end,
            author,
            comment,
            started: false,
        };
        match target {
            Target::Host(i) => self.hosts[i].record.add_downtime(d),
            Target::Service(i) => self.services[i].record.add_downtime(d),
        }
        self.history_downtime_scheduled(target, id, unix_now());
        self.tick(unix_now());
        Ok((id, self.persist(target, Durability::Sync)))
    }

    /// Deletes a downtime by id wherever it is (confirmed once the [`Saving`] is
    /// waited for; a failure to save is logged and raises the retention self-check).
    pub fn cancel_downtime(&mut self, id: u64) -> Result<Saving, String> {
        self.cancel_downtime_by(id, None)
    }

    /// [`Core::cancel_downtime`] asked for by `author` (recorded in the history).
    pub fn cancel_downtime_by(&mut self, id: u64, author: Option<&str>) -> Result<Saving, String> {
        let target = if let Some(i) = self
            .hosts
            .iter_mut()
            .position(|e| e.record.cancel_downtime(id))
        {
            Target::Host(i)
        } else if let Some(i) = self
            .services
            .iter_mut()
            .position(|e| e.record.cancel_downtime(id))
        {
            Target::Service(i)
        } else {
            return Err(format!("no downtime {id}"));
        };
        self.log_downtime(target, true, unix_now());
        self.history_downtime_cancelled(target, id, author, unix_now());
        Ok(self.persist(target, Durability::Sync))
    }

    /// Saves the record of `target` after a change: appends it to the state journal.
    /// `Durability::Sync` (every admin action: ack, unack, downtimes, comments, ...)
    /// gives a [`Saving`] to wait for once the core lock is released and before
    /// answering, returning its error (the change is in effect but not saved);
    /// `Durability::Batched` (check results, downtimes starting and ending): the line
    /// is on disk within 100 ms. A change of `next_downtime_id` is journaled with it.
    /// Without a journal (tests, tools) it does nothing.
    pub fn persist(&mut self, target: Target, durability: Durability) -> Saving {
        let Some(j) = self.journal.as_mut() else {
            return self.history_durable(Saving::done(Ok(())), durability);
        };
        j.note_downtime_id(self.next_downtime_id);
        let saving = match target {
            Target::Host(i) => {
                let e = &self.hosts[i];
                j.host(&e.key, &e.record, durability)
            }
            Target::Service(i) => {
                let e = &self.services[i];
                j.service(&e.key, &e.record, durability)
            }
        };
        self.history_durable(saving, durability)
    }

    /// Starts a compaction of the state journal when one is due (or `force`); write
    /// its records with [`Core::write_records`], off the lock but for each chunk.
    pub fn begin_compaction(&mut self, force: bool) -> Option<crate::journal::Compaction> {
        let j = self.journal.as_ref()?;
        if j.compacting() || !(force || j.wants_compaction()) {
            return None;
        }
        let head = retention::Head {
            saved_at: unix_now(),
            next_downtime_id: self.next_downtime_id,
            ..retention::Head::default()
        };
        self.journal.as_mut()?.begin_compaction(head)
    }

    /// Serializes up to `n` records into a snapshot being written, from position `from`
    /// (hosts, then services); returns the next position, `None` once all are in.
    pub fn write_records(
        &self,
        w: &mut retention::SnapshotWriter<'_>,
        from: usize,
        n: usize,
    ) -> std::io::Result<Option<usize>> {
        let (nh, total) = (self.hosts.len(), self.hosts.len() + self.services.len());
        let end = (from + n).min(total);
        for i in from..end {
            if i < nh {
                let e = &self.hosts[i];
                w.host(&e.key, &e.record)?;
            } else {
                let e = &self.services[i - nh];
                w.service(&e.key, &e.record)?;
            }
        }
        Ok((end < total).then_some(end))
    }

    /// Sets a self-check of the daemon: the service `hcoop-monitor/SERVICE`, created on
    /// first use (host `hcoop-monitor` too), never scheduled, kept across reloads and
    /// restarts, shown, counted and notified like any service (one attempt makes it
    /// HARD). Applies a result only when the state or output changed.
    pub fn set_self_check(&mut self, service: &str, state: State, output: &str) {
        let i = match self.self_check(service) {
            Some(i) => i,
            None => self.add_self_check(service, Record::default()),
        };
        let now = unix_now();
        let policy = self.policy(Target::Service(i), now);
        let e = &mut self.services[i];
        if e.record.checked && e.record.state == state && e.record.output == output {
            return;
        }
        let tr = e.record.apply(state, output, now, &policy, true);
        self.send(Target::Service(i), &tr.notify, now);
        let _ = self.persist(Target::Service(i), Durability::Batched);
    }

    /// The index of a self-check's entry (they are at the end of the list).
    fn self_check(&self, service: &str) -> Option<usize> {
        self.services.iter().rposition(|e| {
            e.key
                .strip_prefix(SELF_HOST)
                .and_then(|k| k.strip_prefix('/'))
                == Some(service)
        })
    }

    /// Adds the entry of a self-check (and of its host when needed); returns its index.
    fn add_self_check(&mut self, service: &str, record: Record<State>) -> usize {
        let mut schedule = self
            .config
            .hosts
            .first()
            .map(|h| (*h.schedule).clone())
            .unwrap_or_else(|| Schedule {
                check_interval: Duration::from_secs(60),
                retry_interval: Duration::from_secs(60),
                max_check_attempts: 1,
                timeout: Duration::from_secs(10),
                notification_interval: Duration::from_secs(0),
                first_notification_delay: Duration::from_secs(0),
                contacts: self
                    .config
                    .contacts
                    .iter()
                    .map(|c| c.name.clone())
                    .collect(),
                contact_groups: Vec::new(),
                notifications_enabled: true,
                flap_detection: false,
                low_flap_threshold: 5.0,
                high_flap_threshold: 20.0,
                check_period: crate::config::ALL_THE_TIME.into(),
                notification_period: crate::config::ALL_THE_TIME.into(),
                event_handler: None,
                event_handler_enabled: false,
                active_checks_enabled: true,
                passive_checks_enabled: false,
                check_freshness: false,
                freshness_threshold: None,
                freshness_state: State::Critical,
            });
        schedule.max_check_attempts = 1;
        schedule.flap_detection = false;
        // set by the daemon alone
        (schedule.passive_checks_enabled, schedule.check_freshness) = (false, false);
        let schedule = Arc::new(schedule);
        let host = match self.hosts.iter().position(|h| h.key == SELF_HOST) {
            Some(h) => h,
            None => {
                self.config.hosts.push(crate::config::Host {
                    name: SELF_HOST.into(),
                    address: "127.0.0.1".into(),
                    parents: Vec::new(),
                    check: None,
                    schedule: schedule.clone(),
                });
                let record = Record {
                    checked: true,
                    output: "HCOOP-MONITOR UP - the monitoring daemon itself\n".into(),
                    ..Record::default()
                };
                self.hosts.push(Entry {
                    key: SELF_HOST.into(),
                    host: self.hosts.len(),
                    record,
                    runnable: None,
                    schedule: schedule.clone(),
                    perfdata: Vec::new(),
                    execution_time: 0.0,
                    latency: 0.0,
                });
                self.hosts.len() - 1
            }
        };
        self.config.services.push(crate::config::Service {
            host: SELF_HOST.into(),
            name: service.into(),
            check: Arc::new(CheckSpec::Builtin {
                name: "self-check".into(),
                args: Vec::new(),
            }),
            schedule: schedule.clone(),
        });
        self.services.push(Entry {
            key: format!("{SELF_HOST}/{service}"),
            host,
            record,
            runnable: None,
            schedule,
            perfdata: Vec::new(),
            execution_time: 0.0,
            latency: 0.0,
        });
        self.services.len() - 1
    }

    /// Sets the `hcoop-monitor/retention` self-check from the journal's health.
    fn refresh_retention_check(&mut self, now: Time) {
        let Some(j) = &self.journal else { return };
        let acknowledged = self
            .self_check(RETENTION_CHECK)
            .is_some_and(|i| self.services[i].record.acknowledged());
        let (state, output) = j.health(now, acknowledged);
        self.set_self_check(RETENTION_CHECK, state, &output);
    }

    /// Sends no more notifications (at stop: the notifier ends once its queue is empty).
    pub fn stop_notices(&mut self) {
        self.notices = mpsc::unbounded_channel().0;
    }

    /// The state rules' settings of one host or service at `now`: its schedule's, with
    /// notifications as switched at run time (else as configured) and held back outside
    /// its notification period as when they are disabled (none is sent, none counted),
    /// as Nagios 4 holds back every notification type there. Nagios does not queue what
    /// it held back: a problem still there is notified at the first check result inside
    /// the period (its next notification attempt); a recovery, a downtime or an
    /// acknowledgement outside the period is not notified at all.
    pub fn policy(&self, target: Target, now: Time) -> Policy {
        let (schedule, notifications) = match target {
            Target::Host(i) => (&self.hosts[i].schedule, self.hosts[i].record.notifications),
            Target::Service(i) => (
                &self.services[i].schedule,
                self.services[i].record.notifications,
            ),
        };
        let mut policy = schedule.policy();
        // switched on or off at run time (Nagios' ENABLE/DISABLE_SVC_NOTIFICATIONS)
        policy.notifications_enabled = notifications.unwrap_or(policy.notifications_enabled)
            && self
                .config
                .periods
                .contains(&schedule.notification_period, now);
        // escalated: the shortest interval of the escalations of the last notification
        if let Some(interval) = self.escalated_interval(target) {
            policy.notification_interval = interval;
        }
        // a failed notification dependency holds back problems and recoveries
        policy.normal_notifications_held = self
            .dependency_failure(target, Dependency::Notification, now)
            .is_some();
        policy
    }

    /// Why a check that is due at `now` is not run then (`None`: run it); the
    /// scheduler moves a held check to its next normal interval without running it.
    pub fn check_held(&self, target: Target, now: Time) -> Option<String> {
        let active_checks = match target {
            Target::Host(i) => self.hosts[i].record.active_checks,
            Target::Service(i) => self.services[i].record.active_checks,
        };
        if active_checks == Some(false) {
            return Some("active checks disabled".into());
        }
        // passive results only, unless switched on at run time
        if active_checks.is_none() && !self.object_schedule(target).active_checks_enabled {
            return Some("active checks disabled in the configuration".into());
        }
        // a failed execution dependency: the check is skipped, the state kept (Nagios'
        // service_skip_check_dependency_status of -1)
        if let Some(why) = self.dependency_failure(target, Dependency::Execution, now) {
            return Some(why);
        }
        None
    }

    /// Why a dependency of `kind` of `target` fails at `now` (`None`: none fails): its
    /// own dependencies, and for a service's notifications its host's host
    /// dependencies too (as Nagios' notification viability).
    pub fn dependency_failure(
        &self,
        target: Target,
        kind: Dependency,
        now: Time,
    ) -> Option<String> {
        let deps = &self.config.dependencies;
        let periods = &self.config.periods;
        let soft = self.config.daemon.soft_state_dependencies;
        let host = |h: usize| {
            let state = |m: usize| dependencies::observed(&self.hosts[m].record, soft);
            let f = deps.hosts.failure(kind, h, periods, now, state)?;
            let what = match target {
                Target::Host(_) => "",
                Target::Service(_) => "host ",
            };
            Some(f.describe(kind, what, |m| self.hosts[m].key.as_str()))
        };
        match target {
            Target::Host(h) => host(h),
            Target::Service(s) => {
                let state = |m: usize| dependencies::observed(&self.services[m].record, soft);
                match deps.services.failure(kind, s, periods, now, state) {
                    Some(f) => Some(f.describe(kind, "", |m| self.services[m].key.as_str())),
                    None if kind == Dependency::Notification => host(self.services[s].host),
                    None => None,
                }
            }
        }
    }

    /// The contacts one notification of `kind` about `target` goes to: those of the
    /// object that want it (`option`: the letter of its contact options) and are in
    /// their own notification period at `now` (as Nagios, a contact outside it is
    /// passed over for this notification, not notified later).
    pub fn recipients(
        &self,
        target: Target,
        kind: NotificationType,
        option: Option<char>,
        now: Time,
    ) -> Vec<Contact> {
        // escalated: the escalations' contacts instead of the object's own (Nagios)
        if let Some(contacts) = self.escalated_recipients(target, kind, option, now) {
            return contacts;
        }
        let (schedule, is_service) = match target {
            Target::Host(i) => (&self.hosts[i].schedule, false),
            Target::Service(i) => (&self.services[i].schedule, true),
        };
        // its contacts, then its contact groups' members, each once
        self.contact_names(schedule)
            .into_iter()
            .filter_map(|n| self.config.contacts.iter().find(|c| c.name == n))
            .filter(|c| {
                c.wants(is_service, option)
                    && self.config.periods.contains(c.period(is_service), now)
            })
            .cloned()
            .collect()
    }

    /// Hands notifications to the notifier, with their recipients.
    pub(crate) fn send(&self, target: Target, types: &[NotificationType], now: Time) {
        for &t in types {
            let (host, service, state, output, number, option) = match target {
                Target::Host(i) => {
                    let r = &self.hosts[i].record;
                    (
                        &self.config.hosts[i],
                        None,
                        r.state.name(),
                        &r.output,
                        r.number_of(t),
                        t.option(r.state),
                    )
                }
                Target::Service(i) => {
                    let e = &self.services[i];
                    let r = &e.record;
                    (
                        &self.config.hosts[e.host],
                        Some(self.config.services[i].name.clone()),
                        r.state.name(),
                        &r.output,
                        r.number_of(t),
                        t.option(r.state),
                    )
                }
            };
            let contacts = self.recipients(target, t, option, now);
            self.log_notification(target, t, &contacts, now);
            let notice = Notice {
                kind: t,
                host: host.name.clone(),
                address: host.address.clone(),
                service,
                state: state.to_string(),
                output: output.clone(),
                number,
                time: unix_now(),
                contacts,
                escalated: self.escalated_contacts(target, t, now).is_some(),
                history: crate::recording::Delivery {
                    history: self.history.clone(),
                    after: self.history_feed.gate.clone(),
                },
            };
            tracing::info!(
                "notification {} {} {}: {}",
                notice.kind.as_str(),
                notice.subject_name(),
                notice.state,
                notice.output.lines().next().unwrap_or("")
            );
            let _ = self.notices.send(notice);
        }
    }
}

fn record_run<C>(e: &mut Entry<C>, outcome: &Outcome, latency: f64) {
    e.perfdata = outcome.perfdata().to_vec();
    e.execution_time = outcome.duration.as_secs_f64();
    e.latency = latency;
}

/// The daemon's shared handle.
pub type Shared = Arc<Mutex<Core>>;

/// Compacts the state journal when it is due (or `force`), on a blocking thread the
/// loop does not wait for: the records are serialized into the new snapshot under the
/// lock a chunk at a time, each chunk written out off the lock.
pub(crate) fn compact(shared: &Shared, force: bool) -> Option<tokio::task::JoinHandle<()>> {
    let (job, mut build) = {
        let mut core = shared.lock().expect("core lock");
        (core.begin_compaction(force)?, core.build_id)
    };
    let shared = shared.clone();
    Some(tokio::task::spawn_blocking(move || {
        let mut pos = 0;
        // a failure is counted, logged and shown by the retention self-check
        let _ = job.run(|w| {
            let core = shared.lock().expect("core lock");
            if core.build_id != build {
                // reloaded meanwhile: the new Core's records, from the start
                (build, pos) = (core.build_id, 0);
                w.restart()?;
            }
            Ok(match core.write_records(w, pos, COPY_CHUNK)? {
                Some(p) => {
                    pos = p;
                    false
                }
                None => true,
            })
        });
    }))
}

/// At shutdown: waits for a running compaction, then compacts once more.
pub(crate) async fn compact_at_stop(shared: &Shared) {
    for _ in 0..300 {
        let busy = shared
            .lock()
            .expect("core lock")
            .journal
            .as_ref()
            .is_some_and(Journal::compacting);
        if !busy {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if let Some(h) = compact(shared, true) {
        let _ = h.await;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::registry::fake;
    use crate::state::StateType;
    use std::time::SystemTime;

    fn config(services: &[&str]) -> Config {
        let mut text = String::from(
            "[defaults]\nmax_check_attempts = 2\n\n[[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n",
        );
        for s in services {
            text.push_str(&format!(
                "\n[[service]]\nhost = \"h\"\nname = \"{s}\"\ncheck = \"{}\"\nargs = [\"{s}\"]\n",
                fake::NAME
            ));
        }
        Config::from_files(vec![(None, text)]).unwrap()
    }

    fn core(
        c: Config,
        old: (
            HashMap<String, Record<HostState>>,
            HashMap<String, Record<State>>,
        ),
    ) -> Core {
        let (notices, _) = mpsc::unbounded_channel();
        Core::build(c, Limits::default(), notices, old.0, old.1)
    }

    fn critical() -> Outcome {
        Outcome::printed(
            State::Critical,
            "X CRITICAL - down\n",
            SystemTime::now(),
            Duration::ZERO,
        )
    }

    /// Wednesday 2023-11-15 00:00 UTC, and the hour.
    const WED: Time = 1_700_006_400;
    const HOUR: Time = 3_600;

    /// A core of service `h/s` (one attempt makes it hard, notified every hour) with
    /// its extra settings `service`, contacts `day` (business hours) and `any`, the
    /// time periods in UTC; and the notices it sends.
    fn notifying(service: &str) -> (Core, mpsc::UnboundedReceiver<Notice>) {
        let text = format!(
            "[defaults]\nmax_check_attempts = 1\nnotification_interval = \"1h\"\n\
             contacts = [\"day\", \"any\"]\n\n\
             [[timeperiod]]\nname = \"business\"\n\
             rules = [\"monday 09:00-17:00\", \"tuesday 09:00-17:00\", \"wednesday 09:00-17:00\"]\n\n\
             [[contact]]\nname = \"day\"\ncommand = \"/bin/true\"\nnotification_period = \"business\"\n\n\
             [[contact]]\nname = \"any\"\ncommand = \"/bin/true\"\n\n\
             [[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n\n\
             [[service]]\nhost = \"h\"\nname = \"s\"\ncheck = \"{}\"\nargs = [\"s\"]\n{service}\n",
            fake::NAME
        );
        utc_core(text)
    }

    /// A core of the configuration `text`, its time periods answering in UTC; and the
    /// notices it sends. (The other modules' core tests build theirs with it too.)
    pub(crate) fn utc_core(text: String) -> (Core, mpsc::UnboundedReceiver<Notice>) {
        let mut c = Config::from_files(vec![(None, text)]).unwrap_or_else(|e| panic!("{e}"));
        c.periods = c.periods.in_zone(crate::timeperiod::Zone::Offset(0));
        let (notices, rx) = mpsc::unbounded_channel();
        let core = Core::build(
            c,
            Limits::default(),
            notices,
            HashMap::new(),
            HashMap::new(),
        );
        (core, rx)
    }

    /// The notices sent so far: (type, state, contacts).
    fn sent(rx: &mut mpsc::UnboundedReceiver<Notice>) -> Vec<(&'static str, String, Vec<String>)> {
        std::iter::from_fn(|| rx.try_recv().ok())
            .map(|n| {
                let who = n.contacts.iter().map(|c| c.name.clone()).collect();
                (n.kind.as_str(), n.state, who)
            })
            .collect()
    }

    fn ok() -> Outcome {
        Outcome::printed(State::Ok, "X OK - up\n", SystemTime::now(), Duration::ZERO)
    }

    #[test]
    fn a_notification_outside_the_notification_period_is_held_until_a_check_inside_it() {
        let (mut c, mut rx) = notifying("notification_period = \"business\"");
        let s = c.find("h/s").unwrap();
        // a hard problem at 02:00 and its checks until 08:59: nothing sent or counted
        for t in [2 * HOUR, 5 * HOUR, 9 * HOUR - 60] {
            c.apply(s, &critical(), 0.0, WED + t);
            assert_eq!(sent(&mut rx), vec![], "at {t}");
            assert_eq!(c.services[0].record.notification_number, 0);
        }
        // the first check inside the period notifies (Nagios' next attempt)
        c.apply(s, &critical(), 0.0, WED + 9 * HOUR);
        let who = vec!["day".to_string(), "any".to_string()];
        assert_eq!(
            sent(&mut rx),
            vec![("PROBLEM", "CRITICAL".into(), who.clone())]
        );
        assert_eq!(c.services[0].record.notification_number, 1);
        // re-notified an hour later, inside the period
        c.apply(s, &critical(), 0.0, WED + 10 * HOUR);
        assert_eq!(sent(&mut rx), vec![("PROBLEM", "CRITICAL".into(), who)]);
        // a recovery after 17:00 is not sent, and not later either
        c.apply(s, &ok(), 0.0, WED + 18 * HOUR);
        assert_eq!(sent(&mut rx), vec![]);
        assert_eq!(c.services[0].record.notification_number, 0);
        c.apply(s, &ok(), 0.0, WED + 33 * HOUR);
        assert_eq!(sent(&mut rx), vec![]);
    }

    #[test]
    fn a_contact_outside_its_notification_period_is_passed_over() {
        let (mut c, mut rx) = notifying("");
        let s = c.find("h/s").unwrap();
        // at night only the contact of every hour is notified
        c.apply(s, &critical(), 0.0, WED + 3 * HOUR);
        assert_eq!(
            sent(&mut rx),
            vec![("PROBLEM", "CRITICAL".into(), vec!["any".to_string()])]
        );
        // and not the other one later: by day both, at the next notification
        c.apply(s, &critical(), 0.0, WED + 3 * HOUR + 60);
        assert_eq!(sent(&mut rx), vec![]);
        c.apply(s, &critical(), 0.0, WED + 9 * HOUR);
        assert_eq!(
            sent(&mut rx),
            vec![(
                "PROBLEM",
                "CRITICAL".into(),
                vec!["day".to_string(), "any".to_string()]
            )]
        );
        // the service's own period is 24x7: a recovery at night goes to `any`
        c.apply(s, &ok(), 0.0, WED + 20 * HOUR);
        assert_eq!(
            sent(&mut rx),
            vec![("RECOVERY", "OK".into(), vec!["any".to_string()])]
        );
    }

    #[test]
    fn a_host_without_a_check_is_up_and_services_find_their_host() {
        let c = core(config(&["a", "b"]), Default::default());
        assert_eq!(c.counts(), (1, 2));
        let h = &c.hosts[0];
        assert!(h.record.checked && h.runnable.is_none());
        assert_eq!(
            (h.record.state, h.record.output.as_str()),
            (HostState::Up, NO_HOST_CHECK)
        );
        assert_eq!(c.find("h"), Some(Target::Host(0)));
        assert_eq!(c.find("h/b"), Some(Target::Service(1)));
        assert_eq!(c.find("h/c"), None);
        assert!(c
            .services
            .iter()
            .all(|e| e.host == 0 && matches!(e.runnable, Some(Ok(_)))));
    }

    #[test]
    fn results_make_soft_then_hard_states_and_a_rebuild_keeps_them() {
        let mut c = core(config(&["a", "b"]), Default::default());
        let a = c.find("h/a").unwrap();
        let interval = c.apply(a, &critical(), 0.5, 1_000);
        assert_eq!(interval, c.services[0].schedule.retry_interval);
        assert_eq!(c.services[0].record.state_type, StateType::Soft);
        let interval = c.apply(a, &critical(), 0.0, 1_010);
        assert_eq!(interval, c.services[0].schedule.check_interval);
        let r = &c.services[0].record;
        assert_eq!(
            (r.state, r.state_type, r.last_check),
            (State::Critical, StateType::Hard, 1_010)
        );
        assert_eq!(c.checks_run, 2);
        c.set_self_check(
            RETENTION_CHECK,
            State::Warning,
            "RETENTION WARNING - slow\n",
        );
        // b goes, c comes; a keeps its state, and the daemon's own check is kept
        let c2 = core(config(&["a", "c"]), c.records());
        assert_eq!(c2.counts(), (1, 2));
        let r = &c2.services[0].record;
        assert_eq!(
            (r.state, r.state_type, r.last_check),
            (State::Critical, StateType::Hard, 1_010)
        );
        assert!(!c2.services[1].record.checked);
        let own = c2.find(&format!("{SELF_HOST}/{RETENTION_CHECK}")).unwrap();
        let Target::Service(i) = own else {
            panic!("{own:?}")
        };
        assert_eq!(c2.services[i].record.state, State::Warning);
        assert!(
            c2.services[i].runnable.is_none(),
            "self-checks are set, never run"
        );
    }

    #[test]
    fn each_distinct_check_is_built_once_and_shared() {
        // two services with the same arguments, one with its own
        let mut text = String::from("[[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n");
        for (name, key) in [("a", "built-once"), ("b", "built-once"), ("c", "built-own")] {
            text.push_str(&format!(
                "\n[[service]]\nhost = \"h\"\nname = \"{name}\"\ncheck = \"{}\"\nargs = [\"{key}\"]\n",
                fake::NAME
            ));
        }
        let c = Config::from_files(vec![(None, text)]).unwrap();
        let (a, b, own) = (&c.services[0], &c.services[1], &c.services[2]);
        assert!(Arc::ptr_eq(&a.check, &b.check) && !Arc::ptr_eq(&a.check, &own.check));
        assert!(Arc::ptr_eq(&a.schedule, &own.schedule));
        // validation built each distinct check once; the daemon runs those
        let c = core(c, Default::default());
        assert_eq!(
            (fake::builds("built-once"), fake::builds("built-own")),
            (1, 1)
        );
        let runnable = |i: usize| c.services[i].runnable.clone().unwrap().unwrap();
        assert!(Arc::ptr_eq(&runnable(0), &runnable(1)));
        assert!(Arc::ptr_eq(
            &c.services[0].schedule,
            &c.config.services[0].schedule
        ));
    }

    #[test]
    fn an_admin_change_is_saved_off_the_lock_and_on_disk_once_confirmed() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let state = t.path().join("state.json");
        let mut c = core(config(&["saved-off-lock"]), Default::default());
        c.journal = Some(crate::journal::open(&state, 1).0);
        let a = c.find("h/saved-off-lock").unwrap();
        c.apply(a, &critical(), 0.0, 1_000);
        let shared: Shared = Arc::new(Mutex::new(c));
        let ack = Ack {
            author: "a".into(),
            comment: "on it".into(),
            sticky: false,
            time: 1_001,
            expires: None,
        };
        let saving = shared
            .lock()
            .unwrap()
            .acknowledge("h/saved-off-lock", ack.clone())
            .unwrap();
        // the core is free while the change waits for the disk
        assert!(shared.try_lock().is_ok());
        saving.wait().unwrap();
        // confirmed: on disk
        let dir = retention::StateDir::open(&state).unwrap();
        let l = retention::load(&dir, 0, false);
        assert_eq!(l.saved.services["h/saved-off-lock"].ack, Some(ack));
    }

    #[test]
    fn a_check_that_cannot_be_built_is_an_error_of_its_entry() {
        let mut c = config(&["a"]);
        c.services[0].check = Arc::new(CheckSpec::Builtin {
            name: fake::NAME.into(),
            args: Vec::new(),
        });
        let c = core(c, Default::default());
        assert_eq!(
            c.services[0]
                .runnable
                .as_ref()
                .map(|r| r.as_ref().err().cloned()),
            Some(Some("check_fake takes one key".to_string()))
        );
    }
}

#[cfg(test)]
mod dependency_tests;
