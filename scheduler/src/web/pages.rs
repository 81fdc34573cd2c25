//! See the module documentation of [`crate::web`].
//!
//! The pages: the overview (`/`), a host (`/host/{host}`), a service
//! (`/service/{host}/{service}`) and the event log (`/events`). Each handler takes what
//! it needs from the core under its lock (views, which are copies), lets the lock go,
//! reads the history store off the async threads (`spawn_blocking`), then renders with
//! the pure functions here ([`render_overview`], [`render_object`], [`render_events`]),
//! which take data and give HTML. Names in paths are looked up among the core's hosts
//! and services (unknown: a 404 page); nothing here touches the file system.
//!
//! Every text shown goes through [`escape`]; no page has inline scripts or styles, and
//! every answer of the web UI carries [`security_headers`].

use crate::daemon::{Core, Target};
use crate::groups::{percent_encoded, GroupFilter, GroupSummaries};
use crate::history::perf::{MetricInfo, Series};
use crate::history::store::{EventFilter, History};
use crate::history::{Event, Kind, Time};
use crate::http::{Api, View};
use crate::state::{Comment, Downtime};
use crate::web::graph::{duration_text, full_time, render_graph, render_timeline};
use crate::web::session::Viewer;
use crate::web::{escape, forms};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hcoop_plugins::plugin::PerfData;
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt::Write as _;

/// The Content-Security-Policy of every page: nothing from elsewhere, no inline script
/// or style, not framed.
pub const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
                       script-src 'self'; frame-ancestors 'none'";

/// Adds the security headers to an answer of the web UI (the layer over its routes).
pub async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    r
}

/// A whole page: the header (navigation, who is signed in), `body` inside `<main>`, the
/// stylesheet and the script (both served from `/static`, nothing inline, so the page
/// works under `Content-Security-Policy: default-src 'self'`). `title` is plain text
/// (escaped here); `body` is HTML already escaped.
pub fn layout(title: &str, viewer: &Viewer, body: &str) -> String {
    layout_with(title, viewer, body, "")
}

/// [`layout`] with attributes for `<main>` (e.g. ` data-refresh="60"`).
fn layout_with(title: &str, viewer: &Viewer, body: &str, main_attributes: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · hcoop-monitor</title>\
         <link rel=\"stylesheet\" href=\"/static/app.css\">\
         <link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">\
         <script src=\"/static/app.js\" defer></script></head>\n\
         <body><header><nav><a href=\"/\" class=\"home\">hcoop-monitor</a> \
         <a href=\"/events\">Events</a> <a href=\"/availability\">Availability</a></nav>\
         <div class=\"account\">{}</div></header>\n<main{main_attributes}>\n{body}\n</main></body></html>\n",
        escape(title),
        forms::account(viewer)
    )
}

/// An HTML answer with `status`.
pub fn html(status: StatusCode, page: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        page,
    )
        .into_response()
}

/// A page saying what went wrong (an unknown object, a bad parameter), with `status`.
pub fn error_page(status: StatusCode, viewer: &Viewer, title: &str, reason: &str) -> Response {
    let body = format!(
        "<h1>{}</h1><p class=\"error\">{}</p><p><a href=\"/\">Overview</a></p>",
        escape(title),
        escape(reason)
    );
    html(status, layout(title, viewer, &body))
}

/// A page's query parameters, or the page titled `title` saying the query string is
/// bad (400; boxed, a response being large beside most parameters).
pub fn query_or_error_page<T>(
    query: Result<Query<T>, QueryRejection>,
    viewer: &Viewer,
    title: &str,
) -> Result<T, Box<Response>> {
    query.map(|Query(q)| q).map_err(|_| {
        Box::new(error_page(
            StatusCode::BAD_REQUEST,
            viewer,
            title,
            "bad query string",
        ))
    })
}

/// The routes of this part of the web UI.
pub fn routes() -> Router<Api> {
    Router::new()
        .route("/", get(overview))
        .route("/host/{host}", get(host_page))
        .route("/service/{host}/{service}", get(service_page))
        .route("/events", get(events_page))
}

// ---- small pieces

/// `text` percent-encoded as one path segment (a `/` in a name included).
pub fn path_segment(text: &str) -> String {
    percent_encoded(text).replace('/', "%2F")
}

/// The page of a host.
pub fn host_href(host: &str) -> String {
    format!("/host/{}", path_segment(host))
}

/// The page of a service.
pub fn service_href(host: &str, service: &str) -> String {
    format!("/service/{}/{}", path_segment(host), path_segment(service))
}

/// The page of a view's object.
fn object_href(host: &str, service: Option<&str>) -> String {
    match service {
        Some(s) => service_href(host, s),
        None => host_href(host),
    }
}

/// A moment as `<time>` (UTC) with how long ago it was.
fn when(at: Time, now: Time) -> String {
    if at == 0 {
        return "never".into();
    }
    let ago = if at <= now {
        format!(" ({} ago)", duration_text(now - at))
    } else {
        format!(" (in {})", duration_text(at - now))
    };
    format!(
        "<time datetime=\"{}\">{}</time>{ago}",
        iso_time(at),
        full_time(at)
    )
}

fn iso_time(at: Time) -> String {
    full_time(at).replacen(' ', "T", 1) + "Z"
}

/// A plugin's output as Nagios' CGIs show it, without its perfdata: the first line up
/// to its `|`, and the long output (the following lines up to the first `|` in them;
/// what follows is perfdata too).
pub fn split_output(output: &str) -> (String, String) {
    let (first, rest) = output.split_once('\n').unwrap_or((output, ""));
    let first = first.split('|').next().unwrap_or("").trim_end().to_string();
    let mut long = String::new();
    for line in rest.lines() {
        let (text, perfdata) = match line.split_once('|') {
            Some((text, _)) => (text, true),
            None => (line, false),
        };
        if !(perfdata && text.trim().is_empty()) {
            if !long.is_empty() {
                long.push('\n');
            }
            long.push_str(text);
        }
        if perfdata {
            break;
        }
    }
    (first, long.trim_end().to_string())
}

/// An event's output (a first line) without its perfdata.
fn summary(output: &str) -> &str {
    output.split('|').next().unwrap_or("").trim_end()
}

/// Whether a problem is handled: acknowledged, in downtime, or a service of a host that
/// is itself down or unreachable (the host's problem is the one to see to).
fn handled(v: &View, host_down: &HashMap<&str, bool>) -> bool {
    v.acknowledged
        || v.in_downtime
        || (v.service.is_some() && host_down.get(v.host.as_str()).copied().unwrap_or(false))
}

/// How bad a state is, worst first.
fn severity(state: &str) -> u8 {
    match state {
        "DOWN" => 0,
        "UNREACHABLE" => 1,
        "CRITICAL" => 2,
        "UNKNOWN" => 3,
        "WARNING" => 4,
        "PENDING" => 5,
        _ => 6,
    }
}

/// The states counted on the overview, in the order shown.
pub const STATES: [&str; 8] = [
    "DOWN",
    "UNREACHABLE",
    "CRITICAL",
    "UNKNOWN",
    "WARNING",
    "PENDING",
    "UP",
    "OK",
];

// ---- the overview

/// The overview's parameters (GET form fields).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct OverviewQuery {
    /// Text contained in the name or the output (case insensitive).
    pub q: Option<String>,
    /// A state (`CRITICAL`, ...), `problems` or `unhandled`.
    pub state: Option<String>,
    pub hostgroup: Option<String>,
    pub servicegroup: Option<String>,
    /// `problems` (default), `name`, `state`, `last_check`, `duration`.
    pub sort: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl OverviewQuery {
    /// The group filter it asks for (empty fields are no filter).
    pub fn groups(&self) -> GroupFilter {
        GroupFilter {
            hostgroup: given(&self.hostgroup).map(str::to_string),
            servicegroup: given(&self.servicegroup).map(str::to_string),
        }
    }

    /// The query string with `sort` replaced.
    fn with_sort(&self, sort: &str) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("q", &self.q),
            ("state", &self.state),
            ("hostgroup", &self.hostgroup),
            ("servicegroup", &self.servicegroup),
        ] {
            if let Some(v) = given(v) {
                parts.push(format!("{k}={}", percent_encoded(v)));
            }
        }
        parts.push(format!("sort={sort}"));
        format!("?{}", parts.join("&"))
    }
}

/// The sort orders offered, with their names.
const SORTS: [(&str, &str); 5] = [
    ("problems", "problems first"),
    ("name", "name"),
    ("state", "state"),
    ("last_check", "last check"),
    ("duration", "time in state"),
];

