//! The differential test's harness: one scenario run side by side in a real Nagios 4
//! and in our daemon, each on file-driven checks (a script plugin printing the text and
//! exiting with the code found in a per-service file, so a scenario changes states on
//! cue), and the two logs (Nagios' nagios.log, our `[daemon] event_log`) read into the
//! same sequence of events, timestamps left out but order kept.

use crate::daemon::Daemon;
use crate::nagios::Nagios;
use crate::wait_until;
use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// The file-driven plugin: `state.sh FILE` prints the second line of FILE and exits
/// with the code on its first.
const STATE_SCRIPT: &str = "#!/bin/sh\n\
{ IFS= read -r code; IFS= read -r text; } < \"$1\" || { echo 'STATE UNKNOWN - no state file'; exit 3; }\n\
printf '%s\\n' \"$text\"\n\
exit \"$code\"\n";

/// nagios.cfg settings of every differential run: notifications on, and soft states
/// logged as Nagios' sample configuration logs them.
pub const NAGIOS_SETTINGS: &str = "enable_notifications=1\nlog_notifications=1\n\
log_service_retries=1\nlog_host_retries=1\nlog_event_handlers=1\nlog_initial_states=0\n";

/// A directory of per-service state files and the plugin that reads them, readable by
/// the users plugins run as (nagios, hcoop-monitor).
pub struct States {
    pub dir: TempDir,
}

impl Default for States {
    fn default() -> Self {
        States::new()
    }
}

impl States {
    /// A new directory with the plugin; every service starts OK ("STATE OK - fine").
    pub fn new() -> States {
        let dir = tempfile::Builder::new().prefix("states").tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let script = dir.path().join("state.sh");
        std::fs::write(&script, STATE_SCRIPT).unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        States { dir }
    }

    /// The plugin's path.
    pub fn script(&self) -> PathBuf {
        self.dir.path().join("state.sh")
    }

    /// The state file of `service`.
    pub fn file(&self, service: &str) -> PathBuf {
        self.dir.path().join(format!("{service}.state"))
    }

    /// The command line that checks `service`.
    pub fn command(&self, service: &str) -> String {
        format!(
            "/bin/sh {} {}",
            self.script().display(),
            self.file(service).display()
        )
    }

    /// Sets what the next check of `service` says (atomically).
    pub fn set(&self, service: &str, code: i32, text: &str) {
        let tmp = self.dir.path().join(format!(".{service}.tmp"));
        std::fs::write(&tmp, format!("{code}\n{text}\n")).unwrap();
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::rename(tmp, self.file(service)).unwrap();
    }
}

/// One event of a log as the comparison sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// SERVICE ALERT / HOST ALERT: object ("host" or "host/service"), state, type,
    /// attempt.
    Alert(String, String, String, u32),
    /// SERVICE/HOST NOTIFICATION: contact, object, what (`CRITICAL`, `OK`,
    /// `ACKNOWLEDGEMENT (CRITICAL)`, ...).
    Notification(String, String, String),
    /// [GLOBAL] SERVICE/HOST EVENT HANDLER: object, state, type, attempt.
    Handler(String, String, String, u32),
    /// FLAPPING or DOWNTIME ALERT: kind, object, STARTED/STOPPED/CANCELLED.
    Other(String, String, String),
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Alert(o, s, t, a) => write!(f, "ALERT {o} {s} {t} {a}"),
            Event::Notification(c, o, w) => write!(f, "NOTIFY {c} {o} {w}"),
            Event::Handler(o, s, t, a) => write!(f, "HANDLER {o} {s} {t} {a}"),
            Event::Other(k, o, w) => write!(f, "{k} {o} {w}"),
        }
    }
}

