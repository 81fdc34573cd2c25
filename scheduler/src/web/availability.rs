//! See the module documentation of [`crate::web`].
//!
//! Availability reports (as Nagios' avail.cgi): `GET /api/availability` (JSON, or CSV
//! with `format=csv`) and the page `GET /availability` (which answers `format=json|csv`
//! too, behind the pages' guard: its CSV and JSON links work with a session when reads
//! need one), both with the same parameters:
//!
//! - the window: `period=24h|7d|31d|SECONDSs` (any duration; default 7d) ending now or
//!   at `to`, or `from=` (and `to=`, default now), each Unix seconds or RFC 3339
//!   (`2026-03-02T09:00:00Z`, `2026-03-02T09:00:00+01:00`, `2026-03-02`); never past now,
//!   at most [`MAX_SPAN`] long;
//! - the objects: every configured host and service, or those of `host=` (the host and
//!   its services), `service=` (with `host=`: that service; alone: the services of this
//!   name), `hostgroup=` (its hosts and their services) or `servicegroup=` (its
//!   services alone);
//! - `include_soft=1` (soft states count), `downtime_counts=0` (time in downtime apart,
//!   in no state's total; by default it counts as the state, as in avail.cgi),
//!   `assume_state_retention=0`, `report_period=NAME` (a configured `[[timeperiod]]`:
//!   only its times counted).
//!
//! The computation is [`crate::history::availability`]; the store is read off the
//! async threads. The API route is behind the API's access guard, the page behind the
//! pages' ([`crate::web::session::guard`]).

use crate::daemon::Core;
use crate::groups::{percent_encoded, GroupFilter};
use crate::history::availability::{self, percent, shown_percent, Options, Report, Row};
use crate::history::store;
use crate::history::{Event, Kind, Time};
use crate::http::Api;
use crate::web::escape;
use crate::web::pages::{html, layout, query_or_error_page};
use crate::web::session::Viewer;
use axum::extract::{Query, State as AxState};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use std::fmt::Write as _;

/// The longest window a report covers.
pub const MAX_SPAN: u64 = 5 * 366 * 86_400;
/// The window when none is given.
pub const DEFAULT_PERIOD: &str = "7d";
/// The periods offered on the page.
const PERIODS: [(&str, &str); 3] = [
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("31d", "Last 31 days"),
];

/// The parameters of the report, as given (empty fields are as absent).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct AvailabilityQuery {
    pub period: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub host: Option<String>,
    pub service: Option<String>,
    pub hostgroup: Option<String>,
    pub servicegroup: Option<String>,
    pub include_soft: Option<String>,
    pub downtime_counts: Option<String>,
    pub assume_state_retention: Option<String>,
    pub report_period: Option<String>,
    pub format: Option<String>,
}

/// A parameter's value unless empty.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A yes/no parameter (`1 true yes on` / `0 false no off`).
fn flag(name: &str, v: &Option<String>, default: bool) -> Result<bool, String> {
    match given(v).map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => Err(format!("{name}: '{other}' is not 1 or 0")),
    }
}

/// A time given as Unix seconds or RFC 3339 (with `Z` or an offset; a date alone is
/// its midnight UTC).
pub fn parse_time(text: &str) -> Result<Time, String> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse()
            .map_err(|_| format!("'{text}' is not a Unix time"));
    }
    let bad = || format!("'{text}' is neither Unix seconds nor an RFC 3339 time");
    if text.len() > 40 {
        return Err(bad());
    }
    // an offset (+01:00, -05:30) after the time
    // (split only at a character's boundary: the text may hold any character)
    let split = text
        .len()
        .checked_sub(6)
        .and_then(|i| text.split_at_checked(i));
    let (base, offset) = match split {
        Some((base, off))
            if base.len() > 10
                && (off.starts_with('+') || off.starts_with('-'))
                && off.as_bytes().get(3) == Some(&b':') =>
        {
            let h: i64 = off.get(1..3).ok_or_else(bad)?.parse().map_err(|_| bad())?;
            let m: i64 = off.get(4..6).ok_or_else(bad)?.parse().map_err(|_| bad())?;
            if h > 23 || m > 59 {
                return Err(bad());
            }
            let sign = if off.starts_with('-') { -1 } else { 1 };
            (base.to_string(), sign * (h * 3600 + m * 60))
        }
        _ => (text.to_string(), 0),
    };
    let base = if base.len() == 10 {
        format!("{base}T00:00:00Z")
    } else {
        base
    };
    let t = humantime::parse_rfc3339_weak(&base).map_err(|_| bad())?;
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| bad())?
        .as_secs() as i64;
    Time::try_from(secs - offset).map_err(|_| bad())
}

