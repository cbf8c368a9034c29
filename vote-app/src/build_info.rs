//! What was built, from what, and when: shown on `/version` and in the page footer, so a canary
//! or a minute-parity demo shows which build answered.
//!
//! The version has one source, the workspace `Cargo.toml`; `build.rs` adds the git commit and
//! the build time.

use serde::Serialize;

/// The release version, from the workspace `Cargo.toml`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The git commit the binary was built from (`GIT_COMMIT` at build time, else `git rev-parse`).
pub const COMMIT: &str = env!("VOTE_APP_GIT_COMMIT");

/// When the binary was built, RFC 3339 UTC (`SOURCE_DATE_EPOCH` is honoured for reproducible
/// builds).
pub const BUILT: &str = env!("VOTE_APP_BUILT");

/// The body of `/version`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct BuildInfo {
    /// See [`VERSION`].
    pub version: &'static str,
    /// See [`COMMIT`].
    pub commit: &'static str,
    /// See [`BUILT`].
    pub built: &'static str,
}

/// This binary's build information.
pub const BUILD_INFO: BuildInfo = BuildInfo { version: VERSION, commit: COMMIT, built: BUILT };
