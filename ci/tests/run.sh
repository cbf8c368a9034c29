#!/usr/bin/env bash
# Runs every ci/tests/test-*.sh (or the ones named) and reports each one's result and time.
# The registry and deployment tests need Docker and the project's images (they build them
# through ci/build-images.sh when VOTE_IT_APP_IMAGE is not set).
#
# Usage: ci/tests/run.sh [ci/tests/test-NAME.sh...]
set -euo pipefail
cd "$(dirname "$0")/../.."

case "${1:-}" in
  -h | --help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(ci/tests/test-*.sh)
# The images once for every test that needs them (each test would build them otherwise). With
# no Docker engine the tests that need one fail and say so; the others still run.
if [ -z "${VOTE_IT_APP_IMAGE:-}" ] && docker info >/dev/null 2>&1; then
  eval "$(ci/build-images.sh)"
fi
failed=()
for test in "${tests[@]}"; do
  start=$SECONDS
  echo "==> $test"
  if bash "$test"; then
    echo "    passed in $((SECONDS - start)) s"
  else
    echo "    FAILED in $((SECONDS - start)) s" >&2
    failed+=("$test")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "ci/tests: ${#failed[@]} of ${#tests[@]} failed: ${failed[*]}" >&2
  exit 1
fi
echo "ci/tests: all ${#tests[@]} passed"
