//! The history's JSON API: the event log, an object's state changes, its metrics and
//! their series.
//!
//! - `GET /api/events?host=&service=&kind=state,notification&since=2h|UNIX&until=&q=TEXT&limit=200`:
//!   `[Event]`, newest first (`limit` at most [`MAX_LIMIT`]; `q` at most [`MAX_TEXT`]
//!   characters; with `q` and no `since`, only the [`TEXT_SEARCH_DAYS`] days before
//!   `until` (default now) are searched). The page `/events` takes the same parameters,
//!   read by the same [`EventsQuery::filter`].
//! - `GET /api/history?host=H&service=S&since=2h`: `{object, changes: [{at, state, hard,
//!   attempt, output, duration}]}`, oldest first; the first change is the state the
//!   object was in at `since` (its last change before, when there is one); `duration`
//!   is the seconds until the next change, or until now for the last.
//! - `GET /api/metrics?host=H&service=S`: `[MetricInfo]`.
//! - `GET /api/metrics/{id}?from=&to=` or `?range=4h|25h|1w|1m|1y`: a `Series`.
//!
//! Times are Unix seconds or a duration before now (`2h`, `7d`, humantime's units).
//! They are reads (open unless `require_auth_for_reads`, through the API's own guard);
//! a bad parameter is a 400 and an unknown host, service or metric a 404, each with a
//! one-line JSON reason; the store is read on a blocking thread with the core unlocked,
//! at most [`MAX_READS`] reads of web and API requests at once ([`blocking_read`]).

use crate::clock::unix_now;
use crate::history::store::{self, EventFilter, History};
use crate::history::{perf, Event, Kind, Time};
use crate::http::{refuse, Api};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

/// The most events one request returns.
pub const MAX_LIMIT: usize = 5000;
/// Events returned when no `limit` is given.
pub const DEFAULT_LIMIT: usize = 200;
/// The most state changes `/api/history` returns (the newest).
pub const MAX_CHANGES: usize = 5000;
/// The longest search text.
pub const MAX_TEXT: usize = 200;
/// The longest time span asked about (ten years).
pub const MAX_SPAN: Time = 10 * 366 * 86_400;
/// How far back a text search (`q`) looks when no `since` is given.
pub const TEXT_SEARCH_DAYS: Time = 31;
/// The most store reads web and API requests run at once; more wait for a place, so
/// that heavy reads queue instead of piling up on blocking threads.
pub const MAX_READS: usize = 4;
/// `since` of `/api/history` when none is given.
pub const DEFAULT_SINCE: &str = "2h";

/// The routes, behind the API's access guard (reads: open unless
/// `require_auth_for_reads`; the control socket for its admins).
pub fn routes(api: &Api) -> Router<Api> {
    Router::new()
        .route("/api/events", get(events))
        .route("/api/history", get(history))
        .route("/api/metrics", get(metrics))
        .route("/api/metrics/{id}", get(series))
        .layer(from_fn_with_state(api.clone(), crate::http::guard))
}

/// A time as a parameter gives it: Unix seconds, or a duration before `now`.
pub fn parse_time(text: &str, now: Time, what: &str) -> Result<Time, String> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<Time>()
            .ok()
            .filter(|t| *t <= i64::MAX as Time)
            .ok_or_else(|| format!("{what}: {text} is too large"));
    }
    let d = humantime::parse_duration(text).map_err(|_| {
        format!(
            "{what}: '{}' is neither Unix seconds nor a duration such as 2h or 7d",
            shown(text)
        )
    })?;
    if d.as_secs() > MAX_SPAN {
        return Err(format!("{what}: {text} is longer than ten years"));
    }
    Ok(now.saturating_sub(d.as_secs()))
}

/// A parameter's text for a message: short, on one line.
fn shown(text: &str) -> String {
    text.chars()
        .take(40)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// An empty parameter is no parameter.
fn given(p: &Option<String>) -> Option<&str> {
    p.as_deref().filter(|s| !s.is_empty())
}

/// The parameters of `/api/events` and of the page `/events`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct EventsQuery {
    pub host: Option<String>,
    pub service: Option<String>,
    /// Kinds, comma-separated (`state,notification`).
    pub kind: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub q: Option<String>,
    pub limit: Option<String>,
}

