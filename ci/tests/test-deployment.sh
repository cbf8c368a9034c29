#!/usr/bin/env bash
# ci/smoke-test.sh, ci/load-test.sh and ci/canary-analysis.sh against the project's real images:
# Redis, two vote-app instances ("even", "odd") and the router on a private Docker network, a
# healthy canary, a canary whose Redis password is wrong, and the healthy canary starved of CPU
# (docker update --cpus). Every container is named after this run and removed on exit; readiness
# is polled, never slept on.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

require_docker
if [ -z "${VOTE_IT_APP_IMAGE:-}" ]; then
  eval "$("$ci/build-images.sh")"
fi
version=$("$ci/version.sh")
network="$run_id-net"
password=$(python3 -c 'import secrets; print(secrets.token_hex(12))')

cleanup() {
  docker ps -aq --filter "name=^$run_id-" | xargs -r docker rm -f >/dev/null 2>&1 || true
  docker network rm "$network" >/dev/null 2>&1 || true
}
trap cleanup EXIT
docker network create "$network" >/dev/null

# start NAME IMAGE [docker run options...] -- [command...]: a detached container on the network.
start() {
  local name="$run_id-$1" image=$2
  shift 2
  local options=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do options+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  docker run -d --name "$name" --network "$network" "${options[@]}" "$image" "$@" >/dev/null
}
# url NAME: the host URL of a container's published port 8080.
url() { echo "http://$(docker port "$run_id-$1" 8080/tcp | head -n 1)"; }
# vote_app NAME REDIS_PASSWORD
vote_app() {
  start "$1" "$VOTE_IT_APP_IMAGE" -p 127.0.0.1::8080 -e "REDIS=$run_id-redis:6379" \
    -e "REDIS_PWD=$2" -e "INSTANCE_NAME=$1" -e RUST_LOG=warn --
}

start redis "$VOTE_IT_REDIS_IMAGE" -- redis-server --requirepass "$password" --save ''
vote_app even "$password"
vote_app odd "$password"
vote_app canary "$password"
vote_app broken-canary "wrong-$password"
start router "$VOTE_IT_ROUTER_IMAGE" -p 127.0.0.1::8080 -e "ROUTER_UPSTREAM_EVEN=http://$run_id-even:8080" \
  -e "ROUTER_UPSTREAM_ODD=http://$run_id-odd:8080" -e RUST_LOG=warn --
# A router whose odd upstream does not exist: half of the routing is broken.
start half-router "$VOTE_IT_ROUTER_IMAGE" -p 127.0.0.1::8080 \
  -e "ROUTER_UPSTREAM_EVEN=http://$run_id-even:8080" -e "ROUTER_UPSTREAM_ODD=http://$run_id-nowhere:8080" \
  -e ROUTER_HEALTH_INTERVAL_MS=200 -e RUST_LOG=warn --

even=$(url even) odd=$(url odd) canary=$(url canary) broken=$(url broken-canary)
router=$(url router) half_router=$(url half-router)
for instance in "$even" "$odd" "$canary"; do wait_for_http "$instance/ready" 60; done
wait_for_http "$broken/health" 60
wait_for_http "$router/router/health" 60
wait_for_http "$half_router/router/health" 60
echo "stack up: even $even, odd $odd, router $router"

echo "ci/smoke-test.sh"
assert_ok "passes on one instance with the expected version" \
  "$ci/smoke-test.sh" --expect-version "$version" "$even"
assert_output "routing not checked" "says routing is not checked without a router"
assert_fails "fails on another expected version" "says $version, expected 0\.0\.0-other" \
  "$ci/smoke-test.sh" --timeout 5 --expect-version 0.0.0-other "$even"
assert_fails "fails when /ready never answers (Redis refuses the password)" "/ready did not answer 200" \
  "$ci/smoke-test.sh" --timeout 3 "$broken"
assert_ok "passes through the router: answers routed by the router's minute, both upstreams healthy" \
  "$ci/smoke-test.sh" --expect-version "$version" "$router"
assert_output "[0-9]+ answers routed to the minute's parity" "it judged routed answers"
# Half broken: the odd minute's answers are fallbacks, the even minute's router status shows odd
# down; either way the smoke test must fail. On a loaded machine the router may also see the even
# instance's probes time out for a while and answer 502 (no upstream reachable): a failure too.
assert_fails "fails when one upstream behind the router is down" "fallback|unhealthy|could not be reached" \
  "$ci/smoke-test.sh" --timeout 10 "$half_router"

echo "ci/load-test.sh"
assert_ok "casts 300 votes through the router and finds exactly 300 more" \
  "$ci/load-test.sh" --concurrency 8 "$router" 300
assert_output '\+300$' "the counts grew by 300"
assert_output 'votes/s; p50 [0-9.]+ ms, p99 [0-9.]+ ms; errors 0' "reports throughput, latency and errors"
choices=$(curl -fsS "$even/api/votes" | python3 -c 'import json,sys; print(",".join(sorted(c["name"] for c in json.load(sys.stdin)["choices"])))')
assert_eq "Cats,Dogs" "$choices" "no new choice was created"
assert_fails "fails clearly when the app cannot count (Redis refuses its password)" \
  "cannot read the counts before the run" "$ci/load-test.sh" --choices Cats,Dogs "$broken" 20
assert_fails "a p99 bound it cannot meet fails the run" "p99 .* above the 0.001 ms bound" \
  "$ci/load-test.sh" --max-p99-ms 0.001 "$even" 20

echo "ci/canary-analysis.sh"
# The comparison table of the last analysis, for the reader of the test log.
show_comparison() { grep -E '^ +requests|^(stable|canary) ' <<<"$output" | sed 's/^/         /'; }
assert_ok "promotes a healthy canary under the same load" \
  "$ci/canary-analysis.sh" --traffic 1000 "$even" "$canary"
assert_output "^canary-analysis: PROMOTE$" "prints PROMOTE with the comparison"
show_comparison
assert_fails "rejects a canary whose Redis password is wrong, under the same load" \
  "canary 5xx ratio 1\.0000 > stable 0\.0000.*REJECT|REJECT" \
  "$ci/canary-analysis.sh" --traffic 1000 "$even" "$broken"
assert_output "canary 5xx ratio" "the reason is the canary's error ratio"
show_comparison
# A slower build: the same canary with a fiftieth of a CPU (docker update --cpus).
docker update --cpus 0.02 "$run_id-canary" >/dev/null
assert_fails "rejects a canary made slow, under the same load" \
  "canary p99 .* ms > .* of its requests are slower than that" \
  "$ci/canary-analysis.sh" --traffic 1000 "$even" "$canary"
assert_output "^canary-analysis: REJECT$" "prints REJECT"
show_comparison
docker update --cpus 0 "$run_id-canary" >/dev/null
assert_fails "takes its window from a command after --; a canary with no traffic is rejected" \
  "the canary served 0 requests" \
  "$ci/canary-analysis.sh" --min-requests 20 "$even" "$canary" -- \
  "$ci/load-test.sh" --no-check --concurrency 2 "$even" 30
assert_output "the run of: .*load-test.sh" "the window was the command's run"
assert_output "^stable +3[0-9] " "the stable's window holds that command's 30 votes"
assert_fails "rejects without traffic: no evidence" "fewer than 50: no evidence" \
  "$ci/canary-analysis.sh" --window 1 "$even" "$canary"
assert_fails "rejects a canary whose metrics cannot be read" "cannot read the canary's metrics" \
  "$ci/canary-analysis.sh" --window 1 "$even" "http://127.0.0.1:$(free_port)"
finish
