#!/usr/bin/env bash
# ci/version-gate.sh and ci/push-images.sh against a real registry: Debian's docker-registry (the
# CNCF Distribution registry) started as a process on a free port, and the project's real images.
# The gate says `build` before the push and `skip` after it, as the course's rule requires.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

require_docker
command -v docker-registry >/dev/null ||
  fail "docker-registry is not installed (Debian/Ubuntu: apt-get install docker-registry)"
if [ -z "${VOTE_IT_APP_IMAGE:-}" ]; then
  eval "$("$ci/build-images.sh")"
fi
version=$("$ci/version.sh")
for image in vote-app router; do
  docker image inspect "$image:$version" >/dev/null 2>&1 || fail "no local image $image:$version"
done

work=$(mktemp -d "/tmp/$run_id.XXXXXX")
port=$(free_port)
registry="127.0.0.1:$port"
cleanup() {
  kill "$(cat "$work/pid" 2>/dev/null)" 2>/dev/null || true
  # Only the tags this test made; the images themselves stay.
  docker image ls --format '{{.Repository}}:{{.Tag}}' | { grep -F "$registry/" || true; } |
    xargs -r docker rmi >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $work/storage
http:
  addr: $registry
YAML
docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
echo $! >"$work/pid"
wait_for_http "http://$registry/v2/" 30
echo "registry at $registry"

echo "ci/version-gate.sh before the push"
assert_eq build "$("$ci/version-gate.sh" "$registry" vote-app 2>/dev/null)" "vote-app:$version absent: build"
assert_eq build "$("$ci/version-gate.sh" "http://$registry" router 2>/dev/null)" "router:$version absent (scheme given): build"

echo "ci/push-images.sh"
commit=$(git -C "$repo" rev-parse HEAD)
assert_ok "pushes both images" "$ci/push-images.sh" "$registry"
pushed=$(grep -cE "^$registry/(vote-app|router):$version(-${commit:0:7})? sha256:[0-9a-f]{64}$" <<<"$output" || true)
assert_eq 4 "$pushed" "prints four references, each with its digest"
for image in vote-app router; do
  tags=$(curl -fsS "http://$registry/v2/$image/tags/list" |
    python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin)["tags"])))')
  assert_eq "$version $version-${commit:0:7}" "$tags" "the registry lists $image:<version> and <version>-<short sha>"
done
docker rmi "$registry/vote-app:$version" >/dev/null
assert_ok "the pushed image pulls back" docker pull --quiet "$registry/vote-app:$version"
assert_eq "$(docker image inspect -f '{{.Id}}' "vote-app:$version")" \
  "$(docker image inspect -f '{{.Id}}' "$registry/vote-app:$version")" "and it is the image that was built"

echo "ci/version-gate.sh after the push"
assert_eq skip "$("$ci/version-gate.sh" "$registry" vote-app 2>/dev/null)" "vote-app:$version present: skip"
assert_eq skip "$("$ci/version-gate.sh" "$registry" router 2>/dev/null)" "router:$version present: skip"
assert_eq build "$("$ci/version-gate.sh" --version 99.0.0 "$registry" vote-app 2>/dev/null)" \
  "a version not pushed yet: build"
assert_eq build "$("$ci/version-gate.sh" "$registry" never-pushed 2>/dev/null)" "an unknown repository: build"

assert_fails "push-images fails clearly on a missing local image" "no local image" \
  "$ci/push-images.sh" "$registry" no-such-image
kill "$(cat "$work/pid")"
wait "$(cat "$work/pid")" 2>/dev/null || true
assert_fails "version-gate fails (no build/skip guess) when the registry is down" "cannot reach" \
  "$ci/version-gate.sh" "$registry" vote-app

# ACR, Docker Hub and GHCR answer 401 with a Bearer challenge naming a token endpoint, which
# takes the credentials. Distribution's token mode needs a signing service, so this part uses a
# stand-in that speaks the same exchange and holds vote-app:1.0.0 only.
echo "ci/version-gate.sh against a registry that asks for a token"
token_port=$(free_port)
python3 - "$token_port" >"$work/token-registry.log" 2>&1 <<'PY' &
import base64, http.server, json, sys

port = int(sys.argv[1])
realm = f"http://127.0.0.1:{port}/oauth2/token"
good = "Basic " + base64.b64encode(b"00000000-0000-0000-0000-000000000000:acr-token").decode()


class Registry(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self):
        if self.headers.get("Authorization") != "Bearer pull-token":
            self.send_response(401)
            self.send_header("WWW-Authenticate", f'Bearer realm="{realm}",service="stand-in",'
                             'scope="repository:vote-app:pull"')
        else:
            self.send_response(200 if self.path == "/v2/vote-app/manifests/1.0.0" else 404)
        self.end_headers()

    def do_GET(self):
        if self.path.startswith("/oauth2/token?") and "scope=repository%3Avote-app%3Apull" in self.path \
                and self.headers.get("Authorization") == good:
            body = json.dumps({"access_token": "pull-token"}).encode()
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(401 if self.path.startswith("/oauth2/") else 404)
            self.end_headers()


http.server.ThreadingHTTPServer(("127.0.0.1", port), Registry).serve_forever()
PY
echo $! >"$work/pid"
deadline=$((SECONDS + 10))
until curl -s -o /dev/null "http://127.0.0.1:$token_port/"; do
  [ "$SECONDS" -lt "$deadline" ] || fail "the token registry stand-in did not start: $(cat "$work/token-registry.log")"
  sleep 0.1
done
export REGISTRY_USERNAME=00000000-0000-0000-0000-000000000000 REGISTRY_PASSWORD=acr-token
assert_eq skip "$("$ci/version-gate.sh" --version 1.0.0 "127.0.0.1:$token_port" vote-app 2>/dev/null)" \
  "exchanges the credentials for a token: vote-app:1.0.0 present, skip"
assert_eq build "$("$ci/version-gate.sh" --version 1.1.0 "127.0.0.1:$token_port" vote-app 2>/dev/null)" \
  "with the token, an absent version: build"
assert_fails "wrong credentials fail clearly" "refused the credentials \(401\)" \
  env REGISTRY_PASSWORD=wrong "$ci/version-gate.sh" --version 1.0.0 "127.0.0.1:$token_port" vote-app
unset REGISTRY_USERNAME REGISTRY_PASSWORD
assert_fails "no credentials fail clearly" "set REGISTRY_USERNAME/REGISTRY_PASSWORD or REGISTRY_TOKEN" \
  "$ci/version-gate.sh" --version 1.0.0 "127.0.0.1:$token_port" vote-app
assert_eq skip "$(REGISTRY_TOKEN=pull-token "$ci/version-gate.sh" --version 1.0.0 "127.0.0.1:$token_port" vote-app 2>/dev/null)" \
  "REGISTRY_TOKEN is sent as is"
finish
