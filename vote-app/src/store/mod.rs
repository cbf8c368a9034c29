//! Where the counters live: Redis in production, an in-memory map on a developer's machine.
//!
//! Both implement [`VoteStore`], so the rest of the app holds an `Arc<dyn VoteStore>` and never
//! knows which one it has.

mod memory;
mod redis;

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Notify;

pub use self::memory::MemoryStore;
pub use self::redis::RedisStore;
use crate::choice::{Choice, Choices};

/// A count for each choice, in display order.
pub type Counts = Vec<(Choice, u64)>;

/// Votes to add to the counters in one step, and which batch they are: each writer (one
/// vote-app process) numbers its batches 1, 2, 3…, and the counters remember the last one they
/// hold from each writer. So a batch that a rebuild from the ledger already counted is not
/// counted again, and a writer can tell that the counters are wrong: they hold an older batch
/// than it last added when they lost some (a failover to a replica that had not received them),
/// a newer one when they counted a batch it then refused (see [`VoteStore::add`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// The writer: the instance's name and a number of its own, unique to the process.
    pub writer: Arc<str>,
    /// The batch's number in the writer's sequence, from 1.
    pub number: u64,
    /// Votes per choice.
    pub counts: Counts,
}

/// What the counters are rebuilt with: the counts, and the last batch of each writer they hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Votes per choice.
    pub counts: Counts,
    /// Each writer's last batch included in `counts`.
    pub batches: Vec<(String, u64)>,
}

/// Why the counters (Redis, memory) or the ledger (PostgreSQL) could not do what was asked.
/// Cloneable: one failure answers every vote of a batch.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BackendError {
    /// The counters are gone (Redis restarted without persistence, or a fresh store) or lost
    /// batches (a failover to a replica behind its master): they must be rebuilt from the ledger
    /// before counting again, or history would be silently lost.
    #[error("the counters are gone or lost votes")]
    Lost,
    /// The backend could not be reached or answered with an error.
    #[error("{backend} is unavailable")]
    Unavailable {
        /// `redis` or `postgres`, for the log line and `/ready`.
        backend: &'static str,
        /// The client library's error, logged once, never sent to a client.
        #[source]
        source: Arc<dyn std::error::Error + Send + Sync>,
    },
}

impl BackendError {
    /// A backend that cannot be used, for a reason the app states itself.
    pub fn unavailable(backend: &'static str, reason: &str) -> Self {
        let source = Box::<dyn std::error::Error + Send + Sync>::from(reason);
        Self::Unavailable { backend, source: source.into() }
    }
}

/// The counters' storage. Every method is atomic on the backend, so concurrent instances never
/// lose an increment.
#[async_trait]
pub trait VoteStore: Send + Sync + std::fmt::Debug {
    /// Adds a batch of votes unless the counters already hold it (a rebuild counted it). Fails
    /// with [`BackendError::Lost`] when the counters are gone, or when they hold another batch
    /// of this writer than `last_held`, the last one it added (`None`: do not check). An older
    /// one means they lost batches; a newer one, that they hold a batch the writer took back
    /// out of the ledger. Either way only a rebuild from the ledger makes them right again.
    async fn add(&self, batch: &Batch, last_held: Option<u64>) -> Result<(), BackendError>;

    /// The current counts, or [`BackendError::Lost`] when the counters are gone.
    async fn counts(&self, choices: &Choices) -> Result<Counts, BackendError>;

    /// Replaces the counters with `snapshot` if they are gone, or (when they exist) if they hold
    /// no batch the snapshot lacks — or anyway when `force`d; returns whether it did. So of
    /// several instances rebuilding at once, none undoes a batch another added meanwhile.
    async fn rebuild(&self, snapshot: &Snapshot, force: bool) -> Result<bool, BackendError>;

    /// Sets every count to zero (the batches held stay recorded).
    async fn reset(&self, choices: &Choices) -> Result<(), BackendError>;

    /// Calls `changed.notify_one()` each time any instance changes the counters, for as long as
    /// it runs (it reconnects by itself), so live results show votes cast elsewhere. The memory
    /// store has no other instance to hear from: it returns at once.
    async fn watch(&self, changed: Arc<Notify>);

    /// Succeeds when the backend answers, for `/ready`.
    async fn ping(&self) -> Result<(), BackendError>;

    /// `redis` or `memory`, for logs and `/ready`.
    fn backend(&self) -> &'static str;
}
