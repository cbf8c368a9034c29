//! Router tests against real TCP upstreams: one test binary, one module per concern.
//!
//! Every server binds `127.0.0.1:0`; nothing waits with `sleep`; the clock is pinned.

// A test binary has no public API: `pub` in its modules only shares helpers between them.
#![allow(unreachable_pub)]
// A panic in a test is a failed assertion, not a crashed service.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fallback;
mod headers;
mod observability;
mod routing;
mod shutdown;
mod streaming;
mod support;
mod tls;
