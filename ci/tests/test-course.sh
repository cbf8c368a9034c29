#!/usr/bin/env bash
# shellcheck disable=SC2016  # the patterns and the fixtures hold a literal $ and backticks
# ci/course.sh against small course trees made here: a good tree passes (its run blocks run and
# its azure block is shellchecked); a failing run block is named by file and line with its
# output; an unmarked shell block, French and English run blocks that differ, a broken link or
# anchor, an azure block shellcheck flags, and a missing chapter each fail the check, saying
# where; a command still running at the timeout is named; a process a chapter leaves running is
# killed and named.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

scratch=$(mktemp -d "/tmp/$run_id.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# chapter NUMBER FR_NAME EN_NAME: both languages of one chapter, each with the same run blocks
# (comments translated), an azure block calling a script with --dry-run, and a solution.
write_chapter() {
  local tree=$1 number=$2 fr=$3 en=$4
  cat >"$tree/docs/cours/$fr" <<MD
# Chapitre $number

English: [Chapter $number](../course/$en)

## Lancer

\`\`\`sh run
# un commentaire en français
mkdir -p "\$TMPDIR/work" && echo "chapitre $number" >"\$TMPDIR/work/note"  # écrit une note
grep -q chapitre "\$TMPDIR/work/note"
\`\`\`

\`\`\`sh azure
az group list --output table   # la liste des groupes
deploy/fake.sh --suffix abc
\`\`\`

Voir [la suite](#exercices) et [le README](../../README.md).

## Exercices

<details><summary>Solution</summary>

\`\`\`sh run
test "\$(cat "\$TMPDIR/work/note")" = "chapitre $number"
\`\`\`

</details>
MD
  cat >"$tree/docs/course/$en" <<MD
# Chapter $number

Français : [Chapitre $number](../cours/$fr)

## Run

\`\`\`sh run
# a comment in English
mkdir -p "\$TMPDIR/work" && echo "chapitre $number" >"\$TMPDIR/work/note"  # writes a note
grep -q chapitre "\$TMPDIR/work/note"
\`\`\`

\`\`\`sh azure
az group list --output table   # the list of groups
deploy/fake.sh --suffix abc
\`\`\`

See [what follows](#exercises).

## Exercises

<details><summary>Solution</summary>

\`\`\`sh run
test "\$(cat "\$TMPDIR/work/note")" = "chapitre $number"
\`\`\`

</details>
MD
}

# A tree with all ten chapters (the names ci/course.py requires), the indexes and a README.
good_tree() {
  local tree=$scratch/$1
  mkdir -p "$tree/docs/cours" "$tree/docs/course" "$tree/deploy"
  echo "# Projet — [Cours](docs/cours/README.md)" >"$tree/README.md"
  echo "# Cours — [01](01-le-projet.md)" >"$tree/docs/cours/README.md"
  echo "# Course — [01](01-the-project.md)" >"$tree/docs/course/README.md"
  cat >"$tree/deploy/fake.sh" <<'SH'
#!/usr/bin/env bash
# A deploy script with a dry run, as deploy/appservice-cli.sh has.
[ "${*: -1}" = --dry-run ] || { echo "not a dry run: $*" >&2; exit 1; }
echo "would deploy with $*"
SH
  chmod +x "$tree/deploy/fake.sh"
  local number fr en
  while read -r number fr en; do
    write_chapter "$tree" "$number" "$fr" "$en"
  done <<'NAMES'
01 01-le-projet.md 01-the-project.md
02 02-integration-continue.md 02-continuous-integration.md
03 03-images-et-registre.md 03-images-and-registry.md
04 04-deploiement-app-service.md 04-app-service-deployment.md
05 05-secrets.md 05-secrets.md
06 06-infrastructure-as-code.md 06-infrastructure-as-code.md
07 07-routage-parite-minute.md 07-minute-parity-routing.md
08 08-kubernetes-strategies.md 08-kubernetes-strategies.md
09 09-pipelines.md 09-pipelines.md
10 10-observabilite-performance.md 10-observability-performance.md
NAMES
  echo "$tree"
}
course() { "$ci/course.sh" --root "$@"; }

echo "ci/course.sh"
tree=$(good_tree good)
assert_ok "a good tree passes: every chapter's run blocks run" course "$tree"
assert_output "the run blocks of 10 chapters passed" "it says all ten chapters ran"
assert_output "deploy/fake.sh --suffix abc --dry-run: ok" "an azure block's script runs with --dry-run"

tree=$(good_tree failing)
sed -i 's|^grep -q chapitre .*|false \&\& true\nls "$TMPDIR/nothing-here"|' "$tree/docs/cours/03-images-et-registre.md"
sed -i 's|^grep -q chapitre .*|false \&\& true\nls "$TMPDIR/nothing-here"|' "$tree/docs/course/03-images-and-registry.md"
assert_fails "a failing run block is named by file and line, with its output" \
  'docs/cours/03-images-et-registre.md:11: ls "\$TMPDIR/nothing-here"' course "$tree"
assert_output "No such file or directory" "the failing command's output is shown"
assert_output "passed in" "the chapters before it ran"
echo "$output" | grep -q "==> docs/cours/04" && fail "the run stops at the first failing chapter"
pass "the run stops at the first failing chapter"

tree=$(good_tree leftovers)
leftover="sleep $((4000 + RANDOM % 1000))"
sed -i "s|^grep -q chapitre .*|&\n$leftover \&|" "$tree/docs/cours/01-le-projet.md" "$tree/docs/course/01-the-project.md"
assert_ok "a chapter that leaves a process running still passes" course "$tree" 01
assert_output "left processes running \(killed\): [0-9]+ $leftover" "the process is named in a warning"
pgrep -f "^$leftover\$" >/dev/null && fail "the chapter's process group is killed"
pass "the chapter's process group is killed"

tree=$(good_tree timeout)
sed -i 's|^grep -q chapitre .*|&\nsleep 60|' "$tree/docs/cours/02-integration-continue.md" "$tree/docs/course/02-continuous-integration.md"
assert_fails "a command still running at the timeout is named by file and line" \
  'docs/cours/02-integration-continue.md:11: sleep 60' course "$tree" --timeout 2 02
assert_output "still running after 2 s" "and the timeout is said"

tree=$(good_tree unmarked)
printf '\n```bash\necho hello\n```\n' >>"$tree/docs/course/05-secrets.md"
assert_fails "an unmarked shell block fails, at its line" \
  'docs/course/05-secrets.md:[0-9]+: a ```bash block must be marked `run`' course "$tree" --no-run

tree=$(good_tree twins)
sed -i 's|grep -q chapitre|grep -qi chapitre|' "$tree/docs/course/02-continuous-integration.md"
assert_fails "French and English run blocks that differ fail" \
  'docs/cours/02-integration-continue.md:7: this `run` block differs from its twin at docs/course/02-continuous-integration.md:7' \
  course "$tree" --no-run
assert_output '\+grep -qi chapitre' "the difference is shown"

tree=$(good_tree links)
sed -i 's|(../../README.md)|(../../READ-ME.md)|' "$tree/docs/cours/07-routage-parite-minute.md"
assert_fails "a link to a missing file fails" \
  'docs/cours/07-routage-parite-minute.md:[0-9]+: link ../../READ-ME.md: no such file' course "$tree" --no-run
tree=$(good_tree anchors)
sed -i 's|(#exercises)|(#exercices)|' "$tree/docs/course/08-kubernetes-strategies.md"
assert_fails "a link to a missing heading fails" \
  'docs/course/08-kubernetes-strategies.md:[0-9]+: link #exercices: no heading' course "$tree" --no-run

tree=$(good_tree shellcheck)
sed -i 's|^az group list --output table .*|name=rg-$USER-vote; az group show --name $name|' \
  "$tree/docs/cours/09-pipelines.md" "$tree/docs/course/09-pipelines.md"
assert_fails "an azure block that shellcheck flags fails, at the flagged line" \
  'docs/cours/09-pipelines.md:14: shellcheck: .*\[SC2086\]' course "$tree" --no-run

tree=$(good_tree missing)
rm "$tree/docs/course/10-observability-performance.md"
assert_fails "the full check needs all ten chapter pairs" \
  'docs/course/10-observability-performance.md: chapter 10 is missing' course "$tree" --no-run
assert_ok "chapters named on the command line are checked alone" course "$tree" 01 02
assert_output "course: the run blocks of 2 chapters passed" "only those two ran"
finish
