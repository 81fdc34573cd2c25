//! The API listener: a JSON API (hosts, services, problems; acknowledgements,
//! downtimes, comments, reload) and Prometheus metrics (the pages are the web UI's), served over TCP
//! (`[daemon] listen`) and over the control socket (`[daemon] socket`).
//!
//! Who may do what is decided in one place, [`guard`] (see [`crate::auth`]): reads over
//! TCP are open unless `require_auth_for_reads`; every write needs a principal (the
//! control socket's peer uid, or a token), which is also the author of what it changes.
//! Writes over TCP must be JSON (a cross-site HTML form cannot send that) and a request
//! a browser marks as cross-site is refused, so no page elsewhere can drive the API.
//!
//! Every connection is bounded: one request per connection, headers within 16 KiB and
//! read within [`HEADER_TIMEOUT`], the whole exchange within [`CONNECTION_TIMEOUT`],
//! bodies within [`MAX_BODY`], at most `api_max_connections` at once and
//! `api_max_connections_per_peer` per peer address or uid. An idle connection cannot
//! hold a slot for long, and the listeners can never take the descriptors the checks
//! need.

pub use crate::actions::Objects;
pub use crate::admin::{CommentView, DowntimeView, MAX_COMMENT};
use crate::auth::{Admins, Peer, Principal, Tokens};
use crate::clock::unix_now;
use crate::daemon::{Core, Entry, Shared, Target};
use crate::groups::{GroupFilter, GroupSummaries};
use crate::journal::Saving;
pub use crate::slots::Slots;
use crate::state::{Ack, Comment, Condition};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State as AxState};
use axum::http::{header, Method, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};

use std::fmt::Write as _;
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The longest request body accepted.
pub const MAX_BODY: usize = 64 * 1024;
/// Time to receive a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Time for a whole connection (request, answer).
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);

/// One host or service as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct View {
    pub host: String,
    /// `None` for a host.
    pub service: Option<String>,
    /// OK, WARNING, ... (UP, DOWN, UNREACHABLE for hosts); PENDING before the first
    /// result.
    pub state: String,
    pub state_type: String,
    pub attempt: u32,
    pub max_check_attempts: u32,
    pub checked: bool,
    pub last_check: u64,
    pub last_state_change: u64,
    pub output: String,
    pub acknowledged: bool,
    /// Who acknowledged, when, why.
    #[serde(default)]
    pub ack: Option<Ack>,
    pub in_downtime: bool,
    pub flapping: bool,
    pub percent_state_change: f64,
    pub notification_number: u32,
    pub execution_time: f64,
    pub latency: f64,
    pub downtimes: Vec<crate::state::Downtime>,
    #[serde(default)]
    pub comments: Vec<Comment>,
    /// Whether its active checks run when due (switched at run time or configured).
    #[serde(default = "enabled")]
    pub active_checks_enabled: bool,
    /// Whether it notifies (switched at run time or configured).
    #[serde(default = "enabled")]
    pub notifications_enabled: bool,
    /// Whether it takes passive results (switched at run time or configured).
    #[serde(default = "enabled")]
    pub passive_checks_enabled: bool,
    /// Why its due checks are not run now (a failed execution dependency, checks
    /// disabled), if they are not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<String>,
    /// Why its problem and recovery notifications are held back now (a failed
    /// notification dependency), if they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications_held: Option<String>,
    /// A host's host groups (`None` for a service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostgroups: Option<Vec<String>>,
    /// A service's service groups (`None` for a host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servicegroups: Option<Vec<String>>,
}

fn enabled() -> bool {
    true
}

impl View {
    /// Whether this is a problem (not OK/UP, and checked).
    pub fn is_problem(&self) -> bool {
        !matches!(self.state.as_str(), "OK" | "UP" | "PENDING")
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
        state: if r.checked {
            r.state.name().to_string()
        } else {
            "PENDING".into()
        },
        state_type: format!("{:?}", r.state_type).to_uppercase(),
        attempt: r.attempt,
        max_check_attempts: e.schedule.max_check_attempts,
        checked: r.checked,
        last_check: r.last_check,
        last_state_change: r.last_state_change,
        output: r.output.clone(),
        acknowledged: r.acknowledged(),
        ack: r.ack.clone(),
        in_downtime: r.in_downtime(now),
        flapping: r.flapping,
        percent_state_change: r.percent_state_change,
        notification_number: r.notification_number,
        execution_time: e.execution_time,
        latency: e.latency,
        downtimes: r.downtimes.clone(),
        comments: r.comments.clone(),
        active_checks_enabled: r.active_checks.unwrap_or(e.schedule.active_checks_enabled),
        notifications_enabled: r.notifications.unwrap_or(e.schedule.notifications_enabled),
        passive_checks_enabled: r
            .passive_checks
            .unwrap_or(e.schedule.passive_checks_enabled),
        held: None,
        notifications_held: None,
        hostgroups: None,
        servicegroups: None,
    }
}

/// A view with why the object's checks and notifications are held, if they are.
fn with_held(mut v: View, core: &Core, target: crate::daemon::Target, now: u64) -> View {
    v.held = core.check_held(target, now);
    v.notifications_held =
        core.dependency_failure(target, crate::config::dependencies::Kind::Notification, now);
    v
}

/// Every host's view.
pub fn hosts(core: &Core) -> Vec<View> {
    let now = unix_now();
    core.hosts
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let target = crate::daemon::Target::Host(i);
            with_held(view(e, &e.key, None, now), core, target, now)
        })
        .collect()
}

/// Every service's view.
pub fn services(core: &Core) -> Vec<View> {
    let now = unix_now();
    core.services
        .iter()
        .zip(&core.config.services)
        .enumerate()
        .map(|(i, (e, s))| {
            let target = crate::daemon::Target::Service(i);
            with_held(view(e, &s.host, Some(&s.name), now), core, target, now)
        })
        .collect()
}

/// One host's or service's view, with its groups (what [`views_in`] gives for it).
pub fn view_of(core: &Core, target: Target) -> View {
    let now = unix_now();
    let mut v = match target {
        Target::Host(i) => {
            let e = &core.hosts[i];
            view(e, &e.key, None, now)
        }
        Target::Service(i) => {
            let (e, s) = (&core.services[i], &core.config.services[i]);
            view(e, &s.host, Some(&s.name), now)
        }
    };
    v = with_held(v, core, target, now);
    let groups = Some(core.groups_of(target));
    match target {
        Target::Host(_) => v.hostgroups = groups,
        Target::Service(_) => v.servicegroups = groups,
    }
    v
}

/// Problems: hosts not UP and services not OK.
#[derive(Debug, Serialize, Deserialize)]
pub struct Problems {
    pub hosts: Vec<View>,
    pub services: Vec<View>,
}