/// The events of a nagios.log-format text, in order; other lines are left out.
pub fn parse_log(text: &str) -> Vec<Event> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Event> {
    let rest = line.strip_prefix('[')?;
    let (_, rest) = rest.split_once("] ")?;
    let (kind, fields) = rest.split_once(": ")?;
    let f: Vec<&str> = fields.split(';').collect();
    let at = |i: usize| f.get(i).copied().unwrap_or("").to_string();
    let num = |i: usize| at(i).parse().unwrap_or(0);
    Some(match kind {
        "SERVICE ALERT" => Event::Alert(format!("{}/{}", at(0), at(1)), at(2), at(3), num(4)),
        "HOST ALERT" => Event::Alert(at(0), at(1), at(2), num(3)),
        "SERVICE NOTIFICATION" => Event::Notification(at(0), format!("{}/{}", at(1), at(2)), at(3)),
        "HOST NOTIFICATION" => Event::Notification(at(0), at(1), at(2)),
        "SERVICE EVENT HANDLER" | "GLOBAL SERVICE EVENT HANDLER" => {
            Event::Handler(format!("{}/{}", at(0), at(1)), at(2), at(3), num(4))
        }
        "HOST EVENT HANDLER" | "GLOBAL HOST EVENT HANDLER" => {
            Event::Handler(at(0), at(1), at(2), num(3))
        }
        "SERVICE FLAPPING ALERT" | "SERVICE DOWNTIME ALERT" => {
            Event::Other(kind.to_string(), format!("{}/{}", at(0), at(1)), at(2))
        }
        "HOST FLAPPING ALERT" | "HOST DOWNTIME ALERT" => {
            Event::Other(kind.to_string(), at(0), at(1))
        }
        _ => return None,
    })
}

