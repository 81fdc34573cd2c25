//! Nagios' `nagios.log` and its archives (`nagios-MM-DD-YYYY-HH.log`) read into
//! [`Event`]s, for `hcoop-monitor import nagios-log FILE...`; our own event log
//! ([`crate::eventlog`]) is written in the same grammar and reads back the same way.
//!
//! What is imported, from Nagios 4's lines:
//!
//! | line | event |
//! | --- | --- |
//! | `SERVICE ALERT`, `HOST ALERT` | [`Kind::State`] (state, SOFT/HARD, attempt, output) |
//! | `CURRENT`/`INITIAL SERVICE STATE`, `... HOST STATE` | [`Kind::State`]: the state at a start or a log rotation, so availability has the initial state |
//! | `SERVICE NOTIFICATION`, `HOST NOTIFICATION` | [`Kind::Notification`] (contact as author, command as method, type, state, output; an acknowledgement's or custom notification's comment) |
//! | `... NOTIFICATION` of type `ACKNOWLEDGEMENT (STATE)` | also one [`Kind::Ack`] (author, comment) unless the acknowledging command was logged |
//! | `EXTERNAL COMMAND: ACKNOWLEDGE_SVC_PROBLEM`, `ACKNOWLEDGE_HOST_PROBLEM` (and Icinga's `..._EXPIRE`) | [`Kind::Ack`] (author, comment, sticky when the sticky field is 2, as Nagios reads it; expiry in `until`) |
//! | `EXTERNAL COMMAND: REMOVE_SVC_ACKNOWLEDGEMENT`, `REMOVE_HOST_ACKNOWLEDGEMENT` | [`Kind::Unack`] |
//! | `EXTERNAL COMMAND: ADD_SVC_COMMENT`, `ADD_HOST_COMMENT` | [`Kind::Comment`] (author, comment) |
//! | `EXTERNAL COMMAND: SCHEDULE_SVC_DOWNTIME`, `SCHEDULE_HOST_DOWNTIME` | [`Kind::DowntimeScheduled`] (author, comment, end in `until`; Nagios logs no downtime id) |
//! | `SERVICE`/`HOST DOWNTIME ALERT` `STARTED`, `STOPPED`, `CANCELLED` | [`Kind::DowntimeStart`], [`Kind::DowntimeEnd`], [`Kind::DowntimeCancel`] |
//! | `SERVICE`/`HOST FLAPPING ALERT` `STARTED`, `STOPPED`, `DISABLED` | [`Kind::FlappingStart`], [`Kind::FlappingStop`] (the text as comment) |
//! | `Nagios 4.4.6 starting... (PID=N)` | [`Kind::Start`] |
//! | `Caught SIGTERM, shutting down...`, `Successfully shutdown... (PID=N)` | one [`Kind::Stop`] |
//! | `Caught SIGHUP, restarting...` | [`Kind::Reload`] (the `starting...` line that follows is part of it) |
//!
//! A start while the previous run never said it stopped (Nagios was killed) is
//! preceded by a [`Kind::Stop`] at the last line of that run, with the comment
//! `not stopped cleanly`, as the store does for our own daemon. Every other line with a
//! time (passive checks, event handlers, external commands not listed, warnings) is
//! counted as skipped; a line that is not a log line, is longer than [`MAX_LINE`] or has
//! bad fields is counted as malformed and reported with its FILE:LINE, never fatal.

use super::{Event, Kind, Time};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// The longest line read; longer lines are malformed (and skipped without being held).
pub const MAX_LINE: usize = 64 * 1024;
/// How many malformed lines a summary lists (the others are counted).
pub const MAX_LISTED: usize = 20;
/// Events handed to the sink at a time.
pub const BATCH: usize = 5000;

/// How long after an acknowledging command a notification telling of the same
/// acknowledgement is taken as the same acknowledgement.
const SAME_ACK: Time = 60;

/// What one line says.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    /// Events of a host or service (an acknowledgement notification gives its
    /// notification and the acknowledgement it tells of).
    Events(Vec<Event>),
    /// Nagios started (`comment`: version and PID).
    Start(Time, String),
    /// Nagios is stopping (`comment`: why).
    Stop(Time, String),
    /// Nagios restarting on SIGHUP.
    Restart(Time),
    /// A log line of a kind not imported.
    Skipped(Time),
    /// Nothing (an empty line).
    Empty,
}

/// The fields of `text` split at `;` into exactly `n` (the last keeps its `;`).
fn fields(text: &str, n: usize) -> Result<Vec<&str>, String> {
    let f: Vec<&str> = text.splitn(n, ';').collect();
    if f.len() == n {
        Ok(f)
    } else {
        Err(format!("{} fields where {n} are expected", f.len()))
    }
}

fn name(s: &str, what: &str) -> Result<String, String> {
    if s.is_empty() {
        Err(format!("empty {what}"))
    } else {
        Ok(s.to_string())
    }
}

/// Plugin output as logged; Nagios writes `(null)` for none.
fn output(s: &str) -> String {
    if s == "(null)" {
        String::new()
    } else {
        s.to_string()
    }
}

const SERVICE_STATES: [&str; 4] = ["OK", "WARNING", "CRITICAL", "UNKNOWN"];
const HOST_STATES: [&str; 3] = ["UP", "DOWN", "UNREACHABLE"];

fn state(s: &str, service: bool) -> Result<String, String> {
    let known: &[&str] = if service {
        &SERVICE_STATES
    } else {
        &HOST_STATES
    };
    if known.contains(&s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "unknown {} state '{}'",
            if service { "service" } else { "host" },
            shown(s)
        ))
    }
}

fn hard(s: &str) -> Result<bool, String> {
    match s {
        "HARD" => Ok(true),
        "SOFT" => Ok(false),
        _ => Err(format!(
            "state type '{}' is neither SOFT nor HARD",
            shown(s)
        )),
    }
}

fn number<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("{what} '{}' is not a number", shown(s)))
}

