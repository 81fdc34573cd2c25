//! The core with host and service dependencies: checks held by a failed execution
//! dependency, problem and recovery notifications held back by a failed notification
//! dependency, as Nagios 4.

use super::*;
use crate::config::dependencies::Kind;
use crate::state::StateType;
use std::time::SystemTime;

/// Monday 2023-11-13 00:00 UTC, and the hour.
const MON: Time = 1_699_833_600;
const HOUR: Time = 3_600;

/// A core of hosts db1, web1 (no host checks), router and server (checked), services
/// db1/postgres, web1/app, web1/cache, server/www (two attempts make a problem hard),
/// contact `ops` for everything; `daemon` goes into `[daemon]`, `more` after the
/// objects. Time periods answer in UTC.
fn core(daemon: &str, more: &str) -> (Core, mpsc::UnboundedReceiver<Notice>) {
    let mut text = format!(
        "[daemon]\n{daemon}\n[defaults]\nmax_check_attempts = 2\nnotification_interval = \"0s\"\n\
         contacts = [\"ops\"]\n\n\
         [[timeperiod]]\nname = \"nights\"\nrules = [\"monday 00:00-06:00\"]\n\n\
         [[contact]]\nname = \"ops\"\ncommand = \"/bin/true\"\n"
    );
    for (h, check) in [
        ("db1", ""),
        ("web1", ""),
        ("router", "command = \"/bin/true\"\n"),
        ("server", "command = \"/bin/true\"\n"),
    ] {
        text.push_str(&format!(
            "\n[[host]]\nname = \"{h}\"\naddress = \"127.0.0.1\"\n{check}"
        ));
    }
    for (h, s) in [
        ("db1", "postgres"),
        ("web1", "app"),
        ("web1", "cache"),
        ("server", "www"),
    ] {
        text.push_str(&format!(
            "\n[[service]]\nhost = \"{h}\"\nname = \"{s}\"\ncommand = \"/bin/true\"\n"
        ));
    }
    text.push_str(more);
    super::tests::utc_core(text)
}

/// web1/app depends on db1/postgres with `criteria` (and more settings).
fn app_on_postgres(settings: &str) -> String {
    format!(
        "\n[[servicedependency]]\nhost = \"db1\"\nservice = \"postgres\"\n\
         dependent_host = \"web1\"\ndependent_service = \"app\"\n{settings}"
    )
}

fn outcome(state: State) -> Outcome {
    Outcome::printed(
        state,
        format!("X {} - x\n", state.as_str()),
        SystemTime::now(),
        Duration::ZERO,
    )
}

/// The notices sent so far: (type, object, state).
fn sent(rx: &mut mpsc::UnboundedReceiver<Notice>) -> Vec<(&'static str, String, String)> {
    std::iter::from_fn(|| rx.try_recv().ok())
        .map(|n| (n.kind.as_str(), n.subject_name(), n.state))
        .collect()
}

fn problem(what: &str, state: &str) -> (&'static str, String, String) {
    ("PROBLEM", what.into(), state.into())
}

#[test]
fn a_check_is_held_while_its_master_is_hard_critical_not_while_it_is_soft() {
    let (mut c, _rx) = core(
        "",
        &app_on_postgres("execution_failure_criteria = \"c,u\"\n"),
    );
    let (postgres, app) = (c.find("db1/postgres").unwrap(), c.find("web1/app").unwrap());
    let cache = c.find("web1/cache").unwrap();
    // pending (not a criterion here), then OK
    assert_eq!(c.check_held(app, MON), None);
    c.apply(postgres, &outcome(State::Ok), 0.0, MON);
    assert_eq!(c.check_held(app, MON), None);
    // soft CRITICAL: the master's last hard state (OK) counts
    c.apply(postgres, &outcome(State::Critical), 0.0, MON + 10);
    assert_eq!(c.services[0].record.state_type, StateType::Soft);
    assert_eq!(c.check_held(app, MON + 10), None);
    // hard CRITICAL: held, saying why; other services are not
    c.apply(postgres, &outcome(State::Critical), 0.0, MON + 20);
    let why = "execution dependency on db1/postgres (CRITICAL) failed";
    assert_eq!(c.check_held(app, MON + 20).as_deref(), Some(why));
    assert_eq!(c.check_held(cache, MON + 20), None);
    assert_eq!(c.check_held(postgres, MON + 20), None);
    // a hard WARNING is not a criterion (a change between problems stays hard)
    c.apply(postgres, &outcome(State::Warning), 0.0, MON + 30);
    assert_eq!(c.services[0].record.state_type, StateType::Hard);
    assert_eq!(c.check_held(app, MON + 30), None);
    // UNKNOWN is
    c.apply(postgres, &outcome(State::Unknown), 0.0, MON + 60);
    assert_eq!(
        c.check_held(app, MON + 60).as_deref(),
        Some("execution dependency on db1/postgres (UNKNOWN) failed")
    );
    c.apply(postgres, &outcome(State::Ok), 0.0, MON + 70);
    assert_eq!(c.check_held(app, MON + 70), None);

    // with soft_state_dependencies, the soft state counts
    let (mut c, _rx) = core(
        "soft_state_dependencies = true",
        &app_on_postgres("execution_failure_criteria = \"c\"\n"),
    );
    c.apply(postgres, &outcome(State::Ok), 0.0, MON);
    c.apply(postgres, &outcome(State::Critical), 0.0, MON + 10);
    assert_eq!(c.services[0].record.state_type, StateType::Soft);
    assert_eq!(c.check_held(app, MON + 10).as_deref(), Some(why));
}

