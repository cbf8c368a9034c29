//! The HTTP surface: the router's own endpoints under `/router/`, everything else proxied.
//!
//! [`App::handle`] is the one entry point for every request. It does what every request needs
//! (a request id, kept from the client when present, forwarded upstream and echoed in the
//! response; the request's log line) and then dispatches: paths under `/router/` go to a small
//! axum router of the feature modules, every other path to the proxy pipeline directly.
//!
//! Why the proxy is not an axum fallback behind tower layers: it is the hot path of a component
//! whose requirement is to be as fast as nginx, and routing plus three layers cost measurable CPU
//! per request (see `router/README.md`, Performance). The endpoints keep axum's conveniences.

mod metrics;
mod status;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::Either;
use hyper::body::Incoming;
use tower::ServiceExt as _;
use tracing::Instrument as _;

use crate::headers;
use crate::proxy::{ResponseBody, proxy};
use crate::state::AppState;
use crate::telemetry::{self, MakeRequestIds};

/// Every path under this prefix is the router's own; all others are proxied.
const OWN_PREFIX: &str = "/router/";

/// The `route` log field of proxied requests.
const PROXY_ROUTE: &str = "proxy";

/// The `route` log field of an unknown path under `/router/` (a bounded value, not the path).
const UNKNOWN_OWN_ROUTE: &str = "/router/*";

/// The whole application of one worker: cheap to clone (one reference count).
#[derive(Debug, Clone)]
pub struct App(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    /// Upstreams, client, health and metrics, shared with the endpoints.
    state: AppState,
    /// The `/router/*` endpoints, with their state.
    own: Router,
    /// Makes ids for requests that arrive without one.
    request_ids: MakeRequestIds,
}

/// Builds the whole application. No I/O: tests call it with their own state.
///
/// The router's endpoints live under `/router/` so they cannot shadow a vote-app path; any other
/// path, method or body goes to the proxy.
pub fn app(state: AppState) -> App {
    let own = Router::new()
        .merge(status::routes())
        .merge(metrics::routes())
        .fallback(|| async { (StatusCode::NOT_FOUND, "Not found: no such router endpoint.\n") })
        .with_state(state.clone());
    App(Arc::new(Inner { state, own, request_ids: MakeRequestIds::default() }))
}

impl App {
    /// Answers one request from a client whose address is `client` (rendered as a header value).
    pub async fn handle(
        &self,
        mut request: Request<Incoming>,
        client: Option<&HeaderValue>,
    ) -> Response<ResponseBody> {
        let id = headers::ensure_request_id(request.headers_mut(), || self.0.request_ids.next());
        let route = route_of(request.uri().path());
        let span = telemetry::request_span(request.method(), route, id.as_ref());
        let started = (!span.is_disabled()).then(Instant::now);
        let mut response = if route == PROXY_ROUTE {
            proxy(&self.0.state, request, client, &span).instrument(span.clone()).await
        } else {
            // Boxed: axum's future is large, and kept inline it would make every proxied
            // request's future (moved several times per request) that large too.
            Box::pin(self.own_endpoint(request)).instrument(span.clone()).await
        };
        headers::propagate_request_id(response.headers_mut(), id);
        telemetry::log_finished(&span, response.status(), started);
        response
    }

    async fn own_endpoint(&self, request: Request<Incoming>) -> Response<ResponseBody> {
        match self.0.own.clone().oneshot(request).await {
            Ok(response) => response.map(Either::Right),
            Err(never) => match never {},
        }
    }
}

/// The `route` log field for `path`: `proxy`, or the template of one of the router's endpoints.
/// Never the raw path, whose query may carry ids or tokens.
fn route_of(path: &str) -> &'static str {
    if !path.starts_with(OWN_PREFIX) {
        return PROXY_ROUTE;
    }
    [status::HEALTH, status::STATUS, metrics::METRICS]
        .into_iter()
        .find(|&route| route == path)
        .unwrap_or(UNKNOWN_OWN_ROUTE)
}

#[cfg(test)]
mod tests;
