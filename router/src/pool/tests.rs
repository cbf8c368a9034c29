//! The pool against a real HTTP/1.1 upstream on 127.0.0.1:0 that counts the connections and
//! requests reaching it: what the pool promises is checked from the upstream's side.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;

use http::{Method, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Either, Empty, Full, StreamBody};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use super::*;
use crate::client::build_connector;
use crate::config::Config;

#[tokio::test]
async fn sequential_requests_share_one_connection() {
    let upstream = TestUpstream::start(Answer::Now).await;
    let pool = pool(16, IDLE_TIMEOUT);
    assert_eq!(get(&pool, &upstream).await, "ok");
    assert_eq!(get(&pool, &upstream).await, "ok");
    assert_eq!((upstream.accepted(), upstream.requests()), (1, 2));
}

#[tokio::test]
async fn a_connection_idle_longer_than_the_idle_timeout_is_not_reused() {
    let upstream = TestUpstream::start(Answer::Now).await;
    let idle_timeout = Duration::from_millis(50);
    let pool = pool(16, idle_timeout);
    get(&pool, &upstream).await;
    // Idleness is measured with std's clock, which paused tokio time would not move: the test
    // waits for real, past the timeout.
    tokio::time::sleep(idle_timeout * 3).await;
    get(&pool, &upstream).await;
    assert_eq!((upstream.accepted(), upstream.requests()), (2, 2));
}

#[tokio::test]
async fn a_connection_the_upstream_closed_while_idle_is_replaced_and_nothing_is_sent_twice() {
    let upstream = TestUpstream::start(Answer::Now).await;
    let pool = pool(16, IDLE_TIMEOUT);
    get(&pool, &upstream).await;
    upstream.close_idle_connections();
    // Until the pool's connection has read the close: a request written before that would race
    // the close, and a failure after writing must not be retried (the upstream may have acted).
    until("the pooled connection sees the close", || {
        idle_connections(&pool).last().is_some_and(|idle| idle.sender.is_closed())
    })
    .await;
    assert_eq!(get(&pool, &upstream).await, "ok");
    assert_eq!((upstream.accepted(), upstream.requests()), (2, 2));
}

#[tokio::test]
async fn a_body_dropped_before_its_end_closes_its_connection_instead_of_pooling_it() {
    let upstream = TestUpstream::start(Answer::Unfinished).await;
    let pool = pool(16, IDLE_TIMEOUT);
    let mut body =
        pool.send(Parity::Even, &upstream.origin, get_request()).await.unwrap().into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(first, "half");
    drop(body);
    assert!(idle_connections(&pool).is_empty(), "a connection still carrying a body was pooled");
    until("the upstream sees the connection closed", || upstream.open() == 0).await;
    pool.send(Parity::Even, &upstream.origin, get_request()).await.unwrap();
    assert_eq!(upstream.accepted(), 2);
}

#[tokio::test]
async fn a_closed_connection_gives_its_place_under_the_cap_back() {
    let upstream = TestUpstream::start(Answer::Unfinished).await;
    let pool = pool(1, IDLE_TIMEOUT);
    for _ in 0..3 {
        let sent = pool.send(Parity::Even, &upstream.origin, get_request());
        let response = tokio::time::timeout(Duration::from_secs(5), sent)
            .await
            .expect("waited for a place that a closed connection still holds")
            .unwrap();
        drop(response); // before the end of its body: the connection closes
    }
    assert_eq!(upstream.accepted(), 3);
}

#[tokio::test]
async fn a_connect_failure_hands_the_request_back_untouched_body_included() {
    let pool = pool(1, IDLE_TIMEOUT);
    let body = incoming_body(&TestUpstream::start(Answer::Now).await).await;
    let request =
        Request::post("/vote?poll=1").header("x-request-id", "r-1").body(Either::Left(body));
    let request = match pool.send(Parity::Even, &refused_origin().await, request.unwrap()).await {
        Err(SendError::Connect { request, .. }) => request,
        other => panic!("expected a connect failure, got {other:?}"),
    };
    assert_eq!(request.method(), Method::POST);
    assert_eq!(request.uri(), "/vote?poll=1");
    assert_eq!(request.headers()["x-request-id"], "r-1");
    assert_eq!(request.into_body().collect().await.unwrap().to_bytes(), "ok");
    assert_eq!(
        pool.upstreams[Parity::Even.index()].permits.available_permits(),
        1,
        "the failure kept its place"
    );
}

#[tokio::test]
async fn at_a_cap_of_two_five_concurrent_slow_requests_share_two_connections_and_all_succeed() {
    let upstream = TestUpstream::start(Answer::After(Duration::from_millis(100))).await;
    let pool = pool(2, IDLE_TIMEOUT);
    let requests = futures_util::future::join_all((0..5).map(|_| get(&pool, &upstream)));
    // Bounded: a request waiting for a connection that is never handed over would hang.
    let bodies = tokio::time::timeout(Duration::from_secs(5), requests).await.unwrap();
    assert!(bodies.iter().all(|body| body == "ok"), "{bodies:?}");
    assert_eq!(upstream.most_open(), 2);
    assert_eq!((upstream.accepted(), upstream.requests()), (2, 5));
}

#[test]
fn workers_share_the_cap_evenly_and_each_gets_at_least_one() {
    let cases = [(1, 256, 256), (2, 256, 128), (3, 256, 85), (2, 5, 2), (4, 1, 1), (0, 8, 8)];
    for (workers, cap, share) in cases {
        let settings = PoolSettings::shared_by(workers, cap);
        assert_eq!(settings.max_connections, share, "{cap} shared by {workers} workers");
        assert_eq!(settings.idle_timeout, IDLE_TIMEOUT);
    }
}

