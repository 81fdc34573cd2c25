//! See the module documentation of [`crate::web`].
//!
//! The stylesheet and the script are embedded in the binary and served with a
//! content hash as ETag; nothing is fetched from elsewhere (no CDN), and no page has
//! inline styles or scripts, so `Content-Security-Policy: default-src 'self'` holds.

use crate::http::Api;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// The stylesheet, `/static/app.css`.
pub const APP_CSS: &str = include_str!("assets/app.css");
/// The script, `/static/app.js` (enhancements only: every page works without it).
pub const APP_JS: &str = include_str!("assets/app.js");
/// The icon, `/static/favicon.svg` (also at `/favicon.ico`, where browsers look).
pub const FAVICON: &str = include_str!("assets/favicon.svg");

/// Each embedded file: its path, its content and its content type.
const ASSETS: [(&str, &str, &str); 4] = [
    ("/static/app.css", APP_CSS, "text/css; charset=utf-8"),
    ("/static/app.js", APP_JS, "text/javascript; charset=utf-8"),
    ("/static/favicon.svg", FAVICON, "image/svg+xml"),
    ("/favicon.ico", FAVICON, "image/svg+xml"),
];

/// The routes of this part of the web UI.
pub fn routes() -> Router<Api> {
    ASSETS
        .into_iter()
        .fold(Router::new(), |router, (path, body, content_type)| {
            router.route(
                path,
                get(move |h: HeaderMap| async move { asset(&h, body, content_type) }),
            )
        })
}

/// A quoted ETag of `body` (FNV-1a: it only has to change when the file does).
fn etag(body: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in body.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{hash:016x}\"")
}

fn asset(request: &HeaderMap, body: &'static str, content_type: &'static str) -> Response {
    let tag = etag(body);
    let cached = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag));
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::ETAG, HeaderValue::from_str(&tag).expect("hex tag")),
    ];
    if cached {
        (StatusCode::NOT_MODIFIED, headers).into_response()
    } else {
        (headers, body).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_are_served_with_an_etag_and_revalidated() {
        let fresh = asset(&HeaderMap::new(), APP_CSS, "text/css");
        assert_eq!(fresh.status(), StatusCode::OK);
        let tag = fresh.headers()[header::ETAG].clone();
        let mut again = HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, tag);
        assert_eq!(
            asset(&again, APP_CSS, "text/css").status(),
            StatusCode::NOT_MODIFIED
        );
        assert_ne!(etag(APP_CSS), etag(APP_JS));
    }

    #[test]
    fn the_script_has_no_remote_or_eval() {
        for text in [APP_CSS, APP_JS] {
            assert!(!text.contains("http://") && !text.contains("https://"));
            assert!(!text.contains("eval(") && !text.contains("innerHTML"));
        }
    }
}
