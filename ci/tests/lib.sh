# shellcheck shell=bash
# shellcheck disable=SC2034  # variables for the tests that source this file
# Helpers shared by the ci/ script tests: assertions that print what they checked, and the
# requirements a test states up front (a test that needs Docker fails without it, never skips).

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ci="$repo/ci"
# A name unique to this run, for every container, network and directory a test creates.
run_id="ci-test-$$-${RANDOM}"
checks=0

fail() { printf '  FAIL %s\n' "$*" >&2; exit 1; }
pass() { checks=$((checks + 1)); printf '  ok   %s\n' "$*"; }

# assert_eq EXPECTED ACTUAL DESCRIPTION
assert_eq() {
  if [ "$1" = "$2" ]; then pass "$3"; else fail "$3: expected '$1', got '$2'"; fi
}

# assert_ok DESCRIPTION COMMAND...: the command succeeds; its output is kept in $output.
assert_ok() {
  local description=$1
  shift
  if output=$("$@" 2>&1); then pass "$description"; else
    printf '%s\n' "$output" >&2
    fail "$description: '$*' exited non-zero"
  fi
}

# assert_fails DESCRIPTION PATTERN COMMAND...: the command exits non-zero and its output
# (stdout and stderr) matches the extended regular expression PATTERN.
assert_fails() {
  local description=$1 pattern=$2
  shift 2
  if output=$("$@" 2>&1); then
    printf '%s\n' "$output" >&2
    fail "$description: '$*' succeeded"
  fi
  if grep -qE "$pattern" <<<"$output"; then pass "$description"; else
    printf '%s\n' "$output" >&2
    fail "$description: output does not match /$pattern/"
  fi
}

# assert_output PATTERN DESCRIPTION: the last assert_ok/assert_fails output matches PATTERN.
assert_output() {
  if grep -qE "$1" <<<"$output"; then pass "$2"; else
    printf '%s\n' "$output" >&2
    fail "$2: output does not match /$1/"
  fi
}

require_docker() {
  docker info >/dev/null 2>&1 ||
    fail "this test needs a Docker engine (docker info failed); it does not skip"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for_http URL SECONDS: polls until URL answers 200 (or fails the test).
wait_for_http() {
  local url=$1 deadline=$((SECONDS + $2))
  until curl -fsS --max-time 2 -o /dev/null "$url" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || fail "$url did not answer 200 within $2 s"
    sleep 0.2
  done
}

finish() { printf '  %d checks passed\n' "$checks"; }
