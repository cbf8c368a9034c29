//! The proxy pipeline: every request that is not a `/router/*` endpoint goes through it.
//!
//! The phases, in order:
//! 1. **choose** the upstream: the minute's parity, or the other one if it is marked down;
//! 2. **prepare** the request: strip hop-by-hop headers, add `X-Forwarded-*`, set `Host`;
//! 3. **forward** it with the pooled client, bounded by the request timeout; when the upstream
//!    fails before a response head, send it once to the other upstream if that is safe (see
//!    `replayable` and `Failed`);
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
use http::{HeaderValue, Method, Request, Response, StatusCode, Version};
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
    let replay = replayable(&parts, &body);
    let request = Request::from_parts(parts, Either::Left(body));
    let (error, retry) = match (forward(state, target, request).await, replay) {
        (Ok(response), _) => return Ok(finish(response, routed)),
        (Err(failed), _) if !state.health.is_healthy(target.other()) => return Err(failed.into()),
        // Nothing reached the upstream: whatever the method, the request goes to the other one
        // exactly as it came, body included (it was never polled).
        (Err(Failed::Unsent(error, request)), _) => (error, *request),
        // The upstream may have seen it, but an idempotent bodiless request is safe to repeat.
        (Err(Failed::Sent(error)), Some(replay)) => (error, replay),
        (Err(failed), _) => return Err(failed.into()),
    };
    tracing::warn!(%error, retry_on = %target.other(), "upstream failed before answering");
    routed.upstream = Some(target.other());
    routed.fallback = target.other() != routed.parity;
    // Boxed: the rare retry would otherwise double the size of every request's future.
    let response = Box::pin(forward(state, target.other(), retry)).await?;
    Ok(finish(response, routed))
}

/// A copy of the request to send again if the upstream fails before answering, for the requests
/// whose repetition is harmless: GET, HEAD and OPTIONS without a body (RFC 9110 §9.2.2, what
/// nginx's `proxy_next_upstream error` and HAProxy's `retry-on` assume). A POST is never
/// repeated once sent: a vote must not count twice.
///
/// The copy costs a clone of the headers per such request; keeping the request itself is not
/// possible, since hyper consumes it once it is written.
fn replayable(parts: &Parts, body: &Incoming) -> Option<Request<UpstreamBody>> {
    let idempotent = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !idempotent || !body.is_end_stream() {
        return None;
    }
    let mut request = Request::new(Either::Right(Empty::new()));
    *request.method_mut() = parts.method.clone();
    *request.uri_mut() = parts.uri.clone();
    *request.version_mut() = parts.version;
    *request.headers_mut() = parts.headers.clone();
    Some(request)
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
    headers::forward_client_host(&mut parts.headers);
}

/// How forwarding to one upstream failed, split by what may happen next.
#[derive(Debug)]
enum Failed {
    /// Nothing was sent (no connection, or one that broke before the request was written): the
    /// request comes back as it was given, to go to the other upstream.
    Unsent(RouterError, Box<Request<UpstreamBody>>),
    /// The connection broke after the request was (maybe partly) written, before a response
    /// head: only a replayable copy may go to the other upstream.
    Sent(RouterError),
    /// No retry helps: a timeout (the upstream may still be working on it), a bad target.
    Other(RouterError),
}

impl From<Failed> for RouterError {
    fn from(failed: Failed) -> Self {
        match failed {
            Failed::Unsent(error, _) | Failed::Sent(error) | Failed::Other(error) => error,
        }
    }
}

/// Phase 3: sends the request to `target`, setting what depends on the upstream.
async fn forward(
    state: &AppState,
    target: Parity,
    mut request: Request<UpstreamBody>,
) -> Result<Response<PooledBody>, Failed> {
    let upstream = state.upstreams.get(target);
    let origin_form = upstream.origin_form(request.uri().path_and_query());
    let client_uri = std::mem::replace(
        request.uri_mut(),
        origin_form.map_err(|error| Failed::Other(error.into()))?,
    );
    // The client side may be HTTP/1.0; the pooled upstream connections are HTTP/1.1.
    *request.version_mut() = Version::HTTP_11;
    headers::set_upstream_host(request.headers_mut(), &upstream.host);
    // Boxed: the exchange's future is large, and moving it through the layers of futures above
    // (timeout, proxy, log span) cost more than this one allocation.
    let sent = Box::pin(state.pool.send(target, upstream.origin(), request));
    match tokio::time::timeout(state.request_timeout, sent).await {
        Err(_) => Err(Failed::Other(RouterError::Timeout { upstream: target })),
        Ok(Err(SendError::Connect { source, mut request })) => {
            state.health.mark_down(target, "connection failed");
            *request.uri_mut() = client_uri;
            Err(Failed::Unsent(RouterError::Connect { upstream: target, source }, request))
        }
        Ok(Err(SendError::Exchange(source))) => {
            Err(Failed::Sent(RouterError::Exchange { upstream: target, source }))
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
