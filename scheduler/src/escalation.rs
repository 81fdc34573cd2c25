//! Escalated notifications in the core, as Nagios 4 decides them
//! (`create_notification_list_from_service`, `get_next_service_notification_time` and
//! their host forms): the escalations ([`crate::config::escalations`]) that hold for
//! one notification replace the object's own contacts ([`Core::recipients`]) and set
//! the interval of the next re-notification ([`Core::policy`]).
//!
//! Which notification number an escalation is held against:
//! - a problem notification: its own number, counted as Nagios'
//!   `current_notification_number` (the first problem notification of a problem is 1);
//! - a recovery: the number of the last problem notification, with the option `r`;
//! - an acknowledgement, a flapping or a downtime notification during a problem: the
//!   number of the last problem notification and the current state's letter; while
//!   the object is OK or UP, none (Nagios holds them against a number below 0);
//! - the wait for the next re-notification: the escalations that held for the last
//!   problem notification when it was sent (its number, state and time), the shortest
//!   of their intervals (an escalation without its own: the object's); 0 sends no
//!   more problem notifications.
//!
//! Checked against Nagios 4.4.6 (Debian's nagios4) on the same objects: the same
//! recipients, numbers, escalated flags and intervals. One difference stays, from the
//! core rather than escalations: a problem notification that no contact takes (all
//! passed over by their options or periods) is counted here, while Nagios does not
//! count it and tries again at the next check. Nagios 4.5 no longer counts the
//! recovery (its number, and so its escalations, are one lower there); this follows
//! 4.4, the version Debian ships.

use crate::config::Contact;
use crate::daemon::{Core, Target};
use crate::state::{Condition, NotificationType, Record, Time};

/// What escalations are held against for one notification about `record`: the
/// notification number and the option letter; `None` when none can hold.
fn point<C: Condition>(record: &Record<C>, kind: NotificationType) -> Option<(u32, char)> {
    match kind {
        NotificationType::Recovery => Some((record.recovered_number, 'r')),
        _ if record.state.is_good() => None,
        _ => Some((record.notification_number, record.state.option())),
    }
}

impl Core {
    /// The object of `target` in the escalations: its index and whether it is a
    /// service.
    fn escalated_object(target: Target) -> (usize, bool) {
        match target {
            Target::Host(i) => (i, false),
            Target::Service(i) => (i, true),
        }
    }

    /// The contacts (indices into the configuration's contacts) of the escalations
    /// that hold for one notification of `kind` about `target` at `now` (sent after
    /// the record counted it), each once in the order written; `None`: the
    /// notification is not escalated.
    pub fn escalated_contacts(
        &self,
        target: Target,
        kind: NotificationType,
        now: Time,
    ) -> Option<Vec<usize>> {
        let escalations = &self.config.escalations;
        if escalations.is_empty() {
            return None;
        }
        let (number, letter) = match target {
            Target::Host(i) => point(&self.hosts[i].record, kind),
            Target::Service(i) => point(&self.services[i].record, kind),
        }?;
        let (index, service) = Self::escalated_object(target);
        let mut valid = escalations
            .valid(index, service, number, letter, now, &self.config.periods)
            .peekable();
        valid.peek()?;
        let mut contacts = Vec::new();
        for c in valid.flat_map(|e| &e.contacts) {
            if !contacts.contains(c) {
                contacts.push(*c);
            }
        }
        Some(contacts)
    }

    /// The recipients of an escalated notification: the escalations' contacts that
    /// want it (`option`) and are in their own notification period at `now`;
    /// `None`: the notification is not escalated (the object's own contacts take it).
    pub(crate) fn escalated_recipients(
        &self,
        target: Target,
        kind: NotificationType,
        option: Option<char>,
        now: Time,
    ) -> Option<Vec<Contact>> {
        let is_service = matches!(target, Target::Service(_));
        let contacts = self.escalated_contacts(target, kind, now)?;
        Some(
            contacts
                .into_iter()
                .map(|i| &self.config.contacts[i])
                .filter(|c| {
                    c.wants(is_service, option)
                        && self.config.periods.contains(c.period(is_service), now)
                })
                .cloned()
                .collect(),
        )
    }

