//! Many clients voting at once through the router: not one increment may be lost or doubled,
//! in Redis (the counts) or in PostgreSQL (the ledger).

use std::collections::BTreeMap;

use futures_util::future::join_all;

use crate::api::Api;
use crate::stack::spawn_routed_stack;

/// Clients voting at the same time, each with its own connection pool.
const CLIENTS: usize = 40;

/// Votes per client: 40 × 75 = 3,000 votes.
const VOTES_PER_CLIENT: usize = 75;

/// What one client had acknowledged: votes per choice and per upstream that answered.
#[derive(Debug, Default)]
struct Acknowledged {
    per_choice: BTreeMap<&'static str, u64>,
    per_upstream: BTreeMap<String, u64>,
    failures: Vec<String>,
}

/// A mix that differs per client, so that both choices race with each other.
fn choice_for(client: usize, vote: usize) -> &'static str {
    if (client * 7 + vote).is_multiple_of(3) { "Dogs" } else { "Cats" }
}

async fn run_client(api: Api, client: usize) -> Acknowledged {
    let mut acknowledged = Acknowledged::default();
    for vote in 0..VOTES_PER_CLIENT {
        let choice = choice_for(client, vote);
        match api.vote(choice).await {
            Ok(answer) if answer.status.is_success() => {
                *acknowledged.per_choice.entry(choice).or_default() += 1;
                let upstream = answer.header("x-routed-to").unwrap_or("unnamed").to_owned();
                *acknowledged.per_upstream.entry(upstream).or_default() += 1;
            }
            Ok(answer) => acknowledged.failures.push(format!("{} {}", answer.status, answer.body)),
            Err(error) => acknowledged.failures.push(error.to_string()),
        }
    }
    acknowledged
}

#[tokio::test(flavor = "multi_thread")]
async fn thousands_of_concurrent_votes_through_the_router_add_up_exactly() {
    let stack = spawn_routed_stack().await;
    let router = &stack.router().api;

    let clients =
        (0..CLIENTS).map(|client| tokio::spawn(run_client(Api::new(router.base()), client)));
    let mut total = Acknowledged::default();
    for result in join_all(clients).await {
        let client = result.expect("a client task does not panic");
        for (choice, n) in client.per_choice {
            *total.per_choice.entry(choice).or_default() += n;
        }
        for (upstream, n) in client.per_upstream {
            *total.per_upstream.entry(upstream).or_default() += n;
        }
        total.failures.extend(client.failures);
    }

    assert!(
        total.failures.is_empty(),
        "every vote is acknowledged: {:?}",
        &total.failures[..total.failures.len().min(5)]
    );
    let votes = router.votes().await;
    assert_eq!(votes.total, (CLIENTS * VOTES_PER_CLIENT) as u64);
    assert_eq!(
        (votes.of("Cats"), votes.of("Dogs")),
        (total.per_choice["Cats"], total.per_choice["Dogs"])
    );
    let ledger = router.ledger().await;
    for instance in &stack.instances {
        let answered = total.per_upstream.get(&instance.name).copied().unwrap_or(0);
        assert_eq!(
            ledger.of(&instance.name),
            answered,
            "ledger rows of {}: {ledger:?}",
            instance.name
        );
    }
}
