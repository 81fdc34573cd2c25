//! See the module documentation of [`crate::web`].
//!
//! Signing in: `GET /login` shows a form asking for a token of the credentials file
//! (the same tokens the API takes as `Authorization: Bearer`), `POST /login` checks it
//! and starts a session, `POST /logout` ends it. A session is a 256-bit random id in the
//! cookie [`COOKIE`] (HttpOnly, SameSite=Strict, Path=/, [`LIFETIME`]), kept in memory
//! only (a restart signs everyone out), at most [`MAX_SESSIONS`] at once (the oldest
//! dropped). Each session has its own 256-bit CSRF token, which every form of its
//! carries. A session acts only while its user's token is still the one it was started
//! with: a token removed or replaced in the credentials file (and reloaded) ends it.
//! Failed sign-ins are counted per peer address: after [`MAX_FAILURES`] within
//! [`FAILURE_WINDOW`], a wrong token from that address is refused (429) until the
//! window passes; a right token still signs in.

use crate::auth::Peer;
use crate::http::{Access, Api};
use crate::web::escape;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use ring::digest::{digest, SHA256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

/// The session cookie's name.
pub const COOKIE: &str = "hcoop_session";
/// How long a session lasts from sign-in.
pub const LIFETIME: Duration = Duration::from_secs(8 * 3600);
/// The most sessions kept at once; a new one beyond that drops the oldest.
pub const MAX_SESSIONS: usize = 1000;
/// Failed sign-ins allowed per peer address within [`FAILURE_WINDOW`].
pub const MAX_FAILURES: u32 = 5;
/// The window failed sign-ins are counted in.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// The most peer addresses whose failures are remembered.
const MAX_PEERS: usize = 10_000;

/// Who a page is rendered for: a signed-in user (with the CSRF token every form of
/// theirs carries), or anyone (read-only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Viewer {
    /// The signed-in user's name (the token's NAME).
    pub user: Option<String>,
    /// The session's CSRF token, put in every form.
    pub csrf: Option<String>,
}

impl Viewer {
    /// Whether `token` is this session's CSRF token (compared in constant time); false
    /// for anyone not signed in.
    pub fn csrf_matches(&self, token: &str) -> bool {
        self.csrf
            .as_deref()
            .is_some_and(|mine| same(mine.as_bytes(), token.as_bytes()))
    }
}

impl FromRequestParts<Api> for Viewer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, api: &Api) -> Result<Viewer, Self::Rejection> {
        Ok(viewer(&parts.headers, api))
    }
}

/// The viewer of a request with these headers: the session its cookie names, if that
/// session is alive and its token still in the credentials file.
pub fn viewer(headers: &HeaderMap, api: &Api) -> Viewer {
    let Some(id) = cookie(headers, COOKIE) else {
        return Viewer::default();
    };
    let store = sessions(api);
    let Some(s) = store.get(id, Instant::now()) else {
        return Viewer::default();
    };
    let valid = match &api.access.read().expect("access lock").tokens {
        Ok(tokens) => tokens.holds(&s.user, &s.token_hash),
        Err(_) => false,
    };
    if !valid {
        store.remove(id);
        return Viewer::default();
    }
    Viewer {
        user: Some(s.user),
        csrf: Some(s.csrf),
    }
}

/// Constant-time equality of two byte strings (the length is not secret).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn sha256(text: &str) -> [u8; 32] {
    let d = digest(&SHA256, text.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// 256 random bits from the system's generator, as 64 hexadecimal digits.
fn random_hex() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| "the system's random generator failed".to_string())?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A live session.
#[derive(Debug, Clone)]
struct Session {
    user: String,
    /// The SHA-256 of the token signed in with.
    token_hash: [u8; 32],
    csrf: String,
    created: Instant,
}

#[derive(Default)]
struct Inner {
    /// By the SHA-256 of the session id (the id itself is not kept).
    sessions: HashMap<[u8; 32], Session>,
    /// Failed sign-ins per peer: how many, since when.
    failures: HashMap<String, (u32, Instant)>,
}

