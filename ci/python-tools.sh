# shellcheck shell=bash
# Sourced by the ci/ scripts that run pinned PyPI tools: `use_python_tools NAME REQUIREMENT...`
# installs the requirements into a cached virtualenv (${VOTE_CI_CACHE:-~/.cache/vote-app-ci}/
# NAME-venv) unless its stamp file says they are already there, then puts it first on PATH.
# One virtualenv per tool set, because their dependency pins clash.
use_python_tools() {
  local name=$1
  shift
  local venv="${VOTE_CI_CACHE:-$HOME/.cache/vote-app-ci}/$name-venv"
  if [ "$(cat "$venv/.requirements" 2>/dev/null)" != "$*" ]; then
    echo "==> installing $* into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@" >&2
    echo "$*" >"$venv/.requirements"
  fi
  PATH="$venv/bin:$PATH"
}