#[test]
fn a_failed_notification_dependency_holds_back_problems_and_recoveries_uncounted() {
    let (mut c, mut rx) = core(
        "",
        &app_on_postgres("notification_failure_criteria = \"w,c\"\n"),
    );
    let (postgres, app) = (c.find("db1/postgres").unwrap(), c.find("web1/app").unwrap());
    for t in [0, 10] {
        c.apply(postgres, &outcome(State::Critical), 0.0, MON + t);
    }
    assert_eq!(sent(&mut rx), vec![problem("db1/postgres", "CRITICAL")]);
    // no execution criteria: the dependent's checks run
    assert_eq!(c.check_held(app, MON + 10), None);
    assert!(c.policy(app, MON + 10).normal_notifications_held);
    assert_eq!(
        c.dependency_failure(app, Kind::Notification, MON + 10)
            .as_deref(),
        Some("notification dependency on db1/postgres (CRITICAL) failed")
    );
    // the dependent goes hard CRITICAL: nothing sent, nothing counted
    for t in [20, 30, 40] {
        c.apply(app, &outcome(State::Critical), 0.0, MON + t);
    }
    assert_eq!(sent(&mut rx), vec![]);
    assert_eq!(c.services[1].record.notification_number, 0);
    // an acknowledgement is not held back (Nagios checks no dependency for it)
    let ack = Ack {
        author: "a".into(),
        comment: "known".into(),
        sticky: true,
        time: MON + 45,
        expires: None,
    };
    c.acknowledge("web1/app", ack).unwrap().wait().unwrap();
    assert_eq!(
        sent(&mut rx),
        vec![("ACKNOWLEDGEMENT", "web1/app".into(), "CRITICAL".into())]
    );
    c.services[1].record.unacknowledge();
    // the master recovers: the problem still there is notified at the next check
    c.apply(postgres, &outcome(State::Ok), 0.0, MON + 50);
    assert_eq!(
        sent(&mut rx),
        vec![("RECOVERY", "db1/postgres".into(), "OK".into())]
    );
    c.apply(app, &outcome(State::Critical), 0.0, MON + 60);
    assert_eq!(sent(&mut rx), vec![problem("web1/app", "CRITICAL")]);
    assert_eq!(c.services[1].record.notification_number, 1);
    // the master fails again, then the dependent recovers: no recovery is sent
    for t in [70, 80] {
        c.apply(postgres, &outcome(State::Warning), 0.0, MON + t);
    }
    assert_eq!(sent(&mut rx), vec![problem("db1/postgres", "WARNING")]);
    c.apply(app, &outcome(State::Ok), 0.0, MON + 90);
    assert_eq!(sent(&mut rx), vec![]);
    assert_eq!(c.services[1].record.notification_number, 0);
}

