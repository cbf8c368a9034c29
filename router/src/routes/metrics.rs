//! `GET /router/metrics`: Prometheus (OpenMetrics text) exposition.

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use http::header;

use crate::clock::Parity;
use crate::error::RouterError;
use crate::state::AppState;

/// Prometheus exposition.
pub(super) const METRICS: &str = "/router/metrics";

/// The routes of this module.
pub(super) fn routes() -> Router<AppState> {
    Router::new().route(METRICS, get(metrics))
}

async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, RouterError> {
    for upstream in Parity::ALL {
        state.metrics.set_upstream_up(upstream, state.health.is_healthy(upstream));
    }
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    Ok(([(header::CONTENT_TYPE, content_type)], state.metrics.render()?))
}
