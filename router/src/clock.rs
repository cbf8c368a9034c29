//! Time as a dependency: which UTC minute is it, and is it even or odd?
//!
//! The router never calls `SystemTime::now()` directly. It asks a [`Clock`], so tests can pin the
//! time on either side of a minute boundary (`tokio::time::pause` freezes tokio's `Instant`, not
//! the wall clock, so it cannot do this job).

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// Where the router gets the wall-clock time from.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current wall-clock time.
    fn now(&self) -> SystemTime;
}

/// The real clock, used in production.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that shows whatever time it was last set to: tests and demos use it to pin the minute.
#[derive(Debug)]
pub struct FixedClock {
    /// The time `now()` returns; a `Mutex` so a test can move it while the router runs.
    now: Mutex<SystemTime>,
}

impl FixedClock {
    /// A clock stopped at `now`.
    pub fn new(now: SystemTime) -> Self {
        Self { now: Mutex::new(now) }
    }

    /// A clock stopped `secs` seconds after the Unix epoch (UTC), which is how tests name instants.
    pub fn at_unix_secs(secs: u64) -> Self {
        Self::new(UNIX_EPOCH + Duration::from_secs(secs))
    }

    /// Moves the clock to `now`.
    pub fn set(&self, now: SystemTime) {
        // A poisoned lock only means another thread panicked while holding a plain `SystemTime`,
        // which cannot be left half-written: keep using the value.
        *self.now.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = now;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Which of the two upstreams a minute belongs to; also the upstreams' names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Parity {
    /// Minutes 0, 2, 4, … of every hour.
    Even,
    /// Minutes 1, 3, 5, … of every hour.
    Odd,
}

impl Parity {
    /// Both parities, in the order status pages and metrics list them.
    pub const ALL: [Parity; 2] = [Parity::Even, Parity::Odd];

    /// The parity of the UTC minute that contains `time`.
    ///
    /// Minutes are counted from the Unix epoch; an hour has an even number of minutes, so this is
    /// also the parity of the minute shown on a UTC wall clock. Times before 1970 count as minute 0.
    pub fn of(time: SystemTime) -> Self {
        if unix_minute(time).is_multiple_of(2) { Parity::Even } else { Parity::Odd }
    }

    /// 0 for even, 1 for odd: the slot of this upstream in per-upstream arrays (health, pool).
    pub fn index(self) -> usize {
        match self {
            Parity::Even => 0,
            Parity::Odd => 1,
        }
    }

    /// The other upstream: where a request goes when this one is down.
    pub fn other(self) -> Self {
        match self {
            Parity::Even => Parity::Odd,
            Parity::Odd => Parity::Even,
        }
    }

    /// The lowercase name used in headers, logs, metric labels and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Parity::Even => "even",
            Parity::Odd => "odd",
        }
    }
}

impl fmt::Display for Parity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whole minutes since the Unix epoch (UTC) at `time`.
pub fn unix_minute(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs() / 60)
}

#[cfg(test)]
mod tests;
