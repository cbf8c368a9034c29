//! Logs: one subscriber for the process, and one line per request.
//!
//! Every request runs inside a `request` span whose fields (request id, method, route, upstream,
//! parity, fallback, status, latency) are filled as the pipeline learns them; [`log_finished`]
//! emits the single line when the response is ready. Text on a terminal, JSON in containers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use http::{HeaderValue, Method, StatusCode};
use tracing::Span;
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
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

/// Opens the span of one request; its fields are filled as the pipeline learns them.
///
/// The route field is a template (`proxy`, `/router/status`…), never the raw URI, which may
/// carry ids or tokens in its query. When the `info` level is off (`RUST_LOG=warn`) this is a
/// disabled span and none of the fields is evaluated, so logging costs nothing per request.
pub fn request_span(
    method: &Method,
    route: &'static str,
    request_id: Option<&HeaderValue>,
) -> Span {
    tracing::info_span!(
        "request",
        request_id = request_id.and_then(|id| id.to_str().ok()).unwrap_or("-"),
        method = method.as_str(),
        route,
        upstream = Empty,
        parity = Empty,
        fallback = Empty,
        status = Empty,
        latency_ms = Empty,
        error = Empty,
    )
}

/// Writes the request's one log line: `warn` for a 5xx (visible with `RUST_LOG=warn`), else `info`.
///
/// `started` is `None` when the span is disabled: then nobody reads the latency, so the clock is
/// not read for it either.
pub fn log_finished(span: &Span, status: StatusCode, started: Option<Instant>) {
    if let Some(started) = started {
        span.record("status", status.as_u16());
        span.record("latency_ms", started.elapsed().as_secs_f64() * 1000.0);
    }
    let _entered = span.enter();
    if status.is_server_error() {
        tracing::warn!("request failed");
    } else {
        tracing::info!("request finished");
    }
}

/// Makes `X-Request-Id` values: UUIDv4-shaped, unique per process, without a system call.
///
/// Why not tower-http's `MakeRequestUuid`: it asks the kernel for randomness on every request,
/// which showed in the benchmark. A request id must be unique and unlikely to collide across
/// instances, not secret: one random seed per process plus a counter, mixed by splitmix64 (a
/// bijection, so distinct counters give distinct ids), does that.
#[derive(Debug, Clone)]
pub struct MakeRequestIds {
    /// Random per process, so two instances do not produce the same sequence.
    seed: u64,
    /// Shared by every clone (one per route and worker), so ids never repeat in a process.
    counter: Arc<AtomicU64>,
}

impl Default for MakeRequestIds {
    fn default() -> Self {
        Self { seed: uuid::Uuid::new_v4().as_u64_pair().0, counter: Arc::default() }
    }
}

impl MakeRequestIds {
    /// The next id, as the header value it is sent in.
    pub fn next(&self) -> Option<HeaderValue> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let high = splitmix64(self.seed ^ n);
        let low = splitmix64(high ^ n.rotate_left(32));
        let bytes = ((u128::from(high) << 64) | u128::from(low)).to_be_bytes();
        let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
        let mut text = uuid::Uuid::encode_buffer();
        HeaderValue::from_str(id.hyphenated().encode_lower(&mut text)).ok()
    }
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests;