/// One row of the overview.
struct Row<'a> {
    view: &'a View,
    handled: bool,
}

/// Whether a row passes the text and state filters.
fn shown(row: &Row, text: Option<&str>, state: Option<&str>) -> bool {
    let v = row.view;
    let state_ok = match state {
        None => true,
        Some("problems") => v.is_problem(),
        Some("unhandled") => v.is_problem() && !row.handled,
        Some("handled") => v.is_problem() && row.handled,
        Some(s) => v.state.eq_ignore_ascii_case(s),
    };
    state_ok
        && text.is_none_or(|t| {
            let t = t.to_lowercase();
            v.host.to_lowercase().contains(&t)
                || v.service
                    .as_deref()
                    .is_some_and(|s| s.to_lowercase().contains(&t))
                || v.output.to_lowercase().contains(&t)
        })
}

/// Whether each host is down or unreachable, by name.
fn down_hosts(hosts: &[View]) -> HashMap<&str, bool> {
    hosts
        .iter()
        .map(|h| {
            let down = matches!(h.state.as_str(), "DOWN" | "UNREACHABLE");
            (h.host.as_str(), down)
        })
        .collect()
}

/// The rows of `hosts` and `services` the query keeps, in its order: by default
/// unhandled problems, then handled ones (acknowledged, in downtime, on a host that
/// is down), then the rest; worst state first within each, then by name.
pub fn overview_rows<'a>(
    hosts: &'a [View],
    services: &'a [View],
    query: &OverviewQuery,
) -> Vec<(&'a View, bool)> {
    let host_down = down_hosts(hosts);
    let text = given(&query.q);
    let state = given(&query.state);
    let mut rows: Vec<Row> = hosts
        .iter()
        .chain(services)
        .map(|v| Row {
            view: v,
            handled: v.is_problem() && handled(v, &host_down),
        })
        .filter(|r| shown(r, text, state))
        .collect();
    let name = |v: &View| (v.host.clone(), v.service.clone());
    match given(&query.sort).unwrap_or("problems") {
        "name" => rows.sort_by_cached_key(|r| name(r.view)),
        "state" => rows.sort_by_cached_key(|r| (severity(&r.view.state), name(r.view))),
        "last_check" => {
            rows.sort_by_cached_key(|r| (std::cmp::Reverse(r.view.last_check), name(r.view)))
        }
        "duration" => rows.sort_by_cached_key(|r| (r.view.last_state_change, name(r.view))),
        _ => rows.sort_by_cached_key(|r| {
            let group = match (r.view.is_problem(), r.handled) {
                (true, false) => 0,
                (true, true) => 1,
                (false, _) => 2,
            };
            (group, severity(&r.view.state), name(r.view))
        }),
    }
    rows.into_iter().map(|r| (r.view, r.handled)).collect()
}

/// The notes of a view: acknowledged, in downtime, flapping, switched off.
fn notes(v: &View) -> String {
    let mut out = String::new();
    let mut note = |text: &str, title: String| {
        let _ = write!(
            out,
            "<span class=\"badge\" title=\"{}\">{text}</span>",
            escape(&title)
        );
    };
    if let Some(a) = &v.ack {
        note(
            "ack",
            format!("acknowledged by {}: {}", a.author, a.comment),
        );
    } else if v.acknowledged {
        note("ack", "acknowledged".into());
    }
    if v.in_downtime {
        note("downtime", "in scheduled downtime".into());
    }
    if v.flapping {
        note(
            "flapping",
            format!("{:.1}% state change", v.percent_state_change),
        );
    }
    if !v.active_checks_enabled {
        note("checks off", "active checks disabled".into());
    }
    if !v.notifications_enabled {
        note("notifications off", "notifications disabled".into());
    }
    if let Some(h) = &v.held {
        note("held", h.clone());
    }
    out
}

/// One `<tr>` of an object table.
fn object_row(html: &mut String, v: &View, handled: bool, now: Time) {
    let state = escape(&v.state);
    let name = escape(&v.name());
    let host = format!(
        "<a href=\"{}\">{}</a>",
        escape(&host_href(&v.host)),
        escape(&v.host)
    );
    let service = match &v.service {
        Some(s) => format!(
            "<a href=\"{}\">{}</a>",
            escape(&service_href(&v.host, s)),
            escape(s)
        ),
        None => String::new(),
    };
    let attempt = if v.checked {
        format!(
            "{} {}/{}",
            escape(&v.state_type),
            v.attempt,
            v.max_check_attempts
        )
    } else {
        String::new()
    };
    let last = if v.checked {
        when(v.last_check, now)
    } else {
        "never".into()
    };
    let since = if v.checked && v.last_state_change > 0 {
        duration_text(now.saturating_sub(v.last_state_change))
    } else {
        String::new()
    };
    let _ = writeln!(
        html,
        "<tr class=\"{state}\" data-object=\"{name}\" data-state=\"{state}\" data-handled=\"{}\">\
         <td>{host}</td><td>{service}</td><td class=\"state\">{state}</td><td>{attempt}</td>\
         <td>{last}</td><td>{since}</td><td>{}</td><td class=\"output\">{}</td></tr>",
        u8::from(handled),
        notes(v),
        escape(&split_output(&v.output).0)
    );
}

/// The `<select>` of a field with its options (value, text); `current` selected.
fn select(name: &str, label: &str, options: &[(String, String)], current: Option<&str>) -> String {
    let mut html = format!("<label>{label} <select name=\"{name}\">");
    for (value, text) in options {
        let selected = if current == Some(value.as_str()) {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            html,
            "<option value=\"{}\"{selected}>{}</option>",
            escape(value),
            escape(text)
        );
    }
    html.push_str("</select></label>");
    html
}

/// The group section: the group shown (if any) and a link to every group with its
/// counts.
fn group_links(groups: &GroupSummaries, filter: &GroupFilter) -> String {
    let mut html = String::new();
    for (kind, name, list) in [
        ("host group", &filter.hostgroup, &groups.hostgroups),
        ("service group", &filter.servicegroup, &groups.servicegroups),
    ] {
        if let Some(g) = name
            .as_ref()
            .and_then(|n| list.iter().find(|g| &g.name == n))
        {
            let alias = if g.alias.is_empty() {
                String::new()
            } else {
                format!(" ({})", escape(&g.alias))
            };
            let _ = write!(
                html,
                "<p class=\"shown\">Showing {kind} <strong>{}</strong>{alias}: <a href=\"/\">show all</a></p>",
                escape(&g.name)
            );
        }
    }
    for (title, key, members, list) in [
        ("Host groups", "hostgroup", "hosts", &groups.hostgroups),
        (
            "Service groups",
            "servicegroup",
            "services",
            &groups.servicegroups,
        ),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = write!(html, "<p class=\"{key}s\">{title}:");
        for g in list {
            let _ = write!(
                html,
                " <a href=\"/?{key}={}\">{}</a> ({} {members}, {} problems)",
                escape(&percent_encoded(&g.name)),
                escape(&g.name),
                g.members,
                g.problems
            );
        }
        html.push_str("</p>");
    }
    html
}

