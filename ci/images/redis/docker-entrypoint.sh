#!/bin/sh
# The official redis image's entrypoint contract, for Debian's redis-server.
set -eu

# `docker run IMAGE --requirepass x` or `docker run IMAGE /path/redis.conf` means redis-server.
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
    set -- redis-server "$@"
fi

if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
    find . \! -user redis -exec chown redis '{}' +
    exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

if [ "$1" = redis-server ]; then
    shift
    # A config file must stay the first argument; protected mode off comes next so that the
    # caller's own arguments can still override it.
    case "${1:-}" in
        *.conf) conf="$1"; shift; set -- redis-server "$conf" --protected-mode no "$@" ;;
        *) set -- redis-server --protected-mode no "$@" ;;
    esac
fi

exec "$@"
