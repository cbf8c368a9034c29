#!/usr/bin/env bash
# Builds every image the Dockerfiles, compose.yaml and tests/ need, then the project's images.
#
#   eval "$(ci/build-images.sh)"     # build, then export the variables that point at the images
#
# VOTE_BASES=local (default): nothing is pulled. The base images are made here: a Debian rootfs
#   from debootstrap, `docker import`ed, and on top of it a Rust builder (the host's toolchain),
#   Redis and PostgreSQL, each tagged `vote-local/...` and labelled with a hash of its recipe, so a
#   second run skips every base image whose recipe did not change.
# VOTE_BASES=public: a host that can pull; the Dockerfiles' defaults (rust, redis, postgres from
#   Docker Hub) are used and only the project's images are built.
#
# The project's images need no runtime base in either case: their last stage starts `FROM
# scratch` and holds the files it needs, taken from the Rust builder (see vote-app/Dockerfile).
#
# BUILDER_CA_FILE (default /etc/ssl/certs/ca-certificates.crt): the CA bundle the local Rust
#   builder trusts, so cargo inside `docker build` can reach crates.io through a TLS-inspecting
#   proxy the host trusts.
#
# Logs go to stderr; stdout carries only `export NAME=value` lines (also written to
# target/images.env) for the build args, compose.yaml and the tests.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly images_dir=ci/images
readonly bases="${VOTE_BASES:-local}"
readonly suite=bookworm
readonly mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
readonly env_file="${VOTE_IMAGES_ENV_FILE:-target/images.env}"
readonly recipe_label=org.example.vote.recipe

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

docker info >/dev/null 2>&1 || die "no Docker engine reachable (docker info failed); it is required"

# The recipe label of an image, empty when the image is missing.
recipe_of() { docker image inspect -f "{{ index .Config.Labels \"$recipe_label\" }}" "$1" 2>/dev/null || true; }
# A short hash of everything on stdin.
hash_stdin() { sha256sum | cut -c1-16; }
# The id of a local image, failing when it is missing.
image_id() { docker image inspect -f '{{.Id}}' "$1"; }

# Debian rootfs, trimmed like the official -slim image, imported as an image.
build_debian() {
    local tag=$1 recipe
    recipe=$({ declare -f build_debian write_slim_config; echo "$suite $mirror"; } | hash_stdin)
    if [ "$(recipe_of "$tag")" = "$recipe" ]; then log "$tag is up to date"; return; fi

    command -v debootstrap >/dev/null || {
        log "installing debootstrap"
        as_root apt-get install -y --no-install-recommends debootstrap >&2
    }
    local rootfs
    rootfs=$(mktemp -d /tmp/vote-rootfs.XXXXXX)
    log "debootstrap $suite into $rootfs (about 1-2 minutes)"
    as_root debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >&2
    as_root bash -c "$(declare -f write_slim_config); write_slim_config '$rootfs' '$mirror'"
    log "importing $tag"
    as_root tar -C "$rootfs" --numeric-owner -c . | docker import \
        --change "LABEL $recipe_label=$recipe" \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' - "$tag" >&2
    as_root rm -rf "$rootfs"
}

