//! The course's Swarm exercises, each on a stack of its own, measured.
//!
//! The router sends a minute's traffic to one service (`vote-even` or `vote-odd`), so every
//! change is applied to both: whatever minute the test runs in, the load goes through the
//! service being changed.

use std::collections::BTreeSet;
use std::time::Instant;

use super::cluster::{Stack, docker};
use super::load::{Load, Mix, Tally};
use crate::poll::{self, DEADLINE};

pub(super) const SERVICES: [&str; 2] = ["vote-even", "vote-odd"];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_stack_comes_up_and_counts_a_vote_through_the_router() {
    let stack = Stack::deploy().await;
    let answer = stack.router.vote("Cats").await.expect("a vote through the router is answered");
    assert!(answer.status.is_success(), "{answer:?}");
    assert_eq!(stack.router.votes().await.of("Cats"), 1);
    // The vote-apps reached Redis and PostgreSQL with the passwords of the secret files.
    let ledger = stack.router.ledger().await;
    assert_eq!(ledger.instances.iter().map(|count| count.votes).sum::<u64>(), 1, "{ledger:?}");
    println!("one vote counted by {:?}", ledger.instances);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rolling_update_under_load_fails_no_request_and_loses_no_vote() {
    let mut stack = Stack::deploy().await;
    let tag = format!("{}-next", stack.name);
    let tag = stack.derive_app_image(&tag, "LABEL org.example.vote.release=next").await;
    let load = Load::start(stack.router.base(), 8, Mix::VoteAndRead);
    let started = Instant::now();
    let (even, odd) = upgrade_both(&stack, &tag).await;
    let converged = started.elapsed();
    let tally = load.stop().await;
    even.expect("vote-even is updated");
    odd.expect("vote-odd is updated");
    report("rolling update of both services", &tally, converged);
    assert_no_failures(&stack, &tally).await;
    let new_image = format!("{}:{tag}", image_name(stack.app_image()));
    for service in SERVICES {
        stack.wait_for_healthy(&stack.service(service), 2, Some(&new_image)).await;
    }
    // `/version` reports the compiled version, which a relabelled image does not change: the
    // new release is proven by the image every task runs.
    println!("every task of both services runs {new_image}");
    assert_eq!(stack.router.votes().await.total, tally.acknowledged_votes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_release_that_never_becomes_healthy_is_rolled_back_automatically() {
    let mut stack = Stack::deploy().await;
    // A choice the app refuses at start: every task of this release exits with an error.
    let tag = format!("{}-broken", stack.name);
    let tag = stack.derive_app_image(&tag, "ENV VOTE1VALUE=reset").await;
    let load = Load::start(stack.router.base(), 8, Mix::VoteAndRead);
    let started = Instant::now();
    let (even, odd) = upgrade_both(&stack, &tag).await;
    let converged = started.elapsed();
    let tally = load.stop().await;
    for (service, result) in SERVICES.into_iter().zip([even, odd]) {
        let failure = result.expect_err("the upgrade to a broken release reports failure");
        assert!(failure.contains("rollback_completed"), "{service}: {failure}");
        stack.wait_for_healthy(&stack.service(service), 2, Some(stack.app_image())).await;
    }
    report("broken release rolled back on both services", &tally, converged);
    assert_no_failures(&stack, &tally).await;
    assert_eq!(stack.router.votes().await.total, tally.acknowledged_votes);
}

/// Readers only: a GET in flight on the killed task's connection is sent again to the other
/// upstream by the router (a bodiless request is safe to replay), so no reader sees the kill.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_task_is_replaced_and_readers_see_no_failure() {
    const CLIENTS: usize = 8;
    let stack = Stack::deploy().await;
    let load = Load::start(stack.router.base(), CLIENTS, Mix::ReadOnly);
    let started = Instant::now();
    // One service at a time: while a task of the minute's service is gone, the router can
    // still send a new request to the other service.
    for service in SERVICES {
        let service = stack.service(service);
        let (killed, _, _) = stack.containers(&service).await.remove(0);
        docker(&["kill", &killed]).await;
        stack.wait_for_healthy(&service, 2, None).await;
        let running = stack.containers(&service).await;
        assert!(running.iter().all(|(id, _, _)| *id != killed), "{running:?}");
        println!("{service}: killed {killed}, replaced in {:.1?}", started.elapsed());
    }
    let converged = started.elapsed();
    let tally = load.stop().await;
    report("one task of each service killed and replaced, in turn", &tally, converged);
    assert_no_failures(&stack, &tally).await;
    // Once both tasks are replaced, a thousand reads in a row all succeed.
    for read in 0..1000 {
        let answer = stack.router.get("/api/votes").await.expect("a read is answered");
        assert!(answer.status.is_success(), "read {read} after the replacement: {answer:?}");
    }
    println!("1000 reads after the replacement: 0 failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scaling_to_five_gives_five_healthy_tasks_that_the_chart_shows() {
    let stack = Stack::deploy().await;
    let started = Instant::now();
    let targets: Vec<String> = SERVICES.iter().map(|s| format!("{}=5", stack.service(s))).collect();
    let mut args = vec!["service", "scale", "--detach=false"];
    args.extend(targets.iter().map(String::as_str));
    docker(&args).await;
    for service in SERVICES {
        stack.wait_for_healthy(&stack.service(service), 5, None).await;
    }
    let converged = started.elapsed();
    // Many clients at once make the router open many connections, each to the task the name
    // resolves to first at that moment, until the ledger has heard from all five of a service.
    let load = Load::start(stack.router.base(), 16, Mix::VoteAndRead);
    let instances = poll::until("votes from five tasks of one service", DEADLINE, || async {
        let ledger = stack.router.ledger().await;
        let names: BTreeSet<String> = ledger.instances.iter().map(|c| c.instance.clone()).collect();
        SERVICES
            .iter()
            .map(|service| stack.service(service))
            .map(|service| names.iter().filter(|n| n.starts_with(&service)).cloned().collect())
            .find(|of_one: &BTreeSet<String>| of_one.len() == 5)
            .ok_or(format!("{names:?}"))
    })
    .await;
    let tally = load.stop().await;
    report("scaled to 5 tasks per service", &tally, converged);
    assert_no_failures(&stack, &tally).await;
    let chart = stack.router.get("/results").await.expect("GET /results is answered");
    for instance in &instances {
        assert!(chart.body.contains(instance.as_str()), "/results does not show {instance}");
    }
    println!("the ledger and /results show {instances:?}");
}

/// `ci/swarm.sh upgrade` of both vote-app services at once.
async fn upgrade_both(
    stack: &Stack,
    tag: &str,
) -> (Result<String, String>, Result<String, String>) {
    let (even, odd) = (["upgrade", "vote-even", tag], ["upgrade", "vote-odd", tag]);
    tokio::join!(stack.swarm_sh(&even), stack.swarm_sh(&odd))
}

pub(super) fn image_name(image: &str) -> &str {
    image.rsplit_once(':').map_or(image, |(name, _)| name)
}

pub(super) fn report(what: &str, tally: &Tally, converged: std::time::Duration) {
    println!(
        "{what}: converged in {converged:.1?}; {} requests in {:.1?}, {} failed, {} votes acknowledged",
        tally.requests, tally.elapsed, tally.failures, tally.acknowledged_votes
    );
}

pub(super) async fn assert_no_failures(stack: &Stack, tally: &Tally) {
    assert!(tally.requests > 0, "the load made no request");
    if tally.failures > 0 {
        panic!(
            "{} failed requests, first ones: {:?}\nthe router's log lines of failed requests:\n{}",
            tally.failures,
            tally.samples,
            stack.router_errors().await.join("\n")
        );
    }
}
