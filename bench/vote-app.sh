#!/usr/bin/env bash
# Throughput and latency of the vote-app (release build) at 64 connections, without and with the
# PostgreSQL ledger, next to what Redis itself does at the same concurrency (redis-benchmark GET
# and INCR), and what the per-request log line costs (`GET /health` at info and at warn): `GET /`
# (the page, read from Redis) and `POST /` with `vote=Cats`, the form the original app's load
# tests post. Prints requests/s and p50/p99, then the ratios the README quotes, how long the app
# takes to be ready and the most memory it held under load, then checks that every vote wrk saw
# acknowledged is counted (and, with the ledger, that the ledger and the counters agree).
#
#   bench/vote-app.sh                    # needs: cargo, redis-server, PostgreSQL, wrk, curl
#   DURATION=30s CONNECTIONS=128 bench/vote-app.sh
#   bench/vote-app.sh log                # only the log line's cost: GET /health at info and warn,
#                                        # ROUNDS (3) turns each, medians
#   BINARY=/path/to/vote-app bench/vote-app.sh log   # a given build (e.g. an older one) instead
#
# wrk, Redis, PostgreSQL (fsync on, as in production) and the app share this machine's cores: the
# figures are for this machine only. The app logs one line per request at info level, as in
# production (to a file here).
set -euo pipefail

# shellcheck source=bench/arguments.sh
. "$(dirname "$0")/arguments.sh"
check_arguments "all log" "$@"

PART=${1:-all}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}

for tool in cargo redis-server redis-cli redis-benchmark wrk curl python3; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y redis-server postgresql wrk curl)" >&2; exit 1; }
done
pg_bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | grep -v '\*' | sort -V | tail -n 1)
[ -n "$pg_bin" ] || { echo "missing PostgreSQL (apt-get install -y postgresql)" >&2; exit 1; }
# PostgreSQL refuses to run as root: as root, run its tools as the `postgres` user.
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

vote_app_binary

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" &
pids+=($!)

