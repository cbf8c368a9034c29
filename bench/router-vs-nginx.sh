#!/usr/bin/env bash
# Router vs nginx doing the same minute-parity job, in front of the same two upstreams, on this
# machine, in one run. Prints requests/s and p50/p99 latency for direct access, nginx, nginx
# without request ids (less work than the router does) and the router.
#
#   bench/router-vs-nginx.sh            # needs: cargo, nginx, wrk (apt-get install -y nginx wrk)
#   DURATION=30s ROUNDS=5 CONNECTIONS=128 bench/router-vs-nginx.sh
#
# Fairness, so the comparison means something:
# - Both proxies talk to the same upstreams: one nginx serving a small static answer on two ports
#   (`even`, `odd`), so the upstreams are never the bottleneck of one side only.
# - Both keep idle keep-alive connections to the upstreams (nginx `keepalive`, the router's pooled
#   client) and speak HTTP/1.1 to them.
# - Both do the same work per request: choose by UTC minute parity, set Host, X-Forwarded-For,
#   -Proto and -Host, add X-Routed-To, and keep the client's X-Request-Id or make one, send it
#   upstream and return it (nginx's $request_id). `nginx-no-id` is the same nginx without the
#   request id: less work than the router does, shown so the cost of ids is visible.
# - nginx runs as many worker processes as the router has runtime threads (one per core).
# - Neither writes an access log (the router's request line is at info level; RUST_LOG=warn).
# - wrk, the upstreams and the proxy share the same cores: absolute figures are for this
#   machine only; the comparison is what matters.
set -euo pipefail

# shellcheck source=bench/arguments.sh
. "$(dirname "$0")/arguments.sh"
check_arguments "" "$@"

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-2s}
ROUNDS=${ROUNDS:-3}
EVEN_PORT=${EVEN_PORT:-18081}
ODD_PORT=${ODD_PORT:-18082}
ROUTER_PORT=${ROUTER_PORT:-18080}
NGINX_PORT=${NGINX_PORT:-18090}
NGINX_NO_ID_PORT=${NGINX_NO_ID_PORT:-18091}
WORKERS=$(nproc)

for tool in cargo nginx wrk curl; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y nginx wrk curl)" >&2; exit 1; }
done

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
build_router
write_upstreams_conf
write_proxy_conf nginx "$NGINX_PORT" "$request_id_directives"
write_proxy_conf nginx-no-id "$NGINX_NO_ID_PORT" ""
start upstreams nginx -p "$work" -c "$work/upstreams.conf" -g 'daemon off;'
start nginx env TZ=UTC nginx -p "$work" -c "$work/nginx.conf" -g 'daemon off;'
start nginx-no-id env TZ=UTC nginx -p "$work" -c "$work/nginx-no-id.conf" -g 'daemon off;'
# shellcheck disable=SC2046 # router_env prints separate VAR=value words
start router env $(router_env "$ROUTER_PORT") "$target/release/router"
for url in "http://127.0.0.1:$EVEN_PORT/" "http://127.0.0.1:$ODD_PORT/" \
    "http://127.0.0.1:$NGINX_PORT/" "http://127.0.0.1:$NGINX_NO_ID_PORT/" \
    "http://127.0.0.1:$ROUTER_PORT/router/health"; do
    wait_for "$url"
done

# Same minute, same answer from both proxies, and both return a request id.
header() { # url, name
    curl -fsS -D - -o /dev/null "$1" | tr -d '\r' | awk -F': ' -v name="$2" 'tolower($1)==name{print $2}'
}
for url in "http://127.0.0.1:$ROUTER_PORT/" "http://127.0.0.1:$NGINX_PORT/"; do
    [ -n "$(header "$url" x-request-id)" ] || { echo "no X-Request-Id from $url" >&2; exit 1; }
done
router_to=$(header "http://127.0.0.1:$ROUTER_PORT/" x-routed-to)
nginx_to=$(header "http://127.0.0.1:$NGINX_PORT/" x-routed-to)
echo "== minute $(date -u +%H:%M): router -> $router_to, nginx -> $nginx_to"

# One measurement: appends "label rps p50_ms p99_ms" to $work/results.
run() { # label, url
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$2" >/dev/null
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$2" >"$work/$1.wrk"
    awk -v label="$1" '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        /Requests\/sec/ { rps = $2 }
        $1 == "50%" { p50 = ms($2) }
        $1 == "99%" { p99 = ms($2) }
        /Non-2xx|Socket errors/ { print "warning: " label ": " $0 > "/dev/stderr" }
        END { printf "%s %.0f %.2f %.2f\n", label, rps, p50, p99 }
    ' "$work/$1.wrk" | tee -a "$work/results" | awk '{ printf "  %-12s %10s req/s  p50 %6s ms  p99 %7s ms\n", $1, $2, $3, $4 }'
}

# The machine may be busy with other work: interleave the targets over several rounds so a
# burst of background load cannot favour one of them, and report the median of each column.
echo "== wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $ROUNDS rounds, $WORKERS cores, $(date -u +%FT%TZ)"
for round in $(seq 1 "$ROUNDS"); do
    echo "round $round"
    run direct "http://127.0.0.1:$EVEN_PORT/"
    run nginx "http://127.0.0.1:$NGINX_PORT/"
    run nginx-no-id "http://127.0.0.1:$NGINX_NO_ID_PORT/"
    run router "http://127.0.0.1:$ROUTER_PORT/"
done

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "== median of $ROUNDS rounds"
printf "%-12s %12s %10s %10s\n" target "requests/s" "p50 ms" "p99 ms"
for label in direct nginx nginx-no-id router; do
    rps=$(awk -v l="$label" '$1 == l { print $2 }' "$work/results" | median)
    p50=$(awk -v l="$label" '$1 == l { print $3 }' "$work/results" | median)
    p99=$(awk -v l="$label" '$1 == l { print $4 }' "$work/results" | median)
    printf "%-12s %12s %10s %10s\n" "$label" "$rps" "$p50" "$p99"
done
echo "== load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews all three alike)"
