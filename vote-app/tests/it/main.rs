//! The vote-app's tests beyond pure logic, as one binary:
//!
//! - `routes`: every route in process, through `app(..).oneshot(..)`, on the in-memory store;
//! - `redis`: the Redis store against a real `redis-server`, including an outage and recovery;
//! - `ledger`: the PostgreSQL ledger against a real server: appends, restore, per-minute view;
//! - `process`: the real binary: bad config refused, SIGTERM exits cleanly.
//!
//! `redis` and `ledger` need `TEST_REDIS_URL` and `TEST_DATABASE_URL`; `ci/test.sh` starts
//! throwaway servers and sets them. Without them those tests fail and say so: they never skip.

// A panic in a test is a failed assertion, which is exactly what unwrap means here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod ledger;
mod process;
mod redis;
mod routes;
mod support;
