//! Graceful shutdown drains in-flight requests, but not forever.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::support::{get_url, poll_until, spawn_router, spawn_upstream};

#[tokio::test]
async fn shutdown_lets_an_in_flight_request_finish() {
    let (even, odd) = (spawn_upstream("even").await, spawn_upstream("odd").await);
    let router = spawn_router(&even.url, &odd.url, &[]).await;
    let in_flight = tokio::spawn(get_url(router.url("/slow?ms=300")));
    let arrived = even.slow_in_flight.clone();
    poll_until("the request reached the upstream", || {
        let arrived = arrived.clone();
        async move { arrived.load(Ordering::SeqCst) == 1 }
    })
    .await;

    router.stop().await.unwrap();
    let (parts, body) = in_flight.await.unwrap();
    assert_eq!(parts.status, 200);
    assert_eq!(body, "finally");
}

#[tokio::test]
async fn shutdown_stops_waiting_after_the_drain_timeout() {
    let (even, odd) = (spawn_upstream("even").await, spawn_upstream("odd").await);
    let router = spawn_router(&even.url, &odd.url, &[("ROUTER_SHUTDOWN_TIMEOUT_MS", "200")]).await;
    let _stuck = tokio::spawn(get_url(router.url("/slow?ms=60000")));
    let arrived = even.slow_in_flight.clone();
    poll_until("the request reached the upstream", || {
        let arrived = arrived.clone();
        async move { arrived.load(Ordering::SeqCst) == 1 }
    })
    .await;

    let started = Instant::now();
    router.stop().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn serve_per_core_serves_requests_and_stops_on_shutdown() {
    let (even, odd) = (spawn_upstream("even").await, spawn_upstream("odd").await);
    let config = crate::support::config(&even.url, &odd.url, &[]);
    let clock = std::sync::Arc::new(router::FixedClock::new(crate::support::at(0)));
    let state = router::AppState::new(&config, clock).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let server = tokio::task::spawn_blocking(move || {
        let workers = 2;
        let make_app = || state.for_worker(&config, workers).map(router::app);
        router::server::serve_per_core(listener, workers, make_app, stopped, Duration::from_secs(5))
    });

    let requests = (0..8).map(|_| get_url(format!("http://{addr}/echo")));
    for (parts, _) in futures_util::future::join_all(requests).await {
        assert_eq!(parts.status, 200);
        assert_eq!(crate::support::header(&parts, "x-routed-to"), "even");
    }
    stop.send(true).unwrap();
    server.await.unwrap().unwrap();
}

/// At shutdown new connections are refused (a client can safely try elsewhere), but a keep-alive
/// client's idle connection is not closed under it: its next request is answered, with
/// `Connection: close`, and only then does the router close it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_shutdown_an_idle_keep_alive_connection_gets_a_last_answer_before_it_closes() {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    /// Writes one GET on `stream` and reads its answer (head, then Content-Length bytes), off
    /// the runtime: std's blocking socket, since the test crate has no async I/O helpers.
    async fn exchange(mut stream: TcpStream) -> (TcpStream, String) {
        let answer = tokio::task::spawn_blocking(move || {
            stream.write_all(b"GET /echo HTTP/1.1\r\nhost: vote\r\n\r\n").unwrap();
            let mut answer = Vec::new();
            loop {
                let text = String::from_utf8_lossy(&answer).to_ascii_lowercase();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length =
                        head.lines().find_map(|line| line.strip_prefix("content-length: "));
                    if body.len() >= length.map_or(0, |length| length.trim().parse().unwrap()) {
                        return (stream, text);
                    }
                }
                let mut chunk = [0; 4096];
                let read = stream.read(&mut chunk).unwrap();
                assert!(read > 0, "closed before a complete answer: {text}");
                answer.extend_from_slice(&chunk[..read]);
            }
        });
        answer.await.unwrap()
    }

    let (even, odd) = (spawn_upstream("even").await, spawn_upstream("odd").await);
    let router = spawn_router(&even.url, &odd.url, &[]).await;
    let addr = router.addr;
    let idle = TcpStream::connect(addr).unwrap();
    let (idle, first) = exchange(idle).await;
    assert!(first.starts_with("http/1.1 200") && !first.contains("connection: close"), "{first}");

    let stopped = tokio::spawn(router.stop());
    poll_until("new connections to be refused", || async { TcpStream::connect(addr).is_err() })
        .await;
    let (mut idle, last) = exchange(idle).await;
    assert!(last.starts_with("http/1.1 200") && last.contains("connection: close"), "{last}");
    let closed = tokio::task::spawn_blocking(move || idle.read(&mut [0; 16]).unwrap());
    assert_eq!(closed.await.unwrap(), 0, "the router closes it after answering");
    stopped.await.unwrap().unwrap();
}
