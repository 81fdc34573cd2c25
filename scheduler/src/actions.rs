//! Admin actions on several objects at once (one object, a host with its services, a
//! host or service group): switching active checks and notifications on and off at
//! run time, asking for checks to run now, acknowledging and scheduling downtimes.
//!
//! The run-time switches are kept in each object's record (`active_checks`,
//! `notifications`: `None` while the object does as configured), journaled and
//! confirmed as acknowledgements are, so they last across restarts as Nagios retains
//! them. A group action checks everything that can fail first and then changes every
//! object: it is refused as a whole or applied as a whole.

use crate::daemon::{Core, Target};
use crate::journal::{Durability, Saving};
use crate::state::{Ack, Condition, Downtime, Record, Time};

/// A group action answers at most this many objects by name (the rest are counted).
pub const MAX_LISTED: usize = 1000;

/// Whether active checks run by the configuration: those of an object with a check
/// do (a passive-only object has none to run).
const CHECKS_CONFIGURED: bool = true;

impl Core {
    /// The run-time switches of a host or a service: (active checks, notifications).
    fn switches(&self, target: Target) -> (Option<bool>, Option<bool>) {
        let of = |a: Option<bool>, n: Option<bool>| (a, n);
        match target {
            Target::Host(i) => self
                .hosts
                .get(i)
                .map(|e| &e.record)
                .map_or((None, None), |r| of(r.active_checks, r.notifications)),
            Target::Service(i) => self
                .services
                .get(i)
                .map(|e| &e.record)
                .map_or((None, None), |r| of(r.active_checks, r.notifications)),
        }
    }

    /// Whether the active checks of `target` run when due (unless switched off at run
    /// time).
    pub fn checks_enabled(&self, target: Target) -> bool {
        self.switches(target).0.unwrap_or(CHECKS_CONFIGURED)
    }

    /// Whether `target` sends notifications (the configuration's setting unless
    /// switched at run time; its notification period aside).
    pub fn notifications_enabled(&self, target: Target) -> bool {
        let configured = self
            .schedule_of(target)
            .is_none_or(|s| s.notifications_enabled);
        self.switches(target).1.unwrap_or(configured)
    }

    fn schedule_of(&self, target: Target) -> Option<&crate::config::Schedule> {
        match target {
            Target::Host(i) => self.hosts.get(i).map(|e| &*e.schedule),
            Target::Service(i) => self.services.get(i).map(|e| &*e.schedule),
        }
    }

    /// Switches the active checks of `targets` on or off (Nagios' ENABLE_SVC_CHECK,
    /// DISABLE_SVC_CHECK and their host forms): a disabled check is not run when due
    /// ([`Core::check_held`]) until enabled again or forced ([`Core::request_check`]).
    /// Confirmed once the returned [`Saving`] is waited for.
    pub fn set_checks_enabled(&mut self, targets: &[Target], enabled: bool) -> Saving {
        for &t in targets {
            let value = (enabled != CHECKS_CONFIGURED).then_some(enabled);
            self.change(t, |r| r.active_checks = value, |r| r.active_checks = value);
        }
        self.persist_all(targets)
    }

    /// Switches the notifications of `targets` on or off (Nagios'
    /// ENABLE_SVC_NOTIFICATIONS, DISABLE_SVC_NOTIFICATIONS and their host forms): while
    /// off, notifications are held back as outside the notification period (a problem
    /// still there is notified at its first check once they are on again).
    /// Confirmed once the returned [`Saving`] is waited for.
    pub fn set_notifications_enabled(&mut self, targets: &[Target], enabled: bool) -> Saving {
        for &t in targets {
            let configured = self.schedule_of(t).is_none_or(|s| s.notifications_enabled);
            let value = (enabled != configured).then_some(enabled);
            self.change(t, |r| r.notifications = value, |r| r.notifications = value);
        }
        self.persist_all(targets)
    }

    /// Asks for the checks of `targets` to run at once (Nagios'
    /// SCHEDULE_FORCED_SVC_CHECK): the scheduler loop runs each as soon as a slot is
    /// free, outside its check period and with its active checks disabled alike; a
    /// check running already is not started again, and an object without an active
    /// check is passed over. The next regular check follows one interval after it.
    pub fn request_check(&mut self, targets: &[Target]) {
        // bounded: the loop takes the queue within milliseconds; a flood of asks while
        // it is busy keeps one of each object at most
        self.requested.extend_from_slice(targets);
        if self.requested.len() > self.hosts.len() + self.services.len() {
            self.requested.sort_unstable();
            self.requested.dedup();
        }
        self.wake.notify_one();
    }

    /// Whether `target` has an active check the scheduler runs.
    pub fn has_active_check(&self, target: Target) -> bool {
        match target {
            Target::Host(i) => self.hosts.get(i).is_some_and(|e| e.runnable.is_some()),
            Target::Service(i) => self.services.get(i).is_some_and(|e| e.runnable.is_some()),
        }
    }

