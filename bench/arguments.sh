# shellcheck shell=bash
# Sourced first by every benchmark, before it checks its tools or starts anything:
#
#   . "$(dirname "$0")/arguments.sh"
#   check_arguments "all log" "$@"     # the words the script takes as its one argument, or ""
#
# `-h` or `--help` prints the script's header comment (what it measures, how to run it) and
# exits 0; an argument the script does not take is refused (exit 2) instead of being ignored by
# a benchmark that then runs for minutes.

check_arguments() { # allowed words, the script's arguments...
    local allowed=$1
    shift
    if [[ ${1:-} == -h || ${1:-} == --help ]]; then
        sed -n '2,/^set -euo pipefail/{/^#/s/^# \{0,1\}//p}' "$0"
        exit 0
    fi
    if [ $# -gt 1 ] || { [ $# -eq 1 ] && [[ " $allowed " != *" $1 "* ]]; }; then
        echo "usage: $0${allowed:+ [${allowed// /|}]} (--help says more)" >&2
        exit 2
    fi
}
