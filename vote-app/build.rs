//! Stamps the binary with the git commit and the build time for `/version`.
//!
//! Container builds have no `.git`: they pass `GIT_COMMIT` (and may pass `SOURCE_DATE_EPOCH`).

// These are build-time inputs, not settings of the running service, so the rule that keeps
// environment reads inside `config` (clippy.toml) does not apply here.
#![allow(clippy::disallowed_methods)]

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=GIT_COMMIT");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-changed=../.git/HEAD");
    println!("cargo:rerun-if-changed=../.git/refs/heads");

    let commit = std::env::var("GIT_COMMIT")
        .ok()
        .filter(|commit| !commit.is_empty())
        .or_else(|| run("git", &["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=VOTE_APP_GIT_COMMIT={commit}");

    let date_args = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(epoch) => vec!["-u".to_owned(), "-d".to_owned(), format!("@{epoch}")],
        Err(_) => vec!["-u".to_owned()],
    };
    let mut args: Vec<&str> = date_args.iter().map(String::as_str).collect();
    args.push("+%Y-%m-%dT%H:%M:%SZ");
    let built = run("date", &args).unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=VOTE_APP_BUILT={built}");
}

/// The trimmed standard output of a command that succeeded, or `None`.
fn run(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    Some(text.trim().to_owned()).filter(|text| output.status.success() && !text.is_empty())
}