/// The window `[from, to)` a query asks for, ending no later than `now`.
pub fn window(q: &AvailabilityQuery, now: Time) -> Result<(Time, Time), String> {
    let to = match given(&q.to) {
        Some(t) => parse_time(t).map_err(|e| format!("to: {e}"))?.min(now),
        None => now,
    };
    let from = match (given(&q.from), given(&q.period)) {
        (Some(_), Some(_)) => return Err("give either 'period' or 'from', not both".into()),
        (Some(f), None) => parse_time(f).map_err(|e| format!("from: {e}"))?,
        (None, p) => {
            let p = p.unwrap_or(DEFAULT_PERIOD);
            let d = humantime::parse_duration(p)
                .map_err(|_| format!("period: '{p}' is not a duration (24h, 7d, 31d, 3600s)"))?;
            to.saturating_sub(d.as_secs())
        }
    };
    if from >= to {
        return Err("the report window is empty: 'from' must be before 'to' and now".into());
    }
    if to - from > MAX_SPAN {
        return Err(format!(
            "the report window is longer than {} days",
            MAX_SPAN / 86_400
        ));
    }
    Ok((from, to))
}

/// Why a query is refused: its status and a one-line reason.
type Refusal = (StatusCode, String);

fn bad(e: String) -> Refusal {
    (StatusCode::BAD_REQUEST, e)
}

/// The hosts and services a query asks for, in the configuration's order (a host
/// before the services).
pub fn objects(
    core: &Core,
    q: &AvailabilityQuery,
) -> Result<Vec<(String, Option<String>)>, Refusal> {
    let groups = GroupFilter {
        hostgroup: given(&q.hostgroup).map(str::to_string),
        servicegroup: given(&q.servicegroup).map(str::to_string),
    };
    let shown = core.shown(&groups).map_err(|e| {
        let status = if e.starts_with("no ") {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::BAD_REQUEST
        };
        (status, e)
    })?;
    let (host, service) = (given(&q.host), given(&q.service));
    if let Some(h) = host {
        if !core.config.hosts.iter().any(|x| x.name == h) {
            return Err((StatusCode::NOT_FOUND, format!("no host '{h}'")));
        }
    }
    let mut keep_host = vec![shown.is_none(); core.config.hosts.len()];
    let mut keep_service = vec![shown.is_none(); core.config.services.len()];
    if let Some(s) = &shown {
        for &i in &s.hosts {
            keep_host[i] = true;
        }
        for &i in &s.services {
            keep_service[i] = true;
        }
    }
    let mut out = Vec::new();
    for (i, h) in core.config.hosts.iter().enumerate() {
        // a service group shows its services alone
        if !keep_host[i]
            || service.is_some()
            || groups.servicegroup.is_some()
            || host.is_some_and(|n| n != h.name)
        {
            continue;
        }
        out.push((h.name.clone(), None));
        // its services follow it
        for (j, s) in core.config.services.iter().enumerate() {
            if s.host == h.name && keep_service[j] {
                out.push((s.host.clone(), Some(s.name.clone())));
                keep_service[j] = false;
            }
        }
    }
    for (j, s) in core.config.services.iter().enumerate() {
        if keep_service[j]
            && host.is_none_or(|n| n == s.host)
            && service.is_none_or(|n| n == s.name)
            && (service.is_some() || host.is_none())
        {
            out.push((s.host.clone(), Some(s.name.clone())));
        }
    }
    if out.is_empty() && service.is_some() {
        let what = match host {
            Some(h) => format!("no service '{}' on host '{h}'", service.unwrap_or("")),
            None => format!("no service '{}'", service.unwrap_or("")),
        };
        return Err((StatusCode::NOT_FOUND, what));
    }
    Ok(out)
}

