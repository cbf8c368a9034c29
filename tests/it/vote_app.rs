//! One vote-app container with Redis and PostgreSQL: what a voter and an admin can do, and the
//! ledger bringing the counts back when Redis loses them.

use reqwest::StatusCode;

use crate::api::{Version, Votes};
use crate::poll::{self, DEADLINE};
use crate::stack::{spawn_stack, wait_until_ready};

#[tokio::test(flavor = "multi_thread")]
async fn a_vote_cast_through_the_api_is_counted_and_read_back() {
    let stack = spawn_stack().await;
    let api = &stack.app().api;
    assert_eq!(api.votes().await.total, 0, "a fresh stack starts at zero");

    let answer = api.vote("Cats").await.expect("the vote gets an answer");
    assert!(answer.status.is_success(), "voting for Cats: {answer:?}");
    let after_vote: Votes = answer.json();
    assert_eq!((after_vote.of("Cats"), after_vote.of("Dogs"), after_vote.total), (1, 0, 1));

    api.vote("Dogs").await.expect("the vote gets an answer");
    api.vote("Dogs").await.expect("the vote gets an answer");
    let read_back = api.votes().await;
    assert_eq!((read_back.of("Cats"), read_back.of("Dogs"), read_back.total), (1, 2, 3));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_vote_submitted_from_the_page_redirects_back_to_the_page_and_is_counted() {
    let stack = spawn_stack().await;
    let api = &stack.app().api;

    let answer = api.submit_form("Dogs", None).await.expect("the form post gets an answer");

    assert_eq!(answer.status, StatusCode::SEE_OTHER, "POST-redirect-GET: {answer:?}");
    let location = answer.header("location").expect("a redirect names its target");
    assert_eq!(
        location.split('?').next(),
        Some("/"),
        "back to the page (a query may say what was voted)"
    );
    assert_eq!(api.votes().await.of("Dogs"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_vote_posted_as_curl_f_sends_it_is_counted_and_its_redirect_lands_on_a_confirmation() {
    let stack = spawn_stack().await;
    let api = &stack.app().api;

    let answer = api.submit_multipart("Cats").await.expect("the multipart post gets an answer");
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{answer:?}");
    let location = answer.header("location").expect("a redirect names its target");
    let page = api.get(location).await.expect("the page answers");
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Your vote for Cats was counted."), "{}", page.body);
    assert_eq!(api.votes().await.of("Cats"), 1);

    let refused = api.submit_multipart("Birds").await.expect("an answer");
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{refused:?}");
    assert_eq!(api.votes().await.total, 1, "the unknown choice wrote nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_vote_for_an_unknown_choice_is_refused_and_creates_nothing() {
    let stack = spawn_stack().await;
    let api = &stack.app().api;

    let answer = api.vote("Hamsters").await.expect("the vote gets an answer");

    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{answer:?}");
    let votes = api.votes().await;
    assert_eq!(votes.total, 0);
    let names: Vec<&str> = votes.choices.iter().map(|choice| choice.name.as_str()).collect();
    assert_eq!(names, ["Cats", "Dogs"], "only the configured choices exist");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cross_origin_form_post_is_refused_and_counts_nothing() {
    let stack = spawn_stack().await;
    let api = &stack.app().api;

    let answer = api.submit_form("Cats", Some("https://evil.example")).await.expect("an answer");

    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{answer:?}");
    assert_eq!(api.votes().await.total, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_needs_the_admin_token_and_then_zeroes_every_count() {
    let stack = spawn_stack().await;
    let api = &stack.app().api;
    for choice in ["Cats", "Dogs", "Dogs"] {
        api.vote(choice).await.expect("the vote gets an answer");
    }

    let anonymous = api.reset(None).await.expect("an answer");
    let wrong_token = api.reset(Some("not-the-token")).await.expect("an answer");
    assert!(
        [StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&anonymous.status),
        "reset without a token: {anonymous:?}"
    );
    assert!(
        [StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&wrong_token.status),
        "reset with a wrong token: {wrong_token:?}"
    );
    assert_eq!(api.votes().await.total, 3, "a refused reset changes nothing");

    let reset = api.reset(Some(&stack.admin_token)).await.expect("an answer");
    assert_eq!(reset.status, StatusCode::OK, "{reset:?}");
    let after: Votes = reset.json();
    assert!(after.choices.iter().all(|choice| choice.votes == 0), "{after:?}");
    assert_eq!(api.votes().await.total, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn counts_are_restored_from_the_ledger_when_redis_restarts_empty() {
    let stack = spawn_stack().await;
    let app = stack.app();
    for choice in ["Cats", "Cats", "Dogs"] {
        let answer = app.api.vote(choice).await.expect("the vote gets an answer");
        assert!(answer.status.is_success(), "{answer:?}");
    }
    let before = app.api.votes().await;

    // Redis runs without persistence: stopped and started, it comes back with no keys at all.
    stack.redis.stop().await.expect("Redis stops");
    stack.redis.start().await.expect("Redis starts again");
    wait_until_ready(app).await;

    let restored = poll::until("the counts to come back from the ledger", DEADLINE, || async {
        let votes = app.api.votes().await;
        if votes == before { Ok(votes) } else { Err(format!("{votes:?}, expected {before:?}")) }
    })
    .await;
    assert_eq!((restored.of("Cats"), restored.of("Dogs")), (2, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_version_endpoint_reports_the_workspace_version_and_the_ledger_names_the_instance() {
    let stack = spawn_stack().await;
    let app = stack.app();
    app.api.vote("Cats").await.expect("the vote gets an answer");

    let version: Version = app.api.get("/version").await.expect("an answer").json();
    assert_eq!(
        version.version,
        env!("CARGO_PKG_VERSION"),
        "one version for the workspace and the image"
    );
    assert!(!version.commit.is_empty(), "{version:?}");

    let ledger = app.api.ledger().await;
    assert_eq!(ledger.of(&app.name), 1, "{ledger:?}");
}
