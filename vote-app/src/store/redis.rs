//! The Redis store: one hash (`votes` unless `REDIS_KEY` says otherwise), a field per choice.
//!
//! Why a hash and `HINCRBY`: Redis executes each command atomically, so any number of instances
//! can increment the same field concurrently and no vote is lost (the original app used the same
//! idea with `INCR` on one key per choice). Why Lua scripts: "increment only if the counters still
//! exist" must be one atomic step, or a vote arriving just after Redis restarted empty would
//! recreate the hash at 1 and hide that every earlier vote was lost.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};

use super::{Counts, StoreError, VoteStore};
use crate::choice::{Choice, Choices};
use crate::secret::Secret;

/// Increments a field if the hash exists; returns nil (not seeded) otherwise.
const INCREMENT: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)";

/// Writes all fields if the hash does not exist; returns 1 if it wrote them.
const SEED: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1";

/// A Redis-backed [`VoteStore`]. The connection manager reconnects by itself after Redis comes
/// back, so the app recovers without a restart.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    /// The hash holding the counters (`REDIS_KEY`).
    key: String,
    increment: Script,
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
    pub fn connect_lazy(url: &Secret, key: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url.expose()).map_err(unavailable)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection =
            ConnectionManager::new_lazy_with_config(client, config).map_err(unavailable)?;
        let (increment, seed) = (Script::new(INCREMENT), Script::new(SEED));
        Ok(Self { connection, key: key.to_owned(), increment, seed })
    }
}

fn unavailable(error: redis::RedisError) -> StoreError {
    StoreError::Unavailable { backend: "redis", source: Box::new(error) }
}

#[async_trait]
impl VoteStore for RedisStore {
    async fn increment(&self, choice: &Choice) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        let mut invocation = self.increment.key(&self.key);
        invocation.arg(choice.as_str());
        let count: Option<i64> =
            invocation.invoke_async(&mut connection).await.map_err(unavailable)?;
        count.map(drop).ok_or(StoreError::NotSeeded)
    }

    async fn counts(&self, choices: &Choices) -> Result<Counts, StoreError> {
        let mut connection = self.connection.clone();
        let stored: std::collections::HashMap<String, u64> =
            connection.hgetall(&self.key).await.map_err(unavailable)?;
        if stored.is_empty() {
            return Err(StoreError::NotSeeded);
        }
        let count = |choice: &Choice| stored.get(choice.as_str()).copied().unwrap_or(0);
        Ok(choices.iter().map(|choice| (choice.clone(), count(choice))).collect())
    }

    async fn seed(&self, counts: &Counts) -> Result<bool, StoreError> {
        let mut connection = self.connection.clone();
        let mut invocation = self.seed.key(&self.key);
        for (choice, count) in counts {
            invocation.arg(choice.as_str()).arg(*count);
        }
        let seeded: i64 = invocation.invoke_async(&mut connection).await.map_err(unavailable)?;
        Ok(seeded == 1)
    }

    async fn reset(&self, choices: &Choices) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        let zeros: Vec<(&str, u64)> = choices.iter().map(|choice| (choice.as_str(), 0)).collect();
        connection.hset_multiple::<_, _, _, ()>(&self.key, &zeros).await.map_err(unavailable)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        redis::cmd("PING").query_async::<()>(&mut connection).await.map_err(unavailable)
    }

    fn backend(&self) -> &'static str {
        "redis"
    }
}
