//! `GET /router/health` (is the router itself alive) and `GET /router/status` (what it would do
//! with a request right now, and what it has done).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::clock::{Parity, unix_minute};
use crate::state::AppState;

/// Liveness of the router itself.
pub(super) const HEALTH: &str = "/router/health";
/// What the router would do with a request now, and what it has done.
pub(super) const STATUS: &str = "/router/status";

/// The routes of this module.
pub(super) fn routes() -> Router<AppState> {
    Router::new().route(HEALTH, get(health)).route(STATUS, get(status))
}

/// Liveness of the router alone: it does not depend on the upstreams, so an orchestrator never
/// restarts the router because a vote-app is down (the router is what handles that case).
async fn health() -> &'static str {
    "ok\n"
}

/// Body of `/router/status`.
#[derive(Debug, Serialize)]
struct Status {
    /// Minutes since the Unix epoch (UTC).
    unix_minute: u64,
    /// Minute of the hour (0–59, UTC), as a person reads it on a clock.
    minute: u64,
    /// Which upstream the current minute belongs to.
    parity: Parity,
    /// Per-upstream state.
    upstreams: UpstreamsStatus,
}

#[derive(Debug, Serialize)]
struct UpstreamsStatus {
    even: UpstreamStatus,
    odd: UpstreamStatus,
}

#[derive(Debug, Serialize)]
struct UpstreamStatus {
    /// Configured base URL (credentials are refused at startup, so this is safe to show).
    url: String,
    /// Current health state, as the proxy sees it.
    healthy: bool,
    /// Requests this upstream answered since the router started.
    requests: u64,
}

async fn status(State(state): State<AppState>) -> Json<Status> {
    let now = state.clock.now();
    let upstream = |parity: Parity| UpstreamStatus {
        url: state.upstreams.get(parity).url.to_string(),
        healthy: state.health.is_healthy(parity),
        requests: state.metrics.requests_to(parity),
    };
    Json(Status {
        unix_minute: unix_minute(now),
        minute: unix_minute(now) % 60,
        parity: Parity::of(now),
        upstreams: UpstreamsStatus { even: upstream(Parity::Even), odd: upstream(Parity::Odd) },
    })
}
