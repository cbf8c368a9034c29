#!/usr/bin/env bash
# Offline validation of the Kubernetes manifests, on what `kubectl apply -k` would send:
#   1. every overlay of k8s/ (environments, strategies, the Gateway) renders (ci/k8s-render.sh);
#   2. every rendered object passes kubernetes-validate --strict against the pinned Kubernetes version (k8s_version below);
#      a kind it has no schema for fails unless its API group is in the allow-list below
#      (custom resources the project's own tests check: tests/it/k8s);
#   3. checkov's Kubernetes policies pass, with the skips of k8s/.checkov.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=ci/python-tools.sh
. ci/python-tools.sh

readonly k8s_version=1.33.0
# Custom resources: the Gateway API (HTTPRoute, Gateway) and the Secrets Store CSI driver.
readonly allowed_groups='gateway.networking.k8s.io|secrets-store.csi.x-k8s.io'

case "${1:-}" in
  -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
esac

use_python_tools k8s kubernetes-validate==1.37.0
rendered=$(mktemp -d)
trap 'rm -rf "$rendered"' EXIT

mapfile -t overlays < <(find k8s -name kustomization.yaml -printf '%h\n' |
  grep -E '^k8s/(overlays|strategies)/[^/]+$|^k8s/gateway$' | sort)
for overlay in "${overlays[@]}"; do
  file="$rendered/$(echo "$overlay" | tr / -).yaml"
  ci/k8s-render.sh "$overlay" >"$file"
  echo "==> rendered $overlay ($(grep -c '^kind:' "$file") objects)"
done

echo "==> kubernetes-validate --strict -k $k8s_version"
report=$(kubernetes-validate --strict -k "$k8s_version" "$rendered"/*.yaml 2>&1) || {
  echo "$report" | grep -v '^INFO'
  exit 1
}
unknown=$(echo "$report" | grep '^WARN' | grep -Ev "api version ($allowed_groups)/" || true)
if [ -n "$unknown" ]; then
  echo "$unknown"
  echo "error: kinds without a schema outside the allow-list ($allowed_groups)" >&2
  exit 1
fi
echo "    $(echo "$report" | grep -c '^INFO.*passed') objects valid, $(echo "$report" | grep -c '^WARN') custom resources left to tests/it/k8s"

echo "==> checkov (kubernetes)"
ci/checkov.sh -d "$rendered" --config-file k8s/.checkov.yaml
