//! Prometheus metrics: votes by choice, requests by route and status, request latency.
//!
//! Labels are route templates (`/api/votes`), never raw URIs, so a scanner requesting random
//! paths cannot blow up the number of series.

use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::response::Response;
use futures_util::future::BoxFuture;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tower::{Layer, Service};

use crate::state::AppState;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ChoiceLabels {
    choice: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

/// The app's metrics and the registry that renders them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    votes: Family<ChoiceLabels, Counter>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
}

fn latency_histogram() -> Histogram {
    // 1 ms to about 8 s: a vote takes a few milliseconds, a timeout several seconds.
    Histogram::new(exponential_buckets(0.001, 2.0, 14))
}

impl Metrics {
    /// Registers every metric under the `vote_app` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("vote_app");
        let votes = Family::default();
        let requests = Family::default();
        let latency = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register("votes", "Votes accepted by this instance", votes.clone());
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            requests.clone(),
        );
        registry.register("http_request_duration_seconds", "HTTP request latency", latency.clone());
        Self { registry, votes, requests, latency }
    }

    /// Counts a vote this instance accepted.
    pub fn vote_accepted(&self, choice: &str) {
        self.votes.get_or_create(&ChoiceLabels { choice: choice.to_owned() }).inc();
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail; an empty page would show it if it ever did.
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Adds [`Track`] around a service.
#[derive(Debug, Clone)]
pub struct TrackLayer {
    pub state: AppState,
}

impl<S> Layer<S> for TrackLayer {
    type Service = Track<S>;

    fn layer(&self, inner: S) -> Track<S> {
        Track { inner, state: self.state.clone() }
    }
}

/// Counts each request and observes its latency under its route template.
#[derive(Debug, Clone)]
pub struct Track<S> {
    inner: S,
    state: AppState,
}

impl<S> Service<Request> for Track<S>
where
    S: Service<Request, Response = Response>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response, S::Error>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
        let method = request.method().as_str().to_owned();
        let started = Instant::now();
        let response = self.inner.call(request);
        let state = self.state.clone();
        Box::pin(async move {
            let response = response.await?;
            let status = response.status().as_u16();
            let metrics = &state.metrics;
            let requests = RequestLabels { route: route.clone(), method, status };
            metrics.requests.get_or_create(&requests).inc();
            let latency = started.elapsed().as_secs_f64();
            metrics.latency.get_or_create(&RouteLabels { route }).observe(latency);
            Ok(response)
        })
    }
}
