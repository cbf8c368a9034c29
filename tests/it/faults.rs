//! Failure paths by sabotage: stop a container while traffic flows, check the service degrades
//! the way it promises, start it again, check it recovers by itself.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::api::Api;
use crate::poll::{self, DEADLINE};
use crate::stack::{parity_of, spawn_routed_stack, spawn_stack, unix_minute, wait_until_ready};

/// Time between two requests of a background client.
const PACE: Duration = Duration::from_millis(50);

/// What a background client saw: statuses, and which votes the service acknowledged.
#[derive(Debug, Default)]
struct Seen {
    statuses: BTreeMap<u16, u64>,
    acknowledged: BTreeMap<&'static str, u64>,
    /// Each GET answered through a router.
    routes: Vec<Route>,
}

/// Where the router sent one GET.
#[derive(Debug)]
struct Route {
    /// When the request was sent.
    sent: Instant,
    /// `X-Routed-To`.
    routed_to: Option<String>,
    /// `X-Router-Fallback: true`.
    fallback: bool,
    /// The UTC minute just before sending and just after the answer.
    minutes: (u64, u64),
}

impl Seen {
    fn count(&self, status: StatusCode) -> u64 {
        self.statuses.get(&status.as_u16()).copied().unwrap_or(0)
    }

    fn acknowledged_total(&self) -> u64 {
        self.acknowledged.values().sum()
    }
}

/// A client running in the background until [`Traffic::stop`]; `seen` is readable meanwhile.
struct Traffic {
    seen: Arc<Mutex<Seen>>,
    running: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

impl Traffic {
    /// Votes Cats, Dogs, Cats… and records each answer.
    fn votes(api: Api) -> Self {
        Self::spawn(move |seen, turn| {
            let api = api.clone();
            async move {
                let choice = if turn % 2 == 0 { "Cats" } else { "Dogs" };
                let Ok(answer) = api.vote(choice).await else { return };
                let mut seen = seen.lock().await;
                *seen.statuses.entry(answer.status.as_u16()).or_default() += 1;
                if answer.status.is_success() {
                    *seen.acknowledged.entry(choice).or_default() += 1;
                }
            }
        })
    }

    /// GETs the page and the counts alternately, recording where each was routed.
    fn reads(api: Api) -> Self {
        Self::spawn(move |seen, turn| {
            let api = api.clone();
            async move {
                let (sent, before) = (Instant::now(), unix_minute());
                let answer = api.get(if turn % 2 == 0 { "/" } else { "/api/votes" }).await;
                let after = unix_minute();
                let mut seen = seen.lock().await;
                let Ok(answer) = answer else {
                    *seen.statuses.entry(0).or_default() += 1;
                    return;
                };
                *seen.statuses.entry(answer.status.as_u16()).or_default() += 1;
                seen.routes.push(Route {
                    sent,
                    routed_to: answer.header("x-routed-to").map(str::to_owned),
                    fallback: answer.header("x-router-fallback") == Some("true"),
                    minutes: (before, after),
                });
            }
        })
    }

    fn spawn<F, Fut>(mut request: F) -> Self
    where
        F: FnMut(Arc<Mutex<Seen>>, u64) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let running = Arc::new(AtomicBool::new(true));
        let (task_seen, task_running) = (seen.clone(), running.clone());
        let task = tokio::spawn(async move {
            let mut pace = tokio::time::interval(PACE);
            let mut turn = 0;
            while task_running.load(Ordering::Relaxed) {
                pace.tick().await;
                request(task_seen.clone(), turn).await;
                turn += 1;
            }
        });
        Self { seen, running, task }
    }

    /// Waits until `condition` holds for what was seen so far.
    async fn wait_for(&self, what: &str, condition: impl Fn(&Seen) -> bool) {
        poll::until(what, DEADLINE, || async {
            let seen = self.seen.lock().await;
            if condition(&seen) { Ok(()) } else { Err(format!("{seen:?}")) }
        })
        .await;
    }

    /// Stops the client after its request in flight, and returns everything it saw.
    async fn stop(self) -> Seen {
        self.running.store(false, Ordering::Relaxed);
        self.task.await.expect("the background client does not panic");
        Arc::try_unwrap(self.seen).expect("the client is done").into_inner()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stopping_redis_mid_run_gives_503s_and_a_failing_ready_then_recovery_loses_no_acknowledged_vote()
 {
    let stack = spawn_stack().await;
    let app = stack.app();
    let traffic = Traffic::votes(app.api.clone());
    traffic.wait_for("some acknowledged votes", |seen| seen.acknowledged_total() >= 20).await;

    stack.redis.stop().await.expect("Redis stops");
    poll::until("/ready to fail while Redis is down", DEADLINE, || async {
        match app.api.status_of("/ready").await? {
            StatusCode::SERVICE_UNAVAILABLE => Ok(()),
            other => Err(format!("status {other}")),
        }
    })
    .await;
    traffic
        .wait_for("votes refused with 503", |seen| seen.count(StatusCode::SERVICE_UNAVAILABLE) >= 5)
        .await;
    let refused = app.api.vote("Cats").await.expect("an answer even while Redis is down");
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE, "{refused:?}");
    let page = app.api.get("/").await.expect("the page answers while Redis is down");
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE, "the page says votes are unavailable");