/// An acknowledgement request (the author is who the credentials say).
#[derive(Debug, Serialize, Deserialize)]
pub struct AckRequest {
    /// `target` ("HOST", "HOST/SERVICE", "HOST/*"), `hostgroup` or `servicegroup`.
    #[serde(flatten)]
    pub on: Objects,
    pub comment: String,
    #[serde(default)]
    pub sticky: bool,
    /// How long until it is removed, as humantime ("4h"; at most a year), as Icinga 2's
    /// expiring acknowledgements (Nagios 4's never expire); none: it lasts until the
    /// state changes (plain) or until recovery (sticky).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire: Option<String>,
}

/// A downtime request (the author is who the credentials say).
#[derive(Debug, Serialize, Deserialize)]
pub struct DowntimeRequest {
    /// `target` ("HOST", "HOST/SERVICE", "HOST/*"), `hostgroup` or `servicegroup`.
    #[serde(flatten)]
    pub on: Objects,
    /// Unix seconds; default now.
    pub start: Option<u64>,
    /// How long, as humantime ("2h").
    pub duration: String,
    pub comment: String,
}

/// Checks asked to run now (`POST /api/recheck`).
#[derive(Debug, Serialize, Deserialize)]
pub struct RecheckRequest {
    /// `target` ("HOST", "HOST/SERVICE", "HOST/*"), `hostgroup` or `servicegroup`.
    #[serde(flatten)]
    pub on: Objects,
}

/// Active checks or notifications switched on or off (`POST /api/checks`,
/// `POST /api/notifications`).
#[derive(Debug, Serialize, Deserialize)]
pub struct SwitchRequest {
    /// `target` ("HOST", "HOST/SERVICE", "HOST/*"), `hostgroup` or `servicegroup`.
    #[serde(flatten)]
    pub on: Objects,
    pub enabled: bool,
}

/// A comment request (the author is who the credentials say).
#[derive(Debug, Serialize, Deserialize)]
pub struct CommentRequest {
    /// "HOST" or "HOST/SERVICE".
    pub target: String,
    pub comment: String,
}

/// `?target=HOST/SERVICE`.
#[derive(Debug, Serialize, Deserialize)]
pub struct TargetQuery {
    pub target: String,
}

/// What a reload did: `Ok(summary and notes)` or why it was refused.
pub type ReloadOutcome = Result<String, String>;

/// A reload asked for through the API, answered once done.
pub type ReloadRequest = oneshot::Sender<ReloadOutcome>;

/// Who may do what on the API, replaced as a whole on reload.
#[derive(Debug, Clone)]
pub struct Access {
    /// Tokens for TCP writes; `Err` says why there are none.
    pub tokens: Result<Tokens, String>,
    pub admins: Admins,
    pub require_auth_for_reads: bool,
}

impl Access {
    /// The access rules of a `[daemon]` section (the credentials file is read now).
    pub fn from_config(d: &crate::config::Daemon) -> Access {
        let tokens = match &d.credentials_file {
            None => Err("no credentials_file is configured: the TCP API is read-only".into()),
            Some(p) => Tokens::load(p).map_err(|e| format!("{e:#}")),
        };
        Access {
            tokens,
            admins: Admins {
                users: d.admin_users.clone(),
                groups: d.admin_groups.clone(),
            },
            require_auth_for_reads: d.require_auth_for_reads,
        }
    }
}

/// Everything the handlers share.
#[derive(Clone)]
pub struct Api {
    pub core: Shared,
    pub access: Arc<RwLock<Access>>,
    /// Reloads asked for by `POST /api/reload`, performed by the scheduler loop.
    pub reload: mpsc::Sender<ReloadRequest>,
}

/// The routes, behind the access guard and the body limit.
pub fn router(api: Api) -> Router {
    Router::new()
        .route("/api/hosts", get(api_hosts))
        .route("/api/services", get(api_services))
        .route("/api/problems", get(api_problems))
        .route("/api/groups", get(api_groups))
        .route("/api/ack", post(api_ack).delete(api_unack))
        .route("/api/downtime", post(api_downtime))
        .route("/api/recheck", post(api_recheck))
        .route("/api/checks", post(api_checks))
        .route("/api/notifications", post(api_notifications))
        .route("/api/downtime/{id}", delete(api_cancel_downtime))
        .route("/api/downtimes", get(api_downtimes))
        .route("/api/comment", post(api_comment))
        .route("/api/comment/{id}", delete(api_delete_comment))
        .route("/api/comments", get(api_comments))
        .route("/api/reload", post(api_reload))
        .route("/api/result", post(api_result))
        .route("/api/whoami", get(api_whoami))
        .route("/metrics", get(metrics))
        .route("/metrics/scheduler", get(scheduler_metrics))
        .layer(from_fn_with_state(api.clone(), guard))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(api)
}

/// A refusal: the status and a one-line reason, as JSON.
pub fn refuse(status: StatusCode, reason: impl Into<String>) -> Response {
    let mut r = (status, Json(serde_json::json!({ "error": reason.into() }))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        // a browser asks for basic auth (the token as password); scripts send a bearer
        for scheme in [
            "Bearer realm=\"hcoop-monitor\"",
            "Basic realm=\"hcoop-monitor\"",
        ] {
            r.headers_mut().append(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static(scheme),
            );
        }
    }
    r
}

/// Whether a request could have been sent by a page of another site: a browser-set
/// Origin that is not this host, or a Sec-Fetch-Site other than same-origin (the web
/// UI's forms are held to this too).
pub fn cross_origin(h: &axum::http::HeaderMap) -> Option<&'static str> {
    let get = |name: &str| h.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site") {
        if site != "same-origin" && site != "none" {
            return Some("cross-site request refused");
        }
    }
    if let Some(origin) = get("origin") {
        let host = get("host").unwrap_or("");
        let same = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .is_some_and(|o| o == host);
        if !same {
            return Some("request from another origin refused");
        }
    }
    None
}

/// Whether a write over TCP could have been sent by a page of another site: as
/// [`cross_origin`], or a POST that is not JSON (what an HTML form sends).
fn cross_site(req: &Request) -> Option<&'static str> {
    if let Some(refused) = cross_origin(req.headers()) {
        return Some(refused);
    }
    let get = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if req.method() == Method::POST {
        let json = get("content-type").is_some_and(|c| {
            c.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
        });
        if !json {
            return Some("writes must be sent as Content-Type: application/json");
        }
    }
    None
}

