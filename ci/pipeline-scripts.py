"""Writes every shell block of the GitHub workflows and azure-pipelines.yml to its own file, so
shellcheck can read them.

Each `${{ ... }}` (GitHub and Azure DevOps template expressions), `$[ ... ]` (Azure runtime
expressions) and `$(name)` (Azure macros: a name, no spaces or slashes) becomes a run of `x` of
the same length, so shellcheck's line and column numbers still point into the YAML block.
Command substitutions such as `$(ci/version.sh)` or `$(jobs -p)` are left alone.

Usage: python pipeline-scripts.py OUTPUT_DIR FILE...   (needs PyYAML: run it with the
validators' virtualenv). Prints one line per block: the file written and where it came from.
"""

import pathlib
import re
import sys

import yaml

EXPRESSION = re.compile(r"\$\{\{.*?\}\}|\$\[.*?\]|\$\([A-Za-z_][A-Za-z0-9_.]*\)")
SHELLS = {None, "bash", "sh"}


def placeholder(text):
    return EXPRESSION.sub(lambda match: "x" * len(match.group(0)), text)


def github_blocks(document):
    """run: blocks of every job whose shell is bash/sh (the default on Linux runners)."""
    default = (document.get("defaults") or {}).get("run", {}).get("shell")
    for job_name, job in (document.get("jobs") or {}).items():
        job_default = (job.get("defaults") or {}).get("run", {}).get("shell", default)
        for index, step in enumerate(job.get("steps") or []):
            if "run" in step and step.get("shell", job_default) in SHELLS:
                yield f"jobs.{job_name}.steps[{index}]", step["run"]


def azure_blocks(node, path="$"):
    """script:/bash: steps and the inline scripts of AzureCLI/Bash tasks, anywhere in the tree."""
    if isinstance(node, dict):
        for key in ("script", "bash"):
            if isinstance(node.get(key), str):
                yield path, node[key]
        inputs = node.get("inputs")
        if isinstance(inputs, dict) and isinstance(inputs.get("inlineScript"), str):
            if inputs.get("scriptType", "bash") in ("bash", "sh"):
                yield path, inputs["inlineScript"]
        if isinstance(node.get("task"), str) and node["task"].startswith("Bash@"):
            if isinstance(inputs, dict) and isinstance(inputs.get("script"), str):
                yield path, inputs["script"]
        for key, value in node.items():
            # PyYAML reads the key `on` (YAML 1.1) as True.
            yield from azure_blocks(value, f"{path}.{'on' if key is True else key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from azure_blocks(value, f"{path}[{index}]")


def main():
    output, files = pathlib.Path(sys.argv[1]), sys.argv[2:]
    output.mkdir(parents=True, exist_ok=True)
    count = 0
    for name in files:
        document = yaml.safe_load(pathlib.Path(name).read_text(encoding="utf-8"))
        blocks = azure_blocks(document) if "azure-pipelines" in name else github_blocks(document)
        for where, script in blocks:
            count += 1
            target = output / f"{count:03d}-{pathlib.Path(name).stem}.sh"
            # The runners start each block as `bash -e`; -euo pipefail is the scripts' own choice.
            target.write_text(f"#!/usr/bin/env bash\n# {name} {where}\n{placeholder(script)}",
                              encoding="utf-8")
            print(f"{target} <- {name} {where}")
    if count == 0:
        sys.exit("pipeline-scripts: no shell block found")


if __name__ == "__main__":
    main()
