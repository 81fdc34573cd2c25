//! Nagios' external commands: the line format scripts write to Nagios' command file
//! (`[TIMESTAMP] COMMAND;arg1;arg2...`), read into typed commands by a pure parser
//! ([`parse`]) that never panics and refuses a line with one clear reason, and carried
//! out on the core ([`Core::execute`]).
//!
//! The commands taken, with Nagios' fields (its documentation of external commands):
//! ```text
//! PROCESS_SERVICE_CHECK_RESULT;host;service;return_code;plugin_output
//! PROCESS_HOST_CHECK_RESULT;host;status_code;plugin_output
//! ACKNOWLEDGE_SVC_PROBLEM;host;service;sticky;notify;persistent;author;comment
//! ACKNOWLEDGE_HOST_PROBLEM;host;sticky;notify;persistent;author;comment
//! SCHEDULE_SVC_DOWNTIME;host;service;start;end;fixed;trigger_id;duration;author;comment
//! SCHEDULE_HOST_DOWNTIME;host;start;end;fixed;trigger_id;duration;author;comment
//! SCHEDULE_FORCED_SVC_CHECK;host;service;check_time   (and SCHEDULE_SVC_CHECK)
//! SCHEDULE_FORCED_HOST_CHECK;host;check_time          (and SCHEDULE_HOST_CHECK)
//! ENABLE_SVC_NOTIFICATIONS;host;service   DISABLE_SVC_NOTIFICATIONS;host;service
//! ENABLE_HOST_NOTIFICATIONS;host          DISABLE_HOST_NOTIFICATIONS;host
//! ENABLE_SVC_CHECK;host;service           DISABLE_SVC_CHECK;host;service
//! ENABLE_HOST_CHECK;host                  DISABLE_HOST_CHECK;host
//! ENABLE_PASSIVE_SVC_CHECKS;host;service  DISABLE_PASSIVE_SVC_CHECKS;host;service
//! ENABLE_PASSIVE_HOST_CHECKS;host         DISABLE_PASSIVE_HOST_CHECKS;host
//! ```
//! As in Nagios the last field of a command ending in text (plugin output, comment)
//! takes the rest of the line, `;` included; every other field count is exact. A
//! name holding `;` therefore shifts the fields after it: the line is refused by the
//! field that is then wrong (a bad number, a wrong count) or by the unknown object.
//! An acknowledgement is notified only when its `notify` field is 1 (`persistent` is
//! read and not used: comments are kept across restarts anyway). Only fixed
//! downtimes are taken (a flexible one, `fixed` 0, or a triggered one is
//! refused, saying so); a check is scheduled now (a `check_time` later than a minute
//! ahead is refused). A plugin output's `\n` (backslash, n) is a line break and `\\`
//! a backslash, as Nagios reads them. The `[TIMESTAMP]` is checked as a number and
//! not used: results are applied as of their arrival.

use crate::daemon::{Core, Target};
use crate::journal::Durability;
use crate::passive::shown;
use crate::state::{Ack, Time};

/// The longest line taken (bytes), Nagios' plugin output limit included.
pub const MAX_LINE: usize = 8192 + 512;

/// The longest name (host or service) taken.
const MAX_NAME: usize = 512;

/// What a command is about: a host, or a service of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub host: String,
    pub service: Option<String>,
}

impl Object {
    /// "HOST" or "HOST/SERVICE".
    pub fn key(&self) -> String {
        match &self.service {
            Some(s) => format!("{}/{s}", self.host),
            None => self.host.clone(),
        }
    }
}

/// What a command does to its object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A passive result: a service's 0-3 or a host's 0-2, the plugin output.
    Result {
        code: u8,
        output: String,
    },
    Acknowledge {
        sticky: bool,
        notify: bool,
        persistent: bool,
        author: String,
        comment: String,
    },
    /// A fixed downtime from `start` to `end` (Unix seconds).
    Downtime {
        start: u64,
        end: u64,
        author: String,
        comment: String,
    },
    /// A check asked for at `time`; `forced` runs it even when checks are disabled.
    Check {
        time: u64,
        forced: bool,
    },
    Notifications(bool),
    Checks(bool),
    PassiveChecks(bool),
}

/// One command line, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The `[TIMESTAMP]`.
    pub time: u64,
    /// The command's name as written (upper case).
    pub name: String,
    pub object: Object,
    pub action: Action,
}

