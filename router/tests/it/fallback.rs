//! Health: an upstream that is down is avoided, and the response says so.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::body::Body;
use http::Method;
use router::Parity;

use crate::support::{
    dead_upstream_url, header, json, poll_until, spawn_dying_upstream, spawn_router, spawn_upstream,
};

#[tokio::test]
async fn a_bodiless_request_for_a_dead_upstream_is_answered_by_the_other_and_says_so() {
    let odd = spawn_upstream("odd").await;
    // The dead upstream has a path prefix: the retry must not carry it, nor its host.
    let dead = format!("{}/even-prefix", dead_upstream_url().await);
    let router = spawn_router(&dead, &odd.url, &[]).await;
    let (parts, body) = router.get("/echo?q=1").await;
    assert_eq!(parts.status, 200);
    assert_eq!(header(&parts, "x-routed-to"), "odd");
    assert_eq!(header(&parts, "x-router-fallback"), "true");
    let seen = json(&body);
    assert_eq!(seen["name"], "odd");
    assert_eq!(seen["uri"], "/echo?q=1");
    assert_eq!(seen["headers"]["host"], odd.url.trim_start_matches("http://"));
    assert_eq!(seen["headers"]["x-forwarded-host"], router.url("").trim_start_matches("http://"));
    assert!(!router.state.health.is_healthy(Parity::Even), "the failed connect marks it down");
}

#[tokio::test]
async fn a_post_that_never_left_the_router_goes_to_the_other_upstream_body_and_all() {
    let odd = spawn_upstream("odd").await;
    let router = spawn_router(&dead_upstream_url().await, &odd.url, &[]).await;
    let post = || http::Request::post("/vote").body(Body::from("vote=Cats")).unwrap();
    let (first, body) = router.send(post()).await;
    assert_eq!(first.status, 200, "a refused connection sent nothing, so the POST can go on");
    assert_eq!(header(&first, "x-routed-to"), "odd");
    assert_eq!(header(&first, "x-router-fallback"), "true");
    assert_eq!(json(&body)["body"], "vote=Cats");
    assert_eq!(odd.echoed.load(Ordering::SeqCst), 1, "the other upstream got it exactly once");
    assert!(!router.state.health.is_healthy(Parity::Even), "the failed connect marks it down");
}

