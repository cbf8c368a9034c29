//! The test harness: real TCP upstreams and a real router, all on 127.0.0.1 port 0.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderMap, StatusCode, header};
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use router::{AppState, Config, FixedClock, app, serve};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

/// 2024-01-01T12:00:00Z: an even minute. `+ 60 s` is odd.
pub const EVEN_MINUTE: u64 = 1_704_110_400;

/// The wall-clock instant `millis` milliseconds after [`EVEN_MINUTE`] began.
pub fn at(millis: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(EVEN_MINUTE) + Duration::from_millis(millis)
}

/// Counts bytes a sender produced and a receiver consumed, and lets the sender wait until the
/// receiver is close behind. A proxy that buffered a whole body would never let the receiver
/// catch up, so the sender stalls and the test fails instead of passing on a buffered copy.
#[derive(Debug, Default)]
pub struct Flow {
    pub sent: AtomicU64,
    pub received: AtomicU64,
    progress: Notify,
}

impl Flow {
    /// Bytes allowed between sender and receiver: socket buffers and a few hyper buffers, far
    /// below the 100 MB transferred.
    pub const WINDOW: u64 = 16 * 1024 * 1024;

    /// Waits until fewer than [`Self::WINDOW`] bytes are in flight; errors after `30 s` stalled.
    pub async fn wait_for_room(&self) -> Result<(), std::io::Error> {
        let wait = async {
            loop {
                let progressed = self.progress.notified();
                tokio::pin!(progressed);
                progressed.as_mut().enable();
                let in_flight =
                    self.sent.load(Ordering::SeqCst) - self.received.load(Ordering::SeqCst);
                if in_flight < Self::WINDOW {
                    return;
                }
                progressed.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(30), wait)
            .await
            .map_err(|_| std::io::Error::other("receiver stalled: the body is being buffered"))
    }

    pub fn add_received(&self, bytes: usize) {
        self.received.fetch_add(bytes as u64, Ordering::SeqCst);
        self.progress.notify_waiters();
    }

    /// A body of `total` bytes in 64 KiB chunks that respects the window.
    pub fn body_stream(self: &Arc<Self>, total: u64) -> Body {
        const CHUNK: usize = 64 * 1024;
        let chunk = Bytes::from(vec![b'v'; CHUNK]);
        let flow = self.clone();
        let stream = futures_util::stream::unfold(0u64, move |sent| {
            let (flow, chunk) = (flow.clone(), chunk.clone());
            async move {
                if sent >= total {
                    return None;
                }
                if let Err(error) = flow.wait_for_room().await {
                    return Some((Err(error), total));
                }
                flow.sent.fetch_add(CHUNK as u64, Ordering::SeqCst);
                Some((Ok(chunk), sent + CHUNK as u64))
            }
        });
        Body::from_stream(stream)
    }

    /// Reads `body` to the end, counting bytes as they arrive.
    pub async fn drain(&self, body: Body) -> Result<u64, axum::Error> {
        let mut stream = body.into_data_stream();
        let mut total = 0;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            total += chunk.len() as u64;
            self.add_received(chunk.len());
        }
        Ok(total)
    }
}

/// A small vote-app stand-in listening on a real port.
#[derive(Debug)]
pub struct TestUpstream {
    pub url: String,
    /// Bytes of `POST /upload` bodies.
    pub upload: Arc<Flow>,
    /// Bytes of `GET /download` bodies.
    pub download: Arc<Flow>,
    /// Requests currently inside `GET /slow`.
    pub slow_in_flight: Arc<AtomicU64>,
    /// Requests answered by the echo handler (every path without its own route).
    pub echoed: Arc<AtomicU64>,
}

#[derive(Clone)]
struct UpstreamState {
    name: &'static str,
    upload: Arc<Flow>,
    download: Arc<Flow>,
    slow_in_flight: Arc<AtomicU64>,
    echoed: Arc<AtomicU64>,
}

