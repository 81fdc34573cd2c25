//! What runs after a result: [`Core::run_event_handlers`] decides, as Nagios 4.4
//! ([`crate::handler::decide`]), whether a host's or service's event handlers run,
//! expands their macros from the records, and hands them to [`crate::handlers`].

use crate::daemon::{Core, Entry, Target};
use crate::events::Before;
use crate::exec::PluginText;
use crate::handler::{decide, state_id, Command, Macros, Seen};
use crate::handlers::Job;
use crate::state::{Condition, Time};

/// Sets the macros of one host or service record, under `prefix` (`HOST`, `SERVICE`):
/// state, type, attempt (as `seen`), output, perfdata, last check and state change.
fn record_macros<C: Condition>(
    m: &mut Macros,
    service: bool,
    e: &Entry<C>,
    seen: Seen,
    max_attempts: u32,
) {
    let text = PluginText::parse(&e.record.output);
    let r = &e.record;
    let values: [(&'static str, &'static str, String); 9] = [
        ("HOSTSTATE", "SERVICESTATE", seen.state.to_string()),
        (
            "HOSTSTATEID",
            "SERVICESTATEID",
            state_id(seen.state).to_string(),
        ),
        ("HOSTSTATETYPE", "SERVICESTATETYPE", seen.type_name().into()),
        ("HOSTATTEMPT", "SERVICEATTEMPT", seen.attempt.to_string()),
        (
            "MAXHOSTATTEMPTS",
            "MAXSERVICEATTEMPTS",
            max_attempts.to_string(),
        ),
        ("HOSTOUTPUT", "SERVICEOUTPUT", text.summary.to_string()),
        ("LONGHOSTOUTPUT", "LONGSERVICEOUTPUT", text.long.join("\n")),
        ("HOSTPERFDATA", "SERVICEPERFDATA", text.perfdata.join(" ")),
        (
            "LASTHOSTCHECK",
            "LASTSERVICECHECK",
            r.last_check.to_string(),
        ),
    ];
    for (host, svc, v) in values {
        m.set(if service { svc } else { host }, v);
    }
    m.set(
        if service {
            "LASTSERVICESTATECHANGE"
        } else {
            "LASTHOSTSTATECHANGE"
        },
        r.last_state_change.to_string(),
    );
}

/// What the record of `e` says, as a handler would be told it outside an event.
fn seen_now<C: Condition>(e: &Entry<C>) -> Seen {
    Seen {
        state: e.record.state.name(),
        state_type: e.record.state_type,
        attempt: e.record.attempt,
    }
}

