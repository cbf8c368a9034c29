#!/usr/bin/env bash
# Router vs nginx doing the same minute-parity job, in front of the same two upstreams, on this
# machine, in one run. Prints requests/s and p50/p99 latency for direct access, nginx and router.
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
#   -Proto and -Host, add X-Routed-To.
# - nginx runs as many worker processes as the router has runtime threads (one per core).
# - Neither writes an access log (the router's request line is at info level; RUST_LOG=warn).
# - wrk, the upstreams and the proxy share the same cores: absolute figures are for this
#   machine only; the comparison is what matters.
set -euo pipefail

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-2s}
ROUNDS=${ROUNDS:-3}
EVEN_PORT=${EVEN_PORT:-18081}
ODD_PORT=${ODD_PORT:-18082}
ROUTER_PORT=${ROUTER_PORT:-18080}
NGINX_PORT=${NGINX_PORT:-18090}
WORKERS=$(nproc)

for tool in cargo nginx wrk curl; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y nginx wrk curl)" >&2; exit 1; }
done

repo=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$repo/target}
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "== building the router (release)"
(cd "$repo" && cargo build --release --quiet -p router)

# nginx needs writable temp paths; everything lives in $work.
nginx_common="pid $work/\$name.pid; error_log $work/\$name.error.log warn;"
write_nginx_conf() { # name, body
    local name=$1 body=$2
    cat >"$work/$name.conf" <<EOF
${nginx_common//\$name/$name}
worker_processes $WORKERS;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $work/$name.body;
    proxy_temp_path $work/$name.proxy;
    fastcgi_temp_path $work/$name.fastcgi;
    uwsgi_temp_path $work/$name.uwsgi;
    scgi_temp_path $work/$name.scgi;
    keepalive_requests 1000000;
$body
}
EOF
}

write_nginx_conf upstreams "
    server { listen 127.0.0.1:$EVEN_PORT; location / { return 200 'even\n'; } location = /health { return 200 'ok\n'; } }
    server { listen 127.0.0.1:$ODD_PORT;  location / { return 200 'odd\n'; }  location = /health { return 200 'ok\n'; } }"

# The same job as the router: \$time_iso8601 is local time, so nginx runs with TZ=UTC below.
write_nginx_conf proxy "
    map \$time_iso8601 \$parity {
        \"~T\\d\\d:\\d[02468]:\" even;
        default                 odd;
    }
    upstream even { server 127.0.0.1:$EVEN_PORT; keepalive 128; }
    upstream odd  { server 127.0.0.1:$ODD_PORT;  keepalive 128; }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            proxy_pass http://\$parity;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_set_header Host \$proxy_host;
            proxy_set_header X-Forwarded-Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            add_header X-Routed-To \$parity always;
        }
    }"

start() { # name, command...
    local name=$1; shift
    "$@" >"$work/$name.out" 2>&1 &
    pids+=("$!")
}
wait_for() { # url
    for _ in $(seq 1 100); do curl -fsS -o /dev/null "$1" && return 0; sleep 0.1; done
    echo "nothing answers on $1" >&2; exit 1
}

start upstreams nginx -p "$work" -c "$work/upstreams.conf" -g 'daemon off;'
start nginx env TZ=UTC nginx -p "$work" -c "$work/proxy.conf" -g 'daemon off;'
start router env RUST_LOG=warn PORT="$ROUTER_PORT" \
    ROUTER_UPSTREAM_EVEN="http://127.0.0.1:$EVEN_PORT" ROUTER_UPSTREAM_ODD="http://127.0.0.1:$ODD_PORT" \
    "$target/release/router"
for url in "http://127.0.0.1:$EVEN_PORT/" "http://127.0.0.1:$ODD_PORT/" \
    "http://127.0.0.1:$NGINX_PORT/" "http://127.0.0.1:$ROUTER_PORT/router/health"; do
    wait_for "$url"
done

# Same minute, same answer from both proxies.
router_to=$(curl -fsS -D - -o /dev/null "http://127.0.0.1:$ROUTER_PORT/" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-routed-to"{print $2}')
nginx_to=$(curl -fsS -D - -o /dev/null "http://127.0.0.1:$NGINX_PORT/" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-routed-to"{print $2}')
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
    ' "$work/$1.wrk" | tee -a "$work/results" | awk '{ printf "  %-8s %10s req/s  p50 %6s ms  p99 %7s ms\n", $1, $2, $3, $4 }'
}

# The machine may be busy with other work: interleave the targets over several rounds so a
# burst of background load cannot favour one of them, and report the median of each column.
echo "== wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $ROUNDS rounds, $WORKERS cores, $(date -u +%FT%TZ)"
for round in $(seq 1 "$ROUNDS"); do
    echo "round $round"
    run direct "http://127.0.0.1:$EVEN_PORT/"
    run nginx "http://127.0.0.1:$NGINX_PORT/"
    run router "http://127.0.0.1:$ROUTER_PORT/"
done

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "== median of $ROUNDS rounds"
printf "%-8s %12s %10s %10s\n" target "requests/s" "p50 ms" "p99 ms"
for label in direct nginx router; do
    rps=$(awk -v l="$label" '$1 == l { print $2 }' "$work/results" | median)
    p50=$(awk -v l="$label" '$1 == l { print $3 }' "$work/results" | median)
    p99=$(awk -v l="$label" '$1 == l { print $4 }' "$work/results" | median)
    printf "%-8s %12s %10s %10s\n" "$label" "$rps" "$p50" "$p99"
done
echo "== load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews all three alike)"