/// The shape of a command's arguments after the object's name(s).
#[derive(Clone, Copy)]
enum Shape {
    Result,
    Acknowledge,
    Downtime,
    Check(bool),
    Notifications(bool),
    Checks(bool),
    PassiveChecks(bool),
}

/// The commands taken: name, whether about a service, shape.
const COMMANDS: &[(&str, bool, Shape)] = &[
    ("PROCESS_SERVICE_CHECK_RESULT", true, Shape::Result),
    ("PROCESS_HOST_CHECK_RESULT", false, Shape::Result),
    ("ACKNOWLEDGE_SVC_PROBLEM", true, Shape::Acknowledge),
    ("ACKNOWLEDGE_HOST_PROBLEM", false, Shape::Acknowledge),
    ("SCHEDULE_SVC_DOWNTIME", true, Shape::Downtime),
    ("SCHEDULE_HOST_DOWNTIME", false, Shape::Downtime),
    ("SCHEDULE_FORCED_SVC_CHECK", true, Shape::Check(true)),
    ("SCHEDULE_FORCED_HOST_CHECK", false, Shape::Check(true)),
    ("SCHEDULE_SVC_CHECK", true, Shape::Check(false)),
    ("SCHEDULE_HOST_CHECK", false, Shape::Check(false)),
    ("ENABLE_SVC_NOTIFICATIONS", true, Shape::Notifications(true)),
    (
        "DISABLE_SVC_NOTIFICATIONS",
        true,
        Shape::Notifications(false),
    ),
    (
        "ENABLE_HOST_NOTIFICATIONS",
        false,
        Shape::Notifications(true),
    ),
    (
        "DISABLE_HOST_NOTIFICATIONS",
        false,
        Shape::Notifications(false),
    ),
    ("ENABLE_SVC_CHECK", true, Shape::Checks(true)),
    ("DISABLE_SVC_CHECK", true, Shape::Checks(false)),
    ("ENABLE_HOST_CHECK", false, Shape::Checks(true)),
    ("DISABLE_HOST_CHECK", false, Shape::Checks(false)),
    (
        "ENABLE_PASSIVE_SVC_CHECKS",
        true,
        Shape::PassiveChecks(true),
    ),
    (
        "DISABLE_PASSIVE_SVC_CHECKS",
        true,
        Shape::PassiveChecks(false),
    ),
    (
        "ENABLE_PASSIVE_HOST_CHECKS",
        false,
        Shape::PassiveChecks(true),
    ),
    (
        "DISABLE_PASSIVE_HOST_CHECKS",
        false,
        Shape::PassiveChecks(false),
    ),
];

impl Shape {
    /// The argument names after the object (for messages), and whether the last takes
    /// the rest of the line.
    fn fields(self) -> (&'static [&'static str], bool) {
        match self {
            Shape::Result => (&["return_code", "plugin_output"], true),
            Shape::Acknowledge => (
                &["sticky", "notify", "persistent", "author", "comment"],
                true,
            ),
            Shape::Downtime => (
                &[
                    "start_time",
                    "end_time",
                    "fixed",
                    "trigger_id",
                    "duration",
                    "author",
                    "comment",
                ],
                true,
            ),
            Shape::Check(_) => (&["check_time"], false),
            Shape::Notifications(_) | Shape::Checks(_) | Shape::PassiveChecks(_) => (&[], false),
        }
    }
}