/// The sessions of one API state (see [`sessions`]).
#[derive(Default)]
pub struct Sessions {
    inner: Mutex<Inner>,
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a session for `user` signed in with `token`; its (id, CSRF token).
    fn create(&self, user: &str, token: &str, now: Instant) -> Result<(String, String), String> {
        let id = random_hex()?;
        let csrf = random_hex()?;
        let mut inner = self.lock();
        inner
            .sessions
            .retain(|_, s| now.saturating_duration_since(s.created) < LIFETIME);
        while inner.sessions.len() >= MAX_SESSIONS {
            let oldest = inner
                .sessions
                .iter()
                .min_by_key(|(_, s)| s.created)
                .map(|(k, _)| *k);
            match oldest {
                Some(k) => inner.sessions.remove(&k),
                None => break,
            };
        }
        inner.sessions.insert(
            sha256(&id),
            Session {
                user: user.to_string(),
                token_hash: sha256(token),
                csrf: csrf.clone(),
                created: now,
            },
        );
        Ok((id, csrf))
    }

    /// The live session of this id.
    fn get(&self, id: &str, now: Instant) -> Option<Session> {
        let key = sha256(id);
        let mut inner = self.lock();
        let s = inner.sessions.get(&key)?.clone();
        if now.saturating_duration_since(s.created) >= LIFETIME {
            inner.sessions.remove(&key);
            return None;
        }
        Some(s)
    }

    /// Ends the session of this id.
    fn remove(&self, id: &str) {
        self.lock().sessions.remove(&sha256(id));
    }

