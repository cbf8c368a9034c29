//! The Redis store: one hash (`votes` unless `REDIS_KEY` says otherwise), a field per choice,
//! and beside it a hash (`{votes}:batches`) of the last batch each writer added.
//!
//! Why a hash and `HINCRBY`: Redis executes each command atomically, so any number of instances
//! can increment the same field concurrently and no vote is lost (the original app used the same
//! idea with `INCR` on one key per choice). Why Lua scripts: "add only if the counters still exist
//! and do not hold this batch yet" must be one atomic step, or a batch arriving just after Redis
//! restarted empty would recreate the hash and hide that every earlier vote was lost, and a batch
//! that a restore from the ledger already counted would be counted twice.
//!
//! Every change to the counters is announced on the channel `<key>:changes` (by the add script
//! itself, so a batch costs no extra round trip): each instance subscribes to it, and the live
//! results of every open page follow votes cast on any instance.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{AsyncCommands, Cmd, Pipeline, RedisFuture, Script, Value};
use tokio::sync::{Notify, OnceCell};

use super::{BackendError, Batch, Counts, Snapshot, VoteStore};
use crate::choice::{Choice, Choices};
use crate::secret::Secret;

/// Adds a batch (ARGV: writer, number, the writer's last batch the counters must hold or an
/// empty string, the channel announcing changes, then choice and votes pairs) unless the
/// counters hold it already; returns nil when the counters are gone or hold another batch of
/// this writer than the one they must. A channel is not a key, so a cluster lets a script
/// publish to it (and sends the message to every node).
const ADD: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local held = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or 0)
if held >= tonumber(ARGV[2]) then return 0 end
if ARGV[3] ~= '' and held ~= tonumber(ARGV[3]) then return false end
for i = 5, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('PUBLISH', ARGV[4], ARGV[1])
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

/// A Redis-backed [`VoteStore`]. Its connections reconnect by themselves after Redis comes
/// back, so the app recovers without a restart.
#[derive(Clone)]
pub struct RedisStore {
    redis: Redis,
    /// The hash holding the counters (`REDIS_KEY`).
    key: String,
    /// The hash of each writer's last batch added, in the counters' cluster slot.
    batches_key: String,
    /// Where changes to the counters are announced (`<key>:changes`).
    channel: String,
    /// The subscriptions' own client: a subscribed connection can do nothing else. With a
    /// cluster it talks to the node `REDIS_URL` names, which hears every node's messages.
    subscriber: redis::Client,
    add: Script,
    rebuild: Script,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").finish_non_exhaustive()
    }
}

/// How long connecting and each command may take, so a request never hangs on Redis.
const TIMEOUT: Duration = Duration::from_secs(2);

/// How often a subscription is pinged: a connection that stopped answering (a network cut
/// without a reset) is replaced instead of waiting silently for messages.
const PING_EVERY: Duration = Duration::from_secs(10);

impl RedisStore {
    /// Prepares the connection without opening it: the app starts, and says it is not ready,
    /// even when Redis is down. Every command is bounded by a connect and a response timeout.
    /// With `cluster`, `url` is any node of a Redis Cluster: the client learns the others, sends
    /// each command to the node holding its key, and follows failovers.
    pub fn connect_lazy(url: &Secret, key: &str, cluster: bool) -> Result<Self, BackendError> {
        let redis = if cluster {
            let client = ClusterClient::builder([url.expose()])
                .connection_timeout(TIMEOUT)
                .response_timeout(TIMEOUT)
                .build()
                .map_err(unavailable)?;
            Redis::Cluster(Arc::new(LazyCluster { client, connection: OnceCell::new() }))
        } else {
            let client = redis::Client::open(url.expose()).map_err(unavailable)?;
            let config = redis::aio::ConnectionManagerConfig::new()
                .set_connection_timeout(Some(TIMEOUT))
                .set_response_timeout(Some(TIMEOUT))
                .set_number_of_retries(1)
                .set_max_delay(Duration::from_millis(500));
            let manager =
                ConnectionManager::new_lazy_with_config(client, config).map_err(unavailable)?;
            Redis::Single(manager)
        };
        let subscriber = redis::Client::open(url.expose()).map_err(unavailable)?;
        let (add, rebuild) = (Script::new(ADD), Script::new(REBUILD));
        let (batches_key, channel) = (batches_key(key), format!("{key}:changes"));
        Ok(Self { redis, key: key.to_owned(), batches_key, channel, subscriber, add, rebuild })
    }

