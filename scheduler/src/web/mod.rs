//! The web UI served by the daemon beside the API: pages readable without JavaScript
//! (overview, host, service, event log, availability), graphs drawn as SVG on the
//! server, and actions for signed-in users only (session cookie, CSRF token).
//!
//! - [`pages`]: the pages and their routes.
//! - [`graph`]: a metric's series drawn as SVG, the state timeline bar.
//! - [`session`]: signing in with a token of the credentials file, the session cookie,
//!   the CSRF token, the [`session::Viewer`] every page is rendered for.
//! - [`forms`]: the action forms (ack, downtime, cancel, re-check) and their handlers.
//! - [`assets`]: the stylesheet and script, embedded in the binary.
//!
//! Every text shown (plugin output, names, comments) goes through [`escape`].

pub mod api;
pub mod assets;
pub mod availability;
pub mod forms;
pub mod graph;
pub mod pages;
pub mod session;

use crate::http::Api;
use axum::Router;

/// Everything served on a listener: the API ([`crate::http::router`]) and the web UI.
pub fn app(api: Api) -> Router {
    crate::http::router(api.clone()).merge(
        Router::new()
            .merge(pages::routes())
            .merge(session::routes())
            .merge(forms::routes())
            .merge(assets::routes())
            .merge(api::routes(&api))
            .merge(availability::routes(api.clone()))
            .layer(axum::middleware::from_fn_with_state(
                api.clone(),
                session::guard,
            ))
            .layer(axum::middleware::map_response(pages::security_headers))
            .with_state(api),
    )
}

/// Text escaped for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escape_leaves_no_markup() {
        assert_eq!(
            super::escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }
}
