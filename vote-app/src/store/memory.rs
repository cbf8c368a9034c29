//! The embedded store: counters in process memory, so `cargo run -p vote-app` works with nothing
//! else installed. Counts vanish on restart and are not shared between instances.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::Notify;

use super::{BackendError, Batch, Counts, Snapshot, VoteStore};
use crate::choice::{Choice, Choices};

/// Counters in a map behind a mutex; `None` until seeded, like an empty Redis.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    counters: Option<HashMap<Choice, u64>>,
    /// Each writer's last batch added.
    batches: HashMap<String, u64>,
}

impl MemoryStore {
    /// An empty, unseeded store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f` on the state. A poisoned lock only means another request panicked while holding
    /// it; the state is still consistent (no update can stop halfway), so go on.
    fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut guard = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }
}

#[async_trait]
impl VoteStore for MemoryStore {
    async fn add(&self, batch: &Batch, last_held: Option<u64>) -> Result<(), BackendError> {
        self.with_state(|State { counters, batches }| {
            let counters = counters.as_mut().ok_or(BackendError::Lost)?;
            let held = batches.entry(batch.writer.to_string()).or_default();
            if *held >= batch.number {
                return Ok(());
            }
            if last_held.is_some_and(|last_held| *held != last_held) {
                return Err(BackendError::Lost);
            }
            *held = batch.number;
            for (choice, votes) in &batch.counts {
                *counters.entry(choice.clone()).or_default() += votes;
            }
            Ok(())
        })
    }

    async fn counts(&self, choices: &Choices) -> Result<Counts, BackendError> {
        self.with_state(|state| {
            let counters = state.counters.as_ref().ok_or(BackendError::Lost)?;
            let count = |choice: &Choice| counters.get(choice).copied().unwrap_or(0);
            Ok(choices.iter().map(|choice| (choice.clone(), count(choice))).collect())
        })
    }

    async fn rebuild(&self, snapshot: &Snapshot, force: bool) -> Result<bool, BackendError> {
        Ok(self.with_state(|state| {
            let in_snapshot = |writer: &String| {
                let last = snapshot.batches.iter().find(|(name, _)| name == writer);
                last.map_or(0, |(_, last)| *last)
            };
            let newer = state.batches.iter().any(|(writer, held)| *held > in_snapshot(writer));
            if state.counters.is_some() && newer && !force {
                return false;
            }
            state.counters = Some(snapshot.counts.iter().cloned().collect());
            state.batches = snapshot.batches.iter().cloned().collect();
            true
        }))
    }

    async fn reset(&self, choices: &Choices) -> Result<(), BackendError> {
        let zeros = choices.iter().map(|choice| (choice.clone(), 0)).collect();
        self.with_state(|state| state.counters = Some(zeros));
        Ok(())
    }

    /// One process, one store: this instance's own changes are all there are.
    async fn watch(&self, _changed: Arc<Notify>) {}

    async fn ping(&self) -> Result<(), BackendError> {
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}