/// Computes the report a query asks for: what it needs from the core under the lock,
/// then the store read off the async threads.
pub async fn run(api: &Api, q: &AvailabilityQuery, now: Time) -> Result<Report, Refusal> {
    let (from, to) = window(q, now).map_err(bad)?;
    let mut opts = Options::new(from, to);
    opts.include_soft = flag("include_soft", &q.include_soft, false).map_err(bad)?;
    opts.downtime_counts = flag("downtime_counts", &q.downtime_counts, true).map_err(bad)?;
    opts.assume_state_retention =
        flag("assume_state_retention", &q.assume_state_retention, true).map_err(bad)?;
    let (objects, always_up, history) = {
        let core = api.core.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(name) = given(&q.report_period) {
            opts.report_period = Some(
                core.config
                    .periods
                    .intervals(name, from, to)
                    .ok_or_else(|| bad(format!("report_period: no time period '{name}'")))?,
            );
        }
        let objects = objects(&core, q)?;
        // a host without a check is UP whenever the daemon runs (Nagios logs it so at
        // every start); its history has no state change to say so
        let always_up: Vec<String> = core
            .config
            .hosts
            .iter()
            .filter(|h| h.check.is_none())
            .filter(|h| objects.iter().any(|(o, s)| s.is_none() && *o == h.name))
            .map(|h| h.name.clone())
            .collect();
        (objects, always_up, core.history.clone())
    };
    let history = history.ok_or_else(|| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the history is off ([history] enabled = false): no availability to report".into(),
        )
    })?;
    crate::web::api::blocking_read(move || {
        history.read(|conn| {
            let mut events = store::state_events(conn, opts.from, opts.to)?;
            let runs = store::runs(conn, opts.from, opts.to)?;
            let up = always_up.iter().map(|h| Event {
                state: Some("UP".into()),
                hard: Some(true),
                output: Some("no host check configured: assumed UP".into()),
                ..Event::new(Kind::State, opts.from, Some(h), None)
            });
            events.splice(0..0, up);
            Ok(availability::compute(&opts, &objects, &events, &runs))
        })
    })
    .await
    .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e))
}

fn unix_now() -> Time {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `GET /api/availability`: the report as JSON ([`Report`]) or, with `format=csv`, as
/// CSV ([`availability::csv`]).
async fn api_availability(
    AxState(api): AxState<Api>,
    query: Result<Query<AvailabilityQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return json_refusal(bad("bad query string".into()));
    };
    let csv = match given(&q.format) {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => return json_refusal(bad(format!("format: '{other}' is not json or csv"))),
    };
    export(&api, &q, csv).await
}

/// A refusal as the API answers it: the status and `{"error": REASON}`.
fn json_refusal((status, reason): Refusal) -> Response {
    (status, Json(serde_json::json!({ "error": reason }))).into_response()
}

/// The report of `q` as JSON ([`Report`]) or CSV, refusals as JSON: the answer of
/// `/api/availability` (behind the API's guard) and of `/availability?format=json|csv`
/// (behind the pages' guard, which takes a session: the page's own CSV and JSON links).
async fn export(api: &Api, q: &AvailabilityQuery, csv: bool) -> Response {
    match run(api, q, unix_now()).await {
        Ok(r) if csv => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/csv; charset=utf-8"),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_static("inline; filename=\"availability.csv\""),
                ),
            ],
            availability::csv(&r),
        )
            .into_response(),
        Ok(r) => Json(r).into_response(),
        Err(e) => json_refusal(e),
    }
}

/// `GET /availability`: the form and the report.
async fn availability_page(
    AxState(api): AxState<Api>,
    viewer: Viewer,
    query: Result<Query<AvailabilityQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = match query_or_error_page(query, &viewer, "Availability") {
        Ok(q) => q,
        Err(page) => return *page,
    };
    let periods: Vec<String> = {
        let core = api.core.lock().unwrap_or_else(|p| p.into_inner());
        core.config.periods.names()
    };
    let form = render_form(&q, &periods);
    let report = match given(&q.format) {
        None | Some("html") => run(&api, &q, unix_now()).await,
        Some(f @ ("json" | "csv")) => return export(&api, &q, f == "csv").await,
        Some(other) => Err(bad(format!("format: '{other}' is not html, json or csv"))),
    };
    match report {
        Ok(r) => {
            let body = format!("<h1>Availability</h1>\n{form}{}", render_report(&q, &r));
            html(StatusCode::OK, layout("Availability", &viewer, &body))
        }
        Err((status, reason)) => {
            let body = format!(
                "<h1>Availability</h1>{form}<p class=\"error\">{}</p>",
                escape(&reason)
            );
            html(status, layout("Availability", &viewer, &body))
        }
    }
}

