//! The differential test against the real peer: each case's objects are written for
//! Nagios 4 (Debian's nagios4, seconds as the interval unit) and for our daemon, both
//! run the same scripted plugin results side by side (file-driven checks changing state
//! on cue), and the sequences of soft and hard alerts and of notifications (who, which
//! type) in nagios.log and in our event log must match — every remaining difference is
//! one listed in tests/DIFFERENTIAL.md, asserted here as such.

use hcoop_tests::differential::System;
use hcoop_tests::differential::{
    import, show, side_by_side, Event, NagiosSystem, OurSystem, States, Step, NAGIOS_SETTINGS,
};
use hcoop_tests::nagios::Nagios;

/// What a case's single service `web/app` and its contact `ops` are.
struct Case {
    max_check_attempts: u32,
    retry_interval: u32,
    /// Seconds; 0 notifies once.
    notification_interval: u32,
    /// A `[[timeperiod]]` rule line of the period `window`, the service's
    /// notification_period (default 24x7).
    window: Option<String>,
    /// More object definitions for Nagios.
    more: fn(&States) -> String,
    /// More nagios.cfg settings.
    settings: &'static str,
    /// More directives of `web/app` (Nagios' names, one a line).
    app: &'static str,
}

/// No more objects.
fn nothing(_: &States) -> String {
    String::new()
}

/// The plain case the others vary: one attempt makes a problem hard, retried every
/// second, notified once, no time period, objects, settings or directives more.
const ONE_ATTEMPT: Case = Case {
    max_check_attempts: 1,
    retry_interval: 1,
    notification_interval: 0,
    window: None,
    more: nothing,
    settings: "",
    app: "",
};

impl Case {
    fn period(&self) -> &'static str {
        if self.window.is_some() {
            "window"
        } else {
            "24x7"
        }
    }

    /// The Nagios object definitions, the service checked through `states`.
    fn nagios_objects(&self, states: &States) -> String {
        let mut o = format!(
            "define command {{\n command_name file_state\n command_line /bin/sh {script} {dir}/$ARG1$.state\n}}\n\
             define command {{\n command_name notify\n command_line /bin/true\n}}\n\
             define command {{\n command_name handle\n command_line /bin/true\n}}\n\
             define contact {{\n contact_name ops\n host_notifications_enabled 1\n service_notifications_enabled 1\n\
             \x20host_notification_period 24x7\n service_notification_period 24x7\n\
             \x20host_notification_options d,u,r\n service_notification_options w,u,c,r\n\
             \x20host_notification_commands notify\n service_notification_commands notify\n}}\n\
             define contact {{\n contact_name boss\n host_notifications_enabled 1\n service_notifications_enabled 1\n\
             \x20host_notification_period 24x7\n service_notification_period 24x7\n\
             \x20host_notification_options d,u,r\n service_notification_options w,u,c,r\n\
             \x20host_notification_commands notify\n service_notification_commands notify\n}}\n\
             define host {{\n host_name web\n alias web\n address 127.0.0.1\n check_command none\n\
             \x20max_check_attempts 1\n check_interval 60\n retry_interval 60\n check_period 24x7\n\
             \x20notification_period 24x7\n notification_interval 0\n contacts ops\n}}\n\
             define service {{\n host_name web\n service_description app\n check_command file_state!app\n\
             \x20max_check_attempts {max}\n check_interval 1\n retry_interval {retry}\n check_period 24x7\n\
             \x20notification_interval {interval}\n notification_period {period}\n\
             \x20notification_options w,u,c,r\n contacts ops\n{app}}}\n",
            app = self.app,
            script = states.script().display(),
            dir = states.dir.path().display(),
            max = self.max_check_attempts,
            retry = self.retry_interval,
            interval = self.notification_interval,
            period = self.period(),
        );
        if let Some(rule) = &self.window {
            o.push_str(&format!(
                "define timeperiod {{\n timeperiod_name window\n alias window\n {rule}\n}}\n"
            ));
        }
        o.push_str(&(self.more)(states));
        o
    }

    /// Starts both systems on this case, every service OK: nagios4 on the case's
    /// objects, our daemon on what `hcoop-monitor import nagios` makes of them.
    fn start(&self) -> (NagiosSystem, OurSystem) {
        let (theirs, ours) = (States::new(), States::new());
        for s in [&theirs, &ours] {
            s.set("app", 0, "APP OK - up");
            s.set("db", 0, "DB OK - up");
            s.set("gw", 0, "GW OK - up");
        }
        let settings = format!("{NAGIOS_SETTINGS}{}", self.settings);
        let mut nagios = Nagios::configure_with(&self.nagios_objects(&theirs), &settings);
        let config = import(&nagios, &theirs, &ours);
        nagios.start();
        (
            NagiosSystem {
                nagios,
                states: theirs,
            },
            OurSystem::start(ours, &config),
        )
    }
}