    let acknowledged_before_recovery = traffic.seen.lock().await.acknowledged_total();
    stack.redis.start().await.expect("Redis starts again (empty: no persistence)");
    wait_until_ready(app).await;
    traffic
        .wait_for("votes acknowledged again after recovery", |seen| {
            seen.acknowledged_total() >= acknowledged_before_recovery + 20
        })
        .await;
    let seen = traffic.stop().await;

    let unexpected: Vec<_> =
        seen.statuses.keys().filter(|status| ![200, 201, 503].contains(*status)).collect();
    assert!(unexpected.is_empty(), "only successes and 503s are expected: {seen:?}");
    let counts = poll::until("the counts to match every acknowledged vote", DEADLINE, || async {
        let votes = app.api.votes().await;
        let expected = (seen.acknowledged["Cats"], seen.acknowledged["Dogs"]);
        let actual = (votes.of("Cats"), votes.of("Dogs"));
        if actual == expected {
            Ok(votes)
        } else {
            Err(format!("{actual:?}, acknowledged {expected:?}"))
        }
    })
    .await;
    assert_eq!(counts.total, seen.acknowledged_total());
}

#[tokio::test(flavor = "multi_thread")]
async fn stopping_postgresql_fails_ready_and_starting_it_again_recovers() {
    let stack = spawn_stack().await;
    let app = stack.app();

    stack.postgres.stop().await.expect("PostgreSQL stops");
    poll::until("/ready to fail while PostgreSQL is down", DEADLINE, || async {
        match app.api.status_of("/ready").await? {
            StatusCode::SERVICE_UNAVAILABLE => Ok(()),
            other => Err(format!("status {other}")),
        }
    })
    .await;
    assert_eq!(
        app.api.status_of("/health").await,
        Ok(StatusCode::OK),
        "liveness does not depend on back ends"
    );

    stack.postgres.start().await.expect("PostgreSQL starts again");
    wait_until_ready(app).await;
    let answer = app.api.vote("Dogs").await.expect("an answer");
    assert!(answer.status.is_success(), "voting works again: {answer:?}");
    assert_eq!(app.api.ledger().await.of(&app.name), 1, "the vote after recovery is in the ledger");
}

#[tokio::test(flavor = "multi_thread")]
async fn stopping_one_instance_sends_every_get_to_the_other_without_a_single_5xx() {
    let stack = spawn_routed_stack().await;
    let router = stack.router();
    let traffic = Traffic::reads(router.api.clone());
    traffic.wait_for("some answered GETs", |seen| seen.routes.len() >= 10).await;

    // Stop the instance the current minute routes to, so the fallback is exercised at once.
    let stopped = parity_of(unix_minute());
    let survivor = if stopped == "even" { "odd" } else { "even" };
    let victim =
        stack.instances.iter().find(|instance| instance.name == stopped).expect("an instance");
    victim.container.stop().await.expect("the instance stops");
    let stopped_at = Instant::now();
    let sent_after_stop =
        |seen: &Seen| seen.routes.iter().filter(|route| route.sent > stopped_at).count();
    traffic.wait_for("GETs answered after the stop", |seen| sent_after_stop(seen) >= 40).await;
    let seen = traffic.stop().await;

    let server_errors: u64 =
        seen.statuses.iter().filter(|(status, _)| **status >= 500).map(|(_, n)| n).sum();
    assert_eq!(server_errors, 0, "no GET may fail while one instance is up: {:?}", seen.statuses);
    assert_eq!(
        seen.count(StatusCode::OK),
        seen.routes.len() as u64,
        "every GET answered 200: {:?}",
        seen.statuses
    );
    for route in seen.routes.iter().filter(|route| route.sent > stopped_at) {
        assert_eq!(
            route.routed_to.as_deref(),
            Some(survivor),
            "after the stop everything goes to {survivor}"
        );
        let (before, after) = route.minutes;
        if before == after && parity_of(before) == stopped {
            assert!(
                route.fallback,
                "a request in the stopped instance's minute is flagged: {route:?}"
            );
        }
    }
}