impl EventsQuery {
    /// The store's filter, or why the parameters are refused.
    pub fn filter(&self, now: Time) -> Result<EventFilter, String> {
        let mut kinds = Vec::new();
        for name in given(&self.kind).unwrap_or("").split(',') {
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            let k = Kind::parse(name).ok_or_else(|| {
                format!(
                    "kind: unknown kind '{}' (known: {})",
                    shown(name),
                    Kind::ALL.map(Kind::name).join(", ")
                )
            })?;
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
        let since = given(&self.since)
            .map(|t| parse_time(t, now, "since"))
            .transpose()?;
        let until = given(&self.until)
            .map(|t| parse_time(t, now, "until"))
            .transpose()?;
        if let (Some(s), Some(u)) = (since, until) {
            if s > u {
                return Err("since is after until".into());
            }
        }
        let text = given(&self.q).map(str::to_string);
        if text.as_ref().is_some_and(|t| t.chars().count() > MAX_TEXT) {
            return Err(format!("q: longer than {MAX_TEXT} characters"));
        }
        // a text search reads every event of its window: a month unless told
        let since = match (&text, since) {
            (Some(_), None) => Some(
                until
                    .unwrap_or(now)
                    .saturating_sub(TEXT_SEARCH_DAYS * 86_400),
            ),
            (_, since) => since,
        };
        let limit = match given(&self.limit) {
            None => DEFAULT_LIMIT,
            Some(l) => match l.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    return Err(format!(
                        "limit: '{}' is not a number from 1 to {MAX_LIMIT}",
                        shown(l)
                    ))
                }
            },
        };
        Ok(EventFilter {
            host: given(&self.host).map(str::to_string),
            service: given(&self.service).map(str::to_string),
            kinds,
            since,
            until,
            text,
            limit,
        })
    }
}

/// The parameters of `/api/history` and `/api/metrics`.
#[derive(Debug, Default, Deserialize)]
pub struct ObjectQuery {
    pub host: Option<String>,
    pub service: Option<String>,
    pub since: Option<String>,
}

/// The parameters of `/api/metrics/{id}`.
#[derive(Debug, Default, Deserialize)]
pub struct SeriesQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub range: Option<String>,
}

/// The ranges a graph offers, in seconds: 4 h, 25 h, a week, a month (31 days), a
/// year.
pub const RANGES: [(&str, Time); 5] = [
    ("4h", 4 * 3600),
    ("25h", 25 * 3600),
    ("1w", 7 * 86_400),
    ("1m", 31 * 86_400),
    ("1y", 365 * 86_400),
];

impl SeriesQuery {
    /// The window `[from, to]` asked for (the last 25 h by default).
    pub fn window(&self, now: Time) -> Result<(Time, Time), String> {
        if let Some(r) = given(&self.range) {
            if given(&self.from).is_some() || given(&self.to).is_some() {
                return Err("range: give either range or from/to".into());
            }
            let span = RANGES
                .iter()
                .find(|(name, _)| *name == r)
                .map(|(_, s)| *s)
                .ok_or_else(|| {
                    format!("range: '{}' is not one of 4h, 25h, 1w, 1m, 1y", shown(r))
                })?;
            return Ok((now.saturating_sub(span), now));
        }
        let to = given(&self.to)
            .map(|t| parse_time(t, now, "to"))
            .transpose()?
            .unwrap_or(now);
        let from = given(&self.from)
            .map(|t| parse_time(t, now, "from"))
            .transpose()?
            .unwrap_or(to.saturating_sub(25 * 3600));
        if from > to {
            return Err("from is after to".into());
        }
        if to - from > MAX_SPAN {
            return Err("from..to is longer than ten years".into());
        }
        Ok((from, to))
    }
}

/// One state change of `/api/history`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub at: Time,
    pub state: String,
    pub hard: bool,
    pub attempt: u32,
    pub output: String,
    /// Seconds until the next change, or until now for the last.
    pub duration: u64,
}

/// The answer of `/api/history`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectHistory {
    /// `HOST` or `HOST/SERVICE`.
    pub object: String,
    pub changes: Vec<Change>,
}

