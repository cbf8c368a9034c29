//! The PostgreSQL ledger: every accepted vote appended once (choice, instance, version, time).
//!
//! It is the durable truth behind the Redis counters: when Redis restarts empty the counters are
//! rebuilt from it, and its per-minute, per-instance view is the picture that proves
//! minute-parity routing works. Queries use sqlx's runtime API, so building needs no database.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Serialize;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool};

use crate::choice::{Choice, Choices};
use crate::secret::Secret;
use crate::store::{BackendError, Batch, Snapshot};

/// A whole batch in one statement, so one transaction and one fsync: a row per vote, from the
/// votes per choice.
const INSERT_BATCH: &str = "WITH appended AS (
       INSERT INTO votes (choice, instance, version, writer, batch)
       SELECT c.choice, $3, $4, $5, $6
       FROM unnest($1::text[], $2::bigint[]) AS c(choice, votes), generate_series(1, c.votes)
       RETURNING id)
     SELECT min(id), max(id) FROM appended";

/// A batch taken back out: its rows lie between the ids its INSERT returned (other instances'
/// rows may lie between them too, hence the writer and batch number).
const DELETE_BATCH: &str =
    "DELETE FROM votes WHERE id BETWEEN $1 AND $2 AND writer = $3 AND batch = $4";

const INSERT_RESET: &str =
    "INSERT INTO resets (last_vote_id, instance) SELECT coalesce(max(id), 0), $1 FROM votes";

/// What the counters must show, in one statement so in one snapshot: votes per choice since the
/// latest reset, and each writer's last batch.
const SNAPSHOT: &str = "SELECT 'choice', choice, count(*) FROM votes
     WHERE id > (SELECT coalesce(max(last_vote_id), 0) FROM resets)
     GROUP BY choice
     UNION ALL
     SELECT 'batch', writer, max(batch) FROM votes WHERE writer IS NOT NULL GROUP BY writer";

const PER_MINUTE: &str = "SELECT
       to_char(date_trunc('minute', cast_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD\"T\"HH24:MI:00\"Z\"'),
       instance, count(*),
       (extract(epoch FROM date_trunc('minute', now()))
        - extract(epoch FROM date_trunc('minute', cast_at)))::bigint / 60
     FROM votes WHERE cast_at > date_trunc('minute', now()) - interval '59 minutes'
     GROUP BY 1, 2, 4 ORDER BY 1, 2";

const PER_INSTANCE: &str =
    "SELECT instance, count(*) FROM votes GROUP BY instance ORDER BY instance";

/// A pooled connection idle for longer than this is checked before it is used.
const CHECK_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

/// The ledger's connection pool, and whether its schema is in place yet.
#[derive(Debug, Clone)]
pub struct Ledger {
    pool: PgPool,
    /// Set once the embedded migrations have run; until then votes are refused (503) rather than
    /// acknowledged without being recorded.
    migrated: Arc<AtomicBool>,
}

/// Where an appended batch's rows are: between these ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    first: i64,
    last: i64,
}

/// How many votes one instance took in one UTC minute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MinuteCount {
    /// The minute, `2026-11-23T18:30:00Z`.
    pub minute: String,
    /// The instance that took the votes.
    pub instance: String,
    /// How many.
    pub votes: u64,
    /// How long ago the minute was: 0 is the current minute, 59 the oldest shown.
    pub minutes_ago: u32,
}

/// How many votes one instance took in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstanceCount {
    /// The instance that took the votes.
    pub instance: String,
    /// How many.
    pub votes: u64,
}

fn unavailable(error: sqlx::Error) -> BackendError {
    BackendError::Unavailable { backend: "postgres", source: Arc::new(error) }
}

/// Counts come back from PostgreSQL as `bigint`; they are never negative.
fn to_count(count: i64) -> u64 {
    u64::try_from(count).unwrap_or(0)
}

