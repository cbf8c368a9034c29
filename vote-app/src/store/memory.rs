//! The embedded store: counters in process memory, so `cargo run -p vote-app` works with nothing
//! else installed. Counts vanish on restart and are not shared between instances.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{Counts, StoreError, VoteStore};
use crate::choice::{Choice, Choices};

/// Counters in a map behind a mutex; `None` until seeded, like an empty Redis.
#[derive(Debug, Default)]
pub struct MemoryStore {
    counters: Mutex<Option<HashMap<Choice, u64>>>,
}

impl MemoryStore {
    /// An empty, unseeded store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f` on the counters. A poisoned lock only means another request panicked while
    /// holding it; the map is still consistent (every update is a single insert), so go on.
    fn with_counters<T>(&self, f: impl FnOnce(&mut Option<HashMap<Choice, u64>>) -> T) -> T {
        let mut guard = self.counters.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }
}

#[async_trait]
impl VoteStore for MemoryStore {
    async fn increment(&self, choice: &Choice) -> Result<(), StoreError> {
        self.with_counters(|counters| {
            let counters = counters.as_mut().ok_or(StoreError::NotSeeded)?;
            *counters.entry(choice.clone()).or_default() += 1;
            Ok(())
        })
    }

    async fn counts(&self, choices: &Choices) -> Result<Counts, StoreError> {
        self.with_counters(|counters| {
            let counters = counters.as_ref().ok_or(StoreError::NotSeeded)?;
            let count = |choice: &Choice| counters.get(choice).copied().unwrap_or(0);
            Ok(choices.iter().map(|choice| (choice.clone(), count(choice))).collect())
        })
    }

    async fn seed(&self, counts: &Counts) -> Result<bool, StoreError> {
        Ok(self.with_counters(|counters| match counters {
            Some(_) => false,
            None => {
                *counters = Some(counts.iter().cloned().collect());
                true
            }
        }))
    }

    async fn reset(&self, choices: &Choices) -> Result<(), StoreError> {
        let zeros = choices.iter().map(|choice| (choice.clone(), 0)).collect();
        self.with_counters(|counters| *counters = Some(zeros));
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}
