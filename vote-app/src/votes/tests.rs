use std::sync::Arc;

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
