#!/usr/bin/env bash
# ci/k8s-render.sh on the real overlays; ci/k8s-canary.sh and ci/k8s-blue-green.sh against a kubectl stand-in (ci/tests/fake/kubectl,
# which keeps the objects they change in a JSON file) and, for the smoke tests of blue-green,
# real vote-app containers: a healthy one, and one whose Redis is unreachable (/ready answers
# 503). What is checked is what the scripts leave behind: images, replicas, weights, the live
# slot, including when a step fails.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

require_docker
image=${VOTE_IT_APP_IMAGE:-vote-app:test}
docker image inspect "$image" >/dev/null 2>&1 ||
  fail "image $image is missing: run eval \"\$(ci/build-images.sh)\" first"
work=$(mktemp -d)
cleanup() {
  docker ps -aq --filter "name=^$run_id-" | xargs -r docker rm -f >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
echo "-- render"
assert_ok "render an overlay with the pushed images" "$ci/k8s-render.sh" "$repo/k8s/overlays/minute-parity" acr.io/team 1.2.3-abc1234
assert_eq 3 "$(grep -cE 'image: acr.io/team/(vote-app|router):1.2.3-abc1234$' <<<"$output")" "both vote-apps and the router run the pushed tag"
assert_fails "a latest tag is refused" "without a version" "$ci/k8s-render.sh" "$repo/k8s/overlays/qal" acr.io/team latest
WORKLOAD_CLIENT_ID=1111 AZURE_TENANT_ID=2222 KEY_VAULT_NAME=kv-vote \
  assert_ok "render with the cluster's identity" "$ci/k8s-render.sh" "$repo/k8s/overlays/qal"
assert_eq 2 "$(grep -cE '(clientID|client-id): "?1111"?$' <<<"$output")" "the ServiceAccount and the SecretProviderClass name the identity"
assert_output 'keyvaultName: kv-vote$' "the SecretProviderClass names the vault"
WORKLOAD_CLIENT_ID=1111 assert_fails "half an identity is refused" "or none" "$ci/k8s-render.sh" "$repo/k8s/overlays/qal"

export PATH="$repo/ci/tests/fake:$PATH" FAKE_KUBE_STATE="$work/state.json" FAKE_KUBE_LOG="$work/calls.log"
export SMOKE_TIMEOUT=5 ROLLOUT_TIMEOUT=10s

# state KEY.PATH: a value of the stand-in's state.
state() { python3 -c "import json,sys; v=json.load(open('$FAKE_KUBE_STATE'))
for key in sys.argv[1].split('.'): v = v[int(key)] if key.isdigit() else v[key]
print(v)" "$1"; }

echo "-- canary"
cat >"$FAKE_KUBE_STATE" <<'JSON'
{"deployments": {"vote-app-stable": {"image": "acr.io/vote-app:1.0.0", "replicas": 2},
                 "vote-app-canary": {"image": "acr.io/vote-app:1.0.0", "replicas": 0}},
 "routes": {"vote-app": [{"name": "vote-app-stable", "weight": 100},
                         {"name": "vote-app-canary", "weight": 0}]}}
JSON
assert_ok "deploy a canary" "$ci/k8s-canary.sh" deploy prod acr.io/vote-app:1.1.0
assert_eq acr.io/vote-app:1.1.0 "$(state deployments.vote-app-canary.image)" "the canary runs the new image"
assert_eq 2 "$(state deployments.vote-app-canary.replicas)" "the canary has pods"
assert_eq "70 30" "$(state routes.vote-app.0.weight) $(state routes.vote-app.1.weight)" "stable 70 %, canary 30 %"
assert_ok "promote it" "$ci/k8s-canary.sh" promote prod
assert_eq acr.io/vote-app:1.1.0 "$(state deployments.vote-app-stable.image)" "stable runs the canary's image"
assert_eq "100 0" "$(state routes.vote-app.0.weight) $(state routes.vote-app.1.weight)" "stable takes all traffic"
assert_eq 0 "$(state deployments.vote-app-canary.replicas)" "the canary is scaled to zero"

CANARY_WEIGHT=10 assert_ok "deploy another canary at 10 %" "$ci/k8s-canary.sh" deploy prod acr.io/vote-app:1.2.0
assert_eq "90 10" "$(state routes.vote-app.0.weight) $(state routes.vote-app.1.weight)" "the weight is the one asked for"
assert_ok "reject it" "$ci/k8s-canary.sh" reject prod
assert_eq acr.io/vote-app:1.1.0 "$(state deployments.vote-app-stable.image)" "stable keeps its image"
assert_eq "100 0 0" "$(state routes.vote-app.0.weight) $(state routes.vote-app.1.weight) $(state deployments.vote-app-canary.replicas)" "all traffic back to stable, no canary pod"

python3 - "$FAKE_KUBE_STATE" <<'PY'
import json, sys
state = json.load(open(sys.argv[1]))
state["failing_rollouts"] = ["vote-app-canary"]
json.dump(state, open(sys.argv[1], "w"))
PY
assert_fails "a canary whose pods never get ready gets no traffic" "exceeded its progress deadline" \
  "$ci/k8s-canary.sh" deploy prod acr.io/vote-app:1.3.0
assert_eq "100 0" "$(state routes.vote-app.0.weight) $(state routes.vote-app.1.weight)" "the weights did not move"
python3 - "$FAKE_KUBE_STATE" <<'PY'
import json, sys
state = json.load(open(sys.argv[1]))
state["failing_rollouts"] = []
state["routes"]["vote-app"].reverse()
json.dump(state, open(sys.argv[1], "w"))
PY
assert_fails "an HTTPRoute whose backends are not stable then canary is not changed" "test operation" \
  "$ci/k8s-canary.sh" deploy prod acr.io/vote-app:1.3.0
assert_fails "deploy without an image is refused" "needs the IMAGE" "$ci/k8s-canary.sh" deploy prod

echo "-- blue-green"
docker run -d --name "$run_id-healthy" -p 127.0.0.1::8080 -e RUST_LOG=warn "$image" >/dev/null
docker run -d --name "$run_id-broken" -p 127.0.0.1::8080 -e RUST_LOG=warn \
  -e REDIS_URL=redis://127.0.0.1:1/0 "$image" >/dev/null
port_of() { docker port "$run_id-$1" 8080/tcp | head -n 1 | cut -d: -f2; }
healthy=$(port_of healthy) broken=$(port_of broken)
wait_for_http "http://127.0.0.1:$healthy/ready" 60
wait_for_http "http://127.0.0.1:$broken/health" 60

# blue_green_state GREEN_PORT [VOTE_APP_PORT]: blue is live; the Service vote-app forwards to
# the live slot unless VOTE_APP_PORT says otherwise.
blue_green_state() {
  local forwards="\"vote-app-blue\": $healthy, \"vote-app-green\": $1"
  [ -z "${2:-}" ] || forwards="$forwards, \"vote-app\": $2"
  : >"$FAKE_KUBE_LOG"
  cat >"$FAKE_KUBE_STATE" <<JSON
{"deployments": {"vote-app-blue": {"image": "acr.io/vote-app:1.0.0", "replicas": 2},
                 "vote-app-green": {"image": "acr.io/vote-app:1.0.0", "replicas": 2}},
 "services": {"vote-app": {"slot": "blue"}}, "forwards": {$forwards}}
JSON
}
blue_green_state "$healthy"
assert_ok "release to the idle slot" "$ci/k8s-blue-green.sh" strategy-blue-green acr.io/vote-app:1.1.0
assert_eq "green acr.io/vote-app:1.1.0" "$(state services.vote-app.slot) $(state deployments.vote-app-green.image)" "green runs the release and is live"
assert_eq acr.io/vote-app:1.0.0 "$(state deployments.vote-app-blue.image)" "blue keeps the previous version to switch back to"

blue_green_state "$broken"
assert_fails "an idle slot that fails its smoke test is not switched to" "traffic stays on blue" \
  "$ci/k8s-blue-green.sh" strategy-blue-green acr.io/vote-app:1.1.0
assert_eq blue "$(state services.vote-app.slot)" "blue stays live"
if grep -q "patch service" "$FAKE_KUBE_LOG"; then fail "the Service was patched"; fi
pass "the Service was never touched"

blue_green_state "$healthy" "$broken"
assert_fails "a failed smoke test after the switch switches back" "switched back to blue" \
  "$ci/k8s-blue-green.sh" strategy-blue-green
assert_eq blue "$(state services.vote-app.slot)" "blue is live again"
# Every smoke test's port-forward is stopped when it is done (this run's stand-ins log to $work).
assert_eq 0 "$(pgrep -fc "fake/kubectl --namespace strategy-blue-green port-forward" || true)" \
  "no port-forward is left running"
finish
