//! Event handlers as data, and Nagios 4's rule of when one runs; pure (the daemon runs
//! them: [`crate::handlers`]).
//!
//! # The command
//! An `event_handler` (and `[daemon] global_host_event_handler`,
//! `global_service_event_handler`) is a program and its arguments separated by blanks,
//! run without a shell: a line with shell syntax (one of [`SHELL_METACHARS`] outside a
//! macro) is refused when the configuration loads, so that nothing a check printed is
//! ever read by a shell. Each argument may hold the macros of [`MACROS`] (`$HOSTNAME$`,
//! `$SERVICESTATE$`, ...), expanded into that one argument, whatever the value holds
//! (blanks included); a macro of a service in a host's handler is empty, as in Nagios.
//! The program itself is written out (no macro).
//!
//! # When a handler runs
//! As Nagios Core 4.4 (`handle_async_service_check_result`, `..._host_...`): after a
//! result that
//! - makes a problem of a good state (a SOFT problem, or HARD at once when
//!   `max_check_attempts` is 1 or a service's host is not UP);
//! - finds a problem in a SOFT state (each retry, including the one that makes it
//!   HARD);
//! - changes a HARD problem into another (CRITICAL to WARNING, DOWN to UNREACHABLE);
//! - is a recovery, from a SOFT or a HARD problem.
//!
//! Nothing runs on a good state that stays good (the first result included), nor on a
//! HARD problem that stays the same. The handler is told what Nagios tells it:
//! the state, type and attempt after the result, but for a recovery Nagios' own
//! figures, which the state rules do not keep: a service's SOFT recovery is `OK SOFT`
//! at the attempt after the last one, a service's HARD recovery `OK HARD` at the
//! problem's last attempt (Nagios 4.4; 4.5 says attempt 1), a host's recovery
//! attempt 1 (`UP SOFT 1` or `UP HARD 1`). See [`decide`].

use crate::state::{Condition, Record, StateType};

/// The characters that make Nagios run a command line through a shell.
pub const SHELL_METACHARS: &[char] = &[
    '!', '$', '^', '&', '*', '(', ')', '~', '[', ']', '\\', '|', '{', '}', ';', '<', '>', '?', '`',
    '"', '\'',
];

/// The macros a handler's arguments may name, each also in its environment as
/// `NAGIOS_NAME`. The `SERVICE` ones are empty for a host's handler; `LASTHOST...` are
/// set for a host's handler only.
pub const MACROS: &[&str] = &[
    "HOSTNAME",
    "HOSTALIAS",
    "HOSTADDRESS",
    "HOSTSTATE",
    "HOSTSTATEID",
    "HOSTSTATETYPE",
    "HOSTATTEMPT",
    "MAXHOSTATTEMPTS",
    "HOSTOUTPUT",
    "LONGHOSTOUTPUT",
    "HOSTPERFDATA",
    "LASTHOSTSTATE",
    "LASTHOSTSTATEID",
    "LASTHOSTCHECK",
    "LASTHOSTSTATECHANGE",
    "SERVICEDESC",
    "SERVICESTATE",
    "SERVICESTATEID",
    "SERVICESTATETYPE",
    "SERVICEATTEMPT",
    "MAXSERVICEATTEMPTS",
    "SERVICEOUTPUT",
    "LONGSERVICEOUTPUT",
    "SERVICEPERFDATA",
    "LASTSERVICESTATE",
    "LASTSERVICESTATEID",
    "LASTSERVICECHECK",
    "LASTSERVICESTATECHANGE",
    "TIMET",
];

/// The longest handler command line taken.
pub const MAX_LINE: usize = 4096;

/// One piece of an argument.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Part {
    Text(String),
    Macro(&'static str),
}

/// A handler command: a program and its arguments, macros in the arguments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Command {
    /// The line as written (named in the logs).
    pub line: String,
    program: String,
    args: Vec<Vec<Part>>,
}