stop_postgres() { as_postgres "$pg_bin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true; }
if [ "$PART" = all ]; then
    pg_port=$(free_port)
    chmod 755 "$work"
    mkdir "$work/pg"
    [ "$(id -u)" -eq 0 ] && chown postgres "$work/pg"
    as_postgres "$pg_bin/initdb" -D "$work/pg" -U vote --auth=trust >/dev/null
    as_postgres "$pg_bin/pg_ctl" -D "$work/pg" -l "$work/pg/server.log" -w \
        -o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1" start >/dev/null
    trap 'stop_postgres; cleanup' EXIT
fi

# Starts the app with the extra settings given; sets app_port, app_pid and ready_ms (from the
# start to the first 200 on /ready, polled every 10 ms).
start_app() { # name, settings...
    local name=$1 began; shift
    app_port=$(free_port)
    began=$(date +%s%N)
    env PORT="$app_port" LOG_FORMAT=json "$@" "$app_binary" >"$work/$name.log" 2>&1 &
    app_pid=$!
    pids+=("$app_pid")
    for _ in $(seq 1000); do
        if curl -sf "http://127.0.0.1:$app_port/ready" >/dev/null; then
            ready_ms=$((($(date +%s%N) - began) / 1000000))
            return
        fi
        sleep 0.01
    done
    cat "$work/$name.log"
    exit 1
}

# The most memory the app's process has held so far, in MB.
peak_rss_mb() { awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$app_pid/status"; }

cat >"$work/vote.lua" <<'LUA'
wrk.method = "POST"
wrk.body = "vote=Cats"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
LUA

# Prints "requests/s p50 p99 requests errors" from wrk's --latency report.
summarize() {
    awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
         / requests in / {n=$1} /Non-2xx or 3xx/ {bad=$5}
         END {printf "%s %s %s %s %s\n", rps, p50, p99, n, (bad == "" ? 0 : bad)}' "$1"
}

run() { # what, extra wrk args...
    local report
    report=$(mktemp "$work/wrk.XXXXXX")
    echo "== $1 ($CONNECTIONS connections, $DURATION)" >&2
    shift
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" >"$report"
    summarize "$report"
}

# Every vote wrk saw acknowledged must be counted (wrk stops mid-flight: requests it sent but
# never saw answered may be counted too, up to one per connection).
check_counted() { # key, acknowledged
    local counted
    counted=$(redis-cli -p "$redis_port" HGET "$1" Cats)
    echo "$1: $2 votes acknowledged, $counted counted"
    if [ "$counted" -lt "$2" ] || [ "$counted" -gt "$(($2 + CONNECTIONS))" ]; then
        echo "COUNTS WRONG: $counted counted for $2 acknowledged" >&2
        exit 1
    fi
}

# Prints the log line's cost from the two GET /health figures.
log_cost() { # requests/s at info, at warn
    echo "log line cost on GET /health:    $(python3 -c "print(f'{(1 - $1 / $2) * 100:.0f} %')") (goal <= 15 %: $1 req/s at info, $2 at warn)"
}

# Only the log line's cost: both apps run side by side and take turns, ROUNDS times, so that
# what else the machine does weighs on both alike; the medians give the cost.
if [ "$PART" = log ]; then
    start_app plain REDIS_URL="redis://127.0.0.1:$redis_port/0" REDIS_KEY=plain
    info_port=$app_port
    start_app quiet RUST_LOG=warn REDIS_URL="redis://127.0.0.1:$redis_port/0" REDIS_KEY=quiet
    warn_port=$app_port
    info_rps=() warn_rps=()
    for round in $(seq "${ROUNDS:-3}"); do
        read -r rps _ < <(run "GET /health at info, round $round" "http://127.0.0.1:$info_port/health")
        info_rps+=("$rps")
        read -r rps _ < <(run "GET /health at warn, round $round" "http://127.0.0.1:$warn_port/health")
        warn_rps+=("$rps")
        echo "round $round: $(python3 -c "print(f'{(1 - ${info_rps[-1]} / $rps) * 100:.0f} %')")"
    done
    median() { python3 -c "import statistics, sys; print(statistics.median(map(float, sys.argv[1:])))" "$@"; }
    log_cost "$(median "${info_rps[@]}")" "$(median "${warn_rps[@]}")"
    exit 0
fi

echo "== redis-benchmark GET and INCR ($CONNECTIONS connections)"
redis-benchmark -p "$redis_port" -c "$CONNECTIONS" -n 500000 -t get,incr --csv >"$work/redis.csv"
redis_get=$(awk -F'"' '$2 == "GET" {print $4}' "$work/redis.csv")
redis_incr=$(awk -F'"' '$2 == "INCR" {print $4}' "$work/redis.csv")

start_app plain REDIS_URL="redis://127.0.0.1:$redis_port/0" REDIS_KEY=plain
plain_ready_ms=$ready_ms
read -r health_rps _ _ _ _ < <(run "GET /health, a log line each" "http://127.0.0.1:$app_port/health")
read -r page_rps page_p50 page_p99 _ page_bad < <(run "GET /" "http://127.0.0.1:$app_port/")
read -r vote_rps vote_p50 vote_p99 vote_n vote_bad < <(run "POST / vote" -s "$work/vote.lua" "http://127.0.0.1:$app_port/")
check_counted plain "$((vote_n - vote_bad))"
plain_rss=$(peak_rss_mb)

start_app quiet RUST_LOG=warn REDIS_URL="redis://127.0.0.1:$redis_port/0" REDIS_KEY=quiet
read -r quiet_rps _ _ _ _ < <(run "GET /health, no log line" "http://127.0.0.1:$app_port/health")

start_app ledger REDIS_URL="redis://127.0.0.1:$redis_port/0" REDIS_KEY=ledger \
    DATABASE_URL="postgres://vote@127.0.0.1:$pg_port/postgres"
ledger_ready_ms=$ready_ms
read -r lpage_rps lpage_p50 lpage_p99 _ lpage_bad < <(run "GET / with the ledger" "http://127.0.0.1:$app_port/")
read -r lvote_rps lvote_p50 lvote_p99 lvote_n lvote_bad < <(run "POST / vote with the ledger" -s "$work/vote.lua" "http://127.0.0.1:$app_port/")
check_counted ledger "$((lvote_n - lvote_bad))"
ledger_rss=$(peak_rss_mb)
ledger_rows=$(as_postgres "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U vote -d postgres -tAc "SELECT count(*) FROM votes")
in_redis=$(redis-cli -p "$redis_port" HGET ledger Cats)
echo "ledger: $ledger_rows rows, counters: $in_redis"
[ "$ledger_rows" = "$in_redis" ] || { echo "LEDGER AND COUNTERS DISAGREE" >&2; exit 1; }

printf '\n%-30s %12s %10s %10s %8s\n' "vote-app, local Redis" "requests/s" "p50" "p99" "errors"
printf '%-30s %12s %10s %10s %8s\n' "GET /" "$page_rps" "$page_p50" "$page_p99" "$page_bad"
printf '%-30s %12s %10s %10s %8s\n' "POST / (vote)" "$vote_rps" "$vote_p50" "$vote_p99" "$vote_bad"
printf '%-30s %12s %10s %10s %8s\n' "GET / with the ledger" "$lpage_rps" "$lpage_p50" "$lpage_p99" "$lpage_bad"
printf '%-30s %12s %10s %10s %8s\n' "POST / (vote) with the ledger" "$lvote_rps" "$lvote_p50" "$lvote_p99" "$lvote_bad"
printf '%-30s %12s\n' "redis-benchmark GET" "$redis_get" "redis-benchmark INCR" "$redis_incr"
echo
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
log_cost "$health_rps" "$quiet_rps"
echo "votes with the ledger / without:  $(ratio "$lvote_rps" "$vote_rps")x (goal >= 0.5), p99 $lvote_p99 (goal <= 10ms)"
echo "GET / / redis-benchmark GET:      $(ratio "$page_rps" "$redis_get")x (goal >= 0.6)"
echo "votes / redis-benchmark INCR:     $(ratio "$vote_rps" "$redis_incr")x (goal >= 0.5)"
echo "ready after start:                $plain_ready_ms ms, $ledger_ready_ms ms with the ledger (goal <= 100 ms)"
echo "peak memory (VmHWM) after load:   $plain_rss MB, $ledger_rss MB with the ledger (goal <= 20 MB)"
