//! Health: an upstream that is down is avoided, and the response says so.

use std::time::{Duration, Instant};

use axum::body::Body;
use router::Parity;

use crate::support::{dead_upstream_url, header, json, poll_until, spawn_router, spawn_upstream};

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
async fn a_body_is_never_sent_twice_but_the_next_request_avoids_the_dead_upstream() {
    let odd = spawn_upstream("odd").await;
    let router = spawn_router(&dead_upstream_url().await, &odd.url, &[]).await;
    let post = || http::Request::post("/vote").body(Body::from("vote=Cats")).unwrap();
    let (first, _) = router.send(post()).await;
    assert_eq!(first.status, 502, "the streamed body was consumed by the failed attempt");
    assert_eq!(header(&first, "x-routed-to"), "");

    let (second, body) = router.send(post()).await;
    assert_eq!(second.status, 200);
    assert_eq!(header(&second, "x-routed-to"), "odd");
    assert_eq!(header(&second, "x-router-fallback"), "true");
    assert_eq!(json(&body)["body"], "vote=Cats");
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