    /// Announces a change that no script announced (a reset, a rebuild). The change is made
    /// whether or not the announcement gets through: live results then catch up at their next
    /// read (within 15 s), so a lost announcement fails nothing.
    async fn announce(&self, connection: &mut Connection) {
        let publish = redis::cmd("PUBLISH").arg(&self.channel).arg("").to_owned();
        if let Err(error) = publish.query_async::<()>(connection).await {
            let error = crate::error::error_chain(&error);
            tracing::debug!(%error, "live results: a change could not be announced");
        }
    }

    /// One subscription to the changes: notifies once subscribed (changes may have been missed
    /// while there was none), then at each message; returns when the connection is lost or
    /// stops answering.
    async fn listen(&self, changed: &Notify) -> Result<std::convert::Infallible, BackendError> {
        let timed_out = || BackendError::unavailable("redis", "the subscription timed out");
        let connect = tokio::time::timeout(TIMEOUT, self.subscriber.get_async_pubsub());
        let (mut sink, mut messages) =
            connect.await.map_err(|_| timed_out())?.map_err(unavailable)?.split();
        sink.subscribe(&self.channel).await.map_err(unavailable)?;
        tracing::debug!(channel = %self.channel, "listening for changes to the counters");
        changed.notify_one();
        let mut ping = tokio::time::interval(PING_EVERY);
        loop {
            tokio::select! {
                message = messages.next() => match message {
                    Some(_) => changed.notify_one(),
                    None => return Err(BackendError::unavailable("redis", "subscription closed")),
                },
                _ = ping.tick() => {
                    let pong = tokio::time::timeout(TIMEOUT, sink.ping::<()>());
                    pong.await.map_err(|_| timed_out())?.map_err(unavailable)?;
                }
            }
        }
    }
}

/// A standalone Redis (Azure Cache for Redis, Azure Managed Redis with the Enterprise clustering
/// policy, a container), or a cluster, whose connection is opened at its first use.
#[derive(Clone)]
enum Redis {
    Single(ConnectionManager),
    Cluster(Arc<LazyCluster>),
}

/// A cluster client, and its connection once opened (it then follows the cluster by itself).
struct LazyCluster {
    client: ClusterClient,
    connection: OnceCell<ClusterConnection>,
}

impl Redis {
    /// A connection to send commands on: a handle on the shared one, cheap to clone.
    async fn connection(&self) -> Result<Connection, BackendError> {
        match self {
            Self::Single(manager) => Ok(Connection::Single(manager.clone())),
            Self::Cluster(cluster) => {
                let open = || cluster.client.get_async_connection();
                let opened = cluster.connection.get_or_try_init(open);
                Ok(Connection::Cluster(opened.await.map_err(unavailable)?.clone()))
            }
        }
    }
}

/// One of either kind, so the commands below are written once.
enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(connection) => connection.req_packed_command(cmd),
            Self::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(connection) => connection.req_packed_commands(pipeline, offset, count),
            Self::Cluster(connection) => connection.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(connection) => connection.get_db(),
            Self::Cluster(connection) => connection.get_db(),
        }
    }
}

