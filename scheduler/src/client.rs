//! The `status`, `ack`, `downtime`, ... commands: small HTTP/1.1 requests to the running
//! daemon, through its control socket (authenticated by our uid; the daemon must be
//! root, us, or its configured user, so no member can stand in for it) or, with
//! `--api`, over TCP with a token for writes.

use crate::groups::GroupFilter;
use crate::http::{
    AckRequest, CommentRequest, CommentView, DowntimeRequest, DowntimeView, Objects, Problems,
    RecheckRequest, SwitchRequest, View,
};
use anyhow::{bail, Context, Result};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

/// The longest answer read from the daemon.
const MAX_ANSWER: u64 = 64 * 1024 * 1024;

/// Where the daemon is and how to prove who we are.
#[derive(Debug, Clone)]
pub enum Endpoint {
    /// The control socket; the daemon's uid must be one of `trusted`.
    Socket { path: PathBuf, trusted: Vec<u32> },
    /// The TCP API; writes need a token.
    Tcp { addr: String, token: Option<String> },
}

/// The uid of the process at the other end of a Unix socket.
fn peer_uid(s: &UnixStream) -> Result<u32> {
    use std::os::fd::AsRawFd;
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: cred and len are valid out pointers of the sizes given.
    let r = unsafe {
        libc::getsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if r != 0 {
        bail!(
            "cannot read the daemon's credentials: {}",
            std::io::Error::last_os_error()
        );
    }
    Ok(cred.uid)
}

fn exchange<S: Read + Write>(mut s: S, head: &str, body: &str) -> Result<Vec<u8>> {
    // in one write, and the answer read even when the write failed: a daemon refusing
    // us at the headers answers and closes before a body sent apart arrives, and its
    // answer says why
    let request = [head.as_bytes(), body.as_bytes()].concat();
    let written = s.write_all(&request);
    let mut raw = Vec::new();
    let read = s.take(MAX_ANSWER).read_to_end(&mut raw);
    if raw.is_empty() {
        written?;
        read?;
    }
    Ok(raw)
}

impl Endpoint {
    /// Sends one request and returns the JSON body of a 2xx answer; an error answer's
    /// `error` text otherwise.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
    ) -> Result<serde_json::Value> {
        let body = body.unwrap_or_default();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        );
        let raw = match self {
            Endpoint::Socket {
                path: socket,
                trusted,
            } => {
                let s = UnixStream::connect(socket).with_context(|| {
                    format!(
                        "cannot reach the daemon on {} (is hcoop-monitor running?)",
                        socket.display()
                    )
                })?;
                let uid = peer_uid(&s)?;
                if !trusted.contains(&uid) {
                    bail!(
                        "{} is served by {} (uid {uid}), not by the daemon: refusing to talk to it",
                        socket.display(),
                        crate::auth::user_name(uid)
                    );
                }
                s.set_read_timeout(Some(Duration::from_secs(60)))?;
                head.push_str("\r\n");
                exchange(s, &head, &body)?
            }
            Endpoint::Tcp { addr, token } => {
                let s = TcpStream::connect(addr).with_context(|| {
                    format!("cannot reach the daemon at {addr} (is hcoop-monitor running?)")
                })?;
                s.set_read_timeout(Some(Duration::from_secs(60)))?;
                head = head.replace("Host: localhost", &format!("Host: {addr}"));
                if let Some(t) = token {
                    head.push_str(&format!("Authorization: Bearer {t}\r\n"));
                }
                head.push_str("\r\n");
                exchange(s, &head, &body)?
            }
        };
        parse_answer(&raw)
    }
}

/// The JSON of a 2xx answer; the `error` text of any other.
fn parse_answer(raw: &[u8]) -> Result<serde_json::Value> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .context("malformed answer from the daemon")?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .context("malformed status line from the daemon")?;
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    let json: serde_json::Value = serde_json::from_str(&body)
        .with_context(|| format!("answer is not JSON (HTTP {status})"))?;
    if !(200..300).contains(&status) {
        bail!(
            "{}",
            json.get("error")
                .and_then(|e| e.as_str())
                .unwrap_or("request refused")
        );
    }
    Ok(json)
}

