//! Availability reports, as Nagios' avail.cgi makes them: the share of a window each
//! host and service spent in each state, with the time in scheduled downtime, the time
//! the daemon was not running and the time nothing was known counted apart, and the
//! outages of each object listed.
//!
//! [`compute`] is pure: it reads the events of the window (state changes, downtimes,
//! plus each object's last state before the window, oldest first), the intervals the
//! daemon ran and, optionally, the intervals of a report time period, and runs in time
//! linear in those. [`report`] reads them from the store and computes.
//!
//! # Meaning
//! - Hard states only by default (Nagios' `includesoftstates=no`): a soft problem
//!   leaves the object in its last hard state. A soft state only exists while the hard
//!   state is OK (UP for a host), so a soft event counts as OK (UP) then. With
//!   `include_soft`, every state change counts.
//! - `assume_state_retention` (Nagios' `assumestateretention`, on by default): the
//!   state at the start of the window is the last one before it. Without it, or when
//!   there is none, the time until the first state change is "undetermined:
//!   insufficient data"; an object without any history is undetermined throughout.
//! - The time the daemon was not running (outside [`runs`](super::store::runs)) is
//!   "undetermined: not running", whatever the state; the state carries over a restart.
//! - Scheduled downtime (of the object, or of a service's host, as avail.cgi) is kept
//!   per state as `scheduled` time, and in all as the row's `scheduled`. With
//!   `downtime_counts` (the default, as avail.cgi, whose state totals include it) that
//!   time counts as the state the object was in; without it, it is apart: in no
//!   state's total, so that a problem during downtime does not count against the
//!   object.
//! - With a report period, only the time inside it is counted: the window's length is
//!   the counted time and percentages are of it; outages are listed whole.
//! - Percentages (3 decimals) of the window, and of the known time (the time counted
//!   in some state).

use super::{Event, Kind, Time};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

/// The states of a service, in the order reported.
pub const SERVICE_STATES: [&str; 4] = ["OK", "WARNING", "UNKNOWN", "CRITICAL"];
/// The states of a host, in the order reported.
pub const HOST_STATES: [&str; 3] = ["UP", "DOWN", "UNREACHABLE"];
/// The most outages listed per object (the latest are kept; `outages_left_off` counts
/// the others).
pub const MAX_OUTAGES: usize = 1000;

/// What to compute.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The window: `[from, to)`.
    pub from: Time,
    pub to: Time,
    /// Count soft states too.
    pub include_soft: bool,
    /// true (default, as avail.cgi): time in downtime counts as the state it was in;
    /// false: it is apart, counted only as "scheduled".
    pub downtime_counts: bool,
    /// true (default): the initial state is the last state before `from`.
    pub assume_state_retention: bool,
    /// Only these times are counted (sorted intervals `[start, end)`, from
    /// [`crate::config::Periods::intervals`]); `None`: the whole window.
    pub report_period: Option<Vec<(Time, Time)>>,
}

impl Options {
    /// A window with Nagios' defaults: hard states, downtime counted as the state,
    /// state retention.
    pub fn new(from: Time, to: Time) -> Options {
        Options {
            from,
            to,
            include_soft: false,
            downtime_counts: true,
            assume_state_retention: true,
            report_period: None,
        }
    }
}

/// The report: a row per object asked for, in the order asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub from: Time,
    pub to: Time,
    /// The seconds counted: the window's length, or its time inside the report period.
    pub counted: u64,
    pub include_soft: bool,
    pub downtime_counts: bool,
    pub rows: Vec<Row>,
}

/// One host's or service's times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub host: String,
    pub service: Option<String>,
    /// One per state of the kind (OK WARNING UNKNOWN CRITICAL / UP DOWN UNREACHABLE).
    pub states: Vec<StateTime>,
    /// Seconds in scheduled downtime (in any state; part of the states' totals with
    /// `downtime_counts`).
    pub scheduled: u64,
    pub undetermined_not_running: u64,
    pub undetermined_no_data: u64,
    /// The outages (time in a state other than OK/UP) in the window, oldest first.
    pub outages: Vec<Outage>,
    /// How many older outages are not listed (beyond [`MAX_OUTAGES`]).
    #[serde(default)]
    pub outages_left_off: usize,
}

/// The time in one state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateTime {
    pub state: String,
    /// Seconds in the state outside downtime.
    pub unscheduled: u64,
    /// Seconds in the state during downtime.
    pub scheduled: u64,
    /// The seconds counted as this state: `unscheduled`, plus `scheduled` when downtime
    /// counts.
    pub total: u64,
    /// `total` in percent of the counted window, and of the known time.
    pub percent: f64,
    pub percent_known: f64,
}

/// A stretch of time in one problem state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outage {
    pub start: Time,
    pub end: Time,
    pub state: String,
    /// The plugin output of the result that began it.
    pub output: String,
}