/// Starts an upstream that names itself `name` in every answer.
pub async fn spawn_upstream(name: &'static str) -> TestUpstream {
    let state = UpstreamState {
        name,
        upload: Arc::default(),
        download: Arc::default(),
        slow_in_flight: Arc::default(),
        echoed: Arc::default(),
    };
    let upstream = TestUpstream {
        upload: state.upload.clone(),
        download: state.download.clone(),
        slow_in_flight: state.slow_in_flight.clone(),
        echoed: state.echoed.clone(),
        url: String::new(),
    };
    let app = Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/redirect", get(redirect))
        .route("/hop", get(hop_by_hop))
        .route("/slow", get(slow))
        .route("/upload", post(upload))
        .route("/download", get(download))
        .fallback(any(echo))
        .with_state(state);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    TestUpstream { url, ..upstream }
}

/// An upstream that dies mid-request: it accepts each connection, reads the whole request (head
/// and `Content-Length` body), records it, then closes the connection without answering — what
/// the router sees when an instance is killed while a request is in flight.
pub async fn spawn_dying_upstream() -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let received = Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = received.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let mut request = Vec::new();
            let mut buffer = [0; 4096];
            while !is_complete(&request) && socket.readable().await.is_ok() {
                match socket.try_read(&mut buffer) {
                    Ok(0) => break,
                    Ok(read) => request.extend_from_slice(&buffer[..read]),
                    Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => continue,
                    Err(_) => break,
                }
            }
            record.lock().unwrap().push(String::from_utf8_lossy(&request).into_owned());
        }
    });
    (url, received)
}

/// Whether `request` holds a whole HTTP/1.1 request with a `Content-Length` body (or none).
fn is_complete(request: &[u8]) -> bool {
    let text = String::from_utf8_lossy(request);
    let Some((head, body)) = text.split_once("\r\n\r\n") else { return false };
    let length = head
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase().strip_prefix("content-length:").map(str::to_owned)
        })
        .map_or(0, |value| value.trim().parse::<usize>().unwrap());
    body.len() >= length
}

/// An address nothing listens on: connecting is refused.
pub async fn dead_upstream_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

async fn echo(State(state): State<UpstreamState>, request: Request) -> Json<Value> {
    let (parts, body) = request.into_parts();
    let headers: HashMap<String, String> = parts
        .headers
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap_or("<binary>").to_owned()))
        .collect();
    let body = body.collect().await.unwrap().to_bytes();
    state.echoed.fetch_add(1, Ordering::SeqCst);
    Json(json!({
        "name": state.name,
        "method": parts.method.as_str(),
        "uri": parts.uri.to_string(),
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
    }))
}

async fn redirect() -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::LOCATION, "/results?from=vote".parse().unwrap());
    headers.insert(header::SET_COOKIE, "voted=1; Path=/".parse().unwrap());
    (StatusCode::SEE_OTHER, headers).into_response()
}

async fn hop_by_hop() -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONNECTION, "x-upstream-private".parse().unwrap());
    headers.insert("x-upstream-private", "secret".parse().unwrap());
    headers.insert("x-upstream-public", "visible".parse().unwrap());
    (headers, "hop").into_response()
}

/// Answers after `?ms=` milliseconds (default 5 s). Slow on purpose: tests poll
/// `slow_in_flight` to know a request has arrived, they never sleep to synchronise.
async fn slow(
    State(state): State<UpstreamState>,
    Query(query): Query<HashMap<String, u64>>,
) -> &'static str {
    state.slow_in_flight.fetch_add(1, Ordering::SeqCst);
    let millis = query.get("ms").copied().unwrap_or(5_000);
    tokio::time::sleep(Duration::from_millis(millis)).await;
    "finally"
}

async fn upload(State(state): State<UpstreamState>, body: Body) -> String {
    state.upload.drain(body).await.unwrap().to_string()
}

