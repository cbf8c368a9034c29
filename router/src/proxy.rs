//! The proxy pipeline: every request that is not a `/router/*` endpoint goes through it.
//!
//! The phases, in order:
//! 1. **choose** the upstream: the minute's parity, or the other one if it is marked down;
//! 2. **prepare** the request: strip hop-by-hop headers, add `X-Forwarded-*`, set `Host`;
//! 3. **forward** it with the pooled client, bounded by the request timeout;
//! 4. **finish** the response: strip hop-by-hop headers, add `X-Routed-To`/`X-Router-Fallback`;
//! 5. **record** span fields and metrics (the log line itself is written by
//!    [`crate::telemetry::log_finished`]).
//!
//! Bodies are never collected: the client's body stream is handed to the upstream request and
//! the upstream's body stream to the response, so memory stays flat whatever their size.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::response::IntoResponse;
use http::request::Parts;
use http::{HeaderValue, Request, Response, StatusCode, Version};
use http_body_util::{Either, Empty};
use hyper::body::{Body as _, Incoming};
use tracing::Span;

use crate::client::UpstreamBody;
use crate::clock::Parity;
use crate::error::RouterError;
use crate::headers;
use crate::health::Health;
use crate::pool::{PooledBody, SendError};
use crate::state::AppState;

/// Body of every response the router sends: an upstream's, streamed through untouched, or one
/// the router made (errors, its own endpoints). An enum rather than a boxed body, so the common
/// case costs no allocation.
pub type ResponseBody = Either<PooledBody, Body>;

/// What routing decided for one request; filled as the pipeline runs.
#[derive(Debug, Clone, Copy)]
struct Routed {
    /// Parity of the minute the request arrived in.
    parity: Parity,
    /// Upstream tried last (`None` when both were down).
    upstream: Option<Parity>,
    /// Whether `upstream` is not the minute's own.
    fallback: bool,
}

/// Runs the pipeline for one request from `client`, recording into the request's `span`.
pub async fn proxy(
    state: &AppState,
    request: Request<Incoming>,
    client: Option<&HeaderValue>,
    span: &Span,
) -> Response<ResponseBody> {
    let started = Instant::now();
    let parity = Parity::of(state.clock.now());
    let mut routed = Routed { parity, upstream: None, fallback: false };
    let response = match run(state, request, client, &mut routed).await {
        Ok(response) => response,
        Err(error) => error.into_response().map(Either::Right),
    };
    record(state, span, &routed, response.status(), started.elapsed());
    response
}

async fn run(
    state: &AppState,
    request: Request<Incoming>,
    client: Option<&HeaderValue>,
    routed: &mut Routed,
) -> Result<Response<ResponseBody>, RouterError> {
    let target = choose_upstream(routed.parity, &state.health)?;
    routed.upstream = Some(target);
    routed.fallback = target != routed.parity;
    let (mut parts, body) = request.into_parts();
    prepare_request(&mut parts, client);
    // Retrying on the other upstream is only safe when the request can be sent again exactly:
    // a connect error means nothing reached the upstream, but a streamed body is consumed by the
    // first attempt. So only bodiless requests (most GETs, the health-critical page loads) are
    // retried; a POST whose upstream just died gets a 502, and the next one goes to the other
    // upstream because the failure marked this one down.
    let retry_head = body.is_end_stream().then(|| copy_head(&parts));
    let first = forward(state, target, parts, Either::Left(body)).await;
    let response = match (first, retry_head) {
        (Err(RouterError::Connect { .. }), Some(head))
            if state.health.is_healthy(target.other()) =>
        {
            routed.upstream = Some(target.other());
            routed.fallback = target.other() != routed.parity;
            // Boxed: the rare retry would otherwise double the size of every request's future.
            Box::pin(forward(state, target.other(), head, Either::Right(Empty::new()))).await?
        }
        (first, _) => first?,
    };
    Ok(finish(response, routed))
}

/// Phase 1: the minute's upstream if healthy, else the other one, else nowhere.
fn choose_upstream(parity: Parity, health: &Health) -> Result<Parity, RouterError> {
    [parity, parity.other()]
        .into_iter()
        .find(|&upstream| health.is_healthy(upstream))
        .ok_or(RouterError::BothUpstreamsDown)
}

/// Phase 2 (upstream-independent part): header rules that hold whichever upstream is used.
fn prepare_request(parts: &mut Parts, client: Option<&HeaderValue>) {
    headers::strip_hop_by_hop(&mut parts.headers);
    if let Some(client) = client {
        headers::append_forwarded_for(&mut parts.headers, client);
    }
    headers::set_forwarded_proto(&mut parts.headers);
}

/// Phase 3: sends the request to `target`, setting what depends on the upstream.
async fn forward(
    state: &AppState,
    target: Parity,
    mut parts: Parts,
    body: UpstreamBody,
) -> Result<Response<PooledBody>, RouterError> {
    let upstream = state.upstreams.get(target);
    parts.uri = upstream.origin_form(parts.uri.path_and_query())?;
    // The client side may be HTTP/1.0; the pooled upstream connections are HTTP/1.1.
    parts.version = Version::HTTP_11;
    headers::rewrite_host(&mut parts.headers, &upstream.host);
    let request = Request::from_parts(parts, body);
    let sent = state.pool.send(target, upstream.origin(), request);
    match tokio::time::timeout(state.request_timeout, sent).await {
        Err(_elapsed) => Err(RouterError::Timeout { upstream: target }),
        Ok(Err(SendError::Connect(source))) => {
            state.health.mark_down(target, "connection failed");
            Err(RouterError::Connect { upstream: target, source })
        }
        Ok(Err(SendError::Exchange(source))) => {
            Err(RouterError::Exchange { upstream: target, source })
        }
        Ok(Ok(response)) => Ok(response),
    }
}

/// Phase 4: the upstream's response, cleaned of hop-by-hop headers and labelled.
fn finish(response: Response<PooledBody>, routed: &Routed) -> Response<ResponseBody> {
    let (mut parts, body) = response.into_parts();
    headers::strip_hop_by_hop(&mut parts.headers);
    if let Some(upstream) = routed.upstream {
        headers::mark_routed(&mut parts.headers, upstream, routed.fallback);
    }
    Response::from_parts(parts, Either::Left(body))
}

/// Phase 5: span fields for the request's log line, and metrics.
fn record(state: &AppState, span: &Span, routed: &Routed, status: StatusCode, latency: Duration) {
    span.record("parity", routed.parity.as_str());
    span.record("fallback", routed.fallback);
    if let Some(upstream) = routed.upstream {
        span.record("upstream", upstream.as_str());
        if routed.fallback {
            state.metrics.observe_fallback(upstream);
        }
    }
    state.metrics.observe_request(routed.upstream, status, latency);
}

/// The request line and headers, for sending a bodiless request a second time.
fn copy_head(parts: &Parts) -> Parts {
    let (mut head, ()) = Request::new(()).into_parts();
    head.method = parts.method.clone();
    head.uri = parts.uri.clone();
    head.version = parts.version;
    head.headers = parts.headers.clone();
    head
}
