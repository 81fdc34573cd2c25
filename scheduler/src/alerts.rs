//! What the core writes to the event log ([`crate::eventlog`], `[daemon] event_log`):
//! the alert of a result when Nagios would write one, flapping starting and stopping,
//! one line per contact and notification method of each notification, and downtimes
//! starting, stopping and cancelled. Lines are only queued here: the log's own thread
//! writes them.

use crate::config::Contact;
use crate::daemon::{Core, Target};
use crate::eventlog::{alert, DowntimePhase, Entry, Seen};
use crate::events::Before;
use crate::state::{Condition, NotificationType, Record, StateType, Time, Transition};

/// How a contact is notified, as the command field of a notification line: `email`,
/// and the file name of its command's program.
pub fn methods(c: &Contact) -> Vec<String> {
    let mut out = Vec::new();
    if c.email.is_some() {
        out.push("email".to_string());
    }
    if let Some(cmd) = &c.command {
        let program = cmd.split_whitespace().next().unwrap_or("");
        let name = std::path::Path::new(program)
            .file_name()
            .map_or(program.to_string(), |n| n.to_string_lossy().into_owned());
        out.push(name);
    }
    if out.is_empty() {
        out.push(String::new());
    }
    out
}

/// Whether Nagios writes an alert line for a result just applied to `r` (`before`: what
/// it was; `host`: whether `r` is a host's), and with which state type and attempt (see
/// [`alert`]). Both the event log's alert line and the history's state event come from
/// it.
pub(crate) fn alert_of<C: Condition>(
    host: bool,
    r: &Record<C>,
    before: Before,
    hard_change: bool,
    max_attempts: u32,
) -> Option<(StateType, u32)> {
    let was = Seen {
        good: before.state == C::GOOD.name(),
        state: before.state,
        state_type: before.state_type,
        attempt: before.attempt,
    };
    let now = Seen {
        good: r.state.is_good(),
        state: r.state.name(),
        state_type: r.state_type,
        attempt: r.attempt,
    };
    alert(host, was, now, hard_change, max_attempts)
}

/// The flapping line of an object that just started or stopped flapping.
fn flapping<'a, C: Condition>(o: &Object<'a, C>, schedule: &crate::config::Schedule) -> Entry<'a> {
    let (started, percent) = (o.record.flapping, o.record.percent_state_change);
    let threshold = if started {
        schedule.high_flap_threshold
    } else {
        schedule.low_flap_threshold
    };
    match o.service {
        Some(service) => Entry::ServiceFlapping {
            host: o.host,
            service,
            started,
            percent,
            threshold,
        },
        None => Entry::HostFlapping {
            host: o.host,
            started,
            percent,
            threshold,
        },
    }
}

/// The names of a host or service and its record.
struct Object<'a, C> {
    host: &'a str,
    service: Option<&'a str>,
    record: &'a Record<C>,
}

impl Core {
    fn object<R>(
        &self,
        target: Target,
        host: impl FnOnce(Object<'_, crate::state::HostState>) -> R,
        service: impl FnOnce(Object<'_, hcoop_plugins::plugin::State>) -> R,
    ) -> R {
        match target {
            Target::Host(i) => host(Object {
                host: &self.config.hosts[i].name,
                service: None,
                record: &self.hosts[i].record,
            }),
            Target::Service(i) => {
                let e = &self.services[i];
                service(Object {
                    host: &self.config.hosts[e.host].name,
                    service: Some(&self.config.services[i].name),
                    record: &e.record,
                })
            }
        }
    }

    /// Writes the alert line of a result just applied to `target` (`before`: what it
    /// was), and its flapping line when flapping started or stopped.
    pub(crate) fn log_result(&self, target: Target, tr: &Transition, before: Before, now: Time) {
        let Some(log) = &self.event_log else { return };
        self.log_downtime(target, false, now);
        let schedule = match target {
            Target::Host(i) => &self.hosts[i].schedule,
            Target::Service(i) => &self.services[i].schedule,
        };
        fn lines<'a, C: Condition>(
            o: Object<'a, C>,
            tr: &Transition,
            before: Before,
            schedule: &crate::config::Schedule,
        ) -> Vec<Entry<'a>> {
            let r = o.record;
            let mut out = Vec::new();
            let logged = alert_of(
                o.service.is_none(),
                r,
                before,
                tr.hard_change,
                schedule.max_check_attempts,
            );
            if let Some((state_type, attempt)) = logged {
                out.push(match o.service {
                    Some(service) => Entry::ServiceAlert {
                        host: o.host,
                        service,
                        state: r.state.name(),
                        state_type,
                        attempt,
                        output: &r.output,
                    },
                    None => Entry::HostAlert {
                        host: o.host,
                        state: r.state.name(),
                        state_type,
                        attempt,
                        output: &r.output,
                    },
                });
            }
            // written before its notification when there is one (as Nagios does)
            let notified = tr.notify.iter().any(|n| {
                matches!(
                    n,
                    NotificationType::FlappingStart | NotificationType::FlappingStop
                )
            });
            if r.flapping != before.flapping && !notified {
                out.push(flapping(&o, schedule));
            }
            out
        }
        let write = |entries: Vec<Entry<'_>>| entries.iter().for_each(|e| log.write(now, e));
        self.object(
            target,
            |o| write(lines(o, tr, before, schedule)),
            |o| write(lines(o, tr, before, schedule)),
        );
    }

