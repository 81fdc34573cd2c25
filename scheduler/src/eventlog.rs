//! The event log (`[daemon] event_log`): what happened to hosts and services, one line
//! each, in the grammar of Nagios' nagios.log, so that tools that read Nagios' log (and
//! the history import) read ours:
//!
//! ```text
//! [1700000000] SERVICE ALERT: web;http;CRITICAL;SOFT;1;HTTP CRITICAL - refused
//! [1700000000] HOST ALERT: web;DOWN;HARD;3;PING CRITICAL - 100% loss
//! [1700000000] SERVICE NOTIFICATION: ops;web;http;CRITICAL;email;HTTP CRITICAL - refused
//! [1700000000] SERVICE NOTIFICATION: ops;web;http;ACKNOWLEDGEMENT (CRITICAL);email;HTTP CRITICAL - refused;alice;on it
//! [1700000000] HOST NOTIFICATION: ops;web;UP;email;PING OK
//! [1700000000] SERVICE EVENT HANDLER: web;http;CRITICAL;SOFT;1;/usr/local/bin/restart
//! [1700000000] SERVICE FLAPPING ALERT: web;http;STARTED; Service appears to have started flapping (25.0% change >= 20.0% threshold)
//! [1700000000] SERVICE DOWNTIME ALERT: web;http;STARTED; Service has entered a period of scheduled downtime
//! ```
//!
//! [`alert`] says when a result is an alert line and with which state type and attempt,
//! as Nagios 4 decides it (with `log_service_retries=1` and `log_host_retries=1`, as its
//! sample configuration sets them). [`Entry`] is one line's grammar. [`EventLog`] writes
//! lines from a thread of its own through a bounded queue: the core only queues (a full
//! queue drops the line and counts it), the writer appends and flushes after each batch
//! and never syncs to disk.

use crate::state::{NotificationType, StateType, Time};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;

/// The longest output written (Nagios' `MAX_PLUGIN_OUTPUT_LENGTH`), in bytes.
pub const MAX_OUTPUT: usize = 8192;
/// The longest name, command or comment field written, in bytes.
pub const MAX_FIELD: usize = 1024;
/// Lines queued for the writer at most; more are dropped and counted.
pub const QUEUE: usize = 16384;

/// What a host or service was, or is, as far as the log is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// Whether the state is OK (services) or UP (hosts).
    pub good: bool,
    /// The state's name (`OK`, `DOWN`, ...).
    pub state: &'static str,
    pub state_type: StateType,
    pub attempt: u32,
}

/// Whether Nagios 4 writes an alert line (`SERVICE ALERT`, `HOST ALERT`) for a result
/// that took an object from `before` to `after`, and with which state type and
/// attempt: on every change of state, on a state becoming HARD (`hard_change`), and on
/// every result in a SOFT problem state (each retry). A recovery is written as Nagios
/// writes it: a service's soft recovery as `SOFT` with the attempt after the last one
/// (at most `max_attempts`), its hard recovery with the attempt of the problem; a
/// host's recovery at attempt 1. Nothing is written while a state stays OK, or stays
/// the same HARD problem.
pub fn alert(
    host: bool,
    before: Seen,
    after: Seen,
    hard_change: bool,
    max_attempts: u32,
) -> Option<(StateType, u32)> {
    if after.good {
        if before.good {
            return None;
        }
        return Some(match (before.state_type, host) {
            (_, true) => (before.state_type, 1),
            (StateType::Soft, false) => (
                StateType::Soft,
                (before.attempt + 1).min(max_attempts.max(before.attempt)),
            ),
            (StateType::Hard, false) => (StateType::Hard, before.attempt),
        });
    }
    let changed = before.state != after.state;
    (changed || hard_change || after.state_type == StateType::Soft)
        .then_some((after.state_type, after.attempt))
}

/// `SOFT` or `HARD`.
pub fn type_name(t: StateType) -> &'static str {
    match t {
        StateType::Soft => "SOFT",
        StateType::Hard => "HARD",
    }
}

