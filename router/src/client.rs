//! The pooled HTTP/1.1 client the router forwards with and probes health through.
//!
//! One client for the process: it keeps idle keep-alive connections to both upstreams, which is
//! most of what makes a proxy fast. `https` upstreams go through rustls with the platform's root
//! certificates; `http` ones through plain TCP.

use std::time::Duration;

use axum::body::Body;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::config::Config;

/// The client type shared by the proxy and the health prober.
pub type UpstreamClient = Client<HttpsConnector<HttpConnector>, Body>;

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("an https upstream is configured but no trusted root certificates could be loaded")]
pub struct TlsRootsError(#[source] std::io::Error);

/// How long an unused pooled connection is kept. Below the usual upstream keep-alive limits
/// (nginx 75 s, App Service front ends minutes), so the router closes first and rarely writes to a
/// connection the upstream is closing.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds the client with the configured connect timeout.
pub fn build_client(config: &Config) -> Result<UpstreamClient, TlsRootsError> {
    let mut tcp = HttpConnector::new();
    // The HTTPS connector wraps this one, so it must accept `https` URIs too.
    tcp.enforce_http(false);
    tcp.set_connect_timeout(Some(config.connect_timeout));
    tcp.set_nodelay(true);
    let needs_tls = [&config.even, &config.odd].iter().any(|u| u.url.scheme_str() == Some("https"));
    let tls = match HttpsConnectorBuilder::new().with_native_roots() {
        Ok(builder) => builder,
        // A container without CA certificates can still proxy to plain-http upstreams.
        Err(error) if needs_tls => return Err(TlsRootsError(error)),
        Err(_) => HttpsConnectorBuilder::new().with_tls_config(empty_tls_config()),
    };
    let connector = tls.https_or_http().enable_http1().wrap_connector(tcp);
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .pool_timer(TokioTimer::new())
        .build(connector))
}

fn empty_tls_config() -> rustls::ClientConfig {
    rustls::ClientConfig::builder()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth()
}
