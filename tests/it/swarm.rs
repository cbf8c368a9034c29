//! The Docker Swarm stack (`compose.yaml` + `deploy/swarm/stack.yml`), deployed with
//! `ci/swarm.sh` on a single-node swarm and changed under load: rolling update, automatic
//! rollback, a killed task, scaling, blue/green. Each test prints what it measured.
//!
//! - [`cluster`]: the swarm (joined, or created and left), one stack per test, the Docker CLI.
//! - [`load`]: clients voting and reading through the router, counting every answer.
//! - [`scenarios`]: the tests, but blue/green.
//! - [`blue_green`]: blue/green by moving the name the router uses from one service to another.
//!
//! One swarm serves every test, so they run one at a time: a nextest test group
//! (`.config/nextest.toml`) and, for `cargo test`, a file lock taken by [`cluster::Stack`].

// Measuring is what these tests are for: each one reports its figures on stdout, which the test
// harness shows with the test (`.config/nextest.toml` shows it even on success).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod blue_green;
mod cluster;
mod load;
mod scenarios;
