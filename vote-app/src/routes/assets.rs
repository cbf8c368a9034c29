//! The files a browser fetches around the page, all compiled into the binary.
//!
//! - `GET /static/style.css`: the page's only stylesheet.
//! - `GET /favicon.svg` and `GET /favicon.ico` (the same SVG: every current browser draws it, and
//!   those that ask for `/favicon.ico` unprompted get an icon instead of a 404 in the console).
//! - `GET /manifest.webmanifest`: the web app manifest (name, icon, colours), so a phone can put
//!   the page on its home screen.
//!
//! The icon and the manifest change with a release at most: browsers may keep them a week.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::state::AppState;

/// A week: the icon and the manifest change only with a release.
const LONG_CACHE: &str = "public, max-age=604800";

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/static/style.css", get(stylesheet))
        .route("/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon))
        .route("/manifest.webmanifest", get(manifest))
}

async fn stylesheet() -> impl IntoResponse {
    let headers = [
        (header::CONTENT_TYPE, "text/css; charset=utf-8"),
        (header::CACHE_CONTROL, "public, max-age=3600"),
    ];
    (headers, include_str!("../../static/style.css"))
}

async fn favicon() -> impl IntoResponse {
    let headers = [(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, LONG_CACHE)];
    (headers, include_str!("../../static/favicon.svg"))
}

async fn manifest(State(state): State<AppState>) -> impl IntoResponse {
    let manifest = json!({
        "name": &*state.title,
        "short_name": "Vote",
        "start_url": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5cad",
        "icons": [{ "src": "/favicon.svg", "sizes": "any", "type": "image/svg+xml" }],
    });
    let headers =
        [(header::CONTENT_TYPE, "application/manifest+json"), (header::CACHE_CONTROL, LONG_CACHE)];
    (headers, Json(manifest))
}
