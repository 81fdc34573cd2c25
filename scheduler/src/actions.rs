//! Admin actions on several objects at once (one object, a host with its services, a
//! host or service group): switching active checks and notifications on and off at
//! run time, asking for checks to run now, acknowledging and scheduling downtimes.
//!
//! The run-time switches are kept in each object's record (`active_checks`,
//! `notifications`: `None` while the object does as configured), journaled and
//! confirmed as acknowledgements are, so they last across restarts as Nagios retains
//! them. A group action checks everything that can fail first and then changes every
//! object: it is refused as a whole or applied as a whole.

use crate::admin::MAX_TARGET;
use crate::daemon::{Core, Target};
use crate::journal::{Durability, Saving};
use crate::select::Selector;
use crate::state::{Ack, Condition, Downtime, Record, Time};
use serde::{Deserialize, Serialize};

/// Whether the active checks of an object run by its configuration
/// (`active_checks_enabled`; a passive-only object has none to run).
fn checks_configured(core: &Core, target: Target) -> bool {
    core.schedule_of(target)
        .is_none_or(|s| s.active_checks_enabled)
}

/// The objects an admin request names: exactly one of `target` ("HOST",
/// "HOST/SERVICE", "HOST/*" for a host and its services), `hostgroup` and
/// `servicegroup`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Objects {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostgroup: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servicegroup: Option<String>,
}

impl Objects {
    /// One host, service or "HOST/*".
    pub fn target(target: &str) -> Objects {
        Objects {
            target: Some(target.to_string()),
            ..Objects::default()
        }
    }

    /// The selector of these objects; an error unless exactly one name is given,
    /// within [`MAX_TARGET`] bytes.
    pub fn selector(&self) -> Result<Selector, String> {
        let given = [&self.target, &self.hostgroup, &self.servicegroup];
        let name = match given.iter().filter(|n| n.is_some()).count() {
            1 => given.iter().find_map(|n| n.as_deref()).unwrap_or(""),
            0 => return Err("name the objects: one of target, hostgroup, servicegroup".into()),
            _ => {
                return Err(
                    "name the objects once: only one of target, hostgroup, servicegroup".into(),
                )
            }
        };
        if name.is_empty() {
            return Err("the name of the objects is empty".into());
        }
        if name.len() > MAX_TARGET {
            return Err(format!("the target name is longer than {MAX_TARGET} bytes"));
        }
        Ok(match (&self.hostgroup, &self.servicegroup) {
            (Some(g), _) => Selector::HostGroup(g.clone()),
            (_, Some(g)) => Selector::ServiceGroup(g.clone()),
            _ => Selector::parse(name),
        })
    }
}

