//! Minute parity decides the upstream; everything the client sent reaches it.

use axum::body::Body;

use crate::support::{at, header, json, spawn_router, spawn_upstream};

#[tokio::test]
async fn requests_follow_the_minute_parity_on_both_sides_of_each_boundary() {
    let (even, odd) = (spawn_upstream("even").await, spawn_upstream("odd").await);
    let router = spawn_router(&even.url, &odd.url, &[]).await;
    // 12:00:00.000, 12:00:59.999 | 12:01:00.000, 12:01:59.999 | 12:02:00.000
    let cases =
        [(0, "even"), (59_999, "even"), (60_000, "odd"), (119_999, "odd"), (120_000, "even")];
    for (millis, expected) in cases {
        router.clock.set(at(millis));
        let (parts, body) = router.get("/echo").await;
        assert_eq!(parts.status, 200);
        assert_eq!(header(&parts, "x-routed-to"), expected, "at +{millis} ms");
        assert_eq!(json(&body)["name"], expected, "at +{millis} ms");
        assert_eq!(header(&parts, "x-router-fallback"), "", "no fallback at +{millis} ms");
    }
}

#[tokio::test]
async fn method_path_query_headers_and_body_reach_the_upstream() {
    let (even, odd) = (spawn_upstream("even").await, spawn_upstream("odd").await);
    let router = spawn_router(&even.url, &odd.url, &[]).await;
    let request = http::Request::put("/api/votes/cats?count=2&note=a%20b")
        .header("x-custom", "kept")
        .header("cookie", "session=abc")
        .body(Body::from("vote=Cats"))
        .unwrap();
    let (parts, body) = router.send(request).await;
    let echoed = json(&body);
    assert_eq!(parts.status, 200);
    assert_eq!(echoed["method"], "PUT");
    assert_eq!(echoed["uri"], "/api/votes/cats?count=2&note=a%20b");
    assert_eq!(echoed["headers"]["x-custom"], "kept");
    assert_eq!(echoed["headers"]["cookie"], "session=abc");
    assert_eq!(echoed["body"], "vote=Cats");
}

#[tokio::test]
async fn redirects_from_the_upstream_pass_through_unchanged() {
    let (even, odd) = (spawn_upstream("even").await, spawn_upstream("odd").await);
    let router = spawn_router(&even.url, &odd.url, &[]).await;
    let (parts, _) = router.get("/redirect").await;
    assert_eq!(parts.status, 303);
    assert_eq!(header(&parts, "location"), "/results?from=vote");
    assert_eq!(header(&parts, "set-cookie"), "voted=1; Path=/");
    assert_eq!(header(&parts, "x-routed-to"), "even");
}

#[tokio::test]
async fn the_routers_own_endpoints_are_not_proxied() {
    let (even, odd) = (spawn_upstream("even").await, spawn_upstream("odd").await);
    let router = spawn_router(&even.url, &odd.url, &[]).await;
    let (parts, body) = router.get("/router/health").await;
    assert_eq!(parts.status, 200);
    assert_eq!(body, "ok\n");
    assert_eq!(header(&parts, "x-routed-to"), "");
}