/// The overview of `hosts` and `services` (what the group filter of `query` shows):
/// counts by state, the filter form, the group links, the objects' table.
pub fn render_overview(
    hosts: &[View],
    services: &[View],
    groups: &GroupSummaries,
    query: &OverviewQuery,
    now: Time,
) -> String {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for v in hosts.iter().chain(services) {
        *counts.entry(v.state.as_str()).or_default() += 1;
    }
    let rows = overview_rows(hosts, services, query);
    let problems = hosts
        .iter()
        .chain(services)
        .filter(|v| v.is_problem())
        .count();
    let host_down = down_hosts(hosts);
    let unhandled = hosts
        .iter()
        .chain(services)
        .filter(|v| v.is_problem() && !handled(v, &host_down))
        .count();
    let mut html = String::with_capacity(1024 + rows.len() * 600);
    let _ = write!(
        html,
        "<h1>Overview</h1>\n<p class=\"summary\">{problems} problems ({unhandled} unhandled), \
         {} hosts, {} services</p>\n<div id=\"counts\">",
        hosts.len(),
        services.len()
    );
    for state in STATES {
        let n = counts.get(state).copied().unwrap_or(0);
        let _ = write!(
            html,
            "<a href=\"/?state={state}\"><span class=\"count {state}\" data-state=\"{state}\">{n}</span> {state}</a>"
        );
    }
    html.push_str("</div>\n<form method=\"get\" action=\"/\" class=\"filters\" id=\"filters\">");
    let _ = write!(
        html,
        "<label>Search <input type=\"search\" name=\"q\" value=\"{}\" placeholder=\"name or output\"></label>",
        escape(given(&query.q).unwrap_or(""))
    );
    let mut states = vec![
        (String::new(), "any".to_string()),
        ("problems".into(), "problems".into()),
        ("unhandled".into(), "unhandled problems".into()),
        ("handled".into(), "handled problems".into()),
    ];
    states.extend(STATES.iter().map(|s| (s.to_string(), s.to_string())));
    html.push_str(&select("state", "State", &states, given(&query.state)));
    for (name, label, list) in [
        ("hostgroup", "Host group", &groups.hostgroups),
        ("servicegroup", "Service group", &groups.servicegroups),
    ] {
        let mut options = vec![(String::new(), "all".to_string())];
        options.extend(list.iter().map(|g| (g.name.clone(), g.name.clone())));
        let current = match name {
            "hostgroup" => given(&query.hostgroup),
            _ => given(&query.servicegroup),
        };
        html.push_str(&select(name, label, &options, current));
    }
    let sorts: Vec<(String, String)> = SORTS
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    html.push_str(&select("sort", "Sort by", &sorts, given(&query.sort)));
    html.push_str("<button type=\"submit\">Show</button></form>\n");
    html.push_str(&group_links(groups, &query.groups()));
    let th = |sort: &str, text: &str| {
        format!(
            "<th><a href=\"/{}\">{text}</a></th>",
            escape(&query.with_sort(sort))
        )
    };
    let _ = write!(
        html,
        "\n<table id=\"objects\"><thead><tr>{}<th>Service</th>{}<th>Attempt</th>{}{}\
         <th>Notes</th><th>Output</th></tr></thead>\n<tbody>\n",
        th("name", "Host"),
        th("state", "State"),
        th("last_check", "Last check"),
        th("duration", "Duration"),
    );
    for (v, handled) in &rows {
        object_row(&mut html, v, *handled, now);
    }
    html.push_str("</tbody></table>\n");
    if rows.is_empty() {
        html.push_str("<p class=\"note\">Nothing matches.</p>\n");
    }
    html
}

async fn overview(
    AxState(api): AxState<Api>,
    viewer: Viewer,
    query: Result<Query<OverviewQuery>, QueryRejection>,
) -> Response {
    let query = match query_or_error_page(query, &viewer, "Overview") {
        Ok(q) => q,
        Err(page) => return *page,
    };
    let filter = query.groups();
    let data = {
        let core = lock(&api);
        crate::http::views_in(&core, &filter).map(|(h, s)| (h, s, core.group_summaries()))
    };
    match data {
        Ok((hosts, services, groups)) => {
            let body = render_overview(&hosts, &services, &groups, &query, unix_now());
            let title = format!(
                "{} problems",
                hosts
                    .iter()
                    .chain(&services)
                    .filter(|v| v.is_problem())
                    .count()
            );
            html(
                StatusCode::OK,
                layout_with(&title, &viewer, &body, " data-refresh=\"60\""),
            )
        }
        Err(e) => {
            let status = if e.starts_with("no ") {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::BAD_REQUEST
            };
            error_page(status, &viewer, "Overview", &e)
        }
    }
}

fn lock(api: &Api) -> std::sync::MutexGuard<'_, Core> {
    api.core.lock().expect("core lock")
}

fn unix_now() -> Time {
    crate::clock::unix_now()
}

// ---- host and service pages

/// The graph ranges offered, with their length in seconds.
pub const RANGES: [(&str, u64); 5] = [
    ("4h", 4 * 3600),
    ("25h", 25 * 3600),
    ("1w", 7 * 86_400),
    ("1m", 31 * 86_400),
    ("1y", 365 * 86_400),
];

/// The object pages' parameters.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ObjectQuery {
    /// One of [`RANGES`] (default 4h).
    pub range: Option<String>,
    /// What an action just did (its redirect's code: [`forms::flash`]).
    pub done: Option<String>,
    /// The downtime ids the action made or cancelled (numbers, comma-separated).
    pub id: Option<String>,
}

/// The range asked for (its name and length); an unknown one is an error.
pub fn range_of(name: Option<&str>) -> Result<(&'static str, u64), String> {
    let name = name
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("4h");
    RANGES
        .iter()
        .find(|(n, _)| *n == name)
        .copied()
        .ok_or_else(|| format!("unknown range '{name}': give 4h, 25h, 1w, 1m or 1y"))
}

/// What a host or service page shows of the current state (taken under the core lock).
#[derive(Debug, Clone)]
pub struct ObjectState {
    pub view: View,
    /// Its current perfdata.
    pub perfdata: Vec<PerfData>,
    /// When the next check is due, if it is scheduled: the last check plus the
    /// interval that applies (the retry interval during soft problems).
    pub next_check: Option<Time>,
    /// A host page's services.
    pub services: Vec<View>,
}

/// What a page shows of the history.
#[derive(Debug, Clone)]
pub enum HistoryPart {
    /// `[history] enabled = false`.
    Disabled,
    /// The store could not be read (the reason).
    Failed(String),
    Data(HistoryData),
}

/// What was read from the history store for a page.
#[derive(Debug, Clone, Default)]
pub struct HistoryData {
    /// The object's events, newest first.
    pub events: Vec<Event>,
    /// Its State events over the range, oldest first, with the last one before it.
    pub states: Vec<Event>,
    /// Its metrics, each with its series over the range (`Err`: why there is none).
    pub graphs: Vec<(MetricInfo, Result<Series, String>)>,
}

/// How many events an object page shows.
const PAGE_EVENTS: usize = 100;
/// How many state events the timeline takes over a range at most.
const TIMELINE_EVENTS: usize = 20_000;

/// Reads a page's history of `host` (and `service`) over [`from`, `to`]. Blocking.
pub fn read_history(
    history: &History,
    host: &str,
    service: Option<&str>,
    from: Time,
    to: Time,
) -> HistoryPart {
    let own = |e: &Event| service.is_some() || e.service.is_none();
    let r = history.read(|conn| {
        let object = |kinds: Vec<Kind>, since, until, limit| EventFilter {
            host: Some(host.to_string()),
            service: service.map(str::to_string),
            kinds,
            since,
            until,
            text: None,
            limit,
        };
        let events = crate::history::store::events(conn, &object(vec![], None, None, PAGE_EVENTS))?;
        let mut states: Vec<Event> = crate::history::store::events(
            conn,
            &object(vec![Kind::State], Some(from), Some(to), TIMELINE_EVENTS),
        )?
        .into_iter()
        .filter(own)
        .collect();
        // the state the range starts in: the last change before it
        let mut before = 1;
        loop {
            let earlier = crate::history::store::events(
                conn,
                &object(
                    vec![Kind::State],
                    None,
                    Some(from.saturating_sub(1)),
                    before,
                ),
            )?;
            let found = earlier.iter().find(|e| own(e)).cloned();
            if let Some(e) = found {
                states.push(e);
                break;
            }
            if earlier.len() < before || before >= 4096 {
                break;
            }
            before *= 8;
        }
        states.reverse();
        let mut graphs = Vec::new();
        for m in crate::history::perf::metrics(conn, host, service)? {
            let series =
                crate::history::perf::series(conn, m.id, from, to).map_err(|e| e.to_string());
            graphs.push((m, series));
        }
        Ok(HistoryData {
            events,
            states,
            graphs,
        })
    });
    match r {
        Ok(d) => HistoryPart::Data(d),
        Err(e) => HistoryPart::Failed(e),
    }
}

/// The current perfdata as a table.
fn perfdata_table(items: &[PerfData]) -> String {
    if items.is_empty() {
        return "<p class=\"note\">No performance data.</p>".into();
    }
    let mut html = String::from(
        "<table id=\"perfdata\"><thead><tr><th>Label</th><th>Value</th><th>Warning</th>\
         <th>Critical</th><th>Min</th><th>Max</th></tr></thead><tbody>",
    );
    let opt = |v: Option<String>| escape(&v.unwrap_or_default());
    for p in items {
        let _ = write!(
            html,
            "<tr data-label=\"{}\"><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&p.label),
            escape(&p.label),
            escape(&p.value.to_string()),
            escape(p.uom.as_str()),
            opt(p.warn.as_ref().map(ToString::to_string)),
            opt(p.crit.as_ref().map(ToString::to_string)),
            opt(p.min.map(|v| v.to_string())),
            opt(p.max.map(|v| v.to_string())),
        );
    }
    html.push_str("</tbody></table>");
    html
}

