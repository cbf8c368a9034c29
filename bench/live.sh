#!/usr/bin/env bash
# How fast live results are: two vote-app instances (release build) share one Redis; a page's
# stream (GET /live) is open on the first while votes are cast on the second, one at a time, and
# each vote's delay — from sending it to the first `tally` event that counts it — is measured.
# Then the same while a load of votes runs on both instances (wrk, 64 connections), to show the
# stream keeps up when the counts change thousands of times a second (it is sent the latest counts
# at most every 250 ms, not every change).
#
#   bench/live.sh                 # needs: cargo, redis-server, wrk, curl, python3
#   VOTES=100 bench/live.sh
set -euo pipefail

# shellcheck source=bench/arguments.sh
. "$(dirname "$0")/arguments.sh"
check_arguments "" "$@"

VOTES=${VOTES:-50}

for tool in cargo redis-server wrk curl python3; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y redis-server wrk curl)" >&2; exit 1; }
done

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

vote_app_binary

redis_port=$(free_port)
start redis redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no
watched_port=$(free_port)
voted_port=$(free_port)
for instance in watched voted; do
    port_var=${instance}_port
    start "$instance" env RUST_LOG=warn PORT="${!port_var}" INSTANCE_NAME="$instance" \
        REDIS_URL="redis://127.0.0.1:$redis_port/0" "$app_binary"
done
wait_for "http://127.0.0.1:$watched_port/ready"
wait_for "http://127.0.0.1:$voted_port/ready"

cat >"$work/vote.lua" <<'EOF'
wrk.method = "POST"
wrk.body = "vote=Cats"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
EOF

python3 - "$watched_port" "$voted_port" "$VOTES" "$work/vote.lua" <<'EOF'
import http.client, json, statistics, subprocess, sys, threading, time, urllib.request

watched, voted, votes, script = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
seen = []  # (arrival time, total) of every tally event on the watched instance's stream
changed = threading.Condition()

def follow():
    connection = http.client.HTTPConnection("127.0.0.1", watched)
    connection.request("GET", "/live")
    response = connection.getresponse()
    assert response.status == 200, response.status
    event = None
    for raw in response:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event == "tally":
            with changed:
                seen.append((time.monotonic(), json.loads(line[6:])["total"]))
                changed.notify_all()

def total_seen():
    with changed:
        return seen[-1][1] if seen else None

def wait_for_total(at_least, timeout=10):
    with changed:
        ok = changed.wait_for(lambda: seen and seen[-1][1] >= at_least, timeout)
        assert ok, f"no tally reached {at_least} in {timeout} s"
        return next(at for at, total in seen if total >= at_least)

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None

opener = urllib.request.build_opener(NoRedirect)
def vote():
    try:
        opener.open(f"http://127.0.0.1:{voted}/", data=b"vote=Cats")
    except urllib.error.HTTPError as answer:
        assert answer.code == 303, answer.code

threading.Thread(target=follow, daemon=True).start()
wait_for_total(0)
delays = []
for _ in range(votes):
    expected = total_seen() + 1
    cast = time.monotonic()
    vote()
    delays.append((wait_for_total(expected) - cast) * 1000)
    time.sleep(0.3)  # past the stream's 250 ms pace, so each vote is timed on its own
delays.sort()
print(f"one vote at a time on `voted`, seen on `watched`'s stream ({votes} votes):")
print(f"  p50 {statistics.median(delays):.1f} ms, p90 {delays[int(len(delays) * 0.9) - 1]:.1f} ms, max {delays[-1]:.1f} ms")

before = len(seen)
load = subprocess.run(["wrk", "-t2", "-c64", "-d10s", "-s", script, f"http://127.0.0.1:{voted}/"],
                      capture_output=True, text=True, check=True).stdout
rate = next(line.split()[1] for line in load.splitlines() if line.startswith("Requests/sec"))
with changed:
    during = seen[before:]
gaps = [(b[0] - a[0]) * 1000 for a, b in zip(during, during[1:])]
print(f"under a load of {rate} votes/s for 10 s: {len(during)} tally events on the stream,")
print(f"  {max(gaps):.0f} ms at most between two" if gaps else "  none")
EOF
