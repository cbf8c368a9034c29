//! The one state struct every handler receives.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::client::{TlsRootsError, UpstreamClient, build_client};
use crate::clock::Clock;
use crate::config::Config;
use crate::health::{self, Health, ProbeSettings};
use crate::metrics::Metrics;
use crate::upstream::Upstreams;

/// Shared by all handlers; cheap to clone (reference counts and a pooled client handle).
#[derive(Debug, Clone)]
pub struct AppState {
    /// Where even and odd minutes go.
    pub upstreams: Arc<Upstreams>,
    /// Decides the minute; injected so tests can pin it on either side of a boundary.
    pub clock: Arc<dyn Clock>,
    /// Up/down state written by the prober and by failed connections, read per request.
    pub health: Arc<Health>,
    /// Counters and histograms for `/router/metrics` and `/router/status`.
    pub metrics: Arc<Metrics>,
    /// Pooled keep-alive client to both upstreams.
    pub client: UpstreamClient,
    /// Bound on the wait for upstream response headers (504 after it).
    pub request_timeout: Duration,
}

impl AppState {
    /// Builds the state from the configuration. Does no I/O besides loading TLS roots.
    pub fn new(config: &Config, clock: Arc<dyn Clock>) -> Result<Self, TlsRootsError> {
        Ok(Self {
            upstreams: Arc::new(Upstreams { even: config.even.clone(), odd: config.odd.clone() }),
            clock,
            health: Arc::new(Health::default()),
            metrics: Arc::new(Metrics::default()),
            client: build_client(config)?,
            request_timeout: config.request_timeout,
        })
    }

    /// Starts probing both upstreams in the background (see [`health`]).
    pub fn spawn_health_checks(&self, config: &Config) -> JoinHandle<()> {
        let settings = ProbeSettings {
            interval: config.health_interval,
            timeout: config.health_timeout,
            path: config.health_path.clone(),
        };
        health::spawn_prober(
            self.health.clone(),
            self.upstreams.clone(),
            self.client.clone(),
            settings,
        )
    }
}
