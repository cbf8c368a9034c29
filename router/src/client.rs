//! The connector to the upstreams, and the pooled HTTP/1.1 client the health prober uses.
//!
//! The proxy forwards through [`crate::pool`], built on the same connector. `https` upstreams go through rustls, trusting the platform's root
//! certificates plus those of `ROUTER_UPSTREAM_CA_FILE`; `http` ones go through plain TCP.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{Either, Empty};
use hyper::body::Incoming;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;

use crate::config::Config;

/// Body of a request to an upstream: the client's body streamed through, or none (a retry, a
/// health probe). An enum rather than a boxed body, so forwarding costs no allocation for it.
pub type UpstreamBody = Either<Incoming, Empty<Bytes>>;

/// The client type of the health prober.
pub type UpstreamClient = Client<HttpsConnector<HttpConnector>, UpstreamBody>;

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsRootsError {
    /// An `https` upstream needs at least one trusted root to verify its certificate against.
    #[error(
        "an https upstream is configured but no trusted root certificates could be loaded \
         (install the system CA certificates or set ROUTER_UPSTREAM_CA_FILE)"
    )]
    NoRoots,
    /// A certificate of `ROUTER_UPSTREAM_CA_FILE` cannot serve as a trust anchor.
    #[error("ROUTER_UPSTREAM_CA_FILE holds a certificate that cannot be used as a root")]
    BadExtraRoot(#[source] rustls::Error),
    /// The crypto provider supports none of rustls' default protocol versions.
    #[error("TLS cannot be configured")]
    Protocol(#[source] rustls::Error),
}

/// Builds the client with the configured connect timeout and trusted roots.
pub fn build_client(config: &Config) -> Result<UpstreamClient, TlsRootsError> {
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(crate::pool::IDLE_TIMEOUT)
        .pool_timer(TokioTimer::new())
        // The prober sets `Host` itself (the upstream's name, as the proxy does).
        .set_host(false)
        .build(build_connector(config)?))
}

/// The connector: TCP with the connect timeout, then rustls for `https` upstreams.
pub fn build_connector(config: &Config) -> Result<HttpsConnector<HttpConnector>, TlsRootsError> {
    let mut tcp = HttpConnector::new();
    // The HTTPS connector wraps this one, so it must accept `https` URIs too.
    tcp.enforce_http(false);
    tcp.set_connect_timeout(Some(config.connect_timeout));
    // Requests are written in one piece; Nagle's algorithm would only delay them.
    tcp.set_nodelay(true);
    Ok(HttpsConnectorBuilder::new()
        .with_tls_config(tls_config(config)?)
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp))
}

/// rustls settings: the platform's roots plus the configured extra ones, TLS 1.2 and 1.3.
///
/// The connector sends the upstream URL's host as SNI and verifies the certificate against it,
/// which is what App Service (`*.azurewebsites.net`) and any ingress with its own CA expect.
fn tls_config(config: &Config) -> Result<rustls::ClientConfig, TlsRootsError> {
    let mut roots = RootCertStore::empty();
    // Unreadable or unparsable system certificates are skipped, as rustls-native-certs advises:
    // one bad file in /etc/ssl must not take the others down with it.
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    for certificate in &config.upstream_ca {
        roots.add(certificate.clone()).map_err(TlsRootsError::BadExtraRoot)?;
    }
    let needs_tls = [&config.even, &config.odd].iter().any(|u| u.url.scheme_str() == Some("https"));
    // A container without CA certificates can still proxy to plain-http upstreams.
    if roots.is_empty() && needs_tls {
        return Err(TlsRootsError::NoRoots);
    }
    // The provider `main` installed; aws-lc-rs (the workspace's choice) if none was.
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsRootsError::Protocol)?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
