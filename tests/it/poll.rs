//! Waiting for a condition by polling it until a deadline: containers start, stop and recover in
//! their own time, and a fixed sleep is either too short (flaky) or too long (slow).

use std::future::Future;
use std::time::{Duration, Instant};

/// How long a container or a recovery may take before the test fails.
pub(crate) const DEADLINE: Duration = Duration::from_secs(90);

/// Time between two checks.
const INTERVAL: Duration = Duration::from_millis(200);

/// Calls `check` until it returns `Ok`, and returns that value; fails the test with `what` and
/// the last observation (the `Err`) if `deadline` passes first.
pub(crate) async fn until<T, F, Fut>(what: &str, deadline: Duration, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    try_until(what, deadline, check).await.unwrap_or_else(|failure| panic!("{failure}"))
}

/// Like [`until`], but returns the failure message instead of failing, for callers that add
/// context (such as a container's logs) before failing.
pub(crate) async fn try_until<T, F, Fut>(
    what: &str,
    deadline: Duration,
    mut check: F,
) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let started = Instant::now();
    loop {
        match check().await {
            Ok(value) => return Ok(value),
            Err(last) if started.elapsed() > deadline => {
                return Err(format!(
                    "gave up after {deadline:?} waiting for {what}; last observation: {last}"
                ));
            }
            Err(_) => tokio::time::sleep(INTERVAL).await,
        }
    }
}
