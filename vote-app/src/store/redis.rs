//! The Redis store: one hash (`votes` unless `REDIS_KEY` says otherwise), a field per choice,
//! and beside it a hash (`votes:batches`) of the last batch each writer added.
//!
//! Why a hash and `HINCRBY`: Redis executes each command atomically, so any number of instances
//! can increment the same field concurrently and no vote is lost (the original app used the same
//! idea with `INCR` on one key per choice). Why Lua scripts: "add only if the counters still exist
//! and do not hold this batch yet" must be one atomic step, or a batch arriving just after Redis
//! restarted empty would recreate the hash and hide that every earlier vote was lost, and a batch
//! that a restore from the ledger already counted would be counted twice.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};

use super::{BackendError, Batch, Counts, Snapshot, VoteStore};
use crate::choice::{Choice, Choices};
use crate::secret::Secret;

/// Adds a batch (ARGV: writer, number, then choice and votes pairs) if the counters exist and
/// the writer's last batch is older; returns nil (not seeded) when the counters are gone.
const ADD: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or 0) >= tonumber(ARGV[2]) then return 0 end
for i = 3, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1";

/// Writes the counts (ARGV: how many choices, choice and votes pairs, then writer and batch
/// pairs) if the counters do not exist; returns 1 if it wrote them.
const SEED: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local last = 1 + 2 * tonumber(ARGV[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2, last))
redis.call('DEL', KEYS[2])
if #ARGV > last then redis.call('HSET', KEYS[2], unpack(ARGV, last + 1)) end
return 1";

/// A Redis-backed [`VoteStore`]. The connection manager reconnects by itself after Redis comes
/// back, so the app recovers without a restart.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    /// The hash holding the counters (`REDIS_KEY`).
    key: String,
    /// The hash of each writer's last batch added: `<key>:batches`.
    batches_key: String,
    add: Script,
    seed: Script,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Prepares a connection without opening it: the app starts, and says it is not ready,
    /// even when Redis is down. Every command is bounded by a connect and a response timeout.
    pub fn connect_lazy(url: &Secret, key: &str) -> Result<Self, BackendError> {
        let client = redis::Client::open(url.expose()).map_err(unavailable)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection =
            ConnectionManager::new_lazy_with_config(client, config).map_err(unavailable)?;
        let (add, seed) = (Script::new(ADD), Script::new(SEED));
        let (key, batches_key) = (key.to_owned(), format!("{key}:batches"));
        Ok(Self { connection, key, batches_key, add, seed })
    }
}

fn unavailable(error: redis::RedisError) -> BackendError {
    BackendError::Unavailable { backend: "redis", source: std::sync::Arc::new(error) }
}

#[async_trait]
impl VoteStore for RedisStore {
    async fn add(&self, batch: &Batch) -> Result<(), BackendError> {
        let mut connection = self.connection.clone();
        let mut invocation = self.add.key(&self.key);
        invocation.key(&self.batches_key).arg(&*batch.writer).arg(batch.number);
        for (choice, votes) in &batch.counts {
            invocation.arg(choice.as_str()).arg(*votes);
        }
        let added: Option<i64> =
            invocation.invoke_async(&mut connection).await.map_err(unavailable)?;
        added.map(drop).ok_or(BackendError::NotSeeded)
    }

    async fn counts(&self, choices: &Choices) -> Result<Counts, BackendError> {
        let mut connection = self.connection.clone();
        let stored: std::collections::HashMap<String, u64> =
            connection.hgetall(&self.key).await.map_err(unavailable)?;
        if stored.is_empty() {
            return Err(BackendError::NotSeeded);
        }
        let count = |choice: &Choice| stored.get(choice.as_str()).copied().unwrap_or(0);
        Ok(choices.iter().map(|choice| (choice.clone(), count(choice))).collect())
    }

    async fn seed(&self, snapshot: &Snapshot) -> Result<bool, BackendError> {
        let mut connection = self.connection.clone();
        let mut invocation = self.seed.key(&self.key);
        invocation.key(&self.batches_key).arg(snapshot.counts.len());
        for (choice, votes) in &snapshot.counts {
            invocation.arg(choice.as_str()).arg(*votes);
        }
        for (writer, number) in &snapshot.batches {
            invocation.arg(writer).arg(*number);
        }
        let seeded: i64 = invocation.invoke_async(&mut connection).await.map_err(unavailable)?;
        Ok(seeded == 1)
    }

    async fn reset(&self, choices: &Choices) -> Result<(), BackendError> {
        let mut connection = self.connection.clone();
        let zeros: Vec<(&str, u64)> = choices.iter().map(|choice| (choice.as_str(), 0)).collect();
        connection.hset_multiple::<_, _, _, ()>(&self.key, &zeros).await.map_err(unavailable)
    }

    async fn ping(&self) -> Result<(), BackendError> {
        let mut connection = self.connection.clone();
        redis::cmd("PING").query_async::<()>(&mut connection).await.map_err(unavailable)
    }

    fn backend(&self) -> &'static str {
        "redis"
    }
}
