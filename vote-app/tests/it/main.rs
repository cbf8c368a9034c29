//! The vote-app's tests beyond pure logic, as one binary:
//!
//! - `routes`: every route in process, through `app(..).oneshot(..)`, on the in-memory store;
//! - `multipart`: `POST /` as `curl -F` sends it, under the same rules as the URL-encoded form;
//! - `redis`: the Redis store against a real `redis-server`, including an outage and recovery;
//! - `ledger`: the PostgreSQL ledger against a real server: appends, restore, per-minute view;
//! - `batches`: votes written in batches with the ledger on: once each, failures, Redis wiped;
//! - `live`: live results over HTTP: each vote on a stream, across instances through Redis,
//!   the bound on streams, streams ended by a shutdown;
//! - `cluster`: a Redis Cluster of the test's own (3 masters, 3 replicas), a master killed;
//! - `process`: the real binary: bad config refused, `healthcheck` passes and fails, SIGTERM
//!   exits cleanly;
//! - `redaction`: the real binary's output at debug level holds no password of a failing URL;
//! - `keyvault`: the real binary reading its secrets from a Key Vault stand-in over HTTPS
//!   (`vault_standin`), authenticated by a managed-identity token endpoint.
//!
//! `redis`, `ledger`, `batches` and `live` need `TEST_REDIS_URL` and `TEST_DATABASE_URL`, `keyvault` a certificate
//! for `localhost` (`TEST_TLS_CERT_FILE`, `TEST_TLS_KEY_FILE`) from a CA in `SSL_CERT_FILE`;
//! `ci/test.sh` starts throwaway servers, makes the CA and sets them all. Without them those tests fail and say so: they never skip.

// A panic in a test is a failed assertion, which is exactly what unwrap means here.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// The harness reads the test run's own settings (TEST_REDIS_URL, certificates…), not the
// service's: the service's config-only rule does not apply to it.
#![allow(clippy::disallowed_methods)]

mod batches;
mod cluster;
mod keyvault;
mod ledger;
mod live;
mod multipart;
mod process;
mod redaction;
mod redis;
mod routes;
mod support;
mod vault_standin;
