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
use sqlx::{PgPool, Postgres, Transaction};

use crate::choice::{Choice, Choices};
use crate::secret::Secret;
use crate::store::{Counts, StoreError};

const INSERT_VOTE: &str = "INSERT INTO votes (choice, instance, version) VALUES ($1, $2, $3)";

const INSERT_RESET: &str =
    "INSERT INTO resets (last_vote_id, instance) SELECT coalesce(max(id), 0), $1 FROM votes";

/// Votes since the latest reset, per choice: what the counters must show.
const TOTALS: &str = "SELECT choice, count(*) FROM votes
     WHERE id > (SELECT coalesce(max(last_vote_id), 0) FROM resets)
     GROUP BY choice";

const PER_MINUTE: &str = "SELECT
       to_char(date_trunc('minute', cast_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD\"T\"HH24:MI:00\"Z\"'),
       instance, count(*),
       (extract(epoch FROM date_trunc('minute', now()))
        - extract(epoch FROM date_trunc('minute', cast_at)))::bigint / 60
     FROM votes WHERE cast_at > date_trunc('minute', now()) - interval '59 minutes'
     GROUP BY 1, 2, 4 ORDER BY 1, 2";

const PER_INSTANCE: &str =
    "SELECT instance, count(*) FROM votes GROUP BY instance ORDER BY instance";

/// The ledger's connection pool, and whether its schema is in place yet.
#[derive(Debug, Clone)]
pub struct Ledger {
    pool: PgPool,
    /// Set once the embedded migrations have run; until then votes are refused (503) rather than
    /// acknowledged without being recorded.
    migrated: Arc<AtomicBool>,
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

/// A vote written to the ledger but not committed: it becomes durable only once the counter is
/// incremented too, so a vote is acknowledged only when both hold it.
#[derive(Debug)]
pub struct PendingVote(Transaction<'static, Postgres>);

impl PendingVote {
    /// Makes the vote durable.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.0.commit().await.map_err(unavailable)
    }
}

fn unavailable(error: sqlx::Error) -> StoreError {
    StoreError::Unavailable { backend: "postgres", source: Box::new(error) }
}

/// Counts come back from PostgreSQL as `bigint`; they are never negative.
fn to_count(count: i64) -> u64 {
    u64::try_from(count).unwrap_or(0)
}

impl Ledger {
    /// Prepares a pool without connecting, so the app starts (not ready) while PostgreSQL is
    /// down. Fails only when the URL itself is malformed.
    pub fn connect_lazy(url: &Secret) -> Result<Self, sqlx::Error> {
        let options: PgConnectOptions = url.expose().parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(3))
            .connect_lazy_with(options);
        Ok(Self { pool, migrated: Arc::new(AtomicBool::new(false)) })
    }

    /// Runs the embedded migrations (idempotent; safe when several instances start at once,
    /// sqlx takes an advisory lock).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations").run(&self.pool).await.map_err(|error| {
            StoreError::Unavailable { backend: "postgres", source: Box::new(error) }
        })?;
        self.migrated.store(true, Ordering::Release);
        Ok(())
    }

    /// Fails until the schema is in place and PostgreSQL answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.ensure_migrated()?;
        sqlx::query("SELECT 1").execute(&self.pool).await.map(drop).map_err(unavailable)
    }

    fn ensure_migrated(&self) -> Result<(), StoreError> {
        if self.migrated.load(Ordering::Acquire) {
            return Ok(());
        }
        let source = "the ledger's migrations have not run yet".into();
        Err(StoreError::Unavailable { backend: "postgres", source })
    }

    /// Writes a vote inside a transaction that the caller commits once the counter is updated.
    pub async fn begin_vote(
        &self,
        choice: &Choice,
        instance: &str,
        version: &str,
    ) -> Result<PendingVote, StoreError> {
        self.ensure_migrated()?;
        let mut transaction = self.pool.begin().await.map_err(unavailable)?;
        let insert = sqlx::query(INSERT_VOTE).bind(choice.as_str()).bind(instance).bind(version);
        insert.execute(&mut *transaction).await.map_err(unavailable)?;
        Ok(PendingVote(transaction))
    }

    /// Records a reset inside a transaction that the caller commits once the counters are zero.
    pub async fn begin_reset(&self, instance: &str) -> Result<PendingVote, StoreError> {
        self.ensure_migrated()?;
        let mut transaction = self.pool.begin().await.map_err(unavailable)?;
        let insert = sqlx::query(INSERT_RESET).bind(instance);
        insert.execute(&mut *transaction).await.map_err(unavailable)?;
        Ok(PendingVote(transaction))
    }

    /// Votes per choice since the latest reset: what Redis is seeded with after losing its data.
    pub async fn totals(&self, choices: &Choices) -> Result<Counts, StoreError> {
        self.ensure_migrated()?;
        let rows: Vec<(String, i64)> =
            sqlx::query_as(TOTALS).fetch_all(&self.pool).await.map_err(unavailable)?;
        let count = |choice: &Choice| {
            let row = rows.iter().find(|(name, _)| name == choice.as_str());
            row.map_or(0, |(_, count)| to_count(*count))
        };
        Ok(choices.iter().map(|choice| (choice.clone(), count(choice))).collect())
    }

    /// Votes per minute per instance over the last hour, oldest first.
    pub async fn per_minute(&self) -> Result<Vec<MinuteCount>, StoreError> {
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
    pub async fn per_instance(&self) -> Result<Vec<InstanceCount>, StoreError> {
        self.ensure_migrated()?;
        let rows: Vec<(String, i64)> =
            sqlx::query_as(PER_INSTANCE).fetch_all(&self.pool).await.map_err(unavailable)?;
        let to_instance = |(instance, votes)| InstanceCount { instance, votes: to_count(votes) };
        Ok(rows.into_iter().map(to_instance).collect())
    }
}
