#!/usr/bin/env bash
# The course's "manual first" phase: deploys the vote-app to App Service with the Azure CLI, one
# visible command at a time, before terraform/ does the same (and more) declaratively.
#
# Creates, in order: a resource group, a container registry (no admin user), the image built in
# Azure by `az acr build`, a Linux App Service plan, a web app with a system-assigned identity
# that pulls from the registry (AcrPull, no registry password), its app settings, HTTPS-only and
# TLS 1.2, health check, container logging; then shows how to follow its logs.
#
# Idempotent: each object is created only when `az ... show` does not find it, the image is built
# only when its tag is not in the registry yet, and settings are set to the same values again.
#
# Names are globally unique through a suffix: --suffix, else the first 6 hex digits of the
# SHA-256 of "<subscription id>/<resource group>", so a re-run finds the same names.
#
# Usage: deploy/appservice-cli.sh [options]
#   --dry-run              print every az command instead of running it (needs no Azure login;
#                          objects are assumed absent, values only known in Azure are <...>)
#   --suffix SUFFIX        name suffix (3-12 lower-case letters or digits)
#   --resource-group NAME  default rg-vote-manual
#   --location REGION      default francecentral
#   --sku SKU              App Service plan SKU, default B1
#   --image-tag TAG        default: the current git commit (short), else "manual"
#   --tail                 finish with `az webapp log tail` (runs until Ctrl-C)
#   -h, --help             this help
set -euo pipefail
cd "$(dirname "$0")/.."

dry_run=false
tail_logs=false
suffix=""
resource_group="rg-vote-manual"
location="francecentral"
sku="B1"
image_tag="$(git rev-parse --short=12 HEAD 2>/dev/null || echo manual)"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
fail() { echo "appservice-cli.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry_run=true ;;
    --tail) tail_logs=true ;;
    --suffix) suffix="${2:?--suffix needs a value}"; shift ;;
    --resource-group) resource_group="${2:?--resource-group needs a value}"; shift ;;
    --location) location="${2:?--location needs a value}"; shift ;;
    --sku) sku="${2:?--sku needs a value}"; shift ;;
    --image-tag) image_tag="${2:?--image-tag needs a value}"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) fail "unknown argument $1 (see --help)" ;;
  esac
  shift
done

# A dry run prints its commands on the script's stdout (fd 3), also from inside $(...).
exec 3>&1

# Runs an az command, or prints it (shell-quoted, so it can be copied) in a dry run.
run() {
  if $dry_run; then
    printf '%q ' "$@" | sed 's/ $//' >&3
    echo >&3
  else
    echo "+ $*" >&2
    "$@"
  fi
}

# Runs an az command whose output the script needs; a dry run prints it and answers $1.
capture() {
  local placeholder=$1
  shift
  if $dry_run; then
    run "$@"
    echo "$placeholder"
  else
    "$@"
  fi
}

# Whether an object exists (`az ... show`); a dry run prints the check and assumes it does not.
exists() {
  if $dry_run; then
    run "$@"
    return 1
  fi
  "$@" >/dev/null 2>&1
}

if [ -z "$suffix" ]; then
  subscription=$(capture "<subscription-id>" az account show --query id --output tsv)
  suffix=$(printf '%s/%s' "$subscription" "$resource_group" | sha256sum | cut -c1-6)
fi
[[ "$suffix" =~ ^[a-z0-9]{3,12}$ ]] || fail "--suffix must be 3-12 lower-case letters or digits"

registry="acrvote${suffix}"
plan="asp-vote-${suffix}"
app="app-vote-${suffix}"
image="vote-app:${image_tag}"
echo "unique suffix: ${suffix} (registry ${registry}, plan ${plan}, web app ${app})" >&2

exists az group show --name "$resource_group" ||
  run az group create --name "$resource_group" --location "$location"

exists az acr show --name "$registry" --resource-group "$resource_group" ||
  run az acr create --name "$registry" --resource-group "$resource_group" --sku Basic --admin-enabled false

# Built in Azure from this checkout: no local Docker needed, and the image never leaves Azure.
exists az acr repository show --name "$registry" --image "$image" ||
  run az acr build --registry "$registry" --image "$image" --file vote-app/Dockerfile \
    --build-arg "GIT_COMMIT=${image_tag}" .

exists az appservice plan show --name "$plan" --resource-group "$resource_group" ||
  run az appservice plan create --name "$plan" --resource-group "$resource_group" \
    --location "$location" --is-linux --sku "$sku"

registry_server="${registry}.azurecr.io"
exists az webapp show --name "$app" --resource-group "$resource_group" ||
  run az webapp create --name "$app" --resource-group "$resource_group" --plan "$plan" \
    --container-image-name "${registry_server}/${image}" --assign-identity "[system]" --https-only true

# The web app pulls with its own identity: AcrPull on this registry, nothing else.
principal=$(capture "<principal-id-of-${app}>" az webapp identity show --name "$app" \
  --resource-group "$resource_group" --query principalId --output tsv)
registry_id=$(capture "<resource-id-of-${registry}>" az acr show --name "$registry" \
  --resource-group "$resource_group" --query id --output tsv)
run az role assignment create --assignee-object-id "$principal" \
  --assignee-principal-type ServicePrincipal --role AcrPull --scope "$registry_id"
run az webapp config set --name "$app" --resource-group "$resource_group" \
  --generic-configurations '{"acrUseManagedIdentityCreds": true}'
run az webapp config container set --name "$app" --resource-group "$resource_group" \
  --container-image-name "${registry_server}/${image}" --container-registry-url "https://${registry_server}"

# No REDIS_URL in the manual phase: the app counts in memory and says so in its log. Redis, the
# ledger and Key Vault references come with terraform/.
run az webapp config appsettings set --name "$app" --resource-group "$resource_group" \
  --settings WEBSITES_PORT=8080 PORT=8080 INSTANCE_NAME=manual LOG_FORMAT=json
run az webapp config set --name "$app" --resource-group "$resource_group" \
  --ftps-state Disabled --min-tls-version 1.2 --health-check-path /health --always-on true
run az webapp log config --name "$app" --resource-group "$resource_group" \
  --docker-container-logging filesystem

echo "web app: https://${app}.azurewebsites.net" >&2
echo "its logs, live:" >&2
if $tail_logs; then
  run az webapp log tail --name "$app" --resource-group "$resource_group"
else
  echo "  az webapp log tail --name ${app} --resource-group ${resource_group}" >&2
fi
