//! The PostgreSQL ledger against a real server.

use std::time::Duration;

use redis::AsyncCommands;
use vote_app::config::Config;

use crate::support::{fresh_database, redis_connection, redis_url, spawn_app, unique_key};

#[tokio::test]
async fn every_accepted_vote_is_in_the_ledger_with_its_instance() {
    let database = fresh_database().await;
    let app = spawn_app(&[("DATABASE_URL", &database), ("INSTANCE_NAME", "even")]).await;
    app.wait_until_ready(Duration::from_secs(20)).await;
    for choice in ["Cats", "Cats", "Dogs", "Birds"] {
        app.vote(choice).await;
    }
    let ledger: serde_json::Value =
        app.client.get(app.url("/api/ledger")).send().await.unwrap().json().await.unwrap();
    assert_eq!(ledger["instances"], serde_json::json!([{"instance": "even", "votes": 3}]));
    let minutes = ledger["minutes"].as_array().unwrap();
    let in_minutes: u64 = minutes.iter().map(|m| m["votes"].as_u64().unwrap()).sum();
    assert_eq!(in_minutes, 3);
    assert!(
        minutes
            .iter()
            .all(|m| m["instance"] == "even" && m["minute"].as_str().unwrap().ends_with(":00Z"))
    );

    let mut db = <sqlx::PgConnection as sqlx::Connection>::connect(&database).await.unwrap();
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT choice, instance, version FROM votes ORDER BY id")
            .fetch_all(&mut db)
            .await
            .unwrap();
    let version = env!("CARGO_PKG_VERSION").to_owned();
    let expected: Vec<_> = ["Cats", "Cats", "Dogs"]
        .iter()
        .map(|choice| ((*choice).to_owned(), "even".to_owned(), version.clone()))
        .collect();
    assert_eq!(rows, expected);

    let results = app.client.get(app.url("/results")).send().await.unwrap().text().await.unwrap();
    assert!(results.contains("<svg") && results.contains("3 votes on even"), "{results}");
}

#[tokio::test]
async fn when_redis_loses_its_counters_they_are_restored_from_the_ledger_after_the_last_reset() {
    let (database, key) = (fresh_database().await, unique_key());
    let vars = [
        ("DATABASE_URL", database.as_str()),
        ("REDIS_URL", &redis_url()),
        ("REDIS_KEY", &key),
        ("ADMIN_TOKEN", "admin"),
    ];
    let app = spawn_app(&vars).await;
    app.wait_until_ready(Duration::from_secs(20)).await;
    app.vote("Dogs").await;
    let reset = app.client.post(app.url("/api/reset")).bearer_auth("admin").send().await.unwrap();
    assert_eq!(reset.status(), 200);
    for choice in ["Cats", "Cats", "Dogs"] {
        assert_eq!(app.vote(choice).await, 303);
    }

    // What a Redis restart without persistence does to the counters.
    let _: () = redis_connection().await.del(&key).await.unwrap();

    let votes = app.votes().await;
    assert_eq!(
        votes["choices"],
        serde_json::json!([{"name": "Cats", "votes": 2}, {"name": "Dogs", "votes": 1}])
    );
    assert_eq!(app.vote("Dogs").await, 303);
    assert_eq!(app.votes().await["total"], 4);
}

#[tokio::test]
async fn the_app_is_not_ready_and_refuses_votes_while_postgresql_is_unreachable() {
    let port = crate::support::free_port();
    let url = format!("postgres://vote@127.0.0.1:{port}/votes");
    let app = spawn_app(&[("DATABASE_URL", &url)]).await;
    app.wait_until_not_ready(Duration::from_secs(10)).await;
    assert_eq!(app.vote("Cats").await, 503);
}

#[test]
fn a_config_error_never_echoes_the_database_password() {
    let error = Config::from_lookup(|name| {
        (name == "DATABASE_URL").then(|| "mysql://u:pw-123@db/x".to_owned())
    })
    .unwrap_err();
    assert_eq!(error.variable, "DATABASE_URL");
    assert!(!error.to_string().contains("pw-123"));
}
