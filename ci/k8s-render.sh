#!/usr/bin/env bash
# Renders a kustomize overlay of k8s/ with the images a pipeline pushed, on stdout.
#
#   ci/k8s-render.sh k8s/overlays/qal                         # the manifests' own image names and tags
#   ci/k8s-render.sh k8s/overlays/qal myacr.azurecr.io 0.2.0  # <registry>/vote-app:0.2.0, router too
#
# The cluster's identity, when set in the environment, replaces the placeholders of the
# ServiceAccount and the SecretProviderClass: WORKLOAD_CLIENT_ID (the user-assigned identity's
# client id), AZURE_TENANT_ID, KEY_VAULT_NAME.
#
# kubectl's built-in kustomize has no `edit set image`: the images and identity are set by a
# kustomization written in a temporary directory that takes the overlay as its resource. The
# output is checked for images without a tag or tagged `latest`.
set -euo pipefail

usage() {
    awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"
    echo "Usage: ci/k8s-render.sh OVERLAY_DIR [REGISTRY [TAG]]"
}
die() { printf 'ci/k8s-render.sh: %s\n' "$*" >&2; exit 1; }

case "${1:-}" in
    -h | --help) usage; exit 0 ;;
    "") usage >&2; exit 2 ;;
esac
overlay=$1 registry=${2:-} tag=${3:-}
[ -f "$overlay/kustomization.yaml" ] || die "$overlay has no kustomization.yaml"
command -v kubectl >/dev/null || die "kubectl is required (it carries kustomize)"
[ -z "$tag" ] || [ -n "$registry" ] || die "a TAG needs a REGISTRY"

# The patches that put the cluster's identity in place of the placeholders, if it is given.
identity_patches() {
    local client=${WORKLOAD_CLIENT_ID:-} tenant=${AZURE_TENANT_ID:-} vault=${KEY_VAULT_NAME:-}
    [ -n "$client$tenant$vault" ] || return 0
    [ -n "$client" ] && [ -n "$tenant" ] && [ -n "$vault" ] ||
        die "set all three of WORKLOAD_CLIENT_ID, AZURE_TENANT_ID and KEY_VAULT_NAME, or none"
    printf 'patches:\n'
    printf '  - target: {kind: ServiceAccount, name: vote-app}\n    patch: |\n'
    printf '      - {op: replace, path: /metadata/annotations/azure.workload.identity~1client-id, value: "%s"}\n' "$client"
    printf '  - target: {kind: SecretProviderClass, name: vote-app-secrets}\n    patch: |\n'
    printf '      - {op: replace, path: /spec/parameters/clientID, value: "%s"}\n' "$client"
    printf '      - {op: replace, path: /spec/parameters/tenantId, value: "%s"}\n' "$tenant"
    printf '      - {op: replace, path: /spec/parameters/keyvaultName, value: "%s"}\n' "$vault"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# kustomize accepts only relative paths to other kustomizations.
relative=$(python3 -c 'import os, sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' "$overlay" "$work")
{
    printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n'
    printf 'resources:\n  - %s\n' "$relative"
    if [ -n "$registry" ]; then
        [[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ || -z "$tag" ]] || die "TAG $tag is not a valid image tag"
        printf 'images:\n'
        for image in vote-app router; do
            printf '  - name: %s\n    newName: %s/%s\n' "$image" "${registry%/}" "$image"
            [ -z "$tag" ] || printf '    newTag: "%s"\n' "$tag"
        done
    fi
    identity_patches
} >"$work/kustomization.yaml"
rendered=$(kubectl kustomize "$work")

# Every image must name a version: `image: name` alone means latest.
untagged=$(grep -E '^\s*image: ' <<<"$rendered" | grep -Ev ':[A-Za-z0-9_][A-Za-z0-9_.-]*$' || true)
latest=$(grep -E '^\s*image: .*:latest$' <<<"$rendered" || true)
[ -z "$untagged$latest" ] || die "images without a version: $(echo "$untagged$latest" | tr -s ' ')"
printf '%s\n' "$rendered"