/// Parses one command line (without its line end). The error says what is wrong.
pub fn parse(line: &str) -> Result<Command, String> {
    if line.len() > MAX_LINE {
        return Err(format!("line longer than {MAX_LINE} bytes"));
    }
    let rest = line
        .strip_prefix('[')
        .ok_or("expected '[TIMESTAMP] COMMAND;...'")?;
    let (stamp, rest) = rest
        .split_once(']')
        .ok_or("expected '[TIMESTAMP] COMMAND;...': no ']'")?;
    let time = number(stamp.trim(), "timestamp")?;
    let rest = rest.trim_start_matches(' ');
    let (name, args) = rest.split_once(';').unwrap_or((rest, ""));
    let Some(&(name, service, shape)) = COMMANDS.iter().find(|(n, _, _)| *n == name) else {
        return Err(format!("unknown or unsupported command '{}'", shown(name)));
    };
    let (fields, rest_of_line) = shape.fields();
    let names = if service { 2 } else { 1 };
    let want = names + fields.len();
    let parts: Vec<&str> = if rest_of_line {
        args.splitn(want, ';').collect()
    } else {
        args.split(';').collect()
    };
    if parts.len() != want || (want == 0 && !args.is_empty()) {
        let what: Vec<&str> = ["host_name", "service_description"][..names]
            .iter()
            .chain(fields)
            .copied()
            .collect();
        return Err(format!(
            "{name}: {} fields where {want} are expected ({})",
            if args.is_empty() { 0 } else { parts.len() },
            what.join(";")
        ));
    }
    let object = Object {
        host: object_name(parts[0], "host_name")?,
        service: match service {
            true => Some(object_name(parts[1], "service_description")?),
            false => None,
        },
    };
    let f = &parts[names..];
    let flag = |i: usize| -> Result<bool, String> {
        match f[i].trim() {
            "0" => Ok(false),
            "1" | "2" => Ok(true),
            x => Err(format!(
                "{name}: {} '{}' is not 0 or 1",
                fields[i],
                shown(x)
            )),
        }
    };
    let num = |i: usize| number(f[i].trim(), fields[i]).map_err(|e| format!("{name}: {e}"));
    let action = match shape {
        Shape::Result => {
            let code = num(0)?;
            let max = if service { 3 } else { 2 };
            if code > max {
                return Err(format!(
                    "{name}: return_code {code} is not a {} state (0-{max})",
                    if service { "service" } else { "host" }
                ));
            }
            Action::Result {
                code: code as u8,
                output: unescape(f[1]),
            }
        }
        Shape::Acknowledge => Action::Acknowledge {
            // Nagios: 2 is sticky, 0 and 1 are not
            sticky: match f[0].trim() {
                "0" | "1" => false,
                "2" => true,
                x => return Err(format!("{name}: sticky '{}' is not 0, 1 or 2", shown(x))),
            },
            notify: flag(1)?,
            persistent: flag(2)?,
            author: f[3].trim().to_string(),
            comment: f[4].trim().to_string(),
        },
        Shape::Downtime => {
            let (start, end) = (num(0)?, num(1)?);
            let fixed = flag(2)?;
            let (trigger, _duration) = (num(3)?, num(4)?);
            if !fixed {
                return Err(format!(
                    "{name}: flexible downtimes (fixed 0) are not supported: \
                     schedule a fixed one (fixed 1)"
                ));
            }
            if trigger != 0 {
                return Err(format!(
                    "{name}: triggered downtimes (trigger_id {trigger}) are not supported"
                ));
            }
            Action::Downtime {
                start,
                end,
                author: f[5].trim().to_string(),
                comment: f[6].trim().to_string(),
            }
        }
        Shape::Check(forced) => Action::Check {
            time: num(0)?,
            forced,
        },
        Shape::Notifications(on) => Action::Notifications(on),
        Shape::Checks(on) => Action::Checks(on),
        Shape::PassiveChecks(on) => Action::PassiveChecks(on),
    };
    Ok(Command {
        time,
        name: name.to_string(),
        object,
        action,
    })
}

/// A plugin output as Nagios reads it from a command: `\n` is a line break, `\\` a
/// backslash.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// A whole number in decimal.
fn number(text: &str, what: &str) -> Result<u64, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{what} '{}' is not a whole number", shown(text)));
    }
    text.parse()
        .map_err(|_| format!("{what} '{}' is too large", shown(text)))
}

/// A host or service name: not empty, within bounds, no control characters, and a
/// host name without '/'.
fn object_name(text: &str, what: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err(format!("{what} is empty"));
    }
    if text.len() > MAX_NAME {
        return Err(format!("{what} is longer than {MAX_NAME} bytes"));
    }
    if text.chars().any(char::is_control) || (what == "host_name" && text.contains('/')) {
        return Err(format!("{what} '{}' is not a name", shown(text)));
    }
    Ok(text.to_string())
}

