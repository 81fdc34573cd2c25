//! See the module documentation of [`crate::web`].
//!
//! The action forms a signed-in user sees on a host or service page, and their handlers
//! (`POST /action/{ack,unack,downtime,cancel,recheck}`). A form is acted on only with
//! a live session ([`crate::web::session`]), the session's CSRF token in its `csrf`
//! field and a same-origin request ([`crate::http::cross_origin`]); it acts through
//! the same functions as the JSON API ([`crate::http::acknowledge`], ...), as the
//! session's user, and answers with a redirect back to the object's page, the code of
//! what it did in its query (`?done=ack`, shown as a fixed message by [`flash`]), or a
//! page with the status and a one-line reason.

use crate::auth::Peer;
use crate::http::{Api, DowntimeRequest, Objects};
use crate::state::{Ack, Downtime, Time};
use crate::web::escape;
use crate::web::session::{self, field, Viewer};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use axum::{Extension, Router};

/// The page header's account part: a "Sign in" link for anyone, the user's name and a
/// sign-out form for a signed-in user.
pub fn account(viewer: &Viewer) -> String {
    match (&viewer.user, &viewer.csrf) {
        (Some(user), Some(csrf)) => format!(
            "<span id=\"user\">{}</span> <form class=\"logout\" method=\"post\" action=\"/logout\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\" id=\"logout\">Sign out</button></form>",
            escape(user),
            escape(csrf)
        ),
        _ => "<a href=\"/login\" id=\"login\">Sign in</a>".to_string(),
    }
}

/// The most downtime ids a redirect names (more: the message names none).
const MAX_FLASH_IDS: usize = 20;

/// The message of what an action did, from the code its redirect left in the page's
/// query (`done=ack|unack|downtime|cancel|recheck`, with `id=` the downtime ids, numbers
/// only): a fixed text, so that no link can show a text of its own to whoever follows
/// it; "" for no code or an unknown one.
pub fn flash(done: Option<&str>, id: Option<&str>) -> String {
    let ids: Option<Vec<u64>> = id.and_then(|t| {
        let ids: Option<Vec<u64>> = t.split(',').map(|i| i.trim().parse().ok()).collect();
        ids.filter(|v| !v.is_empty() && v.len() <= MAX_FLASH_IDS)
    });
    let listed = |ids: &[u64]| {
        ids.iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let text = match (done.map(str::trim), ids.as_deref()) {
        (Some("ack"), _) => "Acknowledged.".to_string(),
        (Some("unack"), _) => "Acknowledgement removed.".to_string(),
        (Some("downtime"), Some([one])) => format!("Downtime {one} scheduled."),
        (Some("downtime"), Some(ids)) => format!("Downtimes {} scheduled.", listed(ids)),
        (Some("downtime"), None) => "Downtime scheduled.".to_string(),
        (Some("cancel"), Some([one])) => format!("Downtime {one} cancelled."),
        (Some("cancel"), _) => "Downtime cancelled.".to_string(),
        (Some("recheck"), _) => "Check asked for.".to_string(),
        _ => return String::new(),
    };
    format!("<p id=\"flash\" class=\"flash\">{text}</p>")
}

/// The hidden fields every action form of `viewer` on this object carries.
fn hidden(csrf: &str, host: &str, service: Option<&str>) -> String {
    let mut out = format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <input type=\"hidden\" name=\"host\" value=\"{}\">",
        escape(csrf),
        escape(host)
    );
    if let Some(s) = service {
        out.push_str(&format!(
            "<input type=\"hidden\" name=\"service\" value=\"{}\">",
            escape(s)
        ));
    }
    out
}

/// One action form: `kind` (ack, unack, ...), its fields, its button.
fn form(kind: &str, hidden: &str, fields: &str, button: &str) -> String {
    format!(
        "<form class=\"action\" data-action=\"{kind}\" method=\"post\" action=\"/action/{kind}\">\
         {hidden}{fields}<button type=\"submit\">{button}</button></form>\n"
    )
}

/// A time for a form, in UTC (as the forms take it).
fn utc(t: Time) -> String {
    let text = humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(t),
    )
    .to_string();
    text.trim_end_matches('Z').replacen('T', " ", 1)
}

