#!/usr/bin/env bash
# What the vote-app, the router and Redis use under load, run as containers with the CPU and
# memory limits of the Kubernetes manifests: the figures the manifests' requests and limits
# come from (k8s/README.md).
#
#   bench/k8s-resources.sh            # needs: docker, the project's images, wrk, curl, python3
#
# Redis, two vote-apps and the router on a private network, as overlays/minute-parity runs them;
# wrk -t2 -c64 sends DURATION (10s) of page loads, then of votes, through the router while
# `docker stats` samples every container. Prints each container's peak memory, its mean and
# peak CPU, and whether it hit its memory limit. Everything shares this machine's cores: the
# CPU figures are for this machine only.
set -euo pipefail

# shellcheck source=bench/arguments.sh
. "$(dirname "$0")/arguments.sh"
check_arguments "" "$@"
cd "$(dirname "$0")/.."
readonly duration=${DURATION:-10s}
app_image=${VOTE_IT_APP_IMAGE:-vote-app:test}
router_image=${VOTE_IT_ROUTER_IMAGE:-router:test}
redis_image=${VOTE_IT_REDIS_IMAGE:-redis:7}
for tool in docker wrk curl python3 kubectl; do
    command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

run="k8s-bench-$$"
work=$(mktemp -d)
cleanup() {
    [ -z "${sampler:-}" ] || kill "$sampler" 2>/dev/null || true
    docker ps -aq --filter "name=^$run-" | xargs -r docker rm -f >/dev/null 2>&1 || true
    docker network rm "$run" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# `--cpus C --memory M` from a workload's first container limits in the rendered overlay.
ci/k8s-render.sh k8s/overlays/minute-parity >"$work/rendered.yaml"
limits() {
    python3 - "$work/rendered.yaml" "$1" <<'PY'
import re, sys
documents = open(sys.argv[1]).read().split("\n---\n")
workload = next(d for d in documents if re.search(r"^kind: (Deployment|StatefulSet)$", d, re.M)
                and re.search(rf"^  name: {sys.argv[2]}$", d, re.M))
limits = workload[workload.index("limits:"):]
cpu = re.search(r'cpu: "?([0-9.]+)(m?)"?', limits)
memory = re.search(r"memory: ([0-9]+)Mi", limits)
cores = float(cpu.group(1)) / (1000 if cpu.group(2) else 1)
print(f"--cpus {cores} --memory {memory.group(1)}m")
PY
}
read -r -a app_limits <<<"$(limits vote-app-even)"
read -r -a router_limits <<<"$(limits router)"
read -r -a redis_limits <<<"$(limits redis)"
echo "== limits from k8s/: vote-app ${app_limits[*]}, router ${router_limits[*]}, redis ${redis_limits[*]}"

password=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
docker network create "$run" >/dev/null
docker run -d --name "$run-redis" --network "$run" "${redis_limits[@]}" "$redis_image" \
    redis-server --requirepass "$password" --save '' --appendonly no >/dev/null
for parity in even odd; do
    docker run -d --name "$run-$parity" --network "$run" "${app_limits[@]}" --read-only \
        -e "REDIS=$run-redis:6379" -e "REDIS_PWD=$password" -e RUST_LOG=warn "$app_image" >/dev/null
done
docker run -d --name "$run-router" --network "$run" "${router_limits[@]}" --read-only -p 127.0.0.1::8080 \
    -e "ROUTER_UPSTREAM_EVEN=http://$run-even:8080" -e "ROUTER_UPSTREAM_ODD=http://$run-odd:8080" \
    -e RUST_LOG=warn "$router_image" >/dev/null
url="http://$(docker port "$run-router" 8080/tcp | head -n 1)"
for _ in $(seq 300); do
    curl -fsS "$url/router/status" 2>/dev/null | grep -q '"healthy":true.*"healthy":true' && break
    sleep 0.2
done
curl -fsS -o /dev/null "$url/ready" || { echo "the stack did not become ready" >&2; exit 1; }

cat >"$work/vote.lua" <<'LUA'
wrk.method = "POST"
wrk.body = "vote=Cats"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
LUA
(while true; do
    docker stats --no-stream --format '{{.Name}} {{.CPUPerc}} {{.MemUsage}}' \
        "$run-redis" "$run-even" "$run-odd" "$run-router" >>"$work/stats.txt"
done) &
sampler=$!
echo "== idle, then $duration of GET / and $duration of votes, through the router"
sleep 2
wrk -t2 -c64 -d"$duration" "$url/" | grep -E 'Requests/sec|Non-2xx'
wrk -t2 -c64 -d"$duration" -s "$work/vote.lua" "$url/" | grep -E 'Requests/sec|Non-2xx'
kill "$sampler"
sampler=""

for name in redis even odd router; do
    printf '%s ' "$name"
    docker inspect -f '{{.State.OOMKilled}} {{.RestartCount}}' "$run-$name"
done >"$work/oom.txt"
python3 - "$work/stats.txt" "$run-" "$work/oom.txt" <<'PY'
import collections, re, sys
units = {"B": 1 / 2**20, "KiB": 1 / 1024, "MiB": 1, "GiB": 1024}
cpu, memory = collections.defaultdict(list), collections.defaultdict(list)
for line in open(sys.argv[1]):
    name, percent, used = line.split()[:3]
    number, unit = re.match(r"([0-9.]+)(\D+)", used).groups()
    name = name.removeprefix(sys.argv[2])
    cpu[name].append(float(percent.rstrip("%")))
    memory[name].append(float(number) * units[unit])
oom = dict(line.split(maxsplit=1) for line in open(sys.argv[3]))
print(f"{'container':<10} {'peak memory':>12} {'mean CPU':>9} {'peak CPU':>9}  memory limit hit")
for name in ("router", "even", "odd", "redis"):
    print(f"{name:<10} {max(memory[name]):>9.1f} MiB {sum(cpu[name]) / len(cpu[name]):>8.0f}% "
          f"{max(cpu[name]):>8.0f}%  {oom[name].split()[0]}")
PY
