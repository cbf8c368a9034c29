#!/usr/bin/env bash
# Runs every test of the workspace.
#
# Store and ledger tests need a real Redis and PostgreSQL: this script starts throwaway ones on
# free ports in a temporary directory, points the tests at them (TEST_REDIS_URL,
# TEST_DATABASE_URL) and removes them afterwards. On Debian/Ubuntu it installs redis-server and
# postgresql when they are missing and it can (root or sudo).
#
# The container suite (tests/) needs the project's images: unless VOTE_IT_APP_IMAGE says they
# are built already, ci/build-images.sh builds them first (offline by default; set
# VOTE_BASES=public on a host that can pull the public base images). Its Swarm tests need a
# single-node swarm: made here, and left afterwards, when the engine is in none.
#
# Its browser tests drive headless Chromium through chromedriver (installed here when missing,
# like the servers) and run axe-core's axe.min.js, which comes from the PyPI wheel
# axe-core-python (npm is not reachable from every build machine) in a cached virtualenv. Their
# paths reach the tests as VOTE_IT_CHROMEDRIVER and VOTE_IT_AXE_JS.
#
# Usage: ci/test.sh [extra arguments for cargo nextest run / cargo test]
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# The newest installed PostgreSQL's bin directory (Debian keeps each major version apart).
postgres_bin() { printf '%s\n' /usr/lib/postgresql/*/bin | grep -v '\*' | sort -V | tail -n 1; }

install_missing() {
  local missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v openssl >/dev/null || missing+=(openssl)
  [ -n "$(postgres_bin)" ] || missing+=(postgresql)
  python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
  [ -n "${VOTE_IT_CHROMEDRIVER:-}" ] || command -v chromedriver >/dev/null ||
    missing+=(chromium chromium-driver)
  [ ${#missing[@]} -eq 0 ] && return
  if ! command -v apt-get >/dev/null; then
    echo "ci/test.sh: please install ${missing[*]} (Redis, PostgreSQL, Python venv, Chromium, chromedriver)" >&2
    exit 1
  fi
  echo "ci/test.sh: installing ${missing[*]}"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# PostgreSQL refuses to run as root: as root, run its tools as the `postgres` user.
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

install_missing
# shellcheck source=ci/python-tools.sh
. ci/python-tools.sh
use_python_tools axe-core axe-core-python==0.1.0
VOTE_IT_AXE_JS=${VOTE_IT_AXE_JS:-$(python3 -c 'import axe_core_python as axe, pathlib
print(pathlib.Path(axe.__file__).with_name("axe.min.js"))')}
VOTE_IT_CHROMEDRIVER=${VOTE_IT_CHROMEDRIVER:-$(command -v chromedriver)}
export VOTE_IT_AXE_JS VOTE_IT_CHROMEDRIVER

if [ -z "${VOTE_IT_APP_IMAGE:-}" ]; then
  eval "$(ci/build-images.sh)"
fi

workdir=$(mktemp -d)
chmod 755 "$workdir"
cleanup() {
  [ -f "$workdir/swarm-created" ] && docker swarm leave --force >/dev/null 2>&1 || true
  for pidfile in "$workdir"/redis*.pid; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  [ -d "$workdir/pg" ] && as_postgres "$(postgres_bin)/pg_ctl" -D "$workdir/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap cleanup EXIT

# The Swarm tests need a swarm; alone, each test makes one and leaves it. One swarm for the whole
# run spares the engine a swarm init and leave (which reprogram its networks and firewall rules)
# per test while the other tests' containers are talking to each other.
if [ "$(docker info -f '{{.Swarm.LocalNodeState}}' 2>/dev/null)" = inactive ]; then
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null
  touch "$workdir/swarm-created"
fi

redis_port=$(free_port)
redis_password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
redis-server --port "$redis_port" --bind 127.0.0.1 --requirepass "$redis_password" --save '' \
  --appendonly no --daemonize yes --pidfile "$workdir/redis.pid" --logfile "$workdir/redis.log"

# A second Redis speaking TLS only, like Azure Cache for Redis on port 6380, with a certificate
# for localhost from a CA made for this run; the tests trust that CA through SSL_CERT_FILE, and
# the Key Vault stand-in serves the same certificate.
tls_port=$(free_port)
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=vote-app test CA" \
  -keyout "$workdir/ca.key" -out "$workdir/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$workdir/redis.key" \
  -out "$workdir/redis.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$workdir/san.ext"
openssl x509 -req -in "$workdir/redis.csr" -CA "$workdir/ca.pem" -CAkey "$workdir/ca.key" \
  -CAcreateserial -days 1 -extfile "$workdir/san.ext" -out "$workdir/redis.pem" 2>/dev/null
redis-server --port 0 --tls-port "$tls_port" --bind 127.0.0.1 --requirepass "$redis_password" \
  --tls-cert-file "$workdir/redis.pem" --tls-key-file "$workdir/redis.key" \
  --tls-ca-cert-file "$workdir/ca.pem" --tls-auth-clients no --save '' --appendonly no \
  --daemonize yes --pidfile "$workdir/redis-tls.pid" --logfile "$workdir/redis-tls.log"

pg_port=$(free_port)
mkdir "$workdir/pg"
[ "$(id -u)" -eq 0 ] && chown postgres "$workdir/pg"
as_postgres "$(postgres_bin)/initdb" -D "$workdir/pg" -U vote --auth=trust >/dev/null
as_postgres "$(postgres_bin)/pg_ctl" -D "$workdir/pg" -l "$workdir/pg/server.log" -w \
  -o "-p $pg_port -k $workdir/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null

export TEST_REDIS_URL="redis://:${redis_password}@127.0.0.1:${redis_port}/0"
export TEST_REDISS_URL="rediss://:${redis_password}@localhost:${tls_port}/0"
export SSL_CERT_FILE="$workdir/ca.pem"
export TEST_TLS_CERT_FILE="$workdir/redis.pem" TEST_TLS_KEY_FILE="$workdir/redis.key"
export TEST_DATABASE_URL="postgres://vote@127.0.0.1:${pg_port}/postgres"

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast "$@"
else
  cargo test --workspace --locked --no-fail-fast "$@"
fi
