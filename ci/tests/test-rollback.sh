#!/usr/bin/env bash
# ci/rollback.sh's decisions, with kubectl and az replaced by recorders on PATH (no cluster or
# Azure subscription exists here): which commands run, in which order, that every target is
# attempted when one fails, and that any failure fails the script.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

bin=$(mktemp -d "/tmp/$run_id.XXXXXX")
trap 'rm -rf "$bin"' EXIT
# A recorder: appends its arguments to calls.log; fails when they match $FAIL_ON.
for tool in kubectl az; do
  cat >"$bin/$tool" <<TOOL
#!/usr/bin/env bash
echo "$tool \$*" >>"$bin/calls.log"
if [ -n "\${FAIL_ON:-}" ] && [[ "\$*" == *"\$FAIL_ON"* ]]; then exit 1; fi
TOOL
  chmod +x "$bin/$tool"
done
calls() { cat "$bin/calls.log"; rm -f "$bin/calls.log"; }

echo "ci/rollback.sh kubernetes"
assert_ok "undoes each deployment, then waits for it" \
  env PATH="$bin:$PATH" "$ci/rollback.sh" --timeout 2m kubernetes prod vote-app router
assert_eq "kubectl rollout undo deployment/vote-app -n prod
kubectl rollout status deployment/vote-app -n prod --timeout 2m
kubectl rollout undo deployment/router -n prod
kubectl rollout status deployment/router -n prod --timeout 2m" "$(calls)" "undo then status, per deployment, in order"
assert_fails "a failed undo fails the script, and the next deployment is still rolled back" \
  "FAILED for deployment/vote-app.*|1 rollback\(s\) failed" \
  env PATH="$bin:$PATH" FAIL_ON="undo deployment/vote-app" "$ci/rollback.sh" kubernetes prod vote-app router
assert_output "deployment/router in prod is back on its previous revision" "router was still rolled back"
calls >/dev/null

echo "ci/rollback.sh appservice"
assert_ok "points each app back at the recorded image and restarts it" \
  env PATH="$bin:$PATH" "$ci/rollback.sh" appservice rg-vote "DOCKER|acr.azurecr.io/vote-app:0.1.0" even odd
assert_eq "az webapp config container set --resource-group rg-vote --name even --container-image-name acr.azurecr.io/vote-app:0.1.0 --output none
az webapp restart --resource-group rg-vote --name even --output none
az webapp config container set --resource-group rg-vote --name odd --container-image-name acr.azurecr.io/vote-app:0.1.0 --output none
az webapp restart --resource-group rg-vote --name odd --output none" "$(calls)" \
  "the linuxFxVersion prefix DOCKER| is dropped; set then restart, per app"
assert_fails "a failed restart fails the script" "1 rollback\(s\) failed" \
  env PATH="$bin:$PATH" FAIL_ON="restart --resource-group rg-vote --name odd" \
  "$ci/rollback.sh" appservice rg-vote acr.azurecr.io/vote-app:0.1.0 even odd
calls >/dev/null
assert_fails "refuses a missing target" "Usage" "$ci/rollback.sh" kubernetes prod
finish