    /// Acknowledges the problems among `targets` (the members in a good state are
    /// passed over: a group holds some); returns those acknowledged. Refused as a
    /// whole when none has a problem (one object: as [`Core::acknowledge`]).
    /// Confirmed once the [`Saving`] is waited for.
    pub fn acknowledge_targets(
        &mut self,
        targets: &[Target],
        ack: Ack,
    ) -> Result<(Vec<Target>, Saving), String> {
        let problems: Vec<Target> = targets
            .iter()
            .copied()
            .filter(|&t| self.in_problem(t))
            .collect();
        if problems.is_empty() {
            return Err(match targets {
                [one] => {
                    let (key, state) = self.key_and_state(*one);
                    format!("{key}: state is {state}: nothing to acknowledge")
                }
                [] => "no host or service selected".into(),
                _ => format!(
                    "none of the {} selected has a problem to acknowledge",
                    targets.len()
                ),
            });
        }
        let now = ack.time;
        for &t in &problems {
            let policy = self.policy(t, now);
            let notify = match t {
                Target::Host(i) => self.hosts[i].record.acknowledge(ack.clone(), &policy),
                Target::Service(i) => self.services[i].record.acknowledge(ack.clone(), &policy),
            }
            .unwrap_or_default();
            self.send(t, &notify, now);
        }
        let saving = self.persist_all(&problems);
        Ok((problems, saving))
    }

    /// Schedules one downtime from `start` to `end` on each of `targets`; returns
    /// their ids (one sequence with comments), in the order of `targets`. Refused as a
    /// whole when it would pass `max_downtimes`. Confirmed once the [`Saving`] is
    /// waited for.
    pub fn schedule_downtime_targets(
        &mut self,
        targets: &[Target],
        start: Time,
        end: Time,
        author: String,
        comment: String,
    ) -> Result<(Vec<u64>, Saving), String> {
        if targets.is_empty() {
            return Err("no host or service selected".into());
        }
        if end <= start {
            return Err("downtime ends before it starts".into());
        }
        let max = self.config.daemon.max_downtimes;
        let have = self.downtimes().len();
        if have + targets.len() > max {
            return Err(format!(
                "{} more downtimes would make {}, more than the most allowed, {max} (max_downtimes)",
                targets.len(),
                have + targets.len()
            ));
        }
        let mut ids = Vec::with_capacity(targets.len());
        for &t in targets {
            let id = self.next_downtime_id;
            self.next_downtime_id += 1;
            let d = Downtime {
                id,
                start,
                end,
                author: author.clone(),
                comment: comment.clone(),
                started: false,
            };
            self.change(
                t,
                |r| r.add_downtime(d.clone()),
                |r| r.add_downtime(d.clone()),
            );
            ids.push(id);
        }
        // starts those that start now (DOWNTIMESTART), once for all
        self.tick(crate::clock::unix_now());
        Ok((ids, self.persist_all(targets)))
    }

    /// The names of `targets` for an answer: at most [`MAX_LISTED`], then how many
    /// more.
    pub fn names(&self, targets: &[Target]) -> Vec<String> {
        let mut out: Vec<String> = targets
            .iter()
            .take(MAX_LISTED)
            .map(|&t| self.key_and_state(t).0)
            .collect();
        if targets.len() > MAX_LISTED {
            out.push(format!("... and {} more", targets.len() - MAX_LISTED));
        }
        out
    }

    fn key_and_state(&self, target: Target) -> (String, &'static str) {
        match target {
            Target::Host(i) => self.hosts.get(i).map_or((String::new(), ""), |e| {
                (e.key.clone(), e.record.state.name())
            }),
            Target::Service(i) => self.services.get(i).map_or((String::new(), ""), |e| {
                (e.key.clone(), e.record.state.name())
            }),
        }
    }

    fn in_problem(&self, target: Target) -> bool {
        match target {
            Target::Host(i) => self.hosts.get(i).is_some_and(|e| !e.record.state.is_good()),
            Target::Service(i) => self
                .services
                .get(i)
                .is_some_and(|e| !e.record.state.is_good()),
        }
    }

    /// Changes the record of a host (`host`) or a service (`service`).
    fn change(
        &mut self,
        target: Target,
        host: impl FnOnce(&mut Record<crate::state::HostState>),
        service: impl FnOnce(&mut Record<hcoop_plugins::plugin::State>),
    ) {
        match target {
            Target::Host(i) => {
                if let Some(e) = self.hosts.get_mut(i) {
                    host(&mut e.record)
                }
            }
            Target::Service(i) => {
                if let Some(e) = self.services.get_mut(i) {
                    service(&mut e.record)
                }
            }
        }
    }

    /// Journals the records of `targets`, confirmed together: every line but the last
    /// goes with the next group commit, the last one is fsynced, and the journal
    /// writes them in order.
    fn persist_all(&mut self, targets: &[Target]) -> Saving {
        let Some((&last, rest)) = targets.split_last() else {
            return Saving::done(Ok(()));
        };
        for &t in rest {
            let _ = self.persist(t, Durability::Batched);
        }
        self.persist(last, Durability::Sync)
    }
}