/// The query string of `q` (its given parameters, percent-encoded) with `format` set.
fn query_string(q: &AvailabilityQuery, format: Option<&str>) -> String {
    let fields = [
        ("period", &q.period),
        ("from", &q.from),
        ("to", &q.to),
        ("host", &q.host),
        ("service", &q.service),
        ("hostgroup", &q.hostgroup),
        ("servicegroup", &q.servicegroup),
        ("include_soft", &q.include_soft),
        ("downtime_counts", &q.downtime_counts),
        ("assume_state_retention", &q.assume_state_retention),
        ("report_period", &q.report_period),
    ];
    let mut parts: Vec<String> = fields
        .iter()
        .filter_map(|(k, v)| given(v).map(|v| format!("{k}={}", percent_encoded(v))))
        .collect();
    if let Some(f) = format {
        parts.push(format!("format={f}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// The report's form (GET, the same parameters as the API).
pub fn render_form(q: &AvailabilityQuery, periods: &[String]) -> String {
    let value = |v: &Option<String>| escape(given(v).unwrap_or(""));
    let checked = |v: &Option<String>, default: bool| {
        if flag("", v, default).unwrap_or(default) {
            " checked"
        } else {
            ""
        }
    };
    let mut out = String::from("<form id=\"report\" method=\"get\" action=\"/availability\">");
    out.push_str("<label>Period <select name=\"period\">");
    let chosen = given(&q.period).unwrap_or(if given(&q.from).is_some() {
        ""
    } else {
        DEFAULT_PERIOD
    });
    let _ = write!(
        out,
        "<option value=\"\"{}>Custom (from/to)</option>",
        if chosen.is_empty() { " selected" } else { "" }
    );
    for (v, label) in PERIODS {
        let _ = write!(
            out,
            "<option value=\"{v}\"{}>{label}</option>",
            if chosen == v { " selected" } else { "" }
        );
    }
    out.push_str("</select></label> ");
    for (name, label, v) in [
        ("from", "From", &q.from),
        ("to", "To", &q.to),
        ("host", "Host", &q.host),
        ("service", "Service", &q.service),
        ("hostgroup", "Host group", &q.hostgroup),
        ("servicegroup", "Service group", &q.servicegroup),
    ] {
        let _ = write!(
            out,
            "<label>{label} <input name=\"{name}\" value=\"{}\"></label> ",
            value(v)
        );
    }
    out.push_str("<label>Report period <select name=\"report_period\"><option value=\"\">All the time</option>");
    for p in periods {
        let selected = given(&q.report_period) == Some(p.as_str());
        let _ = write!(
            out,
            "<option value=\"{0}\"{1}>{0}</option>",
            escape(p),
            if selected { " selected" } else { "" }
        );
    }
    out.push_str("</select></label> ");
    let _ = writeln!(
        out,
        "<label><input type=\"checkbox\" name=\"include_soft\" value=\"1\"{}> Soft states</label> \
         <label><input type=\"checkbox\" name=\"downtime_counts\" value=\"0\"{}> Downtime apart (not counted as the state)</label> \
         <button type=\"submit\">Report</button></form>",
        checked(&q.include_soft, false),
        if flag("", &q.downtime_counts, true).unwrap_or(true) {
            ""
        } else {
            " checked"
        },
    );
    out
}

/// A time as shown: RFC 3339 in UTC.
fn shown_time(t: Time) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(t))
        .to_string()
}

/// A duration as shown (`1d 2h 3m 4s`).
fn shown_duration(secs: u64) -> String {
    let parts = [
        (secs / 86_400, "d"),
        (secs % 86_400 / 3600, "h"),
        (secs % 3600 / 60, "m"),
        (secs % 60, "s"),
    ];
    let shown: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, u)| format!("{n}{u}"))
        .collect();
    if shown.is_empty() {
        "0s".into()
    } else {
        shown.join(" ")
    }
}