/// A piece of a line for a message: short, one line.
fn shown(s: &str) -> String {
    let mut t: String = s
        .chars()
        .take(40)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().count() > 40 {
        t.push('…');
    }
    t
}

/// `HOST;SERVICE;` (service) or `HOST;` (host) off the front of `f`, as an event.
fn object(kind: Kind, at: Time, f: &[&str], service: bool) -> Result<Event, String> {
    let host = name(f[0], "host name")?;
    let svc = if service {
        Some(name(f[1], "service name")?)
    } else {
        None
    };
    Ok(Event::new(kind, at, Some(&host), svc.as_deref()))
}

/// `[HOST;SERVICE;]STATE;TYPE;ATTEMPT;OUTPUT`: an alert or a current/initial state.
fn state_line(at: Time, text: &str, service: bool) -> Result<Line, String> {
    let n = if service { 6 } else { 5 };
    let f = fields(text, n)?;
    let o = n - 4;
    let mut e = object(Kind::State, at, &f, service)?;
    e.state = Some(state(f[o], service)?);
    e.hard = Some(hard(f[o + 1])?);
    e.attempt = Some(number(f[o + 2], "attempt")?);
    e.output = Some(output(f[o + 3]));
    Ok(Line::Events(vec![e]))
}

/// `CONTACT;[HOST;SERVICE;]WHAT;COMMAND;OUTPUT[;AUTHOR;COMMENT]`.
fn notification_line(at: Time, text: &str, service: bool) -> Result<Line, String> {
    let n = if service { 6 } else { 5 };
    let f = fields(text, n)?;
    let contact = name(f[0], "contact name")?;
    let mut e = object(Kind::Notification, at, &f[1..], service)?;
    let o = n - 3;
    let (kind, st) = match f[o].split_once(" (") {
        Some((kind, rest)) => {
            let st = rest
                .strip_suffix(')')
                .ok_or_else(|| format!("notification type '{}' without ')'", shown(f[o])))?;
            if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(format!("unknown notification type '{}'", shown(kind)));
            }
            (kind.to_string(), state(st, service)?)
        }
        None => {
            let st = state(f[o], service)?;
            let kind = if st == "OK" || st == "UP" {
                "RECOVERY"
            } else {
                "PROBLEM"
            };
            (kind.to_string(), st)
        }
    };
    e.author = Some(contact);
    e.method = Some(name(f[o + 1], "notification command")?);
    e.state = Some(st.clone());
    // the output, then an acknowledgement's (or custom notification's) author and
    // comment: the output holds no ';' in our log, nor does an author in Nagios'
    let rest = f[o + 2];
    let mut ack = None;
    let text = match (kind.as_str(), rest.split_once(';')) {
        ("ACKNOWLEDGEMENT" | "CUSTOM", Some((out, tail))) => {
            let (author, comment) = tail.split_once(';').unwrap_or((tail, ""));
            e.comment = Some(comment.to_string());
            if kind == "ACKNOWLEDGEMENT" && !author.is_empty() {
                let mut a = Event::new(Kind::Ack, at, e.host.as_deref(), e.service.as_deref());
                a.state = Some(st);
                a.author = Some(author.to_string());
                a.comment = Some(comment.to_string());
                ack = Some(a);
            }
            out
        }
        _ => rest,
    };
    e.output = Some(output(text));
    e.notification_type = Some(kind);
    Ok(Line::Events(std::iter::once(e).chain(ack).collect()))
}

/// `[HOST;SERVICE;]WORD; TEXT` of a flapping or downtime alert.
fn phase_line(
    at: Time,
    text: &str,
    service: bool,
    kinds: &[(&str, Kind)],
    what: &str,
) -> Result<Line, String> {
    let n = if service { 3 } else { 2 };
    let f = fields(text, n)?;
    let (word, comment) = f[n - 1].split_once(';').unwrap_or((f[n - 1], ""));
    let kind = kinds
        .iter()
        .find(|(w, _)| *w == word)
        .map(|(_, k)| *k)
        .ok_or_else(|| format!("unknown {what} '{}'", shown(word)))?;
    let mut e = object(kind, at, &f, service)?;
    let comment = comment.trim();
    if !comment.is_empty() {
        e.comment = Some(comment.to_string());
    }
    Ok(Line::Events(vec![e]))
}

/// The external commands imported; others are skipped.
fn external_line(at: Time, text: &str) -> Result<Line, String> {
    let (command, args) = text.split_once(';').unwrap_or((text, ""));
    let (service, expire) = match command {
        "ACKNOWLEDGE_SVC_PROBLEM" => (true, false),
        "ACKNOWLEDGE_HOST_PROBLEM" => (false, false),
        "ACKNOWLEDGE_SVC_PROBLEM_EXPIRE" => (true, true),
        "ACKNOWLEDGE_HOST_PROBLEM_EXPIRE" => (false, true),
        "REMOVE_SVC_ACKNOWLEDGEMENT" | "REMOVE_HOST_ACKNOWLEDGEMENT" => {
            let service = command == "REMOVE_SVC_ACKNOWLEDGEMENT";
            let f = fields(args, if service { 2 } else { 1 })?;
            return Ok(Line::Events(vec![object(Kind::Unack, at, &f, service)?]));
        }
        "ADD_SVC_COMMENT" | "ADD_HOST_COMMENT" => {
            // [HOST;SERVICE;]PERSISTENT;AUTHOR;COMMENT
            let service = command == "ADD_SVC_COMMENT";
            let n = if service { 5 } else { 4 };
            let f = fields(args, n)?;
            let mut e = object(Kind::Comment, at, &f, service)?;
            e.author = Some(f[n - 2].to_string());
            e.comment = Some(f[n - 1].to_string());
            return Ok(Line::Events(vec![e]));
        }
        "SCHEDULE_SVC_DOWNTIME" | "SCHEDULE_HOST_DOWNTIME" => {
            // [HOST;SERVICE;]START;END;FIXED;TRIGGER;DURATION;AUTHOR;COMMENT
            let service = command == "SCHEDULE_SVC_DOWNTIME";
            let n = if service { 9 } else { 8 };
            let f = fields(args, n)?;
            let o = n - 7;
            let mut e = object(Kind::DowntimeScheduled, at, &f, service)?;
            let _start: Time = number(f[o], "downtime start")?;
            e.until = Some(number(f[o + 1], "downtime end")?);
            e.author = Some(f[o + 5].to_string());
            e.comment = Some(f[o + 6].to_string());
            return Ok(Line::Events(vec![e]));
        }
        _ => return Ok(Line::Skipped(at)),
    };
    // [HOST;SERVICE;]STICKY;NOTIFY;PERSISTENT;[EXPIRE;]AUTHOR;COMMENT
    let n = if service { 7 } else { 6 } + usize::from(expire);
    let f = fields(args, n)?;
    let o = if service { 2 } else { 1 };
    let mut e = object(Kind::Ack, at, &f, service)?;
    let sticky: u32 = number(f[o], "sticky")?;
    e.sticky = Some(sticky == 2);
    if expire {
        e.until = Some(number(f[o + 3], "expiry time")?);
    }
    e.author = Some(f[n - 2].to_string());
    e.comment = Some(f[n - 1].to_string());
    Ok(Line::Events(vec![e]))
}