    /// How many sessions are kept.
    pub fn len(&self) -> usize {
        self.lock().sessions.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How long `peer` must wait before trying to sign in again, if it must.
    fn blocked(&self, peer: &str, now: Instant) -> Option<Duration> {
        let inner = self.lock();
        let (n, since) = inner.failures.get(peer)?;
        let passed = now.saturating_duration_since(*since);
        (*n >= MAX_FAILURES && passed < FAILURE_WINDOW).then(|| FAILURE_WINDOW - passed)
    }

    /// Counts a failed sign-in of `peer`.
    fn failed(&self, peer: &str, now: Instant) {
        let mut inner = self.lock();
        if inner.failures.len() >= MAX_PEERS && !inner.failures.contains_key(peer) {
            inner
                .failures
                .retain(|_, (_, since)| now.saturating_duration_since(*since) < FAILURE_WINDOW);
            if inner.failures.len() >= MAX_PEERS {
                let any = inner.failures.keys().next().cloned();
                if let Some(k) = any {
                    inner.failures.remove(&k);
                }
            }
        }
        let e = inner.failures.entry(peer.to_string()).or_insert((0, now));
        if now.saturating_duration_since(e.1) >= FAILURE_WINDOW {
            *e = (0, now);
        }
        e.0 += 1;
    }
}

/// The sessions of `api` (of its access rules: every clone of an [`Api`] shares them).
/// They live beside the API state, not in it, so that the API layer knows nothing of
/// the web UI; an entry goes when its API state does.
pub fn sessions(api: &Api) -> Arc<Sessions> {
    type Registry = Mutex<Vec<(Weak<RwLock<Access>>, Arc<Sessions>)>>;
    static REGISTRY: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
    let mut all = REGISTRY
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    all.retain(|(w, _)| w.strong_count() > 0);
    let me = Arc::downgrade(&api.access);
    if let Some((_, s)) = all.iter().find(|(w, _)| w.ptr_eq(&me)) {
        return s.clone();
    }
    let s = Arc::new(Sessions::default());
    all.push((me, s.clone()));
    s
}

/// The value of the cookie `name` in the request's Cookie headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// The fields of an `application/x-www-form-urlencoded` body, decoded; Err when the
/// body is not UTF-8 after decoding.
pub fn form_fields(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    fn decode(part: &str) -> Result<String, String> {
        let bytes = part.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                    match u8::from_str_radix(hex, 16) {
                        Ok(b) => {
                            out.push(b);
                            i += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8(out).map_err(|_| "the form is not UTF-8".to_string())
    }
    let text = std::str::from_utf8(body).map_err(|_| "the form is not UTF-8".to_string())?;
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

/// The first value of field `name`.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Whether the request could come from a page of another site (the API's rule,
/// [`crate::http::cross_origin`], which HTML forms of this site pass).
pub fn cross_origin(headers: &HeaderMap) -> Option<&'static str> {
    crate::http::cross_origin(headers)
}

/// A page of this part of the UI in the common layout ([`crate::web::pages::layout`]):
/// a title and its escaped-already body; never cached. (Every web answer gets the
/// security headers, CSP included, from [`crate::web::pages::security_headers`].)
pub fn page(status: StatusCode, title: &str, viewer: &Viewer, body: &str) -> Response {
    let html =
        crate::web::pages::layout(title, viewer, &format!("<h1>{}</h1>{body}", escape(title)));
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A refusal: a page with the status and a one-line reason.
pub fn refusal(status: StatusCode, viewer: &Viewer, reason: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Refused");
    let mut body = format!("<p id=\"reason\">{}</p>", escape(reason));
    if status == StatusCode::UNAUTHORIZED {
        body.push_str("<p><a href=\"/login\">Sign in</a></p>");
    }
    page(status, title, viewer, &body)
}

/// A 303 redirect to `to` (a path of this site).
pub fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// [`see_other`] `to`, setting the session cookie to `id` (`None` drops it).
fn see_other_with_cookie(to: &str, id: Option<&str>, headers: &HeaderMap) -> Response {
    let mut r = see_other(to);
    r.headers_mut()
        .insert(header::SET_COOKIE, set_cookie(id, headers));
    r
}

/// The peer as failed sign-ins are counted: its address (or uid on the control socket).
fn peer_key(peer: &Peer) -> String {
    match peer {
        Peer::Remote(a) => a.ip().to_canonical().to_string(),
        Peer::Local { uid, .. } => format!("uid:{uid}"),
    }
}

fn peer_of(peer: Option<Extension<Peer>>) -> Peer {
    peer.map(|Extension(p)| p)
        .unwrap_or(Peer::Remote(([0, 0, 0, 0], 0).into()))
}

/// The Set-Cookie value of a session id (`None`: the cookie removed). Secure when the
/// request came through a TLS proxy (`X-Forwarded-Proto: https`); the daemon itself
/// serves plain HTTP.
fn set_cookie(id: Option<&str>, headers: &HeaderMap) -> HeaderValue {
    let secure = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    let (value, age) = match id {
        Some(id) => (id, LIFETIME.as_secs()),
        None => ("", 0),
    };
    let text = format!(
        "{COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={age}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&text).expect("a cookie of hexadecimal digits")
}

/// A path of this site to go back to after signing in (`next`), else `/`.
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.contains('\\')
                && !p.chars().any(char::is_control) =>
        {
            p.to_string()
        }
        _ => "/".to_string(),
    }
}

fn login_form(next: &str, problem: Option<&str>) -> String {
    let problem = problem
        .map(|p| format!("<p id=\"reason\" class=\"error\">{}</p>", escape(p)))
        .unwrap_or_default();
    format!(
        "{problem}<form id=\"login-form\" method=\"post\" action=\"/login\">\
         <input type=\"hidden\" name=\"next\" value=\"{}\">\
         <label for=\"token\">Token</label> \
         <input type=\"password\" name=\"token\" id=\"token\" autocomplete=\"current-password\" required> \
         <button type=\"submit\" id=\"sign-in\">Sign in</button></form>\
         <p>A token of the daemon's credentials file (<code>hcoop-monitor token NAME</code> makes one).</p>",
        escape(next)
    )
}

#[derive(serde::Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_page(
    State(api): State<Api>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<NextQuery>,
) -> Response {
    let v = viewer(&headers, &api);
    let next = local_path(q.next.as_deref());
    match &v.user {
        Some(user) => page(
            StatusCode::OK,
            "Signed in",
            &v,
            &format!(
                "<p>Signed in as {}.</p>{}",
                escape(user),
                crate::web::forms::account(&v).replacen(" id=\"user\"", "", 1)
            ),
        ),
        None => page(StatusCode::OK, "Sign in", &v, &login_form(&next, None)),
    }
}

async fn login(
    State(api): State<Api>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let peer = peer_of(peer);
    let key = peer_key(&peer);
    let store = sessions(&api);
    let now = Instant::now();
    let refuse = |status: StatusCode, reason: &str, next: &str| {
        tracing::warn!("web: refused sign-in from {peer}: {reason}");
        let anyone = Viewer::default();
        let mut r = page(status, "Sign in", &anyone, &login_form(next, Some(reason)));
        if status == StatusCode::TOO_MANY_REQUESTS {
            if let Some(wait) = store.blocked(&key, now) {
                r.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(wait.as_secs().max(1)),
                );
            }
        }
        r
    };
    if let Some(reason) = cross_origin(&headers) {
        return refuse(StatusCode::FORBIDDEN, reason, "/");
    }
    let fields = match form_fields(&body) {
        Ok(f) => f,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e, "/"),
    };
    let next = local_path(field(&fields, "next"));
    let token = field(&fields, "token").unwrap_or("").trim();
    if token.is_empty() {
        return refuse(StatusCode::BAD_REQUEST, "no token given", &next);
    }
    // The token is checked first: a right one signs in even from a blocked address
    // (many users may share one, 127.0.0.1 say, and one of them must not lock out the
    // rest); the limit only slows the guessing of wrong ones.
    let user = match &api.access.read().expect("access lock").tokens {
        Err(why) => Err(why.clone()),
        Ok(tokens) => tokens
            .verify(token)
            .map(str::to_string)
            .ok_or_else(|| "unknown token".to_string()),
    };
    let user = match user {
        Ok(u) => u,
        Err(why) => {
            if let Some(wait) = store.blocked(&key, now) {
                let reason = format!(
                    "too many failed sign-ins from this address: try again in {} s",
                    wait.as_secs().max(1)
                );
                return refuse(StatusCode::TOO_MANY_REQUESTS, &reason, &next);
            }
            store.failed(&key, now);
            return refuse(StatusCode::UNAUTHORIZED, &why, &next);
        }
    };
    match store.create(&user, token, now) {
        Ok((id, _)) => {
            tracing::info!("web: {user} signed in from {peer}");
            see_other_with_cookie(&next, Some(&id), &headers)
        }
        Err(e) => refusal(StatusCode::INTERNAL_SERVER_ERROR, &Viewer::default(), &e),
    }
}

