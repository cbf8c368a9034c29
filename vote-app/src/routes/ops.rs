//! Endpoints for operators, probes and monitoring.
//!
//! - `GET /health`: liveness, 200 while the process serves HTTP (never checks dependencies, so a
//!   Redis outage does not make Kubernetes restart every pod).
//! - `GET /ready`: readiness, 200 when the store (and the ledger, if configured) answer, 503
//!   otherwise, so load balancers stop sending votes to an instance that cannot count them.
//! - `GET /version`: `{"version", "commit", "built"}`.
//! - `GET /metrics`: Prometheus text.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::build_info::{BUILD_INFO, BuildInfo};
use crate::state::AppState;
use crate::store::BackendError;

/// Each readiness check gets this long; a probe must answer faster than its own timeout.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/version", get(version))
        .route("/metrics", get(metrics))
}

#[derive(Debug, Serialize)]
struct Status {
    status: &'static str,
}

#[derive(Debug, Serialize)]
struct Readiness {
    status: &'static str,
    /// `redis`, `memory` and `postgres`, each `ok` or `unavailable`.
    checks: BTreeMap<&'static str, &'static str>,
}

async fn health() -> Json<Status> {
    Json(Status { status: "ok" })
}

async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let store = state.votes.store();
    let mut checks = BTreeMap::new();
    checks
        .insert(store.backend(), outcome(tokio::time::timeout(CHECK_TIMEOUT, store.ping()).await));
    if let Some(ledger) = state.votes.ledger() {
        checks
            .insert("postgres", outcome(tokio::time::timeout(CHECK_TIMEOUT, ledger.ping()).await));
    }
    let ready = checks.values().all(|check| *check == "ok");
    let (code, status) = match ready {
        true => (StatusCode::OK, "ready"),
        false => (StatusCode::SERVICE_UNAVAILABLE, "not ready"),
    };
    (code, Json(Readiness { status, checks }))
}

/// `ok`, or `unavailable` for an error or a timeout. The cause is not shown: probes are public.
fn outcome(result: Result<Result<(), BackendError>, tokio::time::error::Elapsed>) -> &'static str {
    match result {
        Ok(Ok(())) => "ok",
        _ => "unavailable",
    }
}

async fn version() -> Json<BuildInfo> {
    Json(BUILD_INFO)
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let content_type = "text/plain; version=0.0.4; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], state.metrics.render())
}