/// The report as HTML (after the page's heading and form): the window, the table `#availability` (a row per object, the
/// percent of the window in each state, scheduled and undetermined, each cell
/// `data-state`), the outages, links to CSV and JSON.
pub fn render_report(q: &AvailabilityQuery, r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<p class=\"window\">From <time datetime=\"{0}\">{0}</time> to <time datetime=\"{1}\">{1}</time>: \
         {2} counted{3}{4}. <a href=\"/availability{5}\" id=\"csv\">CSV</a> \
         <a href=\"/availability{6}\" id=\"json\">JSON</a></p>",
        shown_time(r.from),
        shown_time(r.to),
        shown_duration(r.counted),
        given(&q.report_period)
            .map(|p| format!(" (in the time period {})", escape(p)))
            .unwrap_or_default(),
        if r.include_soft { ", soft states included" } else { ", hard states only" },
        escape(&query_string(q, Some("csv"))),
        escape(&query_string(q, Some("json"))),
    );
    let services: Vec<&Row> = r.rows.iter().filter(|x| x.service.is_some()).collect();
    let hosts: Vec<&Row> = r.rows.iter().filter(|x| x.service.is_none()).collect();
    out.push_str("<table id=\"availability\">\n");
    for (rows, states, kind) in [
        (&hosts, &availability::HOST_STATES[..], "Host"),
        (&services, &availability::SERVICE_STATES[..], "Service"),
    ] {
        if rows.is_empty() {
            continue;
        }
        let _ = write!(out, "<thead><tr><th>{kind}</th>");
        for s in states {
            let _ = write!(out, "<th class=\"{s}\">{s}</th>");
        }
        out.push_str("<th>Scheduled</th><th>Undetermined</th></tr></thead>\n<tbody>\n");
        for row in rows {
            let object = row.object();
            let _ = write!(
                out,
                "<tr data-object=\"{0}\"><th scope=\"row\">{0}</th>",
                escape(&object)
            );
            for st in &row.states {
                let _ = write!(
                    out,
                    "<td data-state=\"{0}\" class=\"{0}\" title=\"{1} · {2}% of known time\">{3}%</td>",
                    st.state,
                    shown_duration(st.total),
                    shown_percent(st.percent_known),
                    shown_percent(st.percent)
                );
            }
            let _ = writeln!(
                out,
                "<td data-state=\"SCHEDULED\" title=\"{}\">{}%</td>\
                 <td data-state=\"UNDETERMINED\" title=\"not running {} · no data {}\">{}%</td></tr>",
                shown_duration(row.scheduled),
                shown_percent(percent(row.scheduled, r.counted)),
                shown_duration(row.undetermined_not_running),
                shown_duration(row.undetermined_no_data),
                shown_percent(percent(row.undetermined(), r.counted)),
            );
        }
        out.push_str("</tbody>\n");
    }
    out.push_str("</table>\n");
    let outages: usize = r.rows.iter().map(|x| x.outages.len()).sum();
    if outages > 0 {
        out.push_str(
            "<h2>Outages</h2>\n<table id=\"outages\"><thead><tr><th>Object</th><th>State</th>\
             <th>Start</th><th>End</th><th>Duration</th><th>Output</th></tr></thead>\n<tbody>\n",
        );
        for row in &r.rows {
            let object = escape(&row.object());
            if row.outages_left_off > 0 {
                let _ = writeln!(
                    out,
                    "<tr data-object=\"{object}\"><td colspan=\"6\">{object}: {} earlier outages not listed</td></tr>",
                    row.outages_left_off
                );
            }
            for o in &row.outages {
                let _ = writeln!(
                    out,
                    "<tr data-object=\"{object}\" data-state=\"{0}\"><td>{object}</td><td class=\"{0}\">{0}</td>\
                     <td>{1}</td><td>{2}</td><td>{3}</td><td>{4}</td></tr>",
                    escape(&o.state),
                    shown_time(o.start),
                    shown_time(o.end),
                    shown_duration(o.end - o.start),
                    escape(&o.output),
                );
            }
        }
        out.push_str("</tbody></table>\n");
    }
    out
}