/// The action forms of a host (`service` None) or service page for a signed-in user;
/// "" for anyone else. `ack` and `downtimes` are the object's current ones (shown by
/// the page; the forms say only what they act on).
pub fn actions(
    viewer: &Viewer,
    host: &str,
    service: Option<&str>,
    ack: Option<&Ack>,
    downtimes: &[Downtime],
) -> String {
    let (Some(_), Some(csrf)) = (&viewer.user, &viewer.csrf) else {
        return String::new();
    };
    let h = hidden(csrf, host, service);
    let max = crate::admin::MAX_COMMENT;
    let mut out = String::new();
    out.push_str(&form("recheck", &h, "", "Re-check now"));
    match ack {
        None => out.push_str(&form(
            "ack",
            &h,
            &format!(
                "<label>Comment <input type=\"text\" name=\"comment\" required maxlength=\"{max}\"></label> \
                 <label><input type=\"checkbox\" name=\"sticky\" value=\"1\" checked> sticky (until recovery, \
                 not only until the next state change)</label> \
                 <label><input type=\"checkbox\" name=\"notify\" value=\"1\" checked> notify the contacts</label> \
                 <label>Expires after <input type=\"text\" name=\"expires\" placeholder=\"e.g. 4h; empty: never\" \
                 maxlength=\"32\"></label> "
            ),
            "Acknowledge",
        )),
        Some(a) => out.push_str(&form(
            "unack",
            &h,
            &a.expires
                .map(|t| format!("<span class=\"ack-expires\">expires {} UTC</span> ", utc(t)))
                .unwrap_or_default(),
            "Remove acknowledgement",
        )),
    }
    out.push_str(&form(
        "downtime",
        &h,
        &format!(
            "<label>Start <input type=\"text\" name=\"start\" placeholder=\"now, or YYYY-MM-DD HH:MM (UTC)\" maxlength=\"32\"></label> \
             <label>End <input type=\"text\" name=\"end\" placeholder=\"YYYY-MM-DD HH:MM (UTC)\" maxlength=\"32\"></label> \
             <label>or duration <input type=\"text\" name=\"duration\" value=\"2h\" maxlength=\"32\"></label> \
             <label>Comment <input type=\"text\" name=\"comment\" required maxlength=\"{max}\"></label> "
        ),
        "Schedule downtime",
    ));
    for d in downtimes {
        out.push_str(&form(
            "cancel",
            &h,
            &format!(
                "<input type=\"hidden\" name=\"id\" value=\"{}\">\
                 <span class=\"downtime\" data-downtime=\"{}\">Downtime {} from {} to {} UTC by {}: {}</span> ",
                d.id,
                d.id,
                d.id,
                utc(d.start),
                utc(d.end),
                escape(&d.author),
                escape(&d.comment)
            ),
            "Cancel downtime",
        ));
    }
    out
}

/// A path segment percent-encoded (everything but unreserved characters).
fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A value percent-encoded for a URL's query or path.
pub fn query_value(text: &str) -> String {
    segment(text)
}

/// The page of a host or service, with the code of what was done (and the downtime
/// ids, if any) in its query, for [`flash`].
pub fn object_page(host: &str, service: Option<&str>, done: &str, ids: &[u64]) -> String {
    let path = match service {
        Some(s) => format!("/service/{}/{}", segment(host), segment(s)),
        None => format!("/host/{}", segment(host)),
    };
    let mut to = format!("{path}?done={}", segment(done));
    if !ids.is_empty() && ids.len() <= MAX_FLASH_IDS {
        let ids: Vec<String> = ids.iter().map(u64::to_string).collect();
        to.push_str(&format!("&id={}", ids.join(",")));
    }
    to
}

/// A time a form gives: empty (None), unix seconds, or `YYYY-MM-DD HH:MM[:SS]` in UTC
/// (a `T` between date and time, a trailing `Z` allowed).
fn form_time(name: &str, text: &str) -> Result<Option<Time>, String> {
    let t = text.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("now") {
        return Ok(None);
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return t
            .parse()
            .map(Some)
            .map_err(|_| format!("{name} '{t}' is not a time"));
    }
    let mut s = t.trim_end_matches('Z').replacen('T', " ", 1);
    if s.len() == 16 {
        s.push_str(":00");
    }
    humantime::parse_rfc3339_weak(&s)
        .ok()
        .and_then(|at| at.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| Some(d.as_secs()))
        .ok_or_else(|| {
            format!("{name} '{t}' is not a time: give YYYY-MM-DD HH:MM (UTC) or unix seconds")
        })
}