/// One step of a scenario.
#[derive(Debug, Clone)]
pub enum Step {
    /// The next checks of a service say this: (service, exit code, text).
    Set(&'static str, i32, &'static str),
    /// A passive result of a service of host `web`: (service, code, output).
    Submit(&'static str, u8, &'static str),
    /// A fixed downtime of a service of host `web` from now: (service, seconds).
    Downtime(&'static str, u64),
    /// Acknowledges the problem of a service of host `web` (not sticky, notified).
    Ack(&'static str),
    /// Waits (up to 60 s) until `n` events of the log show `text` (a part of their
    /// [`Event`] display, e.g. `NOTIFY ops web/app CRITICAL`).
    Wait(&'static str, usize),
    /// Waits this many seconds.
    Sleep(f64),
    /// Waits until this Unix time.
    Until(u64),
}

/// How long a [`Step::Wait`] waits at most.
const WAIT: f64 = 60.0;

/// What a scenario runs on: states to set and a log to read.
pub trait System {
    /// Its name in messages.
    fn name(&self) -> &'static str;
    fn states(&self) -> &States;
    /// Submits a passive result for `web/SERVICE`.
    fn submit(&self, service: &str, code: u8, output: &str);
    /// Schedules a fixed downtime of `web/SERVICE` from now.
    fn downtime(&self, service: &str, secs: u64);
    /// Acknowledges the problem of `web/SERVICE`.
    fn ack(&self, service: &str);
    /// The log so far.
    fn log(&self) -> String;
    /// More to show when a wait fails.
    fn context(&self) -> String {
        String::new()
    }
}

/// Runs `steps` on `system`; the events of its log at the end.
pub fn run(system: &dyn System, steps: &[Step]) -> Vec<Event> {
    for (i, step) in steps.iter().enumerate() {
        if std::env::var_os("DIFFERENTIAL_TRACE").is_some() {
            eprintln!(
                "{} {} step {i}: {step:?}",
                hcoop_monitor::clock::unix_now(),
                system.name()
            );
        }
        match step {
            Step::Set(service, code, text) => system.states().set(service, *code, text),
            Step::Submit(service, code, output) => system.submit(service, *code, output),
            Step::Downtime(service, secs) => system.downtime(service, *secs),
            Step::Ack(service) => system.ack(service),
            Step::Wait(text, n) => {
                let count = || {
                    parse_log(&system.log())
                        .iter()
                        .filter(|e| e.to_string().contains(text))
                        .count()
                };
                let ok = wait_until(WAIT, || count() >= *n);
                assert!(
                    ok,
                    "{}: step {i}: never saw {n} × '{text}' (saw {}):\n{}\n{}",
                    system.name(),
                    count(),
                    show(&parse_log(&system.log())),
                    system.context()
                );
            }
            Step::Sleep(secs) => std::thread::sleep(std::time::Duration::from_secs_f64(*secs)),
            Step::Until(t) => {
                let now = hcoop_monitor::clock::unix_now();
                if *t > now {
                    std::thread::sleep(std::time::Duration::from_secs(t - now));
                }
            }
        }
    }
    parse_log(&system.log())
}

/// Events one a line, for messages.
pub fn show(events: &[Event]) -> String {
    events
        .iter()
        .map(|e| format!("  {e}\n"))
        .collect::<String>()
}

/// A real Nagios 4 on a case's object definitions.
pub struct NagiosSystem {
    pub nagios: Nagios,
    pub states: States,
}

impl NagiosSystem {
    /// Writes one external command into nagios4's command file.
    fn command(&self, command: &str) {
        use std::io::Write;
        let line = format!("[{}] {command}\n", hcoop_monitor::clock::unix_now());
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(self.nagios.command_file())
            .expect("nagios4's command file");
        f.write_all(line.as_bytes())
            .expect("write the command file");
    }
}

impl System for NagiosSystem {
    fn name(&self) -> &'static str {
        "nagios4"
    }
    fn states(&self) -> &States {
        &self.states
    }
    fn submit(&self, service: &str, code: u8, output: &str) {
        self.command(&format!(
            "PROCESS_SERVICE_CHECK_RESULT;web;{service};{code};{output}"
        ));
    }
    fn ack(&self, service: &str) {
        self.command(&format!(
            "ACKNOWLEDGE_SVC_PROBLEM;web;{service};1;1;0;tester;on it"
        ));
    }
    fn downtime(&self, service: &str, secs: u64) {
        let now = hcoop_monitor::clock::unix_now();
        self.command(&format!(
            "SCHEDULE_SVC_DOWNTIME;web;{service};{now};{};1;0;{secs};tester;differential",
            now + secs
        ));
    }
    fn log(&self) -> String {
        self.nagios.log()
    }
}

/// Our daemon on a case's configuration, writing its event log beside its states.
pub struct OurSystem {
    pub daemon: Daemon,
    pub states: States,
}

impl OurSystem {
    /// The event log's path for a states directory.
    pub fn event_log(states: &States) -> PathBuf {
        states.dir.path().join("events.log")
    }

    /// Starts the daemon on `config` (TOML without `[daemon]`) with its event log.
    pub fn start(states: States, config: &str) -> OurSystem {
        let text = format!(
            "event_log = \"{}\"\n{config}",
            OurSystem::event_log(&states).display()
        );
        OurSystem {
            daemon: Daemon::start(&text),
            states,
        }
    }
}

impl System for OurSystem {
    fn name(&self) -> &'static str {
        "hcoop-monitor"
    }
    fn states(&self) -> &States {
        &self.states
    }
    fn submit(&self, service: &str, code: u8, output: &str) {
        let r = self.daemon.cli(&[
            "submit",
            &format!("web/{service}"),
            &code.to_string(),
            output,
        ]);
        assert_eq!(r.code, 0, "submit: {}{}", r.stdout, r.stderr);
    }
    fn ack(&self, service: &str) {
        let r = self.daemon.ack(&format!("web/{service}"), "on it", false);
        assert!(r.is_ok(), "ack: {r:?}");
    }
    fn downtime(&self, service: &str, secs: u64) {
        let id = self.daemon.downtime(
            &format!("web/{service}"),
            &format!("{secs}s"),
            "differential",
        );
        assert!(id.is_ok(), "downtime: {id:?}");
    }
    fn log(&self) -> String {
        std::fs::read_to_string(OurSystem::event_log(&self.states)).unwrap_or_default()
    }
    fn context(&self) -> String {
        self.daemon.log()
    }
}

/// Runs the same steps on both systems at once (each waits on its own log); their
/// events: (Nagios', ours).
pub fn side_by_side(
    nagios: &NagiosSystem,
    ours: &OurSystem,
    steps: &[Step],
) -> (Vec<Event>, Vec<Event>) {
    std::thread::scope(|s| {
        let n = s.spawn(|| run(nagios, steps));
        let o = s.spawn(|| run(ours, steps));
        let ours = o.join();
        let theirs = n.join();
        match (theirs, ours) {
            (Ok(t), Ok(o)) => (t, o),
            (Err(p), _) | (_, Err(p)) => std::panic::resume_unwind(p),
        }
    })
}

/// Our configuration of a configured (not yet started) Nagios: what `hcoop-monitor
/// import nagios` makes of its nagios.cfg, its plugin's state files (`theirs`) moved
/// to `ours`.
pub fn import(nagios: &Nagios, theirs: &States, ours: &States) -> String {
    let cfg = nagios.dir.path().join("nagios.cfg");
    let r = crate::run(
        &crate::bin("hcoop-monitor"),
        &["import", "nagios", cfg.to_str().expect("UTF-8 path")],
    );
    assert_eq!(r.code, 0, "import nagios: {}{}", r.stdout, r.stderr);
    r.stdout
        .replace(&path_str(theirs.dir.path()), &path_str(ours.dir.path()))
}

/// `path` as a string for configuration files.
pub fn path_str(path: &Path) -> String {
    path.to_str().expect("UTF-8 path").to_string()
}