#[test]
fn inherits_parent_follows_the_masters_own_dependencies() {
    // web1/app on web1/cache (inherits), web1/cache on db1/postgres
    let chain = |inherits: bool| {
        format!(
            "\n[[servicedependency]]\nhost = \"web1\"\nservice = \"cache\"\n\
             dependent_service = \"app\"\nexecution_failure_criteria = \"c\"\n\
             inherits_parent = {inherits}\n\
             \n[[servicedependency]]\nhost = \"db1\"\nservice = \"postgres\"\n\
             dependent_host = \"web1\"\ndependent_service = \"cache\"\n\
             execution_failure_criteria = \"w\"\n"
        )
    };
    for inherits in [true, false] {
        let (mut c, _rx) = core("", &chain(inherits));
        let postgres = c.find("db1/postgres").unwrap();
        let (cache, app) = (c.find("web1/cache").unwrap(), c.find("web1/app").unwrap());
        for t in [0, 10] {
            c.apply(postgres, &outcome(State::Warning), 0.0, MON + t);
        }
        assert_eq!(
            c.check_held(cache, MON + 10).as_deref(),
            Some("execution dependency on db1/postgres (WARNING) failed")
        );
        let want = inherits.then_some(
            "execution dependency on web1/cache failed: inherited from db1/postgres (WARNING)",
        );
        assert_eq!(c.check_held(app, MON + 10).as_deref(), want, "{inherits}");
        // the dependent's own master failing says so directly
        for t in [20, 30] {
            c.apply(cache, &outcome(State::Critical), 0.0, MON + t);
        }
        assert_eq!(
            c.check_held(app, MON + 30).as_deref(),
            Some("execution dependency on web1/cache (CRITICAL) failed")
        );
    }
}

#[test]
fn outside_its_period_a_dependency_does_not_fail_and_pending_fails_on_p() {
    let (mut c, mut rx) = core(
        "",
        &app_on_postgres(
            "execution_failure_criteria = \"p\"\nnotification_failure_criteria = \"c\"\n\
             dependency_period = \"nights\"\n",
        ),
    );
    let (postgres, app) = (c.find("db1/postgres").unwrap(), c.find("web1/app").unwrap());
    let (night, day) = (MON + 3 * HOUR, MON + 12 * HOUR);
    // never checked: pending
    assert_eq!(
        c.check_held(app, night).as_deref(),
        Some("execution dependency on db1/postgres (PENDING) failed")
    );
    assert_eq!(c.check_held(app, day), None);
    c.apply(postgres, &outcome(State::Ok), 0.0, night);
    assert_eq!(c.check_held(app, night), None);
    for t in [night, night + 10] {
        c.apply(postgres, &outcome(State::Critical), 0.0, t);
    }
    rx.try_recv().unwrap();
    // at night the dependent's problem is held back, by day it goes out
    for t in [night + 20, night + 30] {
        c.apply(app, &outcome(State::Critical), 0.0, t);
    }
    assert_eq!(sent(&mut rx), vec![]);
    c.apply(app, &outcome(State::Critical), 0.0, day);
    assert_eq!(sent(&mut rx), vec![problem("web1/app", "CRITICAL")]);
}

#[test]
fn host_dependencies_hold_host_checks_and_the_hosts_service_notifications() {
    let (mut c, mut rx) = core(
        "",
        "\n[[hostdependency]]\nhost = \"router\"\ndependent_host = \"server\"\n\
         execution_failure_criteria = \"d\"\nnotification_failure_criteria = \"d,u\"\n",
    );
    let (router, server) = (c.find("router").unwrap(), c.find("server").unwrap());
    let www = c.find("server/www").unwrap();
    for t in [0, 10] {
        c.apply(router, &outcome(State::Critical), 0.0, MON + t);
    }
    assert_eq!(sent(&mut rx), vec![problem("router", "DOWN")]);
    assert_eq!(
        c.check_held(server, MON + 10).as_deref(),
        Some("execution dependency on router (DOWN) failed")
    );
    // a service's checks are not held by its host's dependencies, its notifications are
    assert_eq!(c.check_held(www, MON + 10), None);
    assert_eq!(
        c.dependency_failure(www, Kind::Notification, MON + 10)
            .as_deref(),
        Some("host notification dependency on router (DOWN) failed")
    );
    for t in [20, 30] {
        c.apply(www, &outcome(State::Critical), 0.0, MON + t);
    }
    assert_eq!(sent(&mut rx), vec![]);
    assert_eq!(c.services[3].record.notification_number, 0);
    // the router is back: the problem is notified at its next check
    c.apply(router, &outcome(State::Ok), 0.0, MON + 40);
    assert_eq!(
        sent(&mut rx),
        vec![("RECOVERY", "router".into(), "UP".into())]
    );
    assert_eq!(c.check_held(server, MON + 40), None);
    c.apply(www, &outcome(State::Critical), 0.0, MON + 50);
    assert_eq!(sent(&mut rx), vec![problem("server/www", "CRITICAL")]);
}