/// A pool like a worker's, with the given cap and idle timeout.
fn pool(max_connections: usize, idle_timeout: Duration) -> Arc<UpstreamPool> {
    let upstreams = |var: &str| {
        let upstream = matches!(var, "ROUTER_UPSTREAM_EVEN" | "ROUTER_UPSTREAM_ODD");
        upstream.then(|| "http://127.0.0.1:1".to_owned())
    };
    let connector = build_connector(&Config::from_lookup(upstreams).unwrap()).unwrap();
    Arc::new(UpstreamPool::new(connector, PoolSettings { max_connections, idle_timeout }))
}

fn get_request() -> Request<UpstreamBody> {
    Request::get("/").body(Either::Right(Empty::new())).unwrap()
}

/// `GET /` through `pool` to `upstream`, its body read to the end (which gives the connection
/// back to the pool).
async fn get(pool: &Arc<UpstreamPool>, upstream: &TestUpstream) -> Bytes {
    let response = pool.send(Parity::Even, &upstream.origin, get_request()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.into_body().collect().await.unwrap().to_bytes()
}

/// The even upstream's idle connections (every test sends to the even one).
fn idle_connections(pool: &UpstreamPool) -> std::sync::MutexGuard<'_, Vec<Idle>> {
    pool.upstreams[Parity::Even.index()].idle.lock().unwrap()
}

/// Waits, polling, until `done` holds; fails after 5 s.
async fn until(what: &str, done: impl Fn() -> bool) {
    let polled = async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    if tokio::time::timeout(Duration::from_secs(5), polled).await.is_err() {
        panic!("still waiting after 5 s for {what}");
    }
}

/// An origin where nothing listens: a port bound and released again, so connecting is refused.
async fn refused_origin() -> Uri {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}").parse().unwrap()
}

/// A body of type `Incoming`, holding `ok`. Only hyper makes those: this is the body of a
/// response from `upstream`, over a connection of its own.
async fn incoming_body(upstream: &TestUpstream) -> Incoming {
    let stream = TcpStream::connect(upstream.addr).await.unwrap();
    let (mut sender, connection) = http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    let request = Request::get("/").body(Empty::<Bytes>::new()).unwrap();
    sender.send_request(request).await.unwrap().into_body()
}

/// What the test upstream answers to every request.
#[derive(Debug, Clone, Copy)]
enum Answer {
    /// `200`, body `ok`, at once.
    Now,
    /// The same after a pause, during which the connection is busy.
    After(Duration),
    /// `200` and a first chunk of the body, `half`, then nothing: the body never ends.
    Unfinished,
}

/// An HTTP/1.1 upstream (hyper's server) on 127.0.0.1:0 that counts what reaches it.
#[derive(Debug)]
struct TestUpstream {
    addr: SocketAddr,
    origin: Uri,
    counts: Arc<Counts>,
    /// Makes every open connection close once it is idle.
    close: Arc<Notify>,
}

#[derive(Debug, Default)]
struct Counts {
    accepted: AtomicUsize,
    open: AtomicUsize,
    most_open: AtomicUsize,
    requests: AtomicUsize,
}

impl TestUpstream {
    async fn start(answer: Answer) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (counts, close) = (Arc::new(Counts::default()), Arc::new(Notify::new()));
        let (accept_counts, accept_close) = (counts.clone(), close.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                accept_counts.accepted.fetch_add(1, SeqCst);
                let open = accept_counts.open.fetch_add(1, SeqCst) + 1;
                accept_counts.most_open.fetch_max(open, SeqCst);
                let (counts, close) = (accept_counts.clone(), accept_close.clone());
                tokio::spawn(serve_connection(stream, answer, counts, close));
            }
        });
        Self { addr, origin: format!("http://{addr}").parse().unwrap(), counts, close }
    }

    fn accepted(&self) -> usize {
        self.counts.accepted.load(SeqCst)
    }

    fn open(&self) -> usize {
        self.counts.open.load(SeqCst)
    }

    fn most_open(&self) -> usize {
        self.counts.most_open.load(SeqCst)
    }

    fn requests(&self) -> usize {
        self.counts.requests.load(SeqCst)
    }

    fn close_idle_connections(&self) {
        self.close.notify_waiters();
    }
}

async fn serve_connection(
    stream: TcpStream,
    answer: Answer,
    counts: Arc<Counts>,
    close: Arc<Notify>,
) {
    let requests = counts.clone();
    let service = service_fn(move |_request| {
        requests.requests.fetch_add(1, SeqCst);
        async move { Ok::<_, Infallible>(respond(answer).await) }
    });
    let connection =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        () = close.notified() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
    counts.open.fetch_sub(1, SeqCst);
}

async fn respond(answer: Answer) -> Response<BoxBody<Bytes, Infallible>> {
    let body = match answer {
        Answer::Now => Full::from("ok").boxed(),
        Answer::After(pause) => {
            tokio::time::sleep(pause).await;
            Full::from("ok").boxed()
        }
        Answer::Unfinished => {
            let first = futures_util::stream::iter([Ok(Frame::data(Bytes::from("half")))]);
            let frames = futures_util::StreamExt::chain(first, futures_util::stream::pending());
            StreamBody::new(frames).boxed()
        }
    };
    Response::new(body)
}
