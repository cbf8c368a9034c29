//! The task that records votes in batches: group commit.
//!
//! A PostgreSQL commit costs one fsync however many rows it holds, so votes are not written one by
//! one. Each waits in a queue, and the recorder takes everything waiting (at most [`MAX_BATCH`])
//! as one batch: one ledger statement, one step on the counters, then an answer to each vote. No
//! vote waits for a timer: a vote that finds the recorder idle is written at once, and the votes
//! arriving meanwhile form the next batch, so batches grow with the load and only with it.
//!
//! One batch at a time, from the ledger to the answers. Writing the next batch while one
//! commits was measured slower on two busy cores (the same votes in smaller batches, so more
//! commits), and two appends may commit in either order: a rebuild reading the later one's
//! number as this writer's last would count the earlier batch as held when it is not.

use std::sync::Arc;

use tokio::sync::{Notify, mpsc, oneshot};

use super::restore;
use crate::choice::{Choice, Choices};
use crate::ledger::Ledger;
use crate::store::{BackendError, Batch, Counts, VoteStore};

/// The most votes in one batch: bounds one ledger statement and the wait of its first vote.
const MAX_BATCH: usize = 256;

/// The most votes waiting; beyond it, casting waits for room (back pressure on the clients).
const QUEUE: usize = 4096;

/// One vote waiting for its batch, and where its answer goes.
#[derive(Debug)]
pub(super) struct Ballot {
    pub(super) choice: Choice,
    pub(super) answer: oneshot::Sender<Result<(), BackendError>>,
}

/// Writes batches to the ledger and the counters, one batch at a time.
#[derive(Debug)]
pub(super) struct Recorder {
    store: Arc<dyn VoteStore>,
    ledger: Option<Ledger>,
    choices: Choices,
    /// Recorded with each vote: which instance took it, and which version it ran.
    instance: String,
    version: &'static str,
    /// This process's name in the counters' record of batches: the instance and a random part,
    /// so a restarted instance, which numbers its batches from 1 again, is a new writer.
    writer: Arc<str>,
    /// The number of the last batch written.
    last: u64,
    /// The number of the last batch the counters took. If they hold an older one of this
    /// writer, they lost it (a failover to a replica behind its master); if a newer one, they
    /// counted a batch that was then refused and taken back out of the ledger (a rebuild read it
    /// there first, or an add ran but lost its answer). Either way they are rebuilt from the
    /// ledger. Only checked with a ledger: without one, nothing could rebuild them.
    last_counted: u64,
    /// A batch the ledger holds but the counters could not take: they take it before anything
    /// else, so they never miss a vote the ledger has.
    not_counted: Option<Batch>,
}

impl Recorder {
    pub(super) fn new(
        store: Arc<dyn VoteStore>,
        ledger: Option<Ledger>,
        choices: Choices,
        instance: &str,
        version: &'static str,
    ) -> Self {
        let random = uuid::Uuid::new_v4().simple().to_string();
        let writer = format!("{instance}/{}", &random[..12]).into();
        let instance = instance.to_owned();
        let (last, last_counted, not_counted) = (0, 0, None);
        Self { store, ledger, choices, instance, version, writer, last, last_counted, not_counted }
    }

    /// Starts recording on a task of its own; votes go in through the returned queue, and the
    /// task ends once every sender is dropped and the queue is empty. `changed` is notified
    /// after each batch counted.
    pub(super) fn start(self, changed: Arc<Notify>) -> mpsc::Sender<Ballot> {
        let (sender, queue) = mpsc::channel(QUEUE);
        tokio::spawn(self.run(queue, changed));
        sender
    }

    async fn run(mut self, mut queue: mpsc::Receiver<Ballot>, changed: Arc<Notify>) {
        let mut ballots = Vec::with_capacity(MAX_BATCH);
        while queue.recv_many(&mut ballots, MAX_BATCH).await > 0 {
            let result = self.record(&ballots).await;
            if result.is_ok() {
                changed.notify_one();
            }
            for ballot in ballots.drain(..) {
                // The voter may have gone; its vote is recorded all the same.
                let _ = ballot.answer.send(result.clone());
            }
        }
    }

    /// Writes one batch: the ledger first (so a restore from it can count the batch), then the
    /// counters, which skip a batch a restore already counted. When the counters fail, the batch
    /// is taken back out of the ledger, so its votes' 503 means "not counted"; should the
    /// counters hold it all the same, the next batch finds them ahead of [`Self::last_counted`]
    /// and rebuilds them from the ledger.
    async fn record(&mut self, ballots: &[Ballot]) -> Result<(), BackendError> {
        if let Some(batch) = self.not_counted.take()
            && let Err(error) = self.count(&batch).await
        {
            self.not_counted = Some(batch);
            return Err(error);
        }
        self.last += 1;
        let batch =
            Batch { writer: self.writer.clone(), number: self.last, counts: self.tally(ballots) };
        let Some(ledger) = self.ledger.clone() else {
            return self.count(&batch).await;
        };
        let appended = ledger.append(&batch, &self.instance, self.version).await?;
        let Err(error) = self.count(&batch).await else {
            return Ok(());
        };
        if ledger.remove(&batch, appended).await.is_err() {
            // Neither back end could finish the batch: the counters take it before the next
            // one, so they never miss a vote the ledger holds (its voters' 503 then means
            // "maybe counted").
            self.not_counted = Some(batch);
        }
        Err(error)
    }

    /// Adds `batch` to the counters, and tries once more when that fails for want of an
    /// answer: the command may have run all the same (its answer timed out under load, or the
    /// connection dropped after sending it). Adding a batch is idempotent, so the second try
    /// either adds it or finds it there; only a second failure refuses the batch's votes, which
    /// would otherwise be refused while counted.
    async fn count(&mut self, batch: &Batch) -> Result<(), BackendError> {
        match self.count_once(batch).await {
            Err(BackendError::Unavailable { .. }) => self.count_once(batch).await,
            counted => counted,
        }
    }

    /// Adds `batch` to the counters, rebuilding them from the ledger first if they are gone or
    /// hold another batch of this writer than the last it counted.
    async fn count_once(&mut self, batch: &Batch) -> Result<(), BackendError> {
        let last_held = self.ledger.is_some().then_some(self.last_counted);
        match self.store.add(batch, last_held).await {
            Err(BackendError::Lost) => {
                restore(self.store.as_ref(), self.ledger.as_ref(), &self.choices).await?;
                // Rebuilt: what the ledger says this writer added is now what the counters hold.
                self.store.add(batch, None).await?;
            }
            added => added?,
        }
        self.last_counted = batch.number;
        Ok(())
    }

    /// Votes per choice among `ballots`, choices without any left out.
    fn tally(&self, ballots: &[Ballot]) -> Counts {
        let votes_for = |choice: &Choice| ballots.iter().filter(|b| b.choice == *choice).count();
        let counts = self.choices.iter().map(|choice| (choice.clone(), votes_for(choice) as u64));
        counts.filter(|(_, votes)| *votes > 0).collect()
    }
}
