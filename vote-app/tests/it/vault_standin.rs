//! A stand-in for Azure Key Vault and the App Service managed-identity endpoint, speaking their
//! real REST shapes over HTTPS, so the app's Azure SDK code runs unchanged with no Azure account.
//!
//! - `GET /msi/token?api-version=2019-08-01&resource=…` with `X-IDENTITY-HEADER` → a bearer token
//!   (what App Service's `IDENTITY_ENDPOINT` answers);
//! - `GET /secrets/{name}/?api-version=…` → 401 with the `WWW-Authenticate` challenge when no
//!   token is sent, 403 for a token the vault does not accept, 404 `SecretNotFound`, or the secret.
//!
//! It is served as `https://localhost:<port>` and its challenge names `https://localhost` as the
//! resource, so the SDK's check that the vault lives under the challenge's domain stays on.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// The value App Service puts in `IDENTITY_HEADER`; the token endpoint requires it.
pub(crate) const IDENTITY_HEADER: &str = "standin-identity-header";

/// What the stand-in serves and accepts.
pub(crate) struct Vault {
    /// Secrets by name.
    pub(crate) secrets: HashMap<String, String>,
    /// The token the identity endpoint hands out.
    pub(crate) issued_token: String,
    /// The token the vault accepts (differs from `issued_token` to simulate a missing role).
    pub(crate) accepted_token: String,
}

struct Shared {
    vault: Mutex<Vault>,
    secret_requests: AtomicUsize,
}

/// A running stand-in.
pub(crate) struct Standin {
    /// `https://localhost:<port>/`, the `KEY_VAULT_URL`.
    pub(crate) url: String,
    shared: Arc<Shared>,
}

impl Standin {
    /// The `IDENTITY_ENDPOINT` to give the app.
    pub(crate) fn identity_endpoint(&self) -> String {
        format!("{}msi/token", self.url)
    }

    /// Stores a new version of a secret, as `az keyvault secret set` does.
    pub(crate) fn set_secret(&self, name: &str, value: &str) {
        let mut vault = self.shared.vault.lock().unwrap();
        vault.secrets.insert(name.to_owned(), value.to_owned());
    }

    /// How many secret requests reached the vault, with or without a token.
    pub(crate) fn secret_requests(&self) -> usize {
        self.shared.secret_requests.load(Ordering::SeqCst)
    }
}

/// Starts the stand-in on a free port with the certificate from `TEST_TLS_CERT_FILE`.
pub(crate) async fn start(vault: Vault) -> Standin {
    let acceptor = tls_acceptor();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://localhost:{}/", listener.local_addr().unwrap().port());
    let shared =
        Arc::new(Shared { vault: Mutex::new(vault), secret_requests: AtomicUsize::new(0) });
    let app = Router::new()
        .route("/msi/token", get(token))
        .route("/secrets/{name}", get(secret))
        .route("/secrets/{name}/", get(secret))
        .with_state(shared.clone());
    tokio::spawn(async move { axum::serve(TlsListener { listener, acceptor }, app).await });
    Standin { url, shared }
}

fn tls_acceptor() -> TlsAcceptor {
    let missing =
        "TEST_TLS_CERT_FILE / TEST_TLS_KEY_FILE are not set: run the tests with ci/test.sh";
    let cert_file = std::env::var("TEST_TLS_CERT_FILE").expect(missing);
    let key_file = std::env::var("TEST_TLS_KEY_FILE").expect(missing);
    let certs: Vec<_> =
        CertificateDer::pem_file_iter(cert_file).unwrap().map(Result::unwrap).collect();
    let key = PrivateKeyDer::from_pem_file(key_file).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    TlsAcceptor::from(Arc::new(config))
}

/// Lets `axum::serve` accept TLS connections; failed handshakes are dropped.
struct TlsListener {
    listener: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, address)) = self.listener.accept().await else { continue };
            if let Ok(tls) = self.acceptor.accept(stream).await {
                return (tls, address);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}

async fn token(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let header_ok = headers.get("x-identity-header").is_some_and(|value| value == IDENTITY_HEADER);
    if !header_ok {
        return (StatusCode::UNAUTHORIZED, "missing X-IDENTITY-HEADER").into_response();
    }
    let expires_on = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 3600;
    let issued_token = shared.vault.lock().unwrap().issued_token.clone();
    Json(json!({
        "access_token": issued_token,
        "expires_on": expires_on.to_string(),
        "resource": query.get("resource").cloned().unwrap_or_default(),
        "token_type": "Bearer",
    }))
    .into_response()
}

async fn secret(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    shared.secret_requests.fetch_add(1, Ordering::SeqCst);
    let Some(authorization) = headers.get(header::AUTHORIZATION) else {
        let challenge = r#"Bearer authorization="https://login.microsoftonline.com/standin-tenant", resource="https://localhost""#;
        return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, challenge)]).into_response();
    };
    let vault = shared.vault.lock().unwrap();
    if *authorization != format!("Bearer {}", vault.accepted_token) {
        let error = json!({"error": {"code": "Forbidden", "message": "The user does not have secrets get permission"}});
        return (StatusCode::FORBIDDEN, Json(error)).into_response();
    }
    match vault.secrets.get(&name) {
        Some(value) => Json(json!({
            "value": value,
            "id": format!("https://localhost/secrets/{name}/0123456789abcdef"),
            "attributes": {"enabled": true},
        }))
        .into_response(),
        None => {
            let error = json!({"error": {"code": "SecretNotFound", "message": format!("A secret with (name/id) {name} was not found in this key vault.")}});
            (StatusCode::NOT_FOUND, Json(error)).into_response()
        }
    }
}
