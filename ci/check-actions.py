#!/usr/bin/env python3
"""check-actions: check composite action.yml files, which actionlint does not lint.

usage: check-actions.py OUT_DIR ACTION.yml...

1. The metadata, as GitHub reads it (docs: "Metadata syntax for GitHub
   Actions"): name, description, runs.using = composite, runs.steps; each input
   has a description; each output a value; each step `run` xor `uses`, and a
   `run` step names its `shell`; step ids unique.
2. Our own rules: `${{ inputs.X }}` only for declared inputs; `steps.ID` only
   for an earlier step; no `${{ }}` inside a `run:` script (values reach
   scripts through `env:`, so no input can inject shell code); every input
   is used.
3. For actionlint: writes OUT_DIR/action-N.yml, a workflow_call workflow whose
   inputs are the action's and whose one job has the action's steps, so that
   actionlint checks the expressions, contexts and the inputs given to the
   actions the steps use.

Exit status: 0 all good, 1 a problem (printed as FILE: problem), 2 usage.
"""
import os
import re
import sys

import yaml

EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def walk_strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from walk_strings(k)
            yield from walk_strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk_strings(v)


def check(path):
    problems = []
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    if not isinstance(doc, dict):
        return [f"{path}: not a YAML mapping"], None
    for key in ("name", "description", "runs"):
        if not doc.get(key):
            problems.append(f"{path}: '{key}' is missing")
    runs = doc.get("runs") or {}
    if runs.get("using") != "composite":
        problems.append(f"{path}: runs.using is {runs.get('using')!r}, not 'composite'")
    steps = runs.get("steps") or []
    if not steps:
        problems.append(f"{path}: runs.steps is empty")
    inputs = doc.get("inputs") or {}
    for name, spec in inputs.items():
        if not isinstance(spec, dict) or not spec.get("description"):
            problems.append(f"{path}: input '{name}' has no description")
        elif "default" in spec and not isinstance(spec["default"], str):
            problems.append(f"{path}: input '{name}': write its default as a string")
    for name, spec in (doc.get("outputs") or {}).items():
        if not isinstance(spec, dict) or "value" not in spec:
            problems.append(f"{path}: output '{name}' has no value (composite outputs need one)")
    ids = []
    used_inputs = set()
    for n, step in enumerate(steps, 1):
        where = f"{path}: step {n} ({step.get('name') or step.get('uses') or step.get('id')})"
        if ("run" in step) == ("uses" in step):
            problems.append(f"{where}: needs exactly one of run and uses")
        if "run" in step:
            if not step.get("shell"):
                problems.append(f"{where}: a composite run step must name its shell")
            if EXPR.search(step["run"]):
                problems.append(f"{where}: ${{{{ }}}} inside run: pass the value through env: instead")
        for text in walk_strings(step):
            for expr in EXPR.findall(text):
                for name in re.findall(r"\binputs\.([A-Za-z0-9_-]+)", expr):
                    used_inputs.add(name)
                    if name not in inputs:
                        problems.append(f"{where}: inputs.{name} is not declared")
                for sid in re.findall(r"\bsteps\.([A-Za-z0-9_-]+)", expr):
                    if sid not in ids:
                        problems.append(f"{where}: steps.{sid} is not an earlier step's id")
        if isinstance(step.get("if"), str):
            for name in re.findall(r"\binputs\.([A-Za-z0-9_-]+)", step["if"]):
                used_inputs.add(name)
                if name not in inputs:
                    problems.append(f"{where}: inputs.{name} in if: is not declared")
            for sid in re.findall(r"\bsteps\.([A-Za-z0-9_-]+)", step["if"]):
                if sid not in ids:
                    problems.append(f"{where}: steps.{sid} in if: is not an earlier step's id")
        if step.get("id"):
            if step["id"] in ids:
                problems.append(f"{where}: id '{step['id']}' is used twice")
            ids.append(step["id"])
    for spec in (doc.get("outputs") or {}).values():
        for sid in re.findall(r"\bsteps\.([A-Za-z0-9_-]+)", str(spec.get("value", ""))):
            if sid not in ids:
                problems.append(f"{path}: an output reads steps.{sid}, which is no step's id")
    for name in inputs:
        if name not in used_inputs:
            problems.append(f"{path}: input '{name}' is declared but never used")

    workflow = {
        "name": f"actionlint view of {path}",
        "on": {
            "workflow_call": {
                "inputs": {
                    name: {
                        "description": spec.get("description", name),
                        "type": "string",
                        "required": bool(spec.get("required")),
                        **({"default": str(spec["default"])} if "default" in spec else {}),
                    }
                    for name, spec in inputs.items()
                }
            }
        },
        "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": steps}},
    }
    return problems, workflow


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    out_dir = argv[1]
    os.makedirs(out_dir, exist_ok=True)
    problems = []
    for n, path in enumerate(argv[2:], 1):
        found, workflow = check(path)
        problems += found
        if workflow:
            out = os.path.join(out_dir, f"action-{n}.yml")
            with open(out, "w", encoding="utf-8") as f:
                f.write(f"# generated by ci/check-actions.py from {path}\n")
                yaml.safe_dump(workflow, f, sort_keys=False, width=1000)
            print(f"check-actions: {path}: {'ok' if not found else 'PROBLEMS'} (actionlint view: {out})")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
