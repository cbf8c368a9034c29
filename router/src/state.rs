//! The one state struct every handler receives.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::client::{TlsRootsError, UpstreamClient, build_client, build_connector};
use crate::clock::Clock;
use crate::config::Config;
use crate::health::{self, Health, ProbeSettings};
use crate::metrics::Metrics;
use crate::pool::{PoolSettings, UpstreamPool};
use crate::upstream::Upstreams;

/// Shared by all handlers of one worker. One `Arc` inside, so the per-request clone axum makes
/// is a single reference-count increment.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] gives access to.
#[derive(Debug)]
pub struct Shared {
    /// Where even and odd minutes go.
    pub upstreams: Arc<Upstreams>,
    /// Decides the minute; injected so tests can pin it on either side of a boundary.
    pub clock: Arc<dyn Clock>,
    /// Up/down state written by the prober and by failed connections, read per request.
    pub health: Arc<Health>,
    /// Counters and histograms for `/router/metrics` and `/router/status`.
    pub metrics: Arc<Metrics>,
    /// Pooled keep-alive client to both upstreams, for the health prober.
    pub client: UpstreamClient,
    /// This worker's keep-alive connections to both upstreams, for the proxy.
    pub pool: Arc<UpstreamPool>,
    /// Bound on the wait for upstream response headers (504 after it).
    pub request_timeout: Duration,
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// Builds the state from the configuration. Does no I/O besides loading TLS roots. Its
    /// connection pool has the whole per-upstream cap, as the one worker of [`crate::serve`].
    pub fn new(config: &Config, clock: Arc<dyn Clock>) -> Result<Self, TlsRootsError> {
        Ok(Self(Arc::new(Shared {
            upstreams: Arc::new(Upstreams { even: config.even.clone(), odd: config.odd.clone() }),
            clock,
            health: Arc::new(Health::default()),
            metrics: Arc::new(Metrics::default()),
            client: build_client(config)?,
            pool: new_pool(config, 1)?,
            request_timeout: config.request_timeout,
        })))
    }

    /// A state sharing upstreams, clock, health and metrics but with its own connection pool,
    /// for one of the `workers` threads of [`crate::server::serve_per_core`]: pooled connections
    /// then stay on the thread whose runtime drives them.
    pub fn for_worker(&self, config: &Config, workers: usize) -> Result<Self, TlsRootsError> {
        Ok(Self(Arc::new(Shared {
            upstreams: self.upstreams.clone(),
            clock: self.clock.clone(),
            health: self.health.clone(),
            metrics: self.metrics.clone(),
            // Only the prober uses this client, and it runs once, on the main runtime: workers
            // share its handle rather than each loading the TLS roots for a client of their own.
            client: self.client.clone(),
            pool: new_pool(config, workers)?,
            request_timeout: self.request_timeout,
        })))
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

/// The connection pool of one of `workers` workers.
fn new_pool(config: &Config, workers: usize) -> Result<Arc<UpstreamPool>, TlsRootsError> {
    let settings = PoolSettings::shared_by(workers, config.max_connections_per_upstream);
    Ok(Arc::new(UpstreamPool::new(build_connector(config)?, settings)))
}
