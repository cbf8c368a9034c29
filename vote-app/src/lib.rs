//! # vote-app
//!
//! The Azure voting app (Cats vs Dogs) rewritten in Rust: a page that works without JavaScript,
//! counters in Redis (atomic, shared by every instance), every vote appended to a PostgreSQL
//! ledger that can rebuild the counters, and the endpoints operators need (`/health`, `/ready`,
//! `/version`, `/metrics`). With nothing configured it runs on an in-memory store, so
//! `cargo run -p vote-app` works on a fresh machine.
//!
//! # Layout
//!
//! - [`config`]: the typed configuration, read once from the environment.
//! - [`secret_settings`], [`keyvault`]: secret settings from Azure Key Vault, files or the environment.
//! - [`choice`]: the configured choices; a vote can only name one of them.
//! - [`store`]: the counters, behind the [`store::VoteStore`] trait (Redis or in memory).
//! - [`ledger`]: the PostgreSQL ledger of every vote, and the per-minute view.
//! - [`votes`]: the rules tying counters and ledger together (cast, tally, reset, restore).
//! - [`live`]: live results, the latest counts shared by every page watching them.
//! - [`routes`]: the HTTP surface, one module per feature.
//! - [`error`]: the one error type, turned into a response in one place.
//! - [`security`], [`metrics`], [`telemetry`]: the layers around every request.
//! - [`startup`]: builds the state from the config; [`server`] serves it until shutdown.
//! - [`healthcheck`]: `vote-app healthcheck`, the container's probe of the running server.
//!
//! Run it with `cargo run -p vote-app` and open <http://localhost:8080>.

pub mod build_info;
pub mod choice;
pub mod config;
pub mod error;
pub mod healthcheck;
pub mod i18n;
pub mod keyvault;
pub mod ledger;
pub mod live;
pub mod metrics;
pub mod routes;
pub mod secret;
pub mod secret_settings;
pub mod security;
pub mod server;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod votes;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;

pub use crate::state::AppState;

/// The largest request body accepted: a vote form is a few dozen bytes.
const BODY_LIMIT: usize = 4 * 1024;

/// A request taking longer than this gets a 503 rather than holding a connection forever.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Builds the whole app: routes plus the layers every request goes through, outermost first.
/// No I/O happens here, so tests call it with any state.
///
/// The app's own layers are `tower` services, not axum `from_fn` middleware: `from_fn` clones
/// and boxes the service below it, and boxes a future, on every request, and callgrind showed
/// those clones among the top costs of a `GET /`.
pub fn app(state: AppState) -> Router {
    let layers = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(telemetry::trace_layer())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(i18n::ChooseLanguageLayer { configured: state.ui_language })
        .layer(metrics::TrackLayer { state: state.clone() })
        .map_response(security::add_security_headers)
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT))
        .layer(security::RefuseCrossOriginLayer)
        .layer(DefaultBodyLimit::max(BODY_LIMIT));
    routes::all().layer(layers).with_state(state)
}