impl Command {
    /// Reads a command line; refuses an empty one, shell syntax, an unknown macro and
    /// a macro in the program.
    pub fn parse(line: &str) -> Result<Command, String> {
        if line.len() > MAX_LINE {
            return Err(format!("longer than {MAX_LINE} bytes"));
        }
        let mut words = line.split_ascii_whitespace();
        let Some(program) = words.next() else {
            return Err("empty: expected a program and its arguments".into());
        };
        if program.contains('$') {
            return Err(format!(
                "the program '{program}' must be written out, without a macro"
            ));
        }
        check_text(program, line)?;
        let args = words
            .map(|w| word(w, line))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Command {
            line: line.to_string(),
            program: program.to_string(),
            args,
        })
    }

    /// The program as written.
    pub fn program(&self) -> &str {
        &self.program
    }

    /// The program and its arguments, macros expanded from `macros`.
    pub fn argv(&self, macros: &Macros) -> Vec<String> {
        let args = self.args.iter().map(|parts| {
            parts
                .iter()
                .map(|p| match p {
                    Part::Text(t) => t.as_str(),
                    Part::Macro(m) => macros.get(m),
                })
                .collect::<String>()
        });
        std::iter::once(self.program.clone()).chain(args).collect()
    }
}

/// One argument: text and macros.
fn word(w: &str, line: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut rest = w;
    while let Some(start) = rest.find('$') {
        let text = &rest[..start];
        check_text(text, line)?;
        if !text.is_empty() {
            parts.push(Part::Text(text.to_string()));
        }
        let after = &rest[start + 1..];
        let Some(end) = after.find('$') else {
            return Err(format!(
                "'$' without its closing '$' in '{w}': a handler runs without a shell"
            ));
        };
        let name = &after[..end];
        let Some(known) = MACROS.iter().find(|m| **m == name) else {
            return Err(format!(
                "unknown macro '${name}$' (known: {})",
                MACROS
                    .iter()
                    .map(|m| format!("${m}$"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        };
        parts.push(Part::Macro(known));
        rest = &after[end + 1..];
    }
    check_text(rest, line)?;
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_string()));
    }
    Ok(parts)
}

/// Refuses shell syntax in the text of a command line.
fn check_text(text: &str, line: &str) -> Result<(), String> {
    match text.chars().find(|c| SHELL_METACHARS.contains(c)) {
        Some(c) => Err(format!(
            "'{c}' in '{line}' is shell syntax; event handlers run without a shell: \
             give a program and its arguments (put shell syntax in a script)"
        )),
        None => Ok(()),
    }
}

/// The values of the macros of one handler run, by name (a name not set is empty).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Macros(pub Vec<(&'static str, String)>);

impl Macros {
    /// Sets a macro.
    pub fn set(&mut self, name: &'static str, value: impl Into<String>) {
        debug_assert!(MACROS.contains(&name), "{name} is not a handler macro");
        self.0.push((name, value.into()));
    }

    /// A macro's value ("" when not set).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The macros as environment variables (`NAGIOS_HOSTNAME`, ...), the names Nagios
    /// gives its environment macros.
    pub fn environment(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .map(|(n, v)| (format!("NAGIOS_{n}"), v.clone()))
            .collect()
    }
}

/// What a handler is told about its host or service: state, type and attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub state: &'static str,
    pub state_type: StateType,
    pub attempt: u32,
}

impl Seen {
    /// The name of the state type (`SOFT`, `HARD`).
    pub fn type_name(&self) -> &'static str {
        type_name(self.state_type)
    }
}

/// `SOFT` or `HARD`.
pub fn type_name(t: StateType) -> &'static str {
    match t {
        StateType::Soft => "SOFT",
        StateType::Hard => "HARD",
    }
}

/// The number Nagios gives a state (`$SERVICESTATEID$`, `$HOSTSTATEID$`): OK 0,
/// WARNING 1, CRITICAL 2, UNKNOWN 3; UP 0, DOWN 1, UNREACHABLE 2.
pub fn state_id(name: &str) -> u8 {
    match name {
        "WARNING" | "DOWN" => 1,
        "CRITICAL" | "UNREACHABLE" => 2,
        "UNKNOWN" => 3,
        _ => 0,
    }
}

