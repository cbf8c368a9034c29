#!/usr/bin/env bash
# CPU instructions per `GET /health` of the vote-app at RUST_LOG=info (one JSON log line per
# request) and at warn (none): what the log line costs, in a figure that does not move with
# whatever else the machine is doing, unlike requests/s (bench/vote-app.sh log).
#
#   bench/vote-app-instructions.sh       # needs: cargo, wrk, curl, valgrind
#   BINARY=/path/to/vote-app bench/vote-app-instructions.sh   # a given build instead
#   CONNECTIONS=8 bench/vote-app-instructions.sh pages
#       # instead: per `GET /` and per vote (`POST /` vote=Cats), counts in a local Redis
#       # (needs redis-server too), at warn and at info
#
# The app runs alone under valgrind's callgrind (its threads serialised by valgrind), in-memory
# store, log lines to a file, while wrk sends it requests; counting is switched on only after a
# warm-up. Instructions are the app's own in user space, its log writer thread's included; the
# kernel's work (system calls, context switches) is not counted: bench/vote-app.sh log sees it.
set -euo pipefail

# shellcheck source=bench/arguments.sh
. "$(dirname "$0")/arguments.sh"
check_arguments "log pages" "$@"

PART=${1:-log}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-16}
APP_PORT=${APP_PORT:-18090}

for tool in cargo wrk curl valgrind callgrind_control; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y wrk valgrind)" >&2; exit 1; }
done

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
vote_app_binary

# Prints "label requests instructions-per-request" for the app at RUST_LOG=level on path, with
# the wrk arguments given.
measure() { # label, level, path, wrk arguments...
    local label=$1 level=$2 url="http://127.0.0.1:$APP_PORT$3"
    shift 3
    rm -f "$work"/callgrind.*
    env PORT="$APP_PORT" LOG_FORMAT=json RUST_LOG="$level" ${REDIS_URL:+REDIS_URL="$REDIS_URL"} \
        valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/callgrind.%p" \
        "$app_binary" >"$work/${label//\//-}.out" 2>&1 &
    callgrind_per_request "$!" "$url" "$label" "$@"
}

printf '%-12s %9s %12s\n' run requests instructions/request
if [ "$PART" = pages ]; then
    command -v redis-server >/dev/null || { echo "missing redis-server (apt-get install -y redis-server)" >&2; exit 1; }
    redis_port=$((APP_PORT + 1))
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" &
    pids+=($!)
    REDIS_URL="redis://127.0.0.1:$redis_port"
    printf 'wrk.method = "POST"\nwrk.body = "vote=Cats"\nwrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n' >"$work/vote.lua"
    for level in warn info; do
        measure "GET/$level" "$level" /
        measure "vote/$level" "$level" / -s "$work/vote.lua"
    done
    exit
fi

info=$(measure info info /health)
warn=$(measure warn warn /health)
printf '%s\n' "$info" "$warn"
echo "log line cost on GET /health: $(python3 -c "print(f'{(${info##* } / ${warn##* } - 1) * 100:.1f} %')") more instructions at info than at warn"