async fn download(State(state): State<UpstreamState>) -> Body {
    state.download.body_stream(100 * 1024 * 1024)
}

/// A router running on a real port with a pinned clock.
#[derive(Debug)]
pub struct TestRouter {
    pub addr: SocketAddr,
    pub clock: Arc<FixedClock>,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
}

/// Starts a router in front of `even` and `odd` with extra `vars`, clock at [`EVEN_MINUTE`].
/// Active health checks run only when `ROUTER_HEALTH_INTERVAL_MS` is among `vars`, so other
/// tests see passive detection alone and stay deterministic.
pub async fn spawn_router(even: &str, odd: &str, vars: &[(&str, &str)]) -> TestRouter {
    let config = config(even, odd, vars);
    let clock = Arc::new(FixedClock::new(at(0)));
    let state = AppState::new(&config, clock.clone()).unwrap();
    if vars.iter().any(|(var, _)| *var == "ROUTER_HEALTH_INTERVAL_MS") {
        state.spawn_health_checks(&config);
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (shutdown, signal) = oneshot::channel::<()>();
    let signal = async move {
        let _ = signal.await;
    };
    let server = tokio::spawn(serve(listener, app(state.clone()), signal, config.shutdown_timeout));
    TestRouter { addr, clock, state, shutdown: Some(shutdown), server }
}

/// The configuration the router reads from `ROUTER_UPSTREAM_*` and `vars`, never the process env.
pub fn config(even: &str, odd: &str, vars: &[(&str, &str)]) -> Config {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut env: HashMap<String, String> = HashMap::from([
        ("ROUTER_UPSTREAM_EVEN".into(), even.into()),
        ("ROUTER_UPSTREAM_ODD".into(), odd.into()),
    ]);
    env.extend(vars.iter().map(|(var, value)| ((*var).into(), (*value).into())));
    Config::from_lookup(|var| env.get(var).cloned()).unwrap()
}

impl TestRouter {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends `request` (its URI relative to the router) and reads the whole response.
    pub async fn send(&self, request: http::Request<Body>) -> (http::response::Parts, Bytes) {
        let response = self.send_streaming(request).await;
        let (parts, body) = response.into_parts();
        (parts, body.collect().await.unwrap().to_bytes())
    }

    /// Sends `request` and returns the response with its body still streaming.
    pub async fn send_streaming(&self, mut request: http::Request<Body>) -> http::Response<Body> {
        *request.uri_mut() = self.url(&request.uri().to_string()).parse().unwrap();
        let response = client().request(request).await.unwrap();
        response.map(Body::new)
    }

    pub async fn get(&self, path: &str) -> (http::response::Parts, Bytes) {
        self.send(http::Request::get(path).body(Body::empty()).unwrap()).await
    }

    /// Triggers graceful shutdown and waits for `serve` to return.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        (&mut self.server).await.unwrap()
    }
}

fn client() -> Client<HttpConnector, Body> {
    Client::builder(TokioExecutor::new()).build_http()
}

/// A response header as text, or `""` when absent.
pub fn header<'a>(parts: &'a http::response::Parts, name: &str) -> &'a str {
    parts.headers.get(name).map_or("", |value| value.to_str().unwrap())
}

/// The echo upstream's JSON answer.
pub fn json(body: &Bytes) -> Value {
    serde_json::from_slice(body).unwrap()
}

/// Polls `condition` every 10 ms until it holds; panics naming `what` after 10 s.
pub async fn poll_until<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !condition().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `GET url` with a fresh client, for requests that must outlive a borrowed [`TestRouter`].
pub async fn get_url(url: String) -> (http::response::Parts, Bytes) {
    let request = http::Request::get(url).body(Body::empty()).unwrap();
    let (parts, body) = client().request(request).await.unwrap().into_parts();
    (parts, body.collect().await.unwrap().to_bytes())
}
