//! The status listener: a JSON API (hosts, services, problems; acknowledgements and
//! downtimes), Prometheus metrics, and a status page that lists problems first.

use crate::daemon::{unix_now, Core, Entry, Shared};
use crate::state::{Ack, Condition};
use axum::extract::{Path, State as AxState};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// One host or service as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct View {
    pub host: String,
    /// `None` for a host.
    pub service: Option<String>,
    pub state: String,
    pub state_type: String,
    pub attempt: u32,
    pub max_check_attempts: u32,
    pub checked: bool,
    pub last_check: u64,
    pub last_state_change: u64,
    pub output: String,
    pub acknowledged: bool,
    pub in_downtime: bool,
    pub flapping: bool,
    pub percent_state_change: f64,
    pub notification_number: u32,
    pub execution_time: f64,
    pub latency: f64,
    pub downtimes: Vec<crate::state::Downtime>,
}

impl View {
    /// Whether this is a problem (not OK/UP).
    pub fn is_problem(&self) -> bool {
        self.state != "OK" && self.state != "UP"
    }

    /// "host" or "host/service".
    pub fn name(&self) -> String {
        match &self.service {
            Some(s) => format!("{}/{s}", self.host),
            None => self.host.clone(),
        }
    }
}

fn view<C: Condition>(e: &Entry<C>, host: &str, service: Option<&str>, now: u64) -> View {
    let r = &e.record;
    View {
        host: host.to_string(),
        service: service.map(str::to_string),
        state: r.state.name().to_string(),
        state_type: format!("{:?}", r.state_type).to_uppercase(),
        attempt: r.attempt,
        max_check_attempts: e.policy.max_check_attempts,
        checked: r.checked,
        last_check: r.last_check,
        last_state_change: r.last_state_change,
        output: r.output.clone(),
        acknowledged: r.acknowledged(),
        in_downtime: r.in_downtime(now),
        flapping: r.flapping,
        percent_state_change: r.percent_state_change,
        notification_number: r.notification_number,
        execution_time: e.execution_time,
        latency: e.latency,
        downtimes: r.downtimes.clone(),
    }
}

/// Every host's view.
pub fn hosts(core: &Core) -> Vec<View> {
    let now = unix_now();
    core.hosts
        .iter()
        .map(|e| view(e, &e.key, None, now))
        .collect()
}

/// Every service's view.
pub fn services(core: &Core) -> Vec<View> {
    let now = unix_now();
    core.services
        .iter()
        .zip(&core.config.services)
        .map(|(e, s)| view(e, &s.host, Some(&s.name), now))
        .collect()
}

/// Problems: hosts not UP and services not OK.
#[derive(Debug, Serialize, Deserialize)]
pub struct Problems {
    pub hosts: Vec<View>,
    pub services: Vec<View>,
}

/// An acknowledgement request.
#[derive(Debug, Serialize, Deserialize)]
pub struct AckRequest {
    /// "HOST" or "HOST/SERVICE".
    pub target: String,
    pub author: String,
    pub comment: String,
    #[serde(default)]
    pub sticky: bool,
}

/// A downtime request.
#[derive(Debug, Serialize, Deserialize)]
pub struct DowntimeRequest {
    /// "HOST" or "HOST/SERVICE".
    pub target: String,
    /// Unix seconds; default now.
    pub start: Option<u64>,
    /// How long, as humantime ("2h").
    pub duration: String,
    pub author: String,
    pub comment: String,
}

/// Serves until the task is aborted.
pub async fn serve(listener: tokio::net::TcpListener, shared: Shared) -> std::io::Result<()> {
    axum::serve(listener, router(shared)).await
}

/// The routes.
pub fn router(shared: Shared) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/api/hosts", get(api_hosts))
        .route("/api/services", get(api_services))
        .route("/api/problems", get(api_problems))
        .route("/api/ack", post(api_ack))
        .route("/api/downtime", post(api_downtime))
        .route("/api/downtime/{id}", delete(api_cancel_downtime))
        .route("/metrics", get(metrics))
        .with_state(shared)
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Core> {
    shared.lock().expect("core lock")
}

async fn api_hosts(AxState(s): AxState<Shared>) -> Json<Vec<View>> {
    Json(hosts(&lock(&s)))
}

async fn api_services(AxState(s): AxState<Shared>) -> Json<Vec<View>> {
    Json(services(&lock(&s)))
}

fn problems(core: &Core) -> Problems {
    Problems {
        hosts: hosts(core).into_iter().filter(View::is_problem).collect(),
        services: services(core)
            .into_iter()
            .filter(View::is_problem)
            .collect(),
    }
}

async fn api_problems(AxState(s): AxState<Shared>) -> Json<Problems> {
    Json(problems(&lock(&s)))
}

fn answer(r: Result<serde_json::Value, String>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({ "error": e })),
        )
            .into_response(),
    }
}

async fn api_ack(AxState(s): AxState<Shared>, Json(req): Json<AckRequest>) -> Response {
    let ack = Ack {
        author: req.author,
        comment: req.comment,
        sticky: req.sticky,
        time: unix_now(),
    };
    answer(
        lock(&s)
            .acknowledge(&req.target, ack)
            .map(|()| serde_json::json!({ "acknowledged": req.target })),
    )
}

async fn api_downtime(AxState(s): AxState<Shared>, Json(req): Json<DowntimeRequest>) -> Response {
    let r = humantime::parse_duration(&req.duration)
        .map_err(|e| format!("duration '{}': {e}", req.duration))
        .and_then(|d| {
            let start = req.start.unwrap_or_else(unix_now);
            lock(&s).schedule_downtime(
                &req.target,
                start,
                start + d.as_secs().max(1),
                req.author,
                req.comment,
            )
        })
        .map(|id| serde_json::json!({ "id": id }));
    answer(r)
}

