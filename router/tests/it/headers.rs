//! What the upstream and the client see of each other's headers.

use axum::body::Body;

use crate::support::{header, json, spawn_router, spawn_upstream};

#[tokio::test]
async fn host_names_the_upstream_and_x_forwarded_headers_describe_the_client() {
    let (even, odd) = (spawn_upstream("even").await, spawn_upstream("odd").await);
    let router = spawn_router(&even.url, &odd.url, &[]).await;
    let request = http::Request::get("/echo")
        .header("host", "vote.example.com")
        .header("x-forwarded-for", "203.0.113.7")
        .body(Body::empty())
        .unwrap();
    let (_, body) = router.send(request).await;
    let seen = &json(&body)["headers"];
    let upstream_host = even.url.trim_start_matches("http://");
    assert_eq!(seen["host"], upstream_host);
    assert_eq!(seen["x-forwarded-host"], "vote.example.com");
    assert_eq!(seen["x-forwarded-for"], "203.0.113.7, 127.0.0.1");
    assert_eq!(seen["x-forwarded-proto"], "http");
}

#[tokio::test]
async fn hop_by_hop_headers_are_stripped_in_both_directions() {
    let (even, odd) = (spawn_upstream("even").await, spawn_upstream("odd").await);
    let router = spawn_router(&even.url, &odd.url, &[]).await;
    let request = http::Request::get("/echo")
        .header("connection", "x-client-private")
        .header("x-client-private", "secret")
        .header("keep-alive", "timeout=5")
        .header("proxy-authorization", "Basic c2VjcmV0")
        .body(Body::empty())
        .unwrap();
    let (_, body) = router.send(request).await;
    let seen = &json(&body)["headers"];
    for name in ["x-client-private", "keep-alive", "proxy-authorization"] {
        assert!(seen.get(name).is_none(), "{name} reached the upstream: {seen}");
    }

    let (parts, _) = router.get("/hop").await;
    assert_eq!(header(&parts, "x-upstream-private"), "", "listed in the upstream's Connection");
    assert_eq!(header(&parts, "x-upstream-public"), "visible");
}

#[tokio::test]
async fn the_request_id_reaches_the_upstream_and_comes_back() {
    let (even, odd) = (spawn_upstream("even").await, spawn_upstream("odd").await);
    let router = spawn_router(&even.url, &odd.url, &[]).await;
    let (parts, body) = router.get("/echo").await;
    let id = header(&parts, "x-request-id");
    assert_eq!(id.len(), 36, "a UUID: {id:?}");
    assert_eq!(json(&body)["headers"]["x-request-id"], id);

    let request = http::Request::get("/echo")
        .header("x-request-id", "from-the-edge")
        .body(Body::empty())
        .unwrap();
    let (parts, body) = router.send(request).await;
    assert_eq!(header(&parts, "x-request-id"), "from-the-edge");
    assert_eq!(json(&body)["headers"]["x-request-id"], "from-the-edge");
}
