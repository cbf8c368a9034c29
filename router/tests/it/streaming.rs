//! 100 MB each way, streamed: the router must never hold a whole body.
//!
//! The sending side may run at most [`Flow::WINDOW`] (16 MB) ahead of what the receiving side has
//! counted. A router that collected the body before forwarding would keep the receiver at zero,
//! the sender would stall, and the test fails with "receiver stalled" instead of passing on a
//! buffered copy. The window bounds the router's share of memory without measuring RSS, which
//! would be noisy in a shared test process.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Body;

use crate::support::{Flow, spawn_router, spawn_upstream};

const HUNDRED_MB: u64 = 100 * 1024 * 1024;

#[tokio::test]
async fn a_100_mb_upload_streams_through_the_router() {
    let (even, odd) = (spawn_upstream("even").await, spawn_upstream("odd").await);
    let router = spawn_router(&even.url, &odd.url, &[]).await;
    let request = http::Request::post("/upload").body(even.upload.body_stream(HUNDRED_MB)).unwrap();
    let (parts, body) = router.send(request).await;
    assert_eq!(parts.status, 200);
    assert_eq!(body, HUNDRED_MB.to_string(), "the upstream counted every byte");
    assert_eq!(even.upload.received.load(Ordering::SeqCst), HUNDRED_MB);
}

#[tokio::test]
async fn a_100_mb_download_streams_through_the_router() {
    let (even, odd) = (spawn_upstream("even").await, spawn_upstream("odd").await);
    let router = spawn_router(&even.url, &odd.url, &[]).await;
    let response =
        router.send_streaming(http::Request::get("/download").body(Body::empty()).unwrap()).await;
    assert_eq!(response.status(), 200);
    let flow: &Arc<Flow> = &even.download;
    let received = flow.drain(response.into_body()).await.unwrap();
    assert_eq!(received, HUNDRED_MB);
}