/// Acts; the page to go back to, with what was done for the flash message.
fn act(
    api: &Api,
    kind: &str,
    author: String,
    fields: &[(String, String)],
) -> Result<(StatusCode, String), (StatusCode, String)> {
    let bad = |e: String| {
        let status = if e.starts_with("no host or service") || e.contains("no such") {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::BAD_REQUEST
        };
        (status, e)
    };
    let host = field(fields, "host").unwrap_or("").trim();
    if host.is_empty() {
        return Err((StatusCode::BAD_REQUEST, "the form names no host".into()));
    }
    let service = field(fields, "service").filter(|s| !s.is_empty());
    let key = match service {
        Some(s) => format!("{host}/{s}"),
        None => host.to_string(),
    };
    let on = Objects::target(&key);
    let text = |name: &str| field(fields, name).unwrap_or("").to_string();
    let checked = |name: &str| field(fields, name).is_some_and(|v| !v.is_empty() && v != "0");
    let done = match kind {
        "ack" => {
            crate::http::acknowledge(
                api,
                author,
                &on,
                &text("comment"),
                checked("sticky"),
                checked("notify"),
                field(fields, "expires"),
            )
            .map_err(bad)?;
            vec![]
        }
        "unack" => {
            crate::http::unacknowledge(api, &key, &author).map_err(bad)?;
            vec![]
        }
        "downtime" => {
            let start = form_time("start", &text("start")).map_err(bad)?;
            let end = form_time("end", &text("end")).map_err(bad)?;
            let duration = match end {
                Some(end) => {
                    let from = start.unwrap_or_else(crate::clock::unix_now);
                    if end <= from {
                        return Err(bad("the downtime ends before it starts".into()));
                    }
                    format!("{}s", end - from)
                }
                None if text("duration").trim().is_empty() => {
                    return Err(bad("give the downtime an end or a duration".into()))
                }
                None => text("duration").trim().to_string(),
            };
            let req = DowntimeRequest {
                on,
                start,
                duration,
                comment: text("comment"),
            };
            let (ids, _) = crate::http::schedule_downtime(api, author, &req).map_err(bad)?;
            ids
        }
        "cancel" => {
            let id: u64 = text("id")
                .trim()
                .parse()
                .map_err(|_| bad(format!("'{}' is not a downtime id", text("id"))))?;
            crate::http::cancel_downtime(api, id, &author).map_err(bad)?;
            vec![id]
        }
        "recheck" => {
            crate::http::recheck(api, &author, &on).map_err(bad)?;
            vec![]
        }
        _ => return Err((StatusCode::NOT_FOUND, format!("no action '{kind}'"))),
    };
    Ok((
        StatusCode::SEE_OTHER,
        object_page(host, service, kind, &done),
    ))
}

async fn action(
    State(api): State<Api>,
    Path(kind): Path<String>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let peer = peer
        .map(|Extension(p)| p.to_string())
        .unwrap_or_else(|| "an unknown peer".into());
    let viewer = session::viewer(&headers, &api);
    let refuse = |status: StatusCode, reason: &str| {
        tracing::warn!("web: refused {kind} from {peer}: {reason}");
        session::refusal(status, &viewer, reason)
    };
    if !matches!(
        kind.as_str(),
        "ack" | "unack" | "downtime" | "cancel" | "recheck"
    ) {
        return refuse(StatusCode::NOT_FOUND, "no such action");
    }
    if let Some(reason) = session::cross_origin(&headers) {
        return refuse(StatusCode::FORBIDDEN, reason);
    }
    let Some(user) = viewer.user.clone() else {
        return refuse(StatusCode::UNAUTHORIZED, "sign in to act");
    };
    let fields = match session::form_fields(&body) {
        Ok(f) => f,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e),
    };
    if !viewer.csrf_matches(field(&fields, "csrf").unwrap_or("")) {
        return refuse(
            StatusCode::FORBIDDEN,
            "the form's CSRF token is missing or wrong: reload the page",
        );
    }
    let who = user.clone();
    let kind2 = kind.clone();
    let done = tokio::task::spawn_blocking(move || act(&api, &kind2, who, &fields)).await;
    match done {
        Ok(Ok((_, to))) => {
            tracing::info!("web: {user} from {peer}: {kind}");
            session::see_other(&to)
        }
        Ok(Err((status, reason))) => refuse(status, &reason),
        Err(_) => refuse(StatusCode::INTERNAL_SERVER_ERROR, "the action failed"),
    }
}

