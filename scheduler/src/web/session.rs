//! See the module documentation of [`crate::web`].

use crate::http::Api;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::Router;

/// Who a page is rendered for: a signed-in user (with the CSRF token every form of
/// theirs carries), or anyone (read-only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Viewer {
    /// The signed-in user's name (the token's NAME).
    pub user: Option<String>,
    /// The session's CSRF token, put in every form.
    pub csrf: Option<String>,
}

impl FromRequestParts<Api> for Viewer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(_parts: &mut Parts, _api: &Api) -> Result<Viewer, Self::Rejection> {
        Ok(Viewer::default())
    }
}

/// The routes of this part of the web UI.
pub fn routes() -> Router<Api> {
    Router::new()
}
