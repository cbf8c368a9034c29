//! Is each upstream up? Active probes in the background, passive marks from the proxy.
//!
//! Request handlers only *read* this state (an atomic load): they never wait for a probe. Two
//! sources write it:
//! - the prober ([`spawn_prober`]) fetches each upstream's health path every interval and marks it
//!   up on a 2xx, down otherwise;
//! - the proxy marks an upstream down as soon as a connection to it fails ([`Health::mark_down`]),
//!   so traffic moves before the next probe. Only the prober marks an upstream up again, so one
//!   lucky request cannot flap it back.
//!
//! A slow response (timeout) does not mark an upstream down: one slow endpoint is not a dead
//! instance, and the active probe has its own deadline for a hung one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http::{Request, header};
use http_body_util::{BodyExt, Either, Empty};
use tokio::task::JoinHandle;

use crate::client::UpstreamClient;
use crate::clock::Parity;
use crate::upstream::{Upstream, Upstreams};

/// The up/down state of both upstreams.
#[derive(Debug)]
pub struct Health {
    /// Indexed by [`index`]; starts `true` so traffic flows before the first probe completes.
    healthy: [AtomicBool; 2],
}

impl Default for Health {
    fn default() -> Self {
        Self { healthy: [AtomicBool::new(true), AtomicBool::new(true)] }
    }
}

impl Health {
    /// Whether requests may be sent to `upstream`.
    pub fn is_healthy(&self, upstream: Parity) -> bool {
        self.healthy[upstream.index()].load(Ordering::Relaxed)
    }

    /// Passive detection: a connection to `upstream` just failed.
    pub fn mark_down(&self, upstream: Parity, why: &str) {
        self.set(upstream, false, why);
    }

    /// Records a probe result, logging only changes so a steady state stays quiet.
    fn set(&self, upstream: Parity, healthy: bool, why: &str) {
        let was = self.healthy[upstream.index()].swap(healthy, Ordering::Relaxed);
        match (was, healthy) {
            (true, false) => tracing::warn!(
                upstream = %upstream,
                reason = why,
                "upstream marked down; its minutes go to the {} upstream",
                upstream.other()
            ),
            (false, true) => tracing::info!(upstream = %upstream, "upstream is back up"),
            _ => {}
        }
    }
}

/// What the prober needs to know, from the configuration.
#[derive(Debug, Clone)]
pub struct ProbeSettings {
    /// Time between two rounds of probes.
    pub interval: Duration,
    /// Deadline for one probe, response body included.
    pub timeout: Duration,
    /// Path probed on each upstream, e.g. `/health`.
    pub path: String,
}

/// Starts the background task that probes both upstreams every `settings.interval`, forever.
///
/// The first round runs immediately. The task ends when the runtime shuts down.
pub fn spawn_prober(
    health: Arc<Health>,
    upstreams: Arc<Upstreams>,
    client: UpstreamClient,
    settings: ProbeSettings,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(settings.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let (even, odd) = tokio::join!(
                probe(&client, &upstreams.even, &settings),
                probe(&client, &upstreams.odd, &settings),
            );
            health.set(Parity::Even, even.is_ok(), even.err().unwrap_or_default());
            health.set(Parity::Odd, odd.is_ok(), odd.err().unwrap_or_default());
        }
    })
}

/// One probe: `Ok` when the health path answers 2xx within the deadline.
async fn probe(
    client: &UpstreamClient,
    upstream: &Upstream,
    settings: &ProbeSettings,
) -> Result<(), &'static str> {
    let path = settings.path.parse().map_err(|_| "invalid health path")?;
    let uri = upstream.uri_for(Some(&path)).map_err(|_| "invalid health path")?;
    let request = Request::get(uri)
        .header(header::HOST, upstream.host.clone())
        .header(header::USER_AGENT, "router-health-probe")
        .body(Either::Right(Empty::new()))
        .map_err(|_| "invalid health request")?;
    let exchange = async {
        let response = client.request(request).await.map_err(|_| "health probe failed")?;
        let status = response.status();
        // Read the body to the end so the connection goes back to the pool.
        let _ = response.into_body().collect().await;
        if status.is_success() { Ok(()) } else { Err("health probe answered non-2xx") }
    };
    tokio::time::timeout(settings.timeout, exchange).await.unwrap_or(Err("health probe timed out"))
}

#[cfg(test)]
mod tests;
