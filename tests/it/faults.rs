//! Failure paths by sabotage: stop a container while traffic flows, check the service degrades
//! the way it promises, start it again, check it recovers by itself.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::StatusCode;
use testcontainers::{ContainerAsync, GenericImage};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::api::Api;
use crate::poll::{self, DEADLINE};
use crate::stack::{
    Instance, Stack, parity_of, spawn_routed_stack, spawn_stack, unix_minute, wait_until_ready,
};

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
    /// The status the client got.
    status: u16,
    /// How long the answer took.
    took: Duration,
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
        Self::votes_every(api, PACE)
    }

    /// The same, one vote every `pace` (zero: back to back, so a vote is always in flight).
    fn votes_every(api: Api, pace: Duration) -> Self {
        Self::spawn(pace, move |seen, turn| {
            let api = api.clone();
            async move {
                let choice = if turn % 2 == 0 { "Cats" } else { "Dogs" };
                let answer = api.vote(choice).await;
                let mut seen = seen.lock().await;
                // A transport error (no HTTP answer at all) is recorded as status 0.
                let Ok(answer) = answer else {
                    *seen.statuses.entry(0).or_default() += 1;
                    return;
                };
                *seen.statuses.entry(answer.status.as_u16()).or_default() += 1;
                if answer.status.is_success() {
                    *seen.acknowledged.entry(choice).or_default() += 1;
                }
            }
        })
    }

    /// GETs the page and the counts alternately, recording where each was routed.
    fn reads(api: Api) -> Self {
        Self::reads_every(api, PACE)
    }

    /// The same, one GET every `pace` (zero: back to back, so a GET is always in flight).
    fn reads_every(api: Api, pace: Duration) -> Self {
        Self::spawn(pace, move |seen, turn| {
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
                    status: answer.status.as_u16(),
                    took: sent.elapsed(),
                });
            }
        })
    }

    fn spawn<F, Fut>(pace: Duration, mut request: F) -> Self
    where
        F: FnMut(Arc<Mutex<Seen>>, u64) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let running = Arc::new(AtomicBool::new(true));
        let (task_seen, task_running) = (seen.clone(), running.clone());
        let task = tokio::spawn(async move {
            let mut interval = tokio::time::interval(pace.max(Duration::from_millis(1)));
            let mut turn = 0;
            while task_running.load(Ordering::Relaxed) {
                if pace.is_zero() {
                    tokio::task::yield_now().await;
                } else {
                    interval.tick().await;
                }
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

/// Concurrent clients, as in the operator's trial that found the failed GETs: eight, each
/// sending its next request as soon as the last is answered, so requests are always in flight
/// on the instance that dies.
const CLIENTS: usize = 8;

/// No pause between a client's requests.
const FLAT_OUT: Duration = Duration::ZERO;

/// Sends `signal` to the main process of `container`, as an operator (`docker kill`), the
/// orchestrator or the kernel's OOM killer would.
async fn send_signal(container: &ContainerAsync<GenericImage>, signal: &'static str) {
    let id = container.id().to_owned();
    let status = tokio::task::spawn_blocking(move || {
        std::process::Command::new("docker").args(["kill", "--signal", signal, &id]).status()
    })
    .await
    .expect("the docker CLI task does not panic")
    .expect("the docker CLI runs");
    assert!(status.success(), "docker kill --signal {signal} failed");
}

/// The instance the current minute routes to, and the name of the other one.
fn minutes_instance(stack: &Stack) -> (&Instance, &'static str) {
    let victim = parity_of(unix_minute());
    let survivor = if victim == "even" { "odd" } else { "even" };
    let instance = stack.instances.iter().find(|instance| instance.name == victim);
    (instance.expect("both instances run"), survivor)
}

/// Every client's statuses added up.
fn statuses(seen: &[Seen]) -> BTreeMap<u16, u64> {
    let mut total = BTreeMap::new();
    for (status, count) in seen.iter().flat_map(|seen| &seen.statuses) {
        *total.entry(*status).or_default() += count;
    }
    total
}

/// The figures the router's README quotes, shown with `--no-capture`.
#[allow(clippy::print_stderr)] // a measurement for people, not a log line of a service
fn report(scenario: &str, figures: &str) {
    eprintln!("{scenario}: {figures}");
}

/// Kills the minute's instance with requests certainly in flight on it: frozen first
/// (`SIGSTOP`), its kernel still accepts and queues requests, so after a short hold every client
/// whose request went there is waiting on it; then `SIGKILL` resets those connections. A plain
/// `SIGKILL` rarely catches a request inside a vote-app that answers in a millisecond.
async fn kill_with_requests_in_flight(instance: &Instance) {
    send_signal(&instance.container, "STOP").await;
    // A hold, not a wait for a condition: long enough for the clients to send their next
    // requests, well under the ~1.6 s the router takes to mark a frozen instance down.
    tokio::time::sleep(Duration::from_millis(500)).await;
    send_signal(&instance.container, "KILL").await;
}

/// Sends `signal` (or the kill above for `KILL`) to the minute's instance.
async fn take_down(instance: &Instance, signal: &'static str) {
    match signal {
        "KILL" => kill_with_requests_in_flight(instance).await,
        other => send_signal(&instance.container, other).await,
    }
}

/// How many times the router retried a request on the other upstream (its log says so).
async fn retries_logged(router: &ContainerAsync<GenericImage>) -> usize {
    let log = router.stdout_to_vec().await.unwrap_or_default();
    String::from_utf8_lossy(&log).matches("upstream failed before answering").count()
}

/// Starts `CLIENTS` readers, waits for traffic, takes the minute's instance down, and returns
/// everything seen once each reader has had `after` answers sent after that.
async fn reads_around(stack: &Stack, signal: &'static str, after: usize) -> (Vec<Seen>, Instant) {
    let readers: Vec<_> =
        (0..CLIENTS).map(|_| Traffic::reads_every(stack.router().api.clone(), FLAT_OUT)).collect();
    for reader in &readers {
        reader.wait_for("answered GETs", |seen| seen.routes.len() >= 5).await;
    }
    let (victim, _) = minutes_instance(stack);
    take_down(victim, signal).await;
    let signalled = Instant::now();
    for reader in &readers {
        let sent_after = |seen: &Seen| seen.routes.iter().filter(|r| r.sent > signalled).count();
        reader.wait_for("GETs answered after the signal", |seen| sent_after(seen) >= after).await;
    }
    (join_all(readers.into_iter().map(Traffic::stop)).await, signalled)
}

#[tokio::test(flavor = "multi_thread")]
async fn killing_the_minutes_instance_under_concurrent_reads_fails_not_one_get() {
    let stack = spawn_routed_stack().await;
    let (seen, _) = reads_around(&stack, "KILL", 25).await;
    let statuses = statuses(&seen);
    let retries = retries_logged(&stack.router().container).await;
    report("SIGKILL under 8 readers", &format!("statuses {statuses:?}, {retries} retried"));
    assert_eq!(statuses.keys().collect::<Vec<_>>(), [&200], "every GET answered 200");
    assert!(retries > 0, "GETs were in flight on the killed instance and were retried");
}

#[tokio::test(flavor = "multi_thread")]
async fn killing_the_minutes_instance_under_concurrent_votes_counts_each_acknowledged_vote_once() {
    let failed = votes_survive("KILL").await;
    assert!(failed > 0, "votes were in flight on the killed instance: each got a 502");
}

/// A stopping instance answers its last requests with `Connection: close` before it closes its
/// connections, so the router never writes a vote on a connection being closed, and sends new
/// ones to the other instance once this one refuses connections: no voter sees the stop.
#[tokio::test(flavor = "multi_thread")]
async fn stopping_the_minutes_instance_gracefully_under_concurrent_votes_fails_none() {
    let failed = votes_survive("TERM").await;
    assert_eq!(failed, 0, "votes failed during a graceful stop");
}

/// Votes through the router from `CLIENTS` clients while the minute's instance gets `signal`:
/// any failure is a clear 502/503, and the counts hold every acknowledged vote exactly once —
/// at most the failed ones more, since an instance killed after counting cannot say so.
/// Returns how many votes failed.
async fn votes_survive(signal: &'static str) -> u64 {
    let stack = spawn_routed_stack().await;
    let voters: Vec<_> =
        (0..CLIENTS).map(|_| Traffic::votes_every(stack.router().api.clone(), FLAT_OUT)).collect();
    for voter in &voters {
        voter.wait_for("acknowledged votes", |seen| seen.acknowledged_total() >= 5).await;
    }
    let (victim, survivor) = minutes_instance(&stack);
    take_down(victim, signal).await;
    // A stopping instance still answers for a while: count from when it is gone.
    poll::until("the instance to exit", DEADLINE, || async {
        match victim.container.is_running().await {
            Ok(false) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    let mut before = Vec::new();
    for voter in &voters {
        before.push(voter.seen.lock().await.acknowledged_total());
    }
    for (voter, before) in voters.iter().zip(before) {
        voter
            .wait_for("votes acknowledged after the signal", |seen| {
                seen.acknowledged_total() >= before + 20
            })
            .await;
    }
    let seen = join_all(voters.into_iter().map(Traffic::stop)).await;
    let statuses = statuses(&seen);
    report(&format!("SIG{signal} under {CLIENTS} voters"), &format!("statuses {statuses:?}"));
    let unclear: Vec<_> = statuses.keys().filter(|s| ![200, 201, 502, 503].contains(*s)).collect();
    assert!(unclear.is_empty(), "only successes, 502 and 503: {statuses:?}");
    let failed = statuses.get(&502).unwrap_or(&0) + statuses.get(&503).unwrap_or(&0);

    let survivor = stack.instances.iter().find(|instance| instance.name == survivor);
    let votes = survivor.expect("the survivor runs").api.votes().await;
    for choice in ["Cats", "Dogs"] {
        let acknowledged: u64 = seen.iter().map(|seen| seen.acknowledged[choice]).sum();
        let counted = votes.of(choice);
        assert!(
            (acknowledged..=acknowledged + failed).contains(&counted),
            "{choice}: {counted} counted, {acknowledged} acknowledged, {failed} failed"
        );
    }
    failed
}

#[tokio::test(flavor = "multi_thread")]
async fn freezing_the_minutes_instance_times_out_its_requests_in_flight_and_moves_the_rest() {
    let stack = spawn_routed_stack().await;
    let router = stack.router();
    // Longer than the router's request timeout (30 s), so the client sees the router's answer.
    let patient = Api::with_timeout(router.api.base(), Duration::from_secs(45));
    let readers: Vec<_> = (0..CLIENTS).map(|_| Traffic::reads(patient.clone())).collect();
    for reader in &readers {
        reader.wait_for("answered GETs", |seen| seen.routes.len() >= 5).await;
    }
    let (victim, survivor) = minutes_instance(&stack);
    send_signal(&victim.container, "STOP").await;
    let frozen = Instant::now();
    let frozen_name = victim.name.clone();
    poll::until("the router to mark the frozen instance down", DEADLINE, || async {
        let status = router.status().await?;
        let healthy =
            if frozen_name == "even" { status.upstreams.even } else { status.upstreams.odd };
        if healthy.healthy { Err("still healthy".to_owned()) } else { Ok(()) }
    })
    .await;
    let marked_down = frozen.elapsed();
    for reader in &readers {
        let sent_after = |seen: &Seen| seen.routes.iter().filter(|r| r.sent > frozen).count();
        reader.wait_for("GETs answered after the freeze", |seen| sent_after(seen) >= 20).await;
    }
    let seen = join_all(readers.into_iter().map(Traffic::stop)).await;
    send_signal(&victim.container, "CONT").await;

    let routes: Vec<&Route> = seen.iter().flat_map(|seen| &seen.routes).collect();
    let timed_out: Vec<_> = routes.iter().filter(|route| route.status == 504).collect();
    let slowest = timed_out.iter().map(|route| route.took).max().unwrap_or_default();
    report(
        "SIGSTOP under 8 readers",
        &format!(
            "marked down after {marked_down:?}; statuses {:?}; 504s took up to {slowest:?}",
            statuses(&seen)
        ),
    );
    let unclear: Vec<_> =
        routes.iter().filter(|route| ![200, 504].contains(&route.status)).collect();
    assert!(unclear.is_empty(), "only 200 and 504: {unclear:?}");
    assert!(!timed_out.is_empty(), "the requests in flight on the frozen instance wait");
    for route in &timed_out {
        assert!(route.sent < frozen + marked_down, "only requests sent before the mark: {route:?}");
        assert!(route.took >= Duration::from_secs(29), "504 after the request timeout: {route:?}");
    }
    let moved = routes.iter().filter(|route| route.sent > frozen + marked_down);
    for route in moved {
        assert_eq!(route.routed_to.as_deref(), Some(survivor), "{route:?}");
    }
}
