//! End-to-end tests of event handlers: the daemon and a real nagios4 run the same
//! scripted check results (a plugin that plays a list of exit codes, one per run) with
//! the same handler, which appends what its environment says; the lines match, in
//! order, the global handler's before the object's. A handler that hangs is killed with
//! its process group at its timeout and logged, and when the daemon stops; a handler
//! with shell syntax is refused at its line.

use hcoop_tests::daemon::Daemon;
use hcoop_tests::nagios::{self, Nagios};
use hcoop_tests::{bin, run, wait_until};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The plugin that plays `WORK/codes-NAME`, one exit code a run (the last one
/// repeated), counting its runs in `WORK/count-NAME`.
const SEQ: &str = "#!/bin/sh\n\
    n=$(cat \"$1/count-$2\" 2>/dev/null || echo 0)\n\
    n=$((n+1))\n\
    echo $n > \"$1/count-$2\"\n\
    code=$(sed -n \"${n}p\" \"$1/codes-$2\")\n\
    [ -z \"$code\" ] && code=$(tail -n 1 \"$1/codes-$2\")\n\
    echo \"SEQ step $n\"\n\
    exit $code\n";

/// The handler: appends `[PREFIX]STATE TYPE ATTEMPT` from its environment to
/// `WORK/handled-SERVICE`.
const HANDLER: &str = "#!/bin/sh\n\
    echo \"$2$NAGIOS_SERVICESTATE $NAGIOS_SERVICESTATETYPE $NAGIOS_SERVICEATTEMPT\" \
    >> \"$1/handled-$NAGIOS_SERVICEDESC\"\n";

/// A handler that writes its pid and hangs (with a child).
const HANG: &str = "#!/bin/sh\necho $$ > \"$1/hang.pid\"\nsleep 30\necho done > \"$1/hang.done\"\n";

/// Scripts in a directory every user may read, and work directories every user may
/// write.
struct Scripts {
    dir: tempfile::TempDir,
}

impl Scripts {
    fn new() -> Scripts {
        let dir = tempfile::Builder::new().prefix("evh").tempdir().unwrap();
        chmod(dir.path(), 0o755);
        for (name, text) in [("seq.sh", SEQ), ("handler.sh", HANDLER), ("hang.sh", HANG)] {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            chmod(&p, 0o755);
        }
        Scripts { dir }
    }

    fn script(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// A work directory `name` with the code lists `codes` (service, codes).
    fn work(&self, name: &str, codes: &[(&str, &[i32])]) -> PathBuf {
        let w = self.dir.path().join(name);
        std::fs::create_dir(&w).unwrap();
        chmod(&w, 0o777);
        for (service, list) in codes {
            let text: String = list.iter().map(|c| format!("{c}\n")).collect();
            std::fs::write(w.join(format!("codes-{service}")), text).unwrap();
        }
        w
    }
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// How many times the plugin ran for `service`.
fn runs(work: &Path, service: &str) -> usize {
    std::fs::read_to_string(work.join(format!("count-{service}")))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0)
}

/// The lines the handlers appended for `service`.
fn handled(work: &Path, service: &str) -> Vec<String> {
    std::fs::read_to_string(work.join(format!("handled-{service}")))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Each expected handler line, after the global handler's line of the same event.
fn with_global(lines: &[&str]) -> Vec<String> {
    lines
        .iter()
        .flat_map(|l| [format!("global:{l}"), l.to_string()])
        .collect()
}

/// The lines of the global handler, then of the service's own: nagios4 starts both in
/// its workers at once, so they may append in either order within one event.
fn split_global(lines: &[String]) -> (Vec<String>, Vec<String>) {
    lines
        .iter()
        .cloned()
        .partition(|l| l.starts_with("global:"))
}

/// The `[GLOBAL ]SERVICE EVENT HANDLER` lines of a Nagios-format log for `service`,
/// without their time and handler fields (the handlers are named differently).
fn handler_lines(log: &str, service: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains(&format!("EVENT HANDLER: h;{service};")))
        .filter_map(|l| {
            let line = l.split_once("] ")?.1;
            Some(line.rsplit_once(';')?.0.to_string())
        })
        .collect()
}

/// OK, then CRITICAL 4 times (3 attempts), then OK.
const PLAIN: &[i32] = &[0, 2, 2, 2, 2, 0, 0];
/// A soft recovery, a hard problem that changes from CRITICAL to WARNING, a hard
/// recovery.
const MIXED: &[i32] = &[0, 2, 0, 2, 2, 2, 2, 1, 0, 0];

#[test]
fn handlers_run_as_nagios4_runs_them() {
    let scripts = Scripts::new();
    let codes: &[(&str, &[i32])] = &[("plain", PLAIN), ("mixed", MIXED)];
    let ours = scripts.work("ours", codes);
    let theirs = scripts.work("nagios", codes);
    let (seq, handler) = (scripts.script("seq.sh"), scripts.script("handler.sh"));

    // nagios4, with the handlers' facts in its environment
    let mut objects = nagios::host("h");
    objects.push_str(&format!(
        "define command {{\n command_name seq\n command_line {seq} {w} $ARG1$\n}}\n\
         define command {{\n command_name handler\n command_line {handler} {w}\n}}\n\
         define command {{\n command_name global\n command_line {handler} {w} global:\n}}\n",
        w = theirs.display()
    ));
    for (service, _) in codes {
        objects.push_str(&format!(
            "define service {{\n host_name h\n service_description {service}\n check_command seq!{service}\n\
             event_handler handler\n check_interval 1\n retry_interval 1\n max_check_attempts 3\n\
             check_period 24x7\n notification_period 24x7\n contacts nobody\n}}\n"
        ));
    }
    let mut n = Nagios::configure(&objects);
    let cfg = n.dir.path().join("nagios.cfg");
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str(
        "enable_event_handlers=1\nenable_environment_macros=1\nlog_event_handlers=1\n\
         global_service_event_handler=global\n",
    );
    std::fs::write(&cfg, text).unwrap();
    n.start();

    // the daemon, with the same scripts
    let mut config = format!(
        "global_service_event_handler = \"{handler} {w} global:\"\n\
         event_log = \"{w}/events.log\"\n\n\
         [defaults]\ncheck_interval = \"1s\"\nretry_interval = \"1s\"\nmax_check_attempts = 3\n\
         event_handler = \"{handler} {w}\"\n\n\
         [[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n",
        w = ours.display()
    );
    for (service, _) in codes {
        config.push_str(&format!(
            "\n[[service]]\nhost = \"h\"\nname = \"{service}\"\ncommand = \"{seq} {w} {service}\"\n",
            w = ours.display()
        ));
    }
    let d = Daemon::start(&config);

    // every code played, and a few runs more
    let done = |w: &Path| codes.iter().all(|(s, list)| runs(w, s) >= list.len() + 2);
    assert!(
        wait_until(90.0, || done(&ours) && done(&theirs)),
        "not every result was played: ours {:?}, nagios4 {:?}\n{}\n{}",
        codes
            .iter()
            .map(|(s, _)| runs(&ours, s))
            .collect::<Vec<_>>(),
        codes
            .iter()
            .map(|(s, _)| runs(&theirs, s))
            .collect::<Vec<_>>(),
        d.log(),
        n.log()
    );
    std::thread::sleep(std::time::Duration::from_secs(2));
    let plain = with_global(&[
        "CRITICAL SOFT 1",
        "CRITICAL SOFT 2",
        "CRITICAL HARD 3",
        "OK HARD 3",
    ]);
    let mixed = with_global(&[
        "CRITICAL SOFT 1",
        "OK SOFT 2",
        "CRITICAL SOFT 1",
        "CRITICAL SOFT 2",
        "CRITICAL HARD 3",
        "WARNING HARD 3",
        "OK HARD 3",
    ]);
    for (service, expected) in [("plain", &plain), ("mixed", &mixed)] {
        // ours: one after the other, the global handler first
        assert_eq!(&handled(&ours, service), expected, "ours:\n{}", d.log());
        // nagios4: the same runs; started global first, as its log says
        assert_eq!(
            split_global(&handled(&theirs, service)),
            split_global(expected),
            "nagios4:\n{}",
            n.log()
        );
        // and both logs have the same event handler lines
        let ours_log = std::fs::read_to_string(ours.join("events.log")).unwrap_or_default();
        let theirs_log = handler_lines(&n.log(), service);
        assert_eq!(theirs_log.len(), expected.len(), "{}", n.log());
        assert_eq!(handler_lines(&ours_log, service), theirs_log, "{ours_log}");
    }
    // each run logged in one line
    d.wait_log(
        1.0,
        &format!("service event handler of h/plain (OK HARD 3): {handler} exited with 0"),
    );
    d.wait_log(
        1.0,
        &format!("global service event handler of h/mixed (OK SOFT 2): {handler} exited with 0"),
    );
}

#[test]
fn a_hanging_handler_is_killed_with_its_group_at_its_timeout() {
    let scripts = Scripts::new();
    let work = scripts.work("ours", &[("broken", &[2])]);
    let hang = scripts.script("hang.sh");
    let d = Daemon::start(&hanging(&scripts, &work, "1s"));
    d.wait_log(
        15.0,
        &format!(
            "service event handler of h/broken (CRITICAL HARD 1): {hang} timed out after 1s; \
             killed with its process group"
        ),
    );
    let pid = hang_pid(&work).unwrap();
    assert!(
        wait_until(2.0, || !alive(pid)),
        "the handler's group is alive"
    );
    // a HARD problem that stays runs no handler again
    assert!(wait_until(10.0, || runs(&work, "broken") >= 4));
    assert_eq!(
        d.log().matches("event handler of h/broken").count(),
        1,
        "{}",
        d.log()
    );
    assert!(!work.join("hang.done").exists());
}

#[test]
fn a_running_handler_dies_with_the_daemon() {
    let scripts = Scripts::new();
    let work = scripts.work("ours", &[("broken", &[2])]);
    let mut d = Daemon::start(&hanging(&scripts, &work, "1h"));
    let mut pid = None;
    assert!(wait_until(15.0, || {
        pid = hang_pid(&work);
        pid.is_some()
    }));
    let pid = pid.unwrap();
    assert!(alive(pid));
    d.signal(libc::SIGTERM);
    assert!(wait_until(20.0, || !d.running()), "{}", d.log());
    // killed, then reaped by whoever inherits it
    assert!(
        wait_until(5.0, || !alive(pid)),
        "the handler outlived the daemon"
    );
    assert!(!work.join("hang.done").exists());
}

/// A service hard CRITICAL at once whose handler hangs, killed after `timeout`.
fn hanging(scripts: &Scripts, work: &Path, timeout: &str) -> String {
    let (seq, hang) = (scripts.script("seq.sh"), scripts.script("hang.sh"));
    format!(
        "event_handler_timeout = \"{timeout}\"\n\n\
         [defaults]\ncheck_interval = \"1s\"\nretry_interval = \"1s\"\nmax_check_attempts = 1\n\n\
         [[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n\n\
         [[service]]\nhost = \"h\"\nname = \"broken\"\ncommand = \"{seq} {w} broken\"\n\
         event_handler = \"{hang} {w}\"\n",
        w = work.display()
    )
}

/// The pid of the hanging handler (its process group), once it wrote it.
fn hang_pid(work: &Path) -> Option<i32> {
    std::fs::read_to_string(work.join("hang.pid"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Whether a process group exists.
fn alive(group: i32) -> bool {
    // SAFETY: kill with signal 0 only asks whether the process group exists.
    unsafe { libc::kill(-group, 0) == 0 }
}

#[test]
fn a_handler_with_shell_syntax_is_refused_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("checks.toml");
    std::fs::write(
        &file,
        "[[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n\n\
         [[service]]\nhost = \"h\"\nname = \"web\"\ncommand = \"/bin/true\"\n\
         event_handler = \"/usr/sbin/service apache2 restart || /bin/true\"\n",
    )
    .unwrap();
    let r = run(
        &bin("hcoop-monitor"),
        &["-c", file.to_str().unwrap(), "validate"],
    );
    assert_ne!(r.code, 0, "{r:?}");
    let says = format!(
        "{}:line 9: service 'web' on 'h': event_handler: '|' in \
         '/usr/sbin/service apache2 restart || /bin/true' is shell syntax; event handlers run \
         without a shell",
        file.display()
    );
    assert!(r.stderr.contains(&says), "{r:?}");
}
