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
