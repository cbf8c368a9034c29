//! `/router/status` and `/router/metrics` tell an operator what the router does.

use crate::support::{at, json, spawn_router, spawn_upstream};

#[tokio::test]
async fn status_shows_the_minute_parity_and_per_upstream_counts() {
    let (even, odd) = (spawn_upstream("even").await, spawn_upstream("odd").await);
    let router = spawn_router(&even.url, &odd.url, &[]).await;
    router.get("/echo").await;
    router.get("/echo").await;
    router.clock.set(at(61_000));
    router.get("/echo").await;

    let (parts, body) = router.get("/router/status").await;
    assert_eq!(parts.status, 200);
    let status = json(&body);
    assert_eq!(status["minute"], 1);
    assert_eq!(status["unix_minute"], crate::support::EVEN_MINUTE / 60 + 1);
    assert_eq!(status["parity"], "odd");
    assert_eq!(status["upstreams"]["even"]["requests"], 2);
    assert_eq!(status["upstreams"]["odd"]["requests"], 1);
    assert_eq!(status["upstreams"]["even"]["healthy"], true);
    assert_eq!(status["upstreams"]["odd"]["url"], format!("{}/", odd.url));
}

#[tokio::test]
async fn metrics_are_labelled_by_upstream_and_status_class_never_by_path() {
    let (even, odd) = (spawn_upstream("even").await, spawn_upstream("odd").await);
    let router = spawn_router(&even.url, &odd.url, &[]).await;
    router.get("/echo?secret-token=abc").await;
    router.get("/redirect").await;

    let (parts, body) = router.get("/router/metrics").await;
    assert_eq!(parts.status, 200);
    let text = String::from_utf8_lossy(&body);
    assert!(
        text.contains(r#"router_requests_total{upstream="even",status_class="2xx"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"router_requests_total{upstream="even",status_class="3xx"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"router_upstream_up{upstream="odd"} 1"#), "{text}");
    assert!(text.contains("router_request_duration_seconds_bucket"), "{text}");
    assert!(!text.contains("echo") && !text.contains("secret-token"), "no paths in labels: {text}");
}
