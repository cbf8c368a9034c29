//! Clients that keep voting and reading through the router while a test changes the stack,
//! counting every answer: a failure is any answer that is not a success, or no answer at all.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use crate::api::Api;

/// What the clients saw, summed over all of them.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) requests: u64,
    pub(crate) failures: u64,
    /// Votes answered with a success: each of them must be counted.
    pub(crate) acknowledged_votes: u64,
    /// The first few failures, for the test's message.
    pub(crate) samples: Vec<String>,
    pub(crate) elapsed: Duration,
}

impl Tally {
    fn add(&mut self, other: Self) {
        self.requests += other.requests;
        self.failures += other.failures;
        self.acknowledged_votes += other.acknowledged_votes;
        self.samples.extend(other.samples);
        self.samples.truncate(5);
    }

    fn failed(&mut self, what: String) {
        self.failures += 1;
        if self.samples.len() < 5 {
            self.samples.push(what);
        }
    }
}

/// Clients running until [`Load::stop`].
pub(crate) struct Load {
    stop: Arc<AtomicBool>,
    clients: Vec<JoinHandle<Tally>>,
    started: Instant,
}

/// What each client does in a loop.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mix {
    /// A vote, then `GET /api/votes`.
    VoteAndRead,
    /// `GET /` (the page), then `GET /api/votes`.
    ReadOnly,
}

impl Load {
    /// Starts `clients` clients against `base`, each with its own connections.
    pub(crate) fn start(base: &str, clients: usize, mix: Mix) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let clients = (0..clients)
            .map(|index| tokio::spawn(client(Api::new(base), index, mix, stop.clone())))
            .collect();
        Self { stop, clients, started: Instant::now() }
    }

    /// Stops the clients and sums what they saw.
    pub(crate) async fn stop(self) -> Tally {
        self.stop.store(true, Ordering::Relaxed);
        let mut total = Tally::default();
        for client in self.clients {
            total.add(client.await.expect("a load client finished"));
        }
        total.elapsed = self.started.elapsed();
        total
    }
}

async fn client(api: Api, index: usize, mix: Mix, stop: Arc<AtomicBool>) -> Tally {
    let mut tally = Tally::default();
    let choice = if index.is_multiple_of(2) { "Cats" } else { "Dogs" };
    while !stop.load(Ordering::Relaxed) {
        let first = match mix {
            Mix::VoteAndRead => api.vote(choice).await,
            Mix::ReadOnly => api.get("/").await,
        };
        tally.requests += 1;
        match first {
            Ok(answer) if answer.status.is_success() => {
                if matches!(mix, Mix::VoteAndRead) {
                    tally.acknowledged_votes += 1;
                }
            }
            Ok(answer) => tally.failed(format!("{} {}", answer.status, answer.body)),
            Err(error) => tally.failed(error.to_string()),
        }
        tally.requests += 1;
        match api.get("/api/votes").await {
            Ok(answer) if answer.status.is_success() => {}
            Ok(answer) => {
                tally.failed(format!("GET /api/votes: {} {}", answer.status, answer.body))
            }
            Err(error) => tally.failed(format!("GET /api/votes: {error}")),
        }
    }
    tally
}
