#!/usr/bin/env bash
# Casts COUNT valid votes (choices read from the app itself, spread evenly, bounded concurrency),
# then checks the counts grew by exactly COUNT: no vote lost, none invented, no junk key. Reports
# throughput, latency percentiles and errors.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: ci/load-test.sh [--help] [--concurrency N] [--at-least] [--no-check] [--choices A,B]
                       [--max-p99-ms MS] URL COUNT

  URL            the deployment's base URL (one vote-app, a Service, or the router)
  COUNT          votes to cast, through POST /api/votes
  --concurrency  requests in flight at once (default 16)
  --at-least     the total may grow by more than COUNT (other voters on a live environment)
  --no-check     only send the votes and report; exit 0 even with errors (traffic for a canary
                 analysis, where the errors are what is measured)
  --choices      the choices to vote for (default: read from GET /api/votes)
  --max-p99-ms   fail when the 99th percentile latency exceeds this many milliseconds

Exits 1 when a vote failed, the total did not grow by COUNT, or p99 exceeded the bound.
USAGE
}

concurrency=16 mode=exact choices="" max_p99=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --concurrency) concurrency=${2:?--concurrency needs a value}; shift 2 ;;
    --at-least) mode=at-least; shift ;;
    --no-check) mode=none; shift ;;
    --choices) choices=${2:?--choices needs a value}; shift 2 ;;
    --max-p99-ms) max_p99=${2:?--max-p99-ms needs a value}; shift 2 ;;
    -*) echo "load-test: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -eq 2 ] || { usage >&2; exit 2; }
[[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "load-test: COUNT must be a positive integer, not '$2'" >&2; exit 2; }

echo "load-test: $2 votes to ${1%/} ($concurrency at once, count check: $mode)"
python3 - "${1%/}" "$2" "$concurrency" "$mode" "$choices" "$max_p99" <<'PY'
import http.client, json, sys, threading, time, urllib.parse

base, count, concurrency, mode, choices, max_p99 = sys.argv[1:7]
count, concurrency = int(count), int(concurrency)
url = urllib.parse.urlsplit(base)
prefix = url.path.rstrip("/")


def fail(message):
    print(f"load-test: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def connect():
    kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    return kind(url.netloc, timeout=30)


def request(connection, method, path, body=None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    connection.request(method, prefix + path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def totals():
    """{choice: votes} from the app, or None when it cannot answer."""
    connection = connect()
    try:
        status, body = request(connection, "GET", "/api/votes")
    except OSError as error:
        print(f"load-test: GET /api/votes failed: {error}", file=sys.stderr)
        return None
    finally:
        connection.close()
    if status != 200:
        print(f"load-test: GET /api/votes answered {status}", file=sys.stderr)
        return None
    return {c["name"]: c["votes"] for c in json.loads(body)["choices"]}


before = totals()
if before is None and (mode != "none" or not choices):
    fail("cannot read the counts before the run")
names = choices.split(",") if choices else sorted(before)
next_vote = iter(range(count))
lock = threading.Lock()
latencies, errors = [], {}


def worker():
    connection = connect()
    while True:
        with lock:
            index = next(next_vote, None)
        if index is None:
            break
        body = json.dumps({"choice": names[index % len(names)]})
        started = time.perf_counter()
        try:
            status, _ = request(connection, "POST", "/api/votes", body)
        except OSError as error:
            status = type(error).__name__
            connection.close()
            connection = connect()
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)
            if status != 200:
                errors[status] = errors.get(status, 0) + 1
    connection.close()


started = time.perf_counter()
threads = [threading.Thread(target=worker) for _ in range(min(concurrency, count))]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
duration = time.perf_counter() - started

latencies.sort()
def percentile(p):
    return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

failed = sum(errors.values())
p99 = percentile(99)
print(f"load-test: {count} votes in {duration:.2f} s = {count / duration:.0f} votes/s; "
      f"p50 {percentile(50):.1f} ms, p99 {p99:.1f} ms; errors {failed}"
      + (f" {errors}" if errors else ""))
if mode == "none":
    sys.exit(0)
if failed:
    fail(f"{failed} of {count} votes failed: {errors}")

after = totals()
if after is None:
    fail("cannot read the counts after the run")
grown = sum(after.values()) - sum(before.values())
if set(after) != set(before):
    fail(f"the choices changed during the run: {sorted(before)} -> {sorted(after)}")
if mode == "exact" and grown != count:
    fail(f"the total grew by {grown}, not {count}: {before} -> {after}")
if mode == "at-least" and grown < count:
    fail(f"the total grew by {grown}, fewer than {count}: {before} -> {after}")
print(f"load-test: counts {before} -> {after}: +{grown}")
if max_p99 and p99 > float(max_p99):
    fail(f"p99 {p99:.1f} ms is above the {max_p99} ms bound")
print("load-test: PASSED")
PY
