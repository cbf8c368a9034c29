#!/usr/bin/env bash
# ci/version.sh reads the workspace version; ci/next-version.sh computes the next release from
# Conventional Commits. Both run on scratch repositories, next-version.sh copied alone into each
# (it must not need anything else from this repository).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

scratch=$(mktemp -d "/tmp/$run_id.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

echo "ci/version.sh"
assert_eq "$(sed -n '/^\[workspace.package\]/,/^\[/ s/^version *= *"\(.*\)"/\1/p' "$repo/Cargo.toml")" \
  "$("$ci/version.sh")" "prints [workspace.package] version of this repository"
mkdir -p "$scratch/v/ci"
cp "$ci/version.sh" "$scratch/v/ci/"
printf '[package]\nversion = "9.9.9"\n\n[workspace.package]\nedition = "2024"\nversion = "2.3.4-rc.1"\n\n[workspace.dependencies]\nversion = "1"\n' \
  >"$scratch/v/Cargo.toml"
assert_eq "2.3.4-rc.1" "$("$scratch/v/ci/version.sh")" "reads only the [workspace.package] table"
printf '[workspace.package]\nversion = "two"\n' >"$scratch/v/Cargo.toml"
assert_fails "rejects a version that is not semantic" "not a semantic version" "$scratch/v/ci/version.sh"
printf '[workspace]\nmembers = []\n' >"$scratch/v/Cargo.toml"
assert_fails "fails clearly without [workspace.package] version" "no version" "$scratch/v/ci/version.sh"

echo "ci/next-version.sh"
# new_repo NAME: an empty repository holding only a copy of the script.
new_repo() {
  local dir="$scratch/$1"
  mkdir -p "$dir"
  git -C "$dir" init -q -b main
  git -C "$dir" config user.email ci@example.invalid
  git -C "$dir" config user.name ci
  cp "$ci/next-version.sh" "$dir/next-version.sh"
  cd "$dir"
}
commit() { git commit -q --allow-empty -m "$1"; }
next() { ./next-version.sh 2>/dev/null; }

new_repo untagged
commit "chore: start"
commit "docs: readme"
assert_eq "" "$(next)" "no tag, no feat/fix: nothing to release"
commit "feat: votes"
assert_eq "0.1.0" "$(next)" "no tag: base 0.0.0, a feat gives 0.1.0"

new_repo patch
commit "feat: first"
git tag v1.2.3
commit "fix(router): keep the Host header"
commit "docs: explain"
assert_eq "1.2.4" "$(next)" "fix with a scope after v1.2.3 gives 1.2.4"
commit "perf: faster"
assert_eq "1.2.4" "$(next)" "perf is a patch too"
commit "feat(vote-app): French page"
assert_eq "1.3.0" "$(next)" "feat after fix gives the minor"
commit "refactor(store)!: one trait"
assert_eq "2.0.0" "$(next)" "type! gives the major"

new_repo footer
commit "chore: start"
git tag v0.4.1
printf 'fix: rename REDIS\n\nBREAKING CHANGE: REDIS_HOST is gone\n' | git commit -q --allow-empty -F -
assert_eq "1.0.0" "$(next)" "a BREAKING CHANGE footer gives the major"

new_repo quiet
commit "feat: before the release"
git tag v1.0.0
commit "ci: pipeline"
commit "Feature: not conventional"
commit "feature: not a known type"
assert_eq "" "$(next)" "only commits since the tag count; unknown types release nothing"
assert_eq "v1.0.0" "$(git tag --list 'v*')" "the script creates no tag"

new_repo highest
commit "feat: a"
git tag v1.9.0
commit "feat: b"
git tag v1.10.0
commit "docs: c"
git tag v2.0.0-rc.1
commit "fix: d"
assert_eq "1.10.1" "$(next)" "the highest vX.Y.Z tag wins (1.10 > 1.9), pre-release tags are ignored"
git switch -q -c other HEAD~1
commit "feat!: elsewhere"
git tag v5.0.0
git switch -q main
assert_eq "1.10.1" "$(next)" "a tag not merged into HEAD is ignored"
assert_eq "1.10.1" "$(./next-version.sh main 2>/dev/null)" "takes a revision argument"

assert_fails "fails clearly outside a git repository" "not inside a git repository" \
  env GIT_CEILING_DIRECTORIES=/tmp bash -c "cd '$scratch' && '$ci/next-version.sh'"
assert_fails "fails clearly on an unknown revision" "no commit" ./next-version.sh no-such-ref
echo "-- set-version.sh, on a clone of this repository"
clone=$(mktemp -d)
trap 'rm -rf "$clone"' EXIT
git clone --quiet "$repo" "$clone/repo"
assert_ok "sets a new version" "$clone/repo/ci/set-version.sh" 9.8.7
assert_eq 9.8.7 "$("$clone/repo/ci/version.sh")" "Cargo.toml holds it"
assert_eq 3 "$(grep -cE '^version = "9\.8\.7"$' "$clone/repo/Cargo.lock")" "Cargo.lock holds it for the three members"
# Offline, the packages of this machine's platform are the ones a build has fetched.
host=$(rustc -vV | sed -n 's/^host: //p')
assert_ok "the lock file still matches (--locked)" cargo metadata --locked --offline --format-version 1 \
  --filter-platform "$host" --manifest-path "$clone/repo/Cargo.toml"
assert_ok "the Kubernetes overlays render" "$clone/repo/ci/k8s-render.sh" "$clone/repo/k8s/overlays/minute-parity"
assert_eq 3 "$(grep -cE 'image: (vote-app|router):9\.8\.7$' <<<"$output")" "every vote-app and router image carries it"
assert_fails "a version that is not semantic is refused" "not a semantic version" "$clone/repo/ci/set-version.sh" 1.2
finish
