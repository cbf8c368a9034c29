#!/usr/bin/env bash
# CPU instructions per `GET /health` of the vote-app at RUST_LOG=info (one JSON log line per
# request) and at warn (none): what the log line costs, in a figure that does not move with
# whatever else the machine is doing, unlike requests/s (bench/vote-app.sh log).
#
#   bench/vote-app-instructions.sh       # needs: cargo, wrk, curl, valgrind
#   BINARY=/path/to/vote-app bench/vote-app-instructions.sh   # a given build instead
#
# The app runs alone under valgrind's callgrind (its threads serialised by valgrind), in-memory
# store, log lines to a file, while wrk sends it requests; counting is switched on only after a
# warm-up. Instructions are the app's own in user space, its log writer thread's included; the
# kernel's work (system calls, context switches) is not counted: bench/vote-app.sh log sees it.
set -euo pipefail

DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-16}
APP_PORT=${APP_PORT:-18090}

for tool in cargo wrk curl valgrind callgrind_control; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y wrk valgrind)" >&2; exit 1; }
done

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
vote_app_binary

# Prints "level requests instructions-per-request" for the app at RUST_LOG=level.
measure() { # level
    local url="http://127.0.0.1:$APP_PORT/health"
    rm -f "$work"/callgrind.*
    env PORT="$APP_PORT" LOG_FORMAT=json RUST_LOG="$1" valgrind --tool=callgrind \
        --instr-atstart=no --callgrind-out-file="$work/callgrind.%p" "$app_binary" \
        >"$work/$1.out" 2>&1 &
    callgrind_per_request "$!" "$url" "$1"
}

info=$(measure info)
warn=$(measure warn)
printf '%-12s %9s %12s\n' level requests instructions/request
printf '%s\n' "$info" "$warn"
echo "log line cost on GET /health: $(python3 -c "print(f'{(${info##* } / ${warn##* } - 1) * 100:.1f} %')") more instructions at info than at warn"