/// The access guard: establishes the principal (or refuses with 401/403), logs
/// refusals with the peer.
pub async fn guard(AxState(api): AxState<Api>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<Peer>()
        .cloned()
        .unwrap_or(Peer::Remote(([0, 0, 0, 0], 0).into()));
    let write = !matches!(*req.method(), Method::GET | Method::HEAD);
    let what = format!("{} {}", req.method(), req.uri().path());
    let decision: Result<Option<Principal>, (StatusCode, String)> = {
        let access = api.access.read().expect("access lock");
        match &peer {
            Peer::Local { uid, .. } => {
                if access.admins.allows(*uid) {
                    Ok(Some(Principal(crate::auth::user_name(*uid))))
                } else {
                    Err((
                        StatusCode::UNAUTHORIZED,
                        format!(
                            "{} may not use the control socket (root, the daemon's user, admin_users and admin_groups may)",
                            crate::auth::user_name(*uid)
                        ),
                    ))
                }
            }
            Peer::Remote(_) => {
                let auth = req
                    .headers()
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok());
                if !write && !access.require_auth_for_reads && auth.is_none() {
                    Ok(None)
                } else if let Some(reason) = write.then(|| cross_site(&req)).flatten() {
                    Err((StatusCode::FORBIDDEN, reason.to_string()))
                } else {
                    match (auth.and_then(crate::auth::token_of), &access.tokens) {
                        (None, Err(why)) if write => Err((StatusCode::UNAUTHORIZED, why.clone())),
                        (None, _) => Err((
                            StatusCode::UNAUTHORIZED,
                            "credentials needed: Authorization: Bearer TOKEN".into(),
                        )),
                        (Some(_), Err(why)) => Err((StatusCode::UNAUTHORIZED, why.clone())),
                        (Some(t), Ok(tokens)) => match tokens.verify(&t) {
                            Some(name) => Ok(Some(Principal(name.to_string()))),
                            None => Err((StatusCode::UNAUTHORIZED, "unknown token".into())),
                        },
                    }
                }
            }
        }
    };
    match decision {
        Ok(principal) => {
            if let Some(p) = principal {
                req.extensions_mut().insert(p);
            }
            next.run(req).await
        }
        Err((status, reason)) => {
            tracing::warn!("api: refused {what} from {peer}: {reason}");
            refuse(status, reason)
        }
    }
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Core> {
    shared.lock().expect("core lock")
}

/// Makes an admin change under the core lock, then waits for it to be on disk with the
/// lock released: neither the scheduler nor a reader waits on the disk, and the change
/// is answered only once it is durable.
fn saved<T>(
    shared: &Shared,
    change: impl FnOnce(&mut Core) -> Result<(T, Saving), String>,
) -> Result<T, String> {
    let (out, saving) = change(&mut lock(shared))?;
    saving.wait().map(|()| out)
}

/// The views `all` of one kind that `shown` keeps (all of them without a group
/// filter), each with its groups.
fn in_groups(
    core: &Core,
    all: Vec<View>,
    shown: Option<&[usize]>,
    target: fn(usize) -> Target,
) -> Vec<View> {
    let mut keep = vec![shown.is_none(); all.len()];
    for &i in shown.unwrap_or_default() {
        keep[i] = true;
    }
    all.into_iter()
        .enumerate()
        .filter(|&(i, _)| keep[i])
        .map(|(i, mut v)| {
            let groups = Some(core.groups_of(target(i)));
            match target(i) {
                Target::Host(_) => v.hostgroups = groups,
                Target::Service(_) => v.servicegroups = groups,
            }
            v
        })
        .collect()
}

/// The hosts and services a group filter shows (everything without one), each with
/// its groups; an unknown group is an error.
pub fn views_in(core: &Core, filter: &GroupFilter) -> Result<(Vec<View>, Vec<View>), String> {
    let shown = core.shown(filter)?;
    Ok((
        in_groups(
            core,
            hosts(core),
            shown.as_ref().map(|s| &s.hosts[..]),
            Target::Host,
        ),
        in_groups(
            core,
            services(core),
            shown.as_ref().map(|s| &s.services[..]),
            Target::Service,
        ),
    ))
}

/// The status of a group filter's refusal: an unknown group is not found (404), two
/// at once a bad request.
fn filter_refused(e: &str) -> StatusCode {
    if e.starts_with("no ") {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::BAD_REQUEST
    }
}

fn refuse_filter(e: String) -> Response {
    refuse(filter_refused(&e), e)
}

async fn api_hosts(AxState(s): AxState<Api>, Query(f): Query<GroupFilter>) -> Response {
    match views_in(&lock(&s.core), &f) {
        Ok((hosts, _)) => Json(hosts).into_response(),
        Err(e) => refuse_filter(e),
    }
}

async fn api_services(AxState(s): AxState<Api>, Query(f): Query<GroupFilter>) -> Response {
    match views_in(&lock(&s.core), &f) {
        Ok((_, services)) => Json(services).into_response(),
        Err(e) => refuse_filter(e),
    }
}

async fn api_groups(AxState(s): AxState<Api>) -> Json<GroupSummaries> {
    Json(lock(&s.core).group_summaries())
}

async fn api_problems(AxState(s): AxState<Api>, Query(f): Query<GroupFilter>) -> Response {
    match views_in(&lock(&s.core), &f) {
        Ok((hosts, services)) => Json(Problems {
            hosts: hosts.into_iter().filter(View::is_problem).collect(),
            services: services.into_iter().filter(View::is_problem).collect(),
        })
        .into_response(),
        Err(e) => refuse_filter(e),
    }
}

async fn api_whoami(principal: Option<Extension<Principal>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "name": principal.map(|p| p.0 .0) }))
}

fn answer(r: Result<serde_json::Value, String>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => refuse(StatusCode::BAD_REQUEST, e),
    }
}

/// The principal a write acts as (the guard put it there; a write without one is a bug,
/// refused).
type Author = Option<Extension<Principal>>;

fn author(a: Author) -> Result<String, String> {
    a.map(|Extension(Principal(name))| name)
        .ok_or_else(|| "no credentials".to_string())
}

/// The longest an acknowledgement may be set to last.
pub const MAX_ACK_EXPIRY: Duration = Duration::from_secs(366 * 86_400);

/// When an acknowledgement made at `now` expires: never (None or empty), or after a
/// duration ("4h", "2d 12h") of at most [`MAX_ACK_EXPIRY`].
pub fn ack_expiry(text: Option<&str>, now: u64) -> Result<Option<u64>, String> {
    let t = text.unwrap_or("").trim();
    if t.is_empty() {
        return Ok(None);
    }
    let d = humantime::parse_duration(t).map_err(|e| format!("expiry '{t}': {e}"))?;
    if d.is_zero() || d > MAX_ACK_EXPIRY {
        return Err(format!(
            "expiry '{t}': give a duration above 0 and at most {}",
            humantime::format_duration(MAX_ACK_EXPIRY)
        ));
    }
    Ok(Some(now + d.as_secs().max(1)))
}

/// Acknowledges the problems among `on` as `author`, the acknowledgement notified only
/// when `notify`, removed after `expire` if given ([`ack_expiry`]); the names of those
/// acknowledged, once saved. The JSON API and the web UI's forms both act through this.
pub fn acknowledge(
    s: &Api,
    author: String,
    on: &Objects,
    comment: &str,
    sticky: bool,
    notify: bool,
    expire: Option<&str>,
) -> Result<Vec<String>, String> {
    let selector = on.selector()?;
    let comment = crate::admin::check_comment(comment)?;
    let now = unix_now();
    let ack = Ack {
        author,
        comment,
        sticky,
        time: now,
        expires: ack_expiry(expire, now)?,
    };
    saved(&s.core, |core| {
        let targets = core.select(&selector)?;
        let (done, saving) = core.acknowledge_targets_notifying(&targets, ack, notify)?;
        Ok((core.names(&done), saving))
    })
}

