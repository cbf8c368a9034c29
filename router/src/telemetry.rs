//! Logs: one subscriber for the process, and one line per request.
//!
//! Every request runs inside a `request` span whose fields (request id, method, route, upstream,
//! parity, fallback, status, latency) are filled as the pipeline learns them; [`log_request`]
//! emits the single line when the response is ready. Text on a terminal, JSON in containers.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use tracing::field::Empty;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    #[default]
    Text,
    /// One JSON object per line, for log collectors (App Service, Kubernetes).
    Json,
}

/// Installs the global subscriber. `RUST_LOG` filters (default `info`).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // `try_init` fails only if a subscriber is already installed (tests); keeping it is right.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
    };
}

/// Middleware: opens the request span and writes the request's one log line.
///
/// The route field is the matched route template, or `proxy` for everything forwarded, so raw
/// URIs (which may carry ids or tokens in their query) never become a field.
pub async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route =
        request.extensions().get::<MatchedPath>().map_or("proxy", MatchedPath::as_str).to_owned();
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %request.method(),
        route = %route,
        upstream = Empty,
        parity = Empty,
        fallback = Empty,
        status = Empty,
        latency_ms = Empty,
        error = Empty,
    );
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status();
    span.record("status", status.as_u16());
    span.record("latency_ms", started.elapsed().as_secs_f64() * 1000.0);
    let _entered = span.enter();
    if status.is_server_error() {
        tracing::warn!("request failed");
    } else {
        tracing::info!("request finished");
    }
    response
}