/// The beginning and end of a downtime as the log says them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DowntimePhase {
    Started,
    Stopped,
    Cancelled,
}

/// One line of the event log, before its `[TIME] ` prefix.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry<'a> {
    /// `SERVICE ALERT: HOST;SERVICE;STATE;TYPE;ATTEMPT;OUTPUT`
    ServiceAlert {
        host: &'a str,
        service: &'a str,
        state: &'a str,
        state_type: StateType,
        attempt: u32,
        /// The plugin's text (its summary is written).
        output: &'a str,
    },
    /// `HOST ALERT: HOST;STATE;TYPE;ATTEMPT;OUTPUT`
    HostAlert {
        host: &'a str,
        state: &'a str,
        state_type: StateType,
        attempt: u32,
        output: &'a str,
    },
    /// `SERVICE NOTIFICATION: CONTACT;HOST;SERVICE;WHAT;COMMAND;OUTPUT[;AUTHOR;COMMENT]`
    /// (`WHAT`: the state for problems and recoveries, `TYPE (STATE)` otherwise; author
    /// and comment for acknowledgements).
    ServiceNotification {
        contact: &'a str,
        host: &'a str,
        service: &'a str,
        kind: NotificationType,
        state: &'a str,
        command: &'a str,
        output: &'a str,
        ack: Option<(&'a str, &'a str)>,
    },
    /// `HOST NOTIFICATION: CONTACT;HOST;WHAT;COMMAND;OUTPUT[;AUTHOR;COMMENT]`
    HostNotification {
        contact: &'a str,
        host: &'a str,
        kind: NotificationType,
        state: &'a str,
        command: &'a str,
        output: &'a str,
        ack: Option<(&'a str, &'a str)>,
    },
    /// `[GLOBAL ]SERVICE EVENT HANDLER: HOST;SERVICE;STATE;TYPE;ATTEMPT;HANDLER`
    ServiceEventHandler {
        global: bool,
        host: &'a str,
        service: &'a str,
        state: &'a str,
        state_type: StateType,
        attempt: u32,
        handler: &'a str,
    },
    /// `[GLOBAL ]HOST EVENT HANDLER: HOST;STATE;TYPE;ATTEMPT;HANDLER`
    HostEventHandler {
        global: bool,
        host: &'a str,
        state: &'a str,
        state_type: StateType,
        attempt: u32,
        handler: &'a str,
    },
    /// `SERVICE FLAPPING ALERT: HOST;SERVICE;STARTED|STOPPED; ...`
    ServiceFlapping {
        host: &'a str,
        service: &'a str,
        started: bool,
        percent: f64,
        threshold: f64,
    },
    /// `HOST FLAPPING ALERT: HOST;STARTED|STOPPED; ...`
    HostFlapping {
        host: &'a str,
        started: bool,
        percent: f64,
        threshold: f64,
    },
    /// `SERVICE DOWNTIME ALERT: HOST;SERVICE;STARTED|STOPPED|CANCELLED; ...`
    ServiceDowntime {
        host: &'a str,
        service: &'a str,
        phase: DowntimePhase,
    },
    /// `HOST DOWNTIME ALERT: HOST;STARTED|STOPPED|CANCELLED; ...`
    HostDowntime { host: &'a str, phase: DowntimePhase },
}

/// A name or other inner field: on one line, without the field separator, bounded.
fn field(s: &str) -> String {
    bounded(
        s.chars()
            .map(|c| match c {
                ';' => ':',
                c if c.is_control() => ' ',
                c => c,
            })
            .collect(),
        MAX_FIELD,
    )
}

/// A last field (a command line, a comment): on one line, bounded; `;` may stay.
fn last(s: &str, max: usize) -> String {
    bounded(
        s.chars()
            .map(|c| match c {
                '\n' => "\\n".to_string(),
                c if c.is_control() => " ".to_string(),
                c => c.to_string(),
            })
            .collect(),
        max,
    )
}