async fn api_ack(AxState(s): AxState<Api>, a: Author, Json(req): Json<AckRequest>) -> Response {
    let r = author(a).and_then(|author| {
        let expire = req.expire.as_deref();
        acknowledge(&s, author, &req.on, &req.comment, req.sticky, true, expire)
    });
    answer(
        r.map(|names| serde_json::json!({ "acknowledged": req.on.to_string(), "objects": names })),
    )
}

/// Removes the acknowledgement of `target` ("HOST" or "HOST/SERVICE") as `author`,
/// once saved.
pub fn unacknowledge(s: &Api, target: &str, author: &str) -> Result<(), String> {
    saved(&s.core, |core| {
        Ok(((), core.unacknowledge_by(target, Some(author))?))
    })?;
    tracing::info!("{author} removed the acknowledgement of {target}");
    Ok(())
}

/// Cancels the downtime `id` as `author`, once saved.
pub fn cancel_downtime(s: &Api, id: u64, author: &str) -> Result<(), String> {
    saved(&s.core, |core| {
        Ok(((), core.cancel_downtime_by(id, Some(author))?))
    })?;
    tracing::info!("{author} cancelled downtime {id}");
    Ok(())
}

async fn api_unack(AxState(s): AxState<Api>, a: Author, Query(q): Query<TargetQuery>) -> Response {
    let r = author(a).and_then(|who| unacknowledge(&s, &q.target, &who));
    answer(r.map(|()| serde_json::json!({ "unacknowledged": q.target })))
}

/// Schedules the downtime `req` asks for as `author`; its ids and the names of the
/// objects, once saved.
pub fn schedule_downtime(
    s: &Api,
    author: String,
    req: &DowntimeRequest,
) -> Result<(Vec<u64>, Vec<String>), String> {
    let selector = req.on.selector()?;
    let comment = crate::admin::check_comment(&req.comment)?;
    let d = humantime::parse_duration(&req.duration)
        .map_err(|e| format!("duration '{}': {e}", req.duration))?;
    let now = unix_now();
    let start = req.start.unwrap_or(now);
    saved(&s.core, |core| {
        let (start, end) =
            crate::admin::downtime_window(start, d, now, core.config.daemon.max_downtime)?;
        let targets = core.select(&selector)?;
        let (ids, saving) =
            core.schedule_downtime_targets(&targets, start, end, author, comment)?;
        Ok(((ids, core.names(&targets)), saving))
    })
}

async fn api_downtime(
    AxState(s): AxState<Api>,
    a: Author,
    Json(req): Json<DowntimeRequest>,
) -> Response {
    let r = author(a).and_then(|author| schedule_downtime(&s, author, &req));
    answer(
        r.map(
            |(ids, names)| serde_json::json!({ "id": ids.first(), "ids": ids, "objects": names }),
        ),
    )
}

/// Asks for the checks of `on` to run now as `author`: the names of those asked for
/// and of those without an active check.
pub fn recheck(s: &Api, author: &str, on: &Objects) -> Result<(Vec<String>, Vec<String>), String> {
    let selector = on.selector()?;
    let mut core = lock(&s.core);
    let targets = core.select(&selector)?;
    let (run, none): (Vec<_>, Vec<_>) = targets.iter().partition(|&&t| core.has_active_check(t));
    if run.is_empty() {
        return Err(format!("{on}: no active check to run"));
    }
    core.request_check(&run);
    tracing::info!("{author} asked for {} checks of {on} now", run.len());
    Ok((core.names(&run), core.names(&none)))
}

/// Asks for the checks of the objects named to run now; answers which (and which
/// have no active check to run).
async fn api_recheck(
    AxState(s): AxState<Api>,
    a: Author,
    Json(req): Json<RecheckRequest>,
) -> Response {
    let r = author(a).and_then(|author| recheck(&s, &author, &req.on));
    answer(r.map(|(run, none)| serde_json::json!({ "objects": run, "without_check": none })))
}

/// Switches active checks (`checks`) or notifications on or off; answered once saved.
fn switch(s: &Api, a: Author, req: &SwitchRequest, checks: bool) -> Response {
    let what = if checks {
        "active checks"
    } else {
        "notifications"
    };
    let r = author(a).and_then(|author| {
        let selector = req.on.selector()?;
        let names = saved(&s.core, |core| {
            let targets = core.select(&selector)?;
            let saving = if checks {
                core.set_checks_enabled(&targets, req.enabled)
            } else {
                core.set_notifications_enabled(&targets, req.enabled)
            };
            Ok((core.names(&targets), saving))
        })?;
        let done = if req.enabled { "enabled" } else { "disabled" };
        tracing::info!(
            "{author} {done} {what} of {} ({} objects)",
            req.on,
            names.len()
        );
        Ok(names)
    });
    let key = if checks {
        "active_checks"
    } else {
        "notifications"
    };
    answer(r.map(|names| serde_json::json!({ key: req.enabled, "objects": names })))
}

async fn api_checks(
    AxState(s): AxState<Api>,
    a: Author,
    Json(req): Json<SwitchRequest>,
) -> Response {
    switch(&s, a, &req, true)
}

async fn api_notifications(
    AxState(s): AxState<Api>,
    a: Author,
    Json(req): Json<SwitchRequest>,
) -> Response {
    switch(&s, a, &req, false)
}

/// Deletes a downtime or a comment by its id; answered once saved.
fn delete_by_id(
    s: &Api,
    a: Author,
    id: u64,
    delete: fn(&mut Core, u64, &str) -> Result<Saving, String>,
) -> Response {
    let r = author(a).and_then(|who| saved(&s.core, |core| Ok(((), delete(core, id, &who)?))));
    answer(r.map(|()| serde_json::json!({ "deleted": id })))
}

async fn api_cancel_downtime(AxState(s): AxState<Api>, a: Author, Path(id): Path<u64>) -> Response {
    delete_by_id(&s, a, id, |core, id, who| {
        core.cancel_downtime_by(id, Some(who))
    })
}

async fn api_downtimes(AxState(s): AxState<Api>) -> Json<Vec<DowntimeView>> {
    Json(lock(&s.core).downtimes())
}

async fn api_comment(
    AxState(s): AxState<Api>,
    a: Author,
    Json(req): Json<CommentRequest>,
) -> Response {
    let r = author(a).and_then(|author| {
        let text = crate::admin::check_input(&req.target, &req.comment)?;
        saved(&s.core, |core| {
            core.room_for_comment()?;
            core.add_comment(&req.target, author, text)
        })
    });
    answer(r.map(|id| serde_json::json!({ "id": id })))
}