/// Whether Nagios runs event handlers after a result, and what it tells them: `None`
/// when nothing runs. `was_*`: the object before the result (an object never checked
/// is in its good state, as Nagios' initial state); `record`: after it;
/// `max_attempts`: its `max_check_attempts`; `service`: a service (else a host).
pub fn decide<C: Condition>(
    service: bool,
    was_state: &str,
    was_type: StateType,
    was_attempt: u32,
    record: &Record<C>,
    max_attempts: u32,
) -> Option<Seen> {
    let was_good = was_state == C::GOOD.name();
    let now = Seen {
        state: record.state.name(),
        state_type: record.state_type,
        attempt: record.attempt,
    };
    match (was_good, record.state.is_good()) {
        (true, true) => None,
        (true, false) => Some(now),
        (false, true) => Some(match (service, was_type) {
            (true, StateType::Soft) => Seen {
                state_type: StateType::Soft,
                attempt: (was_attempt + 1).min(max_attempts.max(1)),
                ..now
            },
            (true, StateType::Hard) => Seen {
                state_type: StateType::Hard,
                attempt: was_attempt,
                ..now
            },
            (false, t) => Seen {
                state_type: t,
                attempt: 1,
                ..now
            },
        }),
        (false, false) => (was_type == StateType::Soft || now.state != was_state).then_some(now),
    }
}

/// The event handler settings of one configuration file, each with its place.
#[derive(Default, serde::Deserialize)]
struct Placed {
    #[serde(default)]
    defaults: Option<Keys>,
    #[serde(default)]
    daemon: Option<DaemonKeys>,
    #[serde(default)]
    template: std::collections::BTreeMap<String, Keys>,
    #[serde(default)]
    host: Vec<Keys>,
    #[serde(default)]
    service: Vec<Keys>,
}

#[derive(Default, serde::Deserialize)]
struct Keys {
    name: Option<String>,
    host: Option<String>,
    event_handler: Option<toml::Spanned<String>>,
}

#[derive(Default, serde::Deserialize)]
struct DaemonKeys {
    global_host_event_handler: Option<toml::Spanned<String>>,
    global_service_event_handler: Option<toml::Spanned<String>>,
}

