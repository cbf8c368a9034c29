#!/usr/bin/env bash
# The blue-green switch of k8s/strategies/blue-green: the Service vote-app selects one slot
# (blue or green); the other is idle.
#
#   ci/k8s-blue-green.sh NAMESPACE [IMAGE]
#
# 1. IMAGE given: the idle slot runs it; in any case, wait for the idle slot's rollout.
# 2. Smoke-test the idle slot through its own Service (vote-app-<slot>); stop if it fails.
# 3. Switch the Service vote-app to the idle slot.
# 4. Smoke-test through vote-app; if that fails, switch back and exit 1.
# Smoke tests run ci/smoke-test.sh over `kubectl port-forward` (SMOKE_TIMEOUT, default 120 s).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }
die() { printf 'ci/k8s-blue-green.sh: %s\n' "$*" >&2; exit 1; }

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  "") usage >&2; exit 2 ;;
esac
namespace=$1 image=${2:-}
k() { kubectl --namespace "$namespace" "$@"; }

# smoke SERVICE: ci/smoke-test.sh against SERVICE through a port-forward.
smoke() {
  local log forwarder port=""
  log=$(mktemp)
  # kubectl itself in the background (not the `k` function, whose subshell would be what $!
  # names), so that killing $forwarder stops the port-forward.
  kubectl --namespace "$namespace" port-forward "service/$1" :80 >"$log" 2>&1 &
  forwarder=$!
  for _ in $(seq 100); do
    port=$(sed -nE 's/^Forwarding from 127\.0\.0\.1:([0-9]+) .*/\1/p' "$log" | head -n 1)
    [ -n "$port" ] || ! kill -0 "$forwarder" 2>/dev/null || { sleep 0.1; continue; }
    break
  done
  local status=0
  if [ -z "$port" ]; then
    cat "$log" >&2
    status=1
  else
    ci/smoke-test.sh --timeout "${SMOKE_TIMEOUT:-120}" "http://127.0.0.1:$port" || status=$?
  fi
  kill "$forwarder" 2>/dev/null || true
  wait "$forwarder" 2>/dev/null || true
  rm -f "$log"
  return "$status"
}

switch_to() {
  echo "==> Service vote-app -> slot $1"
  k patch service vote-app -p "{\"spec\": {\"selector\": {\"slot\": \"$1\"}}}"
}

live=$(k get service vote-app -o jsonpath='{.spec.selector.slot}')
case "$live" in
  blue) idle=green ;;
  green) idle=blue ;;
  *) die "Service vote-app selects slot '$live', expected blue or green" ;;
esac
echo "==> live slot: $live, releasing to: $idle"

if [ -n "$image" ]; then
  k set image "deployment/vote-app-$idle" "vote-app=$image"
fi
k rollout status "deployment/vote-app-$idle" --timeout "${ROLLOUT_TIMEOUT:-300s}"
smoke "vote-app-$idle" || die "slot $idle failed its smoke test; traffic stays on $live"

switch_to "$idle"
if ! smoke vote-app; then
  switch_to "$live"
  die "the smoke test through vote-app failed after the switch; switched back to $live"
fi
echo "==> slot $idle is live; $live is idle (run this again to switch back)"