async fn logout(
    State(api): State<Api>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let peer = peer_of(peer);
    if let Some(reason) = cross_origin(&headers) {
        tracing::warn!("web: refused sign-out from {peer}: {reason}");
        return refusal(StatusCode::FORBIDDEN, &Viewer::default(), reason);
    }
    let v = viewer(&headers, &api);
    let Some(user) = &v.user else {
        // nothing to end: the cookie is dropped all the same
        return see_other_with_cookie("/", None, &headers);
    };
    let fields = form_fields(&body).unwrap_or_default();
    if !v.csrf_matches(field(&fields, "csrf").unwrap_or("")) {
        tracing::warn!("web: refused sign-out of {user} from {peer}: wrong CSRF token");
        return refusal(
            StatusCode::FORBIDDEN,
            &v,
            "the form's CSRF token is missing or wrong",
        );
    }
    if let Some(id) = cookie(&headers, COOKIE) {
        sessions(&api).remove(id);
    }
    tracing::info!("web: {user} signed out from {peer}");
    see_other_with_cookie("/", None, &headers)
}

/// Who may read the UI's pages (every route but the API's, which have their own guard,
/// signing in and out, the actions, which check their session, and the static files):
/// on the control socket its admins, as for the API; over TCP anyone, unless
/// `require_auth_for_reads`, then a signed-in user or a token holder (anyone else is
/// sent to `/login`, and back once signed in).
pub async fn guard(
    State(api): State<Api>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = req.uri().path();
    let own_rules = path.starts_with("/api/")
        || path.starts_with("/static/")
        || path.starts_with("/action/")
        || path == "/login"
        || path == "/logout";
    if own_rules {
        return next.run(req).await;
    }
    let peer = req.extensions().get::<Peer>().cloned();
    let allowed = {
        let access = api.access.read().expect("access lock");
        match &peer {
            Some(Peer::Local { uid, .. }) => access.admins.allows(*uid),
            _ if !access.require_auth_for_reads => true,
            _ => {
                let bearer = req
                    .headers()
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(crate::auth::token_of);
                match (&access.tokens, bearer) {
                    (Ok(tokens), Some(t)) => tokens.verify(&t).is_some(),
                    _ => false,
                }
            }
        }
    };
    if allowed || viewer(req.headers(), &api).user.is_some() {
        return next.run(req).await;
    }
    match peer {
        Some(p @ Peer::Local { .. }) => {
            let reason = "this user may not use the control socket";
            tracing::warn!("web: refused {path} from {p}: {reason}");
            refusal(StatusCode::UNAUTHORIZED, &Viewer::default(), reason)
        }
        _ => {
            let next = req
                .uri()
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_string();
            see_other(&format!(
                "/login?next={}",
                crate::web::forms::query_value(&next)
            ))
        }
    }
}