impl Core {
    /// Carries out an external command at `now`: what it did, to log, or why it was
    /// refused (nothing applied then). The author of an acknowledgement or downtime
    /// is the command's `author` field.
    pub fn execute(&mut self, c: &Command, now: Time) -> Result<String, String> {
        let key = c.object.key();
        let target = self
            .find(&key)
            .ok_or_else(|| format!("{}: no host or service '{}'", c.name, shown(&key)))?;
        let done = match &c.action {
            Action::Result { code, output } => {
                self.submit_result(target, *code, output, now)?;
                format!("result {code} for {key}")
            }
            Action::Acknowledge {
                sticky,
                notify,
                author,
                comment,
                ..
            } => {
                let comment = crate::admin::check_comment(comment)?;
                let author = checked_author(author)?;
                let ack = Ack {
                    author,
                    comment,
                    sticky: *sticky,
                    time: now,
                    expires: None,
                };
                // as Core::acknowledge, the acknowledgement notified only with `notify`
                let mut policy = self.policy(target, now);
                policy.notifications_enabled &= *notify;
                let n = match target {
                    Target::Host(i) => self.hosts[i].record.acknowledge(ack, &policy)?,
                    Target::Service(i) => self.services[i].record.acknowledge(ack, &policy)?,
                };
                let gate = self.history_ack(target, now);
                self.send_after(gate, target, &n, now);
                // journaled at once; nobody waits for its confirmation
                drop(self.persist(target, Durability::Sync));
                format!("acknowledged {key}")
            }
            Action::Downtime {
                start,
                end,
                author,
                comment,
            } => {
                let comment = crate::admin::check_comment(comment)?;
                let author = checked_author(author)?;
                let duration = std::time::Duration::from_secs(end.saturating_sub(*start));
                let (start, end) = crate::admin::downtime_window(
                    *start,
                    duration,
                    now,
                    self.config.daemon.max_downtime,
                )?;
                self.room_for_downtime()?;
                let (id, saving) = self.schedule_downtime(&key, start, end, author, comment)?;
                drop(saving);
                format!("downtime {id} for {key}")
            }
            Action::Check { time, forced } => {
                if *time > now + 60 {
                    return Err(format!(
                        "{}: a check at a later time ({time}) is not supported: only now",
                        c.name
                    ));
                }
                if !self.has_active_check(target) {
                    return Err(format!("{}: {key} has no active check", c.name));
                }
                if !forced && !self.checks_enabled(target) {
                    return Err(format!(
                        "{}: the active checks of {key} are disabled (a forced check runs)",
                        c.name
                    ));
                }
                self.request_check(&[target]);
                format!("check of {key} asked for")
            }
            Action::Notifications(on) => {
                drop(self.set_notifications_enabled(&[target], *on));
                format!("notifications of {key} {}", if *on { "on" } else { "off" })
            }
            Action::PassiveChecks(on) => {
                self.set_passive_checks_enabled(&[target], *on);
                format!(
                    "passive results of {key} {}",
                    if *on { "taken" } else { "refused" }
                )
            }
            Action::Checks(on) => {
                drop(self.set_checks_enabled(&[target], *on));
                format!("active checks of {key} {}", if *on { "on" } else { "off" })
            }
        };
        Ok(done)
    }
}

