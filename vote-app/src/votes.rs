//! Casting, counting and resetting votes: the rules that tie the counters to the ledger.
//!
//! Votes are written in batches (see [`recorder`]): every vote waiting while the previous batch
//! was written goes into the next one, appended to the ledger in one statement (one fsync for
//! all), then added to the counters in one step; each vote is acknowledged once both hold it.
//! When PostgreSQL fails, a batch's votes get a 503 and none is counted. When Redis fails after
//! the ledger took them (twice: a command whose answer was lost may have run, so the batch is
//! tried once more), they are taken back out of the ledger and get a 503 too; only if that
//! fails as well do they stay, and the counters take them before the next batch. The counters
//! may hold a refused batch all the same (a rebuild read the ledger while it was there, or the
//! add ran twice unanswered): the next batch finds them holding a batch of this instance it
//! never saw counted, and rebuilds them from the ledger, which no longer has it.
//!
//! Reads of the counts are shared the same way (see [`reads`]): the pages waiting when a read
//! starts all get its answer, and none gets counts older than its request.

use std::sync::Arc;

use serde::Serialize;

use tokio::sync::{Notify, mpsc, oneshot};

use crate::build_info;
use crate::choice::{Choice, Choices};
use crate::ledger::Ledger;
use crate::store::{BackendError, Counts, Snapshot, VoteStore};

mod reads;
mod recorder;

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

/// The voting service: the counters, the optional ledger, and the task that records votes.
#[derive(Debug, Clone)]
pub struct Votes {
    store: Arc<dyn VoteStore>,
    ledger: Option<Ledger>,
    choices: Choices,
    /// Recorded with a reset, so the ledger shows which instance asked for it.
    instance: String,
    /// Where votes wait for the next batch.
    ballots: mpsc::Sender<recorder::Ballot>,
    /// Where requests for the counts wait for the next shared read.
    reads: mpsc::Sender<reads::Answer>,
    /// Notified whenever the counters change (a batch counted, a reset): live results read
    /// them again.
    changed: Arc<Notify>,
}

impl Votes {
    /// Ties a store and an optional ledger to this instance's identity, and starts the task
    /// that records votes (it ends when the last clone of this is dropped).
    pub fn new(
        store: Arc<dyn VoteStore>,
        ledger: Option<Ledger>,
        choices: Choices,
        instance: String,
    ) -> Self {
        let changed = Arc::new(Notify::new());
        let recorder = recorder::Recorder::new(
            store.clone(),
            ledger.clone(),
            choices.clone(),
            &instance,
            build_info::VERSION,
        );
        let ballots = recorder.start(changed.clone());
        let reads = reads::start(store.clone(), ledger.clone(), choices.clone());
        Self { store, ledger, choices, instance, ballots, reads, changed }
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

    /// Notified whenever the counters change, by this instance or (while
    /// [`Votes::watch_others`] runs) another.
    pub fn changes(&self) -> &Arc<Notify> {
        &self.changed
    }

    /// Passes on to [`Votes::changes`] the changes other instances make, for as long as it runs.
    pub async fn watch_others(&self) {
        self.store.watch(self.changed.clone()).await;
    }

    /// The current counts, rebuilding them from the ledger first if Redis lost them: read after
    /// this call, shared with the other requests waiting then ([`reads`]).
    pub async fn tally(&self) -> Result<Tally, BackendError> {
        let (answer, answered) = oneshot::channel();
        self.reads.send(answer).await.map_err(|_| self.stopping())?;
        answered.await.map_err(|_| self.stopping())?
    }

    /// Counts one vote; returns once its batch is stored in the ledger, if configured, and in
    /// the counters.
    pub async fn cast(&self, choice: &Choice) -> Result<(), BackendError> {
        let (answer, answered) = oneshot::channel();
        let ballot = recorder::Ballot { choice: choice.clone(), answer };
        self.ballots.send(ballot).await.map_err(|_| self.stopping())?;
        answered.await.map_err(|_| self.stopping())?
    }

    /// What a request gets when the tasks that read and record have stopped with the app.
    fn stopping(&self) -> BackendError {
        BackendError::unavailable(self.store.backend(), "the app is stopping")
    }

    /// Sets every count to zero, recording the reset in the ledger first so a later restore
    /// starts from it. If the counters then fail, the admin's retry records a second reset,
    /// which changes nothing.
    pub async fn reset(&self) -> Result<(), BackendError> {
        if let Some(ledger) = &self.ledger {
            ledger.reset(&self.instance).await?;
        }
        self.store.reset(&self.choices).await?;
        self.changed.notify_one();
        Ok(())
    }
}

/// How many ledger snapshots a rebuild tries before it replaces the counters regardless.
const REBUILD_ATTEMPTS: u32 = 3;

/// Rebuilds lost counters from the ledger (or from zeros without one). Several instances may get
/// here at once: a rebuild from a snapshot older than a batch another instance added meanwhile
/// is refused and tried again with a fresh snapshot. With a ledger, the last attempt replaces
/// the counters regardless: a writer whose batch that undoes sees it at its next batch and
/// rebuilds again. Without one, a refused rebuild means another instance seeded the counters.
async fn restore(
    store: &dyn VoteStore,
    ledger: Option<&Ledger>,
    choices: &Choices,
) -> Result<(), BackendError> {
    let backend = store.backend();
    for attempt in 1..=REBUILD_ATTEMPTS {
        let snapshot = match ledger {
            Some(ledger) => ledger.snapshot(choices).await?,
            None => {
                let counts = choices.iter().map(|choice| (choice.clone(), 0)).collect();
                Snapshot { counts, batches: Vec::new() }
            }
        };
        let force = ledger.is_some() && attempt == REBUILD_ATTEMPTS;
        if store.rebuild(&snapshot, force).await? {
            let restored: u64 = snapshot.counts.iter().map(|(_, votes)| votes).sum();
            match ledger {
                Some(_) => tracing::warn!(restored, backend, "counters rebuilt from the ledger"),
                None => tracing::info!(backend, "counters were empty: starting from zero"),
            }
            return Ok(());
        }
        if ledger.is_none() {
            return Ok(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