    /// Writes the lines of one notification of `kind` about `target` sent to
    /// `contacts`: one per contact and notification method, as Nagios writes one per
    /// contact and notification command.
    pub(crate) fn log_notification(
        &self,
        target: Target,
        kind: NotificationType,
        contacts: &[Contact],
        now: Time,
    ) {
        let Some(log) = &self.event_log else { return };
        self.log_downtime(target, false, now);
        fn lines<'a, C: Condition>(
            o: Object<'a, C>,
            kind: NotificationType,
            contacts: &'a [Contact],
            methods: &'a [Vec<String>],
            schedule: &crate::config::Schedule,
        ) -> Vec<Entry<'a>> {
            let r = o.record;
            let ack = match (kind, &r.ack) {
                (NotificationType::Acknowledgement, Some(a)) => {
                    Some((a.author.as_str(), a.comment.as_str()))
                }
                (NotificationType::Acknowledgement, None) => Some(("", "")),
                _ => None,
            };
            let mut out = Vec::new();
            if matches!(
                kind,
                NotificationType::FlappingStart | NotificationType::FlappingStop
            ) {
                out.push(flapping(&o, schedule));
            }
            for (c, commands) in contacts.iter().zip(methods) {
                for command in commands {
                    out.push(match o.service {
                        Some(service) => Entry::ServiceNotification {
                            contact: &c.name,
                            host: o.host,
                            service,
                            kind,
                            state: r.state.name(),
                            command,
                            output: &r.output,
                            ack,
                        },
                        None => Entry::HostNotification {
                            contact: &c.name,
                            host: o.host,
                            kind,
                            state: r.state.name(),
                            command,
                            output: &r.output,
                            ack,
                        },
                    });
                }
            }
            out
        }
        let methods: Vec<Vec<String>> = contacts.iter().map(methods).collect();
        let schedule = match target {
            Target::Host(i) => &self.hosts[i].schedule,
            Target::Service(i) => &self.services[i].schedule,
        };
        let write = |entries: Vec<Entry<'_>>| entries.iter().for_each(|e| log.write(now, e));
        self.object(
            target,
            |o| write(lines(o, kind, contacts, &methods, schedule)),
            |o| write(lines(o, kind, contacts, &methods, schedule)),
        );
    }

    /// The key of `target` and whether it is in downtime at `now`, as the state rules
    /// see it.
    fn downtime_now(&self, target: Target, now: Time) -> (&str, bool) {
        match target {
            Target::Host(i) => (&self.hosts[i].key, self.hosts[i].record.in_downtime(now)),
            Target::Service(i) => (
                &self.services[i].key,
                self.services[i].record.in_downtime(now),
            ),
        }
    }

    /// Tells the event log which objects are in downtime now without writing (a
    /// daemon starting with downtimes kept from before does not start them again).
    pub fn seed_event_log(&self, now: Time) {
        let Some(log) = &self.event_log else { return };
        let targets = (0..self.hosts.len())
            .map(Target::Host)
            .chain((0..self.services.len()).map(Target::Service));
        for target in targets {
            let (key, is) = self.downtime_now(target, now);
            if is {
                log.note_downtime(key, true);
            }
        }
    }

    /// Writes a downtime line when `target` entered or left its downtimes since the log
    /// last said (as Nagios writes one when the first starts and when the last ends;
    /// `cancelled`: an admin deleted the one in effect). Called before every other line
    /// about the object, so that a downtime that ended by the clock is said to have
    /// stopped before the notification its end lets through, as in Nagios.
    pub(crate) fn log_downtime(&self, target: Target, cancelled: bool, now: Time) {
        let Some(log) = &self.event_log else { return };
        let (key, is) = self.downtime_now(target, now);
        if !log.note_downtime(key, is) {
            return;
        }
        let phase = match (is, cancelled) {
            (true, _) => DowntimePhase::Started,
            (false, true) => DowntimePhase::Cancelled,
            (false, false) => DowntimePhase::Stopped,
        };
        let entry = match target {
            Target::Host(i) => Entry::HostDowntime {
                host: &self.config.hosts[i].name,
                phase,
            },
            Target::Service(i) => Entry::ServiceDowntime {
                host: &self.config.hosts[self.services[i].host].name,
                service: &self.config.services[i].name,
                phase,
            },
        };
        log.write(now, &entry);
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::daemon::Core;
    use crate::eventlog::EventLog;
    use crate::exec::{Limits, Outcome};
    use crate::registry::fake;
    use crate::state::{Ack, Time};
    use hcoop_plugins::plugin::State;
    use std::collections::HashMap;
    use std::time::{Duration, SystemTime};

    /// A core of service `h/s` (3 attempts, notified every minute, contacts `ops` by
    /// mail and `pager` by command) writing its event log into a temp dir.
    fn logged() -> (Core, tempfile::TempDir) {
        let text = format!(
            "[defaults]\nmax_check_attempts = 3\nnotification_interval = \"1m\"\n\
             flap_detection = false\ncontacts = [\"ops\", \"pager\"]\n\n\
             [smtp]\nhost = \"127.0.0.1\"\n\n\
             [[contact]]\nname = \"ops\"\nemail = \"ops@example.org\"\n\n\
             [[contact]]\nname = \"pager\"\ncommand = \"/usr/local/bin/page --now\"\n\n\
             [[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n\n\
             [[service]]\nhost = \"h\"\nname = \"s\"\ncheck = \"{}\"\nargs = [\"s\"]\n",
            fake::NAME
        );
        let c = Config::from_files(vec![(None, text)]).unwrap();
        let (notices, _) = tokio::sync::mpsc::unbounded_channel();
        let mut core = Core::build(
            c,
            Limits::default(),
            notices,
            HashMap::new(),
            HashMap::new(),
        );
        let dir = tempfile::tempdir().unwrap();
        core.event_log = Some(EventLog::open(&dir.path().join("events.log")));
        (core, dir)
    }

    fn result(state: State, text: &str) -> Outcome {
        Outcome::printed(state, text, SystemTime::now(), Duration::ZERO)
    }

    /// The lines written so far, then forgotten.
    fn lines(core: &Core, dir: &tempfile::TempDir) -> Vec<String> {
        core.event_log.as_ref().unwrap().flush();
        let path = dir.path().join("events.log");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        std::fs::write(&path, "").unwrap();
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn results_and_notifications_are_logged_as_nagios_logs_them() {
        let (mut c, dir) = logged();
        let s = c.find("h/s").unwrap();
        let crit = result(State::Critical, "S CRITICAL - down; really|t=1\nmore\n");
        let ok = result(State::Ok, "S OK - up\n");
        let t: Time = 1_700_000_000;
        // a soft problem that recovers: SOFT at the next attempt
        c.apply(s, &crit, 0.0, t);
        c.apply(s, &ok, 0.0, t + 1);
        c.apply(s, &ok, 0.0, t + 2);
        assert_eq!(
            lines(&c, &dir),
            [
                "[1700000000] SERVICE ALERT: h;s;CRITICAL;SOFT;1;S CRITICAL - down: really",
                "[1700000001] SERVICE ALERT: h;s;OK;SOFT;2;S OK - up",
            ]
        );
        // each retry, hard with its notification (one line per contact and method,
        // written before the alert as Nagios does), a re-notification, the recovery
        for i in 0..5 {
            c.apply(s, &crit, 0.0, t + 10 + i);
        }
        c.apply(s, &crit, 0.0, t + 80);
        c.apply(s, &ok, 0.0, t + 90);
        let problem = "S CRITICAL - down: really";
        assert_eq!(
            lines(&c, &dir),
            [
                format!("[1700000010] SERVICE ALERT: h;s;CRITICAL;SOFT;1;{problem}"),
                format!("[1700000011] SERVICE ALERT: h;s;CRITICAL;SOFT;2;{problem}"),
                format!("[1700000012] SERVICE NOTIFICATION: ops;h;s;CRITICAL;email;{problem}"),
                format!("[1700000012] SERVICE NOTIFICATION: pager;h;s;CRITICAL;page;{problem}"),
                format!("[1700000012] SERVICE ALERT: h;s;CRITICAL;HARD;3;{problem}"),
                format!("[1700000080] SERVICE NOTIFICATION: ops;h;s;CRITICAL;email;{problem}"),
                format!("[1700000080] SERVICE NOTIFICATION: pager;h;s;CRITICAL;page;{problem}"),
                "[1700000090] SERVICE NOTIFICATION: ops;h;s;OK;email;S OK - up".into(),
                "[1700000090] SERVICE NOTIFICATION: pager;h;s;OK;page;S OK - up".into(),
                "[1700000090] SERVICE ALERT: h;s;OK;HARD;3;S OK - up".into(),
            ]
        );
    }

    #[test]
    fn acknowledgements_and_downtimes_are_logged() {
        let (mut c, dir) = logged();
        let s = c.find("h/s").unwrap();
        let crit = result(State::Critical, "S CRITICAL - down\n");
        let t: Time = 1_700_000_000;
        for i in 0..3 {
            c.apply(s, &crit, 0.0, t + i);
        }
        lines(&c, &dir);
        let ack = Ack {
            author: "alice".into(),
            comment: "on it; soon".into(),
            sticky: false,
            time: t + 5,
            expires: None,
        };
        let _ = c.acknowledge("h/s", ack).unwrap();
        assert_eq!(
            lines(&c, &dir),
            [
                "[1700000005] SERVICE NOTIFICATION: ops;h;s;ACKNOWLEDGEMENT (CRITICAL);email;S CRITICAL - down;alice;on it; soon",
                "[1700000005] SERVICE NOTIFICATION: pager;h;s;ACKNOWLEDGEMENT (CRITICAL);page;S CRITICAL - down;alice;on it; soon",
            ]
        );
        // a downtime from now: started (and notified), then cancelled
        let now = crate::clock::unix_now();
        let (id, _) = c
            .schedule_downtime("h/s", now - 1, now + 3600, "a".into(), "c".into())
            .unwrap();
        let _ = c.cancel_downtime(id).unwrap();
        let got: Vec<String> = lines(&c, &dir)
            .into_iter()
            .map(|l| l.split_once("] ").unwrap().1.to_string())
            .collect();
        assert_eq!(
            got,
            [
                "SERVICE DOWNTIME ALERT: h;s;STARTED; Service has entered a period of scheduled downtime",
                "SERVICE NOTIFICATION: ops;h;s;DOWNTIMESTART (CRITICAL);email;S CRITICAL - down",
                "SERVICE NOTIFICATION: pager;h;s;DOWNTIMESTART (CRITICAL);page;S CRITICAL - down",
                "SERVICE DOWNTIME ALERT: h;s;CANCELLED; Scheduled downtime for service has been cancelled.",
            ]
        );
        // one that ends by itself
        let (_, _) = c
            .schedule_downtime("h/s", now - 1, now + 1, "a".into(), "c".into())
            .unwrap();
        c.tick(now + 2);
        let got: Vec<String> = lines(&c, &dir)
            .into_iter()
            .filter(|l| l.contains("DOWNTIME ALERT"))
            .map(|l| l.split_once("] ").unwrap().1.to_string())
            .collect();
        assert_eq!(
            got,
            [
                "SERVICE DOWNTIME ALERT: h;s;STARTED; Service has entered a period of scheduled downtime",
                "SERVICE DOWNTIME ALERT: h;s;STOPPED; Service has exited from a period of scheduled downtime",
            ]
        );
    }

    #[test]
    fn a_downtime_ended_by_the_clock_is_said_to_stop_before_what_its_end_lets_through() {
        let (mut c, dir) = logged();
        let s = c.find("h/s").unwrap();
        let now = crate::clock::unix_now();
        let _ = c
            .schedule_downtime("h/s", now - 10, now + 5, "a".into(), "c".into())
            .unwrap();
        let crit = result(State::Critical, "S CRITICAL - down\n");
        for i in 0..3 {
            c.apply(s, &crit, 0.0, now + i);
        }
        // past the end, before the once-a-second tick ends it
        c.apply(s, &crit, 0.0, now + 6);
        let got: Vec<String> = lines(&c, &dir)
            .into_iter()
            .map(|l| l.split_once("] ").unwrap().1.to_string())
            .filter(|l| !l.contains("DOWNTIMESTART"))
            .collect();
        assert_eq!(
            got,
            [
                "SERVICE DOWNTIME ALERT: h;s;STARTED; Service has entered a period of scheduled downtime",
                "SERVICE ALERT: h;s;CRITICAL;SOFT;1;S CRITICAL - down",
                "SERVICE ALERT: h;s;CRITICAL;SOFT;2;S CRITICAL - down",
                "SERVICE ALERT: h;s;CRITICAL;HARD;3;S CRITICAL - down",
                "SERVICE DOWNTIME ALERT: h;s;STOPPED; Service has exited from a period of scheduled downtime",
                "SERVICE NOTIFICATION: ops;h;s;CRITICAL;email;S CRITICAL - down",
                "SERVICE NOTIFICATION: pager;h;s;CRITICAL;page;S CRITICAL - down",
            ]
        );
        // the tick that ends it says nothing more of it
        c.tick(now + 7);
        let stopped = lines(&c, &dir)
            .iter()
            .filter(|l| l.contains("DOWNTIME ALERT"))
            .count();
        assert_eq!(stopped, 0);
    }
}
