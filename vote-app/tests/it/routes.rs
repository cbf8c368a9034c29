//! Every route, in process, on the in-memory store.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use http_body_util::BodyExt;
use tower::ServiceExt;
use vote_app::{AppState, app};

use crate::support::state;

const ADMIN: &[(&str, &str)] = &[("ADMIN_TOKEN", "admin-secret"), ("INSTANCE_NAME", "blue-1")];

async fn send(state: &AppState, request: Request<Body>) -> Response {
    app(state.clone()).oneshot(request).await.unwrap()
}

async fn get(state: &AppState, uri: &str) -> Response {
    send(state, Request::get(uri).body(Body::empty()).unwrap()).await
}

fn form(body: &str) -> Request<Body> {
    Request::post("/")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

fn json(uri: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

async fn text(response: Response) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

async fn body_json(response: Response) -> serde_json::Value {
    serde_json::from_str(&text(response).await).unwrap()
}

async fn counts(state: &AppState) -> Vec<(String, u64)> {
    let votes = body_json(get(state, "/api/votes").await).await;
    let choices = votes["choices"].as_array().unwrap();
    let line = |c: &serde_json::Value| {
        (c["name"].as_str().unwrap().to_owned(), c["votes"].as_u64().unwrap())
    };
    choices.iter().map(line).collect()
}

fn pairs(list: &[(&str, u64)]) -> Vec<(String, u64)> {
    list.iter().map(|(name, votes)| ((*name).to_owned(), *votes)).collect()
}

#[tokio::test]
async fn the_page_shows_both_choices_the_counts_and_the_serving_instance() {
    let state = state(ADMIN);
    let response = get(&state, "/").await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = text(response).await;
    for expected in [
        r#"<button type="submit" name="vote" value="Cats">Vote for Cats</button>"#,
        r#"<button type="submit" name="vote" value="Dogs">Vote for Dogs</button>"#,
        "0 votes in all.",
        "<strong>blue-1</strong>",
        concat!("version ", env!("CARGO_PKG_VERSION")),
        r#"<li data-choice="Cats">"#,
        r#"<script src="/static/live.js" defer></script>"#,
    ] {
        assert!(page.contains(expected), "page lacks {expected:?}:\n{page}");
    }
}

#[tokio::test]
async fn a_vote_redirects_with_303_and_the_page_then_confirms_it() {
    let state = state(&[]);
    let response = send(&state, form("vote=Cats")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert_eq!(location, "/?voted=Cats");
    let page = text(get(&state, &location).await).await;
    assert!(page.contains("Your vote for Cats was counted."));
    assert!(page.contains("1 vote in all.") && page.contains("1 (100%)"), "{page}");
    assert_eq!(counts(&state).await, pairs(&[("Cats", 1), ("Dogs", 0)]));
}

#[tokio::test]
async fn configured_titles_and_choices_replace_the_defaults() {
    let state = state(&[("TITLE", "Pets"), ("VOTE1VALUE", "Birds"), ("VOTE2VALUE", "Fish")]);
    let page = text(get(&state, "/").await).await;
    assert!(page.contains("<h1>Pets</h1>") && page.contains(r#"value="Birds""#));
    assert_eq!(send(&state, form("vote=Cats")).await.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn posting_an_unknown_choice_returns_400_and_counts_nothing() {
    let state = state(&[]);
    for body in ["vote=Birds", "vote=cats", "vote=", "vote=Cats%00"] {
        assert_eq!(send(&state, form(body)).await.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    let response = send(&state, json("/api/votes", r#"{"choice":"Birds"}"#)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(counts(&state).await, pairs(&[("Cats", 0), ("Dogs", 0)]));
}

#[tokio::test]
async fn malformed_or_oversized_bodies_are_refused_with_4xx() {
    let state = state(&[]);
    let cases = [
        (form("nothing=here"), StatusCode::UNPROCESSABLE_ENTITY),
        (json("/api/votes", "{not json"), StatusCode::BAD_REQUEST),
        (json("/api/votes", r#"{"vote":"Cats"}"#), StatusCode::UNPROCESSABLE_ENTITY),
        (form(&format!("vote=Cats&pad={}", "x".repeat(64 * 1024))), StatusCode::PAYLOAD_TOO_LARGE),
        (
            Request::post("/api/votes").body(Body::from(r#"{"choice":"Cats"}"#)).unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
    ];
    for (request, expected) in cases {
        assert_eq!(send(&state, request).await.status(), expected);
    }
    assert_eq!(counts(&state).await, pairs(&[("Cats", 0), ("Dogs", 0)]));
}

#[tokio::test]
async fn a_cross_origin_post_is_refused_with_403_and_counts_nothing() {
    let state = state(&[]);
    let mut request = form("vote=Cats");
    request.headers_mut().insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    request.headers_mut().insert(header::HOST, "vote.example".parse().unwrap());
    let refused = send(&state, request).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // A browser posted the page's form: it gets the error page, not JSON.
    assert!(refused.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert!(text(refused).await.contains("Votes sent from another site are refused."));
    let mut request = json("/api/votes", r#"{"choice":"Cats"}"#);
    request.headers_mut().insert("sec-fetch-site", "cross-site".parse().unwrap());
    let refused = send(&state, request).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(body_json(refused).await["error"], "cross-origin requests are refused");
    assert_eq!(counts(&state).await, pairs(&[("Cats", 0), ("Dogs", 0)]));

    let mut request = form("vote=Cats");
    request.headers_mut().insert(header::ORIGIN, "http://vote.example".parse().unwrap());
    request.headers_mut().insert(header::HOST, "vote.example".parse().unwrap());
    assert_eq!(send(&state, request).await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn reset_needs_the_admin_token() {
    let state = state(ADMIN);
    send(&state, form("vote=Dogs")).await;
    let reset = |token: Option<&str>| {
        let mut request = Request::post("/api/reset");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        request.body(Body::empty()).unwrap()
    };
    assert_eq!(send(&state, reset(None)).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(send(&state, reset(Some("guess"))).await.status(), StatusCode::FORBIDDEN);
    let page_reset = send(&state, form("vote=reset&admin_token=guess")).await;
    assert_eq!(page_reset.status(), StatusCode::FORBIDDEN);
    assert_eq!(counts(&state).await, pairs(&[("Cats", 0), ("Dogs", 1)]));

    let response = send(&state, form("vote=reset&admin_token=admin-secret")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(counts(&state).await, pairs(&[("Cats", 0), ("Dogs", 0)]));
    send(&state, form("vote=Cats")).await;
    assert_eq!(send(&state, reset(Some("admin-secret"))).await.status(), StatusCode::OK);
    assert_eq!(counts(&state).await, pairs(&[("Cats", 0), ("Dogs", 0)]));
}

#[tokio::test]
async fn without_an_admin_token_configured_reset_is_refused_and_not_offered() {
    let state = state(&[]);
    assert!(!text(get(&state, "/").await).await.contains("Reset all votes"));
    let response = send(&state, form("vote=reset&admin_token=anything")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_a_request_id() {
    let state = state(&[]);
    for uri in ["/", "/api/votes", "/health", "/no-such-page"] {
        let response = get(&state, uri).await;
        let headers = response.headers();
        for (name, value) in vote_app::security::SECURITY_HEADERS {
            assert_eq!(headers[&name], value, "{uri} {name}");
        }
        assert!(headers.contains_key("x-request-id"), "{uri}");
    }
}

#[tokio::test]
async fn the_json_api_reports_title_total_and_choices() {
    let state = state(&[("TITLE", "Pets")]);
    let response = send(&state, json("/api/votes", r#"{"choice":"Dogs"}"#)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = body_json(response).await;
    assert_eq!(body["title"], "Pets");
    assert_eq!(body["total"], 1);
    assert_eq!(body["choices"][1]["name"], "Dogs");
    assert_eq!(body["choices"][1]["votes"], 1);
}

#[tokio::test]
async fn operations_endpoints_answer() {
    let state = state(&[]);
    assert_eq!(body_json(get(&state, "/health").await).await["status"], "ok");
    let ready = get(&state, "/ready").await;
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(body_json(ready).await["checks"]["memory"], "ok");
    let version = body_json(get(&state, "/version").await).await;
    assert_eq!(version["version"], env!("CARGO_PKG_VERSION"));
    assert!(version["commit"].as_str().is_some_and(|c| !c.is_empty()));
    assert!(version["built"].as_str().is_some_and(|b| b.ends_with('Z') || b == "unknown"));
}

#[tokio::test]
async fn metrics_count_votes_by_choice_and_requests_by_route_template() {
    let state = state(&[]);
    send(&state, form("vote=Cats")).await;
    send(&state, form("vote=Cats")).await;
    get(&state, "/?voted=Cats").await;
    let metrics = text(get(&state, "/metrics").await).await;
    assert!(metrics.contains(r#"vote_app_votes_total{choice="Cats"} 2"#), "{metrics}");
    assert!(metrics.contains(r#"route="/",method="POST",status="303"} 2"#), "{metrics}");
    assert!(!metrics.contains("voted=Cats"), "raw URIs must not become labels");
}

#[tokio::test]
async fn without_a_ledger_the_per_minute_views_say_how_to_enable_it() {
    let state = state(&[]);
    let response = get(&state, "/results").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(text(response).await.contains("DATABASE_URL"));
    assert_eq!(get(&state, "/api/ledger").await.status(), StatusCode::NOT_FOUND);
}

/// What a browser fetches besides the page: no 404 in its console, and an icon and a manifest
/// it may keep a week.
#[tokio::test]
async fn the_page_links_an_icon_and_a_manifest_that_are_served_and_cached() {
    let state = state(&[("TITLE", "Vote du jour")]);
    let page = text(get(&state, "/").await).await;
    assert!(page.contains(r#"<link rel="icon" href="/favicon.svg" type="image/svg+xml">"#));
    assert!(page.contains(r#"<link rel="manifest" href="/manifest.webmanifest">"#));
    for (uri, content_type) in [
        ("/favicon.svg", "image/svg+xml"),
        ("/favicon.ico", "image/svg+xml"),
        ("/manifest.webmanifest", "application/manifest+json"),
    ] {
        let response = get(&state, uri).await;
        assert_eq!(response.status(), StatusCode::OK, "{uri}");
        assert_eq!(response.headers()[header::CONTENT_TYPE], content_type, "{uri}");
        assert_eq!(response.headers()[header::CACHE_CONTROL], "public, max-age=604800", "{uri}");
    }
    let icon = text(get(&state, "/favicon.svg").await).await;
    assert!(icon.starts_with("<svg") && icon.contains(r#"aria-label="Vote""#));
    // The content security policy lets the page load them.
    let policy = get(&state, "/").await.headers()[header::CONTENT_SECURITY_POLICY].clone();
    let policy = policy.to_str().unwrap();
    assert!(
        policy.contains("img-src 'self'") && policy.contains("manifest-src 'self'"),
        "{policy}"
    );
    let manifest = body_json(get(&state, "/manifest.webmanifest").await).await;
    assert_eq!(manifest["name"], "Vote du jour");
    assert_eq!(manifest["icons"][0]["src"], "/favicon.svg");
}

/// A GET with `headers`, for the language tests.
async fn get_with(
    state: &AppState,
    uri: &str,
    headers: &[(&'static str, &'static str)],
) -> Response {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(state, request.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn a_browser_that_prefers_french_gets_the_page_in_french_numbers_included() {
    let state = state(&[]);
    let french = [("accept-language", "fr-FR,fr;q=0.9,en;q=0.8")];
    let page = text(get_with(&state, "/", &french).await).await;
    assert!(page.contains(r#"<html lang="fr">"#), "{page}");
    for expected in ["Voter pour Cats", "Résultats", "0 vote au total.", r#"href="?lang=en""#] {
        assert!(page.contains(expected), "{expected}: {page}");
    }
    assert!(!page.contains("Vote for"), "{page}");
    assert_eq!(send(&state, form("vote=Cats")).await.status(), StatusCode::SEE_OTHER);
    let page = text(get_with(&state, "/?voted=Cats", &french).await).await;
    assert!(page.contains("Merci\u{202f}! Votre vote pour Cats a été compté."), "{page}");
    assert!(page.contains("1 (100\u{202f}%)") && page.contains("1 vote au total."), "{page}");
    let english = text(get_with(&state, "/", &[("accept-language", "en-GB,en")]).await).await;
    assert!(english.contains(r#"<html lang="en">"#) && english.contains("Vote for Cats"));
}

#[tokio::test]
async fn the_switch_sets_the_language_and_a_cookie_keeps_it_over_the_browser_and_the_setting() {
    let state = state(&[("UI_LANGUAGE", "fr")]);
    let english_browser = [("accept-language", "en")];
    // The operator's setting wins over the browser's preference.
    let page = text(get_with(&state, "/", &english_browser).await).await;
    assert!(page.contains(r#"<html lang="fr">"#), "{page}");
    // The voter's switch wins over both, and is kept in a cookie.
    let switched = get_with(&state, "/?lang=en", &english_browser).await;
    let cookie = switched.headers()[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("lang=en;") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(text(switched).await.contains(r#"<html lang="en">"#));
    let kept = get_with(&state, "/results", &[("cookie", "lang=en"), ("accept-language", "fr")]);
    let kept = text(kept.await).await;
    assert!(kept.contains(r#"<html lang="en">"#) && kept.contains("needs the PostgreSQL ledger"));
}

#[tokio::test]
async fn error_pages_and_the_results_page_speak_the_voters_language() {
    let state = state(&[]);
    let mut request = form("vote=Birds");
    request.headers_mut().insert(header::ACCEPT_LANGUAGE, "fr".parse().unwrap());
    let refused = send(&state, request).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let page = text(refused).await;
    assert!(page.contains(r#"<html lang="fr">"#) && page.contains("Erreur 400"), "{page}");
    assert!(page.contains("Choix inconnu") && page.contains("Retour au vote"), "{page}");
    let results = text(get_with(&state, "/results", &[("accept-language", "fr")]).await).await;
    assert!(results.contains("Cette vue a besoin du registre PostgreSQL"), "{results}");
}