impl Row {
    /// `HOST` or `HOST/SERVICE`.
    pub fn object(&self) -> String {
        match &self.service {
            Some(s) => format!("{}/{s}", self.host),
            None => self.host.clone(),
        }
    }

    /// All undetermined seconds.
    pub fn undetermined(&self) -> u64 {
        self.undetermined_not_running + self.undetermined_no_data
    }
}

/// `part` in percent of `whole`, to 3 decimals (0 for an empty whole).
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    (part as f64 * 100_000.0 / whole as f64).round() / 1000.0
}

/// A percentage as shown: 3 decimals.
pub fn shown_percent(p: f64) -> String {
    format!("{p:.3}")
}

/// Sorted, disjoint `[start, end)` intervals of `spans` clipped to `[from, to)`.
fn clipped(spans: &[(Time, Time)], from: Time, to: Time) -> Vec<(Time, Time)> {
    let mut v: Vec<(Time, Time)> = spans
        .iter()
        .map(|&(s, e)| (s.max(from), e.min(to)))
        .filter(|(s, e)| s < e)
        .collect();
    if !v.is_sorted() {
        v.sort_unstable();
    }
    let mut out: Vec<(Time, Time)> = Vec::with_capacity(v.len());
    for (s, e) in v {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// The counted time split by whether the daemon ran: `(start, end, running)`.
fn counted_segments(opts: &Options, runs: &[(Time, Time)]) -> Vec<(Time, Time, bool)> {
    let counted = match &opts.report_period {
        Some(p) => clipped(p, opts.from, opts.to),
        None => clipped(&[(opts.from, opts.to)], opts.from, opts.to),
    };
    let runs = clipped(runs, opts.from, opts.to);
    let mut out = Vec::with_capacity(counted.len() + 2 * runs.len());
    let mut r = 0;
    for (s, e) in counted {
        let mut t = s;
        while t < e {
            while r < runs.len() && runs[r].1 <= t {
                r += 1;
            }
            let (next, running) = match runs.get(r) {
                Some(&(rs, _)) if t < rs => (rs.min(e), false),
                Some(&(_, re)) => (re.min(e), true),
                None => (e, false),
            };
            out.push((t, next, running));
            t = next;
        }
    }
    out
}

/// The index of a state name among the kind's states.
fn state_index(names: &[&str], state: Option<&str>) -> Option<usize> {
    let state = state?;
    names.iter().position(|n| n.eq_ignore_ascii_case(state))
}

/// An object's events, by (host, service).
type Key<'a> = (&'a str, Option<&'a str>);

/// The downtime intervals of an object's events (any of its downtimes in effect),
/// clipped to the window: a downtime in effect before `from` (started, not ended)
/// counts from `from`.
fn downtimes(events: &[&Event], from: Time, to: Time) -> Vec<(Time, Time)> {
    let mut active: Vec<Option<u64>> = Vec::new();
    let mut since = from;
    let mut out = Vec::new();
    for e in events {
        let at = e.at.clamp(from, to);
        match e.kind {
            Kind::DowntimeStart => {
                if active.is_empty() {
                    since = at;
                }
                if !active.contains(&e.downtime_id) {
                    active.push(e.downtime_id);
                }
            }
            Kind::DowntimeEnd | Kind::DowntimeCancel => {
                let before = active.len();
                active.retain(|id| *id != e.downtime_id);
                if before > 0 && active.is_empty() && since < at {
                    out.push((since, at));
                }
            }
            _ => {}
        }
    }
    if !active.is_empty() && since < to {
        out.push((since, to));
    }
    out
}

/// One object's row: its events (sorted by time) and its downtime intervals.
fn row(
    opts: &Options,
    (host, service): Key<'_>,
    events: &[&Event],
    downtime: &[(Time, Time)],
    segments: &[(Time, Time, bool)],
) -> Row {
    let names: &[&str] = if service.is_some() {
        &SERVICE_STATES
    } else {
        &HOST_STATES
    };
    let (from, to) = (opts.from, opts.to);
    // the state timeline: (start, state), starting at `from`
    let mut timeline: Vec<(Time, Option<usize>)> = vec![(from, None)];
    let mut outages: VecDeque<Outage> = VecDeque::new();
    let mut left_off = 0usize;
    let mut open: Option<Outage> = None;
    for e in events.iter().filter(|e| e.kind == Kind::State) {
        if e.at < from && !opts.assume_state_retention {
            continue;
        }
        if e.at >= to {
            break;
        }
        let Some(mut state) = state_index(names, e.state.as_deref()) else {
            continue;
        };
        if !opts.include_soft && e.hard == Some(false) {
            // a soft state only happens while the hard state is OK / UP
            state = 0;
        }
        let at = e.at.max(from);
        let last = timeline.last_mut().expect("the timeline starts at from");
        if last.1 == Some(state) {
            continue;
        }
        if last.0 == at {
            last.1 = Some(state);
        } else {
            timeline.push((at, Some(state)));
        }
        if let Some(mut o) = open.take() {
            o.end = at;
            if o.start < o.end {
                if outages.len() == MAX_OUTAGES {
                    outages.pop_front();
                    left_off += 1;
                }
                outages.push_back(o);
            }
        }
        if state != 0 {
            open = Some(Outage {
                start: at,
                end: to,
                state: names[state].to_string(),
                output: e.output.clone().unwrap_or_default(),
            });
        }
    }
    if let Some(o) = open.take() {
        if o.start < o.end {
            if outages.len() == MAX_OUTAGES {
                outages.pop_front();
                left_off += 1;
            }
            outages.push_back(o);
        }
    }

    // sweep the state timeline, the downtimes and the counted segments together
    let mut unscheduled = vec![0u64; names.len()];
    let mut scheduled = vec![0u64; names.len()];
    let (mut not_running, mut no_data) = (0u64, 0u64);
    let (mut i, mut j, mut k) = (0usize, 0usize, 0usize);
    let mut t = from;
    while t < to && k < segments.len() {
        while i + 1 < timeline.len() && timeline[i + 1].0 <= t {
            i += 1;
        }
        while j < downtime.len() && downtime[j].1 <= t {
            j += 1;
        }
        while k < segments.len() && segments[k].1 <= t {
            k += 1;
        }
        let Some(&(ks, ke, running)) = segments.get(k) else {
            break;
        };
        if t < ks {
            t = ks;
            continue;
        }
        let state_end = timeline.get(i + 1).map_or(to, |x| x.0);
        let (in_downtime, downtime_edge) = match downtime.get(j) {
            Some(&(ds, _)) if t < ds => (false, ds),
            Some(&(_, de)) => (true, de),
            None => (false, to),
        };
        let next = ke.min(state_end).min(downtime_edge).min(to);
        let d = next - t;
        if !running {
            not_running += d;
        } else {
            match timeline[i].1 {
                None => no_data += d,
                Some(s) if in_downtime => scheduled[s] += d,
                Some(s) => unscheduled[s] += d,
            }
        }
        t = next;
    }

    let counted: u64 = segments.iter().map(|(s, e, _)| e - s).sum();
    let totals: Vec<u64> = (0..names.len())
        .map(|s| {
            unscheduled[s]
                + if opts.downtime_counts {
                    scheduled[s]
                } else {
                    0
                }
        })
        .collect();
    let known: u64 = totals.iter().sum();
    let states = names
        .iter()
        .enumerate()
        .map(|(s, name)| StateTime {
            state: name.to_string(),
            unscheduled: unscheduled[s],
            scheduled: scheduled[s],
            total: totals[s],
            percent: percent(totals[s], counted),
            percent_known: percent(totals[s], known),
        })
        .collect();
    Row {
        host: host.to_string(),
        service: service.map(str::to_string),
        states,
        scheduled: scheduled.iter().sum(),
        undetermined_not_running: not_running,
        undetermined_no_data: no_data,
        outages: outages.into(),
        outages_left_off: left_off,
    }
}

/// The report of `objects` (host, service) over `events` (state changes and downtimes
/// in the window, plus what came before it: each object's last state, the downtimes
/// then in effect; oldest first) and `runs` (the intervals the daemon ran). Time
/// linear in the events, the runs and the report period's intervals per object.
pub fn compute(
    opts: &Options,
    objects: &[(String, Option<String>)],
    events: &[Event],
    runs: &[(Time, Time)],
) -> Report {
    let to = opts.to.max(opts.from);
    let opts = &Options { to, ..opts.clone() };
    let segments = counted_segments(opts, runs);
    let mut by_object: HashMap<Key<'_>, Vec<&Event>> = HashMap::with_capacity(objects.len());
    for (h, s) in objects {
        by_object.insert((h.as_str(), s.as_deref()), Vec::new());
    }
    // the downtime events of the services' hosts
    let mut hosts_wanted: HashMap<&str, Vec<&Event>> = HashMap::new();
    for (h, _) in objects.iter().filter(|(_, s)| s.is_some()) {
        hosts_wanted.entry(h.as_str()).or_default();
    }
    for e in events {
        let Some(h) = e.host.as_deref() else {
            continue;
        };
        if let Some(v) = by_object.get_mut(&(h, e.service.as_deref())) {
            v.push(e);
        }
        if e.service.is_none() && is_downtime(e.kind) {
            if let Some(v) = hosts_wanted.get_mut(h) {
                v.push(e);
            }
        }
    }
    let by_time = |v: &mut Vec<&Event>| {
        if !v.is_sorted_by_key(|e| e.at) {
            v.sort_by_key(|e| e.at);
        }
    };
    let mut host_downtime: HashMap<&str, Vec<(Time, Time)>> = HashMap::new();
    for (h, v) in hosts_wanted.iter_mut() {
        by_time(v);
        host_downtime.insert(h, downtimes(v, opts.from, to));
    }
    let rows = objects
        .iter()
        .map(|(h, s)| {
            let key = (h.as_str(), s.as_deref());
            let mut v = by_object.remove(&key).unwrap_or_default();
            by_time(&mut v);
            let own = downtimes(&v, opts.from, to);
            let downtime = match (s, host_downtime.get(h.as_str())) {
                (Some(_), Some(hd)) if !hd.is_empty() => {
                    let mut all = own;
                    all.extend_from_slice(hd);
                    clipped(&all, opts.from, to)
                }
                _ => own,
            };
            row(opts, key, &v, &downtime, &segments)
        })
        .collect();
    Report {
        from: opts.from,
        to,
        counted: segments.iter().map(|(s, e, _)| e - s).sum(),
        include_soft: opts.include_soft,
        downtime_counts: opts.downtime_counts,
        rows,
    }
}

fn is_downtime(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::DowntimeStart | Kind::DowntimeEnd | Kind::DowntimeCancel
    )
}

/// A CSV field, quoted when it needs to be.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The report as CSV: a header, then a line per object. Each state of either kind has
/// its seconds (total, scheduled part) and percentages (of the window, of the known
/// time); a host's line leaves the service states empty and a service's the host
/// states. Times in seconds.
pub fn csv(r: &Report) -> String {
    let mut out = String::from("host,service,counted");
    for s in SERVICE_STATES.iter().chain(HOST_STATES.iter()) {
        let s = s.to_ascii_lowercase();
        out.push_str(&format!(
            ",time_{s},time_{s}_scheduled,percent_{s},percent_known_{s}"
        ));
    }
    out.push_str(
        ",time_scheduled,percent_scheduled,time_undetermined_not_running,\
         time_undetermined_no_data,percent_undetermined,outages\n",
    );
    for row in &r.rows {
        out.push_str(&csv_field(&row.host));
        out.push(',');
        out.push_str(&csv_field(row.service.as_deref().unwrap_or("")));
        out.push_str(&format!(",{}", r.counted));
        for s in SERVICE_STATES.iter().chain(HOST_STATES.iter()) {
            match row.states.iter().find(|x| x.state == *s) {
                Some(x) => out.push_str(&format!(
                    ",{},{},{:.3},{:.3}",
                    x.total, x.scheduled, x.percent, x.percent_known
                )),
                None => out.push_str(",,,,"),
            }
        }
        out.push_str(&format!(
            ",{},{:.3},{},{},{:.3},{}\n",
            row.scheduled,
            percent(row.scheduled, r.counted),
            row.undetermined_not_running,
            row.undetermined_no_data,
            percent(row.undetermined(), r.counted),
            row.outages.len() + row.outages_left_off,
        ));
    }
    out
}

/// The report of `objects` over `[opts.from, opts.to)` from the store: its state and
/// downtime events ([`super::store::state_events`]) and the daemon's runs
/// ([`super::store::runs`]). `opts.to` should not be past now (the run going on is
/// taken to last until `to`).
pub fn report(
    conn: &rusqlite::Connection,
    opts: &Options,
    objects: &[(String, Option<String>)],
) -> rusqlite::Result<Report> {
    let events = super::store::state_events(conn, opts.from, opts.to)?;
    let runs = super::store::runs(conn, opts.from, opts.to)?;
    Ok(compute(opts, objects, &events, &runs))
}

/// A synthetic history for timing [`compute`]: `services` services (ten per host), each
/// OK from before `from` and CRITICAL for an hour `outages` times, evenly spread over
/// `[from, to)`, the daemon running throughout. Returns the objects, events and runs.
#[allow(clippy::type_complexity)]
pub fn sample(
    services: usize,
    from: Time,
    to: Time,
    outages: u64,
) -> (Vec<(String, Option<String>)>, Vec<Event>, Vec<(Time, Time)>) {
    let objects: Vec<(String, Option<String>)> = (0..services)
        .map(|i| (format!("host{}", i / 10), Some(format!("service{i}"))))
        .collect();
    let step = to.saturating_sub(from) / outages.max(1);
    let state = |at: Time, (h, s): &(String, Option<String>), st: &str| Event {
        state: Some(st.into()),
        hard: Some(true),
        output: Some(format!("{st} - sample")),
        ..Event::new(Kind::State, at, Some(h), s.as_deref())
    };
    let mut events = Vec::with_capacity(services * 2 * outages as usize);
    for n in 0..outages {
        let at = from + n * step;
        for o in &objects {
            events.push(state(at, o, "CRITICAL"));
            events.push(state(at + 3600, o, "OK"));
        }
    }
    (objects, events, vec![(from, to)])
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: Time = 3600;
    /// The window: one day from 2026-03-02 00:00 UTC (a Monday).
    const FROM: Time = 1_772_409_600;
    const TO: Time = FROM + 24 * H;

    fn state(
        at: Time,
        host: &str,
        service: Option<&str>,
        st: &str,
        hard: bool,
        out: &str,
    ) -> Event {
        Event {
            state: Some(st.into()),
            hard: Some(hard),
            output: Some(out.into()),
            ..Event::new(Kind::State, at, Some(host), service)
        }
    }

    fn svc(at: Time, st: &str, hard: bool) -> Event {
        state(at, "web", Some("http"), st, hard, &format!("HTTP {st}"))
    }

    fn downtime(kind: Kind, at: Time, host: &str, service: Option<&str>, id: u64) -> Event {
        Event {
            downtime_id: Some(id),
            ..Event::new(kind, at, Some(host), service)
        }
    }

    /// The window, downtime apart.
    fn apart() -> Options {
        Options {
            downtime_counts: false,
            ..Options::new(FROM, TO)
        }
    }

    fn http() -> Vec<(String, Option<String>)> {
        vec![("web".into(), Some("http".into()))]
    }

    /// The report on web/http over the day FROM..TO, the daemon running all of it.
    fn http_day(opts: &Options, events: &[Event]) -> Report {
        compute(opts, &http(), events, &[(FROM, TO)])
    }

    /// The (unscheduled, scheduled, total) seconds of each state of a row.
    fn times(r: &Row) -> Vec<(&str, u64, u64, u64)> {
        r.states
            .iter()
            .map(|s| (s.state.as_str(), s.unscheduled, s.scheduled, s.total))
            .collect()
    }

    fn pct(r: &Row) -> Vec<(&str, f64, f64)> {
        r.states
            .iter()
            .map(|s| (s.state.as_str(), s.percent, s.percent_known))
            .collect()
    }

    /// OK since before the window, CRITICAL 06:00-12:00, downtime 08:00-10:00.
    fn critical_with_downtime() -> Vec<Event> {
        vec![
            svc(FROM - 5 * H, "OK", true),
            svc(FROM + 6 * H, "CRITICAL", true),
            downtime(Kind::DowntimeStart, FROM + 8 * H, "web", Some("http"), 7),
            downtime(Kind::DowntimeEnd, FROM + 10 * H, "web", Some("http"), 7),
            svc(FROM + 12 * H, "OK", true),
        ]
    }

    #[test]
    fn downtime_apart_is_scheduled_time() {
        let r = compute(
            &apart(),
            &http(),
            &critical_with_downtime(),
            &[(FROM - H, TO)],
        );
        assert_eq!(r.counted, 24 * H);
        let row = &r.rows[0];
        assert_eq!(row.object(), "web/http");
        assert_eq!(
            times(row),
            vec![
                ("OK", 18 * H, 0, 18 * H),
                ("WARNING", 0, 0, 0),
                ("UNKNOWN", 0, 0, 0),
                ("CRITICAL", 4 * H, 2 * H, 4 * H),
            ]
        );
        assert_eq!(row.scheduled, 2 * H);
        assert_eq!(
            (row.undetermined_not_running, row.undetermined_no_data),
            (0, 0)
        );
        // 18/24, 4/24 of the window; 18/22, 4/22 of the known time
        assert_eq!(
            pct(row),
            vec![
                ("OK", 75.0, 81.818),
                ("WARNING", 0.0, 0.0),
                ("UNKNOWN", 0.0, 0.0),
                ("CRITICAL", 16.667, 18.182),
            ]
        );
        assert_eq!(
            row.outages,
            vec![Outage {
                start: FROM + 6 * H,
                end: FROM + 12 * H,
                state: "CRITICAL".into(),
                output: "HTTP CRITICAL".into(),
            }]
        );
    }

    #[test]
    fn downtime_counting_is_the_state_it_was_in() {
        let r = http_day(&Options::new(FROM, TO), &critical_with_downtime());
        let row = &r.rows[0];
        assert_eq!(
            times(row),
            vec![
                ("OK", 18 * H, 0, 18 * H),
                ("WARNING", 0, 0, 0),
                ("UNKNOWN", 0, 0, 0),
                ("CRITICAL", 4 * H, 2 * H, 6 * H),
            ]
        );
        assert_eq!(row.scheduled, 2 * H);
        assert_eq!(
            pct(row),
            vec![
                ("OK", 75.0, 75.0),
                ("WARNING", 0.0, 0.0),
                ("UNKNOWN", 0.0, 0.0),
                ("CRITICAL", 25.0, 25.0),
            ]
        );
    }

    #[test]
    fn host_downtime_is_its_services_downtime() {
        let mut events = critical_with_downtime();
        events.retain(|e| e.kind == Kind::State);
        events.push(downtime(Kind::DowntimeStart, FROM + 7 * H, "web", None, 9));
        events.push(downtime(Kind::DowntimeCancel, FROM + 8 * H, "web", None, 9));
        events.sort_by_key(|e| e.at);
        let objects = vec![
            ("web".to_string(), None),
            ("web".into(), Some("http".into())),
        ];
        let r = compute(&apart(), &objects, &events, &[(FROM, TO)]);
        // the host: no state known, one hour of downtime changes nothing in no data
        assert_eq!(r.rows[0].undetermined_no_data, 24 * H);
        assert_eq!(r.rows[0].scheduled, 0);
        assert_eq!(r.rows[1].states[3].scheduled, H);
        assert_eq!(r.rows[1].states[3].total, 5 * H);
        assert_eq!(r.rows[1].scheduled, H);
    }

    #[test]
    fn downtime_in_effect_before_the_window_counts_from_its_start() {
        let events = vec![
            svc(FROM - 5 * H, "CRITICAL", true),
            downtime(Kind::DowntimeStart, FROM - H, "web", Some("http"), 3),
            downtime(Kind::DowntimeEnd, FROM + 2 * H, "web", Some("http"), 3),
        ];
        let r = http_day(&apart(), &events);
        assert_eq!(times(&r.rows[0])[3], ("CRITICAL", 22 * H, 2 * H, 22 * H));
        assert_eq!(r.rows[0].outages[0].start, FROM);
        assert_eq!(r.rows[0].outages[0].end, TO);
    }

    /// OK, then soft CRITICAL 10:00 (attempt 1), 10:01 (2), back OK at 10:02; hard
    /// WARNING 14:00-15:00 after a soft WARNING at 13:58.
    fn soft_events() -> Vec<Event> {
        vec![
            svc(FROM - H, "OK", true),
            svc(FROM + 10 * H, "CRITICAL", false),
            svc(FROM + 10 * H + 60, "CRITICAL", false),
            svc(FROM + 10 * H + 120, "OK", false),
            svc(FROM + 14 * H - 120, "WARNING", false),
            svc(FROM + 14 * H, "WARNING", true),
            svc(FROM + 15 * H, "OK", true),
        ]
    }

    #[test]
    fn soft_states_are_ignored_by_default() {
        let r = http_day(&Options::new(FROM, TO), &soft_events());
        let row = &r.rows[0];
        assert_eq!(
            times(row),
            vec![
                ("OK", 23 * H, 0, 23 * H),
                ("WARNING", H, 0, H),
                ("UNKNOWN", 0, 0, 0),
                ("CRITICAL", 0, 0, 0),
            ]
        );
        assert_eq!(row.outages.len(), 1);
        assert_eq!(
            (row.outages[0].start, row.outages[0].end),
            (FROM + 14 * H, FROM + 15 * H)
        );
    }

    #[test]
    fn soft_states_count_when_included() {
        let opts = Options {
            include_soft: true,
            ..Options::new(FROM, TO)
        };
        let r = http_day(&opts, &soft_events());
        let row = &r.rows[0];
        assert_eq!(
            times(row),
            vec![
                ("OK", 23 * H - 240, 0, 23 * H - 240),
                ("WARNING", H + 120, 0, H + 120),
                ("UNKNOWN", 0, 0, 0),
                ("CRITICAL", 120, 0, 120),
            ]
        );
        // the repeated soft CRITICAL continues the outage begun by the first
        let o: Vec<(Time, Time, &str)> = row
            .outages
            .iter()
            .map(|o| (o.start - FROM, o.end - FROM, o.state.as_str()))
            .collect();
        assert_eq!(
            o,
            vec![
                (10 * H, 10 * H + 120, "CRITICAL"),
                (14 * H - 120, 15 * H, "WARNING")
            ]
        );
    }

    #[test]
    fn time_not_running_is_undetermined() {
        // the daemon stopped 03:00-04:00; CRITICAL from 02:30 to 03:30 (seen at restart)
        let events = vec![
            svc(FROM - H, "OK", true),
            svc(FROM + 2 * H + 1800, "CRITICAL", true),
            svc(FROM + 3 * H + 1800, "OK", true),
        ];
        let runs = [(FROM - 2 * H, FROM + 3 * H), (FROM + 4 * H, TO + H)];
        let r = compute(&Options::new(FROM, TO), &http(), &events, &runs);
        let row = &r.rows[0];
        assert_eq!(row.undetermined_not_running, H);
        assert_eq!(row.undetermined_no_data, 0);
        assert_eq!(times(row)[0], ("OK", 22 * H + 1800, 0, 22 * H + 1800));
        assert_eq!(times(row)[3], ("CRITICAL", 1800, 0, 1800));
        assert_eq!(pct(row)[3], ("CRITICAL", 2.083, 2.174));
        // the outage is listed whole
        assert_eq!(row.outages[0].end - row.outages[0].start, H);
    }

    #[test]
    fn report_period_counts_only_business_hours() {
        // 09:00-17:00 of the day: CRITICAL 06:00-12:00, downtime 08:00-10:00
        let opts = Options {
            report_period: Some(vec![(FROM + 9 * H, FROM + 17 * H)]),
            ..apart()
        };
        let r = http_day(&opts, &critical_with_downtime());
        assert_eq!(r.counted, 8 * H);
        let row = &r.rows[0];
        assert_eq!(
            times(row),
            vec![
                ("OK", 5 * H, 0, 5 * H),
                ("WARNING", 0, 0, 0),
                ("UNKNOWN", 0, 0, 0),
                ("CRITICAL", 2 * H, H, 2 * H),
            ]
        );
        assert_eq!(row.scheduled, H);
        assert_eq!(pct(row)[0], ("OK", 62.5, 71.429));
        assert_eq!(pct(row)[3], ("CRITICAL", 25.0, 28.571));
    }

    #[test]
    fn a_time_period_gives_the_report_period() {
        use crate::timeperiod::{TimePeriod, TimePeriods, Zone};
        let hours = TimePeriod::parse(
            "timeperiod_name workhours\nmonday 09:00-17:00\ntuesday 09:00-12:00,13:00-17:00\n\
             friday 09:00-17:00",
        )
        .unwrap();
        let utc = TimePeriods::new(vec![hours.clone()], Zone::Offset(0)).unwrap();
        let id = utc.id("workhours").unwrap();
        let week = FROM + 7 * 24 * H;
        let d = |day: u64, h: Time| FROM + day * 24 * H + h * H;
        assert_eq!(
            utc.intervals(id, FROM, week),
            vec![
                (d(0, 9), d(0, 17)),
                (d(1, 9), d(1, 12)),
                (d(1, 13), d(1, 17)),
                (d(4, 9), d(4, 17))
            ]
        );
        // cut to the window
        assert_eq!(
            utc.intervals(id, d(0, 10), d(1, 10)),
            vec![(d(0, 10), d(0, 17)), (d(1, 9), d(1, 10))]
        );
        // the clocks go forward an hour at 12:00 UTC on the Monday: 09:00-12:00 UTC
        // at +00:00, then 13:00-17:00 local is 12:00-16:00 UTC
        static CHANGE: [(i64, i64); 2] = [(0, 0), (1_772_452_800, 3600)];
        let dst = TimePeriods::new(vec![hours.clone()], Zone::Changes(&CHANGE)).unwrap();
        assert_eq!(
            dst.intervals(id, FROM, FROM + 24 * H),
            vec![(d(0, 9), d(0, 16))]
        );
        // local time an hour ahead of UTC: 09:00 local is 08:00 UTC
        let cet = TimePeriods::new(vec![hours], Zone::Offset(3600)).unwrap();
        assert_eq!(
            cet.intervals(id, FROM, FROM + 24 * H),
            vec![(d(0, 8), d(0, 16))]
        );
        // a week of it as the report period: CRITICAL 06:00-12:00 Monday
        let opts = Options {
            report_period: Some(utc.intervals(id, FROM, week)),
            ..Options::new(FROM, week)
        };
        let events = vec![
            svc(FROM - H, "OK", true),
            svc(d(0, 6), "CRITICAL", true),
            svc(d(0, 12), "OK", true),
        ];
        let r = compute(&opts, &http(), &events, &[(FROM, week)]);
        assert_eq!(r.counted, 23 * H);
        assert_eq!(times(&r.rows[0])[3], ("CRITICAL", 3 * H, 0, 3 * H));
        assert_eq!(pct(&r.rows[0])[3], ("CRITICAL", 13.043, 13.043));
    }

    #[test]
    fn an_object_without_data_is_undetermined() {
        let objects = vec![
            ("web".to_string(), Some("http".to_string())),
            ("db".to_string(), None),
        ];
        let r = compute(
            &Options::new(FROM, TO),
            &objects,
            &soft_events(),
            &[(FROM, TO)],
        );
        let db = &r.rows[1];
        assert_eq!(db.object(), "db");
        assert_eq!(
            times(db),
            vec![("UP", 0, 0, 0), ("DOWN", 0, 0, 0), ("UNREACHABLE", 0, 0, 0)]
        );
        assert_eq!(db.undetermined_no_data, 24 * H);
        assert_eq!(db.undetermined(), 24 * H);
        assert!(db.outages.is_empty());
        assert_eq!(pct(db)[0], ("UP", 0.0, 0.0));
    }

    #[test]
    fn without_state_retention_the_time_before_the_first_change_is_unknown() {
        let opts = Options {
            assume_state_retention: false,
            ..Options::new(FROM, TO)
        };
        let events = vec![
            state(FROM - H, "db", None, "DOWN", true, "down"),
            state(FROM + 6 * H, "db", None, "UP", true, "up"),
        ];
        let objects = vec![("db".to_string(), None)];
        let r = compute(&opts, &objects, &events, &[(FROM, TO)]);
        assert_eq!(r.rows[0].undetermined_no_data, 6 * H);
        assert_eq!(times(&r.rows[0])[0], ("UP", 18 * H, 0, 18 * H));
        assert!(r.rows[0].outages.is_empty());
        let r = compute(&Options::new(FROM, TO), &objects, &events, &[(FROM, TO)]);
        assert_eq!(times(&r.rows[0])[1], ("DOWN", 6 * H, 0, 6 * H));
        assert_eq!(
            r.rows[0].outages,
            vec![Outage {
                start: FROM,
                end: FROM + 6 * H,
                state: "DOWN".into(),
                output: "down".into()
            }]
        );
    }

    #[test]
    fn outages_are_listed_with_their_output() {
        let events = vec![
            svc(FROM + H, "WARNING", true),
            svc(FROM + 2 * H, "CRITICAL", true),
            svc(FROM + 3 * H, "OK", true),
            state(
                FROM + 20 * H,
                "web",
                Some("http"),
                "UNKNOWN",
                true,
                "timed out",
            ),
        ];
        let r = http_day(&Options::new(FROM, TO), &events);
        let row = &r.rows[0];
        assert_eq!(row.undetermined_no_data, H);
        let o: Vec<(Time, Time, &str, &str)> = row
            .outages
            .iter()
            .map(|o| {
                (
                    o.start - FROM,
                    o.end - FROM,
                    o.state.as_str(),
                    o.output.as_str(),
                )
            })
            .collect();
        assert_eq!(
            o,
            vec![
                (H, 2 * H, "WARNING", "HTTP WARNING"),
                (2 * H, 3 * H, "CRITICAL", "HTTP CRITICAL"),
                (20 * H, 24 * H, "UNKNOWN", "timed out"),
            ]
        );
    }

    #[test]
    fn csv_has_a_header_and_a_line_per_object() {
        let objects = vec![
            ("web".to_string(), Some("http, \"main\"".to_string())),
            ("db".to_string(), None),
        ];
        let events = vec![
            state(FROM - H, "web", Some("http, \"main\""), "OK", true, ""),
            state(
                FROM + 6 * H,
                "web",
                Some("http, \"main\""),
                "CRITICAL",
                true,
                "",
            ),
        ];
        let r = compute(&Options::new(FROM, TO), &objects, &events, &[(FROM, TO)]);
        let text = csv(&r);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0],
            "host,service,counted,\
             time_ok,time_ok_scheduled,percent_ok,percent_known_ok,\
             time_warning,time_warning_scheduled,percent_warning,percent_known_warning,\
             time_unknown,time_unknown_scheduled,percent_unknown,percent_known_unknown,\
             time_critical,time_critical_scheduled,percent_critical,percent_known_critical,\
             time_up,time_up_scheduled,percent_up,percent_known_up,\
             time_down,time_down_scheduled,percent_down,percent_known_down,\
             time_unreachable,time_unreachable_scheduled,percent_unreachable,percent_known_unreachable,\
             time_scheduled,percent_scheduled,time_undetermined_not_running,\
             time_undetermined_no_data,percent_undetermined,outages"
        );
        assert_eq!(
            lines[1],
            "web,\"http, \"\"main\"\"\",86400,\
             21600,0,25.000,25.000,0,0,0.000,0.000,0,0,0.000,0.000,64800,0,75.000,75.000,\
             ,,,,,,,,,,,,0,0.000,0,0,0.000,1"
        );
        assert_eq!(
            lines[2],
            "db,,86400,,,,,,,,,,,,,,,,,0,0,0.000,0.000,0,0,0.000,0.000,0,0,0.000,0.000,\
             0,0.000,0,86400,100.000,0"
        );
    }

    #[test]
    fn a_year_of_ten_thousand_services() {
        let (from, to) = (FROM, FROM + 365 * 24 * H);
        let (objects, events, runs) = sample(10_000, from, to, 12);
        assert_eq!(events.len(), 10_000 * 24);
        let started = std::time::Instant::now();
        let r = compute(&Options::new(from, to), &objects, &events, &runs);
        let took = started.elapsed();
        assert_eq!(r.rows.len(), 10_000);
        // 12 outages of an hour each
        assert_eq!(r.rows[0].states[3].total, 12 * H);
        assert_eq!(r.rows[0].outages.len(), 12);
        assert_eq!(r.rows[0].undetermined_not_running, 0);
        eprintln!(
            "a year of 10,000 services ({} events): {took:?}",
            events.len()
        );
    }
}