/// What one line (without its newline) says; `Err` says why it is malformed.
pub fn parse_line(line: &str) -> Result<Line, String> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.trim().is_empty() {
        return Ok(Line::Empty);
    }
    let rest = line
        .strip_prefix('[')
        .ok_or("not a log line: no [TIME] at its start")?;
    let (time, text) = rest
        .split_once("] ")
        .ok_or("not a log line: no [TIME] at its start")?;
    let at: Time = time
        .parse()
        .map_err(|_| format!("time '{}' is not Unix seconds", shown(time)))?;
    let (head, body) = match text.split_once(": ") {
        Some((h, b)) => (h, b),
        None => (text, ""),
    };
    let flapping = [
        ("STARTED", Kind::FlappingStart),
        ("STOPPED", Kind::FlappingStop),
        ("DISABLED", Kind::FlappingStop),
    ];
    let downtime = [
        ("STARTED", Kind::DowntimeStart),
        ("STOPPED", Kind::DowntimeEnd),
        ("CANCELLED", Kind::DowntimeCancel),
    ];
    match head {
        "SERVICE ALERT" | "CURRENT SERVICE STATE" | "INITIAL SERVICE STATE" => {
            state_line(at, body, true)
        }
        "HOST ALERT" | "CURRENT HOST STATE" | "INITIAL HOST STATE" => state_line(at, body, false),
        "SERVICE NOTIFICATION" => notification_line(at, body, true),
        "HOST NOTIFICATION" => notification_line(at, body, false),
        "SERVICE FLAPPING ALERT" => phase_line(at, body, true, &flapping, "flapping phase"),
        "HOST FLAPPING ALERT" => phase_line(at, body, false, &flapping, "flapping phase"),
        "SERVICE DOWNTIME ALERT" => phase_line(at, body, true, &downtime, "downtime phase"),
        "HOST DOWNTIME ALERT" => phase_line(at, body, false, &downtime, "downtime phase"),
        "EXTERNAL COMMAND" => external_line(at, body),
        _ => Ok(program_line(at, text)),
    }
}

/// The program's own lines: start, stop, restart; anything else is skipped.
fn program_line(at: Time, text: &str) -> Line {
    if let Some(v) = text
        .strip_prefix("Nagios ")
        .and_then(|t| t.split_once(" starting..."))
    {
        let pid = v.1.trim();
        return Line::Start(at, format!("Nagios {} {pid}", v.0).trim().to_string());
    }
    if text.starts_with("Caught SIG") && text.ends_with(", shutting down...") {
        let why = text.trim_end_matches(", shutting down...").trim();
        return Line::Stop(at, why.to_string());
    }
    if text.starts_with("Successfully shutdown...") {
        return Line::Stop(at, "shut down".into());
    }
    if text.starts_with("Caught SIGHUP, restarting") {
        return Line::Restart(at);
    }
    Line::Skipped(at)
}

/// What an import read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub files: usize,
    pub lines: u64,
    /// Events made.
    pub events: u64,
    /// Log lines of kinds not imported.
    pub skipped: u64,
    /// Malformed lines (the first [`MAX_LISTED`] in `problems`).
    pub malformed: u64,
    /// `FILE:LINE: why`.
    pub problems: Vec<String>,
}

/// Reads logs in order, keeping what spans lines (whether Nagios runs, a restart in
/// progress, the last acknowledgement of each object).
#[derive(Debug, Default)]
pub struct Reader {
    pub summary: Summary,
    /// Whether the program was last seen running (`None`: not known yet).
    running: Option<bool>,
    restarting: bool,
    /// The time of the last line read.
    last_at: Option<Time>,
    /// Per object, the last acknowledgement (time, author, comment).
    acks: std::collections::HashMap<String, (Time, String, String)>,
}

impl Reader {
    pub fn new() -> Reader {
        Reader::default()
    }

