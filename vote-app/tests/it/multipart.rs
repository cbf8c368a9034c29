//! `POST /` with `multipart/form-data`, the way `curl -F vote=Cats` and Python
//! `requests.post(url, files=...)` send a vote: the same rules as the URL-encoded form.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use http_body_util::BodyExt;
use tower::ServiceExt;
use vote_app::{AppState, app};

use crate::support::{spawn_app, state};

/// The boundary curl 7.88 chose for the request this file's bodies were captured from.
const BOUNDARY: &str = "------------------------70901aed14cf1dfb";

/// A body byte for byte as `curl -F name=value …` sends it (captured from curl 7.88.1).
fn curl_f_body(fields: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{BOUNDARY}--\r\n"));
    body
}

fn multipart(body: impl Into<Body>) -> Request<Body> {
    Request::post("/")
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(body.into())
        .unwrap()
}

async fn send(state: &AppState, request: Request<Body>) -> Response {
    app(state.clone()).oneshot(request).await.unwrap()
}

async fn counts(state: &AppState) -> (u64, u64) {
    let response = send(state, Request::get("/api/votes").body(Body::empty()).unwrap()).await;
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let votes: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let count = |index: usize| votes["choices"][index]["votes"].as_u64().unwrap();
    (count(0), count(1))
}

#[tokio::test]
async fn a_vote_posted_as_curl_f_sends_it_is_counted_and_redirected_like_the_form() {
    let state = state(&[]);
    let response = send(&state, multipart(curl_f_body(&[("vote", "Dogs")]))).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[header::LOCATION], "/?voted=Dogs");
    assert_eq!(counts(&state).await, (0, 1));
}

#[tokio::test]
async fn a_client_following_the_redirect_lands_on_a_200_page_confirming_the_vote() {
    let app = spawn_app(&[]).await;
    let following = reqwest::Client::new();
    let response = following
        .post(app.url("/"))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(curl_f_body(&[("vote", "Cats")]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.url().path(), "/");
    assert_eq!(response.url().query(), Some("voted=Cats"));
    let page = response.text().await.unwrap();
    assert!(page.contains("Your vote for Cats was counted."), "{page}");
    assert_eq!(app.votes().await["total"], 1);
}

#[tokio::test]
async fn an_unknown_choice_or_a_malformed_multipart_body_is_refused_and_counts_nothing() {
    let state = state(&[]);
    let cases = [
        (multipart(curl_f_body(&[("vote", "Birds")])), StatusCode::BAD_REQUEST),
        (multipart(curl_f_body(&[("vote", "")])), StatusCode::BAD_REQUEST),
        (multipart(curl_f_body(&[("nothing", "here")])), StatusCode::UNPROCESSABLE_ENTITY),
        (
            multipart(curl_f_body(&[("vote", "Cats"), ("vote", "Dogs")])),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        // Cut off before the closing boundary.
        (
            multipart(format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"vote\"\r\n\r\nCats"
            )),
            StatusCode::BAD_REQUEST,
        ),
        (
            Request::post("/")
                .header(header::CONTENT_TYPE, "multipart/form-data")
                .body(Body::from(curl_f_body(&[("vote", "Cats")])))
                .unwrap(),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (request, expected) in cases {
        assert_eq!(send(&state, request).await.status(), expected);
    }
    assert_eq!(counts(&state).await, (0, 0));
}

#[tokio::test]
async fn a_multipart_body_over_the_limit_is_refused_with_413_and_counts_nothing() {
    let state = state(&[]);
    let padding = "x".repeat(64 * 1024);
    let body = curl_f_body(&[("vote", "Cats"), ("pad", &padding)]);
    let response = send(&state, multipart(body)).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(counts(&state).await, (0, 0));
}

#[tokio::test]
async fn a_cross_origin_multipart_vote_is_refused_with_403_and_counts_nothing() {
    let state = state(&[]);
    let mut request = multipart(curl_f_body(&[("vote", "Cats")]));
    request.headers_mut().insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    request.headers_mut().insert(header::HOST, "vote.example".parse().unwrap());
    assert_eq!(send(&state, request).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(counts(&state).await, (0, 0));
}

#[tokio::test]
async fn a_multipart_reset_needs_the_admin_token_like_the_form() {
    let state = state(&[("ADMIN_TOKEN", "admin-secret")]);
    send(&state, multipart(curl_f_body(&[("vote", "Cats")]))).await;
    let wrong = curl_f_body(&[("vote", "reset"), ("admin_token", "guess")]);
    assert_eq!(send(&state, multipart(wrong)).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(counts(&state).await, (1, 0));
    let right = curl_f_body(&[("vote", "reset"), ("admin_token", "admin-secret")]);
    let response = send(&state, multipart(right)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[header::LOCATION], "/?reset=done");
    assert_eq!(counts(&state).await, (0, 0));
}
