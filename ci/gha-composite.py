#!/usr/bin/env python3
"""gha-composite: run a composite GitHub Action's steps here, as a runner would.

usage: gha-composite.py ACTION.yml --workspace DIR --artifacts DIR
                        [--input NAME=VALUE]... [--outputs FILE] [--cache-hit]

For testing ci/github/*/action.yml without GitHub: no container engine or
runner is needed. It does what the runner does for the parts these actions use:
inputs with their defaults, `${{ }}` expressions (literals, property paths such
as steps.ID.outputs.NAME, ==, !=, <, >, &&, ||, !, always(), success(),
failure(), cancelled()) in `if:`, `env:`, `with:` and `working-directory:`;
`run:` steps with `shell: bash` (bash --noprofile --norc -eo pipefail, like
the runner) with GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_ACTION_PATH,
RUNNER_TEMP..., step outcomes and the job status. Two `uses:` actions are
emulated: actions/cache (a miss, or a hit with --cache-hit; it restores
nothing, so the test lays out what a hit would restore) and actions/upload-artifact (copies the
files to ARTIFACTS/NAME/ and, like v4, refuses a name already uploaded).
Anything else (another action, an expression it does not know) is an error:
it never guesses.

Exit status: 0 when the job would succeed, else the exit status of the first
failed step (or 1); 2 for a usage or expression error.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml


class ExprError(Exception):
    pass


TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|<=|>=|&&|\|\||[!<>().\[\],])"
    r"|(?P<id>[A-Za-z_][A-Za-z0-9_-]*))"
)


def tokenize(text):
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExprError(f"cannot read expression at {text[pos:]!r}")
        pos = m.end()
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
    return out


class Parser:
    """Recursive descent over GitHub's expression grammar (the subset above)."""

    def __init__(self, text, ctx, status_used):
        self.toks = tokenize(text)
        self.i = 0
        self.ctx = ctx
        self.status_used = status_used

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self, value=None):
        tok = self.peek()
        if tok[0] is None or (value is not None and tok[1] != value):
            raise ExprError(f"expected {value!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def parse(self):
        v = self.or_()
        if self.i != len(self.toks):
            raise ExprError(f"unexpected {self.peek()[1]!r}")
        return v

    def or_(self):
        v = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            r = self.and_()
            v = v if truthy(v) else r
        return v

    def and_(self):
        v = self.cmp()
        while self.peek() == ("op", "&&"):
            self.take()
            r = self.cmp()
            v = r if truthy(v) else v
        return v

    def cmp(self):
        v = self.unary()
        while self.peek()[0] == "op" and self.peek()[1] in ("==", "!=", "<", ">", "<=", ">="):
            op = self.take()[1]
            r = self.unary()
            v = compare(v, op, r)
        return v

    def unary(self):
        if self.peek() == ("op", "!"):
            self.take()
            return not truthy(self.unary())
        return self.primary()

    def primary(self):
        kind, val = self.take()
        if kind == "str":
            return val[1:-1].replace("''", "'")
        if kind == "num":
            return float(val)
        if kind == "op" and val == "(":
            v = self.or_()
            self.take(")")
            return v
        if kind != "id":
            raise ExprError(f"unexpected {val!r}")
        if val in ("true", "false"):
            return val == "true"
        if val == "null":
            return None
        if self.peek() == ("op", "("):
            self.take()
            self.take(")")
            funcs = {
                "always": lambda: True,
                "success": lambda: self.ctx["__status"] == "success",
                "failure": lambda: self.ctx["__status"] == "failure",
                "cancelled": lambda: False,
            }
            if val not in funcs:
                raise ExprError(f"function {val}() is not emulated")
            self.status_used.append(val)
            return funcs[val]()
        if val not in self.ctx:
            raise ExprError(f"context {val!r} is not emulated")
        v = self.ctx[val]
        while self.peek() in (("op", "."), ("op", "[")):
            if self.take()[1] == ".":
                key = self.take()[1]
            else:
                key = self.primary()
                self.take("]")
            v = v.get(key) if isinstance(v, dict) else None
        return v


def truthy(v):
    return v not in (None, False, 0, 0.0, "")


def as_number(v):
    if v is None:
        return 0.0
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, float):
        return v
    try:
        return float(v.strip()) if v.strip() else 0.0
    except ValueError:
        return float("nan")


