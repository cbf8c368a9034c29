//! Router tests against real TCP upstreams: one test binary, one module per concern.
//!
//! Every server binds `127.0.0.1:0`; nothing waits with `sleep`; the clock is pinned.

// A test binary has no public API: `pub` in its modules only shares helpers between them.
#![allow(unreachable_pub)]
// A panic in a test is a failed assertion, not a crashed service.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// The harness reads the test run's own settings (TEST_REDIS_URL, certificates…), not the
// service's: the service's config-only rule does not apply to it.
#![allow(clippy::disallowed_methods)]

mod fallback;
mod headers;
mod healthcheck;
mod observability;
mod routing;
mod shutdown;
mod streaming;
mod support;
mod tls;