fn downtimes_table(downtimes: &[Downtime], now: Time) -> String {
    if downtimes.is_empty() {
        return "<p class=\"note\">No downtime scheduled.</p>".into();
    }
    let mut html = String::from(
        "<table id=\"downtimes\"><thead><tr><th>Id</th><th>Start</th><th>End</th><th>By</th>\
         <th>Comment</th><th></th></tr></thead><tbody>",
    );
    for d in downtimes {
        let active = if d.start <= now && now < d.end {
            "in effect"
        } else if now < d.start {
            "scheduled"
        } else {
            "over"
        };
        let _ = write!(
            html,
            "<tr data-downtime=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{active}</td></tr>",
            d.id,
            d.id,
            when(d.start, now),
            when(d.end, now),
            escape(&d.author),
            escape(&d.comment)
        );
    }
    html.push_str("</tbody></table>");
    html
}

fn comments_list(comments: &[Comment], now: Time) -> String {
    if comments.is_empty() {
        return String::new();
    }
    let mut html = String::from("<h2>Comments</h2><table id=\"comments\"><tbody>");
    for c in comments {
        let _ = write!(
            html,
            "<tr data-comment=\"{}\"><td>{}</td><td>{}</td><td>{}</td></tr>",
            c.id,
            when(c.time, now),
            escape(&c.author),
            escape(&c.text)
        );
    }
    html.push_str("</tbody></table>");
    html
}

/// The details of an event (besides time, kind, object and state).
fn event_details(e: &Event) -> String {
    let t = |v: &Option<String>| escape(v.as_deref().unwrap_or(""));
    let some = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(escape);
    // the facts that are there, then ": " and the text
    let line = |facts: Vec<Option<String>>, text: Option<String>| {
        let facts: Vec<String> = facts.into_iter().flatten().collect();
        match (facts.is_empty(), text) {
            (_, None) => facts.join(" "),
            (true, Some(text)) => text,
            (false, Some(text)) => format!("{}: {text}", facts.join(" ")),
        }
    };
    let by = some(&e.author).map(|a| format!("by {a}"));
    let downtime = e.downtime_id.map(|id| format!("downtime {id}"));
    let until = e.until.map(|u| format!("until {}", full_time(u)));
    let output = e
        .output
        .as_deref()
        .map(summary)
        .filter(|o| !o.is_empty())
        .map(escape);
    match e.kind {
        Kind::State => line(
            vec![
                e.hard
                    .map(|h| (if h { "HARD" } else { "SOFT" }).to_string()),
                e.attempt.map(|a| format!("attempt {a}")),
            ],
            output.clone(),
        ),
        Kind::Notification => format!(
            "{} to {} by {}: {} — {}",
            t(&e.notification_type),
            t(&e.author),
            t(&e.method),
            t(&e.result),
            output.unwrap_or_default()
        ),
        Kind::Ack => line(
            vec![
                by,
                (e.sticky == Some(true)).then(|| "(sticky)".to_string()),
                until,
            ],
            some(&e.comment),
        ),
        Kind::DowntimeScheduled => line(vec![downtime, by, until], some(&e.comment)),
        Kind::DowntimeStart | Kind::DowntimeEnd | Kind::DowntimeCancel => {
            line(vec![downtime, by], some(&e.comment))
        }
        _ => line(vec![by], some(&e.comment)),
    }
}

/// The events as `<table id="events">`, one `<tr data-kind="KIND">` each.
pub fn events_table(events: &[Event], now: Time) -> String {
    let mut html = String::with_capacity(256 + events.len() * 300);
    html.push_str(
        "<table id=\"events\"><thead><tr><th>Time</th><th>Kind</th><th>Object</th>\
         <th>State</th><th>Details</th></tr></thead>\n<tbody>\n",
    );
    for e in events {
        let state = e.state.as_deref().map(escape).unwrap_or_default();
        let object = match &e.host {
            Some(h) => format!(
                "<a href=\"{}\">{}</a>",
                escape(&object_href(h, e.service.as_deref())),
                escape(&e.object())
            ),
            None => String::new(),
        };
        let _ = writeln!(
            html,
            "<tr data-kind=\"{}\" class=\"{state}\"><td>{}</td><td>{}</td><td>{object}</td>\
             <td class=\"state\">{state}</td><td class=\"output\">{}</td></tr>",
            e.kind.name(),
            when(e.at, now),
            e.kind.name().replace('_', " "),
            event_details(e)
        );
    }
    html.push_str("</tbody></table>\n");
    if events.is_empty() {
        html.push_str("<p class=\"note\">No events.</p>\n");
    }
    html
}