    /// The re-notification interval (seconds) the escalations set for `target`: the
    /// shortest among those that held for its last problem notification when it was
    /// sent; `None`: none held (the object's own interval applies).
    pub(crate) fn escalated_interval(&self, target: Target) -> Option<u64> {
        fn last<C: Condition>(r: &Record<C>) -> Option<(u32, char, Time)> {
            let state = r.notified_state?;
            (r.notification_number > 0).then_some((
                r.notification_number,
                state.option(),
                r.last_notification?,
            ))
        }
        let escalations = &self.config.escalations;
        if escalations.is_empty() {
            return None;
        }
        let ((number, letter, at), own) = match target {
            Target::Host(i) => (last(&self.hosts[i].record)?, &self.hosts[i].schedule),
            Target::Service(i) => (last(&self.services[i].record)?, &self.services[i].schedule),
        };
        let own = own.notification_interval.as_secs();
        let (index, service) = Self::escalated_object(target);
        escalations
            .valid(index, service, number, letter, at, &self.config.periods)
            .map(|e| e.notification_interval.unwrap_or(own))
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::Outcome;
    use crate::notify::Notice;
    use crate::registry::fake;
    use hcoop_plugins::plugin::State;
    use std::time::{Duration, SystemTime};
    use tokio::sync::mpsc;

    /// Wednesday 2023-11-15 00:00 UTC, a minute and an hour.
    const WED: Time = 1_700_006_400;
    const MIN: Time = 60;
    const HOUR: Time = 3_600;

    /// A core of host `h` and its service `s` (one attempt makes a problem hard,
    /// re-notified every hour, to `ops`), contacts `ops`, `boss` and `lead`, the time
    /// period `business` (Wednesday 09:00-17:00 UTC), and `more` (escalations); and the
    /// notices it sends.
    fn escalating(more: &str) -> Run {
        let text = format!(
            "[defaults]\nmax_check_attempts = 1\nnotification_interval = \"1h\"\n\
             contacts = [\"ops\"]\n\n\
             [[timeperiod]]\nname = \"business\"\nrules = [\"wednesday 09:00-17:00\"]\n\n\
             [[contact]]\nname = \"ops\"\ncommand = \"/bin/true\"\n\n\
             [[contact]]\nname = \"boss\"\ncommand = \"/bin/true\"\nservice_options = \"c,r\"\n\n\
             [[contact]]\nname = \"lead\"\ncommand = \"/bin/true\"\n\n\
             [[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\ncheck = \"{fake}\"\nargs = [\"h\"]\n\n\
             [[service]]\nhost = \"h\"\nname = \"s\"\ncheck = \"{fake}\"\nargs = [\"s\"]\n\n{more}",
            fake = fake::NAME
        );
        let (core, rx) = crate::daemon::tests::utc_core(text);
        Run { core, rx }
    }

    /// A core and the notices it sends.
    struct Run {
        core: Core,
        rx: mpsc::UnboundedReceiver<Notice>,
    }

    /// One notice as the tests compare it: type, number, contacts, escalated.
    type Sent = (&'static str, u32, Vec<&'static str>, bool);

    impl Run {
        /// Applies a result to `target` at `t`; the notices it sent.
        fn check(&mut self, target: Target, state: State, t: Time) -> Vec<Sent> {
            let outcome = Outcome::printed(state, "X - x\n", SystemTime::now(), Duration::ZERO);
            self.core.apply(target, &outcome, 0.0, t);
            std::iter::from_fn(|| self.rx.try_recv().ok())
                .map(|n| {
                    let who = n
                        .contacts
                        .iter()
                        .map(|c| match c.name.as_str() {
                            "ops" => "ops",
                            "boss" => "boss",
                            "lead" => "lead",
                            other => panic!("{other}"),
                        })
                        .collect();
                    (n.kind.as_str(), n.number, who, n.escalated)
                })
                .collect()
        }

        /// A CRITICAL result of the service `t` seconds into Wednesday.
        fn crit(&mut self, t: Time) -> Vec<Sent> {
            self.check(S, Critical, WED + t)
        }

        /// A DOWN result of the host `t` seconds into Wednesday.
        fn down(&mut self, t: Time) -> Vec<Sent> {
            self.check(H, Critical, WED + t)
        }
    }

    fn problem(number: u32, who: &[&'static str], escalated: bool) -> Vec<Sent> {
        vec![("PROBLEM", number, who.to_vec(), escalated)]
    }

    const S: Target = Target::Service(0);
    const H: Target = Target::Host(0);
    use State::{Critical, Ok as Fine, Warning};

    #[test]
    fn from_the_third_to_the_fourth_notification_the_escalation_takes_them() {
        let mut r = escalating(
            "[[serviceescalation]]\nhost = \"h\"\nservice = \"s\"\nfirst_notification = 3\n\
             last_notification = 4\nnotification_interval = \"10m\"\ncontacts = [\"boss\"]\n",
        );
        assert_eq!(r.crit(0), problem(1, &["ops"], false));
        // the object's own interval until the escalation holds
        assert_eq!(r.crit(50 * MIN), vec![]);
        assert_eq!(r.crit(HOUR), problem(2, &["ops"], false));
        assert_eq!(r.crit(2 * HOUR), problem(3, &["boss"], true));
        // escalated: every 10 minutes
        assert_eq!(r.crit(2 * HOUR + 9 * MIN), vec![]);
        assert_eq!(r.crit(2 * HOUR + 10 * MIN), problem(4, &["boss"], true));
        // after the last one, back to the object's contacts...
        assert_eq!(r.crit(2 * HOUR + 20 * MIN), problem(5, &["ops"], false));
        // ... and its interval
        assert_eq!(r.crit(2 * HOUR + 30 * MIN), vec![]);
        assert_eq!(r.crit(3 * HOUR + 19 * MIN), vec![]);
        assert_eq!(r.crit(3 * HOUR + 20 * MIN), problem(6, &["ops"], false));
        // the recovery of notification 6: past the last, to the object's contacts
        let got = r.check(S, Fine, WED + 4 * HOUR);
        assert_eq!(got, vec![("RECOVERY", 7, vec!["ops"], false)]);
    }

    #[test]
    fn valid_escalations_are_joined_and_the_shortest_interval_is_taken() {
        let mut r = escalating(
            "[[serviceescalation]]\nhost = \"h\"\nservice = \"s\"\nfirst_notification = 2\n\
             notification_interval = \"30m\"\ncontacts = [\"boss\"]\n\n\
             [[serviceescalation]]\nhost = \"h\"\nservice = \"s\"\nfirst_notification = 3\n\
             notification_interval = \"10m\"\ncontacts = [\"lead\", \"boss\"]\n",
        );
        assert_eq!(r.crit(0), problem(1, &["ops"], false));
        assert_eq!(r.crit(HOUR), problem(2, &["boss"], true));
        assert_eq!(r.crit(HOUR + 29 * MIN), vec![]);
        assert_eq!(r.crit(HOUR + 30 * MIN), problem(3, &["boss", "lead"], true));
        assert_eq!(r.crit(HOUR + 40 * MIN), problem(4, &["boss", "lead"], true));
        // a WARNING: notified at once (a new state), boss does not take warnings
        let w = r.check(S, Warning, WED + HOUR + 41 * MIN);
        assert_eq!(w, problem(5, &["lead"], true));
        // the recovery of notification 5, escalated (`r` is among the default options)
        let got = r.check(S, Fine, WED + 2 * HOUR);
        assert_eq!(got, vec![("RECOVERY", 6, vec!["boss", "lead"], true)]);
        // a new problem starts from notification 1 again
        assert_eq!(r.crit(3 * HOUR), problem(1, &["ops"], false));
    }

    #[test]
    fn an_escalation_interval_of_zero_sends_no_more_notifications() {
        let mut r = escalating(
            "[[serviceescalation]]\nhost = \"h\"\nservice = \"s\"\nfirst_notification = 2\n\
             notification_interval = \"0s\"\ncontacts = [\"boss\"]\n",
        );
        assert_eq!(r.crit(0), problem(1, &["ops"], false));
        assert_eq!(r.crit(HOUR), problem(2, &["boss"], true));
        for t in [2 * HOUR, 5 * HOUR, 30 * HOUR] {
            assert_eq!(r.crit(t), vec![], "{t}");
        }
        // without an interval of its own, the object's
        let mut r = escalating(
            "[[serviceescalation]]\nhost = \"h\"\nservice = \"s\"\nfirst_notification = 2\n\
             contacts = [\"boss\"]\n",
        );
        assert_eq!(r.crit(0), problem(1, &["ops"], false));
        assert_eq!(r.crit(HOUR), problem(2, &["boss"], true));
        assert_eq!(r.crit(2 * HOUR - 1), vec![]);
        assert_eq!(r.crit(2 * HOUR), problem(3, &["boss"], true));
    }

    #[test]
    fn outside_its_escalation_period_an_escalation_does_not_hold() {
        let mut r = escalating(
            "[[serviceescalation]]\nhost = \"h\"\nservice = \"s\"\nfirst_notification = 1\n\
             notification_interval = \"10m\"\nescalation_period = \"business\"\n\
             contacts = [\"boss\"]\n",
        );
        // at night: the object's contacts and interval
        assert_eq!(r.crit(7 * HOUR), problem(1, &["ops"], false));
        assert_eq!(r.crit(7 * HOUR + 10 * MIN), vec![]);
        // from 09:00 escalated; the interval after an escalated one is the escalation's
        assert_eq!(r.crit(9 * HOUR), problem(2, &["boss"], true));
        assert_eq!(r.crit(9 * HOUR + 10 * MIN), problem(3, &["boss"], true));
        // the interval is the one of the last notification's escalations: 16:55 was
        // escalated, so 17:05 is due, but no longer escalated
        assert_eq!(r.crit(16 * HOUR + 55 * MIN), problem(4, &["boss"], true));
        assert_eq!(r.crit(17 * HOUR + 5 * MIN), problem(5, &["ops"], false));
        assert_eq!(r.crit(17 * HOUR + 15 * MIN), vec![]);
    }

    #[test]
    fn options_without_r_leave_the_recovery_to_the_object_contacts() {
        let mut r = escalating(
            "[[serviceescalation]]\nhost = \"h\"\nservice = \"s\"\nfirst_notification = 1\n\
             escalation_options = \"c\"\ncontacts = [\"boss\"]\n",
        );
        // a WARNING is not escalated, a CRITICAL is
        let w = r.check(S, Warning, WED);
        assert_eq!(w, problem(1, &["ops"], false));
        let crit = r.check(S, Critical, WED + MIN);
        assert_eq!(crit, problem(2, &["boss"], true));
        // an acknowledgement during an escalated problem is escalated
        let ack = crate::state::Ack {
            author: "a".into(),
            comment: "on it".into(),
            sticky: true,
            time: WED + 2 * MIN,
            expires: None,
        };
        let _ = r.core.acknowledge("h/s", ack).unwrap();
        let acked: Vec<_> = std::iter::from_fn(|| r.rx.try_recv().ok())
            .map(|n| (n.kind.as_str(), n.contacts.len(), n.escalated))
            .collect();
        assert_eq!(acked, [("ACKNOWLEDGEMENT", 1, true)]);
        let got = r.check(S, Fine, WED + HOUR);
        assert_eq!(got, vec![("RECOVERY", 3, vec!["ops"], false)]);
    }

    #[test]
    fn the_number_a_recovery_is_escalated_by_is_saved_and_old_records_load() {
        let mut r = escalating("");
        r.crit(0);
        r.crit(HOUR);
        r.check(S, Fine, WED + 2 * HOUR);
        let record = &r.core.services[0].record;
        assert_eq!(
            (record.notification_number, record.recovered_number),
            (0, 2)
        );
        let saved = serde_json::to_value(record).unwrap();
        assert_eq!(saved["recovered_number"], 2);
        let back: Record<State> = serde_json::from_value(saved.clone()).unwrap();
        assert_eq!(&back, record);
        // a record saved before it existed loads as 0, and 0 is not written
        let mut old = saved;
        old.as_object_mut().unwrap().remove("recovered_number");
        let back: Record<State> = serde_json::from_value(old).unwrap();
        assert_eq!(back.recovered_number, 0);
        let fresh = serde_json::to_value(Record::<State>::default()).unwrap();
        assert!(fresh.get("recovered_number").is_none(), "{fresh}");
    }

    #[test]
    fn host_escalations() {
        let mut r = escalating(
            "[[hostescalation]]\nhost = \"h\"\nfirst_notification = 2\nlast_notification = 2\n\
             escalation_options = \"d,r\"\ncontacts = [\"lead\"]\n",
        );
        assert_eq!(r.down(0), problem(1, &["ops"], false));
        assert_eq!(r.down(HOUR), problem(2, &["lead"], true));
        assert_eq!(r.down(2 * HOUR), problem(3, &["ops"], false));
        // the service's notifications are not the host's
        let s = r.check(S, Fine, WED + 2 * HOUR);
        assert_eq!(s, vec![]);
        // UP after notification 3: past the last, not escalated
        let up = r.check(H, Fine, WED + 3 * HOUR);
        assert_eq!(up, vec![("RECOVERY", 4, vec!["ops"], false)]);
        // a recovery of notification 2 is escalated
        assert_eq!(r.down(4 * HOUR), problem(1, &["ops"], false));
        assert_eq!(r.down(5 * HOUR), problem(2, &["lead"], true));
        let up = r.check(H, Fine, WED + 5 * HOUR + MIN);
        assert_eq!(up, vec![("RECOVERY", 3, vec!["lead"], true)]);
    }
}
