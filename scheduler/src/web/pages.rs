//! See the module documentation of [`crate::web`].

use crate::http::Api;
use crate::web::escape;
use crate::web::session::Viewer;
use axum::Router;

/// A whole page: the header (navigation, who is signed in), `body` inside `<main>`, the
/// stylesheet and the script (both served from `/static`, nothing inline, so the page
/// works under `Content-Security-Policy: default-src 'self'`). `title` is plain text
/// (escaped here); `body` is HTML already escaped.
pub fn layout(title: &str, viewer: &Viewer, body: &str) -> String {
    let account = match &viewer.user {
        Some(user) => format!("<span id=\"user\">{}</span>", escape(user)),
        None => "<a href=\"/login\" id=\"login\">sign in</a>".to_string(),
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · hcoop-monitor</title>\
         <link rel=\"stylesheet\" href=\"/static/app.css\">\
         <script src=\"/static/app.js\" defer></script></head>\n\
         <body><header><nav><a href=\"/\" class=\"home\">hcoop-monitor</a> \
         <a href=\"/events\">Events</a> <a href=\"/availability\">Availability</a></nav>\
         <div class=\"account\">{account}</div></header>\n<main>\n{body}\n</main></body></html>\n",
        escape(title)
    )
}

/// The routes of this part of the web UI.
pub fn routes() -> Router<Api> {
    Router::new()
}