    /// The events of one line, in order, given what came before.
    pub fn take(&mut self, line: Line) -> Vec<Event> {
        let mut out = Vec::new();
        let at = match &line {
            Line::Events(v) => v.first().map(|e| e.at),
            Line::Start(t, _) | Line::Stop(t, _) | Line::Restart(t) | Line::Skipped(t) => Some(*t),
            Line::Empty => None,
        };
        match line {
            Line::Events(events) => {
                for e in events {
                    if e.kind == Kind::Ack {
                        let key = e.object();
                        let who = e.author.clone().unwrap_or_default();
                        let why = e.comment.clone().unwrap_or_default();
                        if e.sticky.is_none() {
                            // told by a notification: once, unless the command was logged
                            let seen = self.acks.get(&key).is_some_and(|(t, a, c)| {
                                e.at.saturating_sub(*t) <= SAME_ACK && *a == who && *c == why
                            });
                            if seen {
                                continue;
                            }
                        }
                        self.acks.insert(key, (e.at, who, why));
                    }
                    out.push(e);
                }
            }
            Line::Start(t, comment) => {
                if std::mem::take(&mut self.restarting) {
                    // the start that follows a SIGHUP is part of the reload
                } else {
                    if self.running == Some(true) {
                        let mut stop =
                            Event::new(Kind::Stop, self.last_at.unwrap_or(t), None, None);
                        stop.comment = Some("not stopped cleanly".into());
                        out.push(stop);
                    }
                    let mut e = Event::new(Kind::Start, t, None, None);
                    e.comment = Some(comment);
                    out.push(e);
                }
                self.running = Some(true);
            }
            Line::Stop(t, comment) => {
                if self.running != Some(false) {
                    let mut e = Event::new(Kind::Stop, t, None, None);
                    e.comment = Some(comment);
                    out.push(e);
                }
                self.running = Some(false);
                self.restarting = false;
            }
            Line::Restart(t) => {
                let mut e = Event::new(Kind::Reload, t, None, None);
                e.comment = Some("SIGHUP".into());
                out.push(e);
                self.restarting = true;
                self.running = Some(true);
            }
            Line::Skipped(_) => self.summary.skipped += 1,
            Line::Empty => {}
        }
        if let Some(t) = at {
            self.last_at = Some(self.last_at.map_or(t, |l| l.max(t)));
        }
        self.summary.events += out.len() as u64;
        out
    }

    fn malformed(&mut self, file: &Path, line: u64, why: &str) {
        self.summary.malformed += 1;
        if self.summary.problems.len() < MAX_LISTED {
            self.summary
                .problems
                .push(format!("{}:{line}: {why}", file.display()));
        }
    }

    /// Reads one log from `input` (named `file` in reports), handing its events to
    /// `sink` in batches of at most [`BATCH`]; stops at the first error of the sink
    /// or of reading.
    pub fn read(
        &mut self,
        file: &Path,
        input: impl Read,
        sink: &mut dyn FnMut(Vec<Event>) -> Result<(), String>,
    ) -> Result<(), String> {
        self.summary.files += 1;
        let mut input = BufReader::with_capacity(64 * 1024, input);
        let mut buf = Vec::new();
        let mut batch = Vec::new();
        let mut number = 0u64;
        loop {
            buf.clear();
            let n = (&mut input)
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut buf)
                .map_err(|e| format!("{}: cannot read: {e}", file.display()))?;
            if n == 0 {
                break;
            }
            number += 1;
            self.summary.lines += 1;
            if buf.len() > MAX_LINE && buf.last() != Some(&b'\n') {
                // skip the rest of the long line without holding it
                loop {
                    buf.clear();
                    let m = (&mut input)
                        .take(MAX_LINE as u64)
                        .read_until(b'\n', &mut buf)
                        .map_err(|e| format!("{}: cannot read: {e}", file.display()))?;
                    if m == 0 || buf.last() == Some(&b'\n') {
                        break;
                    }
                }
                self.malformed(file, number, &format!("line longer than {MAX_LINE} bytes"));
                continue;
            }
            if buf.last() == Some(&b'\n') {
                buf.pop();
            }
            let text = String::from_utf8_lossy(&buf);
            match parse_line(&text) {
                Ok(line) => batch.extend(self.take(line)),
                Err(why) => self.malformed(file, number, &why),
            }
            if batch.len() >= BATCH {
                sink(std::mem::take(&mut batch))?;
            }
        }
        if !batch.is_empty() {
            sink(batch)?;
        }
        Ok(())
    }
}

/// The time of a log's first line (`None`: none found in its first lines).
fn first_time(path: &Path) -> Option<Time> {
    let f = std::fs::File::open(path).ok()?;
    let mut input = BufReader::new(f.take(16 * MAX_LINE as u64));
    let mut buf = Vec::new();
    for _ in 0..64 {
        buf.clear();
        if input.read_until(b'\n', &mut buf).ok()? == 0 {
            return None;
        }
        let text = String::from_utf8_lossy(&buf);
        if let Some(t) = text
            .strip_prefix('[')
            .and_then(|r| r.split_once(']'))
            .and_then(|(t, _)| t.parse().ok())
        {
            return Some(t);
        }
    }
    None
}

/// The logs in the order they were written: by the time of their first line (the
/// archives of a rotation and the current log given in any order).
pub fn in_order(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut timed: Vec<(Option<Time>, usize, PathBuf)> = paths
        .iter()
        .enumerate()
        .map(|(i, p)| (first_time(p), i, p.clone()))
        .collect();
    timed.sort_by_key(|(t, i, _)| (t.unwrap_or(Time::MAX), *i));
    timed.into_iter().map(|(_, _, p)| p).collect()
}