/// The refused event handlers of a configuration file's `text` (from `place`), each as
/// `PLACE:line N: WHERE: KEY: why`: read again for their places once one is refused.
pub fn placed_problems(text: &str, place: &str) -> Vec<String> {
    let Ok(file) = toml::from_str::<Placed>(text) else {
        return vec![format!("{place}: an event handler is refused")];
    };
    let line = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let mut found: Vec<(String, &str, &toml::Spanned<String>)> = Vec::new();
    fn own(k: &Keys, what: String) -> Option<(String, &'static str, &toml::Spanned<String>)> {
        k.event_handler.as_ref().map(|h| (what, "event_handler", h))
    }
    found.extend(
        file.defaults
            .as_ref()
            .and_then(|d| own(d, "[defaults]".into())),
    );
    found.extend(
        file.template
            .iter()
            .filter_map(|(name, t)| own(t, format!("[template.{name}]"))),
    );
    found.extend(
        file.host
            .iter()
            .filter_map(|h| own(h, format!("host '{}'", h.name.as_deref().unwrap_or("")))),
    );
    found.extend(file.service.iter().filter_map(|s| {
        let what = format!(
            "service '{}' on '{}'",
            s.name.as_deref().unwrap_or(""),
            s.host.as_deref().unwrap_or("")
        );
        own(s, what)
    }));
    if let Some(d) = &file.daemon {
        for (key, h) in [
            ("global_host_event_handler", &d.global_host_event_handler),
            (
                "global_service_event_handler",
                &d.global_service_event_handler,
            ),
        ] {
            found.extend(h.as_ref().map(|h| ("[daemon]".to_string(), key, h)));
        }
    }
    found
        .into_iter()
        .filter_map(|(what, key, h)| {
            let e = Command::parse(h.get_ref()).err()?;
            Some(format!(
                "{place}:line {}: {what}: {key}: {e}",
                line(h.span().start)
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{HostState, Policy};
    use hcoop_plugins::plugin::State;

    #[test]
    fn a_command_is_a_program_and_arguments_with_macros() {
        let c = Command::parse(
            "/usr/local/bin/restart  --host=$HOSTNAME$ $SERVICESTATE$:$SERVICEATTEMPT$ plain",
        )
        .unwrap();
        assert_eq!(c.program(), "/usr/local/bin/restart");
        let mut m = Macros::default();
        m.set("HOSTNAME", "web 1");
        m.set("SERVICESTATE", "CRITICAL");
        m.set("SERVICEATTEMPT", "2");
        assert_eq!(
            c.argv(&m),
            [
                "/usr/local/bin/restart",
                "--host=web 1",
                "CRITICAL:2",
                "plain"
            ]
        );
        // a macro not set (a service's in a host's handler) is an empty argument
        let c = Command::parse("/bin/h $SERVICEDESC$ $HOSTNAME$").unwrap();
        let mut m = Macros::default();
        m.set("HOSTNAME", "h; rm -rf /");
        assert_eq!(c.argv(&m), ["/bin/h", "", "h; rm -rf /"]);
        assert_eq!(
            m.environment(),
            [("NAGIOS_HOSTNAME".to_string(), "h; rm -rf /".to_string())]
        );
    }

    #[test]
    fn shell_syntax_unknown_macros_and_macro_programs_are_refused() {
        for (line, says) in [
            (
                "/bin/a | /bin/b",
                "'|' in '/bin/a | /bin/b' is shell syntax",
            ),
            ("/bin/a > /tmp/x", "'>' in"),
            ("/bin/a 'quoted arg'", "''' in"),
            ("/bin/a $HOSTNAME", "'$' without its closing '$'"),
            ("/bin/a $ARG1$", "unknown macro '$ARG1$'"),
            ("/bin/a $HOSTNAME$;x", "';' in"),
            ("$USER1$/check", "must be written out"),
            ("   ", "empty"),
        ] {
            let e = Command::parse(line).expect_err(line);
            assert!(e.contains(says), "{line}: {e}");
        }
        assert!(Command::parse(&format!("/bin/a {}", "x".repeat(MAX_LINE))).is_err());
    }

    /// The handler runs of a sequence of results on a fresh record (`max` attempts):
    /// (state, type, attempt) of each result that runs one, `None` for the others.
    fn runs<C: Condition>(service: bool, max: u32, states: &[C]) -> Vec<Option<String>> {
        let policy = Policy {
            max_check_attempts: max,
            ..Policy::default()
        };
        let mut r = Record::<C>::default();
        states
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let (state, t, a) = (r.state.name(), r.state_type, r.attempt);
                r.apply(*s, "x", 100 + i as u64, &policy, true);
                decide(service, state, t, a, &r, max)
                    .map(|s| format!("{} {} {}", s.state, s.type_name(), s.attempt))
            })
            .collect()
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn services_run_handlers_on_soft_retries_hard_changes_and_recoveries() {
        use State::{Critical as C, Ok as O, Warning as W};
        assert_eq!(
            runs(true, 3, &[O, C, C, C, C, O, O]),
            [
                None,
                some("CRITICAL SOFT 1"),
                some("CRITICAL SOFT 2"),
                some("CRITICAL HARD 3"),
                None,
                some("OK HARD 3"),
                None
            ]
        );
        // a soft recovery is OK SOFT at the next attempt; a hard problem that changes
        // runs the handler, one that stays does not
        assert_eq!(
            runs(true, 3, &[C, O, C, W, W, W, C, C, O]),
            [
                some("CRITICAL SOFT 1"),
                some("OK SOFT 2"),
                some("CRITICAL SOFT 1"),
                some("WARNING SOFT 2"),
                some("WARNING HARD 3"),
                None,
                some("CRITICAL HARD 3"),
                None,
                some("OK HARD 3")
            ]
        );
        // one attempt: hard at once
        assert_eq!(
            runs(true, 1, &[O, C, C, O]),
            [None, some("CRITICAL HARD 1"), None, some("OK HARD 1")]
        );
    }

    #[test]
    fn hosts_recover_at_attempt_one() {
        use HostState::{Down as D, Unreachable as U, Up};
        assert_eq!(
            runs(false, 2, &[Up, D, Up, D, D, D, U, Up]),
            [
                None,
                some("DOWN SOFT 1"),
                some("UP SOFT 1"),
                some("DOWN SOFT 1"),
                some("DOWN HARD 2"),
                None,
                some("UNREACHABLE HARD 2"),
                some("UP HARD 1")
            ]
        );
    }

    #[test]
    fn state_ids_are_nagios_numbers() {
        let ids: Vec<u8> = [
            "OK",
            "WARNING",
            "CRITICAL",
            "UNKNOWN",
            "UP",
            "DOWN",
            "UNREACHABLE",
        ]
        .iter()
        .map(|s| state_id(s))
        .collect();
        assert_eq!(ids, [0, 1, 2, 3, 0, 1, 2]);
    }
}
