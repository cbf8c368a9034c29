#!/usr/bin/env bash
# Sets the release version everywhere it is written down: [workspace.package] in Cargo.toml (the
# source of truth), the workspace members' entries in Cargo.lock (so `--locked` builds keep
# working), and the image tags of the Kubernetes bases (a test keeps them equal to Cargo.toml).
#
#   ci/set-version.sh 0.2.0
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
  "") echo "usage: ci/set-version.sh VERSION" >&2; exit 2 ;;
esac
version=$1
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] ||
  { echo "ci/set-version.sh: '$version' is not a semantic version" >&2; exit 1; }

echo "==> Cargo.toml: version $version"
sed -i "/^\[workspace\.package\]/,/^\[/ s/^version = \".*\"/version = \"$version\"/" Cargo.toml
[ "$(ci/version.sh)" = "$version" ] || { echo "ci/set-version.sh: Cargo.toml was not updated" >&2; exit 1; }
echo "==> Cargo.lock: the workspace members"
cargo update --workspace --quiet
for base in k8s/base/vote-app k8s/base/router; do
  echo "==> $base: image tag $version"
  sed -i "s/^    newTag: .*/    newTag: $version/" "$base/kustomization.yaml"
  grep -q "^    newTag: $version$" "$base/kustomization.yaml" ||
    { echo "ci/set-version.sh: no image tag in $base/kustomization.yaml" >&2; exit 1; }
done
