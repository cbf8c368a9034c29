use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::choice::Choices;
use crate::store::MemoryStore;

fn votes() -> Votes {
    let choices = Choices::new("Cats", "Dogs").unwrap();
    Votes::new(Arc::new(MemoryStore::new()), None, choices, "test".to_owned())
}

async fn next(viewer: &mut Viewer) -> Arc<Tally> {
    let next = tokio::time::timeout(Duration::from_secs(2), viewer.next());
    next.await.expect("counts in time").expect("live results running")
}

#[tokio::test]
async fn a_viewer_gets_the_counts_at_once_then_each_change() {
    let votes = votes();
    let live = Live::start(&votes, 10);
    let mut viewer = live.viewer().unwrap();
    assert_eq!(next(&mut viewer).await.total, 0);
    let cats = votes.choices().parse("Cats").unwrap().clone();
    votes.cast(&cats).await.unwrap();
    assert_eq!(next(&mut viewer).await.total, 1);
    votes.reset().await.unwrap();
    assert_eq!(next(&mut viewer).await.total, 0);
}

#[tokio::test]
async fn a_later_viewer_starts_from_the_current_counts() {
    let votes = votes();
    let live = Live::start(&votes, 10);
    let mut first = live.viewer().unwrap();
    next(&mut first).await;
    let dogs = votes.choices().parse("Dogs").unwrap().clone();
    for _ in 0..3 {
        votes.cast(&dogs).await.unwrap();
    }
    let mut later = live.viewer().unwrap();
    let mut tally = next(&mut later).await;
    while tally.total < 3 {
        tally = next(&mut later).await;
    }
    assert_eq!(tally.choices[1].votes, 3);
}

#[tokio::test]
async fn viewers_are_bounded_and_a_dropped_one_frees_its_place() {
    let live = Live::start(&votes(), 2);
    let (first, _second) = (live.viewer().unwrap(), live.viewer().unwrap());
    assert!(live.viewer().is_none());
    drop(first);
    assert!(live.viewer().is_some());
}
