#!/usr/bin/env bash
# Automated canary analysis: reads the stable and the canary instance's Prometheus /metrics at the
# start and at the end of one window, compares the canary's server-error ratio and p99 latency
# with the stable's over that same window, prints the comparison and decides. Exit 0 = promote,
# 1 = reject. Both pipelines run it before the manual approval.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: ci/canary-analysis.sh [--help] [options] STABLE_URL CANARY_URL [-- COMMAND [ARGS...]]

The window is one of, by precedence:
  --traffic N                  ci/load-test.sh sends N valid votes to each instance at once (the
                               choices read from the stable; the canary's failures are measured)
  -- COMMAND [ARGS...]         the run of COMMAND, e.g. your own load generator
  --window SECONDS             waiting while real traffic flows (default 60)

Options (thresholds have defaults suited to the vote-app):
  --min-requests N             each instance must serve at least N requests in the window,
                               or there is no evidence to promote on (default 50)
  --max-error-increase RATIO   reject when canary 5xx ratio > stable ratio + RATIO (default 0.01)
  --max-p99-ratio FACTOR       reject when canary p99 > stable p99 x FACTOR ... (default 1.5)
  --p99-tolerance-ms MS        ... and > stable p99 + MS, so that a 1 ms difference between two
                               fast instances is not a regression (default 20) ...
  --max-slow-share RATIO       ... and more than RATIO of the canary's requests are slower than
                               that bound (default 0.03). A canary as fast as the stable has
                               about 1 % there; one scheduling stall delays only the few requests
                               in flight, enough to move a p99 over a few hundred requests, while
                               a slower build delays a steady share.

Requests to /metrics, /health and /ready are probes, not traffic, and are left out. Exits 0
(promote) when every check passes, 1 (reject) otherwise, including when an instance's metrics
cannot be read; 2 on a usage error.
USAGE
}

window=60 traffic="" min_requests=50 max_error_increase=0.01 max_p99_ratio=1.5 p99_tolerance_ms=20
max_slow_share=0.03
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --window) window=${2:?--window needs a value}; shift 2 ;;
    --traffic) traffic=${2:?--traffic needs a value}; shift 2 ;;
    --min-requests) min_requests=${2:?--min-requests needs a value}; shift 2 ;;
    --max-error-increase) max_error_increase=${2:?--max-error-increase needs a value}; shift 2 ;;
    --max-p99-ratio) max_p99_ratio=${2:?--max-p99-ratio needs a value}; shift 2 ;;
    --p99-tolerance-ms) p99_tolerance_ms=${2:?--p99-tolerance-ms needs a value}; shift 2 ;;
    --max-slow-share) max_slow_share=${2:?--max-slow-share needs a value}; shift 2 ;;
    -*) echo "canary-analysis: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -ge 2 ] || { usage >&2; exit 2; }