/// An author as kept: trimmed, not empty, bounded, without control characters.
fn checked_author(author: &str) -> Result<String, String> {
    let a = author.trim();
    if a.is_empty() {
        return Err("the author is empty".into());
    }
    if a.len() > 128 || a.chars().any(char::is_control) {
        return Err(format!("the author '{}' is not a name", shown(a)));
    }
    Ok(a.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cmd(line: &str) -> Command {
        parse(line).unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    fn svc(h: &str, s: &str) -> Object {
        Object {
            host: h.into(),
            service: Some(s.into()),
        }
    }

    #[test]
    fn results_take_the_rest_of_the_line_as_output() {
        let c = cmd("[1700000000] PROCESS_SERVICE_CHECK_RESULT;web1;backup;2;BACKUP CRITICAL - a;b|t=1s\\nmore");
        assert_eq!(c.time, 1_700_000_000);
        assert_eq!(c.object, svc("web1", "backup"));
        assert_eq!(
            c.action,
            Action::Result {
                code: 2,
                output: "BACKUP CRITICAL - a;b|t=1s\nmore".into()
            }
        );
        let c = cmd(r"[1] PROCESS_HOST_CHECK_RESULT;web1;0;a\\nb\\\nc\x\");
        assert_eq!(
            c.action,
            Action::Result {
                code: 0,
                output: "a\\nb\\\nc\\x\\".into()
            }
        );
        let c = cmd("[1] PROCESS_HOST_CHECK_RESULT;web1;1;PING CRITICAL");
        assert_eq!(c.object.key(), "web1");
        assert_eq!(
            c.action,
            Action::Result {
                code: 1,
                output: "PING CRITICAL".into()
            }
        );
        // an empty output is an output
        let c = cmd("[1] PROCESS_HOST_CHECK_RESULT;web1;0;");
        assert_eq!(
            c.action,
            Action::Result {
                code: 0,
                output: String::new()
            }
        );
    }

    #[test]
    fn acknowledgements_downtimes_checks_and_switches() {
        let c = cmd("[5] ACKNOWLEDGE_SVC_PROBLEM;h;s;2;1;0;Some One;on it; really");
        assert_eq!(
            c.action,
            Action::Acknowledge {
                sticky: true,
                notify: true,
                persistent: false,
                author: "Some One".into(),
                comment: "on it; really".into()
            }
        );
        let c = cmd("[5] ACKNOWLEDGE_HOST_PROBLEM;h;1;0;1;a;c");
        assert_eq!(c.object.service, None);
        assert!(matches!(
            c.action,
            Action::Acknowledge { sticky: false, .. }
        ));
        let c = cmd("[5] SCHEDULE_SVC_DOWNTIME;h;s;100;200;1;0;7200;me;disk swap");
        assert_eq!(
            c.action,
            Action::Downtime {
                start: 100,
                end: 200,
                author: "me".into(),
                comment: "disk swap".into()
            }
        );
        let c = cmd("[5] SCHEDULE_HOST_DOWNTIME;h;100;200;1;0;0;me;x");
        assert_eq!(c.object.key(), "h");
        let c = cmd("[5] SCHEDULE_FORCED_SVC_CHECK;h;s;5");
        assert_eq!(
            c.action,
            Action::Check {
                time: 5,
                forced: true
            }
        );
        let c = cmd("[5] SCHEDULE_HOST_CHECK;h;5");
        assert_eq!(
            c.action,
            Action::Check {
                time: 5,
                forced: false
            }
        );
        assert_eq!(
            cmd("[5] DISABLE_SVC_NOTIFICATIONS;h;s").action,
            Action::Notifications(false)
        );
        assert_eq!(cmd("[5] ENABLE_HOST_CHECK;h").action, Action::Checks(true));
        assert_eq!(
            cmd("[5] DISABLE_PASSIVE_SVC_CHECKS;h;s").action,
            Action::PassiveChecks(false)
        );
        assert_eq!(
            cmd("[5] ENABLE_PASSIVE_HOST_CHECKS;h").action,
            Action::PassiveChecks(true)
        );
        assert_eq!(
            cmd("[5] ENABLE_HOST_NOTIFICATIONS;h").action,
            Action::Notifications(true)
        );
    }

    #[test]
    fn bad_lines_are_refused_with_one_reason() {
        let cases = [
            (
                "PROCESS_HOST_CHECK_RESULT;h;0;x",
                "expected '[TIMESTAMP] COMMAND;...'",
            ),
            (
                "[12x] PROCESS_HOST_CHECK_RESULT;h;0;x",
                "timestamp '12x' is not a whole number",
            ),
            (
                "[1] RESTART_PROGRAM",
                "unknown or unsupported command 'RESTART_PROGRAM'",
            ),
            (
                "[1] process_host_check_result;h;0;x",
                "unknown or unsupported command 'process_host_check_result'",
            ),
            (
                "[1] PROCESS_SERVICE_CHECK_RESULT;h;s;2",
                "PROCESS_SERVICE_CHECK_RESULT: 3 fields where 4 are expected \
                 (host_name;service_description;return_code;plugin_output)",
            ),
            (
                "[1] ENABLE_SVC_CHECK;h",
                "ENABLE_SVC_CHECK: 1 fields where 2 are expected (host_name;service_description)",
            ),
            (
                "[1] ENABLE_HOST_CHECK;h;s",
                "ENABLE_HOST_CHECK: 2 fields where 1 are expected (host_name)",
            ),
            // a ';' in a service name shifts the fields: caught by the number after it
            (
                "[1] PROCESS_SERVICE_CHECK_RESULT;h;disk;root;2;DISK CRITICAL",
                "PROCESS_SERVICE_CHECK_RESULT: return_code 'root' is not a whole number",
            ),
            (
                "[1] SCHEDULE_FORCED_SVC_CHECK;h;disk;root;5",
                "SCHEDULE_FORCED_SVC_CHECK: 4 fields where 3 are expected \
                 (host_name;service_description;check_time)",
            ),
            (
                "[1] PROCESS_SERVICE_CHECK_RESULT;h;s;4;out",
                "PROCESS_SERVICE_CHECK_RESULT: return_code 4 is not a service state (0-3)",
            ),
            (
                "[1] PROCESS_HOST_CHECK_RESULT;h;3;out",
                "PROCESS_HOST_CHECK_RESULT: return_code 3 is not a host state (0-2)",
            ),
            (
                "[1] PROCESS_SERVICE_CHECK_RESULT;h;s;-1;out",
                "PROCESS_SERVICE_CHECK_RESULT: return_code '-1' is not a whole number",
            ),
            (
                "[1] SCHEDULE_SVC_DOWNTIME;h;s;100;200;0;0;60;me;x",
                "SCHEDULE_SVC_DOWNTIME: flexible downtimes (fixed 0) are not supported: \
                 schedule a fixed one (fixed 1)",
            ),
            (
                "[1] SCHEDULE_HOST_DOWNTIME;h;100;200;1;7;60;me;x",
                "SCHEDULE_HOST_DOWNTIME: triggered downtimes (trigger_id 7) are not supported",
            ),
            (
                "[1] ACKNOWLEDGE_HOST_PROBLEM;h;3;0;0;me;x",
                "ACKNOWLEDGE_HOST_PROBLEM: sticky '3' is not 0, 1 or 2",
            ),
            ("[1] PROCESS_HOST_CHECK_RESULT;;0;x", "host_name is empty"),
            (
                "[1] PROCESS_HOST_CHECK_RESULT;a/b;0;x",
                "host_name 'a/b' is not a name",
            ),
            (
                "[1] SCHEDULE_HOST_CHECK;h;99999999999999999999999",
                "SCHEDULE_HOST_CHECK: check_time '99999999999999999999999' is too large",
            ),
        ];
        for (line, want) in cases {
            assert_eq!(parse(line), Err(want.to_string()), "{line}");
        }
        let long = format!("[1] PROCESS_HOST_CHECK_RESULT;h;0;{}", "x".repeat(MAX_LINE));
        assert_eq!(
            parse(&long),
            Err(format!("line longer than {MAX_LINE} bytes"))
        );
    }

    /// A core of host `h` (with a check) and service `h/s` (a check, a hard problem
    /// after one attempt, notifying contact `c`), and the notices it sends.
    fn core() -> (
        Core,
        tokio::sync::mpsc::UnboundedReceiver<crate::notify::Notice>,
    ) {
        let text = format!(
            "[defaults]\nmax_check_attempts = 1\ncontacts = [\"c\"]\n\n\
             [[contact]]\nname = \"c\"\ncommand = \"/bin/true\"\n\n\
             [[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\ncheck = \"{0}\"\nargs = [\"x\"]\n\n\
             [[service]]\nhost = \"h\"\nname = \"s\"\ncheck = \"{0}\"\nargs = [\"x\"]\n",
            crate::registry::fake::NAME
        );
        let c = crate::config::Config::from_files(vec![(None, text)]).unwrap();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let core = Core::build(
            c,
            crate::exec::Limits::default(),
            tx,
            Default::default(),
            Default::default(),
        );
        (core, rx)
    }

    fn kinds(
        rx: &mut tokio::sync::mpsc::UnboundedReceiver<crate::notify::Notice>,
    ) -> Vec<&'static str> {
        std::iter::from_fn(|| rx.try_recv().ok())
            .map(|n| n.kind.as_str())
            .collect()
    }

    #[test]
    fn commands_are_carried_out_on_the_core() {
        let (mut c, mut rx) = core();
        let now = 1_800_000_000;
        let run = |c: &mut Core, line: &str| c.execute(&cmd(line), now);
        let s = c.find("h/s").unwrap();
        assert_eq!(
            run(
                &mut c,
                "[1] PROCESS_SERVICE_CHECK_RESULT;h;s;2;S CRITICAL - down"
            ),
            Ok("result 2 for h/s".into())
        );
        assert_eq!(kinds(&mut rx), ["PROBLEM"]);
        // an acknowledgement without notify is not notified; its author is the field
        assert_eq!(
            run(
                &mut c,
                "[1] ACKNOWLEDGE_SVC_PROBLEM;h;s;2;0;1;night-script;known"
            ),
            Ok("acknowledged h/s".into())
        );
        assert_eq!(kinds(&mut rx), Vec::<&str>::new());
        let ack = c.services[0].record.ack.clone().unwrap();
        assert_eq!(
            (ack.author.as_str(), ack.comment.as_str(), ack.sticky),
            ("night-script", "known", true)
        );
        // a fixed downtime, by its author
        let line = format!(
            "[1] SCHEDULE_SVC_DOWNTIME;h;s;{};{};1;0;3600;ops;disk swap",
            now + 60,
            now + 3660
        );
        assert_eq!(run(&mut c, &line), Ok("downtime 1 for h/s".into()));
        let d = &c.services[0].record.downtimes[0];
        assert_eq!(
            (d.start, d.end, d.author.as_str()),
            (now + 60, now + 3660, "ops")
        );
        // checks: forced always, normal only while enabled
        assert_eq!(
            run(&mut c, "[1] DISABLE_SVC_CHECK;h;s"),
            Ok("active checks of h/s off".into())
        );
        assert!(!c.checks_enabled(s));
        assert_eq!(
            run(&mut c, &format!("[1] SCHEDULE_SVC_CHECK;h;s;{now}")),
            Err(
                "SCHEDULE_SVC_CHECK: the active checks of h/s are disabled (a forced check runs)"
                    .into()
            )
        );
        assert_eq!(c.requested, vec![]);
        assert_eq!(
            run(&mut c, &format!("[1] SCHEDULE_FORCED_SVC_CHECK;h;s;{now}")),
            Ok("check of h/s asked for".into())
        );
        assert_eq!(c.requested, vec![s]);
        assert_eq!(
            run(&mut c, &format!("[1] SCHEDULE_FORCED_HOST_CHECK;h;{}", now + 3600)),
            Err(format!("SCHEDULE_FORCED_HOST_CHECK: a check at a later time ({}) is not supported: only now", now + 3600))
        );
        assert_eq!(
            run(&mut c, "[1] DISABLE_HOST_NOTIFICATIONS;h"),
            Ok("notifications of h off".into())
        );
        assert!(!c.notifications_enabled(c.find("h").unwrap()));
        // an unknown object, an empty author, a downtime too long: refused, nothing done
        assert_eq!(
            run(&mut c, "[1] ENABLE_SVC_NOTIFICATIONS;h;nothing"),
            Err("ENABLE_SVC_NOTIFICATIONS: no host or service 'h/nothing'".into())
        );
        assert_eq!(
            run(&mut c, "[1] ACKNOWLEDGE_HOST_PROBLEM;h;1;1;0; ;x"),
            Err("the author is empty".into())
        );
        let line = format!(
            "[1] SCHEDULE_HOST_DOWNTIME;h;{now};{};1;0;0;ops;x",
            now + 400 * 86_400
        );
        assert!(run(&mut c, &line).is_err());
        assert!(c.hosts[0].record.downtimes.is_empty());
        assert_eq!(kinds(&mut rx), Vec::<&str>::new());
    }

    proptest! {
        #[test]
        fn no_input_panics(line in ".{0,300}") {
            let _ = parse(&line);
        }

        #[test]
        fn fields_of_known_commands_never_panic(
            i in 0..COMMANDS.len(),
            fields in proptest::collection::vec("[^;\n]{0,12}", 0..12),
            stamp in "[0-9]{0,22}",
        ) {
            let line = format!("[{stamp}] {};{}", COMMANDS[i].0, fields.join(";"));
            if let Ok(c) = parse(&line) {
                // what parses names its command and a non-empty host
                prop_assert_eq!(c.name.as_str(), COMMANDS[i].0);
                prop_assert!(!c.object.host.is_empty());
            }
        }

        #[test]
        fn a_result_round_trips(
            host in "[a-z][a-z0-9.-]{0,20}",
            service in "[A-Za-z][A-Za-z0-9 _-]{0,20}",
            code in 0u8..4,
            output in "[^\n\\\\]{0,100}",
        ) {
            let line = format!("[1] PROCESS_SERVICE_CHECK_RESULT;{host};{service};{code};{output}");
            let c = parse(&line).unwrap();
            prop_assert_eq!(c.object, Object { host, service: Some(service) });
            prop_assert_eq!(c.action, Action::Result { code, output });
        }
    }
}