/// The routes of this part of the web UI.
pub fn routes() -> Router<Api> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .layer(DefaultBodyLimit::max(crate::http::MAX_BODY))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_and_the_oldest_go_first() {
        let store = Sessions::default();
        let t0 = Instant::now();
        let (first, csrf) = store.create("alice", "tok", t0).unwrap();
        assert_eq!((first.len(), csrf.len()), (64, 64));
        assert_ne!(first, csrf);
        let s = store
            .get(&first, t0 + LIFETIME - Duration::from_secs(1))
            .unwrap();
        assert_eq!((s.user.as_str(), s.csrf.as_str()), ("alice", csrf.as_str()));
        assert_eq!(s.token_hash, sha256("tok"));
        assert!(store.get(&first, t0 + LIFETIME).is_none());
        assert!(store.is_empty());
        // full: each new session drops the oldest
        let ids: Vec<String> = (0..MAX_SESSIONS as u64 + 2)
            .map(|i| {
                let at = t0 + Duration::from_millis(i);
                store.create("bob", "tok", at).unwrap().0
            })
            .collect();
        assert_eq!(store.len(), MAX_SESSIONS);
        assert!(store.get(&ids[0], t0).is_none());
        assert!(store.get(&ids[1], t0).is_none());
        assert!(store.get(&ids[2], t0).is_some());
        store.remove(&ids[2]);
        assert!(store.get(&ids[2], t0).is_none());
    }

    #[test]
    fn failures_block_a_peer_for_the_window() {
        let store = Sessions::default();
        let t0 = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert_eq!(store.blocked("192.0.2.1", t0), None);
            store.failed("192.0.2.1", t0);
        }
        assert_eq!(store.blocked("192.0.2.1", t0), Some(FAILURE_WINDOW));
        assert_eq!(store.blocked("192.0.2.2", t0), None);
        assert_eq!(store.blocked("192.0.2.1", t0 + FAILURE_WINDOW), None);
        // a new window starts the count again
        store.failed("192.0.2.1", t0 + FAILURE_WINDOW);
        assert_eq!(store.blocked("192.0.2.1", t0 + FAILURE_WINDOW), None);
    }

    #[test]
    fn cookies_and_next_paths() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, "a=1; hcoop_session=abc".parse().unwrap());
        h.append(header::COOKIE, "b=2".parse().unwrap());
        assert_eq!(cookie(&h, COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "b"), Some("2"));
        assert_eq!(cookie(&h, "c"), None);
        assert_eq!(
            local_path(Some("/service/h/s?range=4h")),
            "/service/h/s?range=4h"
        );
        for outside in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil",
            "x",
            "",
        ] {
            assert_eq!(local_path(Some(outside)), "/", "{outside}");
        }
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
    }
}
