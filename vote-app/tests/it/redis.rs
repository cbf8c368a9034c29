//! The Redis store against a real `redis-server`.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::future::join_all;
use redis::AsyncCommands;

use crate::support::{
    OwnRedis, free_port, poll_until, redis_connection, redis_url, spawn_app, unique_key,
};

#[tokio::test]
async fn many_concurrent_votes_over_http_are_all_counted() {
    let (url, key) = (redis_url(), unique_key());
    // Two app instances sharing one Redis, as behind the router.
    let even = spawn_app(&[("REDIS_URL", &url), ("REDIS_KEY", &key)]).await;
    let odd = spawn_app(&[("REDIS_URL", &url), ("REDIS_KEY", &key)]).await;
    even.wait_until_ready(Duration::from_secs(10)).await;
    odd.wait_until_ready(Duration::from_secs(10)).await;

    let voters: Vec<_> = (0..400)
        .map(|index| {
            let app = if index % 2 == 0 { &even } else { &odd };
            let choice = if index % 4 == 0 { "Dogs" } else { "Cats" };
            app.vote(choice)
        })
        .collect();
    for status in join_all(voters).await {
        assert_eq!(status, 303);
    }
    let votes = even.votes().await;
    assert_eq!(
        (votes["choices"][0]["votes"].as_u64(), votes["choices"][1]["votes"].as_u64()),
        (Some(300), Some(100))
    );
    assert_eq!(votes["total"], 400);
}

#[tokio::test]
async fn an_unknown_choice_creates_no_redis_field() {
    let (url, key) = (redis_url(), unique_key());
    let app = spawn_app(&[("REDIS_URL", &url), ("REDIS_KEY", &key)]).await;
    assert_eq!(app.vote("Cats").await, 303);
    assert_eq!(app.vote("Birds").await, 400);
    let stored: HashMap<String, u64> = redis_connection().await.hgetall(&key).await.unwrap();
    assert_eq!(stored, HashMap::from([("Cats".to_owned(), 1), ("Dogs".to_owned(), 0)]));
}

#[tokio::test]
async fn when_redis_goes_down_votes_get_503_and_service_resumes_by_itself_when_it_returns() {
    let mut redis = OwnRedis::start(free_port(), None);
    let url = format!("redis://127.0.0.1:{}/0", redis.port);
    let app = spawn_app(&[("REDIS_URL", &url)]).await;
    app.wait_until_ready(Duration::from_secs(10)).await;
    assert_eq!(app.vote("Cats").await, 303);

    redis.stop();
    app.wait_until_not_ready(Duration::from_secs(10)).await;
    assert_eq!(app.vote("Cats").await, 503);
    let page = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 503);
    assert!(page.text().await.unwrap().contains("Votes are unavailable right now"));

    let _redis = OwnRedis::start(redis.port, None);
    app.wait_until_ready(Duration::from_secs(20)).await;
    let recovered = poll_until(Duration::from_secs(10), || async { app.vote("Dogs").await == 303 });
    assert!(recovered.await, "votes did not resume after Redis came back");
    // This Redis restarted empty and there is no ledger: counting starts again from zero.
    let votes = app.votes().await;
    assert_eq!(votes["choices"][1]["votes"], 1);
}

#[tokio::test]
async fn votes_are_counted_over_tls_as_azure_cache_for_redis_requires() {
    let url = std::env::var("TEST_REDISS_URL").expect(
        "TEST_REDISS_URL is not set: run the tests with ci/test.sh, which starts a TLS Redis",
    );
    assert!(url.starts_with("rediss://"));
    let key = unique_key();
    let app = spawn_app(&[("REDIS_URL", &url), ("REDIS_KEY", &key)]).await;
    app.wait_until_ready(Duration::from_secs(10)).await;
    assert_eq!(app.vote("Cats").await, 303);
    assert_eq!(app.votes().await["choices"][0]["votes"], 1);
}
