//! A minute-parity reverse proxy: one URL in front of two vote-app instances.
//!
//! A request that arrives in an even UTC minute goes to the *even* upstream, one in an odd minute
//! to the *odd* upstream; the response says which answered (`X-Routed-To`). If that upstream is
//! down, the other one answers and the response says so (`X-Router-Fallback: true`). It is a real
//! reverse proxy: bodies stream both ways, hop-by-hop headers are stripped, `Host` names the
//! upstream (App Service routes by it) and `X-Forwarded-*` carry what the client sent.
//!
//! ```text
//! ROUTER_UPSTREAM_EVEN=http://127.0.0.1:8081 ROUTER_UPSTREAM_ODD=http://127.0.0.1:8082 \
//!     PORT=8080 cargo run -p router
//! ```
//!
//! # Layout
//!
//! - [`config`]: the typed configuration, read once from the environment.
//! - [`clock`]: time as a dependency, and the [`Parity`] of a minute.
//! - [`upstream`]: an upstream's base URL, parsed once into what forwarding needs.
//! - [`client`]: the connector (plain TCP or rustls) and the health prober's pooled client.
//! - [`pool`]: each worker's keep-alive connections to the upstreams, for the proxy.
//! - [`health`]: background probes and passive failure marks; handlers only read them.
//! - [`proxy`]: the pipeline choose → prepare → forward → finish → record.
//! - [`headers`]: the header rules, as pure functions with table-driven tests.
//! - [`error`]: the one error enum, turned into a response in one place.
//! - [`metrics`]: Prometheus counters and histograms with bounded labels.
//! - [`routes`]: `app()` and [`routes::App::handle`], every request's entry: request id, log
//!   line, then `/router/*` to the router's own axum endpoints and everything else to the proxy.
//! - [`state`]: the state every handler receives.
//! - [`telemetry`]: the log subscriber, the request span and its one log line, request ids.
//! - [`server`]: `serve(listener, app, shutdown, drain_timeout)` on plain hyper, one runtime per
//!   core, and the signal handler.
//! - [`healthcheck`]: `router healthcheck`, the container's probe of the running router.

pub mod client;
pub mod clock;
pub mod config;
pub mod error;
pub mod headers;
pub mod health;
pub mod healthcheck;
pub mod metrics;
pub mod pool;
pub mod proxy;
pub mod routes;
pub mod server;
pub mod state;
pub mod telemetry;
pub mod upstream;

pub use clock::{Clock, FixedClock, Parity, SystemClock};
pub use config::Config;
pub use routes::app;
pub use server::{serve, shutdown_signal};
pub use state::AppState;
