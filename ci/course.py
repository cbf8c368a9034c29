"""Checks the course (docs/cours/ in French, docs/course/ in English) and runs its commands.

Called by ci/course.sh, which puts shellcheck on PATH; see its header for the usage. The rules:

1. Both trees hold the same chapters (the ten names below; with CHAPTER arguments, only those)
   and their indexes. The line after a chapter's title links to its twin; each chapter ends with
   at least one exercise solution (`<summary>Solution</summary>`).
2. Every fenced shell block (sh, bash, shell, console, zsh) is marked `run` (CI runs it) or
   `azure` (needs a subscription: shellchecked only); only shell blocks carry those marks.
3. French and English chapter N hold the same `run` blocks and the same `azure` blocks, in the
   same order, compared without comment lines, trailing comments and blank lines.
4. Every relative link and image in the course, and in the README, points to a file that exists,
   and an anchor (`file.md#section`) to a heading of that file (GitHub's slugs).
5. `azure` blocks pass shellcheck; a repository script they call is run with `--dry-run` (its
   literal arguments kept) when it has one, else with `--help`, with no `az` on PATH.
6. The French tree's `run` blocks run, chapter by chapter: one bash script per chapter, its
   blocks in order, under `set -euo pipefail`, from the repository root, with HOME and TMPDIR in a
   fresh temporary directory and the image variables of target/images.env (what
   `eval "$(ci/build-images.sh)"` exports) when they are unset. The first failing command is
   reported as FILE:LINE with the output. Afterwards the chapter's process group is killed and containers named `cours-*`
   are removed, as a safety net: a chapter stops what it starts.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import fcntl
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

# The chapters, French name then English name, by number. Names are fixed: chapters link to
# each other by them.
CHAPTERS = {
    "01": ("01-le-projet.md", "01-the-project.md"),
    "02": ("02-integration-continue.md", "02-continuous-integration.md"),
    "03": ("03-images-et-registre.md", "03-images-and-registry.md"),
    "04": ("04-deploiement-app-service.md", "04-app-service-deployment.md"),
    "05": ("05-secrets.md", "05-secrets.md"),
    "06": ("06-infrastructure-as-code.md", "06-infrastructure-as-code.md"),
    "07": ("07-routage-parite-minute.md", "07-minute-parity-routing.md"),
    "08": ("08-kubernetes-strategies.md", "08-kubernetes-strategies.md"),
    "09": ("09-pipelines.md", "09-pipelines.md"),
    "10": ("10-observabilite-performance.md", "10-observability-performance.md"),
}
FRENCH, ENGLISH = Path("docs/cours"), Path("docs/course")
SHELL_LANGUAGES = {"sh", "bash", "shell", "console", "zsh"}
MARKS = {"run", "azure"}
# Containers (and networks) the course starts are named so; the checker removes leftovers.
CONTAINER_PREFIX = "cours-"
# Two runs on one machine would fight over the course's ports and container names.
LOCK_FILE = Path(tempfile.gettempdir()) / "vote-app-course.lock"


@dataclasses.dataclass
class Block:
    """A fenced block: where it starts (the fence's line), its info string and its lines."""

    path: Path
    line: int
    language: str
    marks: list[str]
    lines: list[str]

    @property
    def mark(self) -> str | None:
        return next((m for m in self.marks if m in MARKS), None)


class Problems:
    """Collects `file:line: message` problems; the check fails when there is one."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: Path | str, line: int | None, message: str) -> None:
        where = f"{path}:{line}" if line else str(path)
        self.items.append(f"{where}: {message}")


FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([^`]*?)\s*$")


def parse_blocks(root: Path, path: Path, problems: Problems) -> list[Block]:
    """The fenced blocks of a Markdown file, with their content's indentation removed."""
    blocks: list[Block] = []
    lines = (root / path).read_text(encoding="utf-8").splitlines()
    open_fence: tuple[str, str, int, Block] | None = None
    for number, text in enumerate(lines, 1):
        if open_fence is None:
            match = FENCE.match(text)
            if match:
                indent, fence, info = match.groups()
                words = info.split()
                language = words[0].lower() if words else ""
                block = Block(path, number, language, words[1:], [])
                open_fence = (indent, fence, number, block)
            continue
        indent, fence, _, block = open_fence
        stripped = text.strip()
        if stripped.startswith(fence[0] * len(fence)) and set(stripped) == {fence[0]}:
            blocks.append(block)
            open_fence = None
        else:
            block.lines.append(text[len(indent):] if text.startswith(indent) else text.lstrip())
    if open_fence:
        problems.add(path, open_fence[2], "this fenced block is never closed")
    return blocks


def check_marks(blocks: list[Block], problems: Problems) -> None:
    for block in blocks:
        marks = [m for m in block.marks if m in MARKS]
        if block.language in SHELL_LANGUAGES:
            if len(marks) != 1:
                problems.add(block.path, block.line,
                             f"a ```{block.language} block must be marked `run` (CI runs it) or "
                             "`azure` (needs Azure: shellchecked), exactly one of them")
        elif marks:
            problems.add(block.path, block.line,
                         f"only shell blocks can be marked {marks[0]}, not ```{block.language}")


def strip_comment(line: str) -> str:
    """The line without a shell comment: `#` starting a word outside quotes, to the end."""
    quote = None
    previous = " "
    i = 0
    while i < len(line):
        char = line[i]
        if quote:
            if char == "\\" and quote == '"':
                i += 1
            elif char == quote:
                quote = None
        elif char == "\\":
            i += 1
        elif char in "'\"":
            quote = char
        elif char == "#" and previous.isspace():
            return line[:i]
        previous = line[i] if i < len(line) else " "
        i += 1
    return line


def normalized(block: Block) -> list[str]:
    """What must be the same in both languages: the block without comments and blank lines."""
    result = []
    for text in block.lines:
        text = strip_comment(text).rstrip()
        if text.strip():
            result.append(text)
    return result


def check_twins(french: list[Block], english: list[Block], problems: Problems) -> None:
    for mark in sorted(MARKS):
        fr = [b for b in french if b.mark == mark]
        en = [b for b in english if b.mark == mark]
        for fr_block, en_block in zip(fr, en):
            if normalized(fr_block) != normalized(en_block):
                diff = "\n".join(difflib.unified_diff(
                    normalized(fr_block), normalized(en_block),
                    str(fr_block.path), str(en_block.path), lineterm="", n=1))
                problems.add(fr_block.path, fr_block.line,
                             f"this `{mark}` block differs from its twin at "
                             f"{en_block.path}:{en_block.line} (comments aside):\n{diff}")
                return
        if len(fr) != len(en):
            where = fr[len(en)] if len(fr) > len(en) else en[len(fr)]
            problems.add(where.path, where.line,
                         f"{len(fr)} `{mark}` blocks in French, {len(en)} in English: "
                         "this one has no twin")


# Links: [text](target "title"), ![alt](target), [id]: target, href="…", src="…".
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
HTML_LINK = re.compile(r"""(?:href|src)\s*=\s*["']([^"']+)["']""")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")


def prose_lines(root: Path, path: Path) -> list[tuple[int, str]]:
    """The lines of a Markdown file outside fenced blocks, with inline code removed."""
    result = []
    fence = None
    for number, text in enumerate((root / path).read_text(encoding="utf-8").splitlines(), 1):
        match = FENCE.match(text)
        if fence is None and match:
            fence = match.group(2)
            continue
        if fence is not None:
            stripped = text.strip()
            if stripped.startswith(fence) and set(stripped) == {fence[0]}:
                fence = None
            continue
        result.append((number, CODE_SPAN.sub("", text)))
    return result


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links keep their text
    text = re.sub(r"<[^>]+>", "", text).lower()
    kept = []
    for char in text:
        if char in " -_" or unicodedata.category(char)[0] in "LNM":
            kept.append(char)
    return "".join(kept).replace(" ", "-")


def anchors_of(root: Path, path: Path) -> set[str]:
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for _, text in prose_lines(root, path):
        for name in re.findall(r"""<a\s+(?:id|name)=["']([^"']+)["']""", text):
            anchors.add(name)
        match = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", text)
        if not match:
            continue
        slug = github_slug(match.group(1).replace("`", "").replace("*", ""))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def check_links(root: Path, path: Path, problems: Problems) -> None:
    for number, text in prose_lines(root, path):
        targets = INLINE_LINK.findall(text) + HTML_LINK.findall(text)
        reference = REFERENCE.match(text)
        if reference:
            targets.append(reference.group(1))
        for target in targets:
            check_link(root, path, number, target, problems)


def check_link(root: Path, path: Path, number: int, target: str, problems: Problems) -> None:
    if not target or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith("//"):
        return  # absolute URL, mailto:…
    file_part, _, anchor = target.partition("#")
    file_part = file_part.split("?")[0]
    linked = (root / path).parent / file_part if file_part else root / path
    resolved = Path(os.path.normpath(linked))
    if not str(resolved).startswith(str(root.resolve())):
        problems.add(path, number, f"link {target} leaves the repository")
        return
    if not resolved.exists():
        problems.add(path, number, f"link {target}: no such file ({resolved.relative_to(root)})")
        return
    if anchor and resolved.suffix == ".md" and resolved.is_file():
        if anchor.lower() not in {a.lower() for a in anchors_of(root, resolved.relative_to(root))}:
            problems.add(path, number, f"link {target}: no heading with anchor #{anchor} there")


def check_chapter_shape(root: Path, path: Path, twin: Path, problems: Problems) -> None:
    """The line after the title links to the twin; the chapter has an exercise's solution."""
    lines = (root / path).read_text(encoding="utf-8").splitlines()
    title = next((i for i, line in enumerate(lines) if line.startswith("# ")), None)
    if title is None:
        problems.add(path, 1, "no `# ` title")
        return
    after = next((line for line in lines[title + 1:] if line.strip()), "")
    twin_link = os.path.relpath(root / twin, (root / path).parent)
    if f"({twin_link})" not in after:
        problems.add(path, title + 2, f"the line after the title must link to its twin {twin_link}")
    if "<summary>Solution</summary>" not in "\n".join(lines):
        problems.add(path, None, "no exercise: `<details><summary>Solution</summary>` is missing")


# The dry runs already made (script and arguments): each runs once per check.
DRY_RUNS_DONE: set[tuple[str, ...]] = set()
REPO_SCRIPT = re.compile(r"(?:^|[\s;&|(])((?:\./)?(?:ci|deploy)/[\w./-]+\.sh)\b")


def logical_lines(lines: list[str]) -> list[str]:
    """Lines with their backslash continuations joined."""
    joined, current = [], ""
    for text in lines:
        if text.rstrip().endswith("\\"):
            current += text.rstrip()[:-1] + " "
        else:
            joined.append(current + text)
            current = ""
    if current:
        joined.append(current)
    return joined


def check_azure_blocks(root: Path, blocks: list[Block], problems: Problems,
                       dry_runs: bool) -> None:
    """Shellcheck for each azure block; with dry_runs, the scripts they call run too (once per
    chapter pair: the twins hold the same commands)."""
    azure = [b for b in blocks if b.mark == "azure"]
    if not azure:
        return
    with tempfile.TemporaryDirectory() as scratch:
        for block in azure:
            shellcheck_block(root, Path(scratch), block, problems)
            if not dry_runs:
                continue
            for command in logical_lines(block.lines):
                for script in REPO_SCRIPT.findall(strip_comment(command)):
                    dry_run(root, Path(scratch), block, command, script, problems)


def shellcheck_block(root: Path, scratch: Path, block: Block, problems: Problems) -> None:
    header = "#!/usr/bin/env bash\n"
    script = scratch / "block.sh"
    script.write_text(header + "\n".join(block.lines) + "\n", encoding="utf-8")
    result = subprocess.run(["shellcheck", "-f", "gcc", "-x", str(script)], cwd=root,
                            capture_output=True, text=True, check=False)
    for found in result.stdout.splitlines():
        match = re.match(r"^[^:]+:(\d+):\d+: (.*)$", found)
        if match:
            problems.add(block.path, block.line + int(match.group(1)) - 1,
                         f"shellcheck: {match.group(2)}")
    if result.returncode not in (0, 1):
        problems.add(block.path, block.line, f"shellcheck failed: {result.stderr.strip()}")


def dry_run(root: Path, scratch: Path, block: Block, command: str, script: str,
            problems: Problems) -> None:
    """Runs a repository script an azure block calls, without Azure: --dry-run, else --help."""
    path = root / script.removeprefix("./")
    if not path.is_file():
        problems.add(block.path, block.line, f"{script}: no such script")
        return
    source = path.read_text(encoding="utf-8", errors="replace")
    try:
        words = shlex.split(strip_comment(command))
    except ValueError:  # a quote closed on another line: keep to --help
        words = []
    start = next((i for i, w in enumerate(words) if w.removeprefix("./") == script.removeprefix("./")), None)
    arguments = words[start + 1:] if start is not None else []
    for stop, word in enumerate(arguments):
        if word in {"|", "&&", "||", ";", "&"} or word.startswith(("|", ">", "<", ";", "&")):
            arguments = arguments[:stop]
            break
    literal = all("$" not in w and "`" not in w for w in arguments)
    if "--dry-run" in source and literal:
        argv = [str(path), *[a for a in arguments if a not in ("--dry-run", "--tail")], "--dry-run"]
    elif "--help" in source:
        argv = [str(path), "--help"]
    else:
        return
    if tuple(argv) in DRY_RUNS_DONE:
        return  # the same command, already run for an earlier block
    DRY_RUNS_DONE.add(tuple(argv))
    no_az = scratch / "no-az"
    no_az.mkdir(exist_ok=True)
    (no_az / "az").write_text("#!/bin/sh\necho 'az must not run in a dry run' >&2\nexit 97\n")
    (no_az / "az").chmod(0o755)
    env = dict(os.environ, PATH=f"{no_az}:{os.environ['PATH']}")
    try:
        result = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True,
                                timeout=120, check=False)
    except subprocess.TimeoutExpired:
        problems.add(block.path, block.line, f"{shlex.join(argv[1:])}: still running after 120 s")
        return
    shown = f"{script} {shlex.join(argv[1:])}"
    if result.returncode != 0:
        problems.add(block.path, block.line,
                     f"{shown} exited {result.returncode}:\n{(result.stdout + result.stderr).strip()}")
    else:
        print(f"    {block.path}:{block.line}: {shown}: ok")