/// What Nagios writes of a plugin's text: its summary (the first line without its
/// perfdata, trimmed), `;` turned into `:` as Nagios does, bounded.
pub fn summary(output: &str) -> String {
    let first = output.lines().next().unwrap_or("");
    let text = first.split_once('|').map_or(first, |(s, _)| s).trim();
    bounded(
        text.chars()
            .map(|c| match c {
                ';' => ':',
                c if c.is_control() => ' ',
                c => c,
            })
            .collect(),
        MAX_OUTPUT,
    )
}

/// `s` cut to at most `max` bytes on a character boundary.
fn bounded(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// What a notification line says in its type field.
fn what(kind: NotificationType, state: &str) -> String {
    match kind {
        NotificationType::Problem | NotificationType::Recovery => field(state),
        _ => format!("{} ({})", kind.as_str(), field(state)),
    }
}

/// The ack's author and comment after the output, or nothing.
fn ack_tail(ack: Option<(&str, &str)>) -> String {
    ack.map_or(String::new(), |(author, comment)| {
        format!(";{};{}", field(author), last(comment, MAX_OUTPUT))
    })
}

fn downtime_text(phase: DowntimePhase, service: bool) -> String {
    let (word, what) = match (phase, service) {
        (DowntimePhase::Started, true) => (
            "STARTED",
            "Service has entered a period of scheduled downtime",
        ),
        (DowntimePhase::Started, false) => {
            ("STARTED", "Host has entered a period of scheduled downtime")
        }
        (DowntimePhase::Stopped, true) => (
            "STOPPED",
            "Service has exited from a period of scheduled downtime",
        ),
        (DowntimePhase::Stopped, false) => (
            "STOPPED",
            "Host has exited from a period of scheduled downtime",
        ),
        (DowntimePhase::Cancelled, true) => (
            "CANCELLED",
            "Scheduled downtime for service has been cancelled.",
        ),
        (DowntimePhase::Cancelled, false) => (
            "CANCELLED",
            "Scheduled downtime for host has been cancelled.",
        ),
    };
    format!("{word}; {what}")
}

fn flapping_text(started: bool, service: bool, percent: f64, threshold: f64) -> String {
    let who = if service { "Service" } else { "Host" };
    // Nagios writes ">=" for a service and ">" for a host starting to flap
    let (word, verb, cmp) = match (started, service) {
        (true, true) => ("STARTED", "started", ">="),
        (true, false) => ("STARTED", "started", ">"),
        (false, _) => ("STOPPED", "stopped", "<"),
    };
    format!("{word}; {who} appears to have {verb} flapping ({percent:.1}% change {cmp} {threshold:.1}% threshold)")
}

impl Entry<'_> {
    /// The line without its time prefix.
    pub fn line(&self) -> String {
        match *self {
            Entry::ServiceAlert {
                host,
                service,
                state,
                state_type,
                attempt,
                output,
            } => format!(
                "SERVICE ALERT: {};{};{};{};{attempt};{}",
                field(host),
                field(service),
                field(state),
                type_name(state_type),
                summary(output)
            ),
            Entry::HostAlert {
                host,
                state,
                state_type,
                attempt,
                output,
            } => format!(
                "HOST ALERT: {};{};{};{attempt};{}",
                field(host),
                field(state),
                type_name(state_type),
                summary(output)
            ),
            Entry::ServiceNotification {
                contact,
                host,
                service,
                kind,
                state,
                command,
                output,
                ack,
            } => format!(
                "SERVICE NOTIFICATION: {};{};{};{};{};{}{}",
                field(contact),
                field(host),
                field(service),
                what(kind, state),
                field(command),
                summary(output),
                ack_tail(ack)
            ),
            Entry::HostNotification {
                contact,
                host,
                kind,
                state,
                command,
                output,
                ack,
            } => format!(
                "HOST NOTIFICATION: {};{};{};{};{}{}",
                field(contact),
                field(host),
                what(kind, state),
                field(command),
                summary(output),
                ack_tail(ack)
            ),
            Entry::ServiceEventHandler {
                global,
                host,
                service,
                state,
                state_type,
                attempt,
                handler,
            } => format!(
                "{}SERVICE EVENT HANDLER: {};{};{};{};{attempt};{}",
                if global { "GLOBAL " } else { "" },
                field(host),
                field(service),
                field(state),
                type_name(state_type),
                last(handler, MAX_OUTPUT)
            ),
            Entry::HostEventHandler {
                global,
                host,
                state,
                state_type,
                attempt,
                handler,
            } => format!(
                "{}HOST EVENT HANDLER: {};{};{};{attempt};{}",
                if global { "GLOBAL " } else { "" },
                field(host),
                field(state),
                type_name(state_type),
                last(handler, MAX_OUTPUT)
            ),
            Entry::ServiceFlapping {
                host,
                service,
                started,
                percent,
                threshold,
            } => format!(
                "SERVICE FLAPPING ALERT: {};{};{}",
                field(host),
                field(service),
                flapping_text(started, true, percent, threshold)
            ),
            Entry::HostFlapping {
                host,
                started,
                percent,
                threshold,
            } => format!(
                "HOST FLAPPING ALERT: {};{}",
                field(host),
                flapping_text(started, false, percent, threshold)
            ),
            Entry::ServiceDowntime {
                host,
                service,
                phase,
            } => format!(
                "SERVICE DOWNTIME ALERT: {};{};{}",
                field(host),
                field(service),
                downtime_text(phase, true)
            ),
            Entry::HostDowntime { host, phase } => format!(
                "HOST DOWNTIME ALERT: {};{}",
                field(host),
                downtime_text(phase, false)
            ),
        }
    }
}