fn alert(state: &str, state_type: &str, attempt: u32) -> Event {
    Event::Alert("web/app".into(), state.into(), state_type.into(), attempt)
}

fn handler(state: &str, state_type: &str, attempt: u32) -> Event {
    Event::Handler("web/app".into(), state.into(), state_type.into(), attempt)
}

fn notify(what: &str) -> Event {
    Event::Notification("ops".into(), "web/app".into(), what.into())
}

/// Runs `steps` on both systems; asserts that Nagios logged `expected` and that we
/// logged the same but for the `known` differences (each listed in DIFFERENTIAL.md):
/// (position in `expected`, what Nagios has there, what we have instead).
fn compare(
    case: &Case,
    steps: &[Step],
    expected: &[Event],
    known: &[(usize, Option<Event>, Option<Event>)],
) {
    let (nagios, ours) = case.start();
    let (theirs, mine) = side_by_side(&nagios, &ours, steps);
    assert_eq!(
        theirs,
        expected,
        "nagios4 logged:\n{}our daemon logged:\n{}",
        show(&theirs),
        show(&mine)
    );
    let mut want: Vec<Option<Event>> = expected.iter().cloned().map(Some).collect();
    for (at, theirs, mine) in known {
        assert_eq!(&want[*at], theirs, "known difference at {at}");
        want[*at] = mine.clone();
    }
    let want: Vec<Event> = want.into_iter().flatten().collect();
    assert_eq!(
        mine,
        want,
        "our daemon logged:\n{}nagios4 logged:\n{}our event log:\n{}nagios.log:\n{}",
        show(&mine),
        show(&theirs),
        ours.log(),
        nagios.log()
    );
}

const CRITICAL: Step = Step::Set("app", 2, "APP CRITICAL - down");
const WARNING: Step = Step::Set("app", 1, "APP WARNING - slow");
const OK: Step = Step::Set("app", 0, "APP OK - up");

#[test]
fn soft_problems_go_hard_after_max_check_attempts_and_recover() {
    let case = Case {
        max_check_attempts: 3,
        retry_interval: 3,
        app: " event_handler handle\n",
        ..ONE_ATTEMPT
    };
    let steps = [
        // a soft problem that recovers before its second attempt
        CRITICAL,
        Step::Wait("ALERT web/app CRITICAL SOFT 1", 1),
        OK,
        Step::Wait("ALERT web/app OK SOFT", 1),
        // one that goes hard, notified, then recovers
        CRITICAL,
        Step::Wait("NOTIFY ops web/app CRITICAL", 1),
        OK,
        Step::Wait("NOTIFY ops web/app OK", 1),
        Step::Sleep(2.5),
    ];
    // each alert runs the service's event handler, as Nagios runs it
    let expected = [
        alert("CRITICAL", "SOFT", 1),
        handler("CRITICAL", "SOFT", 1),
        alert("OK", "SOFT", 2),
        handler("OK", "SOFT", 2),
        alert("CRITICAL", "SOFT", 1),
        handler("CRITICAL", "SOFT", 1),
        alert("CRITICAL", "SOFT", 2),
        handler("CRITICAL", "SOFT", 2),
        notify("CRITICAL"),
        alert("CRITICAL", "HARD", 3),
        handler("CRITICAL", "HARD", 3),
        notify("OK"),
        alert("OK", "HARD", 3),
        handler("OK", "HARD", 3),
    ];
    compare(&case, &steps, &expected, &[]);
}

