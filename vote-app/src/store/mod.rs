//! Where the counters live: Redis in production, an in-memory map on a developer's machine.
//!
//! Both implement [`VoteStore`], so the rest of the app holds an `Arc<dyn VoteStore>` and never
//! knows which one it has.

mod memory;
mod redis;

use async_trait::async_trait;

pub use self::memory::MemoryStore;
pub use self::redis::RedisStore;
use crate::choice::{Choice, Choices};

/// A count for each choice, in display order.
pub type Counts = Vec<(Choice, u64)>;

/// Why a store operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The counters are gone (Redis restarted without persistence, or a fresh store): they must
    /// be seeded from the ledger before counting again, or history would be silently lost.
    #[error("the counters are not seeded")]
    NotSeeded,
    /// The backend could not be reached or answered with an error.
    #[error("{backend} is unavailable")]
    Unavailable {
        /// `redis` or `postgres`, for the log line and `/ready`.
        backend: &'static str,
        /// The client library's error, logged once, never sent to a client.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// The counters' storage. Every method is atomic on the backend, so concurrent instances never
/// lose an increment.
#[async_trait]
pub trait VoteStore: Send + Sync + std::fmt::Debug {
    /// Adds one vote, or fails with [`StoreError::NotSeeded`] when the counters are gone.
    async fn increment(&self, choice: &Choice) -> Result<(), StoreError>;

    /// The current counts, or [`StoreError::NotSeeded`] when the counters are gone.
    async fn counts(&self, choices: &Choices) -> Result<Counts, StoreError>;

    /// Sets the counts only if the counters are gone; returns whether it did. Several instances
    /// may race to restore after a Redis restart: exactly one wins, the others change nothing.
    async fn seed(&self, counts: &Counts) -> Result<bool, StoreError>;

    /// Sets every count to zero.
    async fn reset(&self, choices: &Choices) -> Result<(), StoreError>;

    /// Succeeds when the backend answers, for `/ready`.
    async fn ping(&self) -> Result<(), StoreError>;

    /// `redis` or `memory`, for logs and `/ready`.
    fn backend(&self) -> &'static str;
}
