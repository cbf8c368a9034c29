//! `https` upstreams, as App Service's `https://<name>.azurewebsites.net`: the router speaks TLS,
//! names the upstream in SNI and `Host`, and refuses a certificate it cannot verify.
//!
//! A test CA is made here with rcgen and trusted through `ROUTER_UPSTREAM_CA_FILE`, so the process
//! environment and the machine's trust store stay untouched.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::PrivatePkcs8KeyDer;
use serde_json::json;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::support::{header, json, spawn_router};

/// A certificate authority made for one test, its certificate written to a PEM file.
struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
    pem_file: PathBuf,
}

impl TestCa {
    fn new() -> Self {
        static FILES: AtomicU64 = AtomicU64::new(0);
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, "router test CA");
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let n = FILES.fetch_add(1, Ordering::SeqCst);
        let pem_file =
            std::env::temp_dir().join(format!("router-test-ca-{}-{n}.pem", std::process::id()));
        std::fs::write(&pem_file, issuer.pem()).unwrap();
        Self { issuer, pem_file }
    }

    fn pem_path(&self) -> &str {
        self.pem_file.to_str().unwrap()
    }

    /// TLS settings of a server presenting a certificate for `name`, signed by this CA.
    fn server_config(&self, name: &str) -> rustls::ServerConfig {
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(vec![name.to_owned()]).unwrap();
        let certificate = params.signed_by(&key, &self.issuer).unwrap();
        let chain = vec![certificate.der().clone(), self.issuer.der().clone()];
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, PrivatePkcs8KeyDer::from(key.serialize_der()).into())
            .unwrap()
    }
}

impl Drop for TestCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.pem_file);
    }
}

/// An https upstream on `https://localhost:<port>` answering every request with its name, the
/// SNI the client sent and the `Host` it received, as JSON.
struct TlsUpstream {
    url: String,
    /// Requests answered, i.e. that got through the TLS handshake.
    answered: Arc<AtomicU64>,
}

async fn spawn_tls_upstream(name: &'static str, tls: rustls::ServerConfig) -> TlsUpstream {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://localhost:{}", listener.local_addr().unwrap().port());
    let acceptor = TlsAcceptor::from(Arc::new(tls));
    let answered = Arc::new(AtomicU64::new(0));
    let counter = answered.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, counter) = (acceptor.clone(), counter.clone());
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake: nothing to serve.
                let Ok(stream) = acceptor.accept(tcp).await else { return };
                let sni = stream.get_ref().1.server_name().map(str::to_owned);
                let service = service_fn(move |request: Request<Incoming>| {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let host =
                        request.headers().get("host").map(|h| h.to_str().unwrap().to_owned());
                    let body = json!({ "name": name, "sni": sni, "host": host }).to_string();
                    async move { Ok::<_, hyper::Error>(Response::new(Full::new(Bytes::from(body)))) }
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service);
                let _ = connection.await;
            });
        }
    });
    TlsUpstream { url, answered }
}

#[tokio::test]
async fn an_https_upstream_is_reached_with_its_own_name_as_sni_and_host() {
    let ca = TestCa::new();
    let even = spawn_tls_upstream("even", ca.server_config("localhost")).await;
    let odd = spawn_tls_upstream("odd", ca.server_config("localhost")).await;
    let router =
        spawn_router(&even.url, &odd.url, &[("ROUTER_UPSTREAM_CA_FILE", ca.pem_path())]).await;

    let (parts, body) = router.get("/vote").await;
    assert_eq!(parts.status, 200);
    assert_eq!(header(&parts, "x-routed-to"), "even");
    let seen = json(&body);
    assert_eq!(seen["name"], "even");
    assert_eq!(seen["sni"], "localhost");
    assert_eq!(seen["host"], even.url.trim_start_matches("https://"));
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused_with_502() {
    let ca = TestCa::new();
    let even = spawn_tls_upstream("even", ca.server_config("other.example")).await;
    let odd = spawn_tls_upstream("odd", ca.server_config("other.example")).await;
    let router =
        spawn_router(&even.url, &odd.url, &[("ROUTER_UPSTREAM_CA_FILE", ca.pem_path())]).await;

    let (parts, body) = router.get("/vote").await;
    assert_eq!(parts.status, 502);
    assert!(String::from_utf8_lossy(&body).contains("could not be reached"));
    assert_eq!(even.answered.load(Ordering::SeqCst) + odd.answered.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_certificate_from_an_untrusted_ca_is_refused_with_502() {
    let ca = TestCa::new();
    let even = spawn_tls_upstream("even", ca.server_config("localhost")).await;
    let odd = spawn_tls_upstream("odd", ca.server_config("localhost")).await;
    // No ROUTER_UPSTREAM_CA_FILE: only the platform's roots, which do not include the test CA.
    let router = spawn_router(&even.url, &odd.url, &[]).await;

    let (parts, _) = router.get("/vote").await;
    assert_eq!(parts.status, 502);
    assert_eq!(even.answered.load(Ordering::SeqCst) + odd.answered.load(Ordering::SeqCst), 0);
}
