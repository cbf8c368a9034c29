#!/usr/bin/env bash
# The Gateway API canary of k8s/components/canary (overlays/prod-canary): vote-app-stable and
# vote-app-canary behind one HTTPRoute whose weights split the traffic.
#
#   ci/k8s-canary.sh deploy NAMESPACE IMAGE   canary runs IMAGE, then gets CANARY_WEIGHT % (30)
#   ci/k8s-canary.sh promote NAMESPACE        stable runs the canary's image, takes 100 %,
#                                             the canary scales to zero
#   ci/k8s-canary.sh reject NAMESPACE         stable takes 100 % back, the canary scales to zero
#
# Each step waits for its rollout (ROLLOUT_TIMEOUT, default 300s) before traffic moves to it,
# and prints the weights it leaves. kubectl must point at the cluster (az aks get-credentials).
set -euo pipefail

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }
die() { printf 'ci/k8s-canary.sh: %s\n' "$*" >&2; exit 1; }

action=${1:-} namespace=${2:-}
case "$action" in
  -h | --help) usage; exit 0 ;;
  deploy | promote | reject) [ -n "$namespace" ] || { usage >&2; exit 2; } ;;
  *) usage >&2; exit 2 ;;
esac
weight=${CANARY_WEIGHT:-30}
[[ "$weight" =~ ^[0-9]+$ && "$weight" -le 100 ]] || die "CANARY_WEIGHT=$weight is not 0-100"
timeout=${ROLLOUT_TIMEOUT:-300s}
k() { kubectl --namespace "$namespace" "$@"; }

# set_weights STABLE CANARY: the HTTPRoute's two backendRefs, in the order of httproute.yaml.
set_weights() {
  echo "==> weights: vote-app-stable $1 %, vote-app-canary $2 %"
  k patch httproute vote-app --type=json -p "[
    {\"op\": \"test\", \"path\": \"/spec/rules/0/backendRefs/0/name\", \"value\": \"vote-app-stable\"},
    {\"op\": \"replace\", \"path\": \"/spec/rules/0/backendRefs/0/weight\", \"value\": $1},
    {\"op\": \"test\", \"path\": \"/spec/rules/0/backendRefs/1/name\", \"value\": \"vote-app-canary\"},
    {\"op\": \"replace\", \"path\": \"/spec/rules/0/backendRefs/1/weight\", \"value\": $2}]"
}

# roll DEPLOYMENT IMAGE: runs IMAGE in DEPLOYMENT and waits until every pod is ready.
roll() {
  echo "==> $1: image $2"
  k set image "deployment/$1" "vote-app=$2"
  k rollout status "deployment/$1" --timeout "$timeout"
}

retire_canary() {
  echo "==> vote-app-canary: scaled to zero"
  k scale deployment/vote-app-canary --replicas 0
}

case "$action" in
  deploy)
    image=${3:-}
    [ -n "$image" ] || die "deploy needs the IMAGE to release"
    k scale deployment/vote-app-canary --replicas "${CANARY_REPLICAS:-2}"
    roll vote-app-canary "$image"
    set_weights $((100 - weight)) "$weight"
    ;;
  promote)
    image=$(k get deployment/vote-app-canary -o jsonpath='{.spec.template.spec.containers[0].image}')
    [ -n "$image" ] || die "no canary image in namespace $namespace"
    roll vote-app-stable "$image"
    set_weights 100 0
    retire_canary
    ;;
  reject)
    set_weights 100 0
    retire_canary
    ;;
esac
echo "==> canary $action done in namespace $namespace"