impl std::fmt::Display for Objects {
    /// "h/s", "host group web", "service group mail".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.target, &self.hostgroup, &self.servicegroup) {
            (Some(t), _, _) => f.write_str(t),
            (_, Some(g), _) => write!(f, "host group {g}"),
            (_, _, Some(g)) => write!(f, "service group {g}"),
            _ => f.write_str("nothing"),
        }
    }
}

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
        self.switches(target)
            .0
            .unwrap_or(checks_configured(self, target))
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
    /// Confirmed once the returned [`Saving`] is waited for (only the records that
    /// changed are journaled).
    pub fn set_checks_enabled(&mut self, targets: &[Target], enabled: bool) -> Saving {
        let mut changed = Vec::new();
        for &t in targets {
            let value = (enabled != checks_configured(self, t)).then_some(enabled);
            if self.switches(t).0 != value {
                self.change(t, |r| r.active_checks = value, |r| r.active_checks = value);
                changed.push(t);
            }
        }
        self.persist_all(&changed)
    }

    /// Switches the notifications of `targets` on or off (Nagios'
    /// ENABLE_SVC_NOTIFICATIONS, DISABLE_SVC_NOTIFICATIONS and their host forms): while
    /// off, notifications are held back as outside the notification period (a problem
    /// still there is notified at its first check once they are on again).
    /// Confirmed once the returned [`Saving`] is waited for (only the records that
    /// changed are journaled).
    pub fn set_notifications_enabled(&mut self, targets: &[Target], enabled: bool) -> Saving {
        let mut changed = Vec::new();
        for &t in targets {
            let configured = self.schedule_of(t).is_none_or(|s| s.notifications_enabled);
            let value = (enabled != configured).then_some(enabled);
            if self.switches(t).1 != value {
                self.change(t, |r| r.notifications = value, |r| r.notifications = value);
                changed.push(t);
            }
        }
        self.persist_all(&changed)
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
        self.acknowledge_targets_notifying(targets, ack, true)
    }

    /// [`Core::acknowledge_targets`], the acknowledgement notified only when
    /// `notify_ack` (the notify flag of Nagios' ACKNOWLEDGE_*_PROBLEM).
    pub fn acknowledge_targets_notifying(
        &mut self,
        targets: &[Target],
        ack: Ack,
        notify_ack: bool,
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
            let mut policy = self.policy(t, now);
            policy.notifications_enabled &= notify_ack;
            let notify = match t {
                Target::Host(i) => self.hosts[i].record.acknowledge(ack.clone(), &policy),
                Target::Service(i) => self.services[i].record.acknowledge(ack.clone(), &policy),
            }
            .unwrap_or_default();
            let gate = self.history_ack(t, now);
            self.send_after(gate, t, &notify, now);
        }
        let saving = self.persist_all(&problems);
        Ok((problems, saving))
    }

    /// Removes the acknowledgements whose expiry time has come (Icinga 2's expiring
    /// acknowledgements; Nagios' never expire), each recorded in the history as removed
    /// by nobody; called by [`Core::tick`].
    pub fn expire_acks(&mut self, now: Time) {
        let expired = |ack: &Option<Ack>| {
            ack.as_ref()
                .and_then(|a| a.expires)
                .is_some_and(|at| at <= now)
        };
        let hosts = (0..self.hosts.len())
            .filter(|&i| expired(&self.hosts[i].record.ack))
            .map(Target::Host);
        let services = (0..self.services.len())
            .filter(|&i| expired(&self.services[i].record.ack))
            .map(Target::Service);
        let targets: Vec<Target> = hosts.chain(services).collect();
        for t in targets {
            match t {
                Target::Host(i) => self.hosts[i].record.ack = None,
                Target::Service(i) => self.services[i].record.ack = None,
            }
            tracing::info!("the acknowledgement of {} expired", self.names(&[t])[0]);
            self.history_ack_expired(t, now);
            let _ = self.persist(t, Durability::Batched);
        }
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
        self.room_for_downtime()?;
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
            self.history_downtime_scheduled(t, id, crate::clock::unix_now());
            ids.push(id);
        }
        // starts those that start now (DOWNTIMESTART), once for all
        self.tick(crate::clock::unix_now());
        Ok((ids, self.persist_all(targets)))
    }

    /// The names of `targets` ("HOST", "HOST/SERVICE"), for an answer.
    pub fn names(&self, targets: &[Target]) -> Vec<String> {
        targets.iter().map(|&t| self.key_and_state(t).0).collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::Outcome;
    use crate::notify::Notice;
    use crate::registry::fake;
    use crate::state::{HostState, StateType};
    use hcoop_plugins::plugin::State;
    use std::time::{Duration, SystemTime};
    use tokio::sync::mpsc;

    /// A core of host `h` with services `a`, `b` and `c` (one attempt makes a problem
    /// hard, notified every hour to contact `x`), `extra` added to the configuration;
    /// and the notices it sends.
    fn core(extra: &str) -> (Core, mpsc::UnboundedReceiver<Notice>) {
        let mut text = format!(
            "[defaults]\nmax_check_attempts = 1\nnotification_interval = \"1h\"\ncontacts = [\"x\"]\n\n\
             [[contact]]\nname = \"x\"\ncommand = \"/bin/true\"\n\n\
             [[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n{extra}\n"
        );
        for s in ["a", "b", "c"] {
            text.push_str(&format!(
                "\n[[service]]\nhost = \"h\"\nname = \"{s}\"\ncheck = \"{}\"\nargs = [\"actions-{s}\"]\n",
                fake::NAME
            ));
        }
        crate::daemon::tests::utc_core(text)
    }

    fn result(state: State) -> Outcome {
        let text = format!("X {} - said\n", state.as_str());
        Outcome::printed(state, &text, SystemTime::now(), Duration::ZERO)
    }

    /// The notices sent so far: (type, object, contacts).
    fn sent(rx: &mut mpsc::UnboundedReceiver<Notice>) -> Vec<(&'static str, String, usize)> {
        std::iter::from_fn(|| rx.try_recv().ok())
            .map(|n| (n.kind.as_str(), n.subject_name(), n.contacts.len()))
            .collect()
    }

    fn target(c: &Core, key: &str) -> Target {
        c.find(key).unwrap()
    }

    #[test]
    fn switched_off_checks_are_held_and_switched_on_run_again() {
        let (mut c, _rx) = core("");
        let a = target(&c, "h/a");
        let b = target(&c, "h/b");
        assert!(c.checks_enabled(a));
        assert_eq!(c.check_held(a, 1_000), None);
        c.set_checks_enabled(&[a, Target::Host(0)], false)
            .wait()
            .unwrap();
        assert!(!c.checks_enabled(a) && !c.checks_enabled(Target::Host(0)));
        assert!(c.checks_enabled(b));
        assert_eq!(
            c.check_held(a, 1_000).as_deref(),
            Some("active checks disabled")
        );
        assert_eq!(c.services[0].record.active_checks, Some(false));
        assert_eq!(c.hosts[0].record.active_checks, Some(false));
        // on again: as configured, nothing kept
        c.set_checks_enabled(&[a], true).wait().unwrap();
        assert_eq!(c.check_held(a, 1_000), None);
        assert_eq!(c.services[0].record.active_checks, None);
    }

    #[test]
    fn switches_are_journaled_when_they_change() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let state = t.path().join("state.json");
        let (mut c, _rx) = core("");
        c.journal = Some(crate::journal::open(&state, 1).0);
        let bytes = || -> u64 {
            std::fs::read_dir(t.path())
                .unwrap()
                .map(|f| f.unwrap().metadata().unwrap().len())
                .sum()
        };
        let all = c.select(&Selector::Host("h".into())).unwrap();
        c.set_checks_enabled(&all, false).wait().unwrap();
        let once = bytes();
        assert!(once > 0);
        // the same again: nothing to save
        c.set_checks_enabled(&all, false).wait().unwrap();
        c.set_notifications_enabled(&all, true).wait().unwrap();
        assert_eq!(bytes(), once);
        c.set_notifications_enabled(&all[1..2], false)
            .wait()
            .unwrap();
        assert!(bytes() > once);
        // what was saved is what a restart loads
        drop(c.journal.take());
        let dir = crate::retention::StateDir::open(&state).unwrap();
        let saved = crate::retention::load(&dir, 0, false).saved;
        assert_eq!(saved.hosts["h"].active_checks, Some(false));
        assert_eq!(saved.services["h/c"].active_checks, Some(false));
        assert_eq!(saved.services["h/a"].notifications, Some(false));
        assert_eq!(saved.services["h/b"].notifications, None);
    }

    #[test]
    fn switched_off_notifications_are_held_back_and_sent_once_on_again() {
        let (mut c, mut rx) = core("");
        let a = target(&c, "h/a");
        c.set_notifications_enabled(&[a], false).wait().unwrap();
        assert!(!c.notifications_enabled(a) && !c.policy(a, 1_000).notifications_enabled);
        // a hard problem: checked, not notified, not counted
        c.apply(a, &result(State::Critical), 0.0, 1_000);
        let r = &c.services[0].record;
        assert_eq!((r.state, r.state_type), (State::Critical, StateType::Hard));
        assert_eq!((r.notification_number, r.last_notification), (0, None));
        c.apply(a, &result(State::Critical), 0.0, 1_060);
        assert_eq!(sent(&mut rx), vec![]);
        // on again: the problem still there is notified at its next check
        c.set_notifications_enabled(&[a], true).wait().unwrap();
        assert_eq!(c.services[0].record.notifications, None);
        c.apply(a, &result(State::Critical), 0.0, 1_120);
        assert_eq!(sent(&mut rx), vec![("PROBLEM", "h/a".into(), 1)]);
        assert_eq!(c.services[0].record.notification_number, 1);
        // off: the recovery is not sent either
        c.set_notifications_enabled(&[a], false).wait().unwrap();
        c.apply(a, &result(State::Ok), 0.0, 1_180);
        assert_eq!(sent(&mut rx), vec![]);
    }

    #[test]
    fn notifications_off_in_the_configuration_are_switched_on_at_run_time() {
        let (mut c, mut rx) = core("notifications_enabled = false");
        let h = Target::Host(0);
        assert!(!c.notifications_enabled(h));
        c.set_notifications_enabled(&[h], true).wait().unwrap();
        assert_eq!(c.hosts[0].record.notifications, Some(true));
        assert!(c.policy(h, 1_000).notifications_enabled);
        c.set_notifications_enabled(&[h], false).wait().unwrap();
        assert_eq!(c.hosts[0].record.notifications, None);
        assert!(!c.policy(h, 1_000).notifications_enabled);
        assert_eq!(sent(&mut rx), vec![]);
    }

    #[test]
    fn a_group_acknowledgement_takes_the_problems_and_passes_over_the_rest() {
        let (mut c, mut rx) = core("");
        let (a, b, cc) = (target(&c, "h/a"), target(&c, "h/b"), target(&c, "h/c"));
        c.apply(a, &result(State::Critical), 0.0, 1_000);
        c.apply(b, &result(State::Ok), 0.0, 1_000);
        c.apply(cc, &result(State::Warning), 0.0, 1_000);
        sent(&mut rx);
        let all = c.select(&Selector::Host("h".into())).unwrap();
        assert_eq!(all, vec![Target::Host(0), a, b, cc]);
        let ack = Ack {
            author: "alice".into(),
            comment: "on it".into(),
            sticky: false,
            time: 1_010,
            expires: None,
        };
        let (done, saving) = c.acknowledge_targets(&all, ack.clone()).unwrap();
        saving.wait().unwrap();
        assert_eq!(done, vec![a, cc]);
        assert_eq!(c.names(&done), vec!["h/a", "h/c"]);
        assert_eq!(c.services[0].record.ack, Some(ack.clone()));
        assert_eq!(c.services[1].record.ack, None);
        assert_eq!(c.services[2].record.ack, Some(ack.clone()));
        assert_eq!(c.hosts[0].record.ack, None);
        assert_eq!(
            sent(&mut rx),
            vec![
                ("ACKNOWLEDGEMENT", "h/a".into(), 1),
                ("ACKNOWLEDGEMENT", "h/c".into(), 1)
            ]
        );
        // nothing to acknowledge: refused, nothing changed
        assert_eq!(
            c.acknowledge_targets(&[Target::Host(0), b], ack.clone())
                .unwrap_err(),
            "none of the 2 selected has a problem to acknowledge"
        );
        assert_eq!(
            c.acknowledge_targets(&[b], ack).unwrap_err(),
            "h/b: state is OK: nothing to acknowledge"
        );
        assert_eq!(c.hosts[0].record.state, HostState::Up);
    }

    #[test]
    fn a_group_downtime_is_refused_as_a_whole_past_max_downtimes() {
        let (mut c, _rx) = core("");
        c.config.daemon.max_downtimes = 5;
        let all = c.select(&Selector::Host("h".into())).unwrap();
        let now = crate::clock::unix_now();
        let (ids, saving) = c
            .schedule_downtime_targets(&all, now + 3600, now + 7200, "bob".into(), "swap".into())
            .unwrap();
        saving.wait().unwrap();
        assert_eq!(ids, vec![1, 2, 3, 4]);
        assert_eq!(c.hosts[0].record.downtimes[0].id, 1);
        assert_eq!(c.services[2].record.downtimes[0].id, 4);
        assert_eq!(c.downtimes().len(), 4);
        // two more would make six: none is added
        let e = c
            .schedule_downtime_targets(&all[..2], now, now + 60, "bob".into(), "x".into())
            .unwrap_err();
        assert_eq!(
            e,
            "2 more downtimes would make 6, more than the most allowed, 5 (max_downtimes)"
        );
        assert_eq!((c.downtimes().len(), c.next_downtime_id), (4, 5));
        assert!(c
            .schedule_downtime_targets(&all, now + 60, now, "bob".into(), "x".into())
            .is_err());
        // one more fits, and starts now
        let (ids, _) = c
            .schedule_downtime_targets(&all[1..2], now, now + 60, "bob".into(), "x".into())
            .unwrap();
        assert_eq!(ids, vec![5]);
        assert!(c.services[0].record.in_downtime(now));
        // full: one more is refused as the single downtime always was
        assert_eq!(
            c.schedule_downtime_targets(&all[..1], now, now + 60, "bob".into(), "x".into())
                .unwrap_err(),
            "there are 5 downtimes already, the most allowed (max_downtimes)"
        );
    }

    #[test]
    fn groups_are_switched_acknowledged_and_put_in_downtime_whole() {
        let groups = "\n[[hostgroup]]\nname = \"dbs\"\nmembers = [\"h\"]\n\n\
            [[servicegroup]]\nname = \"ab\"\nmembers = [\"h/a\", \"h/b\"]\n";
        let (mut c, mut rx) = core(groups);
        let (a, b, cc) = (target(&c, "h/a"), target(&c, "h/b"), target(&c, "h/c"));
        let ab = c.select(&Selector::ServiceGroup("ab".into())).unwrap();
        assert_eq!(ab, vec![a, b]);
        // a host group is its hosts (as Nagios' hostgroup commands)
        let dbs = c.select(&Selector::HostGroup("dbs".into())).unwrap();
        assert_eq!(dbs, vec![Target::Host(0)]);
        c.set_checks_enabled(&ab, false).wait().unwrap();
        assert!(!c.checks_enabled(a) && !c.checks_enabled(b) && c.checks_enabled(cc));
        c.set_notifications_enabled(&dbs, false).wait().unwrap();
        assert!(!c.notifications_enabled(Target::Host(0)) && c.notifications_enabled(a));
        for t in [a, b, cc] {
            c.apply(t, &result(State::Critical), 0.0, 1_000);
        }
        let sent_before = sent(&mut rx);
        assert_eq!(sent_before.len(), 3, "{sent_before:?}");
        let ack = Ack {
            author: "alice".into(),
            comment: "known".into(),
            sticky: true,
            time: 1_010,
            expires: None,
        };
        let (done, _) = c.acknowledge_targets(&ab, ack).unwrap();
        assert_eq!(c.names(&done), vec!["h/a", "h/b"]);
        assert!(c.services[0].record.acknowledged() && c.services[1].record.acknowledged());
        assert!(!c.services[2].record.acknowledged());
        // the host is UP: nothing of the host group to acknowledge
        let ack = Ack {
            author: "alice".into(),
            comment: "known".into(),
            sticky: true,
            time: 1_020,
            expires: None,
        };
        assert_eq!(
            c.acknowledge_targets(&dbs, ack).unwrap_err(),
            "h: state is UP: nothing to acknowledge"
        );
        let now = crate::clock::unix_now();
        let (ids, _) = c
            .schedule_downtime_targets(&ab, now, now + 60, "bob".into(), "x".into())
            .unwrap();
        assert_eq!(ids.len(), 2);
        assert!(c.services[0].record.in_downtime(now) && !c.services[2].record.in_downtime(now));
    }

    #[test]
    fn checks_asked_for_wait_once_each_for_the_loop() {
        let (mut c, _rx) = core("");
        let a = target(&c, "h/a");
        let wake = c.wake.clone();
        c.request_check(&[a, Target::Host(0)]);
        assert_eq!(c.requested, vec![a, Target::Host(0)]);
        // the loop is told even when it was not waiting yet
        let told = wake.notified();
        tokio::pin!(told);
        assert!(futures_now(told.as_mut()));
        // asked again and again before the loop takes them: one of each at most
        for _ in 0..10 {
            c.request_check(&[a, a]);
        }
        assert!(c.requested.len() <= 2 * (c.hosts.len() + c.services.len()));
        let mut asked = c.requested.clone();
        asked.dedup();
        assert!(asked.len() <= c.hosts.len() + c.services.len());
        // only what has a check is run: the host has none
        assert!(c.has_active_check(a) && !c.has_active_check(Target::Host(0)));
    }

    /// Whether a future is ready at once.
    fn futures_now<F: std::future::Future>(f: std::pin::Pin<&mut F>) -> bool {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        f.poll(&mut cx).is_ready()
    }

    #[test]
    fn old_records_load_and_unswitched_ones_are_saved_as_before() {
        let r: Record<State> = Record::default();
        let text = serde_json::to_string(&r).unwrap();
        assert!(!text.contains("active_checks") && !text.contains("notifications\""));
        let back: Record<State> = serde_json::from_str(&text).unwrap();
        assert_eq!((back.active_checks, back.notifications), (None, None));
        let switched = Record::<State> {
            active_checks: Some(false),
            notifications: Some(true),
            ..Record::default()
        };
        let text = serde_json::to_string(&switched).unwrap();
        let back: Record<State> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, switched);
    }
}
