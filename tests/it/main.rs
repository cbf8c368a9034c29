//! Container-based integration tests: the real images of the vote-app, the router, Redis and
//! PostgreSQL, started with testcontainers.
//!
//! # Layout
//! - [`stack`]: `spawn_stack()` / `spawn_routed_stack()`, which own the containers of a scenario
//!   (one Docker network and unique names per stack, everything removed on drop).
//! - [`api`]: typed HTTP calls to the vote-app and the router; responses are deserialized, never
//!   compared as strings.
//! - [`in_process`]: the vote-app and the router served in-process, to ask them a path.
//! - [`poll`]: waiting with a deadline, by polling (`/ready`, `/router/status`), never by sleeping.
//! - [`vote_app`]: one vote-app with Redis and PostgreSQL — vote, read, reset, ledger restore.
//! - [`router`]: the router in front of two vote-apps — minute parity, ledger per instance.
//! - [`faults`]: sabotage — Redis stopped mid-run, one instance stopped.
//! - [`concurrency`]: thousands of votes from many clients, exact totals.
//! - [`browser`]: headless Chromium through the router — voting with and without JavaScript,
//!   French, dark mode, phone width, axe-core's WCAG 2.1 AA rules, screenshots of every state.
//! - [`k8s`]: the Kubernetes overlays, rendered: their invariants, and their pods run as containers.
//! - [`swarm`]: the Docker Swarm stack deployed with `ci/swarm.sh` and changed under load —
//!   rolling update, automatic rollback, a killed task, scaling to 5, blue/green.
//! - [`pipelines`]: `azure-pipelines.yml` as a graph — dependsOn targets, stage order, gates.
//! - [`terraform`]: `terraform/` parsed and its invariants checked, the images run with its app
//!   settings, and the manual Azure CLI script's dry run.
//!
//! # Running
//! The images must exist in the local Docker store (nothing is built here):
//!
//! ```text
//! eval "$(ci/build-images.sh)"   # offline: local base images; VOTE_BASES=public on a normal host
//! cargo test -p tests
//! ```
//!
//! Image names come from `VOTE_IT_APP_IMAGE` (default `vote-app:test`), `VOTE_IT_ROUTER_IMAGE`
//! (`router:test`), `VOTE_IT_REDIS_IMAGE` (`redis:7`) and `VOTE_IT_POSTGRES_IMAGE`
//! (`postgres:15`). Without a Docker engine every test fails and says so: nothing is skipped.
//!
//! The [`browser`] tests also need `VOTE_IT_CHROMEDRIVER` (chromedriver; default: the one on
//! `PATH`, which finds Chromium) and `VOTE_IT_AXE_JS` (axe-core's `axe.min.js`, from the PyPI
//! wheel `axe-core-python==0.1.0`), both set by `ci/test.sh`; their screenshots go to
//! `VOTE_IT_ARTIFACTS` (default `target/browser-artifacts`). Without them those tests fail.

// A failing test should stop at the line that failed and say what it expected: `expect` with a
// sentence is the clearest way to write that in a test binary.
#![allow(clippy::expect_used)]

mod api;
mod browser;
mod concurrency;
mod faults;
mod in_process;
mod k8s;
mod pipelines;
mod poll;
mod router;
mod stack;
mod swarm;
mod terraform;
mod vote_app;