/// The routes of this part of the web UI: the page, and the API route behind the API's
/// access guard.
pub fn routes(api: Api) -> Router<Api> {
    Router::new()
        .route(
            "/api/availability",
            get(api_availability).route_layer(axum::middleware::from_fn_with_state(
                api,
                crate::http::guard,
            )),
        )
        .route("/availability", get(availability_page))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::availability::{compute, Options};

    fn q(pairs: &[(&str, &str)]) -> AvailabilityQuery {
        let text: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", percent_encoded(v)))
            .collect();
        serde_urlencoded_query(&text.join("&"))
    }

    /// A query string read as axum reads it.
    fn serde_urlencoded_query(text: &str) -> AvailabilityQuery {
        let uri: axum::http::Uri = format!("/availability?{text}").parse().unwrap();
        Query::<AvailabilityQuery>::try_from_uri(&uri).unwrap().0
    }

    const NOW: Time = 1_772_496_000; // 2026-03-03T00:00:00Z

    #[test]
    fn times_are_unix_seconds_or_rfc_3339() {
        assert_eq!(parse_time("1772409600"), Ok(1_772_409_600));
        assert_eq!(parse_time("2026-03-02T00:00:00Z"), Ok(1_772_409_600));
        assert_eq!(parse_time("2026-03-02"), Ok(1_772_409_600));
        assert_eq!(parse_time("2026-03-02T01:30:00+01:30"), Ok(1_772_409_600));
        assert_eq!(parse_time("2026-03-01T19:00:00-05:00"), Ok(1_772_409_600));
        assert_eq!(
            parse_time("yesterday"),
            Err("'yesterday' is neither Unix seconds nor an RFC 3339 time".into())
        );
        assert!(parse_time("2026-03-02T00:00:00+25:00").is_err());
    }

    #[test]
    fn the_window_is_a_period_before_now_or_from_to() {
        assert_eq!(window(&q(&[]), NOW), Ok((NOW - 7 * 86_400, NOW)));
        assert_eq!(
            window(&q(&[("period", "24h")]), NOW),
            Ok((NOW - 86_400, NOW))
        );
        assert_eq!(
            window(&q(&[("period", "31d")]), NOW),
            Ok((NOW - 31 * 86_400, NOW))
        );
        assert_eq!(
            window(&q(&[("period", "3600s")]), NOW),
            Ok((NOW - 3600, NOW))
        );
        assert_eq!(
            window(
                &q(&[("from", "1772409600"), ("to", "2026-03-02T12:00:00Z")]),
                NOW
            ),
            Ok((1_772_409_600, 1_772_409_600 + 12 * 3600))
        );
        // never past now; empty form fields are absent
        assert_eq!(
            window(
                &q(&[("from", "1772409600"), ("to", "1900000000"), ("period", "")]),
                NOW
            ),
            Ok((1_772_409_600, NOW))
        );
        assert_eq!(
            window(&q(&[("period", "7d"), ("from", "1772409600")]), NOW),
            Err("give either 'period' or 'from', not both".into())
        );
        assert_eq!(
            window(&q(&[("period", "soon")]), NOW),
            Err("period: 'soon' is not a duration (24h, 7d, 31d, 3600s)".into())
        );
        assert!(window(&q(&[("from", "1900000000")]), NOW)
            .unwrap_err()
            .starts_with("the report window is empty"));
        assert!(window(&q(&[("period", "3000d")]), NOW)
            .unwrap_err()
            .starts_with("the report window is longer than"));
    }

    #[test]
    fn flags_are_yes_or_no() {
        assert_eq!(flag("include_soft", &None, false), Ok(false));
        assert_eq!(flag("include_soft", &Some("on".into()), false), Ok(true));
        assert_eq!(flag("include_soft", &Some("0".into()), true), Ok(false));
        assert_eq!(
            flag("include_soft", &Some("maybe".into()), false),
            Err("include_soft: 'maybe' is not 1 or 0".into())
        );
    }

    fn core() -> Core {
        let mut text = String::from(
            "[[hostgroup]]\nname = \"web\"\npattern = \"^www\"\n\n\
             [[servicegroup]]\nname = \"disks\"\npattern = \"/disk$\"\n\n",
        );
        text.push_str(&crate::config::groups::fixture::hosts_and_services(|_| {
            "command = \"/bin/true\"\n".to_string()
        }));
        crate::daemon::tests::utc_core(text).0
    }

    fn names(v: &[(String, Option<String>)]) -> Vec<String> {
        v.iter()
            .map(|(h, s)| match s {
                Some(s) => format!("{h}/{s}"),
                None => h.clone(),
            })
            .collect()
    }

    #[test]
    fn the_objects_of_a_query() {
        let c = core();
        let all = objects(&c, &q(&[])).unwrap();
        assert_eq!(
            names(&all),
            [
                "www1",
                "www1/http",
                "www1/disk",
                "www2",
                "www2/http",
                "www2/disk",
                "db1",
                "db1/http",
                "db1/disk"
            ]
        );
        let of = |pairs: &[(&str, &str)]| objects(&c, &q(pairs)).map(|v| names(&v));
        assert_eq!(
            of(&[("host", "db1")]),
            Ok(vec!["db1".into(), "db1/http".into(), "db1/disk".into()])
        );
        assert_eq!(
            of(&[("host", "db1"), ("service", "disk")]),
            Ok(vec!["db1/disk".into()])
        );
        assert_eq!(
            of(&[("service", "http")]),
            Ok(vec![
                "www1/http".into(),
                "www2/http".into(),
                "db1/http".into()
            ])
        );
        assert_eq!(
            of(&[("hostgroup", "web")]),
            Ok([
                "www1",
                "www1/http",
                "www1/disk",
                "www2",
                "www2/http",
                "www2/disk"
            ]
            .map(String::from)
            .to_vec())
        );
        let disks = of(&[("servicegroup", "disks")]).unwrap();
        assert!(
            disks.iter().all(|n| n.ends_with("/disk")) && disks.len() == 3,
            "{disks:?}"
        );
        assert_eq!(
            of(&[("host", "nope")]),
            Err((StatusCode::NOT_FOUND, "no host 'nope'".into()))
        );
        assert_eq!(
            of(&[("host", "db1"), ("service", "nope")]),
            Err((
                StatusCode::NOT_FOUND,
                "no service 'nope' on host 'db1'".into()
            ))
        );
        assert_eq!(
            of(&[("hostgroup", "nope")]).unwrap_err().0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            of(&[("hostgroup", "web"), ("servicegroup", "disks")])
                .unwrap_err()
                .0,
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn the_page_has_a_cell_per_state_with_its_percent() {
        const H: Time = 3600;
        let from = 1_772_409_600;
        let state = |at: Time, service: Option<&str>, st: &str, out: &str| Event {
            state: Some(st.into()),
            hard: Some(true),
            output: Some(out.into()),
            ..Event::new(Kind::State, at, Some("web"), service)
        };
        let events = vec![
            state(from - H, None, "UP", "PING OK"),
            state(from - H, Some("disk"), "OK", "DISK OK"),
            state(from + 6 * H, Some("disk"), "CRITICAL", "DISK <b>99%</b>"),
            Event {
                downtime_id: Some(1),
                ..Event::new(Kind::DowntimeStart, from + 8 * H, Some("web"), Some("disk"))
            },
            Event {
                downtime_id: Some(1),
                ..Event::new(Kind::DowntimeEnd, from + 10 * H, Some("web"), Some("disk"))
            },
            state(from + 12 * H, Some("disk"), "OK", "DISK OK"),
        ];
        let objects = vec![
            ("web".to_string(), None),
            ("web".into(), Some("disk".into())),
        ];
        let r = compute(
            &Options::new(from, from + 24 * H),
            &objects,
            &events,
            &[(from, from + 24 * H)],
        );
        let query = q(&[
            ("host", "web"),
            ("from", "1772409600"),
            ("to", "1772496000"),
        ]);
        let page = render_report(&query, &r);
        assert!(page.contains(
            "<tr data-object=\"web/disk\"><th scope=\"row\">web/disk</th>\
             <td data-state=\"OK\" class=\"OK\" title=\"18h · 75.000% of known time\">75.000%</td>\
             <td data-state=\"WARNING\" class=\"WARNING\" title=\"0s · 0.000% of known time\">0.000%</td>\
             <td data-state=\"UNKNOWN\" class=\"UNKNOWN\" title=\"0s · 0.000% of known time\">0.000%</td>\
             <td data-state=\"CRITICAL\" class=\"CRITICAL\" title=\"6h · 25.000% of known time\">25.000%</td>\
             <td data-state=\"SCHEDULED\" title=\"2h\">8.333%</td>\
             <td data-state=\"UNDETERMINED\" title=\"not running 0s · no data 0s\">0.000%</td></tr>"
        ), "{page}");
        assert!(page.contains(
            "<tr data-object=\"web\"><th scope=\"row\">web</th>\
             <td data-state=\"UP\" class=\"UP\" title=\"1d · 100.000% of known time\">100.000%</td>"
        ), "{page}");
        // the outage, its output escaped
        assert!(
            page.contains(
                "<tr data-object=\"web/disk\" data-state=\"CRITICAL\"><td>web/disk</td>\
             <td class=\"CRITICAL\">CRITICAL</td><td>2026-03-02T06:00:00Z</td>\
             <td>2026-03-02T12:00:00Z</td><td>6h</td><td>DISK &lt;b&gt;99%&lt;/b&gt;</td></tr>"
            ),
            "{page}"
        );
        assert!(page.contains(
            "<a href=\"/availability?from=1772409600&amp;to=1772496000&amp;host=web&amp;format=csv\" id=\"csv\">CSV</a>"
        ), "{page}");
    }

    #[test]
    fn the_form_keeps_the_query() {
        let form = render_form(
            &q(&[("period", "24h"), ("host", "a\"b"), ("include_soft", "1")]),
            &["24x7".into(), "workhours".into()],
        );
        assert!(
            form.contains("<option value=\"24h\" selected>Last 24 hours</option>"),
            "{form}"
        );
        assert!(
            form.contains("<input name=\"host\" value=\"a&quot;b\">"),
            "{form}"
        );
        assert!(
            form.contains("name=\"include_soft\" value=\"1\" checked>"),
            "{form}"
        );
        assert!(
            form.contains("name=\"downtime_counts\" value=\"0\">"),
            "{form}"
        );
        assert!(
            form.contains("<option value=\"workhours\">workhours</option>"),
            "{form}"
        );
    }
}

#[cfg(test)]
mod router_tests {
    use super::*;
    use crate::auth::{Peer, Tokens};
    use crate::history::store::{History, HistorySettings};
    use crate::http::Access;
    use axum::http::Method;
    use std::sync::{Arc, Mutex, RwLock};

    const CONFIG: &str = "[[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n\n\
        [[service]]\nhost = \"h\"\nname = \"s\"\ncheck = \"check_load\"\n";
    const TOKEN: &str = "a-token-of-alice";

    /// The API of a core of h and h/s with an empty history in `dir`, alice's token
    /// in its credentials, and reads over TCP needing a sign-in.
    fn api(dir: &std::path::Path) -> Api {
        let (mut core, daemon) = crate::http::testing::core(CONFIG);
        let settings = HistorySettings {
            path: dir.join("history.db"),
            ..HistorySettings::default()
        };
        core.history = Some(History::open(&settings, unix_now()).unwrap());
        let mut access = Access::from_config(&daemon);
        let hash = ring::digest::digest(&ring::digest::SHA256, TOKEN.as_bytes());
        let hex: String = hash.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        access.tokens = Ok(Tokens::parse(&format!("alice:{hex}\n"), "test").unwrap());
        access.require_auth_for_reads = true;
        let (reload, _) = tokio::sync::mpsc::channel(1);
        Api {
            core: Arc::new(Mutex::new(core)),
            access: Arc::new(RwLock::new(access)),
            reload,
        }
    }

    async fn send(
        api: &Api,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let app = crate::web::app(api.clone());
        let peer = Peer::Remote(([192, 0, 2, 9], 4000).into());
        crate::http::testing::send(app, peer, method, uri, headers, body).await
    }

    /// Signs alice in; her session cookie ("hcoop_session=ID").
    async fn sign_in(api: &Api) -> String {
        let form = ("content-type", "application/x-www-form-urlencoded");
        let body = format!("token={TOKEN}");
        let (status, headers, _) = send(api, Method::POST, "/login", &[form], &body).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let cookie = headers[header::SET_COOKIE].to_str().unwrap();
        cookie.split(';').next().unwrap().to_string()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_time_cut_inside_a_character_is_refused_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let api = api(dir.path());
        let cookie = sign_in(&api).await;
        // "é" (2 bytes) ends 6 bytes before the end: the offset split falls inside it
        assert!(parse_time("2026-01-01T\u{e9}12345").is_err());
        assert!(parse_time("2026-01-01T00:00:0\u{e9}:00").is_err());
        for uri in [
            "/availability?from=2026-01-01T%C3%A912345",
            "/availability?to=2026-01-01T00:00%C3%A9%C3%A9%C3%A9",
        ] {
            let (status, _, page) = send(&api, Method::GET, uri, &[("cookie", &cookie)], "").await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {page}");
            assert!(
                page.contains("neither Unix seconds nor an RFC 3339 time"),
                "{page}"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn the_csv_and_json_links_work_for_a_signed_in_user() {
        let dir = tempfile::tempdir().unwrap();
        let api = api(dir.path());
        // signed out, reads needing a sign-in: the page and its data send to /login
        let (status, headers, _) =
            send(&api, Method::GET, "/availability?format=csv", &[], "").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(headers[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/login?next="));
        let cookie = sign_in(&api).await;
        let with = [("cookie", cookie.as_str())];
        let (status, _, page) =
            send(&api, Method::GET, "/availability?period=24h", &with, "").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            page.contains("<a href=\"/availability?period=24h&amp;format=csv\" id=\"csv\">CSV</a>"),
            "{page}"
        );
        assert!(
            page.contains(
                "<a href=\"/availability?period=24h&amp;format=json\" id=\"json\">JSON</a>"
            ),
            "{page}"
        );
        // the links answer the session (the API's route takes only tokens)
        let uri = "/availability?period=24h&format=csv";
        let (status, headers, csv) = send(&api, Method::GET, uri, &with, "").await;
        assert_eq!(status, StatusCode::OK, "{csv}");
        assert_eq!(headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
        assert!(csv.starts_with("host,service,"), "{csv}");
        let uri = "/availability?period=24h&format=json";
        let (status, headers, json) = send(&api, Method::GET, uri, &with, "").await;
        assert_eq!(status, StatusCode::OK, "{json}");
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert!(json["rows"].is_array(), "{json}");
        let (status, _, _) =
            send(&api, Method::GET, "/api/availability?period=24h", &with, "").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        // a bad format is the page's 400
        let uri = "/availability?format=pdf";
        let (status, _, page) = send(&api, Method::GET, uri, &with, "").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            page.contains("format: &#39;pdf&#39; is not html, json or csv"),
            "{page}"
        );
    }
}
