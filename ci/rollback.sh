#!/usr/bin/env bash
# What both pipelines run when a stage after a deployment fails: put back what ran before.
#   Kubernetes: `kubectl rollout undo` of each Deployment (the previous ReplicaSet, kept by
#   Kubernetes), then wait until it is rolled out.
#   App Service: point each app back at the image it ran before the deployment (the pipeline
#   records it before deploying), then restart it.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: ci/rollback.sh [--help] [--timeout DURATION] kubernetes NAMESPACE DEPLOYMENT...
       ci/rollback.sh [--help] appservice RESOURCE_GROUP IMAGE APP...

  kubernetes  kubectl rollout undo deployment/DEPLOYMENT -n NAMESPACE, then rollout status
              (--timeout, default 5m). kubectl must point at the cluster already (aks-set-context
              / KubernetesManifest's service connection / az aks get-credentials).
  appservice  az webapp config container set --container-image-name IMAGE for each APP, then
              az webapp restart. IMAGE is the reference recorded before the deployment (a
              "DOCKER|" prefix, as in linuxFxVersion, is accepted). az must be logged in.

Each command is printed before it runs. Exits 1 when any rollback fails (every target is
still attempted).
USAGE
}

timeout=5m
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --timeout) timeout=${2:?--timeout needs a value}; shift 2 ;;
    -*) echo "rollback: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) break ;;
  esac
done

run() { echo "rollback: + $*"; "$@"; }
failures=0

rollback_kubernetes() {
  local namespace=$1 deployment
  shift
  command -v kubectl >/dev/null || { echo "rollback: kubectl is not installed" >&2; exit 1; }
  for deployment in "$@"; do
    if run kubectl rollout undo "deployment/$deployment" -n "$namespace" &&
      run kubectl rollout status "deployment/$deployment" -n "$namespace" --timeout "$timeout"; then
      echo "rollback: deployment/$deployment in $namespace is back on its previous revision"
    else
      echo "rollback: FAILED for deployment/$deployment in $namespace" >&2
      failures=$((failures + 1))
    fi
  done
}

rollback_appservice() {
  local group=$1 image=${2#DOCKER|} app
  shift 2
  command -v az >/dev/null || { echo "rollback: the Azure CLI (az) is not installed" >&2; exit 1; }
  for app in "$@"; do
    if run az webapp config container set --resource-group "$group" --name "$app" \
      --container-image-name "$image" --output none &&
      run az webapp restart --resource-group "$group" --name "$app" --output none; then
      echo "rollback: $app runs $image again"
    else
      echo "rollback: FAILED for $app" >&2
      failures=$((failures + 1))
    fi
  done
}

case "${1:-}" in
  kubernetes) [ $# -ge 3 ] || { usage >&2; exit 2; }; shift; rollback_kubernetes "$@" ;;
  appservice) [ $# -ge 4 ] || { usage >&2; exit 2; }; shift; rollback_appservice "$@" ;;
  *) usage >&2; exit 2 ;;
esac
if [ "$failures" -gt 0 ]; then
  echo "rollback: $failures rollback(s) failed" >&2
  exit 1
fi