async fn api_cancel_downtime(AxState(s): AxState<Shared>, Path(id): Path<u64>) -> Response {
    if lock(&s).cancel_downtime(id) {
        answer(Ok(serde_json::json!({ "deleted": id })))
    } else {
        answer(Err(format!("no downtime {id}")))
    }
}

/// A Prometheus label value, escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The Prometheus text exposition of every host and service.
pub fn render_metrics(core: &Core) -> String {
    let now = unix_now();
    let mut out = String::new();
    let head = |out: &mut String, name: &str, help: &str| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
    };
    let svcs: Vec<_> = core.services.iter().zip(&core.config.services).collect();
    let sl = |s: &crate::config::Service| {
        format!("host=\"{}\",service=\"{}\"", label(&s.host), label(&s.name))
    };
    head(
        &mut out,
        "hcoop_service_state",
        "Service state: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
    );
    for (e, s) in &svcs {
        let hard = u8::from(e.record.state_type == crate::state::StateType::Hard);
        let _ = writeln!(
            out,
            "hcoop_service_state{{{},hard=\"{hard}\"}} {}",
            sl(s),
            e.record.state.exit_code()
        );
    }
    head(
        &mut out,
        "hcoop_service_last_check_age_seconds",
        "Seconds since the last check.",
    );
    for (e, s) in &svcs {
        if e.record.checked {
            let _ = writeln!(
                out,
                "hcoop_service_last_check_age_seconds{{{}}} {}",
                sl(s),
                now.saturating_sub(e.record.last_check)
            );
        }
    }
    head(
        &mut out,
        "hcoop_service_latency_seconds",
        "Seconds the last check started after it was due.",
    );
    for (e, s) in &svcs {
        let _ = writeln!(
            out,
            "hcoop_service_latency_seconds{{{}}} {}",
            sl(s),
            e.latency
        );
    }
    head(
        &mut out,
        "hcoop_service_execution_seconds",
        "Seconds the last check ran.",
    );
    for (e, s) in &svcs {
        let _ = writeln!(
            out,
            "hcoop_service_execution_seconds{{{}}} {}",
            sl(s),
            e.execution_time
        );
    }
    head(
        &mut out,
        "hcoop_service_perfdata",
        "Performance data of the last check.",
    );
    for (e, s) in &svcs {
        for p in &e.perfdata {
            let _ = writeln!(
                out,
                "hcoop_service_perfdata{{{},label=\"{}\",uom=\"{}\"}} {}",
                sl(s),
                label(&p.label),
                p.uom.as_str(),
                p.value.as_f64()
            );
        }
    }
    head(
        &mut out,
        "hcoop_host_state",
        "Host state: 0 UP, 1 DOWN, 2 UNREACHABLE.",
    );
    for e in &core.hosts {
        let v = match e.record.state {
            crate::state::HostState::Up => 0,
            crate::state::HostState::Down => 1,
            crate::state::HostState::Unreachable => 2,
        };
        let _ = writeln!(out, "hcoop_host_state{{host=\"{}\"}} {v}", label(&e.key));
    }
    head(
        &mut out,
        "hcoop_checks_total",
        "Checks run since the daemon started.",
    );
    let _ = writeln!(out, "hcoop_checks_total {}", core.checks_run);
    core.forward.render_metrics(&mut out);
    out
}

async fn metrics(AxState(s): AxState<Shared>) -> Response {
    let text = render_metrics(&lock(&s));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The status page: problems first (worst first), then everything else.
pub fn render_page(core: &Core) -> String {
    let mut rows: Vec<View> = hosts(core).into_iter().chain(services(core)).collect();
    let rank = |v: &View| match v.state.as_str() {
        "DOWN" | "UNREACHABLE" => 0,
        "CRITICAL" => 1,
        "UNKNOWN" => 2,
        "WARNING" => 3,
        _ => 4,
    };
    rows.sort_by_key(|v| (rank(v), v.name()));
    let problems = rows.iter().filter(|v| v.is_problem()).count();
    let mut html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"30\">\
         <title>hcoop-monitor: {problems} problems</title><style>\
         body{{font-family:sans-serif}}table{{border-collapse:collapse}}td,th{{padding:2px 8px;text-align:left}}\
         .OK,.UP{{background:#cfc}}.WARNING{{background:#ffc}}.CRITICAL,.DOWN,.UNREACHABLE{{background:#fcc}}.UNKNOWN{{background:#fdb}}\
         </style></head><body><h1>hcoop-monitor</h1><p>{problems} problems, {} hosts, {} services</p>\
         <table><tr><th>Host/Service</th><th>State</th><th>Type</th><th>Last check</th><th>Notes</th><th>Output</th></tr>",
        core.hosts.len(),
        core.services.len()
    );
    let now = unix_now();
    for v in rows {
        let mut notes = Vec::new();
        if v.acknowledged {
            notes.push("acknowledged");
        }
        if v.in_downtime {
            notes.push("in downtime");
        }
        if v.flapping {
            notes.push("flapping");
        }
        let age = if v.checked {
            format!("{}s ago", now.saturating_sub(v.last_check))
        } else {
            "never".into()
        };
        let _ = write!(
            html,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{} {}/{}</td><td>{age}</td><td>{}</td><td>{}</td></tr>",
            v.state,
            escape(&v.name()),
            v.state,
            v.state_type,
            v.attempt,
            v.max_check_attempts,
            notes.join(", "),
            escape(v.output.lines().next().unwrap_or(""))
        );
    }
    html.push_str("</table></body></html>\n");
    html
}

async fn page(AxState(s): AxState<Shared>) -> Html<String> {
    Html(render_page(&lock(&s)))
}