#[test]
fn a_problem_is_notified_again_every_notification_interval() {
    let case = Case {
        notification_interval: 3,
        ..ONE_ATTEMPT
    };
    let steps = [
        CRITICAL,
        Step::Wait("NOTIFY ops web/app CRITICAL", 3),
        OK,
        Step::Wait("NOTIFY ops web/app OK", 1),
        Step::Sleep(2.5),
    ];
    let expected = [
        notify("CRITICAL"),
        alert("CRITICAL", "HARD", 1),
        notify("CRITICAL"),
        notify("CRITICAL"),
        notify("OK"),
        alert("OK", "HARD", 1),
    ];
    compare(&case, &steps, &expected, &[]);
}

/// Local date and time of a Unix time as a time period rule writes them.
fn local(t: u64, format: &str) -> String {
    let out = std::process::Command::new("date")
        .arg("-d")
        .arg(format!("@{t}"))
        .arg(format!("+{format}"))
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn a_notification_period_that_ends_mid_problem_holds_back_what_follows() {
    // the period: from this minute to a minute boundary at least 15 s away, as a date
    // rule (time periods count minutes)
    let now = hcoop_monitor::clock::unix_now();
    let end = ((now + 15) / 60 + 1) * 60;
    let until = match local(end, "%H:%M").as_str() {
        "00:00" => "24:00".to_string(),
        hm => hm.to_string(),
    };
    let rule = format!(
        "{} {}-{until}",
        local(now, "%Y-%m-%d"),
        local(now - now % 60, "%H:%M")
    );
    let case = Case {
        notification_interval: 3600,
        window: Some(rule),
        ..ONE_ATTEMPT
    };
    let steps = [
        // a hard problem inside the period: notified
        CRITICAL,
        Step::Wait("NOTIFY ops web/app CRITICAL", 1),
        // the period ends; a change of problem and the recovery are not notified
        Step::Until(end + 2),
        WARNING,
        Step::Wait("ALERT web/app WARNING HARD 1", 1),
        Step::Sleep(2.5),
        OK,
        Step::Wait("ALERT web/app OK HARD 1", 1),
        Step::Sleep(2.5),
    ];
    let expected = [
        notify("CRITICAL"),
        alert("CRITICAL", "HARD", 1),
        alert("WARNING", "HARD", 1),
        alert("OK", "HARD", 1),
    ];
    compare(&case, &steps, &expected, &[]);
}

/// The escalation of `web/app` to `boss` from its third notification on.
fn escalated_from_the_third(_: &States) -> String {
    "define serviceescalation {\n host_name web\n service_description app\n\
     \x20first_notification 3\n last_notification 0\n notification_interval 3\n\
     \x20contacts boss\n}\n"
        .into()
}

#[test]
fn an_escalation_takes_over_from_the_third_notification() {
    let case = Case {
        notification_interval: 3,
        more: escalated_from_the_third,
        ..ONE_ATTEMPT
    };
    let steps = [
        CRITICAL,
        Step::Wait("NOTIFY boss web/app CRITICAL", 2),
        OK,
        Step::Wait("web/app OK HARD", 1),
        Step::Sleep(2.5),
    ];
    let boss = |what: &str| Event::Notification("boss".into(), "web/app".into(), what.into());
    let expected = [
        notify("CRITICAL"),
        alert("CRITICAL", "HARD", 1),
        notify("CRITICAL"),
        boss("CRITICAL"),
        boss("CRITICAL"),
        boss("OK"),
        alert("OK", "HARD", 1),
    ];
    compare(&case, &steps, &expected, &[]);
}

/// The passive service `web/backup`: its active check runs only when no result came
/// for 5 s.
fn passive_backup(_: &States) -> String {
    "define service {\n host_name web\n service_description backup\n\
     \x20check_command file_state!backup\n active_checks_enabled 0\n passive_checks_enabled 1\n\
     \x20check_freshness 1\n freshness_threshold 5\n max_check_attempts 1\n\
     \x20check_interval 60\n retry_interval 60\n check_period 24x7\n notification_interval 0\n\
     \x20notification_period 24x7\n notification_options w,u,c,r\n contacts ops\n}\n"
        .into()
}

#[test]
fn a_passive_service_whose_results_stop_goes_stale_and_runs_its_check() {
    let case = Case {
        more: passive_backup,
        settings: "check_service_freshness=1\nservice_freshness_check_interval=1\n\
                   additional_freshness_latency=0\n",
        ..ONE_ATTEMPT
    };
    let steps = [
        Step::Set("backup", 2, "BACKUP CRITICAL - no backup tonight"),
        // the job reports twice, within the threshold
        Step::Submit("backup", 0, "BACKUP OK - done"),
        Step::Sleep(2.0),
        Step::Submit("backup", 0, "BACKUP OK - done"),
        // then stops: stale 5 s after its last result, the check runs, notified
        Step::Wait("NOTIFY ops web/backup CRITICAL", 1),
        // stale again 5 s after that result: checked again, nothing new
        Step::Sleep(7.0),
        // the job reports again: the recovery
        Step::Submit("backup", 0, "BACKUP OK - done"),
        Step::Wait("NOTIFY ops web/backup OK", 1),
        Step::Sleep(1.0),
    ];
    let backup = |state: &str| Event::Alert("web/backup".into(), state.into(), "HARD".into(), 1);
    let notify_backup =
        |what: &str| Event::Notification("ops".into(), "web/backup".into(), what.into());
    let expected = [
        notify_backup("CRITICAL"),
        backup("CRITICAL"),
        notify_backup("OK"),
        backup("OK"),
    ];
    compare(&case, &steps, &expected, &[]);
}

/// The service `web/db`, checked every second, and `web/app`'s notifications
/// depending on it not being CRITICAL.
fn app_depends_on_db(_: &States) -> String {
    "define service {\n host_name web\n service_description db\n check_command file_state!db\n\
     \x20max_check_attempts 1\n check_interval 1\n retry_interval 1\n check_period 24x7\n\
     \x20notification_interval 0\n notification_period 24x7\n notification_options w,u,c,r\n\
     \x20contacts ops\n}\n\
     define servicedependency {\n host_name web\n service_description db\n\
     \x20dependent_host_name web\n dependent_service_description app\n\
     \x20notification_failure_criteria c\n execution_failure_criteria n\n}\n"
        .into()
}

#[test]
fn a_dependency_whose_master_fails_first_holds_the_dependents_notifications() {
    let case = Case {
        more: app_depends_on_db,
        ..ONE_ATTEMPT
    };
    let steps = [
        // the master fails first: notified
        Step::Set("db", 2, "DB CRITICAL - down"),
        Step::Wait("NOTIFY ops web/db CRITICAL", 1),
        // the dependent fails: HARD, not notified while the master is CRITICAL
        CRITICAL,
        Step::Wait("ALERT web/app CRITICAL HARD 1", 1),
        Step::Sleep(2.5),
        // the master recovers: the dependent's problem, still there, is notified
        Step::Set("db", 0, "DB OK - up"),
        Step::Wait("NOTIFY ops web/app CRITICAL", 1),
        OK,
        Step::Wait("NOTIFY ops web/app OK", 1),
        Step::Sleep(2.5),
    ];
    let db = |state: &str| Event::Alert("web/db".into(), state.into(), "HARD".into(), 1);
    let db_notify = |what: &str| Event::Notification("ops".into(), "web/db".into(), what.into());
    let expected = [
        db_notify("CRITICAL"),
        db("CRITICAL"),
        alert("CRITICAL", "HARD", 1),
        db_notify("OK"),
        db("OK"),
        notify("CRITICAL"),
        notify("OK"),
        alert("OK", "HARD", 1),
    ];
    compare(&case, &steps, &expected, &[]);
}

/// The host `gw`, checked through its state file every second, two attempts.
fn checked_gateway(_: &States) -> String {
    "define host {\n host_name gw\n alias gw\n address 127.0.0.1\n check_command file_state!gw\n\
     \x20max_check_attempts 2\n check_interval 1\n retry_interval 1\n check_period 24x7\n\
     \x20notification_period 24x7\n notification_interval 0\n notification_options d,u,r\n\
     \x20contacts ops\n}\n"
        .into()
}

#[test]
fn a_host_goes_down_soft_then_hard_and_recovers() {
    let case = Case {
        more: checked_gateway,
        settings: "cached_host_check_horizon=0\n",
        ..ONE_ATTEMPT
    };
    let steps = [
        Step::Set("gw", 0, "GW OK - up"),
        Step::Sleep(2.0),
        Step::Set("gw", 2, "GW CRITICAL - no route"),
        Step::Wait("NOTIFY ops gw DOWN", 1),
        Step::Set("gw", 0, "GW OK - up"),
        Step::Wait("NOTIFY ops gw UP", 1),
        Step::Sleep(2.0),
    ];
    let gw = |state: &str, state_type: &str, attempt| {
        Event::Alert("gw".into(), state.into(), state_type.into(), attempt)
    };
    let gw_notify = |what: &str| Event::Notification("ops".into(), "gw".into(), what.into());
    let expected = [
        gw("DOWN", "SOFT", 1),
        gw_notify("DOWN"),
        gw("DOWN", "HARD", 2),
        gw_notify("UP"),
        gw("UP", "HARD", 1),
    ];
    compare(&case, &steps, &expected, &[]);
}

#[test]
fn a_problem_in_downtime_is_notified_when_the_downtime_ends() {
    let case = ONE_ATTEMPT;
    let steps = [
        Step::Downtime("app", 6),
        Step::Wait("SERVICE DOWNTIME ALERT web/app STARTED", 1),
        // a hard problem in downtime: logged, not notified
        CRITICAL,
        Step::Wait("ALERT web/app CRITICAL HARD 1", 1),
        // the downtime ends: the problem, still there, is notified
        Step::Wait("SERVICE DOWNTIME ALERT web/app STOPPED", 1),
        Step::Wait("NOTIFY ops web/app CRITICAL", 1),
        OK,
        Step::Wait("NOTIFY ops web/app OK", 1),
        Step::Sleep(2.0),
    ];
    let downtime = |what: &str| {
        Event::Other(
            "SERVICE DOWNTIME ALERT".into(),
            "web/app".into(),
            what.into(),
        )
    };
    let expected = [
        downtime("STARTED"),
        alert("CRITICAL", "HARD", 1),
        downtime("STOPPED"),
        notify("CRITICAL"),
        notify("OK"),
        alert("OK", "HARD", 1),
    ];
    compare(&case, &steps, &expected, &[]);
}

#[test]
fn an_acknowledged_problem_is_not_notified_again_until_it_recovers() {
    let case = Case {
        notification_interval: 3,
        ..ONE_ATTEMPT
    };
    let steps = [
        CRITICAL,
        Step::Wait("NOTIFY ops web/app CRITICAL", 1),
        Step::Ack("app"),
        Step::Wait("NOTIFY ops web/app ACKNOWLEDGEMENT (CRITICAL)", 1),
        // past the notification interval: acknowledged, not notified again
        Step::Sleep(4.5),
        OK,
        Step::Wait("NOTIFY ops web/app OK", 1),
        Step::Sleep(2.0),
    ];
    let expected = [
        notify("CRITICAL"),
        alert("CRITICAL", "HARD", 1),
        notify("ACKNOWLEDGEMENT (CRITICAL)"),
        notify("OK"),
        alert("OK", "HARD", 1),
    ];
    compare(&case, &steps, &expected, &[]);
}