# What the official debian:*-slim image does to a rootfs: no docs, man pages or locales, apt
# caches cleaned after each install, the updates and security suites enabled.
write_slim_config() {
    local root=$1 mirror=$2
    cat > "$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
CFG
    cat > "$root/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
CFG
    rm -f "$root/etc/apt/sources.list"
    cat > "$root/etc/apt/sources.list.d/debian.sources" <<CFG
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
CFG
    find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    rm -rf "$root"/usr/share/{man,groff,info,lintian,linda,locale}/* \
        "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/log/*.log
    : > "$root/etc/resolv.conf"
    : > "$root/etc/hostname"
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# A base image built from ci/images/<name>/ on top of the local Debian image.
build_from_dir() {
    local name=$1 tag=$2 base=$3 recipe
    recipe=$({ image_id "$base"; tar -C "$images_dir/$name" -c --sort=name --mtime=@0 --owner=0 --group=0 .; } | hash_stdin)
    if [ "$(recipe_of "$tag")" = "$recipe" ]; then log "$tag is up to date"; return; fi
    log "building $tag"
    docker build -q --build-arg "BASE_IMAGE=$base" --label "$recipe_label=$recipe" \
        -t "$tag" "$images_dir/$name" >&2
}

# The Rust builder: the host's toolchain (the one rust-toolchain.toml pins) streamed into the
# build context with the Dockerfile, no copy on disk.
build_rust() {
    local tag=$1 base=$2 version=$3 sysroot recipe
    local ca_bundle
    ca_bundle=$(readlink -f "${BUILDER_CA_FILE:-/etc/ssl/certs/ca-certificates.crt}")
    [ -f "$ca_bundle" ] || die "no CA bundle at $ca_bundle (set BUILDER_CA_FILE)"
    sysroot=$(rustc --print sysroot)
    recipe=$({ image_id "$base"; rustc -vV; cat "$images_dir/rust/Dockerfile" "$ca_bundle"; } | hash_stdin)
    if [ "$(recipe_of "$tag")" = "$recipe" ]; then log "$tag is up to date"; return; fi
    log "building $tag from the host toolchain at $sysroot"
    tar -c -C "$images_dir/rust" Dockerfile \
        -C "$(dirname "$ca_bundle")" --transform "s,^$(basename "$ca_bundle")\$,host-ca-certificates.crt," \
        "$(basename "$ca_bundle")" -C "$sysroot" \
        --transform 's,^\(bin\|lib\)\b,toolchain/\1,' bin lib \
        | docker build -q --build-arg "BASE_IMAGE=$base" --build-arg "RUST_VERSION=$version" \
            --label "$recipe_label=$recipe" -t "$tag" - >&2
}

# The workspace version, the one source of truth for every tag.
workspace_version() {
    sed -n '/^\[workspace.package\]/,/^\[/ s/^version *= *"\(.*\)"/\1/p' Cargo.toml
}

# The commit an image is built from: the last one that changed the image's inputs (so a commit
# touching only docs or CI rebuilds nothing), with `-dirty` when those inputs have uncommitted
# changes. GIT_COMMIT, when set, wins.
source_commit() {
    local service=$1 commit
    local -a inputs=(Cargo.toml Cargo.lock tests/Cargo.toml "$service")
    if [ -n "${GIT_COMMIT:-}" ]; then echo "$GIT_COMMIT"; return; fi
    commit=$(git log -1 --format=%h --abbrev=12 -- "${inputs[@]}" 2>/dev/null) || { echo unknown; return; }
    [ -n "$(git status --porcelain -- "${inputs[@]}")" ] && commit="$commit-dirty"
    echo "${commit:-unknown}"
}

build_project_image() {
    local service=$1 version=$2 commit start
    commit=$(source_commit "$service")
    start=$(date +%s)
    log "building $service:$version ($commit) from $service/Dockerfile"
    docker build -f "$service/Dockerfile" \
        --build-arg "RUST_IMAGE=$RUST_IMAGE" \
        --build-arg "VERSION=$version" --build-arg "GIT_COMMIT=$commit" \
        -t "$service:$version" -t "$service:test" . >&2
    log "$service built in $(($(date +%s) - start)) s, $(docker image inspect -f '{{.Size}}' "$service:test" | numfmt --to=iec)B"
}

main() {
    local rust_version
    rust_version=$(rustc --version | cut -d' ' -f2)
    case "$bases" in
        local)
            # The Debian base of the other three, not of the project's images.
            local debian="vote-local/debian:$suite-slim"
            RUST_IMAGE="vote-local/rust:${rust_version%.*}-$suite"
            REDIS_IMAGE=vote-local/redis:7
            POSTGRES_IMAGE=vote-local/postgres:15
            build_debian "$debian"
            build_rust "$RUST_IMAGE" "$debian" "$rust_version"
            build_from_dir redis "$REDIS_IMAGE" "$debian"
            build_from_dir postgres "$POSTGRES_IMAGE" "$debian"
            ;;
        public)
            RUST_IMAGE=rust:1.95-bookworm
            REDIS_IMAGE=redis:7
            POSTGRES_IMAGE=postgres:15
            ;;
        *) die "VOTE_BASES must be local or public, not '$bases'" ;;
    esac

    local version
    version=$(workspace_version)
    build_project_image vote-app "$version"
    build_project_image router "$version"

    mkdir -p "$(dirname "$env_file")"
    cat > "$env_file" <<ENV
export RUST_IMAGE=$RUST_IMAGE
export REDIS_IMAGE=$REDIS_IMAGE
export POSTGRES_IMAGE=$POSTGRES_IMAGE
export VOTE_IT_REDIS_IMAGE=$REDIS_IMAGE
export VOTE_IT_POSTGRES_IMAGE=$POSTGRES_IMAGE
export VOTE_IT_APP_IMAGE=vote-app:test
export VOTE_IT_ROUTER_IMAGE=router:test
ENV
    log "image variables written to $env_file"
    cat "$env_file"
}

main "$@"
