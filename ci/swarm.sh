#!/usr/bin/env bash
# Runs the product as a Docker Swarm stack: compose.yaml plus deploy/swarm/stack.yml.
#
# Usage: ci/swarm.sh secrets | deploy | upgrade SERVICE TAG | status | remove | --help
#   secrets              write random secret files into $VOTE_SECRETS_DIR (kept if present)
#   deploy               secrets, then `docker stack deploy`; waits until every task is healthy
#   upgrade SERVICE TAG  rolling update of one service (vote-even, vote-odd, router…) to the
#                        same image name with another tag; exits 1 if Swarm rolled it back
#   status               services, tasks and the last update of each service
#   remove               removes the stack and waits until its networks are gone
#
# Environment: SWARM_STACK (stack name, default vote), VOTE_SECRETS_DIR (default
# deploy/swarm/secrets), ROUTER_PORT (host port of the router, default 8080), VOTE_APP_IMAGE,
# ROUTER_IMAGE, REDIS_IMAGE, POSTGRES_IMAGE (default vote-app:test, router:test, redis:7,
# postgres:15; `eval "$(ci/build-images.sh)"` sets the last two to the local stand-ins).
# An image named with a registry host (`127.0.0.1:5000/vote-app:1.2.0`) is resolved and pulled
# from that registry; any other name must be in the local image store (nothing is pulled).
# The node must be a swarm manager: `docker swarm init --advertise-addr 127.0.0.1`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly stack="${SWARM_STACK:-vote}"
export VOTE_SECRETS_DIR="${VOTE_SECRETS_DIR:-$PWD/deploy/swarm/secrets}"
export VOTE_APP_IMAGE="${VOTE_APP_IMAGE:-vote-app:test}"
export ROUTER_IMAGE="${ROUTER_IMAGE:-router:test}"
export REDIS_IMAGE="${REDIS_IMAGE:-redis:7}"
export POSTGRES_IMAGE="${POSTGRES_IMAGE:-postgres:15}"
export ROUTER_PORT="${ROUTER_PORT:-8080}"
# How long deploy and upgrade wait for Swarm to converge.
readonly timeout_secs="${SWARM_TIMEOUT_SECS:-300}"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
# The header comment, up to the first line that is not a comment.
usage() { sed -n '2,/^[^#]/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

require_manager() {
  docker info >/dev/null 2>&1 || die "no Docker engine reachable (docker info failed)"
  [ "$(docker info --format '{{.Swarm.ControlAvailable}}')" = true ] ||
    die "this node is not a swarm manager; run: docker swarm init --advertise-addr 127.0.0.1"
}

# A registry host is a first path component with a dot or a port, or `localhost`.
from_registry() {
  local first=${1%%/*}
  [ "$first" != "$1" ] && { [[ $first == *[.:]* ]] || [ "$first" = localhost ]; }
}

# One random secret file, readable only by its owner on the host (Swarm and compose hand it
# to the containers with their own permissions).
write_secret() {
  local path="$VOTE_SECRETS_DIR/$1"
  [ -s "$path" ] && return
  (umask 077 && printf '%s' "$2" >"$path")
  log "wrote $path"
}

random_hex() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

make_secrets() {
  mkdir -p "$VOTE_SECRETS_DIR"
  write_secret redis-password "$(random_hex)"
  write_secret postgres-password "$(random_hex)"
  write_secret admin-token "$(random_hex)"
  write_secret database-url \
    "postgres://vote:$(cat "$VOTE_SECRETS_DIR/postgres-password")@postgres:5432/vote"
  # compose bind-mounts the files as they are: the services' users (10001, redis, postgres)
  # must be able to read them.
  chmod 0444 "$VOTE_SECRETS_DIR"/*-* && chmod 0700 "$VOTE_SECRETS_DIR"
}

deploy() {
  require_manager
  make_secrets
  local resolve=never image
  for image in "$VOTE_APP_IMAGE" "$ROUTER_IMAGE" "$REDIS_IMAGE" "$POSTGRES_IMAGE"; do
    if from_registry "$image"; then
      resolve=always
      log "$image: from its registry"
    else
      docker image inspect "$image" >/dev/null 2>&1 ||
        die "$image is not in the local image store; run: eval \"\$(ci/build-images.sh)\""
      log "$image: from the local image store"
    fi
  done
  log "deploying stack $stack (router on host port $ROUTER_PORT)"
  # --detach=false waits until every service has converged: its tasks running and healthy.
  timeout "$timeout_secs" docker stack deploy --detach=false --resolve-image "$resolve" \
    -c compose.yaml -c deploy/swarm/stack.yml "$stack" >&2
}

# The update state of a service: completed, rollback_completed, paused… (empty before any).
update_state() {
  docker service inspect --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' "$1"
}

upgrade() {
  [ $# -eq 2 ] || die "usage: ci/swarm.sh upgrade SERVICE TAG"
  require_manager
  local service="${stack}_$1" current image
  current=$(docker service inspect --format '{{.Spec.TaskTemplate.ContainerSpec.Image}}' \
    "$service") || die "no service $service"
  current=${current%@*}
  image="${current%:*}:$2"
  local resolve=--no-resolve-image
  if from_registry "$image"; then resolve=; else
    docker image inspect "$image" >/dev/null 2>&1 || die "$image is not in the local image store"
  fi
  log "rolling update of $service: $current -> $image"
  # A rolled-back update makes `service update` fail, and a successful one returns before the
  # monitor window of the last task has passed: the update state says when and how it ended.
  timeout "$timeout_secs" docker service update --detach=false ${resolve:+"$resolve"} \
    --image "$image" "$service" >&2 || true
  local state deadline=$((SECONDS + timeout_secs))
  while state=$(update_state "$service"); [[ $state == updating || $state == rollback_started ]]; do
    [ "$SECONDS" -lt "$deadline" ] || die "$service: update still $state after $timeout_secs s"
    sleep 1
  done
  log "$service: update $state"
  [ "$state" = completed ] || die "$service was not updated to $image (update $state)"
}

status() {
  require_manager
  docker stack services "$stack"
  echo
  docker stack ps --format 'table {{.Name}}\t{{.Image}}\t{{.CurrentState}}\t{{.Error}}' "$stack"
  echo
  local service
  for service in $(docker stack services --format '{{.Name}}' "$stack"); do
    printf '%s: last update %s\n' "$service" "$(update_state "$service")"
  done
}

remove() {
  require_manager
  docker stack rm "$stack" >&2
  local deadline=$((SECONDS + 60))
  # Networks go last, once every task has stopped: wait so a new deploy does not race them.
  while [ -n "$(docker network ls -q --filter "label=com.docker.stack.namespace=$stack")" ]; do
    [ "$SECONDS" -lt "$deadline" ] || die "stack $stack still has networks after 60 s"
    sleep 0.5
  done
  log "stack $stack removed"
}

case "${1:-}" in
  secrets) make_secrets ;;
  deploy) deploy ;;
  upgrade) shift; upgrade "$@" ;;
  status) status ;;
  remove) remove ;;
  -h | --help) usage ;;
  *) usage >&2; exit 2 ;;
esac
