//! Votes written in batches (group commit) with the ledger on, against real Redis and
//! PostgreSQL: each acknowledged vote once in the ledger and once in the counters, a failed batch
//! failing exactly its votes, and the counters wiped under load rebuilt without a lost or doubled
//! vote.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use redis::AsyncCommands;
use sqlx::{Connection, PgConnection};

use crate::support::{
    OwnRedis, TestApp, Voters, counted, free_port, fresh_database, ledger_counts, redis_connection,
    redis_url, spawn_app, unique_key,
};

/// An app with the ledger and its own counters, ready.
async fn app_with_ledger() -> (TestApp, String, String) {
    let (database, key) = (fresh_database().await, unique_key());
    let vars =
        [("DATABASE_URL", database.as_str()), ("REDIS_URL", &redis_url()), ("REDIS_KEY", &key)];
    let app = spawn_app(&vars).await;
    app.wait_until_ready(Duration::from_secs(20)).await;
    (app, database, key)
}

/// An app with the ledger and a Redis of its own, to stop and start again; ready.
async fn app_with_ledger_and_own_redis() -> (TestApp, OwnRedis, String, String) {
    let redis = OwnRedis::start(free_port(), None);
    let database = fresh_database().await;
    let redis_url = format!("redis://127.0.0.1:{}/0", redis.port);
    let app = spawn_app(&[("DATABASE_URL", database.as_str()), ("REDIS_URL", &redis_url)]).await;
    app.wait_until_ready(Duration::from_secs(20)).await;
    (app, redis, database, redis_url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_votes_share_batches_and_each_is_once_in_the_ledger_and_the_counters() {
    let (app, database, _) = app_with_ledger().await;
    let app = Arc::new(app);
    let voters = (0..64).map(|voter| {
        let app = app.clone();
        async move {
            let mut statuses = Vec::new();
            for vote in 0..5 {
                let choice = if (voter + vote) % 3 == 0 { "Dogs" } else { "Cats" };
                statuses.push((choice, app.vote(choice).await));
            }
            statuses
        }
    });
    let statuses: Vec<_> = join_all(voters).await.into_iter().flatten().collect();
    assert!(statuses.iter().all(|(_, status)| *status == 303), "{statuses:?}");
    let dogs = statuses.iter().filter(|(choice, _)| *choice == "Dogs").count() as u64;
    let expected = (320 - dogs, dogs);
    assert_eq!(ledger_counts(&database).await, expected);
    assert_eq!(counted(&app).await, expected);

    let mut db = PgConnection::connect(&database).await.unwrap();
    let batches = "SELECT count(DISTINCT (writer, batch)) FROM votes";
    let (batches,): (i64,) = sqlx::query_as(batches).fetch_one(&mut db).await.unwrap();
    assert!(batches < 320, "320 votes from 64 voters at once took {batches} commits");
}

/// The ledger's connection dies while a batch waits on it: that batch's votes get 503 and none
/// is counted anywhere; the votes queued behind it are written in the next batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_postgresql_fails_gets_503_for_each_of_its_votes_and_none_is_counted() {
    let (app, database, _) = app_with_ledger().await;
    assert_eq!(app.vote("Cats").await, 303);
    let app = Arc::new(app);

    // Hold the table so the next batch's INSERT waits on the lock.
    let mut holder = PgConnection::connect(&database).await.unwrap();
    sqlx::query("BEGIN").execute(&mut holder).await.unwrap();
    sqlx::query("LOCK TABLE votes IN ACCESS EXCLUSIVE MODE").execute(&mut holder).await.unwrap();
    let voters: Vec<_> = (0..16)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.vote("Dogs").await })
        })
        .collect();
    let mut admin = PgConnection::connect(&database).await.unwrap();
    let waiting = "SELECT pid FROM pg_stat_activity
         WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO votes%'
           AND pid <> pg_backend_pid()";
    let mut blocked = None;
    for _ in 0..200 {
        blocked = sqlx::query_as::<_, (i32,)>(waiting).fetch_optional(&mut admin).await.unwrap();
        if blocked.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let (pid,) = blocked.expect("a batch's INSERT waits on the lock");
    sqlx::query("SELECT pg_terminate_backend($1)").bind(pid).execute(&mut admin).await.unwrap();
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();

    let statuses: Vec<u16> =
        join_all(voters).await.into_iter().map(|status| status.unwrap().as_u16()).collect();
    let failed = statuses.iter().filter(|status| **status == 503).count() as u64;
    assert!(statuses.iter().all(|status| [303, 503].contains(status)), "{statuses:?}");
    assert!(failed > 0, "the votes of the batch whose connection died failed: {statuses:?}");
    let acknowledged = 16 - failed;
    assert_eq!(ledger_counts(&database).await, (1, acknowledged), "{statuses:?}");
    assert_eq!(counted(&app).await, (1, acknowledged), "{statuses:?}");
}