# The preamble of a chapter's script: it writes to $COURSE_FAILURE the line of the failing
# command, or of the one running when the checker's timeout stops the chapter. No `set -E`: the
# ERR trap then fires once, in the main shell, at the line of the command that stops the script.
PREAMBLE = """\
set -euo pipefail
__course_line=0
__course_report() { printf '%s %s\\n' "$1" "$2" >"$COURSE_FAILURE"; }
trap '__course_report "$LINENO" "$?"' ERR
trap '__course_report "$__course_line" timeout; exit 124' TERM
trap '[ "$LINENO" -le 7 ] || __course_line=$LINENO' DEBUG
cd "$COURSE_ROOT"
"""
# (The DEBUG trap skips the preamble's 7 lines and the trap handlers, which run as line 1.)
assert len(PREAMBLE.splitlines()) == 7


def chapter_script(blocks: list[Block]) -> tuple[str, dict[int, tuple[Block, int]]]:
    """One bash script for a chapter's run blocks, and its line -> (block, index in block)."""
    lines = PREAMBLE.splitlines()
    origin: dict[int, tuple[Block, int]] = {}
    for block in blocks:
        for index, text in enumerate(block.lines):
            lines.append(text)
            origin[len(lines)] = (block, index)
    return "\n".join(lines) + "\n", origin