stable=${1%/} canary=${2%/}
shift 2
if [ $# -gt 0 ]; then
  [ "$1" = "--" ] || { usage >&2; exit 2; }
  shift
fi

snapshots=$(mktemp -d)
trap 'rm -rf "$snapshots"' EXIT

# Saves one instance's metrics page; an unreadable page is a reason to reject.
snapshot() {
  local name=$1 url=$2 file=$3
  if ! curl -fsS --max-time 10 "$url/metrics" -o "$file"; then
    echo "canary-analysis: REJECT: cannot read the $name's metrics at $url/metrics" >&2
    exit 1
  fi
}

echo "canary-analysis: stable $stable, canary $canary"
# Valid choices come from the stable: a broken canary may not be able to list them.
choices() {
  curl -fsS --max-time 10 "$stable/api/votes" |
    python3 -c 'import json, sys; print(",".join(c["name"] for c in json.load(sys.stdin)["choices"]))'
}

# The same load on both instances at once; a failing canary's errors are the measurement.
send_traffic() {
  local load_test names
  load_test="$(dirname "${BASH_SOURCE[0]}")/load-test.sh"
  names=$(choices) || { echo "canary-analysis: REJECT: cannot read the choices from $stable" >&2; exit 1; }
  "$load_test" --no-check --concurrency 4 --choices "$names" "$stable" "$traffic" &
  "$load_test" --no-check --concurrency 4 --choices "$names" "$canary" "$traffic"
  wait
}

snapshot stable "$stable" "$snapshots/stable.0"
snapshot canary "$canary" "$snapshots/canary.0"
if [ -n "$traffic" ]; then
  echo "canary-analysis: window = $traffic votes sent to each instance"
  send_traffic
elif [ $# -gt 0 ]; then
  echo "canary-analysis: window = the run of: $*"
  "$@" || echo "canary-analysis: the traffic command exited $? (its errors are measured below)"
else
  echo "canary-analysis: window = $window s of live traffic"
  sleep "$window"
fi
snapshot stable "$stable" "$snapshots/stable.1"
snapshot canary "$canary" "$snapshots/canary.1"

python3 - "$snapshots" "$min_requests" "$max_error_increase" "$max_p99_ratio" "$p99_tolerance_ms" \
  "$max_slow_share" <<'PY'
import math, re, sys

folder, min_requests = sys.argv[1], int(sys.argv[2])
max_error_increase, max_p99_ratio, tolerance, max_slow_share = (float(v) for v in sys.argv[3:7])
PROBES = {"/metrics", "/health", "/ready"}
SAMPLE = re.compile(r'^(\w+)\{([^}]*)\}\s+(\S+)')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse(path):
    """Request counts {status: n} and latency buckets {le: n}, probes left out."""
    requests, buckets = {}, {}
    for line in open(path, encoding="utf-8"):
        match = SAMPLE.match(line)
        if not match:
            continue
        name, labels, value = match.group(1), dict(LABEL.findall(match.group(2))), float(match.group(3))
        if labels.get("route") in PROBES:
            continue
        if name == "vote_app_http_requests_total":
            status = int(labels["status"])
            requests[status] = requests.get(status, 0) + value
        elif name == "vote_app_http_request_duration_seconds_bucket":
            le = math.inf if labels["le"] == "+Inf" else float(labels["le"])
            buckets[le] = buckets.get(le, 0) + value
    return requests, buckets


def window(name):
    """What one instance served between the two snapshots: request total, 5xx ratio, latency
    buckets {upper bound in s: cumulative count}."""
    (req0, b0), (req1, b1) = parse(f"{folder}/{name}.0"), parse(f"{folder}/{name}.1")
    if sum(req1.values()) < sum(req0.values()):
        # Counters went down: the process restarted during the window; count from zero.
        print(f"canary-analysis: the {name} restarted during the window")
        req0, b0 = {}, {}
    requests = {s: req1.get(s, 0) - req0.get(s, 0) for s in req1}
    buckets = {le: b1.get(le, 0) - b0.get(le, 0) for le in b1}
    total = sum(requests.values())
    errors = sum(n for s, n in requests.items() if s >= 500)
    return total, (errors / total if total else 0.0), buckets


def slower_than(buckets, bound_ms):
    """How many observations exceed bound_ms, interpolated inside its bucket."""
    bound, lower, below = bound_ms / 1000, 0.0, 0.0
    for le in sorted(buckets):
        if le >= bound:
            inside = buckets[le] - below
            width = le - lower if not math.isinf(le) else 0
            within = inside * ((bound - lower) / width) if width else 0
            return buckets[max(buckets)] - (below + within)
        lower, below = le, buckets[le]
    return 0.0


def p99(buckets):
    """The 99th percentile in ms, interpolated inside its bucket as Prometheus'
    histogram_quantile does."""
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] == 0:
        return 0.0
    rank = 0.99 * buckets[bounds[-1]]
    lower, below = 0.0, 0.0
    for le in bounds:
        if buckets[le] >= rank:
            if math.isinf(le):
                return lower * 1000
            inside = buckets[le] - below
            return (lower + (le - lower) * ((rank - below) / inside if inside else 1)) * 1000
        lower, below = le, buckets[le]
    return lower * 1000


stable, canary = window("stable"), window("canary")
stable_p99, canary_p99 = p99(stable[2]), p99(canary[2])
p99_bound = max(stable_p99 * max_p99_ratio, stable_p99 + tolerance)
slow = slower_than(canary[2], p99_bound)
print(f"{'':10}{'requests':>10}{'5xx ratio':>12}{'p99 ms':>10}")
print(f"{'stable':10}{stable[0]:>10.0f}{stable[1]:>12.4f}{stable_p99:>10.1f}")
print(f"{'canary':10}{canary[0]:>10.0f}{canary[1]:>12.4f}{canary_p99:>10.1f}")
print(f"canary requests slower than the p99 bound {p99_bound:.1f} ms: {slow:.0f} "
      f"({slow / canary[0] if canary[0] else 0:.1%}; a regression above {max_slow_share:.0%})")

reasons = []
for name, (total, _, _) in (("stable", stable), ("canary", canary)):
    if total < min_requests:
        reasons.append(f"the {name} served {total:.0f} requests, fewer than {min_requests}: no evidence")
if canary[1] > stable[1] + max_error_increase:
    reasons.append(f"canary 5xx ratio {canary[1]:.4f} > stable {stable[1]:.4f} + {max_error_increase}")
slow_share = slow / canary[0] if canary[0] else 0.0
if canary_p99 > p99_bound and slow_share > max_slow_share:
    reasons.append(f"canary p99 {canary_p99:.1f} ms > {p99_bound:.1f} ms "
                   f"(stable {stable_p99:.1f} ms x {max_p99_ratio}, at least +{tolerance:.0f} ms), "
                   f"and {slow_share:.1%} of its requests are slower than that (> {max_slow_share:.0%})")
for reason in reasons:
    print(f"canary-analysis: {reason}")
print("canary-analysis: " + ("REJECT" if reasons else "PROMOTE"))
sys.exit(1 if reasons else 0)
PY