/// What a Redis restart without persistence does, three times over, while 64 voters vote: no
/// vote fails, and the counters rebuilt from the ledger hold each acknowledged vote once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wiping_redis_under_64_voters_fails_no_vote_and_loses_or_doubles_none() {
    let (app, database, key) = app_with_ledger().await;
    let app = Arc::new(app);
    let voters = Voters::start(&app, 64);
    let mut redis = redis_connection().await;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _: () = redis.del(&[key.as_str(), &format!("{{{key}}}:batches")]).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let statuses = voters.stop().await;
    assert!(statuses.iter().all(|(_, status)| *status == 303), "a vote failed");
    let dogs = statuses.iter().filter(|(choice, _)| *choice == "Dogs").count() as u64;
    let expected = (statuses.len() as u64 - dogs, dogs);
    assert_eq!(counted(&app).await, expected);
    assert_eq!(ledger_counts(&database).await, expected);
}

/// Redis down after the ledger took a batch: the batch is taken back out of the ledger, so its
/// votes' 503 means "not counted", and the counters rebuilt from the ledger hold exactly the
/// votes that were acknowledged.
#[tokio::test]
async fn votes_refused_while_redis_is_down_are_not_in_the_ledger_nor_in_the_restored_counts() {
    let (app, mut redis, database, _) = app_with_ledger_and_own_redis().await;
    assert_eq!(app.vote("Cats").await, 303);

    redis.stop();
    for _ in 0..3 {
        assert_eq!(app.vote("Dogs").await, 503);
    }
    assert_eq!(ledger_counts(&database).await, (1, 0), "the refused votes left the ledger");

    let _redis = OwnRedis::start(redis.port, None);
    app.wait_until_ready(Duration::from_secs(20)).await;
    assert_eq!(counted(&app).await, (1, 0), "restored from the ledger: the acknowledged vote only");
}

/// A batch refused while Redis was away, yet counted: a rebuild read the ledger before the batch
/// was taken back out of it (or the batch's add ran and only its answer was lost). The counters
/// then hold a batch of this instance that the ledger lacks; its next batch sees that and
/// rebuilds them from the ledger, so the refused vote is not counted.
#[tokio::test]
async fn counters_holding_a_refused_batch_are_rebuilt_from_the_ledger_at_the_next_vote() {
    let (app, mut redis, database, redis_url) = app_with_ledger_and_own_redis().await;
    assert_eq!(app.vote("Cats").await, 303);
    redis.stop();
    assert_eq!(app.vote("Dogs").await, 503, "refused: batch 2 leaves the ledger");
    let _redis = OwnRedis::start(redis.port, None);
    app.wait_until_ready(Duration::from_secs(20)).await;
    assert_eq!(counted(&app).await, (1, 0), "restored from the ledger: batch 1 only");

    // What the counters hold had that rebuild read the ledger while it still had batch 2.
    let client = redis::Client::open(redis_url.as_str()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let held: Vec<(String, u64)> = redis.hgetall("{votes}:batches").await.unwrap();
    let [(writer, 1)] = held.as_slice() else { panic!("one writer, batch 1: {held:?}") };
    let _: () = redis.hincr("votes", "Dogs", 1).await.unwrap();
    let _: () = redis.hset("{votes}:batches", writer, 2).await.unwrap();
    assert_eq!(counted(&app).await, (1, 1));

    assert_eq!(app.vote("Cats").await, 303);
    assert_eq!(counted(&app).await, (2, 0), "the refused vote is not counted");
    assert_eq!(ledger_counts(&database).await, (2, 0));
}

/// A failover to a replica that had not received the last batch: the counters hold an older
/// batch of this instance than it last added. Its next batch sees that and rebuilds them from
/// the ledger, so the lost vote comes back.
#[tokio::test]
async fn counters_that_lost_a_batch_are_rebuilt_from_the_ledger_at_the_next_vote() {
    let (app, database, key) = app_with_ledger().await;
    assert_eq!(app.vote("Cats").await, 303);
    assert_eq!(app.vote("Cats").await, 303);

    // What a replica one batch behind holds: one vote, and the first batch as the last.
    let mut redis = redis_connection().await;
    let batches_key = format!("{{{key}}}:batches");
    let held: Vec<(String, u64)> = redis.hgetall(&batches_key).await.unwrap();
    let [(writer, 2)] = held.as_slice() else { panic!("one writer, two batches: {held:?}") };
    let _: () = redis.hset(&key, "Cats", 1).await.unwrap();
    let _: () = redis.hset(&batches_key, writer, 1).await.unwrap();

    assert_eq!(app.vote("Dogs").await, 303);
    assert_eq!(counted(&app).await, (2, 1));
    assert_eq!(ledger_counts(&database).await, (2, 1));
}

/// PostgreSQL closed every connection of the app's pool while they were idle (a restart, a
/// failover): the next vote still succeeds, on a new connection, because a connection left
/// idle for a while is checked before a batch uses it.
#[tokio::test]
async fn a_vote_after_postgresql_dropped_the_idle_connections_succeeds() {
    let (app, database, _) = app_with_ledger().await;
    assert_eq!(app.vote("Cats").await, 303);
    let mut admin = PgConnection::connect(&database).await.unwrap();
    let others = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()";
    let (dropped,): (i64,) = sqlx::query_as(others).fetch_one(&mut admin).await.unwrap();
    assert!(dropped > 0, "the app had connections to drop");
    // Longer than a connection may stay idle before it is checked.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.vote("Cats").await, 303);
    assert_eq!(ledger_counts(&database).await, (2, 0));
}
