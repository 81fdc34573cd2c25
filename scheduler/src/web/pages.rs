//! See the module documentation of [`crate::web`].

use crate::http::Api;
use axum::Router;

/// The routes of this part of the web UI.
pub fn routes() -> Router<Api> {
    Router::new()
}