/// A host page (`state.view.service` None) or a service page: the current state, its
/// details, the actions (signed in), the perfdata and, from the history, a graph per
/// metric and the state timeline over `range`, and the event log.
pub fn render_object(
    viewer: &Viewer,
    state: &ObjectState,
    range: (&str, u64),
    history: &HistoryPart,
    now: Time,
) -> String {
    let v = &state.view;
    let mut html = String::with_capacity(16 * 1024);
    let (first, long) = split_output(&v.output);
    let host_link = format!(
        "<a href=\"{}\">{}</a>",
        escape(&host_href(&v.host)),
        escape(&v.host)
    );
    match &v.service {
        Some(s) => {
            let _ = write!(
                html,
                "<h1>{} <span class=\"on\">on</span> {host_link}</h1>",
                escape(s)
            );
        }
        None => {
            let _ = write!(html, "<h1>{}</h1>", escape(&v.host));
        }
    }
    let state_name = escape(&v.state);
    let kind = if v.checked {
        format!(
            " ({}, attempt {}/{})",
            escape(&v.state_type),
            v.attempt,
            v.max_check_attempts
        )
    } else {
        String::new()
    };
    let since = if v.checked && v.last_state_change > 0 {
        format!(
            " for {}",
            duration_text(now.saturating_sub(v.last_state_change))
        )
    } else {
        String::new()
    };
    let _ = write!(
        html,
        "\n<div id=\"state\" class=\"{state_name}\" data-state=\"{state_name}\"><span class=\"state\">{state_name}</span>{kind}{since}{}</div>\n\
         <p class=\"output\">{}</p>\n<pre id=\"long-output\">{}</pre>\n",
        notes(v),
        escape(&first),
        escape(&long)
    );
    // the facts
    html.push_str("<dl class=\"facts\">");
    let mut fact = |name: &str, value: String| {
        let _ = write!(html, "<dt>{name}</dt><dd>{value}</dd>");
    };
    fact(
        "Last check",
        if v.checked {
            when(v.last_check, now)
        } else {
            "never".into()
        },
    );
    fact(
        "Next check",
        match (&v.held, state.next_check) {
            (Some(why), _) => format!("held: {}", escape(why)),
            (None, Some(t)) if t <= now => "due now".into(),
            (None, Some(t)) => when(t, now),
            (None, None) => "not scheduled".into(),
        },
    );
    fact(
        "Last state change",
        if v.last_state_change > 0 {
            when(v.last_state_change, now)
        } else {
            "never".into()
        },
    );
    fact(
        "Check time",
        format!("{:.3} s, {:.3} s late", v.execution_time, v.latency),
    );
    fact(
        "Flapping",
        format!(
            "{} ({:.1}% state change)",
            if v.flapping { "yes" } else { "no" },
            v.percent_state_change
        ),
    );
    fact(
        "Notifications",
        match (&v.notifications_held, v.notifications_enabled) {
            (_, false) => "disabled".into(),
            (Some(why), true) => format!("held: {}", escape(why)),
            (None, true) => format!("enabled ({} sent for this problem)", v.notification_number),
        },
    );
    fact(
        "Active checks",
        (if v.active_checks_enabled {
            "enabled"
        } else {
            "disabled"
        })
        .into(),
    );
    let groups = v.hostgroups.as_ref().or(v.servicegroups.as_ref());
    if let Some(groups) = groups.filter(|g| !g.is_empty()) {
        let links: Vec<String> = groups
            .iter()
            .map(|g| {
                let key = if v.service.is_some() {
                    "servicegroup"
                } else {
                    "hostgroup"
                };
                format!(
                    "<a href=\"/?{key}={}\">{}</a>",
                    escape(&percent_encoded(g)),
                    escape(g)
                )
            })
            .collect();
        fact("Groups", links.join(", "));
    }
    html.push_str("</dl>\n");
    // acknowledgement, downtimes, comments, actions
    html.push_str("<h2>Acknowledgement</h2>");
    match &v.ack {
        Some(a) => {
            let _ = write!(
                html,
                "<p id=\"ack\">Acknowledged by <strong>{}</strong> {}{}: {}</p>",
                escape(&a.author),
                when(a.time, now),
                if a.sticky { " (sticky)" } else { "" },
                escape(&a.comment)
            );
        }
        None if v.is_problem() => html.push_str("<p class=\"note\">Not acknowledged.</p>"),
        None => html.push_str("<p class=\"note\">Nothing to acknowledge.</p>"),
    }
    html.push_str("\n<h2>Downtimes</h2>");
    html.push_str(&downtimes_table(&v.downtimes, now));
    html.push_str(&comments_list(&v.comments, now));
    let actions = forms::actions(
        viewer,
        &v.host,
        v.service.as_deref(),
        v.ack.as_ref(),
        &v.downtimes,
    );
    if !actions.is_empty() {
        let _ = write!(
            html,
            "\n<h2>Actions</h2><div id=\"actions\">{actions}</div>"
        );
    }
    // a host's services
    if v.service.is_none() {
        html.push_str("\n<h2>Services</h2>");
        if state.services.is_empty() {
            html.push_str("<p class=\"note\">No services.</p>");
        } else {
            html.push_str(
                "<table id=\"services\"><thead><tr><th>Host</th><th>Service</th><th>State</th>\
                 <th>Attempt</th><th>Last check</th><th>Duration</th><th>Notes</th><th>Output</th>\
                 </tr></thead><tbody>\n",
            );
            for s in &state.services {
                let handled = s.is_problem() && (s.acknowledged || s.in_downtime);
                object_row(&mut html, s, handled, now);
            }
            html.push_str("</tbody></table>");
        }
    }
    html.push_str("\n<h2>Performance data</h2>");
    html.push_str(&perfdata_table(&state.perfdata));
    // the history
    let (range_name, length) = range;
    let from = now.saturating_sub(length);
    match history {
        HistoryPart::Disabled => html.push_str(
            "\n<h2>History</h2><p class=\"note\">The history is off (<code>[history] enabled = false</code>): \
             no graphs, timeline or event log.</p>",
        ),
        HistoryPart::Failed(e) => {
            let _ = write!(
                html,
                "\n<h2>History</h2><p class=\"error\">The history cannot be read: {}</p>",
                escape(e)
            );
        }
        HistoryPart::Data(d) => {
            html.push_str("\n<h2>Graphs</h2><p class=\"ranges\">");
            for (name, _) in RANGES {
                let class = if name == range_name { " class=\"current\"" } else { "" };
                let _ = write!(html, "<a href=\"?range={name}\"{class}>{name}</a>");
            }
            html.push_str("</p>");
            if d.graphs.is_empty() {
                html.push_str("<p class=\"note\">No metrics recorded.</p>");
            }
            for (m, series) in &d.graphs {
                let label = escape(&m.label);
                let unit = if m.unit.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", escape(&m.unit))
                };
                let _ = write!(
                    html,
                    "\n<figure class=\"graph\" data-metric=\"{label}\"><figcaption>{label}{unit}</figcaption>"
                );
                match series {
                    Ok(s) => html.push_str(&render_graph(s, from, now)),
                    Err(e) => {
                        let empty = Series {
                            metric: m.clone(),
                            step: 0,
                            points: Vec::new(),
                        };
                        html.push_str(&render_graph(&empty, from, now));
                        let _ = write!(html, "<p class=\"error\">{}</p>", escape(e));
                    }
                }
                html.push_str("</figure>");
            }
            let _ = write!(html, "\n<h2>States over {range_name}</h2>");
            html.push_str(&render_timeline(&d.states, from, now));
            let _ = write!(
                html,
                "\n<h2>Events</h2><p><a href=\"{}\">All events of {}</a></p>",
                escape(&events_href(&v.host, v.service.as_deref())),
                escape(&v.name())
            );
            html.push_str(&events_table(&d.events, now));
        }
    }
    html
}

fn events_href(host: &str, service: Option<&str>) -> String {
    let mut href = format!("/events?host={}", percent_encoded(host));
    if let Some(s) = service {
        let _ = write!(href, "&service={}", percent_encoded(s));
    }
    href
}

/// The current state of `host` (and `service`) from the core, `None` if unknown.
fn object_state(core: &Core, host: &str, service: Option<&str>) -> Option<ObjectState> {
    let h = core.hosts.iter().position(|e| e.key == host)?;
    let (view, entry_perfdata, schedule, services) = match service {
        None => {
            let e = &core.hosts[h];
            let own: Vec<View> = (0..core.services.len())
                .filter(|&i| core.services[i].host == h)
                .map(|i| crate::http::view_of(core, Target::Service(i)))
                .collect();
            (
                crate::http::view_of(core, Target::Host(h)),
                &e.perfdata,
                &e.schedule,
                own,
            )
        }
        Some(s) => {
            let i = core
                .config
                .services
                .iter()
                .position(|c| c.host == host && c.name == s)?;
            let e = &core.services[i];
            let v = crate::http::view_of(core, Target::Service(i));
            (v, &e.perfdata, &e.schedule, Vec::new())
        }
    };
    let interval = if view.is_problem() && view.state_type == "SOFT" {
        schedule.retry_interval
    } else {
        schedule.check_interval
    };
    let next_check = (view.active_checks_enabled && view.checked && view.held.is_none())
        .then(|| view.last_check + interval.as_secs().max(1));
    Some(ObjectState {
        view,
        perfdata: entry_perfdata.clone(),
        next_check,
        services,
    })
}

/// A host or service page, answered.
async fn object_page(
    api: Api,
    viewer: Viewer,
    host: String,
    service: Option<String>,
    query: ObjectQuery,
) -> Response {
    let title = match &service {
        Some(s) => format!("{host}/{s}"),
        None => host.clone(),
    };
    let range = match range_of(query.range.as_deref()) {
        Ok(r) => r,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &viewer, &title, &e),
    };
    let (state, history) = {
        let core = lock(&api);
        (
            object_state(&core, &host, service.as_deref()),
            core.history.clone(),
        )
    };
    let Some(state) = state else {
        let what = match &service {
            Some(s) => format!("no service '{s}' on host '{host}'"),
            None => format!("no host '{host}'"),
        };
        return error_page(StatusCode::NOT_FOUND, &viewer, "Not found", &what);
    };
    let now = unix_now();
    let history = match history {
        None => HistoryPart::Disabled,
        Some(h) => {
            let from = now.saturating_sub(range.1);
            crate::web::api::blocking_read(move || {
                Ok(read_history(&h, &host, service.as_deref(), from, now))
            })
            .await
            .unwrap_or_else(HistoryPart::Failed)
        }
    };
    let body = forms::flash(query.done.as_deref(), query.id.as_deref())
        + &render_object(&viewer, &state, range, &history, now);
    html(
        StatusCode::OK,
        layout_with(&title, &viewer, &body, " data-refresh=\"120\""),
    )
}

async fn host_page(
    AxState(api): AxState<Api>,
    viewer: Viewer,
    Path(host): Path<String>,
    query: Result<Query<ObjectQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|q| q.0).unwrap_or_default();
    object_page(api, viewer, host, None, query).await
}

async fn service_page(
    AxState(api): AxState<Api>,
    viewer: Viewer,
    Path((host, service)): Path<(String, String)>,
    query: Result<Query<ObjectQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|q| q.0).unwrap_or_default();
    object_page(api, viewer, host, Some(service), query).await
}

// ---- the event log

/// The event log's parameters (GET form fields): those of `/api/events`, read and
/// bounded by the same [`EventsQuery::filter`].
pub use crate::web::api::EventsQuery;