def compare(a, op, b):
    if isinstance(a, str) and isinstance(b, str):
        a, b = a.casefold(), b.casefold()
    elif type(a) is not type(b):
        a, b = as_number(a), as_number(b)
    return {
        "==": lambda: a == b,
        "!=": lambda: a != b,
        "<": lambda: a < b,
        ">": lambda: a > b,
        "<=": lambda: a <= b,
        ">=": lambda: a >= b,
    }[op]()


def to_str(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else str(v)
    return str(v)


def interpolate(text, ctx):
    if not isinstance(text, str):
        return to_str(text)
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: to_str(Parser(m.group(1), ctx, []).parse()), text)


def condition(text, ctx):
    if text is None:
        return ctx["__status"] == "success"
    text = str(text).strip()
    m = re.fullmatch(r"\$\{\{(.*)\}\}", text, re.S)
    if m:
        text = m.group(1)
    used = []
    value = truthy(Parser(text, ctx, used).parse())
    if not used:  # no status function: success() && ...
        value = value and ctx["__status"] == "success"
    return value


def read_outputs(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            value = []
            while i < len(lines) and lines[i] != delim:
                value.append(lines[i])
                i += 1
            i += 1
            out[name] = "\n".join(value)
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
        else:
            raise ExprError(f"GITHUB_OUTPUT line without '=': {line!r}")
    return out


def upload_artifact(with_, workspace, artifacts):
    name = with_.get("name") or "artifact"
    dest = os.path.join(artifacts, name)
    if os.path.exists(dest):
        return 1, f"an artifact named {name!r} was already uploaded in this run (upload-artifact v4 refuses it)"
    paths = [p.strip() for p in with_.get("path", "").split("\n") if p.strip()]
    files = []
    for p in paths:
        full = p if os.path.isabs(p) else os.path.join(workspace, p)
        if os.path.isfile(full):
            files.append(full)
        elif os.path.isdir(full):
            files += [os.path.join(d, f) for d, _, fs in os.walk(full) for f in fs]
    if not files:
        mode = with_.get("if-no-files-found") or "warn"
        msg = f"no files found at {paths}"
        return (1, msg) if mode == "error" else (0, f"{mode}: {msg}")
    os.makedirs(dest)
    for f in files:
        shutil.copy(f, os.path.join(dest, os.path.basename(f)))
    return 0, f"uploaded {name}: {[os.path.basename(f) for f in files]}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("action")
    ap.add_argument("--workspace", required=True)
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--input", action="append", default=[])
    ap.add_argument("--outputs")
    ap.add_argument("--cache-hit", action="store_true", help="actions/cache finds its key")
    args = ap.parse_args()

    action_file = os.path.abspath(args.action)
    with open(action_file, encoding="utf-8") as f:
        action = yaml.safe_load(f)
    if action.get("runs", {}).get("using") != "composite":
        raise SystemExit("gha-composite: not a composite action")
    declared = action.get("inputs") or {}
    inputs = {k: to_str(v.get("default", "")) for k, v in declared.items()}
    for item in args.input:
        k, _, v = item.partition("=")
        if k not in declared:
            print(f"gha-composite: input {k!r} is not declared by the action", file=sys.stderr)
            return 2
        inputs[k] = v
    for k, v in declared.items():
        if v.get("required") and not inputs.get(k):
            print(f"gha-composite: required input {k!r} is empty", file=sys.stderr)
            return 2

    workspace = os.path.abspath(args.workspace)
    artifacts = os.path.abspath(args.artifacts)
    os.makedirs(artifacts, exist_ok=True)
    temp = tempfile.mkdtemp(prefix="gha-runner-temp.")
    summary = os.path.join(temp, "step_summary.md")
    open(summary, "w").close()
    action_path = os.path.dirname(action_file)
    ctx = {
        "inputs": inputs,
        "github": {"action_path": action_path, "workspace": workspace, "job": "gate"},
        "runner": {"os": "Linux", "arch": "X64", "temp": temp},
        "steps": {},
        "env": {},
        "__status": "success",
    }
    base_env = dict(os.environ)
    base_env.update(
        {
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "GITHUB_WORKSPACE": workspace,
            "GITHUB_ACTION_PATH": action_path,
            "GITHUB_STEP_SUMMARY": summary,
            "RUNNER_TEMP": temp,
            "RUNNER_OS": "Linux",
        }
    )
    first_failure = 0
    try:
        for n, step in enumerate(action["runs"]["steps"], 1):
            sid = step.get("id") or f"__step{n}"
            label = step.get("name") or step.get("uses") or sid
            if not condition(step.get("if"), ctx):
                print(f"::step:: {label}: skipped", flush=True)
                ctx["steps"][sid] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
                continue
            print(f"::step:: {label}", flush=True)
            env = dict(base_env)
            for k, v in (step.get("env") or {}).items():
                env[k] = interpolate(v, ctx)
            outputs = {}
            if "run" in step:
                if step.get("shell") != "bash":
                    raise ExprError(f"step {label!r}: only shell: bash is emulated (got {step.get('shell')!r})")
                out_file = os.path.join(temp, f"output-{n}")
                open(out_file, "w").close()
                env["GITHUB_OUTPUT"] = out_file
                script = os.path.join(temp, f"step-{n}.sh")
                with open(script, "w", encoding="utf-8") as f:
                    f.write(interpolate(step["run"], ctx))
                cwd = interpolate(step.get("working-directory", "."), ctx)
                cwd = cwd if os.path.isabs(cwd) else os.path.join(workspace, cwd)
                code = subprocess.call(["bash", "--noprofile", "--norc", "-eo", "pipefail", script], cwd=cwd, env=env, stdin=subprocess.DEVNULL)
                outputs = read_outputs(out_file)
            elif "uses" in step:
                uses = step["uses"]
                with_ = {k: interpolate(v, ctx) for k, v in (step.get("with") or {}).items()}
                if uses.startswith("actions/cache@"):
                    hit = "true" if args.cache_hit else "false"
                    code, outputs = 0, {"cache-hit": hit}
                    print(f"  (emulated) cache {'hit' if args.cache_hit else 'miss'} for key {with_.get('key')!r}")
                elif uses.startswith("actions/upload-artifact@"):
                    code, msg = upload_artifact(with_, workspace, artifacts)
                    print(f"  (emulated) {msg}")
                else:
                    raise ExprError(f"step {label!r}: action {uses!r} is not emulated")
            else:
                raise ExprError(f"step {label!r} has neither run nor uses")
            outcome = "success" if code == 0 else "failure"
            print(f"::step:: {label}: {outcome}" + (f" (exit {code})" if code else ""), flush=True)
            ctx["steps"][sid] = {"outputs": outputs, "outcome": outcome, "conclusion": outcome}
            if code and not step.get("continue-on-error"):
                ctx["__status"] = "failure"
                first_failure = first_failure or code
        result = {k: interpolate(v.get("value", ""), ctx) for k, v in (action.get("outputs") or {}).items()}
        result["__step_summary"] = open(summary, encoding="utf-8").read()
    except ExprError as e:
        print(f"gha-composite: error: {e}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    if args.outputs:
        with open(args.outputs, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)
    print(f"::job:: {ctx['__status']}" + (f" (exit {first_failure})" if first_failure else ""))
    return first_failure if ctx["__status"] != "success" else 0


if __name__ == "__main__":
    sys.exit(main())
