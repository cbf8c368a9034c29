//! Reads of the counts, shared: every page waiting for the counts when a read starts gets that
//! read's answer, so under load one Redis round trip serves many pages.
//!
//! A page is never shown counts older than its request: a read answers only the requests that
//! were waiting when it started, so it sees every vote acknowledged before them (a voter's own
//! vote, after the redirect, included). Requests arriving during a read wait for the next one.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::{Tally, restore};
use crate::choice::Choices;
use crate::ledger::Ledger;
use crate::store::{BackendError, VoteStore};

/// The most requests one read answers.
const MAX_SHARED: usize = 1024;

/// The most requests waiting; beyond it, asking waits for room.
const QUEUE: usize = 4096;

/// Where one request's counts go.
pub(super) type Answer = oneshot::Sender<Result<Tally, BackendError>>;

/// Starts the task that reads for waiting requests; it ends once every sender is dropped.
pub(super) fn start(
    store: Arc<dyn VoteStore>,
    ledger: Option<Ledger>,
    choices: Choices,
) -> mpsc::Sender<Answer> {
    let (sender, requests) = mpsc::channel(QUEUE);
    tokio::spawn(read_for_all(store, ledger, choices, requests));
    sender
}

async fn read_for_all(
    store: Arc<dyn VoteStore>,
    ledger: Option<Ledger>,
    choices: Choices,
    mut requests: mpsc::Receiver<Answer>,
) {
    let mut waiting = Vec::with_capacity(MAX_SHARED);
    while requests.recv_many(&mut waiting, MAX_SHARED).await > 0 {
        let tally = read(store.as_ref(), ledger.as_ref(), &choices).await;
        for answer in waiting.drain(..) {
            // The page may have gone; the others still want the counts.
            let _ = answer.send(tally.clone());
        }
    }
}

/// The current counts, rebuilding them from the ledger first if Redis lost them.
async fn read(
    store: &dyn VoteStore,
    ledger: Option<&Ledger>,
    choices: &Choices,
) -> Result<Tally, BackendError> {
    let counts = match store.counts(choices).await {
        Err(BackendError::Lost) => {
            restore(store, ledger, choices).await?;
            store.counts(choices).await?
        }
        counts => counts?,
    };
    Ok(Tally::new(counts))
}