/// The event log page: the filter form and the events (or why there are none).
pub fn render_events(
    query: &EventsQuery,
    events: Result<&[Event], &str>,
    limit: usize,
    now: Time,
) -> String {
    let mut html = String::from("<h1>Events</h1>\n<form method=\"get\" action=\"/events\" class=\"filters\" id=\"filters\">");
    for (name, label, value) in [
        ("host", "Host", &query.host),
        ("service", "Service", &query.service),
        ("since", "Since (2h or Unix time)", &query.since),
        ("until", "Until", &query.until),
        ("q", "Text", &query.q),
    ] {
        let _ = write!(
            html,
            "<label>{label} <input type=\"text\" name=\"{name}\" value=\"{}\"></label>",
            escape(given(value).unwrap_or(""))
        );
    }
    let mut kinds = vec![(String::new(), "all".to_string())];
    kinds.push((
        "state,notification".into(),
        "states and notifications".into(),
    ));
    kinds.extend(
        Kind::ALL
            .iter()
            .map(|k| (k.name().to_string(), k.name().replace('_', " "))),
    );
    html.push_str(&select("kind", "Kind", &kinds, given(&query.kind)));
    html.push_str("<button type=\"submit\">Show</button></form>\n");
    if given(&query.q).is_some() && given(&query.since).is_none() {
        let _ = write!(
            html,
            "<p class=\"note\" id=\"search-window\">The text is searched for in the last {} days \
             (before <code>until</code>, if given); give <code>since</code> to search further back.</p>",
            crate::web::api::TEXT_SEARCH_DAYS
        );
    }
    match events {
        Ok(events) => {
            if events.len() >= limit {
                let _ = write!(
                    html,
                    "<p class=\"note\">The newest {limit} events; narrow the filter or give an earlier <code>until</code> for more.</p>"
                );
            }
            html.push_str(&events_table(events, now));
        }
        Err(e) => {
            let _ = write!(html, "<p class=\"error\">{}</p>", escape(e));
        }
    }
    html
}