/// The changes of an object's State events (oldest first), each lasting until the
/// next, the last until `now`.
pub fn changes(states: &[Event], now: Time) -> Vec<Change> {
    states
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let end = states.get(i + 1).map_or(now, |n| n.at);
            Change {
                at: e.at,
                state: e.state.clone().unwrap_or_default(),
                hard: e.hard.unwrap_or(true),
                attempt: e.attempt.unwrap_or(1),
                output: e.output.clone().unwrap_or_default(),
                duration: end.saturating_sub(e.at),
            }
        })
        .collect()
}

/// A refusal: its status and one-line reason, answered as the API's other refusals.
#[derive(Debug)]
pub struct Refused(StatusCode, String);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        refuse(self.0, self.1)
    }
}

/// A refusal for a bad parameter.
fn bad(reason: impl Into<String>) -> Refused {
    Refused(StatusCode::BAD_REQUEST, reason.into())
}

/// The store, when `host` (and `service`) are known to the core; a service alone must
/// be one of some host. 404 for unknown objects, 503 without a store. The core is
/// locked only to look.
fn store_for(api: &Api, host: Option<&str>, service: Option<&str>) -> Result<History, Refused> {
    let core = api.core.lock().expect("core lock");
    let known = match (host, service) {
        (Some(h), Some(s)) => core.find(&format!("{h}/{s}")).is_some(),
        (Some(h), None) => !h.contains('/') && core.find(h).is_some(),
        (None, Some(s)) => core.config.services.iter().any(|x| x.name == s),
        (None, None) => true,
    };
    if !known {
        let what = match (host, service) {
            (Some(h), Some(s)) => format!("no service {h}/{s}"),
            (Some(h), None) => format!("no host {h}"),
            (_, Some(s)) => format!("no service named {s}"),
            _ => unreachable!("everything is known"),
        };
        return Err(Refused(StatusCode::NOT_FOUND, shown_line(&what)));
    }
    core.history.clone().ok_or_else(|| {
        Refused(
            StatusCode::SERVICE_UNAVAILABLE,
            "no history is kept ([history] enabled = false)".into(),
        )
    })
}

