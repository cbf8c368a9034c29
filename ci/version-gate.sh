#!/usr/bin/env bash
# The course's rule "rebuild and push only when the app version changed": prints `build` when
# IMAGE:<version> is not in the registry yet, `skip` when it is. Asks the registry through the
# Docker Registry HTTP API v2 (any registry: ACR, Docker Hub, GHCR, Distribution), so no image
# is pulled and no Docker engine is needed.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: ci/version-gate.sh [--help] [--version VERSION] REGISTRY IMAGE

  REGISTRY   host[:port], optionally with http:// or https:// (default https, http for
             localhost and 127.0.0.1), e.g. myacr.azurecr.io or 127.0.0.1:5000
  IMAGE      repository name in the registry, e.g. vote-app
  --version  the tag to look for (default: ci/version.sh, the workspace version)

Prints `build` when REGISTRY/IMAGE:VERSION does not exist, `skip` when it does. Exits 1 when the
registry cannot answer (unreachable, refused credentials, unexpected status).

Credentials, for registries that require them (token authentication is negotiated as the
registry asks, the standard WWW-Authenticate flow):
  REGISTRY_USERNAME, REGISTRY_PASSWORD   e.g. for ACR: 00000000-0000-0000-0000-000000000000 and
                                         the token of `az acr login -n NAME --expose-token`
  REGISTRY_TOKEN                         a bearer token used as is
USAGE
}

version=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --version) version=${2:?--version needs a value}; shift 2 ;;
    -*) echo "version-gate: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -eq 2 ] || { usage >&2; exit 2; }
registry=$1 image=$2
[ -n "$version" ] || version=$("$(dirname "${BASH_SOURCE[0]}")/version.sh")

echo "version-gate: looking for $image:$version in $registry" >&2
python3 - "$registry" "$image" "$version" <<'PY'
"""HEAD the manifest; on 401, fetch a token as the WWW-Authenticate challenge says, retry."""
import base64, json, os, re, sys, urllib.error, urllib.parse, urllib.request

registry, image, tag = sys.argv[1:4]
if not re.match(r"^https?://", registry):
    host = registry.split("/")[0].split(":")[0]
    scheme = "http" if host in ("localhost", "127.0.0.1", "[::1]") else "https"
    registry = f"{scheme}://{registry}"
registry = registry.rstrip("/")
url = f"{registry}/v2/{image}/manifests/{urllib.parse.quote(tag)}"
ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])
user, password = os.environ.get("REGISTRY_USERNAME"), os.environ.get("REGISTRY_PASSWORD")


def fail(message):
    print(f"version-gate: {message}", file=sys.stderr)
    sys.exit(1)


def basic_auth():
    pair = f"{user}:{password}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def head(authorization):
    request = urllib.request.Request(url, method="HEAD", headers={"Accept": ACCEPT})
    if authorization:
        request.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers
    except (urllib.error.URLError, OSError) as error:
        fail(f"cannot reach {registry}: {getattr(error, 'reason', error)}")


def bearer_token(challenge):
    """The token endpoint named by a `Bearer realm=...,service=...,scope=...` challenge."""
    params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    if "realm" not in params:
        fail(f"unexpected authentication challenge: {challenge}")
    query = {k: v for k, v in params.items() if k in ("service", "scope")}
    query.setdefault("scope", f"repository:{image}:pull")
    request = urllib.request.Request(params["realm"] + "?" + urllib.parse.urlencode(query))
    if user and password:
        request.add_header("Authorization", basic_auth())
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.load(response)
    except urllib.error.HTTPError as error:
        if not (user and password):
            fail(f"the token endpoint {params['realm']} refused anonymous access ({error.code}): "
                 "set REGISTRY_USERNAME/REGISTRY_PASSWORD or REGISTRY_TOKEN")
        fail(f"the token endpoint {params['realm']} refused the credentials ({error.code})")
    except (urllib.error.URLError, OSError) as error:
        fail(f"cannot reach the token endpoint {params['realm']}: {error}")
    token = body.get("token") or body.get("access_token")
    if not token:
        fail(f"the token endpoint {params['realm']} returned no token")
    return "Bearer " + token


token = os.environ.get("REGISTRY_TOKEN")
status, headers = head("Bearer " + token if token else None)
if status == 401 and not token:
    challenge = headers.get("WWW-Authenticate", "")
    if challenge.lower().startswith("bearer"):
        status, headers = head(bearer_token(challenge))
    elif challenge.lower().startswith("basic") and user and password:
        status, headers = head(basic_auth())
if status == 200:
    print(f"version-gate: {image}:{tag} exists ({headers.get('Docker-Content-Digest', 'no digest')})",
          file=sys.stderr)
    print("skip")
elif status == 404:
    print(f"version-gate: {image}:{tag} is not in the registry", file=sys.stderr)
    print("build")
elif status in (401, 403):
    fail(f"{url} answered {status}: set REGISTRY_USERNAME/REGISTRY_PASSWORD or REGISTRY_TOKEN")
else:
    fail(f"{url} answered {status}")
PY
