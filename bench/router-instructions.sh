#!/usr/bin/env bash
# CPU instructions per proxied request, router vs nginx doing the same minute-parity job: the
# figure that does not move with whatever else the machine is doing, unlike requests/s.
#
#   bench/router-instructions.sh        # needs: cargo, nginx, wrk, valgrind
#   DURATION=10s bench/router-instructions.sh
#
# Each proxy runs alone under valgrind's callgrind (one nginx worker, the router's workers; both
# serialised by valgrind) while wrk sends it requests; counting is switched on only after a
# warm-up, so startup is left out. Instructions are the proxy's own, in user space (its code and
# the C library's), not the kernel's: both make the same system calls per request (2 reads,
# 2 writes), so the kernel's share is the same for both. Fewer instructions is not exactly less
# time (cache misses and branch mispredictions count too), but the figure repeats to within a
# few percent, where requests/s on a shared 2-core machine vary by 10-20 % between rounds.
set -euo pipefail

# shellcheck source=bench/arguments.sh
. "$(dirname "$0")/arguments.sh"
check_arguments "" "$@"

DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-16}
EVEN_PORT=${EVEN_PORT:-18081}
ODD_PORT=${ODD_PORT:-18082}
PROXY_PORT=${PROXY_PORT:-18085}
WORKERS=1

for tool in cargo nginx wrk curl valgrind callgrind_control; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y nginx wrk valgrind)" >&2; exit 1; }
done

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
build_router
write_upstreams_conf
start upstreams nginx -p "$work" -c "$work/upstreams.conf" -g 'daemon off;'
wait_for "http://127.0.0.1:$EVEN_PORT/"

# Instructions per request of the proxy that the command starts on PROXY_PORT, printed as
# "label requests instructions-per-request". The command is a program with its arguments:
# valgrind follows no `exec`, so its environment is given before it as VAR=value words.
measure() { # label, [VAR=value...] command...
    local label=$1 vars=()
    shift
    while [[ $1 == *=* ]]; do vars+=("$1"); shift; done
    rm -f "$work"/callgrind.*
    env "${vars[@]}" valgrind --tool=callgrind --instr-atstart=no \
        --callgrind-out-file="$work/callgrind.%p" "$@" >"$work/$label.out" 2>&1 &
    callgrind_per_request "$!" "http://127.0.0.1:$PROXY_PORT/" "$label"
}

echo "== callgrind, wrk -t1 -c$CONNECTIONS -d$DURATION after a 3 s warm-up, $(date -u +%FT%TZ)"
printf "%-12s %9s %12s\n" target requests instructions
write_proxy_conf nginx "$PROXY_PORT" "$request_id_directives"
measure nginx TZ=UTC nginx -p "$work" -c "$work/nginx.conf" -g 'daemon off; master_process off;'
write_proxy_conf nginx-no-id "$PROXY_PORT" ""
measure nginx-no-id TZ=UTC nginx -p "$work" -c "$work/nginx-no-id.conf" -g 'daemon off; master_process off;'
# shellcheck disable=SC2046 # router_env prints separate VAR=value words
measure router $(router_env "$PROXY_PORT") "$target/release/router"
