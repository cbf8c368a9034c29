//! The HTTP surface: the router's own endpoints under `/router/`, everything else proxied.
//!
//! The root merges the feature modules and adds the cross-cutting layers once: a request id
//! (kept from the client when present, forwarded upstream, echoed in the response) and the
//! per-request log line.

mod metrics;
mod status;

use axum::{Router, middleware};
use tower::ServiceBuilder;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};

use crate::proxy::proxy;
use crate::state::AppState;
use crate::telemetry::{MakeRequestIds, log_request};

/// Builds the whole application. No I/O: tests call it with their own state.
///
/// The router's endpoints live under `/router/` so they cannot shadow a vote-app path; any other
/// path, method or body goes to the proxy.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(status::routes())
        .merge(metrics::routes())
        .fallback(proxy)
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestIds::default()))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(middleware::from_fn(log_request)),
        )
}