/// A message on one line (names may hold anything).
fn shown_line(text: &str) -> String {
    text.chars()
        .take(300)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Runs `f`, a read of the store, on a blocking thread once one of [`MAX_READS`]
/// places is free (a place held until `f` returns, even if the request goes away).
pub async fn blocking_read<T, F>(f: F) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, String> + Send + 'static,
{
    static PLACES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(MAX_READS);
    let place = PLACES
        .acquire()
        .await
        .map_err(|e| format!("history read failed: {e}"))?;
    let r = tokio::task::spawn_blocking(move || {
        let r = f();
        drop(place);
        r
    });
    r.await
        .unwrap_or_else(|e| Err(format!("history read failed: {e}")))
}

/// Runs a read of the store on a blocking thread ([`blocking_read`]); its answer as
/// JSON, or a 404 saying `missing` when it found nothing.
async fn read<T, F>(history: History, missing: String, f: F) -> Result<Response, Refused>
where
    T: Serialize + Send + 'static,
    F: FnOnce(&rusqlite::Connection) -> rusqlite::Result<Option<T>> + Send + 'static,
{
    let r = blocking_read(move || history.read(f)).await;
    match r {
        Ok(Some(v)) => Ok(Json(v).into_response()),
        Ok(None) => Err(Refused(StatusCode::NOT_FOUND, missing)),
        Err(e) => {
            tracing::warn!("api: {e}");
            Err(Refused(StatusCode::INTERNAL_SERVER_ERROR, shown_line(&e)))
        }
    }
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, Refused> {
    q.map(|Query(q)| q)
        .map_err(|e| bad(shown_line(&e.body_text())))
}

async fn events(
    State(api): State<Api>,
    q: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Response, Refused> {
    let filter = query(q)?.filter(unix_now()).map_err(bad)?;
    let history = store_for(&api, filter.host.as_deref(), filter.service.as_deref())?;
    read(history, String::new(), move |conn| {
        store::events(conn, &filter).map(Some)
    })
    .await
}

/// The State events of an object in `[since, now]`, oldest first, after its last one
/// before `since` (the state it was in then); at most [`MAX_CHANGES`], the newest.
fn state_changes(
    conn: &rusqlite::Connection,
    host: &str,
    service: Option<&str>,
    since: Time,
) -> rusqlite::Result<Vec<Event>> {
    // a host's filter also selects its services' events: those are left out here
    let own = |e: &Event| e.service.as_deref() == service;
    let scan = if service.is_some() {
        1
    } else {
        10 * MAX_CHANGES
    };
    let base = EventFilter {
        host: Some(host.to_string()),
        service: service.map(str::to_string),
        kinds: vec![Kind::State],
        ..EventFilter::default()
    };
    let mut within: Vec<Event> = store::events(
        conn,
        &EventFilter {
            since: Some(since),
            limit: if service.is_some() {
                MAX_CHANGES
            } else {
                10 * MAX_CHANGES
            },
            ..base.clone()
        },
    )?
    .into_iter()
    .filter(own)
    .take(MAX_CHANGES)
    .collect();
    if within.len() < MAX_CHANGES && since > 0 {
        let before = store::events(
            conn,
            &EventFilter {
                until: Some(since - 1),
                limit: scan,
                ..base
            },
        )?;
        within.extend(before.into_iter().find(own));
    }
    within.reverse();
    Ok(within)
}

async fn history(
    State(api): State<Api>,
    q: Result<Query<ObjectQuery>, QueryRejection>,
) -> Result<Response, Refused> {
    let q = query(q)?;
    let now = unix_now();
    let host = given(&q.host)
        .ok_or_else(|| bad("host: missing"))?
        .to_string();
    let service = given(&q.service).map(str::to_string);
    let since = parse_time(given(&q.since).unwrap_or(DEFAULT_SINCE), now, "since").map_err(bad)?;
    let history = store_for(&api, Some(&host), service.as_deref())?;
    read(history, String::new(), move |conn| {
        let states = state_changes(conn, &host, service.as_deref(), since)?;
        let object = match &service {
            Some(s) => format!("{host}/{s}"),
            None => host,
        };
        Ok(Some(ObjectHistory {
            object,
            changes: changes(&states, now),
        }))
    })
    .await
}

async fn metrics(
    State(api): State<Api>,
    q: Result<Query<ObjectQuery>, QueryRejection>,
) -> Result<Response, Refused> {
    let q = query(q)?;
    let host = given(&q.host)
        .ok_or_else(|| bad("host: missing"))?
        .to_string();
    let service = given(&q.service).map(str::to_string);
    let history = store_for(&api, Some(&host), service.as_deref())?;
    read(history, String::new(), move |conn| {
        perf::metrics(conn, &host, service.as_deref()).map(Some)
    })
    .await
}

async fn series(
    State(api): State<Api>,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<SeriesQuery>, QueryRejection>,
) -> Result<Response, Refused> {
    let q = query(q)?;
    let id = match id.map(|Path(id)| id.parse::<i64>()) {
        Ok(Ok(id)) if id > 0 => id,
        _ => return Err(bad("metric id: not a positive number")),
    };
    let (from, to) = q.window(unix_now()).map_err(bad)?;
    let history = store_for(&api, None, None)?;
    read(history, format!("no metric {id}"), move |conn| {
        if perf::metric(conn, id)?.is_none() {
            return Ok(None);
        }
        perf::series(conn, id, from, to).map(Some)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_unix_seconds_or_durations_ago() {
        assert_eq!(parse_time("1700000000", 5, "since"), Ok(1_700_000_000));
        assert_eq!(parse_time("2h", 10_000, "since"), Ok(10_000 - 7200));
        assert_eq!(
            parse_time("7d", 10_000_000, "since"),
            Ok(10_000_000 - 604_800)
        );
        assert_eq!(parse_time("1h 30m", 10_000, "since"), Ok(10_000 - 5400));
        assert_eq!(parse_time("7d", 5, "since"), Ok(0));
        for bad in ["", "yesterday", "-5", "2x", "99999999999999999999999"] {
            assert!(parse_time(bad, 100, "since").is_err(), "{bad}");
        }
        assert_eq!(
            parse_time("20y", 100, "since").unwrap_err(),
            "since: 20y is longer than ten years"
        );
    }

    #[test]
    fn event_parameters_are_checked() {
        let q = |kind: &str, since: &str, until: &str, text: &str, limit: &str| EventsQuery {
            host: Some("web".into()),
            service: Some(String::new()),
            kind: Some(kind.into()),
            since: Some(since.into()),
            until: Some(until.into()),
            q: Some(text.into()),
            limit: Some(limit.into()),
        };
        let f = q("state, notification,state", "2h", "1h", "refused", "50")
            .filter(100_000)
            .unwrap();
        assert_eq!(
            f,
            EventFilter {
                host: Some("web".into()),
                service: None,
                kinds: vec![Kind::State, Kind::Notification],
                since: Some(100_000 - 7200),
                until: Some(100_000 - 3600),
                text: Some("refused".into()),
                limit: 50,
            }
        );
        let f = EventsQuery::default().filter(100).unwrap();
        assert_eq!((f.limit, f.kinds.len(), f.since), (DEFAULT_LIMIT, 0, None));
        let refused = |q: EventsQuery| q.filter(100_000).unwrap_err();
        assert!(refused(q("stat", "", "", "", "")).starts_with("kind: unknown kind 'stat'"));
        assert_eq!(refused(q("", "1h", "2h", "", "")), "since is after until");
        assert_eq!(
            refused(q("", "", "", "", "5001")),
            "limit: '5001' is not a number from 1 to 5000"
        );
        assert!(refused(q("", "", "", "", "0")).starts_with("limit:"));
        assert!(refused(q("", "", "", "", "-1")).starts_with("limit:"));
        assert!(refused(q("", "", "", &"x".repeat(201), "")).starts_with("q:"));
        assert!(refused(q("", "soon", "", "", "")).starts_with("since:"));
        // a text search without `since` reads the month before `until` (or now)
        let month = TEXT_SEARCH_DAYS * 86_400;
        let since = |q: EventsQuery| q.filter(100_000_000).unwrap().since;
        assert_eq!(since(q("", "", "", "disk", "")), Some(100_000_000 - month));
        assert_eq!(
            since(q("", "", "90000000", "disk", "")),
            Some(90_000_000 - month)
        );
        assert_eq!(
            since(q("", "90d", "", "disk", "")),
            Some(100_000_000 - 90 * 86_400)
        );
        assert_eq!(since(q("", "", "", "", "")), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn store_reads_queue_beyond_their_places() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NOW: AtomicUsize = AtomicUsize::new(0);
        static MOST: AtomicUsize = AtomicUsize::new(0);
        let reads: Vec<_> = (0..3 * MAX_READS)
            .map(|i| {
                tokio::spawn(blocking_read(move || {
                    let n = NOW.fetch_add(1, Ordering::SeqCst) + 1;
                    MOST.fetch_max(n, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(100));
                    NOW.fetch_sub(1, Ordering::SeqCst);
                    Ok(i)
                }))
            })
            .collect();
        let mut done = Vec::new();
        for r in reads {
            done.push(r.await.unwrap().unwrap());
        }
        assert_eq!(done, (0..3 * MAX_READS).collect::<Vec<_>>());
        assert_eq!(MOST.load(Ordering::SeqCst), MAX_READS);
    }

    #[test]
    fn series_windows() {
        let w = |range: &str, from: &str, to: &str| {
            SeriesQuery {
                range: Some(range.into()),
                from: Some(from.into()),
                to: Some(to.into()),
            }
            .window(1_000_000_000)
        };
        assert_eq!(w("4h", "", ""), Ok((1_000_000_000 - 14_400, 1_000_000_000)));
        assert_eq!(
            w("1m", "", ""),
            Ok((1_000_000_000 - 31 * 86_400, 1_000_000_000))
        );
        assert_eq!(w("", "", ""), Ok((1_000_000_000 - 90_000, 1_000_000_000)));
        assert_eq!(w("", "100", "200"), Ok((100, 200)));
        assert_eq!(
            w("", "2h", "1h"),
            Ok((1_000_000_000 - 7200, 1_000_000_000 - 3600))
        );
        assert!(w("2h", "", "").unwrap_err().starts_with("range:"));
        assert!(w("4h", "100", "").unwrap_err().starts_with("range:"));
        assert_eq!(w("", "200", "100").unwrap_err(), "from is after to");
        assert!(w("", "1", "999999999").unwrap_err().contains("ten years"));
    }

    #[test]
    fn changes_last_until_the_next() {
        let e = |at, st: &str, hard, attempt| Event {
            state: Some(st.into()),
            hard: Some(hard),
            attempt: Some(attempt),
            output: Some(format!("{st} output")),
            ..Event::new(Kind::State, at, Some("web"), Some("http"))
        };
        let c = changes(
            &[
                e(100, "OK", true, 1),
                e(160, "CRITICAL", false, 1),
                e(220, "CRITICAL", true, 2),
            ],
            1000,
        );
        let got: Vec<(Time, &str, bool, u32, u64)> = c
            .iter()
            .map(|c| (c.at, c.state.as_str(), c.hard, c.attempt, c.duration))
            .collect();
        assert_eq!(
            got,
            [
                (100, "OK", true, 1, 60),
                (160, "CRITICAL", false, 1, 60),
                (220, "CRITICAL", true, 2, 780)
            ]
        );
        assert_eq!(c[0].output, "OK output");
        assert!(changes(&[], 5).is_empty());
    }
}

#[cfg(test)]
mod router_tests {
    use super::*;
    use crate::auth::Peer;
    use crate::history::store::HistorySettings;
    use crate::http::Access;
    use axum::body::{to_bytes, Body};
    use hcoop_plugins::plugin::PerfData;
    use std::sync::{Arc, Mutex, RwLock};
    use std::time::Duration;
    use tower::ServiceExt;

    const CONFIG: &str = "[[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n\n\
        [[service]]\nhost = \"h\"\nname = \"s\"\ncheck = \"check_load\"\n";

    /// A time a day ago, on a round number, that the tests' times are offsets from.
    fn base() -> Time {
        (unix_now() - 86_400) / 10_000 * 10_000
    }

    /// The API of a core with host h and service h/s, and a store in `dir` holding
    /// h/s OK at base+1000, CRITICAL (soft, then hard) at +1100 and +1160, OK at +1400,
    /// a notification at +1160, and one metric of h/s.
    fn api(dir: &std::path::Path, history: bool) -> Api {
        let b = base();
        let (mut core, daemon) = crate::http::testing::core(CONFIG);
        if history {
            let settings = HistorySettings {
                path: dir.join("history.db"),
                ..HistorySettings::default()
            };
            let h = History::open(&settings, unix_now()).unwrap();
            let state = |at, st: &str, hard, attempt| Event {
                state: Some(st.into()),
                hard: Some(hard),
                attempt: Some(attempt),
                output: Some(format!("LOAD {st} <b>")),
                ..Event::new(Kind::State, at, Some("h"), Some("s"))
            };
            let note = Event {
                author: Some("ops".into()),
                notification_type: Some("PROBLEM".into()),
                method: Some("email".into()),
                state: Some("CRITICAL".into()),
                ..Event::new(Kind::Notification, b + 1160, Some("h"), Some("s"))
            };
            let host = Event {
                state: Some("UP".into()),
                hard: Some(true),
                attempt: Some(1),
                ..Event::new(Kind::State, b + 1050, Some("h"), None)
            };
            for e in [
                state(b + 1000, "OK", true, 1),
                host,
                state(b + 1100, "CRITICAL", false, 1),
                state(b + 1160, "CRITICAL", true, 2),
                note,
                state(b + 1400, "OK", true, 2),
            ] {
                assert!(h.record(e).wait(Duration::from_secs(10)));
            }
            h.perfdata("h", Some("s"), unix_now(), &[PerfData::new("load1", 2)]);
            let stored = (0..100).any(|_| {
                std::thread::sleep(Duration::from_millis(50));
                h.read(|c| perf::metrics(c, "h", Some("s")))
                    .is_ok_and(|m| !m.is_empty())
            });
            assert!(stored, "the metric was never stored");
            core.history = Some(h);
        }
        let (reload, _) = tokio::sync::mpsc::channel(1);
        Api {
            core: Arc::new(Mutex::new(core)),
            access: Arc::new(RwLock::new(Access::from_config(&daemon))),
            reload,
        }
    }

    /// GET `uri` through the whole app as a TCP peer; the status and the JSON body.
    async fn get(api: &Api, uri: &str) -> (StatusCode, serde_json::Value) {
        let req = axum::http::Request::get(uri)
            .extension(Peer::Remote(([192, 0, 2, 1], 4000).into()))
            .body(Body::empty())
            .unwrap();
        let r = crate::web::app(api.clone()).oneshot(req).await.unwrap();
        let status = r.status();
        let body = to_bytes(r.into_body(), 1 << 24).await.unwrap();
        let json = serde_json::from_slice(&body).unwrap_or_else(|e| {
            panic!("{uri}: not JSON ({e}): {}", String::from_utf8_lossy(&body))
        });
        (status, json)
    }

    /// The refusal's status and its reason.
    async fn refused(api: &Api, uri: &str) -> (StatusCode, String) {
        let (status, json) = get(api, uri).await;
        let reason = json["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{uri}: {json}"));
        assert!(!reason.contains('\n'), "{reason}");
        (status, reason.to_string())
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn events_newest_first_filtered_and_limited() {
        let dir = tempfile::tempdir().unwrap();
        let api = api(dir.path(), true);
        let b = base();
        let (status, json) = get(&api, "/api/events?host=h&service=s&kind=state").await;
        assert_eq!(status, StatusCode::OK);
        let events: Vec<Event> = serde_json::from_value(json).unwrap();
        let got: Vec<(Time, &str)> = events
            .iter()
            .map(|e| (e.at - b, e.state.as_deref().unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                (1400, "OK"),
                (1160, "CRITICAL"),
                (1100, "CRITICAL"),
                (1000, "OK")
            ]
        );
        // output as stored, escaped by the JSON only
        assert_eq!(events[0].output.as_deref(), Some("LOAD OK <b>"));
        let (_, json) = get(
            &api,
            &format!(
                "/api/events?host=h&kind=notification,state&since={}&until={}&limit=2",
                b + 1100,
                b + 1160
            ),
        )
        .await;
        let events: Vec<Event> = serde_json::from_value(json).unwrap();
        let got: Vec<(Time, Kind)> = events.iter().map(|e| (e.at - b, e.kind)).collect();
        assert_eq!(got, [(1160, Kind::Notification), (1160, Kind::State)]);
        let (_, json) = get(&api, "/api/events?q=ops").await;
        assert_eq!(json.as_array().map(Vec::len), Some(1), "{json}");
        // the default limit and the daemon's own events (its start)
        let (_, json) = get(&api, "/api/events?kind=start").await;
        assert_eq!(json.as_array().map(Vec::len), Some(1), "{json}");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn bad_parameters_are_refused_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let api = api(dir.path(), true);
        for (uri, status, reason) in [
            (
                "/api/events?limit=5001",
                400,
                "limit: '5001' is not a number from 1 to 5000",
            ),
            (
                "/api/events?limit=ten",
                400,
                "limit: 'ten' is not a number from 1 to 5000",
            ),
            ("/api/events?kind=alert", 400, "kind: unknown kind 'alert'"),
            (
                "/api/events?since=yesterday",
                400,
                "since: 'yesterday' is neither",
            ),
            (
                "/api/events?since=1000&until=900",
                400,
                "since is after until",
            ),
            ("/api/events?host=nope", 404, "no host nope"),
            ("/api/events?host=h&service=nope", 404, "no service h/nope"),
            ("/api/events?service=nope", 404, "no service named nope"),
            ("/api/history?service=s", 400, "host: missing"),
            ("/api/history?host=h&service=x%3Cy", 404, "no service h/x<y"),
            ("/api/history?host=h&since=7", 200, ""),
            (
                "/api/history?host=h&since=-7",
                400,
                "since: '-7' is neither",
            ),
            ("/api/metrics", 400, "host: missing"),
            ("/api/metrics?host=zz", 404, "no host zz"),
            ("/api/metrics/abc", 400, "metric id: not a positive number"),
            ("/api/metrics/0", 400, "metric id: not a positive number"),
            ("/api/metrics/999", 404, "no metric 999"),
            ("/api/metrics/1?range=2d", 400, "range: '2d' is not one of"),
            ("/api/metrics/1?range=4h&from=1", 400, "range: give either"),
            ("/api/metrics/1?from=200&to=100", 400, "from is after to"),
        ] {
            if status == 200 {
                assert_eq!(get(&api, uri).await.0, StatusCode::OK, "{uri}");
                continue;
            }
            let (got, why) = refused(&api, uri).await;
            assert_eq!(got.as_u16(), status, "{uri}: {why}");
            assert!(why.starts_with(reason), "{uri}: {why}");
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn history_changes_last_until_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let api = api(dir.path(), true);
        let b = base();
        let uri = format!("/api/history?host=h&service=s&since={}", b + 1100);
        let (status, json) = get(&api, &uri).await;
        assert_eq!(status, StatusCode::OK);
        let h: ObjectHistory = serde_json::from_value(json).unwrap();
        assert_eq!(h.object, "h/s");
        let got: Vec<(Time, &str, bool, u32, u64)> = h
            .changes
            .iter()
            .map(|c| (c.at - b, c.state.as_str(), c.hard, c.attempt, c.duration))
            .collect();
        // the state at `since` first (changed at 1000), the last lasting until now
        assert_eq!(
            got[..3],
            [
                (1000, "OK", true, 1, 100),
                (1100, "CRITICAL", false, 1, 60),
                (1160, "CRITICAL", true, 2, 240),
            ]
        );
        assert_eq!((got[3].0, got[3].1), (1400, "OK"));
        assert!(got[3].4 + b + 1400 + 5 >= unix_now(), "{got:?}");
        assert_eq!(got.len(), 4);
        // a host's own changes only
        let (_, json) = get(&api, &format!("/api/history?host=h&since={}", b + 1000)).await;
        let h: ObjectHistory = serde_json::from_value(json).unwrap();
        assert_eq!(h.object, "h");
        let states: Vec<(Time, &str)> = h
            .changes
            .iter()
            .map(|c| (c.at - b, c.state.as_str()))
            .collect();
        assert_eq!(states, [(1050, "UP")]);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn metrics_and_their_series() {
        let dir = tempfile::tempdir().unwrap();
        let api = api(dir.path(), true);
        let (status, json) = get(&api, "/api/metrics?host=h&service=s").await;
        assert_eq!(status, StatusCode::OK);
        let list = json.as_array().unwrap();
        assert_eq!(list.len(), 1, "{json}");
        assert_eq!(list[0]["label"], "load1");
        let id = list[0]["id"].as_i64().unwrap();
        let (_, json) = get(&api, "/api/metrics?host=h").await;
        assert_eq!(json, serde_json::json!([]));
        let (status, series) = get(&api, &format!("/api/metrics/{id}?range=4h")).await;
        assert_eq!(status, StatusCode::OK, "{series}");
        assert_eq!(series["metric"]["id"], id);
        let points = series["points"].as_array().unwrap();
        assert!(points.iter().any(|p| p["avg"] == 2.0), "{series}");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn reads_follow_the_api_rule_and_need_a_store() {
        let dir = tempfile::tempdir().unwrap();
        let api = api(dir.path(), true);
        api.access.write().unwrap().require_auth_for_reads = true;
        for uri in [
            "/api/events",
            "/api/history?host=h",
            "/api/metrics?host=h",
            "/api/metrics/1",
        ] {
            let (status, _) = refused(&api, uri).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
        }
        // without a store: said so, after the parameters and the object
        let none = super::router_tests::api(dir.path(), false);
        let (status, why) = refused(&none, "/api/events?host=h").await;
        assert_eq!(
            (status, why.as_str()),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "no history is kept ([history] enabled = false)"
            )
        );
        assert_eq!(
            refused(&none, "/api/events?host=x").await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            refused(&none, "/api/events?limit=0").await.0,
            StatusCode::BAD_REQUEST
        );
    }
}
