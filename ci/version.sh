#!/usr/bin/env bash
# Prints the release version: `[workspace.package] version` of the workspace Cargo.toml, the one
# source of truth (the binaries report the same value through CARGO_PKG_VERSION).
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: ci/version.sh [--help]

Prints the version in [workspace.package] of the repository's Cargo.toml (e.g. 1.4.0).
Exits 1 when the file or the key is missing, or the value is not semantic (X.Y.Z[-pre]).
USAGE
}

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  "") ;;
  *) usage >&2; exit 2 ;;
esac

manifest="$(dirname "${BASH_SOURCE[0]}")/../Cargo.toml"
[ -f "$manifest" ] || { echo "ci/version.sh: $manifest not found" >&2; exit 1; }

# The first `version = "..."` inside [workspace.package], up to the next table header.
version=$(sed -n '/^\[workspace\.package\]/,/^\[/ s/^version *= *"\([^"]*\)".*/\1/p' "$manifest" | head -n 1)
if [ -z "$version" ]; then
  echo "ci/version.sh: no version in [workspace.package] of $manifest" >&2
  exit 1
fi
if ! [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  echo "ci/version.sh: '$version' in $manifest is not a semantic version" >&2
  exit 1
fi
echo "$version"
