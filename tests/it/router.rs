//! The router in front of two vote-app containers sharing Redis and PostgreSQL: each request goes
//! to the upstream of the UTC minute it arrived in, and the ledger agrees.
//!
//! The router's clock cannot be pinned inside a container, so each request is bracketed by the
//! minute read just before sending and just after the answer: when both are the same minute, the
//! router's clock (the same host clock) read that minute too, and the upstream must match it. A
//! request straddling a minute boundary proves nothing and is left out.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::stack::{parity_of, spawn_routed_stack, unix_minute};

/// Time between two votes: a steady trickle, so the run crosses a minute boundary with plenty of
/// samples on both sides of it.
const PACE: Duration = Duration::from_millis(150);

/// Long enough to see both parities whatever second of the minute the test starts at.
const LONGEST_RUN: Duration = Duration::from_secs(150);

/// Checkable samples wanted on each parity.
const SAMPLES_PER_PARITY: u64 = 10;

#[tokio::test(flavor = "multi_thread")]
async fn every_response_comes_from_the_upstream_of_the_minute_it_was_routed_in_and_the_ledger_agrees()
 {
    let stack = spawn_routed_stack().await;
    let router = &stack.router().api;
    let mut acknowledged: BTreeMap<String, u64> = BTreeMap::new();
    let mut checked: BTreeMap<&str, u64> = BTreeMap::new();
    let mut straddling = 0;
    let started = Instant::now();
    let mut pace = tokio::time::interval(PACE);

    while checked.get("even").copied().unwrap_or(0) < SAMPLES_PER_PARITY
        || checked.get("odd").copied().unwrap_or(0) < SAMPLES_PER_PARITY
    {
        assert!(
            started.elapsed() < LONGEST_RUN,
            "both parities not seen in {LONGEST_RUN:?}: {checked:?}"
        );
        pace.tick().await;
        let before = unix_minute();
        let answer = router
            .vote(if before.is_multiple_of(3) { "Dogs" } else { "Cats" })
            .await
            .expect("an answer");
        let after = unix_minute();

        assert!(answer.status.is_success(), "a vote through the router: {answer:?}");
        let routed_to =
            answer.header("x-routed-to").expect("every response says where it went").to_owned();
        assert_eq!(answer.header("x-router-fallback"), None, "both upstreams are up: {answer:?}");
        if before == after {
            assert_eq!(
                routed_to,
                parity_of(before),
                "minute {before} belongs to {}",
                parity_of(before)
            );
            *checked.entry(parity_of(before)).or_default() += 1;
        } else {
            straddling += 1;
        }
        *acknowledged.entry(routed_to).or_default() += 1;
    }

    let total: u64 = acknowledged.values().sum();
    assert!(
        straddling * 10 <= total,
        "{straddling} of {total} samples straddled a minute boundary"
    );
    let ledger = router.ledger().await;
    for parity in ["even", "odd"] {
        let instance =
            stack.instances.iter().find(|instance| instance.name == parity).expect("an instance");
        assert_eq!(
            ledger.of(&instance.name),
            acknowledged.get(parity).copied().unwrap_or(0),
            "votes recorded by the {parity} instance: {ledger:?}"
        );
    }
    assert_eq!(router.votes().await.total, total, "both instances count into the same Redis");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_is_served_through_the_router_with_the_upstream_named() {
    let stack = spawn_routed_stack().await;

    let before = unix_minute();
    let answer = stack.router().api.get("/").await.expect("an answer");
    let after = unix_minute();

    assert_eq!(answer.status, reqwest::StatusCode::OK, "{answer:?}");
    assert!(
        answer.body.contains("Cats") && answer.body.contains("Dogs"),
        "the page shows both choices"
    );
    let routed_to = answer.header("x-routed-to").expect("the response says where it went");
    if before == after {
        assert_eq!(routed_to, parity_of(before));
    }
    let status = stack.router().status().await.expect("/router/status is JSON");
    assert!(status.upstreams.even.healthy && status.upstreams.odd.healthy, "{status:?}");
}

/// Live results stream through the router as the vote-app sends them (the router neither
/// buffers the stream nor times it out), and a page whose stream the router took to one instance
/// sees the votes cast on both: the instances share their changes through Redis.
#[tokio::test(flavor = "multi_thread")]
async fn live_results_stream_through_the_router_with_the_votes_cast_on_both_instances() {
    let stack = spawn_routed_stack().await;
    let url = format!("{}/live", stack.router().api.base());
    let mut stream = reqwest::get(url).await.expect("the router answers /live");
    assert_eq!(stream.status(), reqwest::StatusCode::OK);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");

    let mut buffer = String::new();
    let mut next_total = async move || -> u64 {
        loop {
            if let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                if let Some(data) = event.strip_prefix("event: tally\ndata: ") {
                    let tally: serde_json::Value =
                        serde_json::from_str(data.trim_end()).expect("a tally event holds JSON");
                    return tally["total"].as_u64().expect("a tally has a total");
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(5), stream.chunk()).await;
            let chunk = chunk.expect("an event within 5 s").expect("the stream reads");
            let chunk = chunk.expect("the stream goes on");
            buffer.push_str(std::str::from_utf8(&chunk).expect("events are UTF-8"));
        }
    };
    assert_eq!(next_total().await, 0);
    for (expected, instance) in [(1, &stack.instances[0]), (2, &stack.instances[1])] {
        let answer = instance.api.vote("Cats").await.expect("the instance answers");
        assert!(answer.status.is_success(), "{answer:?}");
        let mut total = next_total().await;
        while total < expected {
            total = next_total().await;
        }
        assert_eq!(total, expected, "the vote on {} reached the stream", instance.name);
    }
}
