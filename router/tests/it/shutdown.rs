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
