//! The Redis store: one hash (`votes` unless `REDIS_KEY` says otherwise), a field per choice,
//! and beside it a hash (`{votes}:batches`) of the last batch each writer added.
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

/// Adds a batch (ARGV: writer, number, the writer's last batch the counters must still hold,
/// then choice and votes pairs) unless the counters hold it already; returns nil when the
/// counters are gone or lost a batch of this writer.
const ADD: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local held = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or 0)
if held >= tonumber(ARGV[2]) then return 0 end
if held < tonumber(ARGV[3]) then return false end
for i = 4, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1";

/// Replaces the counters (ARGV: 1 to force, how many choices, choice and votes pairs, then
/// writer and batch pairs) if they are gone, forced, or hold no writer's batch newer than the
/// snapshot's; returns 1 if it replaced them.
const REBUILD: &str = r"
local last = 2 + 2 * tonumber(ARGV[2])
if ARGV[1] == '0' and redis.call('EXISTS', KEYS[1]) == 1 then
  local snapshot = {}
  for i = last + 1, #ARGV, 2 do snapshot[ARGV[i]] = tonumber(ARGV[i + 1]) end
  local held = redis.call('HGETALL', KEYS[2])
  for i = 1, #held, 2 do
    if tonumber(held[i + 1]) > (snapshot[held[i]] or 0) then return 0 end
  end
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], unpack(ARGV, 3, last))
if #ARGV > last then redis.call('HSET', KEYS[2], unpack(ARGV, last + 1)) end
return 1";

/// A Redis-backed [`VoteStore`]. The connection manager reconnects by itself after Redis comes
/// back, so the app recovers without a restart.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    /// The hash holding the counters (`REDIS_KEY`).
    key: String,
    /// The hash of each writer's last batch added, in the counters' cluster slot.
    batches_key: String,
    add: Script,
    rebuild: Script,
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
        let (add, rebuild) = (Script::new(ADD), Script::new(REBUILD));
        let (key, batches_key) = (key.to_owned(), batches_key(key));
        Ok(Self { connection, key, batches_key, add, rebuild })
    }
}

/// `<key>:batches`, in the same Redis Cluster slot as `key`: a cluster runs a script only on
/// keys of one slot. A key without a hash tag is hashed whole, so `{votes}:batches` (hashed as
/// `votes`) sits with `votes`; a key with one already shares it with any suffix.
fn batches_key(key: &str) -> String {
    let tagged = key.split_once('{').is_some_and(|(_, rest)| rest.find('}').is_some_and(|end| end > 0));
    if tagged { format!("{key}:batches") } else { format!("{{{key}}}:batches") }
}

fn unavailable(error: redis::RedisError) -> BackendError {
    BackendError::Unavailable { backend: "redis", source: std::sync::Arc::new(error) }
}

#[async_trait]
impl VoteStore for RedisStore {
    async fn add(&self, batch: &Batch, last_held: u64) -> Result<(), BackendError> {
        let mut connection = self.connection.clone();
        let mut invocation = self.add.key(&self.key);
        invocation.key(&self.batches_key).arg(&*batch.writer).arg(batch.number).arg(last_held);
        for (choice, votes) in &batch.counts {
            invocation.arg(choice.as_str()).arg(*votes);
        }
        let added: Option<i64> =
            invocation.invoke_async(&mut connection).await.map_err(unavailable)?;
        added.map(drop).ok_or(BackendError::Lost)
    }

    async fn counts(&self, choices: &Choices) -> Result<Counts, BackendError> {
        let mut connection = self.connection.clone();
        let stored: std::collections::HashMap<String, u64> =
            connection.hgetall(&self.key).await.map_err(unavailable)?;
        if stored.is_empty() {
            return Err(BackendError::Lost);
        }
        let count = |choice: &Choice| stored.get(choice.as_str()).copied().unwrap_or(0);
        Ok(choices.iter().map(|choice| (choice.clone(), count(choice))).collect())
    }

    async fn rebuild(&self, snapshot: &Snapshot, force: bool) -> Result<bool, BackendError> {
        let mut connection = self.connection.clone();
        let mut invocation = self.rebuild.key(&self.key);
        invocation.key(&self.batches_key).arg(u8::from(force)).arg(snapshot.counts.len());
        for (choice, votes) in &snapshot.counts {
            invocation.arg(choice.as_str()).arg(*votes);
        }
        for (writer, number) in &snapshot.batches {
            invocation.arg(writer).arg(*number);
        }
        let rebuilt: i64 = invocation.invoke_async(&mut connection).await.map_err(unavailable)?;
        Ok(rebuilt == 1)
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
