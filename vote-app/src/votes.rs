//! Casting, counting and resetting votes: the rules that tie the counters to the ledger.
//!
//! A vote is acknowledged only once it is stored: with a ledger, the ledger row is written in a
//! transaction, the counter incremented, then the transaction committed. If PostgreSQL fails in
//! the instant between the increment and the commit, the client gets a 503 and the counter keeps
//! one vote the ledger lacks; the next restore from the ledger corrects it.

use std::sync::Arc;

use serde::Serialize;

use crate::build_info;
use crate::choice::{Choice, Choices};
use crate::ledger::Ledger;
use crate::store::{Counts, StoreError, VoteStore};

/// The counts as voters see them: per choice, with the total and a share of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// All votes counted.
    pub total: u64,
    /// Each choice in display order.
    pub choices: Vec<ChoiceCount>,
}

/// One choice's line in the results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChoiceCount {
    /// The choice's name.
    pub name: Choice,
    /// Votes for it.
    pub votes: u64,
    /// Its share of the total, rounded to a whole percent (0 when nobody has voted).
    #[serde(skip)]
    pub percent: u64,
}

impl Tally {
    /// Computes the total and each share.
    pub fn new(counts: Counts) -> Self {
        let total: u64 = counts.iter().map(|(_, votes)| votes).sum();
        let share = |votes: u64| (votes * 100 + total / 2).checked_div(total).unwrap_or(0);
        let to_line = |(name, votes)| ChoiceCount { name, votes, percent: share(votes) };
        Self { total, choices: counts.into_iter().map(to_line).collect() }
    }
}

/// The voting service: the counters, the optional ledger, and who this instance is.
#[derive(Debug, Clone)]
pub struct Votes {
    store: Arc<dyn VoteStore>,
    ledger: Option<Ledger>,
    choices: Choices,
    /// Recorded with each vote, so the ledger shows which instance took it.
    instance: String,
    /// Recorded with each vote, so a canary's votes can be told from the stable version's.
    version: &'static str,
}

impl Votes {
    /// Ties a store and an optional ledger to this instance's identity.
    pub fn new(
        store: Arc<dyn VoteStore>,
        ledger: Option<Ledger>,
        choices: Choices,
        instance: String,
    ) -> Self {
        Self { store, ledger, choices, instance, version: build_info::VERSION }
    }

    /// The configured choices.
    pub fn choices(&self) -> &Choices {
        &self.choices
    }

    /// The ledger, when one is configured.
    pub fn ledger(&self) -> Option<&Ledger> {
        self.ledger.as_ref()
    }

    /// The store, for `/ready`.
    pub fn store(&self) -> &dyn VoteStore {
        self.store.as_ref()
    }

    /// The current counts, restoring them from the ledger first if Redis lost them.
    pub async fn tally(&self) -> Result<Tally, StoreError> {
        let counts = match self.store.counts(&self.choices).await {
            Err(StoreError::NotSeeded) => {
                self.restore().await?;
                self.store.counts(&self.choices).await?
            }
            counts => counts?,
        };
        Ok(Tally::new(counts))
    }

    /// Counts one vote; returns once it is stored in the counters and, if configured, the ledger.
    pub async fn cast(&self, choice: &Choice) -> Result<(), StoreError> {
        let pending = match &self.ledger {
            Some(ledger) => Some(ledger.begin_vote(choice, &self.instance, self.version).await?),
            None => None,
        };
        match self.store.increment(choice).await {
            Err(StoreError::NotSeeded) => {
                self.restore().await?;
                self.store.increment(choice).await?;
            }
            incremented => incremented?,
        }
        match pending {
            Some(pending) => pending.commit().await,
            None => Ok(()),
        }
    }

    /// Sets every count to zero, recording the reset in the ledger so a later restore starts
    /// from it.
    pub async fn reset(&self) -> Result<(), StoreError> {
        let pending = match &self.ledger {
            Some(ledger) => Some(ledger.begin_reset(&self.instance).await?),
            None => None,
        };
        self.store.reset(&self.choices).await?;
        match pending {
            Some(pending) => pending.commit().await,
            None => Ok(()),
        }
    }

    /// Seeds empty counters from the ledger (or zeros without one). Several instances may get
    /// here at once after a Redis restart; the store lets exactly one seed win.
    async fn restore(&self) -> Result<(), StoreError> {
        let counts = match &self.ledger {
            Some(ledger) => ledger.totals(&self.choices).await?,
            None => self.choices.iter().map(|choice| (choice.clone(), 0)).collect(),
        };
        let seeded = self.store.seed(&counts).await?;
        let backend = self.store.backend();
        match (seeded, &self.ledger) {
            (true, Some(_)) => {
                let restored: u64 = counts.iter().map(|(_, votes)| votes).sum();
                tracing::warn!(restored, backend, "counters were empty: restored from the ledger");
            }
            (true, None) => tracing::info!(backend, "counters were empty: starting from zero"),
            (false, _) => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
