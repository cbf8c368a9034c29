#!/usr/bin/env bash
# Tags the locally built images `<version>` and `<version>-<short sha>` in REGISTRY and pushes
# them: the version says what is released, the commit says exactly which build it is.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: ci/push-images.sh [--help] [--version VERSION] [--commit SHA] [--source-tag TAG]
                         REGISTRY [IMAGE...]

  REGISTRY      registry host[:port] the engine is logged in to (e.g. myacr.azurecr.io after
                `az acr login -n myacr`, or 127.0.0.1:5000)
  IMAGE         local images to push (default: vote-app router)
  --version     default: ci/version.sh (the workspace version)
  --commit      default: the current git commit; shortened to 7 characters
  --source-tag  the local tag to push (default: the version, as ci/build-images.sh tags them)

Pushes REGISTRY/IMAGE:VERSION and REGISTRY/IMAGE:VERSION-SHORTSHA for each image and prints
each pushed reference with its digest. Exits 1 when a local image is missing or a push fails.
USAGE
}

version="" commit="" source_tag=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --version) version=${2:?--version needs a value}; shift 2 ;;
    --commit) commit=${2:?--commit needs a value}; shift 2 ;;
    --source-tag) source_tag=${2:?--source-tag needs a value}; shift 2 ;;
    -*) echo "push-images: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { usage >&2; exit 2; }
registry=${1%/}
shift
images=("$@")
[ ${#images[@]} -gt 0 ] || images=(vote-app router)

die() { printf 'push-images: %s\n' "$*" >&2; exit 1; }

command -v docker >/dev/null || die "docker is not installed"
[ -n "$version" ] || version=$("$(dirname "${BASH_SOURCE[0]}")/version.sh")
[ -n "$commit" ] || commit=$(git rev-parse HEAD 2>/dev/null) || die "not in a git repository: pass --commit"
short=${commit:0:7}
[ -n "$source_tag" ] || source_tag=$version

for image in "${images[@]}"; do
  docker image inspect "$image:$source_tag" >/dev/null 2>&1 ||
    die "no local image $image:$source_tag (build it first: ci/build-images.sh)"
done

for image in "${images[@]}"; do
  for tag in "$version" "$version-$short"; do
    target="$registry/$image:$tag"
    echo "push-images: $image:$source_tag -> $target" >&2
    docker tag "$image:$source_tag" "$target"
    docker push --quiet "$target" >&2 || die "push of $target failed"
    digest=$(docker image inspect -f '{{range .RepoDigests}}{{println .}}{{end}}' "$target" |
      grep -F "$registry/$image@" | head -n 1 || true)
    echo "$target ${digest#*@}"
  done
done
