#!/usr/bin/env bash
# Proves a deployment answers: the page, /ready and /version (equal to the expected version when
# given). Behind the minute-parity router it also proves the routing: each answer's X-Routed-To
# is the parity of the router's minute around it, no answer came from a fallback, and both
# instances answer (seen during the run, or reported healthy by /router/status).
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: ci/smoke-test.sh [--help] [--expect-version VERSION] [--timeout SECONDS] [--samples N]
                        URL

  URL               the deployment's base URL (one vote-app, or the router in front of two)
  --expect-version  fail unless every /version answer carries this version
  --timeout         how long to wait for /ready to answer 200 (default 180: a fresh App Service
                    or pod may still be starting)
  --samples         routed requests checked behind the router (default 12)

Exits 0 when every check passes, 1 with the failed check on stderr otherwise. The router is
detected by its /router/status endpoint.
USAGE
}

expect_version="" timeout=180 samples=12
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --expect-version) expect_version=${2:?--expect-version needs a value}; shift 2 ;;
    --timeout) timeout=${2:?--timeout needs a value}; shift 2 ;;
    --samples) samples=${2:?--samples needs a value}; shift 2 ;;
    -*) echo "smoke-test: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -eq 1 ] || { usage >&2; exit 2; }

echo "smoke-test: ${1%/} (expected version: ${expect_version:-any})"
python3 - "${1%/}" "$expect_version" "$timeout" "$samples" <<'PY'
import json, sys, time, urllib.error, urllib.request

base, expected, timeout, samples = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])


def fail(message):
    print(f"smoke-test: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def get(path):
    """(status, headers, body) of a GET; connection errors become status 0."""
    request = urllib.request.Request(base + path, headers={"User-Agent": "vote-app-smoke-test"})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()
    except (urllib.error.URLError, OSError) as error:
        return 0, {}, str(getattr(error, "reason", error)).encode()


def ok(message):
    print(f"smoke-test: ok   {message}")


# Readiness first, polled: the deployment may still be starting.
deadline = time.monotonic() + timeout
while True:
    status, _, body = get("/ready")
    if status == 200:
        break
    if time.monotonic() > deadline:
        fail(f"/ready did not answer 200 within {timeout:.0f} s (last: {status} {body[:200]!r})")
    time.sleep(1)
ok("/ready 200")

status, headers, body = get("/")
if status != 200 or b'name="vote"' not in body:
    fail(f"/ answered {status} without the vote form")
ok("/ 200 with the vote form")


def check_version():
    status, headers, body = get("/version")
    if status != 200:
        fail(f"/version answered {status}")
    try:
        info = json.loads(body)
    except ValueError:
        fail(f"/version is not JSON: {body[:200]!r}")
    missing = {"version", "commit", "built"} - set(info)
    if missing:
        fail(f"/version lacks {sorted(missing)}: {info}")
    if expected and info["version"] != expected:
        fail(f"/version says {info['version']}, expected {expected}")
    return headers, info


_, info = check_version()
ok(f"/version {info['version']} (commit {info['commit']})")

status, _, body = get("/router/status")
if status != 200:
    print("smoke-test: no /router/status: a single instance, routing not checked")
    print("smoke-test: PASSED")
    sys.exit(0)


def router_status():
    status, _, body = get("/router/status")
    if status != 200:
        fail(f"/router/status answered {status}")
    return json.loads(body)


# Each sample reads the router's own clock before and after one request, so the client's clock
# does not matter; samples whose request straddled a minute change are not judged.
seen, judged = set(), 0
for _ in range(samples):
    before = router_status()["unix_minute"]
    headers, _ = check_version()
    after = router_status()["unix_minute"]
    routed = headers.get("X-Routed-To")
    if routed not in ("even", "odd"):
        fail(f"an answer through the router has X-Routed-To {routed!r}")
    if headers.get("X-Router-Fallback") == "true":
        fail(f"minute {before}: the {routed} answer was a fallback (its own upstream is down)")
    seen.add(routed)
    if before == after:
        judged += 1
        parity = "even" if before % 2 == 0 else "odd"
        if routed != parity:
            fail(f"minute {before} is {parity} but the answer came from {routed}")
if judged == 0:
    fail("every sample straddled a minute change: no routing decision could be judged")
ok(f"{judged} answers routed to the minute's parity, no fallback")

upstreams = router_status()["upstreams"]
unhealthy = [name for name in ("even", "odd") if not upstreams[name]["healthy"]]
if seen == {"even", "odd"}:
    ok("both instances answered")
elif unhealthy:
    fail(f"only {sorted(seen)} answered and the router reports {unhealthy} unhealthy")
else:
    ok(f"{sorted(seen)} answered (one minute); the router reports both upstreams healthy")
print("smoke-test: PASSED")
PY