def describe(origin: dict[int, tuple[Block, int]], line: int) -> str:
    """`file:line: command` for a line of the chapter script (the command's first line)."""
    if line not in origin:
        return "(the checker's preamble)"
    block, index = origin[line]
    while index > 0 and block.lines[index - 1].rstrip().endswith("\\"):
        index -= 1
    return f"{block.path}:{block.line + 1 + index}: {block.lines[index].strip()}"


def run_chapter(root: Path, path: Path, blocks: list[Block], timeout: int,
                show_output: bool) -> bool:
    runnable = [b for b in blocks if b.mark == "run"]
    if not runnable:
        print(f"==> {path}: no run block")
        return True
    script, origin = chapter_script(runnable)
    work = Path(tempfile.mkdtemp(prefix="vote-course-"))
    os.chmod(work, 0o755)
    (work / "home").mkdir()
    (work / "tmp").mkdir()
    (work / "chapter.sh").write_text(script, encoding="utf-8")
    syntax = subprocess.run(["bash", "-n", str(work / "chapter.sh")], capture_output=True,
                            text=True, check=False)
    if syntax.returncode != 0:
        match = re.search(r"line (\d+):", syntax.stderr)
        where = describe(origin, int(match.group(1))) if match else str(path)
        print(f"FAIL {where}\n  bash -n: {syntax.stderr.strip()}", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
        return False
    env = chapter_environment(root, work)
    log_path = work / "output.log"
    print(f"==> {path}: {len(runnable)} run blocks", flush=True)
    start = time.monotonic()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(["bash", str(work / "chapter.sh")], cwd=root, env=env,
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            status = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                status = process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                status = None
    elapsed = time.monotonic() - start
    leftovers = stop_group(process)
    removed = remove_containers()
    ok = status == 0
    if ok:
        if show_output:
            print(log_path.read_text(encoding="utf-8", errors="replace"))
        print(f"    passed in {elapsed:.0f} s")
    else:
        report_failure(work, origin, path, status, timeout)
    if leftovers:
        print(f"    warning: {path} left processes running (killed): {leftovers}", file=sys.stderr)
    if removed:
        print(f"    warning: {path} left containers (removed): {removed}", file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)
    return ok


def chapter_environment(root: Path, work: Path) -> dict[str, str]:
    """The environment of a chapter: HOME and TMPDIR fresh, the build caches and image names
    kept."""
    home = Path.home()
    env = dict(os.environ)
    env.setdefault("CARGO_HOME", str(home / ".cargo"))
    env.setdefault("RUSTUP_HOME", str(home / ".rustup"))
    env.setdefault("CARGO_TARGET_DIR", str(home / ".cache/vote-app-ci/target"))
    env.setdefault("VOTE_CI_CACHE", str(home / ".cache/vote-app-ci"))
    # What `eval "$(ci/build-images.sh)"` exports (the local base images' names), as a student's
    # shell holds them after chapter 3's build; set variables win.
    images_env = root / os.environ.get("VOTE_IMAGES_ENV_FILE", "target/images.env")
    if images_env.is_file():
        for line in images_env.read_text(encoding="utf-8").splitlines():
            match = re.match(r"^export ([A-Z_][A-Z0-9_]*)=(\S*)$", line)
            if match:
                env.setdefault(match.group(1), match.group(2))
    env.update(HOME=str(work / "home"), TMPDIR=str(work / "tmp"), COURSE_ROOT=str(root),
               COURSE_FAILURE=str(work / "failure"))
    return env


def stop_group(process: subprocess.Popen) -> str:
    """Kills what the chapter left in its process group; returns a description of it."""
    deadline = time.monotonic() + 3  # a server told to stop may still be draining
    while time.monotonic() < deadline and group_alive(process.pid):
        time.sleep(0.1)
    if not group_alive(process.pid):
        return ""
    try:
        listing = subprocess.run(["ps", "-o", "pid=,args=", "-g", str(process.pid)],
                                 capture_output=True, text=True, check=False).stdout.strip()
    except OSError:  # no ps: the processes are killed all the same
        listing = f"process group {process.pid}"
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        time.sleep(1)
    return "; ".join(line.strip()[:100] for line in listing.splitlines())


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def remove_containers() -> str:
    if not shutil.which("docker"):
        return ""
    names = subprocess.run(["docker", "ps", "-a", "--filter", f"name=^{CONTAINER_PREFIX}",
                            "--format", "{{.Names}}"],
                           capture_output=True, text=True, check=False).stdout.split()
    if names:
        subprocess.run(["docker", "rm", "-f", *names], capture_output=True, check=False)
    networks = subprocess.run(["docker", "network", "ls", "--filter", f"name=^{CONTAINER_PREFIX}",
                               "--format", "{{.Name}}"],
                              capture_output=True, text=True, check=False).stdout.split()
    if networks:
        subprocess.run(["docker", "network", "rm", *networks], capture_output=True, check=False)
    return " ".join(names + networks)


def report_failure(work: Path, origin: dict[int, tuple[Block, int]], path: Path,
                   status: int | None, timeout: int) -> None:
    failure = (work / "failure").read_text().split() if (work / "failure").exists() else []
    if failure and failure[1] == "timeout":
        headline = f"{describe(origin, int(failure[0]))}\n  still running after {timeout} s"
    elif failure:
        headline = f"{describe(origin, int(failure[0]))}\n  exited {failure[1]}"
    else:
        headline = f"{path}: the chapter's script exited {status}"
    output = (work / "output.log").read_text(encoding="utf-8", errors="replace").splitlines()
    shown = output[-80:]
    print(f"FAIL {headline}", file=sys.stderr)
    print(f"  output ({len(shown)} last lines of {len(output)}):", file=sys.stderr)
    for text in shown:
        print(f"  | {text}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(prog="ci/course.sh", description=__doc__.split("\n")[0])
    parser.add_argument("chapters", nargs="*", metavar="CHAPTER",
                        help="chapter numbers (01..10); none: every chapter, all required")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the tree to check (default: this repository)")
    parser.add_argument("--no-run", action="store_true", help="static checks only")
    parser.add_argument("--show-output", action="store_true",
                        help="print each chapter's output, also when it passes")
    parser.add_argument("--timeout", type=int, default=int(os.environ.get("COURSE_TIMEOUT", 300)),
                        help="seconds a chapter's commands may take (default 300)")
    args = parser.parse_args()
    root = args.root.resolve()
    wanted = [c.zfill(2) for c in args.chapters] or sorted(CHAPTERS)
    unknown = [c for c in wanted if c not in CHAPTERS]
    if unknown:
        parser.error(f"no chapter {', '.join(unknown)} (chapters are 01..10)")
    full = not args.chapters
    problems = Problems()
    chapters = check_files(root, wanted, full, problems)
    french_blocks = {}
    for number, (fr, en) in chapters.items():
        fr_blocks = parse_blocks(root, fr, problems)
        en_blocks = parse_blocks(root, en, problems)
        check_marks(fr_blocks + en_blocks, problems)
        check_twins(fr_blocks, en_blocks, problems)
        check_chapter_shape(root, fr, en, problems)
        check_chapter_shape(root, en, fr, problems)
        check_azure_blocks(root, fr_blocks, problems, dry_runs=True)
        check_azure_blocks(root, en_blocks, problems, dry_runs=False)
        french_blocks[number] = (fr, fr_blocks)
    for path in linked_files(root, chapters, full):
        check_links(root, path, problems)
    if problems.items:
        for item in problems.items:
            print(f"FAIL {item}", file=sys.stderr)
        print(f"course: {len(problems.items)} problems", file=sys.stderr)
        return 1
    print(f"course: {len(chapters)} chapter pairs: marks, twins, links and azure blocks ok")
    if args.no_run:
        return 0
    with open(LOCK_FILE, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"course: waiting for another course run on this machine ({LOCK_FILE})")
            fcntl.flock(lock, fcntl.LOCK_EX)
        for number in sorted(french_blocks):
            path, blocks = french_blocks[number]
            if not run_chapter(root, path, blocks, args.timeout, args.show_output):
                return 1
    print(f"course: the run blocks of {len(french_blocks)} chapters passed")
    return 0


def check_files(root: Path, wanted: list[str], full: bool,
                problems: Problems) -> dict[str, tuple[Path, Path]]:
    """The chapter pairs to check; a missing file, or an unknown chapter file, is a problem."""
    chapters = {}
    for number in wanted:
        fr, en = FRENCH / CHAPTERS[number][0], ENGLISH / CHAPTERS[number][1]
        missing = [p for p in (fr, en) if not (root / p).is_file()]
        for path in missing:
            problems.add(path, None, f"chapter {number} is missing")
        if not missing:
            chapters[number] = (fr, en)
    if full:
        for tree, index in ((FRENCH, 0), (ENGLISH, 1)):
            if not (root / tree / "README.md").is_file():
                problems.add(tree / "README.md", None, "the index is missing")
            known = {names[index] for names in CHAPTERS.values()} | {"README.md"}
            for found in sorted((root / tree).glob("*.md")) if (root / tree).is_dir() else []:
                if found.name not in known:
                    problems.add(tree / found.name, None,
                                 "not a chapter of the course (see CHAPTERS in ci/course.py)")
    return chapters


def linked_files(root: Path, chapters: dict[str, tuple[Path, Path]], full: bool) -> list[Path]:
    """The files whose links are checked: the chapters; in a full run, every course page too."""
    files = [p for pair in chapters.values() for p in pair]
    if full:
        for tree in (FRENCH, ENGLISH):
            files += sorted(p.relative_to(root) for p in (root / tree).glob("*.md"))
        if (root / "README.md").is_file():
            files.append(Path("README.md"))
    return sorted(set(files))


if __name__ == "__main__":
    sys.exit(main())