async fn api_delete_comment(AxState(s): AxState<Api>, a: Author, Path(id): Path<u64>) -> Response {
    delete_by_id(&s, a, id, |core, id, _| core.delete_comment(id))
}

async fn api_comments(AxState(s): AxState<Api>) -> Json<Vec<CommentView>> {
    Json(lock(&s.core).comments())
}

/// A submitted passive result, applied as a check result (the submitter is logged).
async fn api_result(
    AxState(s): AxState<Api>,
    a: Author,
    Json(req): Json<crate::passive::SubmitRequest>,
) -> Response {
    let r = author(a).and_then(|who| {
        if req.target.len() > crate::admin::MAX_TARGET {
            return Err(format!(
                "the target name is longer than {} bytes",
                crate::admin::MAX_TARGET
            ));
        }
        if req.output.len() > 2 * crate::passive::MAX_OUTPUT {
            return Err(format!(
                "the output is longer than {} bytes",
                2 * crate::passive::MAX_OUTPUT
            ));
        }
        tracing::info!("api: result for {} submitted by {who}", req.target);
        lock(&s.core).submit(&req.target, &req.state, &req.output, unix_now())
    });
    answer(r.map(|()| serde_json::json!({ "submitted": req.target })))
}

async fn api_reload(AxState(s): AxState<Api>, a: Author) -> Response {
    let who = match author(a) {
        Ok(who) => who,
        Err(e) => return refuse(StatusCode::UNAUTHORIZED, e),
    };
    let (tx, rx) = oneshot::channel();
    if s.reload.send(tx).await.is_err() {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "the daemon is stopping");
    }
    match rx.await {
        Ok(Ok(summary)) => {
            // recorded in the (new) history with who asked; a hangup's by the loop
            let ticket = lock(&s.core).history_reload(Some(&who), unix_now());
            if let Some(t) = ticket {
                let _ = tokio::time::timeout(crate::recording::COMMIT_WAIT, t.done()).await;
            }
            Json(serde_json::json!({ "reloaded": true, "message": summary })).into_response()
        }
        Ok(Err(e)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(serde_json::json!({ "reloaded": false, "error": e })),
        )
            .into_response(),
        Err(_) => refuse(StatusCode::SERVICE_UNAVAILABLE, "the daemon is stopping"),
    }
}

/// Serves one connection: one request, headers and the whole exchange within their
/// timeouts.
async fn serve_connection<S>(stream: S, peer: Peer, router: Router)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;
    let service =
        hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(peer.clone());
            router.clone().oneshot(req)
        });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(false)
        .max_buf_size(16 * 1024)
        .serve_connection(TokioIo::new(stream), service);
    let _ = tokio::time::timeout(CONNECTION_TIMEOUT, conn).await;
}

