//! Prometheus metrics, served on `/router/metrics`.
//!
//! Labels are bounded sets chosen here: upstream names (`even`, `odd`, `none`), status classes
//! (`2xx` …), error kinds. Never a URI, a path or a client address: each distinct label value is
//! a new time series kept forever, so a raw path would let any client grow the router's memory.

use std::sync::OnceLock;
use std::time::Duration;

use http::StatusCode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::clock::Parity;

/// Labels of a proxied request.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    /// Upstream that was tried last, or `none` when both were down.
    upstream: &'static str,
    /// `2xx`, `3xx`, `4xx`, `5xx` (or `1xx`).
    status_class: &'static str,
}

/// Labels of a fallback: where the request should have gone and where it went.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FallbackLabels {
    from: &'static str,
    to: &'static str,
}

/// Labels naming one upstream.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    upstream: &'static str,
}

/// The router's metrics and the registry that renders them.
#[derive(Debug)]
pub struct Metrics {
    /// Owns every metric below, for rendering.
    registry: Registry,
    /// Proxied requests by upstream and status class; also the counts on `/router/status`.
    requests: Family<RequestLabels, Counter>,
    /// Time from request received to response headers sent, per upstream.
    latency: Family<UpstreamLabels, Histogram>,
    /// Requests sent to the other upstream because theirs was down.
    fallbacks: Family<FallbackLabels, Counter>,
    /// 1 when the upstream is considered healthy, 0 when down.
    upstream_up: Family<UpstreamLabels, Gauge>,
    /// Handles into `requests`, one slot per upstream (`even`, `odd`, `none`) and status class.
    request_slots: [[OnceLock<Counter>; 5]; 3],
    /// Handles into `latency`, one per upstream.
    latency_slots: [OnceLock<Histogram>; 2],
}

/// Upstream label values, indexed like [`Metrics::request_slots`].
const UPSTREAM_NAMES: [&str; 3] = ["even", "odd", "none"];

const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("router");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<UpstreamLabels, Histogram>::new_with_constructor(|| {
            // 0.5 ms … ~16 s: covers a local hop and a slow cross-region App Service.
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let fallbacks = Family::<FallbackLabels, Counter>::default();
        let upstream_up = Family::<UpstreamLabels, Gauge>::default();
        registry.register(
            "requests",
            "Proxied requests by upstream and status class",
            requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time until the response headers were ready, by upstream",
            latency.clone(),
        );
        registry.register("fallbacks", "Requests sent to the other upstream", fallbacks.clone());
        registry.register(
            "upstream_up",
            "Whether the upstream is considered healthy",
            upstream_up.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            fallbacks,
            upstream_up,
            request_slots: Default::default(),
            latency_slots: Default::default(),
        }
    }
}

impl Metrics {
    /// Records one proxied request; `upstream` is `None` when no upstream could be tried.
    ///
    /// Why the slots: a `Family` lookup hashes the labels under a lock on every call, which showed
    /// in the proxy's profile. Each label combination is looked up once, on its first use (so the
    /// rendered output lists exactly the combinations seen, as before), and later requests only
    /// touch the cached handle, which shares the counter with the family.
    pub fn observe_request(&self, upstream: Option<Parity>, status: StatusCode, latency: Duration) {
        let (u, c) = (upstream_index(upstream), class_index(status));
        self.request_slots[u][c]
            .get_or_init(|| {
                let labels =
                    RequestLabels { upstream: UPSTREAM_NAMES[u], status_class: STATUS_CLASSES[c] };
                self.requests.get_or_create_owned(&labels)
            })
            .inc();
        if upstream.is_some() {
            self.latency_slots[u]
                .get_or_init(|| {
                    self.latency
                        .get_or_create_owned(&UpstreamLabels { upstream: UPSTREAM_NAMES[u] })
                })
                .observe(latency.as_secs_f64());
        }
    }

    /// Records a request that went to `to` because `to.other()` was down.
    pub fn observe_fallback(&self, to: Parity) {
        let labels = FallbackLabels { from: to.other().as_str(), to: to.as_str() };
        self.fallbacks.get_or_create(&labels).inc();
    }

    /// Mirrors the health state, just before rendering.
    pub fn set_upstream_up(&self, upstream: Parity, up: bool) {
        self.upstream_up
            .get_or_create(&UpstreamLabels { upstream: upstream.as_str() })
            .set(i64::from(up));
    }

    /// How many requests `upstream` has answered (any status), for `/router/status`.
    pub fn requests_to(&self, upstream: Parity) -> u64 {
        STATUS_CLASSES
            .iter()
            .map(|class| {
                let labels = RequestLabels { upstream: upstream.as_str(), status_class: class };
                self.requests.get_or_create(&labels).get()
            })
            .sum()
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// `2xx`-style class of a status code: a bounded label, unlike the code itself.
pub fn status_class(status: StatusCode) -> &'static str {
    STATUS_CLASSES[class_index(status)]
}

/// Index of `status`'s class in [`STATUS_CLASSES`].
fn class_index(status: StatusCode) -> usize {
    match status.as_u16() {
        100..=199 => 0,
        200..=299 => 1,
        300..=399 => 2,
        400..=499 => 3,
        _ => 4,
    }
}

/// Index of an upstream's label in [`UPSTREAM_NAMES`].
fn upstream_index(upstream: Option<Parity>) -> usize {
    match upstream {
        Some(Parity::Even) => 0,
        Some(Parity::Odd) => 1,
        None => 2,
    }
}

#[cfg(test)]
mod tests;
