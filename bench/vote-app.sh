#!/usr/bin/env bash
# Throughput and latency of the vote-app (release build) on a local Redis, at 64 connections:
# `GET /` (the page, read from Redis) and `POST /` with `vote=Cats` (an atomic increment), the
# same form the original app's load tests post. Prints requests/s and p50/p99 latency, then
# checks that Redis counted exactly the votes that wrk saw acknowledged.
#
#   bench/vote-app.sh                    # needs: cargo, redis-server, wrk, curl
#   DURATION=30s CONNECTIONS=128 bench/vote-app.sh
#
# wrk, Redis and the app share this machine's cores: the figures are for this machine only.
# The app logs one line per request at info level, as in production (to a file here).
set -euo pipefail

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}

for tool in cargo redis-server redis-cli wrk curl python3; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y redis-server wrk curl)" >&2; exit 1; }
done

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "== building the vote-app (release)"
(cd "$repo" && cargo build --release --quiet -p vote-app)

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" &
pids+=($!)
app_port=$(free_port)
PORT=$app_port REDIS_URL="redis://127.0.0.1:$redis_port/0" LOG_FORMAT=json \
    "$target/release/vote-app" >"$work/app.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$app_port/ready" >/dev/null && break
    sleep 0.1
done
curl -sf "http://127.0.0.1:$app_port/ready" >/dev/null || { cat "$work/app.log"; exit 1; }

cat >"$work/vote.lua" <<'LUA'
wrk.method = "POST"
wrk.body = "vote=Cats"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
LUA

# Prints "requests/s p50 p99 requests" from wrk's --latency report.
summarize() {
    awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
         / requests in / {n=$1} /Non-2xx or 3xx/ {bad=$5}
         END {printf "%s %s %s %s %s\n", rps, p50, p99, n, (bad == "" ? 0 : bad)}' "$1"
}

run() { # name, extra wrk args...
    local name=$1; shift
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" >"$work/$name.txt"
    summarize "$work/$name.txt"
}

echo "== GET /  ($CONNECTIONS connections, $DURATION)"
read -r page_rps page_p50 page_p99 _ page_bad < <(run page "http://127.0.0.1:$app_port/")
echo "== POST / vote=Cats  ($CONNECTIONS connections, $DURATION)"
read -r vote_rps vote_p50 vote_p99 vote_n vote_bad < <(run vote -s "$work/vote.lua" "http://127.0.0.1:$app_port/")

counted=$(redis-cli -p "$redis_port" HGET votes Cats)
printf '\n%-22s %12s %10s %10s %8s\n' "vote-app, local Redis" "requests/s" "p50" "p99" "errors"
printf '%-22s %12s %10s %10s %8s\n' "GET /" "$page_rps" "$page_p50" "$page_p99" "$page_bad"
printf '%-22s %12s %10s %10s %8s\n' "POST / (vote)" "$vote_rps" "$vote_p50" "$vote_p99" "$vote_bad"
echo
# wrk stops mid-flight: requests it sent but never saw answered may still have been counted.
echo "votes acknowledged by wrk: $vote_n, counted in Redis: $counted (may exceed by up to $CONNECTIONS in-flight)"
if [ "$counted" -lt "$((vote_n - vote_bad))" ]; then
    echo "LOST VOTES: Redis counted fewer votes than were acknowledged" >&2
    exit 1
fi