/// `<key>:batches`, in the same Redis Cluster slot as `key`: a cluster runs a script only on
/// keys of one slot. A key without a hash tag is hashed whole, so `{votes}:batches` (hashed as
/// `votes`) sits with `votes`; a key with one already shares it with any suffix.
fn batches_key(key: &str) -> String {
    let tagged =
        key.split_once('{').is_some_and(|(_, rest)| rest.find('}').is_some_and(|end| end > 0));
    if tagged { format!("{key}:batches") } else { format!("{{{key}}}:batches") }
}

fn unavailable(error: redis::RedisError) -> BackendError {
    BackendError::Unavailable { backend: "redis", source: std::sync::Arc::new(error) }
}

#[async_trait]
impl VoteStore for RedisStore {
    async fn add(&self, batch: &Batch, last_held: Option<u64>) -> Result<(), BackendError> {
        let mut connection = self.redis.connection().await?;
        let mut invocation = self.add.key(&self.key);
        let last_held = last_held.map(|number| number.to_string()).unwrap_or_default();
        invocation.key(&self.batches_key).arg(&*batch.writer).arg(batch.number).arg(last_held);
        invocation.arg(&self.channel);
        for (choice, votes) in &batch.counts {
            invocation.arg(choice.as_str()).arg(*votes);
        }
        let added: Option<i64> =
            invocation.invoke_async(&mut connection).await.map_err(unavailable)?;
        added.map(drop).ok_or(BackendError::Lost)
    }

    async fn counts(&self, choices: &Choices) -> Result<Counts, BackendError> {
        let mut connection = self.redis.connection().await?;
        let stored: std::collections::HashMap<String, u64> =
            connection.hgetall(&self.key).await.map_err(unavailable)?;
        if stored.is_empty() {
            return Err(BackendError::Lost);
        }
        let count = |choice: &Choice| stored.get(choice.as_str()).copied().unwrap_or(0);
        Ok(choices.iter().map(|choice| (choice.clone(), count(choice))).collect())
    }

    async fn rebuild(&self, snapshot: &Snapshot, force: bool) -> Result<bool, BackendError> {
        let mut connection = self.redis.connection().await?;
        let mut invocation = self.rebuild.key(&self.key);
        invocation.key(&self.batches_key).arg(u8::from(force)).arg(snapshot.counts.len());
        for (choice, votes) in &snapshot.counts {
            invocation.arg(choice.as_str()).arg(*votes);
        }
        for (writer, number) in &snapshot.batches {
            invocation.arg(writer).arg(*number);
        }
        let rebuilt: i64 = invocation.invoke_async(&mut connection).await.map_err(unavailable)?;
        if rebuilt == 1 {
            self.announce(&mut connection).await;
        }
        Ok(rebuilt == 1)
    }

    async fn reset(&self, choices: &Choices) -> Result<(), BackendError> {
        let mut connection = self.redis.connection().await?;
        let zeros: Vec<(&str, u64)> = choices.iter().map(|choice| (choice.as_str(), 0)).collect();
        let reset = connection.hset_multiple::<_, _, _, ()>(&self.key, &zeros);
        reset.await.map_err(unavailable)?;
        self.announce(&mut connection).await;
        Ok(())
    }

    /// Subscribes to `<key>:changes`, and subscribes again whenever the subscription is lost:
    /// at once after one that lasted, then backing off up to 5 s while Redis is away.
    async fn watch(&self, changed: Arc<Notify>) {
        let first_delay = Duration::from_millis(250);
        let mut delay = first_delay;
        loop {
            let started = tokio::time::Instant::now();
            let Err(error) = self.listen(&changed).await;
            if started.elapsed() > PING_EVERY {
                delay = first_delay;
            }
            let error = crate::error::error_chain(&error);
            tracing::warn!(%error, retry_in = ?delay, "live results: no Redis subscription");
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }

    async fn ping(&self) -> Result<(), BackendError> {
        let mut connection = self.redis.connection().await?;
        redis::cmd("PING").query_async::<()>(&mut connection).await.map_err(unavailable)
    }

    fn backend(&self) -> &'static str {
        "redis"
    }
}