#[tokio::test]
async fn a_get_whose_upstream_dies_before_answering_is_answered_by_the_other() {
    let (dying, received) = spawn_dying_upstream().await;
    let odd = spawn_upstream("odd").await;
    let router = spawn_router(&dying, &odd.url, &[]).await;
    for method in [Method::GET, Method::HEAD, Method::OPTIONS] {
        let request = http::Request::builder().method(method.clone()).uri("/echo?q=1");
        let (parts, _) = router.send(request.body(Body::empty()).unwrap()).await;
        assert_eq!(parts.status, 200, "{method}");
        assert_eq!(header(&parts, "x-routed-to"), "odd", "{method}");
        assert_eq!(header(&parts, "x-router-fallback"), "true", "{method}");
    }
    let received = received.lock().unwrap();
    assert_eq!(received.len(), 3, "the dying upstream read each request before dying");
    assert!(received[0].starts_with("GET /echo?q=1 HTTP/1.1"), "{received:?}");
    assert_eq!(odd.echoed.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_post_whose_body_reached_a_dying_upstream_is_never_sent_again() {
    let (dying, received) = spawn_dying_upstream().await;
    let odd = spawn_upstream("odd").await;
    let router = spawn_router(&dying, &odd.url, &[]).await;
    for request in [
        http::Request::post("/vote").body(Body::from("vote=Cats")).unwrap(),
        // Idempotent in name, but its body was streamed to the dying upstream and is gone.
        http::Request::get("/search").body(Body::from("q=cats")).unwrap(),
    ] {
        let (parts, body) = router.send(request).await;
        assert_eq!(parts.status, 502);
        assert!(String::from_utf8_lossy(&body).contains("could not be reached"));
    }
    let received = received.lock().unwrap();
    assert!(received[0].ends_with("\r\n\r\nvote=Cats"), "the body reached it: {received:?}");
    assert!(received[1].ends_with("\r\n\r\nq=cats"), "{received:?}");
    assert_eq!(odd.echoed.load(Ordering::SeqCst), 0, "nothing was sent twice");
}

#[tokio::test]
async fn active_probes_mark_a_dead_upstream_down_and_status_reports_it() {
    let even = spawn_upstream("even").await;
    let router =
        spawn_router(&even.url, &dead_upstream_url().await, &[("ROUTER_HEALTH_INTERVAL_MS", "50")])
            .await;
    let status_url = router.url("/router/status");
    poll_until("the odd upstream is reported down", || async {
        let (_, body) = crate::support::get_url(status_url.clone()).await;
        json(&body)["upstreams"]["odd"]["healthy"] == false
    })
    .await;
    let (_, body) = router.get("/router/status").await;
    assert_eq!(json(&body)["upstreams"]["even"]["healthy"], true);

    router.clock.set(crate::support::at(60_000));
    let (parts, _) = router.get("/echo").await;
    assert_eq!(header(&parts, "x-routed-to"), "even");
    assert_eq!(header(&parts, "x-router-fallback"), "true");
}

#[tokio::test]
async fn both_upstreams_down_returns_503_with_a_clear_body() {
    let (even, odd) = (dead_upstream_url().await, dead_upstream_url().await);
    let router = spawn_router(&even, &odd, &[("ROUTER_HEALTH_INTERVAL_MS", "50")]).await;
    let health = router.state.health.clone();
    poll_until("both upstreams are marked down", || {
        let health = health.clone();
        async move { !health.is_healthy(Parity::Even) && !health.is_healthy(Parity::Odd) }
    })
    .await;
    let (parts, body) = router.get("/").await;
    assert_eq!(parts.status, 503);
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("both vote-app instances are down"), "{body}");
}

#[tokio::test]
async fn a_slow_upstream_gets_a_504_within_the_request_timeout() {
    let (even, odd) = (spawn_upstream("even").await, spawn_upstream("odd").await);
    let router = spawn_router(&even.url, &odd.url, &[("ROUTER_REQUEST_TIMEOUT_MS", "300")]).await;
    let started = Instant::now();
    let (parts, body) = router.get("/slow?ms=5000").await;
    assert_eq!(parts.status, 504);
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert!(String::from_utf8_lossy(&body).contains("did not answer in time"));
    assert!(router.state.health.is_healthy(Parity::Even), "slow is not down");
}

#[tokio::test]
async fn at_the_connection_cap_a_request_waits_within_the_request_timeout_then_gets_a_504() {
    let (even, odd) = (spawn_upstream("even").await, spawn_upstream("odd").await);
    let vars = [("ROUTER_MAX_CONNECTIONS_PER_UPSTREAM", "1"), ("ROUTER_REQUEST_TIMEOUT_MS", "300")];
    let router = spawn_router(&even.url, &odd.url, &vars).await;
    // A download nobody reads keeps the one connection to the even upstream busy.
    let download = http::Request::get("/download").body(Body::empty()).unwrap();
    let download = router.send_streaming(download).await;
    assert_eq!(download.status(), 200);

    let (parts, _) = router.get("/echo").await;
    assert_eq!(parts.status, 504, "it waited for the busy connection, up to the request timeout");
    assert_eq!(even.echoed.load(Ordering::SeqCst), 0, "no second connection was opened for it");
    assert_eq!(odd.echoed.load(Ordering::SeqCst), 0, "a wait is not a failure to retry");
    assert!(router.state.health.is_healthy(Parity::Even), "waiting is not down");

    drop(download); // unfinished: its connection closes, and its place under the cap comes back
    let echo = router.url("/echo");
    poll_until("a request gets the place back", || async {
        crate::support::get_url(echo.clone()).await.0.status == 200
    })
    .await;
}
