# shellcheck shell=bash
# Shared by the benchmarks: a work directory and the processes started in it, cleaned up on exit;
# for the router's, the release router, the two upstreams (one nginx answering on two ports) and
# nginx doing the router's minute-parity job. Sourced, not run: the router benchmarks set
# EVEN_PORT, ODD_PORT and WORKERS (nginx worker processes) first.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this file
target=${CARGO_TARGET_DIR:-$repo/target}
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

build_router() {
    echo "== building the router (release)"
    (cd "$repo" && cargo build --release --quiet -p router)
}

# Sets app_binary: BINARY when given (a build to compare, e.g. an older one), else the release
# build of the vote-app, built now.
# shellcheck disable=SC2034 # used by the scripts that source this file
vote_app_binary() {
    if [ -n "${BINARY:-}" ]; then
        app_binary=$BINARY
    else
        echo "== building the vote-app (release)"
        (cd "$repo" && cargo build --release --quiet -p vote-app)
        app_binary=$target/release/vote-app
    fi
}

# For a process started under `valgrind --tool=callgrind --instr-atstart=no
# --callgrind-out-file=$work/callgrind.%p` as PID: warms it up with 3 s of wrk on URL, counts
# its instructions during DURATION of wrk at CONNECTIONS, stops it, and prints
# "label requests instructions-per-request". Arguments after the label go to wrk (`-s vote.lua`).
callgrind_per_request() { # pid, url, label, wrk arguments...
    local pid=$1 url=$2 label=$3 requests
    shift 3
    wait_for "$url"
    wrk -t1 -c"$CONNECTIONS" -d3s "$@" "$url" >/dev/null
    callgrind_control --instr=on "$pid" >/dev/null 2>&1
    requests=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" "$@" "$url" | awk '/requests in/ { print $1 }')
    callgrind_control --instr=off "$pid" >/dev/null 2>&1
    callgrind_control --dump "$pid" >/dev/null 2>&1
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    awk -v label="$label" -v requests="$requests" '
        /^totals:/ { total += $2 }
        END { printf "%-12s %9d %12.0f\n", label, requests, total / requests }
    ' "$work"/callgrind.*
}

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

write_upstreams_conf() {
    write_nginx_conf upstreams "
    server { listen 127.0.0.1:$EVEN_PORT; location / { return 200 'even\n'; } location = /health { return 200 'ok\n'; } }
    server { listen 127.0.0.1:$ODD_PORT;  location / { return 200 'odd\n'; }  location = /health { return 200 'ok\n'; } }"
}

# The same job as the router: \$time_iso8601 is local time, so nginx must run with TZ=UTC.
write_proxy_conf() { # name, port, extra directives ($request_id_directives or none)
    write_nginx_conf "$1" "
    map \$time_iso8601 \$parity {
        \"~T\\d\\d:\\d[02468]:\" even;
        default                 odd;
    }
    map \$http_x_request_id \$kept_request_id {
        \"\"      \$request_id;
        default \$http_x_request_id;
    }
    upstream even { server 127.0.0.1:$EVEN_PORT; keepalive 128; }
    upstream odd  { server 127.0.0.1:$ODD_PORT;  keepalive 128; }
    server {
        listen 127.0.0.1:$2;
        location / {
            proxy_pass http://\$parity;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_set_header Host \$proxy_host;
            proxy_set_header X-Forwarded-Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            add_header X-Routed-To \$parity always;
            $3
        }
    }"
}
# What nginx needs to do the router's request-id work: keep the client's id or make one, send it
# upstream and return it.
# shellcheck disable=SC2034 # used by the scripts that source this file
request_id_directives="proxy_set_header X-Request-Id \$kept_request_id; add_header X-Request-Id \$kept_request_id always;"

# The router's environment for the benchmarks: both upstreams, no per-request log line.
router_env() { # port
    echo RUST_LOG=warn PORT="$1" ROUTER_UPSTREAM_EVEN="http://127.0.0.1:$EVEN_PORT" \
        ROUTER_UPSTREAM_ODD="http://127.0.0.1:$ODD_PORT"
}

start() { # name, command...
    local name=$1; shift
    "$@" >"$work/$name.out" 2>&1 &
    pids+=("$!")
}
wait_for() { # url
    for _ in $(seq 1 200); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
    echo "nothing answers on $1" >&2; exit 1
}

