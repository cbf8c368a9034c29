use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicBool, AtomicUsize};

use super::*;
use crate::store::MemoryStore;

fn votes() -> Votes {
    let choices = Choices::new("Cats", "Dogs").unwrap();
    Votes::new(Arc::new(MemoryStore::new()), None, choices, "test".to_owned())
}

fn counts(tally: &Tally) -> Vec<(&str, u64, u64)> {
    tally.choices.iter().map(|line| (line.name.as_str(), line.votes, line.percent)).collect()
}

#[test]
fn shares_are_rounded_percentages_of_the_total() {
    let choices = Choices::new("Cats", "Dogs").unwrap();
    let [cats, dogs]: [Choice; 2] =
        [choices.parse("Cats").unwrap().clone(), choices.parse("Dogs").unwrap().clone()];
    let tally = Tally::new(vec![(cats.clone(), 2), (dogs.clone(), 1)]);
    assert_eq!(tally.total, 3);
    assert_eq!(counts(&tally), [("Cats", 2, 67), ("Dogs", 1, 33)]);
    let empty = Tally::new(vec![(cats, 0), (dogs, 0)]);
    assert_eq!(counts(&empty), [("Cats", 0, 0), ("Dogs", 0, 0)]);
}

#[tokio::test]
async fn a_fresh_store_counts_zero_then_each_vote() {
    let votes = votes();
    assert_eq!(votes.tally().await.unwrap().total, 0);
    let cats = votes.choices().parse("Cats").unwrap().clone();
    votes.cast(&cats).await.unwrap();
    votes.cast(&cats).await.unwrap();
    assert_eq!(counts(&votes.tally().await.unwrap()), [("Cats", 2, 100), ("Dogs", 0, 0)]);
}

#[tokio::test]
async fn reset_sets_every_count_to_zero() {
    let votes = votes();
    let dogs = votes.choices().parse("Dogs").unwrap().clone();
    votes.cast(&dogs).await.unwrap();
    votes.reset().await.unwrap();
    assert_eq!(votes.tally().await.unwrap().total, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_votes_are_all_counted() {
    let votes = votes();
    let tasks: Vec<_> = (0..500)
        .map(|index| {
            let votes = votes.clone();
            tokio::spawn(async move {
                let name = if index % 5 == 0 { "Dogs" } else { "Cats" };
                let choice = votes.choices().parse(name).unwrap().clone();
                votes.cast(&choice).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(counts(&votes.tally().await.unwrap()), [("Cats", 400, 80), ("Dogs", 100, 20)]);
}

/// The memory store behaving as Redis does under load or in trouble, as each test asks.
#[derive(Debug, Default)]
struct Troubled {
    store: MemoryStore,
    /// Reads take 50 ms, as with a Redis under load.
    slow_reads: bool,
    reads: AtomicUsize,
    /// The first add is made but its answer lost, as when a command's answer times out.
    loses_first_answer: bool,
    added: AtomicBool,
}

#[async_trait::async_trait]
impl VoteStore for Troubled {
    async fn add(
        &self,
        batch: &crate::store::Batch,
        last: Option<u64>,
    ) -> Result<(), BackendError> {
        self.store.add(batch, last).await?;
        let first = !self.added.swap(true, SeqCst);
        if first && self.loses_first_answer {
            return Err(BackendError::unavailable("redis", "response timed out"));
        }
        Ok(())
    }
    async fn counts(&self, choices: &Choices) -> Result<Counts, BackendError> {
        self.reads.fetch_add(1, SeqCst);
        if self.slow_reads {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.store.counts(choices).await
    }
    async fn rebuild(&self, snapshot: &Snapshot, force: bool) -> Result<bool, BackendError> {
        self.store.rebuild(snapshot, force).await
    }
    async fn reset(&self, choices: &Choices) -> Result<(), BackendError> {
        self.store.reset(choices).await
    }
    async fn watch(&self, changed: Arc<tokio::sync::Notify>) {
        self.store.watch(changed).await;
    }
    async fn ping(&self) -> Result<(), BackendError> {
        self.store.ping().await
    }
    fn backend(&self) -> &'static str {
        "troubled"
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pages_waiting_together_share_one_read_and_none_sees_counts_older_than_its_request() {
    let store = Arc::new(Troubled { slow_reads: true, ..Troubled::default() });
    let choices = Choices::new("Cats", "Dogs").unwrap();
    let votes = Votes::new(store.clone(), None, choices, "test".to_owned());
    let cats = votes.choices().parse("Cats").unwrap().clone();
    votes.cast(&cats).await.unwrap();
    let reads_before = store.reads.load(SeqCst);

    let pages: Vec<_> = (0..200)
        .map(|_| {
            let votes = votes.clone();
            tokio::spawn(async move { votes.tally().await })
        })
        .collect();
    // A vote acknowledged while those pages wait: a page asked for after it must show it.
    votes.cast(&cats).await.unwrap();
    let after_the_vote = votes.tally().await.unwrap();
    for page in pages {
        assert!(page.await.unwrap().unwrap().total >= 1);
    }
    assert_eq!(after_the_vote.total, 2, "read-your-writes");
    let reads = store.reads.load(SeqCst) - reads_before;
    assert!(reads <= 4, "201 page loads took {reads} reads");
}

#[tokio::test]
async fn a_vote_whose_count_ran_but_lost_its_answer_is_acknowledged_and_counted_once() {
    let store = Arc::new(Troubled { loses_first_answer: true, ..Troubled::default() });
    let choices = Choices::new("Cats", "Dogs").unwrap();
    let votes = Votes::new(store, None, choices, "test".to_owned());
    let cats = votes.choices().parse("Cats").unwrap().clone();
    votes.cast(&cats).await.expect("the vote is counted, so it is acknowledged");
    assert_eq!(counts(&votes.tally().await.unwrap()), [("Cats", 1, 100), ("Dogs", 0, 0)]);
}
