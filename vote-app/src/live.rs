//! Live results: every open page sees every vote, cast on any instance, within a second.
//!
//! Each instance keeps the latest counts for all its viewers in one place, and reads them again
//! only when the counters change: on this instance (a batch counted, a reset) or on another
//! (the store's change feed: Redis pub/sub). However many votes arrive and however many pages
//! watch, an instance reads the counts at most once per [`MIN_INTERVAL`], and not at all while
//! nobody watches. Each viewer is one stream (`GET /live`, see [`crate::routes`]), and an
//! instance serves at most `LIVE_STREAMS` of them at once.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinHandle;

use crate::votes::{Tally, Votes};

/// The shortest time between two reads of the counts, so a burst of votes costs viewers one
/// read, not one per batch.
pub const MIN_INTERVAL: Duration = Duration::from_millis(250);

/// While someone watches, the counts are read at least this often even without a change
/// announced: a vote cast elsewhere while the store's change feed was reconnecting shows up.
const REFRESH_EVERY: Duration = Duration::from_secs(15);

/// The latest counts shared by every viewer: `None` until read, and while nobody watches (the
/// counts are not followed then, so they would be stale).
type Latest = watch::Sender<Option<Arc<Tally>>>;

/// Live results of one instance; cheap to clone. The tasks behind it stop when the last clone
/// is dropped.
#[derive(Debug, Clone)]
pub struct Live {
    latest: Latest,
    changed: Arc<Notify>,
    streams: Arc<Semaphore>,
    _tasks: Arc<Tasks>,
}

impl Live {
    /// Starts following the counts of `votes` for at most `max_streams` viewers at once.
    pub fn start(votes: &Votes, max_streams: usize) -> Self {
        let latest = Latest::new(None);
        let changed = votes.changes().clone();
        let others = votes.clone();
        let tasks = Tasks(vec![
            tokio::spawn(follow(votes.clone(), latest.clone())),
            tokio::spawn(async move { others.watch_others().await }),
        ]);
        let streams = Arc::new(Semaphore::new(max_streams));
        Self { latest, changed, streams, _tasks: Arc::new(tasks) }
    }

    /// A new viewer, or `None` when this instance already serves its most.
    pub fn viewer(&self) -> Option<Viewer> {
        let permit = self.streams.clone().try_acquire_owned().ok()?;
        let mut latest = self.latest.subscribe();
        // Its first counts: the latest if known, else fresh ones, read at once.
        latest.mark_changed();
        self.changed.notify_one();
        Some(Viewer { latest, _permit: permit })
    }
}

/// One page following the counts; dropping it frees its place.
#[derive(Debug)]
pub struct Viewer {
    latest: watch::Receiver<Option<Arc<Tally>>>,
    _permit: OwnedSemaphorePermit,
}

impl Viewer {
    /// The counts, as soon as they differ from the last ones this viewer got (the first call:
    /// as soon as they are known).
    pub async fn next(&mut self) -> Option<Arc<Tally>> {
        loop {
            self.latest.changed().await.ok()?;
            if let Some(tally) = self.latest.borrow_and_update().clone() {
                return Some(tally);
            }
        }
    }
}

/// Reads the counts each time they change while someone watches, and shares them.
async fn follow(votes: Votes, latest: Latest) {
    let changed = votes.changes().clone();
    loop {
        tokio::select! {
            () = changed.notified() => {}
            () = tokio::time::sleep(REFRESH_EVERY) => {}
        }
        if latest.receiver_count() == 0 {
            latest.send_replace(None);
            continue;
        }
        match votes.tally().await {
            Ok(tally) => {
                latest.send_if_modified(|known| {
                    let modified = known.as_deref() != Some(&tally);
                    if modified {
                        *known = Some(Arc::new(tally));
                    }
                    modified
                });
            }
            // The page's own requests report an outage; viewers keep the last counts.
            Err(error) => {
                let error = crate::error::error_chain(&error);
                tracing::debug!(%error, "live results: counts unavailable");
            }
        }
        tokio::time::sleep(MIN_INTERVAL).await;
    }
}

/// The background tasks, stopped when dropped.
#[derive(Debug)]
struct Tasks(Vec<JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        self.0.iter().for_each(JoinHandle::abort);
    }
}

#[cfg(test)]
mod tests;