/// Reads the logs at `paths` (in the order they were written), handing their events to
/// `sink` in batches. An unreadable file is an error naming it; malformed lines are
/// reported in the summary.
pub fn read_files(
    paths: &[PathBuf],
    sink: &mut dyn FnMut(Vec<Event>) -> Result<(), String>,
) -> Result<Summary, String> {
    let mut reader = Reader::new();
    for path in in_order(paths) {
        let meta = std::fs::metadata(&path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        if !meta.is_file() {
            return Err(format!("{}: not a regular file", path.display()));
        }
        let f = std::fs::File::open(&path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        reader.read(&path, f, sink)?;
    }
    Ok(reader.summary)
}

/// Imports the logs at `paths` into the store of `settings` (which may be in use by
/// the running daemon): every file is checked readable first, then read and written
/// in batches of [`BATCH`] events, each one transaction; events already stored are
/// not added again. Returns what was read and how many events were new.
pub fn import_files(
    settings: &super::store::HistorySettings,
    paths: &[PathBuf],
) -> Result<(Summary, usize), String> {
    if !settings.enabled {
        return Err("no history is kept ([history] enabled = false)".into());
    }
    for path in paths {
        std::fs::File::open(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    }
    let mut store = super::store::Importer::open(settings)?;
    let mut added = 0;
    let summary = read_files(paths, &mut |batch| {
        added += store.import(&batch)?;
        Ok(())
    });
    let closed = store.close();
    let summary = summary?;
    closed?;
    Ok((summary, added))
}

/// The line an import ends with.
pub fn said(s: &Summary, added: usize, store: &Path) -> String {
    format!(
        "imported {} lines of {} file{} into {}: {} events, {added} new; {} lines of other kinds skipped, {} malformed",
        s.lines,
        s.files,
        if s.files == 1 { "" } else { "s" },
        store.display(),
        s.events,
        s.skipped,
        s.malformed
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eventlog::{DowntimePhase, Entry};
    use crate::state::{NotificationType, StateType};

    /// Lines Nagios 4.4.6 wrote (Debian's nagios4, passive results and external
    /// commands through its command file, a SIGHUP and a SIGTERM).
    const NAGIOS: &str = include_str!("nagios-4.4.6.log");

    fn read_text(text: &str) -> (Vec<Event>, Summary) {
        let mut all = Vec::new();
        let mut r = Reader::new();
        r.read(Path::new("nagios.log"), text.as_bytes(), &mut |b| {
            all.extend(b);
            Ok(())
        })
        .unwrap();
        (all, r.summary)
    }

    fn one(line: &str) -> Event {
        match parse_line(line) {
            Ok(Line::Events(v)) if v.len() == 1 => v.into_iter().next().unwrap(),
            other => panic!("{line}: {other:?}"),
        }
    }

    fn state(at: Time, object: &str, st: &str, hard: bool, attempt: u32, output: &str) -> Event {
        let (h, s) = match object.split_once('/') {
            Some((h, s)) => (h, Some(s)),
            None => (object, None),
        };
        Event {
            state: Some(st.into()),
            hard: Some(hard),
            attempt: Some(attempt),
            output: Some(output.into()),
            ..Event::new(Kind::State, at, Some(h), s)
        }
    }

    #[test]
    fn alerts_and_states() {
        assert_eq!(
            one("[1796573899] SERVICE ALERT: web;http;CRITICAL;SOFT;1;HTTP CRITICAL - refused: really"),
            state(1796573899, "web/http", "CRITICAL", false, 1, "HTTP CRITICAL - refused: really")
        );
        assert_eq!(
            one("[1796573906] HOST ALERT: web;DOWN;HARD;2;PING CRITICAL - 100% loss"),
            state(
                1796573906,
                "web",
                "DOWN",
                true,
                2,
                "PING CRITICAL - 100% loss"
            )
        );
        assert_eq!(
            one("[1796573896] INITIAL SERVICE STATE: web;http;OK;HARD;1;(null)"),
            state(1796573896, "web/http", "OK", true, 1, "")
        );
        assert_eq!(
            one("[1796573896] INITIAL HOST STATE: web;UP;HARD;1;"),
            state(1796573896, "web", "UP", true, 1, "")
        );
        assert_eq!(
            one("[1700000000] CURRENT SERVICE STATE: db;pg;WARNING;HARD;3;PG WARNING - 80; slow"),
            state(
                1700000000,
                "db/pg",
                "WARNING",
                true,
                3,
                "PG WARNING - 80; slow"
            )
        );
        assert_eq!(
            one("[1700000000] CURRENT HOST STATE: db;UNREACHABLE;SOFT;1;x"),
            state(1700000000, "db", "UNREACHABLE", false, 1, "x")
        );
    }

    #[test]
    fn notifications_and_acknowledgements() {
        let n = one("[1796573900] SERVICE NOTIFICATION: ops;web;http;CRITICAL;notify-service-by-email;HTTP CRITICAL - refused: really");
        assert_eq!(
            n,
            Event {
                author: Some("ops".into()),
                state: Some("CRITICAL".into()),
                notification_type: Some("PROBLEM".into()),
                method: Some("notify-service-by-email".into()),
                output: Some("HTTP CRITICAL - refused: really".into()),
                ..Event::new(Kind::Notification, 1796573900, Some("web"), Some("http"))
            }
        );
        let r = one(
            "[1796573908] HOST NOTIFICATION: ops;web;UP;notify-host-by-email;PING OK - rta 0.1ms",
        );
        assert_eq!(
            (
                r.notification_type.as_deref(),
                r.state.as_deref(),
                r.service
            ),
            (Some("RECOVERY"), Some("UP"), None)
        );
        let d = one("[1796573910] SERVICE NOTIFICATION: ops;web;http;DOWNTIMESTART (OK);notify-service-by-email;HTTP OK - 200");
        assert_eq!(
            (
                d.notification_type.as_deref(),
                d.state.as_deref(),
                d.comment
            ),
            (Some("DOWNTIMESTART"), Some("OK"), None)
        );
        let c = one("[1796573923] SERVICE NOTIFICATION: ops;web;http;CUSTOM (OK);notify-service-by-email;flip 12;dave;hello");
        assert_eq!(
            (
                c.notification_type.as_deref(),
                c.output.as_deref(),
                c.comment.as_deref()
            ),
            (Some("CUSTOM"), Some("flip 12"), Some("hello"))
        );
        // an acknowledgement notification: the notification and the ack it tells of
        let Ok(Line::Events(v)) = parse_line("[1796573901] SERVICE NOTIFICATION: ops;web;http;ACKNOWLEDGEMENT (CRITICAL);notify-service-by-email;HTTP CRITICAL - refused: really;alice;on it; looking") else {
            panic!("not events");
        };
        assert_eq!(v.len(), 2);
        assert_eq!(
            (
                v[0].kind,
                v[0].notification_type.as_deref(),
                v[0].state.as_deref(),
                v[0].author.as_deref(),
                v[0].output.as_deref(),
                v[0].comment.as_deref()
            ),
            (
                Kind::Notification,
                Some("ACKNOWLEDGEMENT"),
                Some("CRITICAL"),
                Some("ops"),
                Some("HTTP CRITICAL - refused: really"),
                Some("on it; looking")
            )
        );
        assert_eq!(
            (
                v[1].kind,
                v[1].author.as_deref(),
                v[1].comment.as_deref(),
                v[1].sticky
            ),
            (Kind::Ack, Some("alice"), Some("on it; looking"), None)
        );
        // the acknowledging commands
        let a = one("[1796573901] EXTERNAL COMMAND: ACKNOWLEDGE_SVC_PROBLEM;web;http;2;1;0;alice;on it; looking");
        assert_eq!(
            a,
            Event {
                author: Some("alice".into()),
                comment: Some("on it; looking".into()),
                sticky: Some(true),
                ..Event::new(Kind::Ack, 1796573901, Some("web"), Some("http"))
            }
        );
        let h =
            one("[1796573907] EXTERNAL COMMAND: ACKNOWLEDGE_HOST_PROBLEM;web;1;1;1;bob;rebooting");
        assert_eq!(
            (h.host.as_deref(), h.service, h.author.as_deref(), h.sticky),
            (Some("web"), None, Some("bob"), Some(false))
        );
        let x = one("[5] EXTERNAL COMMAND: ACKNOWLEDGE_SVC_PROBLEM_EXPIRE;web;http;1;1;0;1700000000;carol;until monday");
        assert_eq!(
            (x.until, x.author.as_deref(), x.comment.as_deref()),
            (Some(1700000000), Some("carol"), Some("until monday"))
        );
        let c = one("[7] EXTERNAL COMMAND: ADD_SVC_COMMENT;web;http;1;erin;disk swap; friday");
        assert_eq!(
            c,
            Event {
                author: Some("erin".into()),
                comment: Some("disk swap; friday".into()),
                ..Event::new(Kind::Comment, 7, Some("web"), Some("http"))
            }
        );
        let c = one("[7] EXTERNAL COMMAND: ADD_HOST_COMMENT;web;0;erin;rack 4");
        assert_eq!(
            (c.kind, c.service, c.comment.as_deref()),
            (Kind::Comment, None, Some("rack 4"))
        );
        let u = one("[1796573924] EXTERNAL COMMAND: REMOVE_SVC_ACKNOWLEDGEMENT;web;http");
        assert_eq!(
            u,
            Event::new(Kind::Unack, 1796573924, Some("web"), Some("http"))
        );
    }

    #[test]
    fn downtimes_and_flapping() {
        let s = one("[1796573910] EXTERNAL COMMAND: SCHEDULE_SVC_DOWNTIME;web;http;1796573910;1796573913;1;0;0;carol;maintenance");
        assert_eq!(
            s,
            Event {
                author: Some("carol".into()),
                comment: Some("maintenance".into()),
                until: Some(1796573913),
                ..Event::new(
                    Kind::DowntimeScheduled,
                    1796573910,
                    Some("web"),
                    Some("http")
                )
            }
        );
        let h = one("[1796573911] EXTERNAL COMMAND: SCHEDULE_HOST_DOWNTIME;web;1796573911;1796574510;1;0;0;carol;long maint");
        assert_eq!(
            (h.kind, h.service, h.until, h.comment.as_deref()),
            (
                Kind::DowntimeScheduled,
                None,
                Some(1796574510),
                Some("long maint")
            )
        );
        let cases = [
            ("[1] SERVICE DOWNTIME ALERT: web;http;STARTED; Service has entered a period of scheduled downtime", Kind::DowntimeStart, true),
            ("[1] SERVICE DOWNTIME ALERT: web;http;STOPPED; Service has exited from a period of scheduled downtime", Kind::DowntimeEnd, true),
            ("[1] HOST DOWNTIME ALERT: web;CANCELLED; Scheduled downtime for host has been cancelled.", Kind::DowntimeCancel, false),
            ("[1] SERVICE FLAPPING ALERT: web;http;STARTED; Service appears to have started flapping (35.5% change >= 30.0% threshold)", Kind::FlappingStart, true),
            ("[1] HOST FLAPPING ALERT: web;STOPPED; Host appears to have stopped flapping (17.1% change < 20.0% threshold)", Kind::FlappingStop, false),
            ("[1] SERVICE FLAPPING ALERT: web;http;DISABLED; Flap detection has been disabled", Kind::FlappingStop, true),
        ];
        for (line, kind, service) in cases {
            let e = one(line);
            assert_eq!(
                (e.kind, e.host.as_deref(), e.service.is_some()),
                (kind, Some("web"), service),
                "{line}"
            );
            let text = line.rsplit("; ").next().unwrap();
            assert_eq!(e.comment.as_deref(), Some(text), "{line}");
        }
    }

    #[test]
    fn the_program_starts_restarts_and_stops() {
        let text = "[10] Nagios 4.4.6 starting... (PID=18213)\n\
            [10] LOG VERSION: 2.0\n\
            [20] Caught SIGHUP, restarting...\n\
            [21] Nagios 4.4.6 starting... (PID=18213)\n\
            [30] PASSIVE SERVICE CHECK: web;http;0;ok\n\
            [40] Nagios 4.4.6 starting... (PID=99)\n\
            [50] Caught SIGTERM, shutting down...\n\
            [50] Successfully shutdown... (PID=99)\n";
        let (events, summary) = read_text(text);
        let kinds: Vec<(Kind, Time, Option<&str>)> = events
            .iter()
            .map(|e| (e.kind, e.at, e.comment.as_deref()))
            .collect();
        assert_eq!(
            kinds,
            [
                (Kind::Start, 10, Some("Nagios 4.4.6 (PID=18213)")),
                (Kind::Reload, 20, Some("SIGHUP")),
                // killed: stopped at its last line
                (Kind::Stop, 30, Some("not stopped cleanly")),
                (Kind::Start, 40, Some("Nagios 4.4.6 (PID=99)")),
                (Kind::Stop, 50, Some("Caught SIGTERM")),
            ]
        );
        assert_eq!(
            (summary.lines, summary.skipped, summary.malformed),
            (8, 2, 0)
        );
    }

    #[test]
    fn a_real_nagios_log() {
        let (events, summary) = read_text(NAGIOS);
        assert_eq!(
            (summary.malformed, summary.problems.len()),
            (0, 0),
            "{:?}",
            summary.problems
        );
        assert_eq!(summary.lines, NAGIOS.lines().count() as u64);
        let count = |k: Kind| events.iter().filter(|e| e.kind == k).count();
        // two runs: a SIGHUP restart in the first, each stopped by SIGTERM
        assert_eq!(
            (count(Kind::Start), count(Kind::Stop), count(Kind::Reload)),
            (2, 2, 1)
        );
        // acks: alice's and bob's, once each though told by command and notification
        let acks: Vec<(String, Option<&str>, Option<bool>)> = events
            .iter()
            .filter(|e| e.kind == Kind::Ack)
            .map(|e| (e.object(), e.author.as_deref(), e.sticky))
            .collect();
        assert_eq!(
            acks,
            [
                ("web/http".to_string(), Some("alice"), Some(true)),
                ("web".to_string(), Some("bob"), Some(false))
            ]
        );
        assert_eq!(count(Kind::Unack), 1);
        assert_eq!(
            (count(Kind::FlappingStart), count(Kind::FlappingStop)),
            (2, 2)
        );
        assert_eq!(
            (
                count(Kind::DowntimeScheduled),
                count(Kind::DowntimeStart),
                count(Kind::DowntimeEnd),
                count(Kind::DowntimeCancel)
            ),
            (2, 2, 1, 1)
        );
        // the first run's service history, initial state included
        let http: Vec<(Time, &str, bool, u32)> = events
            .iter()
            .filter(|e| e.kind == Kind::State && e.object() == "web/http" && e.at < 1796573910)
            .map(|e| {
                (
                    e.at,
                    e.state.as_deref().unwrap(),
                    e.hard.unwrap(),
                    e.attempt.unwrap(),
                )
            })
            .collect();
        assert_eq!(
            http,
            [
                (1796573896, "OK", true, 1),
                (1796573899, "CRITICAL", false, 1),
                (1796573900, "CRITICAL", true, 2),
                (1796573902, "WARNING", true, 2),
                (1796573903, "OK", true, 2),
            ]
        );
        let notes = events
            .iter()
            .filter(|e| e.kind == Kind::Notification)
            .count();
        assert_eq!(notes, NAGIOS.matches(" NOTIFICATION: ").count());
        // every event is in time order
        assert!(events.windows(2).all(|w| w[0].at <= w[1].at));
    }

    #[test]
    fn bad_lines_are_reported_with_their_place() {
        let long = format!(
            "[1] SERVICE ALERT: h;s;OK;HARD;1;{}\n",
            "x".repeat(MAX_LINE)
        );
        let text = format!(
            "garbage\n[x] SERVICE ALERT: h;s;OK;HARD;1;o\n[1] SERVICE ALERT: h;s;FINE;HARD;1;o\n\
             [1] SERVICE ALERT: h;s;OK;HARD;one;o\n[1] HOST ALERT: h;DOWN;HARD\n{long}\
             [1] SERVICE ALERT: ;s;OK;HARD;1;o\n[1] HOST NOTIFICATION: c;h;WEIRD (DOWN;cmd;o\n\
             [2] SERVICE ALERT: h;s;OK;HARD;1;fine\n\u{fffd}\u{0}\n"
        );
        let (events, summary) = read_text(&text);
        assert_eq!(events, [state(2, "h/s", "OK", true, 1, "fine")]);
        assert_eq!(summary.malformed, 9);
        assert_eq!(
            summary.problems,
            [
                "nagios.log:1: not a log line: no [TIME] at its start",
                "nagios.log:2: time 'x' is not Unix seconds",
                "nagios.log:3: unknown service state 'FINE'",
                "nagios.log:4: attempt 'one' is not a number",
                "nagios.log:5: 3 fields where 5 are expected",
                "nagios.log:6: line longer than 65536 bytes",
                "nagios.log:7: empty host name",
                "nagios.log:8: notification type 'WEIRD (DOWN' without ')'",
                "nagios.log:10: not a log line: no [TIME] at its start",
            ]
        );
        // at most MAX_LISTED are listed, all are counted
        let (_, many) = read_text(&"bad\n".repeat(100));
        assert_eq!((many.malformed, many.problems.len()), (100, MAX_LISTED));
    }

    /// Every line our event log writes reads back as the facts it was written from.
    #[test]
    fn our_event_log_reads_back() {
        let at = 1_700_000_000;
        let ev = |e: &Entry| match parse_line(&format!("[{at}] {}", e.line())) {
            Ok(Line::Events(v)) => v,
            other => panic!("{}: {other:?}", e.line()),
        };
        let alert = Entry::ServiceAlert {
            host: "web",
            service: "http",
            state: "CRITICAL",
            state_type: StateType::Soft,
            attempt: 2,
            output: "HTTP CRITICAL - refused|time=1s\nmore",
        };
        assert_eq!(
            ev(&alert),
            [state(
                at,
                "web/http",
                "CRITICAL",
                false,
                2,
                "HTTP CRITICAL - refused"
            )]
        );
        let host = Entry::HostAlert {
            host: "web",
            state: "DOWN",
            state_type: StateType::Hard,
            attempt: 3,
            output: "PING CRITICAL; lost",
        };
        assert_eq!(
            ev(&host),
            [state(at, "web", "DOWN", true, 3, "PING CRITICAL: lost")]
        );
        for (kind, st, want) in [
            (NotificationType::Problem, "CRITICAL", "PROBLEM"),
            (NotificationType::Recovery, "OK", "RECOVERY"),
            (NotificationType::FlappingStart, "WARNING", "FLAPPINGSTART"),
            (NotificationType::DowntimeEnd, "OK", "DOWNTIMEEND"),
        ] {
            let n = Entry::ServiceNotification {
                contact: "ops",
                host: "web",
                service: "http",
                kind,
                state: st,
                command: "email",
                output: "text",
                ack: None,
            };
            assert_eq!(
                ev(&n),
                [Event {
                    author: Some("ops".into()),
                    state: Some(st.into()),
                    notification_type: Some(want.into()),
                    method: Some("email".into()),
                    output: Some("text".into()),
                    ..Event::new(Kind::Notification, at, Some("web"), Some("http"))
                }]
            );
        }
        let ack = Entry::HostNotification {
            contact: "ops",
            host: "web",
            kind: NotificationType::Acknowledgement,
            state: "DOWN",
            command: "page",
            output: "PING CRITICAL",
            ack: Some(("alice", "on it; really")),
        };
        let v = ev(&ack);
        assert_eq!(
            v,
            [
                Event {
                    author: Some("ops".into()),
                    state: Some("DOWN".into()),
                    notification_type: Some("ACKNOWLEDGEMENT".into()),
                    method: Some("page".into()),
                    output: Some("PING CRITICAL".into()),
                    comment: Some("on it; really".into()),
                    ..Event::new(Kind::Notification, at, Some("web"), None)
                },
                Event {
                    author: Some("alice".into()),
                    state: Some("DOWN".into()),
                    comment: Some("on it; really".into()),
                    ..Event::new(Kind::Ack, at, Some("web"), None)
                }
            ]
        );
        for (service, started, kind) in [
            (true, true, Kind::FlappingStart),
            (false, true, Kind::FlappingStart),
            (true, false, Kind::FlappingStop),
            (false, false, Kind::FlappingStop),
        ] {
            let e = if service {
                Entry::ServiceFlapping {
                    host: "web",
                    service: "http",
                    started,
                    percent: 25.0,
                    threshold: 20.0,
                }
            } else {
                Entry::HostFlapping {
                    host: "web",
                    started,
                    percent: 25.0,
                    threshold: 20.0,
                }
            };
            let v = ev(&e);
            assert_eq!(
                (v.len(), v[0].kind, v[0].service.is_some()),
                (1, kind, service)
            );
        }
        for (phase, kind) in [
            (DowntimePhase::Started, Kind::DowntimeStart),
            (DowntimePhase::Stopped, Kind::DowntimeEnd),
            (DowntimePhase::Cancelled, Kind::DowntimeCancel),
        ] {
            let s = ev(&Entry::ServiceDowntime {
                host: "web",
                service: "http",
                phase,
            });
            let h = ev(&Entry::HostDowntime { host: "web", phase });
            assert_eq!((s[0].kind, s[0].object().as_str()), (kind, "web/http"));
            assert_eq!((h[0].kind, h[0].object().as_str()), (kind, "web"));
        }
        // event handler lines are read and skipped
        let handler = Entry::ServiceEventHandler {
            global: false,
            host: "web",
            service: "http",
            state: "CRITICAL",
            state_type: StateType::Soft,
            attempt: 1,
            handler: "/bin/restart",
        };
        assert_eq!(
            parse_line(&format!("[{at}] {}", handler.line())),
            Ok(Line::Skipped(at))
        );
    }

    #[test]
    fn logs_are_imported_into_an_existing_store_once() {
        use crate::history::store::{History, HistorySettings};
        let t = tempfile::tempdir().unwrap();
        let log = t.path().join("nagios.log");
        std::fs::write(&log, NAGIOS).unwrap();
        let settings = HistorySettings {
            path: t.path().join("history.db"),
            ..HistorySettings::default()
        };
        let paths = [log.clone()];
        let e = import_files(&settings, &paths).unwrap_err();
        assert!(e.starts_with("no history store at "), "{e}");
        let off = HistorySettings {
            enabled: false,
            ..settings.clone()
        };
        assert!(import_files(&off, &paths)
            .unwrap_err()
            .contains("enabled = false"));
        // the daemon makes the store
        History::open(&settings, crate::clock::unix_now())
            .unwrap()
            .close("test");
        let (summary, added) = import_files(&settings, &paths).unwrap();
        assert_eq!(added as u64, summary.events);
        assert_eq!((summary.files, summary.malformed), (1, 0));
        let (again, added) = import_files(&settings, &paths).unwrap();
        assert_eq!((again.events, added), (summary.events, 0));
        assert_eq!(
            said(&again, added, &settings.path),
            format!(
                "imported {} lines of 1 file into {}: {} events, 0 new; {} lines of other kinds skipped, 0 malformed",
                again.lines,
                settings.path.display(),
                again.events,
                again.skipped
            )
        );
        // an unreadable file among others: nothing is read
        let missing = t.path().join("gone.log");
        let e = import_files(&settings, &[log, missing]).unwrap_err();
        assert!(e.contains("gone.log: cannot read"), "{e}");
    }

    #[test]
    fn logs_are_read_in_the_order_written() {
        let t = tempfile::tempdir().unwrap();
        let old = t.path().join("nagios-12-05-2026-00.log");
        let new = t.path().join("nagios.log");
        std::fs::write(&old, "[100] Nagios 4.4.6 starting... (PID=1)\n[150] SERVICE ALERT: h;s;CRITICAL;HARD;1;down\n").unwrap();
        std::fs::write(
            &new,
            "[200] LOG ROTATION: DAILY\n[200] CURRENT SERVICE STATE: h;s;CRITICAL;HARD;1;down\n",
        )
        .unwrap();
        assert_eq!(
            in_order(&[new.clone(), old.clone()]),
            [old.clone(), new.clone()]
        );
        let mut got = Vec::new();
        let s = read_files(&[new, old], &mut |b| {
            got.extend(b);
            Ok(())
        })
        .unwrap();
        let at: Vec<Time> = got.iter().map(|e| e.at).collect();
        assert_eq!(at, [100, 150, 200]);
        assert_eq!((s.files, s.lines, s.skipped), (2, 4, 1));
        let e = read_files(&[t.path().join("missing.log")], &mut |_| Ok(())).unwrap_err();
        assert!(e.contains("missing.log: cannot read"), "{e}");
        let e = read_files(&[t.path().to_path_buf()], &mut |_| Ok(())).unwrap_err();
        assert!(e.ends_with("not a regular file"), "{e}");
    }
}