async fn events_page(
    AxState(api): AxState<Api>,
    viewer: Viewer,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Response {
    let query = match query_or_error_page(query, &viewer, "Events") {
        Ok(q) => q,
        Err(page) => return *page,
    };
    let now = unix_now();
    let filter = match query.filter(now) {
        Ok(f) => f,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &viewer, "Events", &e),
    };
    let history = lock(&api).history.clone();
    let limit = filter.limit;
    let events = match history {
        None => {
            Err("The history is off ([history] enabled = false): no events are kept.".to_string())
        }
        Some(h) => {
            crate::web::api::blocking_read(move || {
                h.read(|conn| crate::history::store::events(conn, &filter))
            })
            .await
        }
    };
    let body = render_events(
        &query,
        events.as_deref().map_err(String::as_str),
        limit,
        now,
    );
    html(StatusCode::OK, layout("Events", &viewer, &body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::perf::Point;
    use axum::body::{to_bytes, Body};
    use hcoop_plugins::plugin::{CheckResult, State};
    use std::sync::{Arc, RwLock};
    use tower::ServiceExt;

    const NOW: Time = 1_800_000_000;

    fn view(host: &str, service: Option<&str>, state: &str) -> View {
        View {
            host: host.into(),
            service: service.map(str::to_string),
            state: state.into(),
            state_type: "HARD".into(),
            attempt: 1,
            max_check_attempts: 3,
            checked: state != "PENDING",
            last_check: NOW - 30,
            last_state_change: NOW - 3600,
            output: format!("{state} - all said"),
            acknowledged: false,
            ack: None,
            in_downtime: false,
            flapping: false,
            percent_state_change: 0.0,
            notification_number: 0,
            execution_time: 0.01,
            latency: 0.0,
            downtimes: vec![],
            comments: vec![],
            active_checks_enabled: true,
            notifications_enabled: true,
            passive_checks_enabled: true,
            held: None,
            notifications_held: None,
            hostgroups: None,
            servicegroups: None,
        }
    }

    fn fixture() -> (Vec<View>, Vec<View>) {
        let hosts = vec![view("db", None, "DOWN"), view("www", None, "UP")];
        let mut acked = view("www", Some("http"), "CRITICAL");
        acked.acknowledged = true;
        let mut downtimed = view("www", Some("disk"), "WARNING");
        downtimed.in_downtime = true;
        let services = vec![
            view("www", Some("load"), "OK"),
            acked,
            view("www", Some("ssh"), "WARNING"),
            view("db", Some("mysql"), "CRITICAL"),
            downtimed,
            view("www", Some("smtp"), "UNKNOWN"),
            view("www", Some("new"), "PENDING"),
        ];
        (hosts, services)
    }

    fn order(rows: &[(&View, bool)]) -> Vec<(String, bool)> {
        rows.iter().map(|(v, h)| (v.name(), *h)).collect()
    }

    #[test]
    fn outputs_are_shown_without_their_perfdata() {
        let split = |o: &str| {
            let (a, b) = split_output(o);
            (a, b)
        };
        assert_eq!(
            split("DISK CRITICAL - / 93% used | used=93%;80;90;0;100"),
            ("DISK CRITICAL - / 93% used".to_string(), String::new())
        );
        assert_eq!(
            split("OK - 3 users|users=3\nalice\nbob | sessions=2\nidle=1"),
            ("OK - 3 users".to_string(), "alice\nbob".to_string())
        );
        assert_eq!(
            split("OK\nline 1\n| a=1\nb=2"),
            ("OK".to_string(), "line 1".to_string())
        );
        assert_eq!(split("plain"), ("plain".to_string(), String::new()));
        let mut e = event(Kind::State, NOW, Some("CRITICAL"));
        e.output = Some("HTTP CRITICAL | time=3s".into());
        let html = events_table(&[e], NOW);
        assert!(
            html.contains("<td class=\"output\">HTTP CRITICAL</td>"),
            "{html}"
        );
    }

    #[test]
    fn problems_come_first_unhandled_before_handled() {
        let (hosts, services) = fixture();
        let rows = overview_rows(&hosts, &services, &OverviewQuery::default());
        let names: Vec<(&str, bool)> = order(&rows)
            .iter()
            .map(|(n, h)| (&*n.clone().leak(), *h))
            .collect();
        assert_eq!(
            names,
            [
                // unhandled, worst first
                ("db", false),
                ("www/smtp", false),
                ("www/ssh", false),
                // handled: acknowledged, on a host that is down, in downtime
                ("db/mysql", true),
                ("www/http", true),
                ("www/disk", true),
                // the rest
                ("www/new", false),
                ("www", false),
                ("www/load", false),
            ]
        );
    }

    #[test]
    fn filters_keep_what_they_ask_for() {
        let (hosts, services) = fixture();
        let names = |q: OverviewQuery| -> Vec<String> {
            order(&overview_rows(&hosts, &services, &q))
                .into_iter()
                .map(|(n, _)| n)
                .collect()
        };
        let q = |state: &str, text: &str, sort: &str| OverviewQuery {
            state: Some(state.into()),
            q: Some(text.into()),
            sort: Some(sort.into()),
            ..OverviewQuery::default()
        };
        assert_eq!(names(q("unhandled", "", "")), ["db", "www/smtp", "www/ssh"]);
        assert_eq!(
            names(q("handled", "", "")),
            ["db/mysql", "www/http", "www/disk"]
        );
        assert_eq!(names(q("warning", "", "name")), ["www/disk", "www/ssh"]);
        // text in the names or the output, any case
        assert_eq!(names(q("", "MYSQL", "")), ["db/mysql"]);
        assert_eq!(names(q("", "unknown - all", "")), ["www/smtp"]);
        assert_eq!(names(q("problems", "db", "name")), ["db", "db/mysql"]);
        assert_eq!(
            names(q("", "www", "state"))[..3],
            ["www/http", "www/smtp", "www/disk"]
        );
        assert!(names(q("OK", "nothing like it", "")).is_empty());
    }

    #[test]
    fn the_overview_counts_states_and_marks_rows() {
        let (hosts, mut services) = fixture();
        services[2].output = "<script>alert(1)</script>\nsecond line".into();
        services[2].service = Some("s\"><img src=x>".into());
        let html = render_overview(
            &hosts,
            &services,
            &GroupSummaries::default(),
            &OverviewQuery::default(),
            NOW,
        );
        assert!(html.contains("<span class=\"count CRITICAL\" data-state=\"CRITICAL\">2</span>"));
        assert!(html.contains("<span class=\"count DOWN\" data-state=\"DOWN\">1</span>"));
        assert!(
            html.contains("<span class=\"count UNREACHABLE\" data-state=\"UNREACHABLE\">0</span>")
        );
        assert!(html.contains("<table id=\"objects\">"));
        assert!(html.contains(
            "<tr class=\"CRITICAL\" data-object=\"www/http\" data-state=\"CRITICAL\" data-handled=\"1\">"
        ));
        assert!(html.contains(
            "<tr class=\"DOWN\" data-object=\"db\" data-state=\"DOWN\" data-handled=\"0\">"
        ));
        assert!(html.contains(
            "<td><a href=\"/host/www\">www</a></td><td><a href=\"/service/www/http\">http</a></td>"
        ));
        // hostile output and names are text, the long output is not in the table
        assert!(
            !html.contains("<script>") && !html.contains("<img"),
            "{html}"
        );
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;</td>"));
        assert!(!html.contains("second line"));
        assert!(
            html.contains("href=\"/service/www/s%22%3E%3Cimg%20src%3Dx%3E\""),
            "{html}"
        );
        for field in [
            "name=\"q\"",
            "name=\"state\"",
            "name=\"hostgroup\"",
            "name=\"servicegroup\"",
            "name=\"sort\"",
        ] {
            assert!(html.contains(field), "{field}");
        }
        // a name with a slash stays one path segment
        assert_eq!(service_href("h", "disk /var"), "/service/h/disk%20%2Fvar");
    }

    fn event(kind: Kind, at: Time, state: Option<&str>) -> Event {
        Event {
            state: state.map(str::to_string),
            output: Some("<b>bold</b> output".into()),
            author: Some("ann".into()),
            comment: Some("working on it".into()),
            ..Event::new(kind, at, Some("www"), Some("http"))
        }
    }

    #[test]
    fn events_are_rows_of_their_kind_escaped() {
        let events = [
            event(Kind::State, NOW - 60, Some("CRITICAL")),
            event(Kind::Ack, NOW - 30, None),
            Event::new(Kind::Start, NOW - 10, None, None),
        ];
        let html = events_table(&events, NOW);
        assert!(html.contains("<table id=\"events\">"));
        assert_eq!(html.matches("<tr data-kind=\"state\"").count(), 1);
        assert_eq!(html.matches("<tr data-kind=\"ack\"").count(), 1);
        assert_eq!(html.matches("<tr data-kind=\"start\"").count(), 1);
        assert!(html.contains("&lt;b&gt;bold&lt;/b&gt; output"));
        assert!(!html.contains("<b>bold"));
        assert!(html.contains("by ann: working on it"), "{html}");
        assert!(html.contains("<a href=\"/service/www/http\">www/http</a>"));
    }

    #[test]
    fn event_filters_are_parsed_or_refused_by_name() {
        let q = EventsQuery {
            host: Some("www".into()),
            kind: Some("state, notification".into()),
            since: Some("2h".into()),
            until: Some("1799999000".into()),
            ..EventsQuery::default()
        };
        let f = q.filter(NOW).unwrap();
        assert_eq!(f.host.as_deref(), Some("www"));
        assert_eq!(f.service, None);
        assert_eq!(f.kinds, [Kind::State, Kind::Notification]);
        assert_eq!(f.since, Some(NOW - 7200));
        assert_eq!(f.until, Some(1_799_999_000));
        assert_eq!(f.limit, 200);
        let bad = |q: EventsQuery| q.filter(NOW).unwrap_err();
        assert_eq!(
            bad(EventsQuery {
                kind: Some("nope".into()),
                ..EventsQuery::default()
            }),
            format!(
                "kind: unknown kind 'nope' (known: {})",
                Kind::ALL.map(Kind::name).join(", ")
            )
        );
        assert!(bad(EventsQuery {
            since: Some("yesterday".into()),
            ..EventsQuery::default()
        })
        .starts_with("since: "));
        assert!(bad(EventsQuery {
            limit: Some("5001".into()),
            ..EventsQuery::default()
        })
        .starts_with("limit: "));
    }

    fn object(service: Option<&str>, output: &str) -> ObjectState {
        let mut v = view("www", service, "CRITICAL");
        v.output = output.into();
        v.state_type = "SOFT".into();
        v.attempt = 2;
        // built as the journal reads it, whatever optional fields an Ack has
        v.ack = Some(
            serde_json::from_value(serde_json::json!({
                "author": "ann", "comment": "<i>on it</i>", "sticky": true, "time": NOW - 100,
            }))
            .unwrap(),
        );
        v.acknowledged = true;
        v.downtimes = vec![Downtime {
            id: 17,
            start: NOW - 10,
            end: NOW + 3600,
            author: "bob".into(),
            comment: "patching".into(),
            started: true,
        }];
        ObjectState {
            view: v,
            perfdata: vec![PerfData::new("time", 0.25)],
            next_check: Some(NOW + 30),
            services: vec![],
        }
    }

    fn series(
        label: &str,
        warn: Option<&str>,
        points: Vec<Point>,
    ) -> (MetricInfo, Result<Series, String>) {
        let m = MetricInfo {
            id: 1,
            host: "www".into(),
            service: Some("http".into()),
            label: label.into(),
            unit: "s".into(),
            warn: warn.map(str::to_string),
            crit: Some("2".into()),
            min: None,
            max: None,
            last_at: NOW,
            last: 0.25,
        };
        let s = Series {
            metric: m.clone(),
            step: 60,
            points,
        };
        (m, Ok(s))
    }

    #[test]
    fn a_service_page_shows_state_levels_graphs_timeline_and_events() {
        let state = object(
            Some("http"),
            "HTTP CRITICAL <script>x()</script>\nline 2 <b>\nline 3",
        );
        let points: Vec<Point> = (0..100)
            .map(|i| Point {
                at: NOW - 6000 + i * 60,
                min: 0.1,
                avg: 0.2,
                max: 0.3,
            })
            .collect();
        let data = HistoryData {
            events: vec![event(Kind::State, NOW - 600, Some("CRITICAL"))],
            states: vec![
                event(Kind::State, NOW - 100_000, Some("OK")),
                event(Kind::State, NOW - 600, Some("CRITICAL")),
            ],
            graphs: vec![
                series("time", Some("1"), points),
                series("size \"x\"", None, vec![]),
            ],
        };
        let html = render_object(
            &Viewer::default(),
            &state,
            range_of(Some("4h")).unwrap(),
            &HistoryPart::Data(data),
            NOW,
        );
        assert!(html
            .contains("<h1>http <span class=\"on\">on</span> <a href=\"/host/www\">www</a></h1>"));
        assert!(html.contains("<div id=\"state\" class=\"CRITICAL\" data-state=\"CRITICAL\">"));
        assert!(html.contains("(SOFT, attempt 2/3)"));
        assert!(html.contains("<pre id=\"long-output\">line 2 &lt;b&gt;\nline 3</pre>"));
        assert!(
            !html.contains("<script>") && !html.contains("<i>"),
            "{html}"
        );
        assert!(html.contains("Acknowledged by <strong>ann</strong>"));
        assert!(html.contains("(sticky): &lt;i&gt;on it&lt;/i&gt;"));
        assert!(html.contains("<tr data-downtime=\"17\"><td>17</td>"));
        assert!(html.contains("<figure class=\"graph\" data-metric=\"time\">"));
        assert!(html.contains("<figure class=\"graph\" data-metric=\"size &quot;x&quot;\">"));
        assert_eq!(html.matches("<path class=\"series avg\" d=\"M ").count(), 1);
        assert!(html.contains("<line class=\"warn\""));
        assert_eq!(html.matches("<line class=\"crit\"").count(), 2);
        for r in ["4h", "25h", "1w", "1m", "1y"] {
            assert!(html.contains(&format!("<a href=\"?range={r}\"")), "{r}");
        }
        assert!(html.contains("<a href=\"?range=4h\" class=\"current\">"));
        assert!(html.contains("<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"timeline\""));
        assert_eq!(html.matches("<rect data-state=\"OK\"").count(), 1);
        assert_eq!(html.matches("<rect data-state=\"CRITICAL\"").count(), 1);
        assert_eq!(html.matches("<tr data-kind=\"state\"").count(), 1);
        // no actions for anyone not signed in
        assert!(!html.contains("<form class=\"action\""));
    }

    #[test]
    fn without_history_the_page_says_so() {
        let state = object(None, "PING OK");
        let html = render_object(
            &Viewer::default(),
            &state,
            range_of(None).unwrap(),
            &HistoryPart::Disabled,
            NOW,
        );
        assert!(html.contains("<h1>www</h1>"));
        assert!(html.contains("The history is off"));
        assert!(!html.contains("<svg"));
        assert!(html.contains("<pre id=\"long-output\"></pre>"));
        assert_eq!(
            range_of(Some("2d")).unwrap_err(),
            "unknown range '2d': give 4h, 25h, 1w, 1m or 1y"
        );
    }

    const CONFIG: &str = "[[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n\n\
        [[service]]\nhost = \"h\"\nname = \"s\"\ncheck = \"check_load\"\n\n\
        [[service]]\nhost = \"h\"\nname = \"quiet\"\ncheck = \"check_load\"\n\n\
        [[hostgroup]]\nname = \"all\"\nalias = \"<All>\"\npattern = \".\"\n\n\
        [[servicegroup]]\nname = \"loads & co\"\nmembers = [\"h/s\"]\n";

    /// The web app of a core with service h/s CRITICAL and h/quiet not checked yet.
    fn app() -> Router {
        let (mut core, daemon) = crate::http::testing::core(CONFIG);
        let result = CheckResult::new(State::Critical, "load <9>\nlong <line>")
            .with_perf(hcoop_plugins::plugin::PerfData::new("load1", 9));
        let s = crate::http::testing::hard(&mut core, "h/s", result);
        if let crate::daemon::Target::Service(i) = s {
            core.services[i].record.output = "LOAD CRITICAL - load <9>\nlong <line>".into();
        }
        let (reload, _) = tokio::sync::mpsc::channel(1);
        crate::web::app(Api {
            core: Arc::new(std::sync::Mutex::new(core)),
            access: Arc::new(RwLock::new(crate::http::Access::from_config(&daemon))),
            reload,
        })
    }

    async fn get(app: &Router, uri: &str) -> (StatusCode, axum::http::HeaderMap, String) {
        let req = axum::http::Request::get(uri)
            .extension(crate::auth::Peer::Remote(([127, 0, 0, 1], 1).into()))
            .body(Body::empty())
            .unwrap();
        let r = app.clone().oneshot(req).await.unwrap();
        let (parts, body) = r.into_parts();
        let body = to_bytes(body, usize::MAX).await.unwrap();
        (
            parts.status,
            parts.headers,
            String::from_utf8(body.to_vec()).unwrap(),
        )
    }

    #[tokio::test]
    async fn the_event_log_is_bounded_as_the_api() {
        let app = app();
        let long = "x".repeat(crate::web::api::MAX_TEXT + 1);
        for (uri, reason) in [
            (format!("/events?q={long}"), "q: longer than 200 characters"),
            (
                "/events?since=20y".into(),
                "since: 20y is longer than ten years",
            ),
            ("/events?since=1h&until=2h".into(), "since is after until"),
        ] {
            let (status, _, page) = get(&app, &uri).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
            assert!(page.contains(reason), "{uri}: {page}");
        }
        // a text search without `since` says how far back it looks
        let (status, _, page) = get(&app, "/events?q=disk").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("<p class=\"note\" id=\"search-window\">The text is searched for in the last 31 days"),
            "{page}"
        );
        let (_, _, page) = get(&app, "/events?q=disk&since=90d").await;
        assert!(!page.contains("search-window"), "{page}");
    }

    #[tokio::test]
    async fn pages_are_served_with_their_security_headers() {
        let app = app();
        let (status, headers, page) = get(&app, "/").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_SECURITY_POLICY], CSP);
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(
            page.contains("<title>1 problems · hcoop-monitor</title>"),
            "{page}"
        );
        assert!(page.contains("<main data-refresh=\"60\">"));
        assert!(page.contains("<a href=\"/login\" id=\"login\">"));
        assert!(
            !page.contains("style=") && !page.contains("<script>"),
            "{page}"
        );
        // problems first
        let s = page.find("data-object=\"h/s\"").unwrap();
        let quiet = page.find("data-object=\"h/quiet\"").unwrap();
        assert!(s < quiet);
        assert!(
            page.contains("LOAD CRITICAL - load &lt;9&gt; | load1=9</td>")
                || page.contains("load &lt;9&gt;"),
            "{page}"
        );
        // the group filter, its links, names escaped
        let (status, _, page) = get(&app, "/?servicegroup=loads%20%26%20co").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("1 problems (1 unhandled), 1 hosts, 1 services"),
            "{page}"
        );
        assert!(page.contains(
            "Showing service group <strong>loads &amp; co</strong>: <a href=\"/\">show all</a>"
        ));
        assert!(
            page.contains("Host groups: <a href=\"/?hostgroup=all\">all</a> (1 hosts, 1 problems)")
        );
        assert!(page.contains("data-object=\"h/s\"") && !page.contains("data-object=\"h/quiet\""));
        let (status, headers, page) = get(&app, "/?hostgroup=%3Cscript%3E").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(headers[header::CONTENT_SECURITY_POLICY], CSP);
        assert!(
            page.contains("no host group &#39;&lt;script&gt;&#39;"),
            "{page}"
        );
        // the service page, without a history store
        let (status, _, page) = get(&app, "/service/h/s?range=1w").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("<div id=\"state\" class=\"CRITICAL\" data-state=\"CRITICAL\">"),
            "{page}"
        );
        assert!(
            page.contains("<pre id=\"long-output\">long &lt;line&gt;</pre>"),
            "{page}"
        );
        assert!(page.contains("The history is off"));
        assert!(
            page.contains("<tr data-label=\"load1\"><td>load1</td><td>9</td>"),
            "{page}"
        );
        let (status, _, page) = get(&app, "/host/h").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("<table id=\"services\">") && page.contains("data-object=\"h/quiet\"")
        );
        // unknown names and bad parameters
        for (uri, status, text) in [
            (
                "/host/nope",
                StatusCode::NOT_FOUND,
                "no host &#39;nope&#39;",
            ),
            (
                "/service/h/%3Cb%3E",
                StatusCode::NOT_FOUND,
                "no service &#39;&lt;b&gt;&#39; on host &#39;h&#39;",
            ),
            (
                "/service/h/..%2F..%2Fetc%2Fpasswd",
                StatusCode::NOT_FOUND,
                "no service &#39;../../etc/passwd&#39;",
            ),
            (
                "/service/h/s?range=2y",
                StatusCode::BAD_REQUEST,
                "unknown range",
            ),
            (
                "/events?kind=bogus",
                StatusCode::BAD_REQUEST,
                "kind: unknown kind",
            ),
        ] {
            let (got, _, page) = get(&app, uri).await;
            assert_eq!(got, status, "{uri}");
            assert!(page.contains(text), "{uri}: {page}");
        }
        let (status, _, page) = get(&app, "/events?host=h").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("The history is off"), "{page}");
    }

    /// How long the pure renderers take on big inputs (`--run-ignored only`; the
    /// figures mean something in a release build).
    #[test]
    #[ignore]
    fn render_timings() {
        let hosts: Vec<View> = (0..1000)
            .map(|h| view(&format!("host{h}"), None, "UP"))
            .collect();
        let states = ["OK", "OK", "OK", "WARNING", "CRITICAL", "UNKNOWN"];
        let services: Vec<View> = (0..10_000)
            .map(|i| {
                view(
                    &format!("host{}", i / 10),
                    Some(&format!("service {i}")),
                    states[i % 6],
                )
            })
            .collect();
        let started = std::time::Instant::now();
        let html = render_overview(
            &hosts,
            &services,
            &GroupSummaries::default(),
            &OverviewQuery::default(),
            NOW,
        );
        let overview = started.elapsed();
        assert!(html.contains("data-object=\"host999/service 9999\""));
        // a year of 6-hour rows and one of 30-minute rows (a 1y graph reads the former)
        let year = 365 * 86_400;
        let rows = |step: u64| -> Vec<Point> {
            (0..year / step)
                .map(|i| {
                    let v = (i % 97) as f64;
                    Point {
                        at: NOW - year + i * step,
                        min: v - 1.0,
                        avg: v,
                        max: v + 1.0,
                    }
                })
                .collect()
        };
        let mut state = object(Some("http"), "HTTP OK");
        state.view.output = "x".repeat(4096);
        for step in [21_600, 1800] {
            let graphs = (0..4)
                .map(|m| series(&format!("m{m}"), Some("50"), rows(step)))
                .collect();
            let data = HistoryData {
                events: vec![event(Kind::State, NOW - 60, Some("OK")); 100],
                states: vec![],
                graphs,
            };
            let started = std::time::Instant::now();
            let page = render_object(
                &Viewer::default(),
                &state,
                range_of(Some("1y")).unwrap(),
                &HistoryPart::Data(data),
                NOW,
            );
            eprintln!(
                "service page, 4 graphs of a year of {step}-second rows: {:?} ({} bytes)",
                started.elapsed(),
                page.len()
            );
        }
        eprintln!(
            "overview of 1000 hosts and 10000 services: {overview:?} ({} bytes)",
            html.len()
        );
    }
}
