#!/usr/bin/env bash
# Formatting and lints, exactly as CI checks them: any warning fails.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