/// Counts go to PostgreSQL as `bigint`; none comes near its limit.
fn to_bigint(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

impl Ledger {
    /// Prepares a pool without connecting, so the app starts (not ready) while PostgreSQL is
    /// down. Fails only when the URL itself is malformed.
    pub fn connect_lazy(url: &Secret) -> Result<Self, sqlx::Error> {
        let options: PgConnectOptions = url.expose().parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(3))
            // sqlx pings every connection it hands out: one more round trip per batch of
            // votes. Under load a connection comes back to the pool and leaves again within
            // the same millisecond, so only one left idle for a while (PostgreSQL may have
            // restarted meanwhile) is checked; one that fails the check is replaced.
            .test_before_acquire(false)
            .before_acquire(|connection, metadata| {
                Box::pin(async move {
                    if metadata.idle_for < CHECK_WHEN_IDLE_FOR {
                        return Ok(true);
                    }
                    connection.ping().await.map(|()| true)
                })
            })
            .connect_lazy_with(options);
        Ok(Self { pool, migrated: Arc::new(AtomicBool::new(false)) })
    }

    /// Runs the embedded migrations (idempotent; safe when several instances start at once,
    /// sqlx takes an advisory lock).
    pub async fn migrate(&self) -> Result<(), BackendError> {
        sqlx::migrate!("./migrations").run(&self.pool).await.map_err(|error| {
            BackendError::Unavailable { backend: "postgres", source: Arc::new(error) }
        })?;
        self.migrated.store(true, Ordering::Release);
        Ok(())
    }

    /// Fails until the schema is in place and PostgreSQL answers.
    pub async fn ping(&self) -> Result<(), BackendError> {
        self.ensure_migrated()?;
        sqlx::query("SELECT 1").execute(&self.pool).await.map(drop).map_err(unavailable)
    }

    fn ensure_migrated(&self) -> Result<(), BackendError> {
        if self.migrated.load(Ordering::Acquire) {
            return Ok(());
        }
        Err(BackendError::unavailable("postgres", "the ledger's migrations have not run yet"))
    }

    /// Appends a batch of votes, a row each: all of them are durable when this returns, or none
    /// is. Returns where they are, for [`Ledger::remove`].
    pub async fn append(
        &self,
        batch: &Batch,
        instance: &str,
        version: &str,
    ) -> Result<Appended, BackendError> {
        self.ensure_migrated()?;
        let choices: Vec<&str> = batch.counts.iter().map(|(choice, _)| choice.as_str()).collect();
        let votes: Vec<i64> = batch.counts.iter().map(|(_, votes)| to_bigint(*votes)).collect();
        let insert = sqlx::query_as(INSERT_BATCH).bind(choices).bind(votes).bind(instance);
        let insert = insert.bind(version).bind(&*batch.writer).bind(to_bigint(batch.number));
        let (first, last): (Option<i64>, Option<i64>) =
            insert.fetch_one(&self.pool).await.map_err(unavailable)?;
        Ok(Appended { first: first.unwrap_or(0), last: last.unwrap_or(0) })
    }

    /// Takes an appended batch back out, when the counters could not take it.
    pub async fn remove(&self, batch: &Batch, appended: Appended) -> Result<(), BackendError> {
        let delete = sqlx::query(DELETE_BATCH).bind(appended.first).bind(appended.last);
        let delete = delete.bind(&*batch.writer).bind(to_bigint(batch.number));
        delete.execute(&self.pool).await.map(drop).map_err(unavailable)
    }

    /// Records a reset: a later restore counts only the votes after it.
    pub async fn reset(&self, instance: &str) -> Result<(), BackendError> {
        self.ensure_migrated()?;
        let insert = sqlx::query(INSERT_RESET).bind(instance);
        insert.execute(&self.pool).await.map(drop).map_err(unavailable)
    }

    /// What the counters are seeded with after Redis lost them: votes per choice since the
    /// latest reset, and each writer's last batch (which those counts include).
    pub async fn snapshot(&self, choices: &Choices) -> Result<Snapshot, BackendError> {
        self.ensure_migrated()?;
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as(SNAPSHOT).fetch_all(&self.pool).await.map_err(unavailable)?;
        let count = |choice: &Choice| {
            let of_choice = |(kind, name, _): &&(String, String, i64)| {
                kind == "choice" && name == choice.as_str()
            };
            rows.iter().find(of_choice).map_or(0, |(_, _, count)| to_count(*count))
        };
        let counts = choices.iter().map(|choice| (choice.clone(), count(choice))).collect();
        let batches = rows.iter().filter(|(kind, _, _)| kind == "batch");
        let batches = batches.map(|(_, writer, last)| (writer.clone(), to_count(*last))).collect();
        Ok(Snapshot { counts, batches })
    }

    /// Votes per minute per instance over the last hour, oldest first.
    pub async fn per_minute(&self) -> Result<Vec<MinuteCount>, BackendError> {
        self.ensure_migrated()?;
        let rows: Vec<(String, String, i64, i64)> =
            sqlx::query_as(PER_MINUTE).fetch_all(&self.pool).await.map_err(unavailable)?;
        let to_minute = |(minute, instance, votes, ago): (String, String, i64, i64)| MinuteCount {
            minute,
            instance,
            votes: to_count(votes),
            minutes_ago: u32::try_from(ago).unwrap_or(0),
        };
        Ok(rows.into_iter().map(to_minute).collect())
    }

    /// Votes per instance, all time.
    pub async fn per_instance(&self) -> Result<Vec<InstanceCount>, BackendError> {
        self.ensure_migrated()?;
        let rows: Vec<(String, i64)> =
            sqlx::query_as(PER_INSTANCE).fetch_all(&self.pool).await.map_err(unavailable)?;
        let to_instance = |(instance, votes)| InstanceCount { instance, votes: to_count(votes) };
        Ok(rows.into_iter().map(to_instance).collect())
    }
}