/// The routes of this part of the web UI.
pub fn routes() -> Router<Api> {
    Router::new()
        .route("/action/{kind}", post(action))
        .layer(DefaultBodyLimit::max(crate::http::MAX_BODY))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Tokens;
    use crate::http::Access;
    use axum::http::{header, Method};
    use hcoop_plugins::plugin::{CheckResult, State as PluginState};
    use std::sync::{Arc, Mutex, RwLock};

    const CONFIG: &str = "[[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n\n\
        [[service]]\nhost = \"h\"\nname = \"s\"\ncheck = \"check_load\"\n";
    const TOKEN: &str = "a-token-of-alice";

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The API of a core with h/s CRITICAL (hard), and alice's token in its credentials.
    fn api() -> Api {
        let (mut core, daemon) = crate::http::testing::core(CONFIG);
        let result = CheckResult::new(PluginState::Critical, "load 9");
        crate::http::testing::hard(&mut core, "h/s", result);
        let mut access = Access::from_config(&daemon);
        let line = format!(
            "alice:{}\n",
            hex(ring::digest::digest(&ring::digest::SHA256, TOKEN.as_bytes()).as_ref())
        );
        access.tokens = Ok(Tokens::parse(&line, "test").unwrap());
        let (reload, _) = tokio::sync::mpsc::channel(1);
        Api {
            core: Arc::new(Mutex::new(core)),
            access: Arc::new(RwLock::new(access)),
            reload,
        }
    }

    fn peer() -> Peer {
        Peer::Remote(([192, 0, 2, 7], 4000).into())
    }

    const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

    /// One request through the whole app as a TCP peer; the status, headers and body.
    async fn send(
        api: &Api,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (StatusCode, HeaderMap, String) {
        let app = crate::web::app(api.clone());
        crate::http::testing::send(app, peer(), method, uri, headers, body).await
    }

    /// Signs in with `token`; the session cookie ("hcoop_session=ID") on success.
    async fn sign_in(api: &Api, token: &str) -> (StatusCode, Option<String>) {
        let body = format!("token={}&next=%2Fservice%2Fh%2Fs", segment(token));
        let (status, headers, _) = send(api, Method::POST, "/login", &[FORM], &body).await;
        let cookie = headers
            .get(header::SET_COOKIE)
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string());
        (status, cookie)
    }

    fn csrf_of(api: &Api, cookie: &str) -> String {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, cookie.parse().unwrap());
        session::viewer(&h, api).csrf.expect("a live session")
    }

    /// Signs in with alice's token; the session cookie and the session's CSRF token.
    async fn session_of(api: &Api) -> (String, String) {
        let (_, cookie) = sign_in(api, TOKEN).await;
        let cookie = cookie.expect("signed in");
        let csrf = csrf_of(api, &cookie);
        (cookie, csrf)
    }

    fn ack_of(api: &Api) -> Option<Ack> {
        api.core.lock().unwrap().services[0].record.ack.clone()
    }

    #[tokio::test]
    async fn sign_in_with_a_good_or_a_bad_token() {
        let api = api();
        let (status, headers, page) = send(&api, Method::GET, "/login", &[], "").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("<main>"), "{page}");
        assert!(page.contains("type=\"password\" name=\"token\""), "{page}");
        assert!(page.contains("id=\"login\""), "{page}");
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.starts_with("default-src 'self'"), "{csp}");
        // a wrong token: 401, no cookie, the form again with the reason
        let (status, headers, page) =
            send(&api, Method::POST, "/login", &[FORM], "token=wrong").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(headers.get(header::SET_COOKIE).is_none());
        assert!(page.contains("unknown token"), "{page}");
        // the right one: 303 back to where the user came from, with the cookie
        let body = format!("token={TOKEN}&next=%2Fservice%2Fh%2Fs");
        let (status, headers, _) = send(&api, Method::POST, "/login", &[FORM], &body).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(headers.get(header::LOCATION).unwrap(), "/service/h/s");
        let cookie = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
        let mut parts = cookie.split("; ");
        let id = parts
            .next()
            .unwrap()
            .strip_prefix("hcoop_session=")
            .unwrap();
        assert_eq!(id.len(), 64);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(
            parts.collect::<Vec<_>>(),
            ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"]
        );
        // the viewer is alice, with a 256-bit CSRF token of her session
        let v = {
            let mut h = HeaderMap::new();
            h.insert(
                header::COOKIE,
                format!("x=1; hcoop_session={id}").parse().unwrap(),
            );
            session::viewer(&h, &api)
        };
        assert_eq!(v.user.as_deref(), Some("alice"));
        assert_eq!(v.csrf.as_ref().map(String::len), Some(64));
        // behind a TLS proxy the cookie is Secure; an outside `next` is not followed
        let body = format!("token={TOKEN}&next=%2F%2Fevil.example%2F");
        let proxied = [FORM, ("x-forwarded-proto", "https")];
        let (status, headers, _) = send(&api, Method::POST, "/login", &proxied, &body).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(headers.get(header::LOCATION).unwrap(), "/");
        let cookie = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
        assert!(cookie.ends_with("; Max-Age=28800; Secure"), "{cookie}");
        // a sign-in from another site is refused
        let other = [
            FORM,
            ("origin", "http://evil.example"),
            ("host", "mon:9667"),
        ];
        let (status, headers, _) = send(&api, Method::POST, "/login", &other, &body).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(headers.get(header::SET_COOKIE).is_none());
    }

    #[tokio::test]
    async fn failed_sign_ins_are_limited_per_address() {
        let api = api();
        for _ in 0..session::MAX_FAILURES {
            assert_eq!(sign_in(&api, "wrong").await.0, StatusCode::UNAUTHORIZED);
        }
        // blocked at the 5th failure: the next wrong token is refused
        let (status, headers, page) =
            send(&api, Method::POST, "/login", &[FORM], "token=wrong2").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert!(headers.get(header::SET_COOKIE).is_none());
        let wait: u64 = headers[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(page.contains("too many failed sign-ins"), "{page}");
        // but a right token from the same (shared) address still signs in: one user
        // failing on purpose locks no one else out
        let (status, cookie) = sign_in(&api, TOKEN).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(cookie.is_some_and(|c| c.starts_with("hcoop_session=")));
        assert_eq!(
            sign_in(&api, "wrong").await.0,
            StatusCode::TOO_MANY_REQUESTS
        );
    }

    #[tokio::test]
    async fn an_action_needs_a_session_its_csrf_token_and_the_same_origin() {
        let api = api();
        let form = "host=h&service=s&comment=on+it&sticky=1&notify=1";
        // no session
        let (status, _, page) = send(&api, Method::POST, "/action/ack", &[FORM], form).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(page.contains("sign in to act"), "{page}");
        let (cookie, csrf) = session_of(&api).await;
        let with_cookie = [FORM, ("cookie", cookie.as_str())];
        // a session, but no CSRF token, or a wrong one
        let (status, _, page) = send(&api, Method::POST, "/action/ack", &with_cookie, form).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(page.contains("CSRF token is missing or wrong"), "{page}");
        let wrong = format!("{form}&csrf={}", "0".repeat(64));
        let (status, _, _) = send(&api, Method::POST, "/action/ack", &with_cookie, &wrong).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // the right token from another origin, or marked cross-site by the browser
        let good = format!("{form}&csrf={csrf}");
        let other = [
            FORM,
            ("cookie", cookie.as_str()),
            ("origin", "http://evil.example"),
            ("host", "mon:9667"),
        ];
        let (status, _, _) = send(&api, Method::POST, "/action/ack", &other, &good).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let cross = [
            FORM,
            ("cookie", cookie.as_str()),
            ("sec-fetch-site", "cross-site"),
        ];
        let (status, _, _) = send(&api, Method::POST, "/action/ack", &cross, &good).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(ack_of(&api), None);
        // all three: acknowledged by alice, back to the page with a message
        let same = [
            FORM,
            ("cookie", cookie.as_str()),
            ("origin", "http://mon:9667"),
            ("host", "mon:9667"),
            ("sec-fetch-site", "same-origin"),
        ];
        let (status, headers, _) = send(&api, Method::POST, "/action/ack", &same, &good).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(
            headers.get(header::LOCATION).unwrap(),
            "/service/h/s?done=ack"
        );
        let ack = ack_of(&api).expect("acknowledged");
        assert_eq!(
            (ack.author.as_str(), ack.comment.as_str(), ack.sticky),
            ("alice", "on it", true)
        );
        // the page says so, escaped; it offers to remove the acknowledgement
        let to = headers[header::LOCATION].to_str().unwrap().to_string();
        let h = [("cookie", cookie.as_str())];
        let (status, _, page) = send(&api, Method::GET, &to, &h, "").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("<p id=\"flash\" class=\"flash\">Acknowledged.</p>"),
            "{page}"
        );
        assert!(page.contains("data-action=\"unack\""), "{page}");
        // a link cannot put a text of its own on the page: only known codes show,
        // as their fixed message
        for hostile in [
            "/service/h/s?flash=Send%20your%20token%20to%20evil",
            "/service/h/s?done=Send%20your%20token%20to%20evil",
            "/service/h/s?done=cancel&id=Send%20your%20token",
        ] {
            let (status, _, page) = send(&api, Method::GET, hostile, &[], "").await;
            assert_eq!(status, StatusCode::OK);
            assert!(!page.contains("token to evil"), "{page}");
            assert!(!page.contains("Send your token"), "{page}");
        }
        let (_, _, page) = send(&api, Method::GET, "/service/h/s?done=xyz", &[], "").await;
        assert!(!page.contains("id=\"flash\""), "{page}");
    }

    #[tokio::test]
    async fn downtime_cancel_unack_and_recheck_act_as_the_user() {
        let api = api();
        let (cookie, csrf) = session_of(&api).await;
        let h = [FORM, ("cookie", cookie.as_str())];
        let post = |kind: &'static str, form: String| {
            let api = api.clone();
            let h = h.map(|(k, v)| (k.to_string(), v.to_string()));
            async move {
                let h: Vec<(&str, &str)> =
                    h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                send(&api, Method::POST, &format!("/action/{kind}"), &h, &form).await
            }
        };
        let (status, headers, _) = post(
            "downtime",
            format!("csrf={csrf}&host=h&service=s&start=&end=&duration=1h&comment=patching"),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{headers:?}");
        let downtimes = api.core.lock().unwrap().services[0]
            .record
            .downtimes
            .clone();
        assert_eq!(downtimes.len(), 1);
        let d = &downtimes[0];
        assert_eq!(
            (d.author.as_str(), d.comment.as_str()),
            ("alice", "patching")
        );
        assert_eq!(d.end - d.start, 3600);
        let to = format!("/service/h/s?done=downtime&id={}", d.id);
        assert_eq!(headers[header::LOCATION].to_str().unwrap(), to);
        let (_, _, page) = send(&api, Method::GET, &to, &[], "").await;
        let said = format!(
            "<p id=\"flash\" class=\"flash\">Downtime {} scheduled.</p>",
            d.id
        );
        assert!(page.contains(&said), "{page}");
        // an end before its start is refused with the reason
        let (status, _, page) = post(
            "downtime",
            format!("csrf={csrf}&host=h&service=s&start=2030-01-02+10%3A00&end=2030-01-02+09%3A00&comment=x"),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("ends before it starts"), "{page}");
        // cancelled by its id
        let (status, headers, _) = post(
            "cancel",
            format!("csrf={csrf}&host=h&service=s&id={}", d.id),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let to = format!("/service/h/s?done=cancel&id={}", d.id);
        assert_eq!(headers[header::LOCATION].to_str().unwrap(), to);
        assert!(api.core.lock().unwrap().services[0]
            .record
            .downtimes
            .is_empty());
        // acknowledged, then the acknowledgement removed
        let (status, _, _) =
            post("ack", format!("csrf={csrf}&host=h&service=s&comment=mine")).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(ack_of(&api).map(|a| a.sticky), Some(false));
        let (status, _, _) = post("unack", format!("csrf={csrf}&host=h&service=s")).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(ack_of(&api), None);
        // an acknowledgement that expires after an hour is gone at the tick after it
        let (status, _, _) = post(
            "ack",
            format!("csrf={csrf}&host=h&service=s&comment=brief&expires=1h"),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let ack = ack_of(&api).expect("acknowledged");
        assert_eq!(ack.expires, Some(ack.time + 3600));
        api.core.lock().unwrap().tick(ack.time + 3599);
        assert!(ack_of(&api).is_some());
        api.core.lock().unwrap().tick(ack.time + 3600);
        assert_eq!(ack_of(&api), None);
        let (status, _, page) = post(
            "ack",
            format!("csrf={csrf}&host=h&service=s&comment=x&expires=soon"),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("expiry &#39;soon&#39;"), "{page}");
        assert_eq!(ack_of(&api), None);
        // nothing to remove any more; an unknown object
        let (status, _, page) = post("unack", format!("csrf={csrf}&host=h&service=s")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("is not acknowledged"), "{page}");
        let (status, _, _) = post("recheck", format!("csrf={csrf}&host=h&service=nope")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // a re-check asked for
        let (status, headers, _) = post("recheck", format!("csrf={csrf}&host=h&service=s")).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(headers[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/service/h/s?done=recheck"));
        let (status, _, _) = post("nonsense", format!("csrf={csrf}&host=h")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn signing_out_or_losing_the_token_ends_the_session() {
        let api = api();
        let (cookie, csrf) = session_of(&api).await;
        let h = [FORM, ("cookie", cookie.as_str())];
        // a sign-out without the CSRF token is refused
        let (status, _, _) = send(&api, Method::POST, "/logout", &h, "").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, headers, _) =
            send(&api, Method::POST, "/logout", &h, &format!("csrf={csrf}")).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let gone = headers[header::SET_COOKIE].to_str().unwrap();
        assert!(
            gone.starts_with("hcoop_session=; ") && gone.contains("Max-Age=0"),
            "{gone}"
        );
        let form = format!("csrf={csrf}&host=h&service=s&comment=x");
        let (status, _, _) = send(&api, Method::POST, "/action/ack", &h, &form).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        // a new session ends when its token leaves the credentials file (a reload)
        let (cookie, csrf) = session_of(&api).await;
        api.access.write().unwrap().tokens = Ok(Tokens::parse("", "test").unwrap());
        let h = [FORM, ("cookie", cookie.as_str())];
        let form = format!("csrf={csrf}&host=h&service=s&comment=x");
        let (status, _, _) = send(&api, Method::POST, "/action/ack", &h, &form).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(ack_of(&api), None);
        assert!(session::sessions(&api).is_empty());
    }

    #[tokio::test]
    async fn pages_need_a_session_or_a_token_when_reads_need_credentials() {
        let api = api();
        let (status, _, _) = send(&api, Method::GET, "/", &[], "").await;
        assert_eq!(status, StatusCode::OK);
        api.access.write().unwrap().require_auth_for_reads = true;
        let (status, headers, _) = send(&api, Method::GET, "/?state=CRITICAL", &[], "").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(
            headers[header::LOCATION],
            "/login?next=%2F%3Fstate%3DCRITICAL"
        );
        // the sign-in page and the static files stay open
        let (status, _, _) = send(&api, Method::GET, "/login", &[], "").await;
        assert_eq!(status, StatusCode::OK);
        let (_, cookie) = sign_in(&api, TOKEN).await;
        let cookie = cookie.unwrap();
        let (status, _, page) =
            send(&api, Method::GET, "/", &[("cookie", cookie.as_str())], "").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("alice"), "{page}");
        let bearer = format!("Bearer {TOKEN}");
        let (status, _, _) = send(
            &api,
            Method::GET,
            "/",
            &[("authorization", bearer.as_str())],
            "",
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _, _) = send(
            &api,
            Method::GET,
            "/",
            &[("authorization", "Bearer wrong")],
            "",
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }

    #[tokio::test]
    async fn form_bodies_are_bounded() {
        let api = api();
        let (cookie, csrf) = session_of(&api).await;
        let big = format!(
            "csrf={csrf}&host=h&service=s&comment={}",
            "x".repeat(crate::http::MAX_BODY)
        );
        let h = [FORM, ("cookie", cookie.as_str())];
        let (status, _, _) = send(&api, Method::POST, "/action/ack", &h, &big).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        let big = format!("token={}", "x".repeat(crate::http::MAX_BODY));
        let (status, _, _) = send(&api, Method::POST, "/login", &[FORM], &big).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(ack_of(&api), None);
    }

    #[tokio::test]
    async fn the_json_api_sets_an_expiry_too() {
        let api = api();
        let bearer = format!("Bearer {TOKEN}");
        let h = [
            ("content-type", "application/json"),
            ("authorization", bearer.as_str()),
        ];
        let body = r#"{"target":"h/s","comment":"x","expire":"0s"}"#;
        let (status, _, answer) = send(&api, Method::POST, "/api/ack", &h, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(answer.contains("give a duration above 0"), "{answer}");
        let body = r#"{"target":"h/s","comment":"x","expire":"2h"}"#;
        let (status, _, answer) = send(&api, Method::POST, "/api/ack", &h, body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let ack = ack_of(&api).expect("acknowledged");
        assert_eq!(ack.author, "alice");
        assert_eq!(ack.expires, Some(ack.time + 7200));
    }

    #[test]
    fn anyone_sees_no_forms_a_user_sees_them_escaped() {
        let anyone = Viewer::default();
        assert_eq!(actions(&anyone, "h", Some("s"), None, &[]), "");
        assert_eq!(
            account(&anyone),
            "<a href=\"/login\" id=\"login\">Sign in</a>"
        );
        let user = Viewer {
            user: Some("al<i>ce".into()),
            csrf: Some("c0ffee".into()),
        };
        let ack = Ack {
            author: "bob".into(),
            comment: "<b>x</b>".into(),
            sticky: true,
            time: 0,
            expires: Some(7200),
        };
        let d = Downtime {
            id: 7,
            start: 0,
            end: 3600,
            author: "carol".into(),
            comment: "<b>x</b>".into(),
            started: false,
        };
        let html = actions(&user, "h\"x", Some("s<"), Some(&ack), &[d]);
        for kind in ["unack", "downtime", "cancel", "recheck"] {
            assert!(
                html.contains(&format!(
                    "<form class=\"action\" data-action=\"{kind}\" method=\"post\" action=\"/action/{kind}\">"
                )),
                "{kind}: {html}"
            );
        }
        assert!(!html.contains("data-action=\"ack\""), "{html}");
        assert_eq!(html.matches("name=\"csrf\" value=\"c0ffee\"").count(), 4);
        assert!(html.contains("name=\"host\" value=\"h&quot;x\""), "{html}");
        assert!(html.contains("name=\"service\" value=\"s&lt;\""), "{html}");
        assert!(html.contains("&lt;b&gt;x&lt;/b&gt;"), "{html}");
        assert!(html.contains("name=\"id\" value=\"7\""), "{html}");
        assert!(
            html.contains("<span class=\"ack-expires\">expires 1970-01-01 02:00:00 UTC</span>"),
            "{html}"
        );
        assert!(!html.contains("id=\"actions\""), "{html}");
        assert!(
            html.contains("from 1970-01-01 00:00:00 to 1970-01-01 01:00:00 UTC"),
            "{html}"
        );
        let html = actions(&user, "h", None, None, &[]);
        assert!(html.contains("data-action=\"ack\""), "{html}");
        assert!(!html.contains("name=\"service\""), "{html}");
        assert!(account(&user).starts_with("<span id=\"user\">al&lt;i&gt;ce</span>"));
        let shown = |done, id| flash(Some(done), id);
        assert_eq!(
            shown("ack", None),
            "<p id=\"flash\" class=\"flash\">Acknowledged.</p>"
        );
        assert!(shown("downtime", Some("3")).contains(">Downtime 3 scheduled.<"));
        assert!(shown("downtime", Some("3,4")).contains(">Downtimes 3, 4 scheduled.<"));
        assert!(shown("downtime", Some("3,<b>")).contains(">Downtime scheduled.<"));
        assert!(shown("cancel", Some("7")).contains(">Downtime 7 cancelled.<"));
        assert!(shown("cancel", Some("x")).contains(">Downtime cancelled.<"));
        assert_eq!(shown("<done>", None), "");
        assert_eq!(flash(None, Some("3")), "");
    }

    #[test]
    fn form_bodies_and_times_are_read() {
        let f = session::form_fields(b"a=1+2&b=%3Cx%3E&c&d=%zz&e=%E2%82%AC").unwrap();
        let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("a", "1 2"),
                ("b", "<x>"),
                ("c", ""),
                ("d", "%zz"),
                ("e", "€")
            ]
        );
        assert!(session::form_fields(b"a=%FF").is_err());
        assert_eq!(form_time("start", ""), Ok(None));
        assert_eq!(form_time("start", "now"), Ok(None));
        assert_eq!(form_time("start", "86400"), Ok(Some(86400)));
        assert_eq!(form_time("start", "1970-01-02 00:01"), Ok(Some(86460)));
        assert_eq!(form_time("start", "1970-01-02T00:01:05Z"), Ok(Some(86465)));
        assert!(form_time("end", "tomorrow")
            .unwrap_err()
            .starts_with("end 'tomorrow' is not a time"));
        assert_eq!(
            object_page("h 1", Some("a/b"), "downtime", &[3, 4]),
            "/service/h%201/a%2Fb?done=downtime&id=3,4"
        );
        assert_eq!(object_page("h", None, "ack", &[]), "/host/h?done=ack");
    }
}