/// What the writer thread is asked.
enum Msg {
    Line(Time, String),
    Reopen(PathBuf),
    Flush(std::sync::mpsc::Sender<()>),
}

/// The open event log: lines are queued to a writer thread of its own (ended when this
/// is dropped, once the queue is written).
pub struct EventLog {
    tx: SyncSender<Msg>,
    dropped: Arc<AtomicU64>,
    path: PathBuf,
    /// The objects ("host" or "host/service") the log last said are in downtime.
    down: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl std::fmt::Debug for EventLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLog")
            .field("path", &self.path)
            .finish()
    }
}

impl EventLog {
    /// Starts the writer of the log at `path` (appended to, made with mode 0640 if
    /// missing). A file that cannot be opened is logged, and its lines are lost until a
    /// reload opens it.
    pub fn open(path: &Path) -> EventLog {
        let (tx, rx) = sync_channel(QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let (p, d) = (path.to_path_buf(), dropped.clone());
        if let Err(e) = std::thread::Builder::new()
            .name("event-log".into())
            .spawn(move || writer(p, rx, d))
        {
            tracing::error!("event log: cannot start its writer: {e}");
        }
        EventLog {
            tx,
            dropped,
            path: path.to_path_buf(),
            down: Default::default(),
        }
    }

    /// The log a (re)loaded configuration asks for: `old` reopened at `path` (as
    /// logrotate needs after moving the file), a new one, or none.
    pub fn carry(old: Option<EventLog>, path: Option<&Path>) -> Option<EventLog> {
        match (old, path) {
            (_, None) => None,
            (Some(mut log), Some(path)) => {
                log.path = path.to_path_buf();
                log.send(Msg::Reopen(path.to_path_buf()));
                Some(log)
            }
            (None, Some(path)) => Some(EventLog::open(path)),
        }
    }

    /// Notes whether the object `key` is in downtime; whether that is a change from
    /// what the log last said of it (nothing said: not in downtime).
    pub fn note_downtime(&self, key: &str, is: bool) -> bool {
        let mut down = self.down.lock().unwrap_or_else(|p| p.into_inner());
        if is {
            down.insert(key.to_string())
        } else {
            down.remove(key)
        }
    }

    /// Where it writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Queues one line stamped `time` (dropped and counted when the queue is full).
    pub fn write(&self, time: Time, entry: &Entry<'_>) {
        self.send(Msg::Line(time, entry.line()));
    }

    /// Queues a `[GLOBAL ]SERVICE EVENT HANDLER` line.
    #[allow(clippy::too_many_arguments)]
    pub fn service_event_handler(
        &self,
        time: Time,
        global: bool,
        host: &str,
        service: &str,
        state: &str,
        state_type: StateType,
        attempt: u32,
        handler: &str,
    ) {
        self.write(
            time,
            &Entry::ServiceEventHandler {
                global,
                host,
                service,
                state,
                state_type,
                attempt,
                handler,
            },
        );
    }

    /// Queues a `[GLOBAL ]HOST EVENT HANDLER` line.
    #[allow(clippy::too_many_arguments)]
    pub fn host_event_handler(
        &self,
        time: Time,
        global: bool,
        host: &str,
        state: &str,
        state_type: StateType,
        attempt: u32,
        handler: &str,
    ) {
        self.write(
            time,
            &Entry::HostEventHandler {
                global,
                host,
                state,
                state_type,
                attempt,
                handler,
            },
        );
    }

    /// Waits until every line queued so far is written out (not synced).
    pub fn flush(&self) {
        let (tx, rx) = std::sync::mpsc::channel();
        self.send(Msg::Flush(tx));
        let _ = rx.recv_timeout(std::time::Duration::from_secs(10));
    }

    fn send(&self, msg: Msg) {
        let msg = match self.tx.try_send(msg) {
            Ok(()) => return,
            Err(TrySendError::Disconnected(_)) => return,
            Err(TrySendError::Full(msg)) => msg,
        };
        match msg {
            // a reopen or a flush waits for room rather than being lost
            Msg::Reopen(_) | Msg::Flush(_) => {
                let _ = self.tx.send(msg);
            }
            Msg::Line(..) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Opens the log for appending: a regular file with one link, never through a
/// symlink (as Nagios opens its log).
fn open_file(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o640)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    let m = f.metadata()?;
    if !m.file_type().is_file() || m.nlink() != 1 {
        return Err(std::io::Error::other(
            "not a regular file with a single link",
        ));
    }
    Ok(f)
}

/// The writer thread: appends each batch of queued lines and flushes it.
fn writer(mut path: PathBuf, rx: Receiver<Msg>, dropped: Arc<AtomicU64>) {
    let open = |path: &Path| match open_file(path) {
        Ok(f) => Some(BufWriter::with_capacity(64 * 1024, f)),
        Err(e) => {
            tracing::error!("event log {}: cannot open: {e}", path.display());
            None
        }
    };
    let mut file = open(&path);
    let mut failing = false;
    let end = |file: &mut Option<BufWriter<File>>, failing: &mut bool, path: &Path| {
        if let Some(f) = file.as_mut() {
            match f.flush() {
                Ok(()) => *failing = false,
                Err(e) if !*failing => {
                    *failing = true;
                    tracing::error!("event log {}: cannot write: {e}", path.display());
                }
                Err(_) => {}
            }
        }
    };
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        while let Some(msg) = next {
            match msg {
                Msg::Line(time, text) => {
                    if let Some(f) = file.as_mut() {
                        // an error shows at the flush
                        let _ = writeln!(f, "[{time}] {text}");
                    }
                }
                Msg::Reopen(p) => {
                    end(&mut file, &mut failing, &path);
                    path = p;
                    file = open(&path);
                }
                Msg::Flush(done) => {
                    end(&mut file, &mut failing, &path);
                    let _ = done.send(());
                }
            }
            next = rx.try_recv().ok();
        }
        end(&mut file, &mut failing, &path);
        let lost = dropped.swap(0, Ordering::Relaxed);
        if lost > 0 {
            tracing::warn!(
                "event log {}: {lost} lines dropped (the writer fell behind)",
                path.display()
            );
        }
    }
    end(&mut file, &mut failing, &path);
}

#[cfg(test)]
mod tests {
    use super::*;
    use StateType::{Hard, Soft};

    fn seen(state: &'static str, state_type: StateType, attempt: u32) -> Seen {
        Seen {
            good: matches!(state, "OK" | "UP"),
            state,
            state_type,
            attempt,
        }
    }

    #[test]
    fn alerts_are_written_when_nagios_writes_them() {
        // (host?, before, after, hard change, max) → what is written
        let cases = [
            // a service's soft problem, its retries, hard, then the hard recovery at
            // the problem's attempt
            (
                false,
                seen("OK", Hard, 1),
                seen("CRITICAL", Soft, 1),
                false,
                3,
                Some((Soft, 1)),
            ),
            (
                false,
                seen("CRITICAL", Soft, 1),
                seen("CRITICAL", Soft, 2),
                false,
                3,
                Some((Soft, 2)),
            ),
            (
                false,
                seen("CRITICAL", Soft, 2),
                seen("CRITICAL", Hard, 3),
                true,
                3,
                Some((Hard, 3)),
            ),
            (
                false,
                seen("CRITICAL", Hard, 3),
                seen("CRITICAL", Hard, 3),
                false,
                3,
                None,
            ),
            (
                false,
                seen("CRITICAL", Hard, 3),
                seen("WARNING", Hard, 3),
                true,
                3,
                Some((Hard, 3)),
            ),
            (
                false,
                seen("CRITICAL", Hard, 3),
                seen("OK", Hard, 1),
                true,
                3,
                Some((Hard, 3)),
            ),
            // a soft recovery: SOFT at the attempt after the last
            (
                false,
                seen("CRITICAL", Soft, 1),
                seen("OK", Hard, 1),
                false,
                3,
                Some((Soft, 2)),
            ),
            (
                false,
                seen("WARNING", Soft, 2),
                seen("OK", Hard, 1),
                false,
                3,
                Some((Soft, 3)),
            ),
            // a soft change of problem state
            (
                false,
                seen("CRITICAL", Soft, 1),
                seen("WARNING", Soft, 2),
                false,
                3,
                Some((Soft, 2)),
            ),
            // one attempt: hard at once
            (
                false,
                seen("OK", Hard, 1),
                seen("CRITICAL", Hard, 1),
                true,
                1,
                Some((Hard, 1)),
            ),
            (
                false,
                seen("OK", Hard, 1),
                seen("OK", Hard, 1),
                false,
                3,
                None,
            ),
            // hosts recover at attempt 1
            (
                true,
                seen("DOWN", Hard, 2),
                seen("UP", Hard, 1),
                true,
                2,
                Some((Hard, 1)),
            ),
            (
                true,
                seen("DOWN", Soft, 1),
                seen("UP", Hard, 1),
                false,
                2,
                Some((Soft, 1)),
            ),
            (
                true,
                seen("UP", Hard, 1),
                seen("DOWN", Soft, 1),
                false,
                2,
                Some((Soft, 1)),
            ),
            (
                true,
                seen("DOWN", Hard, 2),
                seen("UNREACHABLE", Hard, 2),
                true,
                2,
                Some((Hard, 2)),
            ),
        ];
        for (i, (host, before, after, hard, max, want)) in cases.into_iter().enumerate() {
            assert_eq!(alert(host, before, after, hard, max), want, "case {i}");
        }
    }

    #[test]
    fn lines_have_nagios_grammar() {
        let out = "HTTP CRITICAL - a;b|time=1s\nlong line\n";
        let alert = Entry::ServiceAlert {
            host: "web",
            service: "http",
            state: "CRITICAL",
            state_type: Soft,
            attempt: 1,
            output: out,
        };
        assert_eq!(
            alert.line(),
            "SERVICE ALERT: web;http;CRITICAL;SOFT;1;HTTP CRITICAL - a:b"
        );
        let host = Entry::HostAlert {
            host: "web",
            state: "DOWN",
            state_type: Hard,
            attempt: 3,
            output: "PING CRITICAL\n",
        };
        assert_eq!(host.line(), "HOST ALERT: web;DOWN;HARD;3;PING CRITICAL");
        let n = |kind, ack| Entry::ServiceNotification {
            contact: "ops",
            host: "web",
            service: "http",
            kind,
            state: "CRITICAL",
            command: "email",
            output: out,
            ack,
        };
        assert_eq!(
            n(NotificationType::Problem, None).line(),
            "SERVICE NOTIFICATION: ops;web;http;CRITICAL;email;HTTP CRITICAL - a:b"
        );
        assert_eq!(
            n(NotificationType::Acknowledgement, Some(("al;ice", "on it; really\nnow"))).line(),
            "SERVICE NOTIFICATION: ops;web;http;ACKNOWLEDGEMENT (CRITICAL);email;HTTP CRITICAL - a:b;al:ice;on it; really\\nnow"
        );
        assert_eq!(
            n(NotificationType::DowntimeStart, None).line(),
            "SERVICE NOTIFICATION: ops;web;http;DOWNTIMESTART (CRITICAL);email;HTTP CRITICAL - a:b"
        );
        let recovery = Entry::HostNotification {
            contact: "ops",
            host: "web",
            kind: NotificationType::Recovery,
            state: "UP",
            command: "page",
            output: "PING OK",
            ack: None,
        };
        assert_eq!(
            recovery.line(),
            "HOST NOTIFICATION: ops;web;UP;page;PING OK"
        );
        let handler = Entry::ServiceEventHandler {
            global: true,
            host: "web",
            service: "http",
            state: "CRITICAL",
            state_type: Soft,
            attempt: 2,
            handler: "/usr/local/bin/restart $HOSTADDRESS$",
        };
        assert_eq!(
            handler.line(),
            "GLOBAL SERVICE EVENT HANDLER: web;http;CRITICAL;SOFT;2;/usr/local/bin/restart $HOSTADDRESS$"
        );
        let flap = Entry::ServiceFlapping {
            host: "web",
            service: "http",
            started: true,
            percent: 25.04,
            threshold: 20.0,
        };
        assert_eq!(
            flap.line(),
            "SERVICE FLAPPING ALERT: web;http;STARTED; Service appears to have started flapping (25.0% change >= 20.0% threshold)"
        );
        let down = Entry::HostDowntime {
            host: "web",
            phase: DowntimePhase::Stopped,
        };
        assert_eq!(
            down.line(),
            "HOST DOWNTIME ALERT: web;STOPPED; Host has exited from a period of scheduled downtime"
        );
    }

    #[test]
    fn fields_are_one_line_and_bounded() {
        let long = "é".repeat(MAX_OUTPUT);
        let s = summary(&long);
        assert!(
            s.len() <= MAX_OUTPUT && s.chars().all(|c| c == 'é'),
            "{}",
            s.len()
        );
        assert_eq!(summary("a\tb\rc\nd"), "a b c");
        assert_eq!(field("a;b\nc"), "a:b c");
        assert_eq!(field(&"x".repeat(5000)).len(), MAX_FIELD);
    }

    #[test]
    fn the_writer_appends_reopens_and_refuses_links() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("events.log");
        std::fs::write(&path, "[1] earlier line\n").unwrap();
        let log = EventLog::open(&path);
        let entry = Entry::HostDowntime {
            host: "h",
            phase: DowntimePhase::Started,
        };
        log.write(10, &entry);
        log.flush();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "[1] earlier line\n[10] HOST DOWNTIME ALERT: h;STARTED; Host has entered a period of scheduled downtime\n"
        );
        // rotated away, then reopened: the new file takes the next lines
        let rotated = t.path().join("events.log.1");
        std::fs::rename(&path, &rotated).unwrap();
        let log = EventLog::carry(Some(log), Some(&path)).unwrap();
        log.write(11, &entry);
        log.flush();
        assert_eq!(std::fs::read_to_string(&rotated).unwrap(), text);
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .starts_with("[11] HOST DOWNTIME"));
        // a symlink or a hard link is not written through
        let target = t.path().join("target");
        std::fs::write(&target, "").unwrap();
        let link = t.path().join("link.log");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(open_file(&link).is_err());
        let hard = t.path().join("hard.log");
        std::fs::hard_link(&target, &hard).unwrap();
        assert!(open_file(&hard).is_err());
        let log = EventLog::carry(Some(log), Some(&link)).unwrap();
        log.write(12, &entry);
        log.flush();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "");
        // no path: no log
        assert!(EventLog::carry(Some(log), None).is_none());
    }
}