/// One request to the TCP API without credentials (reads).
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<serde_json::Value> {
    Endpoint::Tcp {
        addr: addr.to_string(),
        token: None,
    }
    .request(method, path, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// A line of text for a terminal: control characters (which could rewrite the screen)
/// shown as `?`.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// The services table of the running daemon (those a group filter shows), problems
/// first; the exit code is the worst service state.
pub fn status(api: &Endpoint, problems_only: bool, groups: &GroupFilter) -> Result<(String, i32)> {
    let q = groups.query();
    let views: Vec<View> = if problems_only {
        let p: Problems =
            serde_json::from_value(api.request("GET", &format!("/api/problems{q}"), None)?)?;
        p.hosts.into_iter().chain(p.services).collect()
    } else {
        let get = |path: &str| api.request("GET", &format!("{path}{q}"), None);
        let hosts: Vec<View> = serde_json::from_value(get("/api/hosts")?)?;
        let svcs: Vec<View> = serde_json::from_value(get("/api/services")?)?;
        hosts.into_iter().chain(svcs).collect()
    };
    let mut views = views;
    views.sort_by_key(|v| (!v.is_problem(), v.name()));
    let w = views
        .iter()
        .map(|v| v.name().len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = format!("{:w$}  {:11}  {:9}  SUMMARY\n", "NAME", "STATE", "TYPE");
    let mut worst = hcoop_plugins::plugin::State::Ok;
    for v in &views {
        let mut flags = String::new();
        if let Some(a) = &v.ack {
            flags.push_str(&format!(" [ack by {}]", a.author));
        }
        if v.in_downtime {
            flags.push_str(" [downtime]");
        }
        if v.flapping {
            flags.push_str(" [flapping]");
        }
        if !v.active_checks_enabled {
            flags.push_str(" [checks disabled]");
        }
        if !v.notifications_enabled {
            flags.push_str(" [notifications disabled]");
        }
        if v.service.is_some() {
            if let Ok(s) = v.state.parse::<hcoop_plugins::plugin::State>() {
                worst = worst.worst(s);
            }
        }
        out.push_str(&printable(&format!(
            "{:w$}  {:11}  {:9}  {}{flags}",
            v.name(),
            v.state,
            format!("{} {}/{}", v.state_type, v.attempt, v.max_check_attempts),
            v.output.lines().next().unwrap_or("")
        )));
        out.push('\n');
    }
    Ok((out, worst.exit_code()))
}

/// The names in an answer's `key` list.
fn names(answer: &serde_json::Value, key: &str) -> Vec<String> {
    answer
        .get(key)
        .and_then(|o| o.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// How many names a terminal line shows before it counts the rest.
const SHOWN: usize = 20;

/// Names for a terminal line, comma-separated: the first [`SHOWN`], then how many more.
pub fn listed(names: &[String]) -> String {
    let mut line = names
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        line.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    printable(&line)
}

/// Acknowledges the problems among the objects named; returns those acknowledged.
pub fn ack(api: &Endpoint, req: &AckRequest) -> Result<Vec<String>> {
    let v = api.request("POST", "/api/ack", Some(serde_json::to_string(req)?))?;
    Ok(names(&v, "objects"))
}

/// Submits a passive check result.
pub fn submit(api: &Endpoint, req: &crate::passive::SubmitRequest) -> Result<()> {
    api.request("POST", "/api/result", Some(serde_json::to_string(req)?))?;
    Ok(())
}

/// Asks for checks to run now; returns the objects whose check was asked for, and
/// those without an active check.
pub fn recheck(api: &Endpoint, on: &Objects) -> Result<(Vec<String>, Vec<String>)> {
    let req = RecheckRequest { on: on.clone() };
    let v = api.request("POST", "/api/recheck", Some(serde_json::to_string(&req)?))?;
    Ok((names(&v, "objects"), names(&v, "without_check")))
}

/// Switches active checks (`path` `/api/checks`) or notifications
/// (`/api/notifications`) on or off; returns the objects switched.
pub fn switch(api: &Endpoint, path: &str, on: &Objects, enabled: bool) -> Result<Vec<String>> {
    let req = SwitchRequest {
        on: on.clone(),
        enabled,
    };
    let v = api.request("POST", path, Some(serde_json::to_string(&req)?))?;
    Ok(names(&v, "objects"))
}

/// `?target=...` with the target percent-encoded.
fn target_query(target: &str) -> String {
    let mut q = String::from("?target=");
    for b in target.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            q.push(b as char);
        } else {
            q.push_str(&format!("%{b:02X}"));
        }
    }
    q
}

/// Removes an acknowledgement.
pub fn unack(api: &Endpoint, target: &str) -> Result<()> {
    api.request("DELETE", &format!("/api/ack{}", target_query(target)), None)?;
    Ok(())
}

/// Schedules a downtime on each object named; returns the lines saying so: one a
/// downtime for the first [`SHOWN`], then how many more with their ids.
pub fn downtime(api: &Endpoint, req: &DowntimeRequest) -> Result<Vec<String>> {
    let v = api.request("POST", "/api/downtime", Some(serde_json::to_string(req)?))?;
    let ids: Vec<u64> = v
        .get("ids")
        .and_then(|i| i.as_array())
        .context("answer without ids")?
        .iter()
        .filter_map(|i| i.as_u64())
        .collect();
    let objects = names(&v, "objects");
    Ok(downtime_lines(&ids, &objects, &req.duration))
}

fn downtime_lines(ids: &[u64], objects: &[String], duration: &str) -> Vec<String> {
    let mut lines: Vec<String> = ids
        .iter()
        .zip(objects)
        .take(SHOWN)
        .map(|(id, name)| printable(&format!("downtime {id} for {name}, {duration}")))
        .collect();
    if let (true, Some(first), Some(last)) = (ids.len() > SHOWN, ids.get(SHOWN), ids.last()) {
        lines.push(format!(
            "and {} more downtimes, {first} to {last}, {duration} each",
            ids.len() - SHOWN
        ));
    }
    lines
}

/// Every downtime, as a table.
pub fn downtimes(api: &Endpoint) -> Result<String> {
    let list: Vec<DowntimeView> =
        serde_json::from_value(api.request("GET", "/api/downtimes", None)?)?;
    let mut out = String::from("ID  TARGET  START  END  AUTHOR  COMMENT\n");
    for d in list {
        let t = &d.downtime;
        out.push_str(&printable(&format!(
            "{}  {}  {}  {}  {}  {}{}",
            t.id,
            d.target,
            time(t.start),
            time(t.end),
            t.author,
            t.comment,
            if d.in_effect { "  [in effect]" } else { "" }
        )));
        out.push('\n');
    }
    Ok(out)
}

/// Every comment, as a table.
pub fn comments(api: &Endpoint) -> Result<String> {
    let list: Vec<CommentView> =
        serde_json::from_value(api.request("GET", "/api/comments", None)?)?;
    let mut out = String::from("ID  TARGET  TIME  AUTHOR  COMMENT\n");
    for c in list {
        let t = &c.comment;
        out.push_str(&printable(&format!(
            "{}  {}  {}  {}  {}",
            t.id,
            c.target,
            time(t.time),
            t.author,
            t.text
        )));
        out.push('\n');
    }
    Ok(out)
}

/// Adds a comment; returns its id.
pub fn comment(api: &Endpoint, req: &CommentRequest) -> Result<u64> {
    let v = api.request("POST", "/api/comment", Some(serde_json::to_string(req)?))?;
    v.get("id")
        .and_then(|i| i.as_u64())
        .context("answer without an id")
}

fn time(t: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + Duration::from_secs(t)).to_string()
}

/// A start time as the CLI takes it: Unix seconds, `+DURATION` from now, or an RFC 3339
/// date and time (`2026-12-24T18:00:00Z`, `2026-12-24 18:00`, UTC when no offset).
pub fn parse_start(text: &str, now: u64) -> Result<u64> {
    let text = text.trim();
    if let Ok(n) = text.parse::<u64>() {
        return Ok(n);
    }
    if let Some(rel) = text.strip_prefix('+') {
        let d = humantime::parse_duration(rel).with_context(|| format!("start '{text}'"))?;
        return Ok(now.saturating_add(d.as_secs()));
    }
    let t = humantime::parse_rfc3339_weak(text)
        .or_else(|_| humantime::parse_rfc3339_weak(&format!("{text}:00")))
        .with_context(|| {
            format!("start '{text}': expected Unix seconds, +DURATION or YYYY-MM-DD HH:MM[:SS]")
        })?;
    Ok(t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()))
}

/// A duration for a terminal, its two largest units: `2h 13m`, `5m 2s`, `45s`, `3d 4h`.
pub fn lasted(secs: u64) -> String {
    let units = [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")];
    let mut parts = Vec::new();
    let mut rest = secs;
    for (size, name) in units {
        if rest >= size || (parts.is_empty() && size == 1) {
            parts.push(format!("{}{name}", rest / size));
            rest %= size;
        } else if !parts.is_empty() {
            // a zero unit after the largest ends it: 2h 0m is 2h
            break;
        }
        if parts.len() == 2 {
            break;
        }
    }
    parts.join(" ")
}

/// What one history event says beside its kind, for a terminal.
fn event_details(e: &crate::history::Event) -> String {
    use crate::history::Kind;
    let text = |s: &Option<String>| s.clone().unwrap_or_default();
    let mut d = match e.kind {
        Kind::Notification => {
            let mut d = format!(
                "{} to {} by {}",
                text(&e.notification_type),
                text(&e.author),
                text(&e.method)
            );
            if let Some(r) = &e.result {
                d.push_str(&format!(": {r}"));
            }
            d
        }
        Kind::Ack
        | Kind::Unack
        | Kind::DowntimeScheduled
        | Kind::DowntimeCancel
        | Kind::Comment => {
            let by = e.author.as_ref().map(|a| format!("by {a}"));
            let comment = e.comment.clone().filter(|c| !c.is_empty());
            match (by, comment) {
                (Some(by), Some(c)) => format!("{by}: {c}"),
                (by, c) => by.or(c).unwrap_or_default(),
            }
        }
        _ => text(&e.comment),
    };
    if e.sticky == Some(true) {
        d.push_str(" [sticky]");
    }
    if let Some(id) = e.downtime_id {
        d.push_str(&format!(" [downtime {id}]"));
    }
    if let Some(u) = e.until {
        d.push_str(&format!(" [until {}]", time(u)));
    }
    d
}

/// `history HOST[/SERVICE]`: the object's state changes with how long each lasted and
/// its other events between them, oldest first, as a table (or JSON).
pub fn history(api: &Endpoint, target: &str, since: &str, json: bool) -> Result<String> {
    use crate::groups::percent_encoded as enc;
    let (host, service) = match target.split_once('/') {
        Some((h, s)) => (h, Some(s)),
        None => (target, None),
    };
    let mut q = format!("host={}&since={}", enc(host), enc(since));
    if let Some(s) = service {
        q.push_str(&format!("&service={}", enc(s)));
    }
    let changes = api.request("GET", &format!("/api/history?{q}"), None)?;
    let events = api.request(
        "GET",
        &format!("/api/events?{q}&limit={}", crate::web::api::MAX_LIMIT),
        None,
    )?;
    let h: crate::web::api::ObjectHistory = serde_json::from_value(changes)?;
    let mut events: Vec<crate::history::Event> = serde_json::from_value(events)?;
    // a host's events come with its services': only its own, and no state (the changes
    // say them)
    events.retain(|e| e.service.as_deref() == service && e.kind != crate::history::Kind::State);
    // and the daemon's starts, stops and reloads: a state is known to last only while
    // it ran
    let runs = api.request(
        "GET",
        &format!(
            "/api/events?kind=start,stop,reload&since={}&limit={}",
            enc(since),
            crate::web::api::MAX_LIMIT
        ),
        None,
    )?;
    events.extend(serde_json::from_value::<Vec<crate::history::Event>>(runs)?);
    events.sort_by_key(|e| (e.at, e.id));
    if json {
        let all = serde_json::json!({
            "object": h.object,
            "changes": h.changes,
            "events": events,
        });
        return Ok(format!("{}\n", serde_json::to_string_pretty(&all)?));
    }
    // (time, order at that time, line)
    let mut rows: Vec<(u64, usize, [String; 5])> = Vec::new();
    for c in &h.changes {
        let kind = if c.hard { "HARD" } else { "SOFT" };
        rows.push((
            c.at,
            1,
            [
                "state".into(),
                c.state.clone(),
                format!("{kind} {}", c.attempt),
                lasted(c.duration),
                c.output.clone(),
            ],
        ));
    }
    for e in &events {
        // at one time: a start first, then the state, the other events, a stop last
        let order = match e.kind {
            crate::history::Kind::Start => 0,
            crate::history::Kind::Stop => 3,
            _ => 2,
        };
        rows.push((
            e.at,
            order,
            [
                e.kind.name().into(),
                e.state.clone().unwrap_or_default(),
                String::new(),
                String::new(),
                event_details(e),
            ],
        ));
    }
    rows.sort_by_key(|r| (r.0, r.1));
    let mut out = format!(
        "{}: {} state changes, {} other events\n",
        printable(&h.object),
        h.changes.len(),
        events.len()
    );
    out.push_str(&format!(
        "{:20}  {:18}  {:11}  {:7}  {:8}  DETAILS\n",
        "TIME", "EVENT", "STATE", "TYPE", "LASTED"
    ));
    for (at, _, [kind, state, t, lasted, details]) in rows {
        let line = printable(&format!(
            "{:20}  {kind:18}  {state:11}  {t:7}  {lasted:8}  {details}",
            time(at)
        ));
        out.push_str(line.trim_end());
        out.push('\n');
    }
    Ok(out)
}

/// How `report availability` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Table,
    Csv,
    Json,
}

/// `report availability`: the report of the running daemon for the query `params`
/// (the names and values of `GET /api/availability`) as a table (with the outages),
/// CSV or JSON.
pub fn availability(
    api: &Endpoint,
    params: &[(&str, String)],
    format: ReportFormat,
) -> Result<String> {
    let q: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", crate::groups::percent_encoded(v)))
        .collect();
    let answer = api.request("GET", &format!("/api/availability?{}", q.join("&")), None)?;
    if format == ReportFormat::Json {
        return Ok(format!("{}\n", serde_json::to_string_pretty(&answer)?));
    }
    let report: crate::history::availability::Report = serde_json::from_value(answer)?;
    Ok(if format == ReportFormat::Csv {
        crate::history::availability::csv(&report)
    } else {
        availability_table(&report)
    })
}

/// An availability report for a terminal: the window, a table of hosts and one of
/// services (percent of the window in each state, scheduled, undetermined), the
/// outages.
pub fn availability_table(r: &crate::history::availability::Report) -> String {
    use crate::history::availability::{percent, shown_percent, HOST_STATES, SERVICE_STATES};
    let mut out = format!(
        "from {} to {} ({} s counted{})\n",
        time(r.from),
        time(r.to),
        r.counted,
        if r.include_soft {
            ", soft states included"
        } else {
            ""
        }
    );
    let w = r
        .rows
        .iter()
        .map(|x| printable(&x.object()).chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    for (services, states) in [(false, &HOST_STATES[..]), (true, &SERVICE_STATES[..])] {
        let rows: Vec<_> = r
            .rows
            .iter()
            .filter(|x| x.service.is_some() == services)
            .collect();
        if rows.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "\n{:w$}",
            if services { "SERVICE" } else { "HOST" }
        ));
        for s in states.iter().chain(&["SCHEDULED", "UNDETERMINED"]) {
            out.push_str(&format!("  {s:>12}"));
        }
        out.push('\n');
        for row in rows {
            out.push_str(&format!("{:w$}", printable(&row.object())));
            let cells = row.states.iter().map(|s| s.percent).chain([
                percent(row.scheduled, r.counted),
                percent(row.undetermined(), r.counted),
            ]);
            for p in cells {
                out.push_str(&format!("  {:>11}%", shown_percent(p)));
            }
            out.push('\n');
        }
    }
    let outages: Vec<_> = r
        .rows
        .iter()
        .flat_map(|x| x.outages.iter().map(move |o| (x, o)))
        .collect();
    if !outages.is_empty() {
        out.push_str("\nOUTAGES\n");
        for (row, o) in outages {
            out.push_str(&format!(
                "{:w$}  {:11}  {}  {}  {:>8} s  {}\n",
                printable(&row.object()),
                o.state,
                time(o.start),
                time(o.end),
                o.end - o.start,
                printable(&o.output)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dechunks() {
        assert_eq!(super::dechunk("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), "abcde");
    }

    #[test]
    fn start_times() {
        assert_eq!(parse_start("1700000000", 5).unwrap(), 1_700_000_000);
        assert_eq!(parse_start("+1h", 100).unwrap(), 3700);
        assert_eq!(parse_start("2026-12-24 18:00", 0).unwrap(), 1_798_135_200);
        assert_eq!(
            parse_start("2026-12-24T18:00:00Z", 0).unwrap(),
            1_798_135_200
        );
        assert!(parse_start("tomorrow", 0).is_err());
    }

    #[test]
    fn long_lists_are_counted() {
        let names: Vec<String> = (0..25).map(|i| format!("h/s{i}")).collect();
        assert_eq!(listed(&names[..2]), "h/s0, h/s1");
        let line = listed(&names);
        assert!(line.starts_with("h/s0, h/s1, ") && line.ends_with("h/s19 and 5 more"));
        let ids: Vec<u64> = (100..125).collect();
        let lines = downtime_lines(&ids, &names, "1h");
        assert_eq!(lines.len(), SHOWN + 1);
        assert_eq!(lines[0], "downtime 100 for h/s0, 1h");
        assert_eq!(lines[SHOWN], "and 5 more downtimes, 120 to 124, 1h each");
        assert_eq!(
            downtime_lines(&ids[..1], &names[..1], "2h"),
            ["downtime 100 for h/s0, 2h"]
        );
    }

    #[test]
    fn durations_for_a_terminal() {
        let cases = [
            (0, "0s"),
            (45, "45s"),
            (62, "1m 2s"),
            (3600, "1h"),
            (7980, "2h 13m"),
            (7985, "2h 13m"),
            (86_400 + 4 * 3600 + 5, "1d 4h"),
            (2 * 86_400 + 30, "2d"),
        ];
        for (secs, want) in cases {
            assert_eq!(lasted(secs), want, "{secs}");
        }
    }

    #[test]
    fn queries_and_terminal_text() {
        assert_eq!(target_query("web/a b&c"), "?target=web/a%20b%26c");
        assert_eq!(printable("a\u{1b}[2Jb\r"), "a?[2Jb?");
    }

    #[test]
    fn answers() {
        let ok =
            parse_answer(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{\"id\":3}")
                .unwrap();
        assert_eq!(ok["id"], 3);
        let e = parse_answer(b"HTTP/1.1 401 Unauthorized\r\n\r\n{\"error\":\"unknown token\"}")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "unknown token");
    }

    #[test]
    fn availability_as_a_table() {
        use crate::history::availability::{compute, Options};
        use crate::history::{Event, Kind};
        let from = 1_772_409_600;
        let state = |at: u64, st: &str| Event {
            state: Some(st.into()),
            hard: Some(true),
            output: Some(format!("HTTP {st}\u{1b}[2J")),
            ..Event::new(Kind::State, at, Some("web"), Some("http"))
        };
        let events = [state(from - 60, "OK"), state(from + 21_600, "CRITICAL")];
        let objects = [
            ("web".to_string(), None),
            ("web".into(), Some("http".into())),
        ];
        let r = compute(
            &Options::new(from, from + 86_400),
            &objects,
            &events,
            &[(from, from + 86_400)],
        );
        assert_eq!(
            availability_table(&r),
            "from 2026-03-02T00:00:00Z to 2026-03-03T00:00:00Z (86400 s counted)\n\
             \n\
             HOST                UP          DOWN   UNREACHABLE     SCHEDULED  UNDETERMINED\n\
             web             0.000%        0.000%        0.000%        0.000%      100.000%\n\
             \n\
             SERVICE             OK       WARNING       UNKNOWN      CRITICAL     SCHEDULED  UNDETERMINED\n\
             web/http       25.000%        0.000%        0.000%       75.000%        0.000%        0.000%\n\
             \n\
             OUTAGES\n\
             web/http  CRITICAL     2026-03-02T06:00:00Z  2026-03-03T00:00:00Z     64800 s  HTTP CRITICAL?[2J\n"
        );
    }
}
