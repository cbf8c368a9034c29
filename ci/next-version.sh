#!/usr/bin/env bash
# Prints the next semantic version from the Conventional Commits since the last vX.Y.Z tag, or
# nothing when no commit since then calls for a release. Reads only git history, so the script
# works copied into any repository.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: ci/next-version.sh [--help] [REVISION]

Looks at the commits reachable from REVISION (default HEAD) but not from the highest vX.Y.Z tag
reachable from it (every commit when there is none: the base is then 0.0.0), and prints the next
version on stdout:
  type!: ... or a "BREAKING CHANGE:" / "BREAKING-CHANGE:" footer   -> major (X+1.0.0)
  feat: ...                                                        -> minor (X.Y+1.0)
  fix: ... / perf: ...                                             -> patch (X.Y.Z+1)
  anything else (docs, chore, ci, refactor, test, non-conventional) -> no release
Prints nothing (exit 0) when no release is due. The reasoning goes to stderr.
USAGE
}

revision=HEAD
case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  -*) usage >&2; exit 2 ;;
  "") ;;
  *) revision=$1 ;;
esac
[ $# -le 1 ] || { usage >&2; exit 2; }

log() { printf 'next-version: %s\n' "$*" >&2; }

git rev-parse --git-dir >/dev/null 2>&1 || { log "not inside a git repository"; exit 1; }
git rev-parse --verify --quiet "$revision^{commit}" >/dev/null || { log "no commit '$revision'"; exit 1; }

# The highest release tag reachable from the revision; pre-release and other tags are ignored.
last_tag=$(git tag --merged "$revision" --list 'v*' | grep -E '^v[0-9]+\.[0-9]+\.[0-9]+$' | sort -V | tail -n 1 || true)
if [ -n "$last_tag" ]; then
  range="$last_tag..$revision"
  base=${last_tag#v}
  log "last release tag $last_tag"
else
  range=$revision
  base=0.0.0
  log "no vX.Y.Z tag: every commit counts, base 0.0.0"
fi

# 3 = major, 2 = minor, 1 = patch, 0 = none. Each message is NUL-terminated so bodies may hold
# any text.
bump=0
count=0
while IFS= read -r -d '' message; do
  count=$((count + 1))
  subject=${message%%$'\n'*}
  level=0
  if [[ $subject =~ ^[a-zA-Z]+(\([^\)]*\))?!: ]] ||
    grep -qE '^BREAKING[ -]CHANGE: ' <<<"$message"; then
    level=3
  elif [[ $subject =~ ^feat(\([^\)]*\))?: ]]; then
    level=2
  elif [[ $subject =~ ^(fix|perf)(\([^\)]*\))?: ]]; then
    level=1
  fi
  if [ "$level" -gt "$bump" ]; then bump=$level; fi
done < <(git log -z --format=%B "$range")

IFS=. read -r major minor patch <<<"$base"
case $bump in
  3) next="$((major + 1)).0.0" ;;
  2) next="$major.$((minor + 1)).0" ;;
  1) next="$major.$minor.$((patch + 1))" ;;
  *) log "$count commit(s) since ${last_tag:-the start}, none is feat, fix, perf or breaking: no release"; exit 0 ;;
esac
log "$count commit(s) since ${last_tag:-the start}: $base -> $next"
echo "$next"