/// Serves the API on the connections `accept` gives until `shutdown` completes: each
/// with its peer and the key its connections are counted under ([`Slots`]), `None` to
/// pass one over; a failed accept (its message) is logged and retried after a pause.
async fn serve<S, A>(
    router: Router,
    slots: Arc<Slots>,
    shutdown: impl Future<Output = ()>,
    mut accept: impl FnMut() -> A,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    A: Future<Output = Result<Option<(S, Peer, String)>, String>>,
{
    tokio::pin!(shutdown);
    loop {
        let (sock, peer, key) = tokio::select! {
            _ = &mut shutdown => return,
            a = accept() => match a {
                Ok(Some(a)) => a,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!("api: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let slot = match slots.take(&key) {
            Ok(s) => s,
            Err(full) => {
                tracing::warn!("api: {full}: closing the connection from {peer}");
                continue;
            }
        };
        let router = router.clone();
        tokio::spawn(async move {
            serve_connection(sock, peer, router).await;
            drop(slot);
        });
    }
}

/// Serves `router` (the API and the web UI: [`crate::web::app`]) on a TCP listener
/// until `shutdown` completes; connections are counted by the peer's address.
pub async fn serve_tcp(
    listener: tokio::net::TcpListener,
    router: Router,
    slots: Arc<Slots>,
    shutdown: impl Future<Output = ()>,
) {
    let listener = &listener;
    serve(router, slots, shutdown, || async move {
        let (sock, addr) = listener
            .accept()
            .await
            .map_err(|e| format!("accept: {e}"))?;
        let key = addr.ip().to_canonical().to_string();
        Ok(Some((sock, Peer::Remote(addr), key)))
    })
    .await
}

/// Serves `router` on the control socket until `shutdown` completes; the peer's uid
/// comes from the kernel, and connections are counted by it.
pub async fn serve_unix(
    listener: tokio::net::UnixListener,
    router: Router,
    slots: Arc<Slots>,
    shutdown: impl Future<Output = ()>,
) {
    let listener = &listener;
    serve(router, slots, shutdown, || async move {
        let (sock, _) = listener
            .accept()
            .await
            .map_err(|e| format!("accept on the control socket: {e}"))?;
        let Ok(cred) = sock.peer_cred() else {
            return Ok(None);
        };
        let peer = Peer::Local {
            uid: cred.uid(),
            pid: cred.pid().unwrap_or(0),
        };
        Ok(Some((sock, peer, format!("uid:{}", cred.uid()))))
    })
    .await
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
    // a service not checked yet (PENDING) has no state to show
    for (e, s) in svcs.iter().filter(|(e, _)| e.record.checked) {
        let hard = u8::from(e.record.state_type == crate::state::StateType::Hard);
        let _ = writeln!(
            out,
            "hcoop_service_state{{{},hard=\"{hard}\"}} {}",
            sl(s),
            e.record.state.exit_code()
        );
    }
    // one sample per service (none when the value is missing)
    type Gauge = (
        &'static str,
        &'static str,
        fn(&Entry<hcoop_plugins::plugin::State>, u64) -> Option<f64>,
    );
    let gauges: [Gauge; 3] = [
        (
            "hcoop_service_last_check_age_seconds",
            "Seconds since the last check.",
            |e, now| {
                let age = now.saturating_sub(e.record.last_check);
                e.record.checked.then_some(age as f64)
            },
        ),
        (
            "hcoop_service_latency_seconds",
            "Seconds the last check started after it was due.",
            |e, _| Some(e.latency),
        ),
        (
            "hcoop_service_execution_seconds",
            "Seconds the last check ran.",
            |e, _| Some(e.execution_time),
        ),
    ];
    for (name, help, value) in gauges {
        head(&mut out, name, help);
        for (e, s) in &svcs {
            if let Some(v) = value(e, now) {
                let _ = writeln!(out, "{name}{{{}}} {v}", sl(s));
            }
        }
    }
    head(
        &mut out,
        "hcoop_service_perfdata",
        "Performance data of the last check.",
    );
    for (e, s) in &svcs {
        // an undetermined value (`U`) is no sample
        for p in e.perfdata.iter().filter(|p| p.value.is_determined()) {
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
    for e in core.hosts.iter().filter(|e| e.record.checked) {
        let v = crate::forward::host_code(e.record.state);
        let _ = writeln!(out, "hcoop_host_state{{host=\"{}\"}} {v}", label(&e.key));
    }
    out.push_str(&render_scheduler_metrics(core));
    out
}

/// The daemon's own figures (checks run and how late they started, forwarding, the
/// state files) without the series of every host and service: quick to render under
/// the lock and to scrape at any number of services.
pub fn render_scheduler_metrics(core: &Core) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP hcoop_checks_total Checks run since the daemon started.\n# TYPE hcoop_checks_total gauge\nhcoop_checks_total {}",
        core.checks_run
    );
    crate::lateness::CHECKS.render(&mut out);
    core.forward.render_metrics(&mut out);
    if let Some(j) = &core.journal {
        j.render_metrics(&mut out);
    }
    out
}

async fn metrics(AxState(s): AxState<Api>) -> Response {
    let text = render_metrics(&lock(&s.core));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

async fn scheduler_metrics(AxState(s): AxState<Api>) -> Response {
    let text = render_scheduler_metrics(&lock(&s.core));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// What the tests of this server and of the web UI share: a core built from a
/// configuration's text, a check result made hard, one request through a router.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::exec::Outcome;
    use axum::body::{to_bytes, Body};
    use hcoop_plugins::plugin::CheckResult;
    use std::time::SystemTime;
    use tower::ServiceExt;

    /// The core of `config` (TOML text) with no saved state, and its daemon settings.
    pub fn core(config: &str) -> (Core, crate::config::Daemon) {
        let (core, _) = crate::daemon::tests::utc_core(config.into());
        let daemon = core.config.daemon.clone();
        (core, daemon)
    }

    /// Applies `result` to the object `name` ("host/service") three times, so a
    /// problem is hard; the object.
    pub fn hard(core: &mut Core, name: &str, result: CheckResult) -> Target {
        let Some(t) = core.find(name) else {
            panic!("no {name}")
        };
        let outcome = Outcome::new("LOAD", result, SystemTime::now(), Duration::from_millis(3));
        for _ in 0..3 {
            core.apply(t, &outcome, 0.0, unix_now());
        }
        t
    }

    /// Sends one request through `router` as `peer` would; returns the status, the
    /// headers and the body.
    pub async fn send(
        router: Router,
        peer: Peer,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let mut req = axum::http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut req = req.body(Body::from(body.to_string())).unwrap();
        req.extensions_mut().insert(peer);
        let resp = router.oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        (
            status,
            headers,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcoop_plugins::plugin::{CheckResult, State};

    const CONFIG: &str = "[[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n\n\
        [[service]]\nhost = \"h\"\nname = \"s\"\ncheck = \"check_load\"\n\n\
        [[service]]\nhost = \"h\"\nname = \"quiet\"\ncheck = \"check_load\"\n\n\
        [[hostgroup]]\nname = \"all\"\nalias = \"<All>\"\npattern = \".\"\n\n\
        [[servicegroup]]\nname = \"loads & co\"\nmembers = [\"h/s\"]\n";

    /// The API of a core with service h/s CRITICAL and h/quiet not checked yet; reloads
    /// asked for arrive on the receiver.
    fn api() -> (Api, mpsc::Receiver<ReloadRequest>) {
        let (mut core, daemon) = testing::core(CONFIG);
        let result = CheckResult::new(State::Critical, "load 9")
            .with_perf(hcoop_plugins::plugin::PerfData::new("load1", 9))
            .with_perf(hcoop_plugins::plugin::PerfData::new(
                "rta",
                hcoop_plugins::plugin::Value::Undetermined,
            ));
        testing::hard(&mut core, "h/s", result);
        let (reload, reloads) = mpsc::channel(1);
        let api = Api {
            core: Arc::new(std::sync::Mutex::new(core)),
            access: Arc::new(RwLock::new(Access::from_config(&daemon))),
            reload,
        };
        (api, reloads)
    }

    fn remote() -> Peer {
        Peer::Remote(([192, 0, 2, 1], 4000).into())
    }

    fn root() -> Peer {
        Peer::Local { uid: 0, pid: 1 }
    }

    /// Sends one request through the router as `peer` would; returns the status, the
    /// headers and the body.
    async fn send(
        api: &Api,
        peer: Peer,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        testing::send(router(api.clone()), peer, method, uri, headers, body).await
    }

    const JSON: (&str, &str) = ("content-type", "application/json");

    #[tokio::test]
    async fn reads_over_tcp_are_open() {
        let (api, _reloads) = api();
        let (status, _, body) = send(&api, remote(), Method::GET, "/api/services", &[], "").await;
        assert_eq!(status, StatusCode::OK);
        let views: Vec<View> = serde_json::from_str(&body).unwrap();
        let s = views.iter().find(|v| v.name() == "h/s").unwrap();
        assert_eq!(
            (s.state.as_str(), s.state_type.as_str()),
            ("CRITICAL", "HARD")
        );
        assert_eq!(s.output, "LOAD CRITICAL - load 9 | load1=9 rta=U\n");
        let quiet = views.iter().find(|v| v.name() == "h/quiet").unwrap();
        assert_eq!(quiet.state, "PENDING");
        let (_, _, body) = send(&api, remote(), Method::GET, "/api/problems", &[], "").await;
        let problems: Problems = serde_json::from_str(&body).unwrap();
        let names: Vec<String> = problems.services.iter().map(View::name).collect();
        assert_eq!(names, ["h/s"]);
        assert!(problems.hosts.is_empty());
        let (status, _, body) = send(&api, remote(), Method::GET, "/api/whoami", &[], "").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "{\"name\":null}"));
    }

    #[tokio::test]
    async fn writes_over_tcp_need_json_and_a_token() {
        let (api, _reloads) = api();
        let ack = r#"{"target":"h/s","comment":"on it"}"#;
        // a form post (what a page elsewhere can send) is refused before anything else
        let (status, _, body) = send(&api, remote(), Method::POST, "/api/ack", &[], ack).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(body.contains("application/json"), "{body}");
        // so is a request a browser marks as cross-site
        let cross = [JSON, ("sec-fetch-site", "cross-site")];
        let (status, _, _) = send(&api, remote(), Method::POST, "/api/ack", &cross, ack).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let other = [
            JSON,
            ("origin", "http://evil.example"),
            ("host", "mon:9667"),
        ];
        let (status, _, _) = send(&api, remote(), Method::POST, "/api/ack", &other, ack).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // JSON without credentials: 401, offering bearer and basic
        let (status, headers, body) =
            send(&api, remote(), Method::POST, "/api/ack", &[JSON], ack).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(body.contains("no credentials_file"), "{body}");
        let offered: Vec<_> = headers.get_all(header::WWW_AUTHENTICATE).iter().collect();
        assert_eq!(offered.len(), 2);
        assert!(!api.core.lock().unwrap().services[0].record.acknowledged());
    }

    #[tokio::test]
    async fn the_control_socket_acts_as_its_peer() {
        let (api, _reloads) = api();
        let ack = r#"{"target":"h/s","comment":"on it"}"#;
        let nobody = Peer::Local { uid: 65534, pid: 2 };
        let (status, _, body) = send(&api, nobody, Method::POST, "/api/ack", &[], ack).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(body.contains("may not use the control socket"), "{body}");
        let (status, _, body) = send(&api, root(), Method::POST, "/api/ack", &[JSON], ack).await;
        assert_eq!(
            (status, body.as_str()),
            (
                StatusCode::OK,
                "{\"acknowledged\":\"h/s\",\"objects\":[\"h/s\"]}"
            )
        );
        let (_, _, body) = send(&api, root(), Method::GET, "/api/services", &[], "").await;
        let views: Vec<View> = serde_json::from_str(&body).unwrap();
        let s = views.iter().find(|v| v.name() == "h/s").unwrap();
        assert!(s.acknowledged);
        assert_eq!(s.ack.as_ref().unwrap().author, "root");
        // a second acknowledgement of an unknown target is a 400 with the reason
        let bad = r#"{"target":"h/none","comment":"x"}"#;
        let (status, _, body) = send(&api, root(), Method::POST, "/api/ack", &[JSON], bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("no host or service 'h/none'"), "{body}");
        let (status, _, _) =
            send(&api, root(), Method::DELETE, "/api/ack?target=h/s", &[], "").await;
        assert_eq!(status, StatusCode::OK);
        let (_, _, body) = send(&api, root(), Method::GET, "/api/whoami", &[], "").await;
        assert_eq!(body, "{\"name\":\"root\"}");
    }

    /// One service's view.
    async fn service_view(api: &Api, name: &str) -> View {
        let (_, _, body) = send(api, root(), Method::GET, "/api/services", &[], "").await;
        let views: Vec<View> = serde_json::from_str(&body).unwrap();
        views.into_iter().find(|v| v.name() == name).unwrap()
    }

    #[tokio::test]
    async fn checks_and_notifications_are_switched_and_checks_asked_for() {
        let (api, _reloads) = api();
        let post = |uri: &'static str, body: &'static str| {
            let api = api.clone();
            async move { send(&api, root(), Method::POST, uri, &[JSON], body).await }
        };
        let v = service_view(&api, "h/s").await;
        assert!(v.active_checks_enabled && v.notifications_enabled);
        let (status, _, body) = post("/api/checks", r#"{"target":"h/s","enabled":false}"#).await;
        assert_eq!(
            (status, body.as_str()),
            (
                StatusCode::OK,
                r#"{"active_checks":false,"objects":["h/s"]}"#
            )
        );
        let (status, _, body) =
            post("/api/notifications", r#"{"target":"h/*","enabled":false}"#).await;
        assert_eq!(
            (status, body.as_str()),
            (
                StatusCode::OK,
                r#"{"notifications":false,"objects":["h","h/s","h/quiet"]}"#
            )
        );
        let v = service_view(&api, "h/s").await;
        assert!(!v.active_checks_enabled && !v.notifications_enabled);
        let quiet = service_view(&api, "h/quiet").await;
        assert!(quiet.active_checks_enabled && !quiet.notifications_enabled);
        {
            let core = api.core.lock().unwrap();
            let s = core.find("h/s").unwrap();
            assert_eq!(
                core.check_held(s, unix_now()).as_deref(),
                Some("active checks disabled")
            );
        }
        // checks asked for now: the host has none to run
        let (status, _, body) = post("/api/recheck", r#"{"target":"h/*"}"#).await;
        assert_eq!(
            (status, body.as_str()),
            (
                StatusCode::OK,
                r#"{"objects":["h/s","h/quiet"],"without_check":["h"]}"#
            )
        );
        assert_eq!(api.core.lock().unwrap().requested.len(), 2);
        let (status, _, body) = post("/api/recheck", r#"{"target":"h"}"#).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("h: no active check to run"), "{body}");
        // on again
        let (status, _, _) = post("/api/checks", r#"{"target":"h/s","enabled":true}"#).await;
        assert_eq!(status, StatusCode::OK);
        assert!(service_view(&api, "h/s").await.active_checks_enabled);
    }

    #[tokio::test]
    async fn admin_writes_name_their_objects_once() {
        let (api, _reloads) = api();
        let post = |uri: &'static str, body: &'static str| {
            let api = api.clone();
            async move { send(&api, root(), Method::POST, uri, &[JSON], body).await }
        };
        for (uri, body, why) in [
            (
                "/api/recheck",
                r#"{"target":"h","hostgroup":"web"}"#,
                "only one of target, hostgroup, servicegroup",
            ),
            (
                "/api/checks",
                r#"{"enabled":true}"#,
                "one of target, hostgroup, servicegroup",
            ),
            (
                "/api/ack",
                r#"{"hostgroup":"","comment":"x"}"#,
                "the name of the objects is empty",
            ),
            (
                "/api/notifications",
                r#"{"target":"h/none","enabled":true}"#,
                "no host or service 'h/none'",
            ),
            (
                "/api/recheck",
                r#"{"hostgroup":"nowhere"}"#,
                "no host group 'nowhere'",
            ),
            (
                "/api/downtime",
                r#"{"servicegroup":"nothing","duration":"1h","comment":"x"}"#,
                "no service group 'nothing'",
            ),
        ] {
            let (status, _, text) = post(uri, body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{uri} {body}: {text}");
            assert!(text.contains(why), "{uri} {body}: {text}");
        }
        // a switch needs its value
        let (status, _, _) = post("/api/checks", r#"{"target":"h"}"#).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        // nothing changed
        let v = service_view(&api, "h/s").await;
        assert!(v.active_checks_enabled && v.notifications_enabled && !v.acknowledged);
        assert!(api.core.lock().unwrap().requested.is_empty());
        // writes over TCP need credentials
        let (status, _, _) = send(
            &api,
            remote(),
            Method::POST,
            "/api/checks",
            &[JSON],
            r#"{"target":"h/s","enabled":false}"#,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(service_view(&api, "h/s").await.active_checks_enabled);
        // a downtime of a host and its services: one each
        let (status, _, body) = post(
            "/api/downtime",
            r#"{"target":"h/*","duration":"1h","comment":"swap"}"#,
        )
        .await;
        assert_eq!(
            (status, body.as_str()),
            (
                StatusCode::OK,
                r#"{"id":1,"ids":[1,2,3],"objects":["h","h/s","h/quiet"]}"#
            )
        );
        // the problems of a host and its services are acknowledged, the rest passed over
        let (status, _, body) = post("/api/ack", r#"{"target":"h/*","comment":"x"}"#).await;
        assert_eq!(
            (status, body.as_str()),
            (
                StatusCode::OK,
                r#"{"acknowledged":"h/*","objects":["h/s"]}"#
            )
        );
    }

    #[tokio::test]
    async fn bodies_are_bounded() {
        let (api, _reloads) = api();
        let big = format!(
            r#"{{"target":"h/s","comment":"{}"}}"#,
            "x".repeat(MAX_BODY + 1)
        );
        let (status, _, _) = send(&api, root(), Method::POST, "/api/comment", &[JSON], &big).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        let long = format!(
            r#"{{"target":"h/s","comment":"{}"}}"#,
            "x".repeat(MAX_COMMENT + 1)
        );
        let (status, _, body) =
            send(&api, root(), Method::POST, "/api/comment", &[JSON], &long).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("more than 1024"), "{body}");
    }

    #[tokio::test]
    async fn reload_answers_what_the_loop_answered() {
        let (api, mut reloads) = api();
        let answering = tokio::spawn(async move {
            let reply = reloads.recv().await.unwrap();
            let _ = reply.send(Ok("1 hosts, 2 services".into()));
            let reply = reloads.recv().await.unwrap();
            let _ = reply.send(Err("configuration invalid, the running one is kept".into()));
        });
        let (status, _, body) = send(&api, root(), Method::POST, "/api/reload", &[], "").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("\"reloaded\":true"), "{body}");
        let (status, _, body) = send(&api, root(), Method::POST, "/api/reload", &[], "").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("the running one is kept"), "{body}");
        answering.await.unwrap();
        // nobody left to reload: the daemon is stopping
        let (status, _, _) = send(&api, root(), Method::POST, "/api/reload", &[], "").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    }

    #[tokio::test]
    async fn metrics() {
        let (api, _reloads) = api();
        let (status, headers, body) = send(&api, remote(), Method::GET, "/metrics", &[], "").await;
        assert_eq!(status, StatusCode::OK);
        assert!(headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain"));
        assert!(
            body.contains("hcoop_service_state{host=\"h\",service=\"s\",hard=\"1\"} 2\n"),
            "{body}"
        );
        assert!(!body.contains("service=\"quiet\",hard"), "{body}");
        assert!(body.contains(
            "hcoop_service_perfdata{host=\"h\",service=\"s\",label=\"load1\",uom=\"\"} 9\n"
        ));
        // an undetermined value is no sample
        assert!(!body.contains("label=\"rta\""), "{body}");
        assert!(body.contains("hcoop_checks_total 3\n"), "{body}");
        // the gauges of each service: a service not checked yet has no age
        for (series, s) in [
            // checked within the second or so before the scrape
            ("last_check_age_seconds", "s\"} "),
            ("latency_seconds", "s\"} 0\n"),
            ("execution_seconds", "s\"} 0.003\n"),
            ("latency_seconds", "quiet\"} 0\n"),
            ("execution_seconds", "quiet\"} 0\n"),
        ] {
            let line = format!("hcoop_service_{series}{{host=\"h\",service=\"{s}");
            assert!(body.contains(&line), "{line} in {body}");
        }
        assert!(!body.contains("age_seconds{host=\"h\",service=\"quiet\""));
        assert!(body.contains("# TYPE hcoop_check_lateness_seconds histogram\n"));
        // the daemon's own figures alone
        let (status, _, own) =
            send(&api, remote(), Method::GET, "/metrics/scheduler", &[], "").await;
        assert_eq!(status, StatusCode::OK);
        assert!(own.contains("hcoop_checks_total 3\n"), "{own}");
        assert!(own.contains("# TYPE hcoop_check_lateness_seconds histogram\n"));
        assert!(!own.contains("hcoop_service_"), "{own}");
    }

    #[tokio::test]
    async fn groups_filter_the_views_and_are_counted() {
        let (api, _reloads) = api();
        let get = |uri: &'static str| {
            let api = api.clone();
            async move { send(&api, remote(), Method::GET, uri, &[], "").await }
        };
        let names = |body: &str| -> Vec<String> {
            let views: Vec<View> = serde_json::from_str(body).unwrap();
            views.iter().map(View::name).collect()
        };
        // a service group: its services, and their hosts
        let (status, _, body) = get("/api/services?servicegroup=loads%20%26%20co").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(names(&body), ["h/s"]);
        let views: Vec<View> = serde_json::from_str(&body).unwrap();
        assert_eq!(views[0].servicegroups, Some(vec!["loads & co".to_string()]));
        assert_eq!(views[0].hostgroups, None);
        let (_, _, body) = get("/api/hosts?servicegroup=loads%20%26%20co").await;
        assert_eq!(names(&body), ["h"]);
        // a host group: its hosts and their services; each view names its groups
        let (_, _, body) = get("/api/services?hostgroup=all").await;
        assert_eq!(names(&body), ["h/s", "h/quiet"]);
        let views: Vec<View> = serde_json::from_str(&body).unwrap();
        assert_eq!(views[1].servicegroups, Some(vec![]));
        let (_, _, body) = get("/api/hosts").await;
        let views: Vec<View> = serde_json::from_str(&body).unwrap();
        assert_eq!(views[0].hostgroups, Some(vec!["all".to_string()]));
        let (_, _, body) = get("/api/problems?hostgroup=all").await;
        let problems: Problems = serde_json::from_str(&body).unwrap();
        let names: Vec<String> = problems.services.iter().map(View::name).collect();
        assert_eq!(names, ["h/s"]);
        // unknown groups: 404 with the reason; two at once: 400
        for (uri, error) in [
            ("/api/hosts?hostgroup=none", "no host group 'none'"),
            ("/api/services?servicegroup=all", "no service group 'all'"),
            ("/api/problems?hostgroup=x", "no host group 'x'"),
        ] {
            let (status, _, body) = get(uri).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
            assert_eq!(body, serde_json::json!({ "error": error }).to_string());
        }
        let (status, _, body) = get("/api/hosts?hostgroup=all&servicegroup=loads").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("give one of"), "{body}");
        // every group with its counts
        let (status, _, body) = get("/api/groups").await;
        assert_eq!(status, StatusCode::OK);
        let groups: GroupSummaries = serde_json::from_str(&body).unwrap();
        let counts = |pairs: &[(&str, usize)]| -> std::collections::BTreeMap<String, usize> {
            pairs.iter().map(|&(k, v)| (k.to_string(), v)).collect()
        };
        assert_eq!(
            groups,
            GroupSummaries {
                hostgroups: vec![crate::groups::GroupSummary {
                    name: "all".into(),
                    alias: "<All>".into(),
                    members: 1,
                    hosts: counts(&[("UP", 1)]),
                    services: counts(&[("CRITICAL", 1), ("PENDING", 1)]),
                    problems: 1,
                }],
                servicegroups: vec![crate::groups::GroupSummary {
                    name: "loads & co".into(),
                    alias: String::new(),
                    members: 1,
                    hosts: counts(&[("UP", 1)]),
                    services: counts(&[("CRITICAL", 1)]),
                    problems: 1,
                }],
            }
        );
    }
}
