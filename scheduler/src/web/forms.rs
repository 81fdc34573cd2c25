//! See the module documentation of [`crate::web`].
//!
//! The action forms a signed-in user sees on a host or service page, and their handlers.

use crate::http::Api;
use crate::state::{Ack, Downtime};
use crate::web::escape;
use crate::web::session::Viewer;
use axum::Router;

/// The page header's account part: a "Sign in" link for anyone, the user's name and a
/// sign-out form for a signed-in user.
pub fn account(viewer: &Viewer) -> String {
    match (&viewer.user, &viewer.csrf) {
        (Some(user), Some(csrf)) => format!(
            "<span id=\"user\">{}</span> <form class=\"logout\" method=\"post\" action=\"/logout\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\">Sign out</button></form>",
            escape(user),
            escape(csrf)
        ),
        _ => "<a href=\"/login\" id=\"login\">Sign in</a>".to_string(),
    }
}

/// The action forms of a host (`service` None) or service page for a signed-in user;
/// "" for anyone else. `ack` and `downtimes` are the object's current ones.
pub fn actions(
    viewer: &Viewer,
    host: &str,
    service: Option<&str>,
    ack: Option<&Ack>,
    downtimes: &[Downtime],
) -> String {
    let _ = (host, service, ack, downtimes);
    if viewer.user.is_none() || viewer.csrf.is_none() {
        return String::new();
    }
    String::new()
}

/// The routes of this part of the web UI.
pub fn routes() -> Router<Api> {
    Router::new()
}