impl Core {
    /// Runs the event handlers of `target` after a result, when Nagios would: its
    /// global handler, then its own (see [`crate::handler`]).
    pub fn run_event_handlers(&mut self, target: Target, before: Before, now: Time) {
        let daemon = &self.config.daemon;
        if !daemon.event_handlers_enabled {
            return;
        }
        let service = matches!(target, Target::Service(_));
        let (host, schedule) = match target {
            Target::Host(i) => (i, &self.hosts[i].schedule),
            Target::Service(i) => (self.services[i].host, &self.services[i].schedule),
        };
        if !schedule.event_handler_enabled {
            return;
        }
        let max = schedule.max_check_attempts;
        let seen = match target {
            Target::Host(i) => decide(
                false,
                before.state,
                before.state_type,
                before.attempt,
                &self.hosts[i].record,
                max,
            ),
            Target::Service(i) => decide(
                true,
                before.state,
                before.state_type,
                before.attempt,
                &self.services[i].record,
                max,
            ),
        };
        let Some(seen) = seen else {
            return;
        };
        let global = if service {
            &daemon.global_service_event_handler
        } else {
            &daemon.global_host_event_handler
        };
        let global = global.as_deref().and_then(|l| Command::parse(l).ok());
        let commands: Vec<(bool, Command)> = global
            .map(|c| (true, c))
            .into_iter()
            .chain(schedule.event_handler.clone().map(|c| (false, c)))
            .collect();
        if commands.is_empty() {
            return;
        }
        // the macros of the host (its record as it is, or as this event tells it)
        let mut m = Macros::default();
        let (host_name, address) = self
            .config
            .hosts
            .get(host)
            .map_or(("", ""), |h| (h.name.as_str(), h.address.as_str()));
        m.set("HOSTNAME", host_name);
        m.set("HOSTALIAS", host_name);
        m.set("HOSTADDRESS", address);
        if let Some(h) = self.hosts.get(host) {
            let host_seen = if service { seen_now(h) } else { seen };
            let host_max = h.schedule.max_check_attempts;
            record_macros(&mut m, false, h, host_seen, host_max);
        }
        let service_name = match target {
            Target::Host(_) => {
                m.set("LASTHOSTSTATE", before.state);
                m.set("LASTHOSTSTATEID", state_id(before.state).to_string());
                None
            }
            Target::Service(i) => {
                let name = self.config.services[i].name.clone();
                m.set("SERVICEDESC", name.clone());
                record_macros(&mut m, true, &self.services[i], seen, max);
                m.set("LASTSERVICESTATE", before.state);
                m.set("LASTSERVICESTATEID", state_id(before.state).to_string());
                Some(name)
            }
        };
        m.set("TIMET", now.to_string());
        let env = m.environment();
        let jobs: Vec<Job> = commands
            .into_iter()
            .map(|(global, c)| Job {
                global,
                host: host_name.to_string(),
                service: service_name.clone(),
                seen,
                line: c.line.clone(),
                argv: c.argv(&m),
                env: env.clone(),
            })
            .collect();
        let timeout = daemon.event_handler_timeout;
        let lines: Vec<(bool, String)> = jobs
            .iter()
            .map(|j: &Job| (j.global, j.line.clone()))
            .collect();
        if !self.handlers.start(jobs, timeout) {
            return;
        }
        // the event log's lines, as Nagios writes them when it starts each handler
        let Some(log) = &self.event_log else { return };
        let (state, t, attempt) = (seen.state, seen.state_type, seen.attempt);
        for (global, line) in lines {
            match &service_name {
                Some(s) => {
                    log.service_event_handler(now, global, host_name, s, state, t, attempt, &line)
                }
                None => log.host_event_handler(now, global, host_name, state, t, attempt, &line),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::exec::{Limits, Outcome};
    use crate::registry::fake;
    use hcoop_plugins::plugin::State;
    use std::collections::HashMap;
    use std::time::{Duration, SystemTime};

    /// A core of host `web` (checked by a built-in check, 2 attempts) and its service
    /// `http` (3 attempts) with `extra` settings, the runs of its handlers kept.
    fn core(extra_daemon: &str, extra_service: &str) -> Core {
        let text = format!(
            "[daemon]\nglobal_service_event_handler = \"/usr/bin/log-event $HOSTNAME$ $SERVICEDESC$\"\n\
             global_host_event_handler = \"/usr/bin/log-host $HOSTSTATE$\"\n{extra_daemon}\n\
             [defaults]\nmax_check_attempts = 3\n\n\
             [[host]]\nname = \"web\"\naddress = \"192.0.2.7\"\ncheck = \"{f}\"\nargs = [\"web\"]\n\
             max_check_attempts = 2\nevent_handler = \"/usr/bin/reboot-host $HOSTADDRESS$ $HOSTSTATETYPE$\"\n\n\
             [[service]]\nhost = \"web\"\nname = \"http\"\ncheck = \"{f}\"\nargs = [\"http\"]\n\
             event_handler = \"/usr/local/bin/restart $HOSTADDRESS$ $SERVICESTATE$:$SERVICESTATETYPE$:$SERVICEATTEMPT$ $LASTSERVICESTATE$\"\n\
             {extra_service}\n",
            f = fake::NAME
        );
        let config = Config::from_files(vec![(None, text)]).unwrap();
        let (notices, _) = tokio::sync::mpsc::unbounded_channel();
        let mut c = Core::build(
            config,
            Limits::default(),
            notices,
            HashMap::new(),
            HashMap::new(),
        );
        c.handlers.keep();
        c
    }

    fn result(state: State) -> Outcome {
        let text = format!(
            "HTTP {state} - answer {}|time=0.1s\nline two\n",
            state.exit_code()
        );
        Outcome::printed(state, text, SystemTime::now(), Duration::ZERO)
    }

    /// Applies `states` to `web/http` (a minute apart); the argv of each handler run.
    fn service_runs(c: &mut Core, states: &[State]) -> Vec<Vec<Vec<String>>> {
        let s = c.find("web/http").unwrap();
        states
            .iter()
            .enumerate()
            .map(|(i, st)| {
                c.apply(s, &result(*st), 0.0, 1_000 + 60 * i as u64);
                c.handlers.take().into_iter().map(|j| j.argv).collect()
            })
            .collect()
    }

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn the_global_handler_runs_then_the_services_own_as_nagios_decides() {
        use State::{Critical as C, Ok as O};
        let mut c = core("", "");
        let global = argv(&["/usr/bin/log-event", "web", "http"]);
        let own =
            |seen: &str, last: &str| argv(&["/usr/local/bin/restart", "192.0.2.7", seen, last]);
        assert_eq!(
            service_runs(&mut c, &[O, C, C, C, C, O, O]),
            [
                vec![],
                vec![global.clone(), own("CRITICAL:SOFT:1", "OK")],
                vec![global.clone(), own("CRITICAL:SOFT:2", "CRITICAL")],
                vec![global.clone(), own("CRITICAL:HARD:3", "CRITICAL")],
                vec![],
                vec![global.clone(), own("OK:HARD:3", "CRITICAL")],
                vec![],
            ]
        );
    }

    #[test]
    fn the_environment_has_the_facts_under_nagios_names() {
        let mut c = core("", "");
        let s = c.find("web/http").unwrap();
        c.apply(s, &result(State::Critical), 0.0, 1_000);
        let jobs = c.handlers.take();
        assert_eq!(jobs.len(), 2);
        assert!(jobs[0].global && !jobs[1].global);
        assert_eq!(jobs[1].env, jobs[0].env);
        let env: HashMap<String, String> = jobs[1].env.iter().cloned().collect();
        for (k, v) in [
            ("NAGIOS_HOSTNAME", "web"),
            ("NAGIOS_HOSTADDRESS", "192.0.2.7"),
            ("NAGIOS_SERVICEDESC", "http"),
            ("NAGIOS_SERVICESTATE", "CRITICAL"),
            ("NAGIOS_SERVICESTATEID", "2"),
            ("NAGIOS_SERVICESTATETYPE", "SOFT"),
            ("NAGIOS_SERVICEATTEMPT", "1"),
            ("NAGIOS_MAXSERVICEATTEMPTS", "3"),
            ("NAGIOS_LASTSERVICESTATE", "OK"),
            ("NAGIOS_LASTSERVICESTATEID", "0"),
            ("NAGIOS_SERVICEOUTPUT", "HTTP CRITICAL - answer 2"),
            ("NAGIOS_LONGSERVICEOUTPUT", "line two"),
            ("NAGIOS_SERVICEPERFDATA", "time=0.1s"),
            ("NAGIOS_LASTSERVICECHECK", "1000"),
            ("NAGIOS_TIMET", "1000"),
            // the host as it is: never checked, so UP
            ("NAGIOS_HOSTSTATE", "UP"),
            ("NAGIOS_HOSTSTATETYPE", "HARD"),
        ] {
            assert_eq!(env.get(k).map(String::as_str), Some(v), "{k}");
        }
        assert_eq!(
            (jobs[1].host.as_str(), jobs[1].service.as_deref()),
            ("web", Some("http"))
        );
        assert_eq!(
            jobs[1].seen,
            Seen {
                state: "CRITICAL",
                state_type: crate::state::StateType::Soft,
                attempt: 1
            }
        );
    }

    #[test]
    fn a_hosts_handlers_run_with_host_macros_only() {
        let mut c = core("", "");
        let h = c.find("web").unwrap();
        let down = Outcome::printed(
            State::Critical,
            "PING CRITICAL - lost\n",
            SystemTime::now(),
            Duration::ZERO,
        );
        c.apply(h, &down, 0.0, 1_000);
        let jobs = c.handlers.take();
        let argvs: Vec<Vec<String>> = jobs.iter().map(|j| j.argv.clone()).collect();
        assert_eq!(
            argvs,
            [
                argv(&["/usr/bin/log-host", "DOWN"]),
                argv(&["/usr/bin/reboot-host", "192.0.2.7", "SOFT"])
            ]
        );
        let env: HashMap<String, String> = jobs[0].env.iter().cloned().collect();
        assert_eq!(env["NAGIOS_HOSTATTEMPT"], "1");
        assert_eq!(env["NAGIOS_LASTHOSTSTATE"], "UP");
        assert_eq!(env["NAGIOS_HOSTOUTPUT"], "PING CRITICAL - lost");
        assert!(!env.contains_key("NAGIOS_SERVICESTATE"));
        // hard at the second attempt; a host's recovery is attempt 1
        c.apply(h, &down, 0.0, 1_060);
        assert_eq!(c.handlers.take()[1].argv[2], "HARD");
        let up = Outcome::printed(State::Ok, "PING OK\n", SystemTime::now(), Duration::ZERO);
        c.apply(h, &up, 0.0, 1_120);
        let jobs = c.handlers.take();
        assert_eq!(jobs[0].argv, argv(&["/usr/bin/log-host", "UP"]));
        assert_eq!(
            (jobs[1].seen.state_type, jobs[1].seen.attempt),
            (crate::state::StateType::Hard, 1)
        );
    }

    #[test]
    fn disabled_handlers_do_not_run() {
        use State::{Critical as C, Ok as O};
        // disabled for the service: neither its own nor the global one (Nagios 4.4)
        let mut c = core("", "event_handler_enabled = false");
        assert!(service_runs(&mut c, &[O, C, C, C, O])
            .iter()
            .all(Vec::is_empty));
        // disabled for the daemon
        let mut c = core("event_handlers_enabled = false", "");
        assert!(service_runs(&mut c, &[O, C, C, C, O])
            .iter()
            .all(Vec::is_empty));
    }

    #[test]
    fn handlers_with_shell_syntax_are_refused_at_their_line() {
        let text = "[daemon]\nglobal_service_event_handler = \"/bin/log | tee\"\n\n\
            [defaults]\nevent_handler = \"/bin/x > /tmp/y\"\n\n\
            [template.t]\nevent_handler = \"/bin/x $ARG1$\"\n\n\
            [[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\nevent_handler = \"/bin/x;reboot\"\n\n\
            [[service]]\nhost = \"h\"\nname = \"s\"\ncommand = \"/bin/true\"\n\
            event_handler = \"/bin/sh -c 'x'\"\n";
        let e = Config::from_files(vec![(Some("p.toml".into()), text.into())])
            .unwrap_err()
            .to_string();
        for says in [
            "p.toml:line 2: [daemon]: global_service_event_handler: '|' in '/bin/log | tee' is shell syntax",
            "p.toml:line 5: [defaults]: event_handler: '>' in",
            "p.toml:line 8: [template.t]: event_handler: unknown macro '$ARG1$'",
            "p.toml:line 13: host 'h': event_handler: ';' in",
            "p.toml:line 19: service 's' on 'h': event_handler: ''' in",
        ] {
            assert!(e.contains(says), "{says}\n{e}");
        }
        assert_eq!(e.lines().count(), 5, "{e}");
        let e = Config::from_files(vec![(
            Some("t.toml".into()),
            "[daemon]\nevent_handler_timeout = \"0s\"\n".into(),
        )])
        .unwrap_err()
        .to_string();
        assert_eq!(e, "[daemon] event_handler_timeout: must be longer than 0s");
    }

    #[test]
    fn handlers_are_taken_from_the_object_its_template_and_the_defaults() {
        let text = "[defaults]\nevent_handler = \"/bin/d\"\n\n\
            [template.t]\nevent_handler = \"/bin/t $SERVICEDESC$\"\nevent_handler_enabled = false\n\n\
            [[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n\n\
            [[service]]\nhost = \"h\"\nname = \"own\"\ncommand = \"/bin/true\"\nuse = \"t\"\n\
            event_handler = \"/bin/own\"\n\n\
            [[service]]\nhost = \"h\"\nname = \"templated\"\ncommand = \"/bin/true\"\nuse = \"t\"\n";
        let c = Config::from_files(vec![(None, text.into())]).unwrap();
        let line = |s: &crate::config::Schedule| s.event_handler.as_ref().map(|c| c.line.clone());
        assert_eq!(line(&c.hosts[0].schedule).as_deref(), Some("/bin/d"));
        assert!(c.hosts[0].schedule.event_handler_enabled);
        assert_eq!(line(&c.services[0].schedule).as_deref(), Some("/bin/own"));
        assert_eq!(
            line(&c.services[1].schedule).as_deref(),
            Some("/bin/t $SERVICEDESC$")
        );
        assert!(!c.services[1].schedule.event_handler_enabled);
        let d = &c.daemon;
        assert!(d.event_handlers_enabled);
        assert_eq!(d.event_handler_timeout, Duration::from_secs(30));
        assert_eq!(d.global_host_event_handler, None);
    }

    #[test]
    fn each_handler_started_is_written_to_the_event_log_after_the_alert() {
        let mut c = core("", "");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.log");
        c.event_log = Some(crate::eventlog::EventLog::open(&path));
        let s = c.find("web/http").unwrap();
        c.apply(s, &result(State::Ok), 0.0, 1_000);
        c.apply(s, &result(State::Critical), 0.0, 1_060);
        c.event_log.as_ref().unwrap().flush();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "[1060] SERVICE ALERT: web;http;CRITICAL;SOFT;1;HTTP CRITICAL - answer 2",
                "[1060] GLOBAL SERVICE EVENT HANDLER: web;http;CRITICAL;SOFT;1;\
                 /usr/bin/log-event $HOSTNAME$ $SERVICEDESC$",
                "[1060] SERVICE EVENT HANDLER: web;http;CRITICAL;SOFT;1;/usr/local/bin/restart \
                 $HOSTADDRESS$ $SERVICESTATE$:$SERVICESTATETYPE$:$SERVICEATTEMPT$ $LASTSERVICESTATE$",
            ]
        );
    }
}
