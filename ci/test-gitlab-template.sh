#!/usr/bin/env bash
# Proves ci/gitlab/sfsmoke.gitlab-ci.yml runs: a throwaway GitLab project
# includes it, and gitlab-ci-local (shell executor; there is no container
# engine here) runs the pipeline against `sfsmoke sim`:
#   1. healthy org          -> the gate job passes, the deploy job runs after it
#   2. API disabled         -> the gate job fails with API_DISABLED_FOR_ORG in
#                              its JUnit, and the deploy job never starts
#   3. `parallel: 2` shards -> two distinct JUnit files, disjoint orgs, all orgs
#   4. SFSMOKE_ORGS / SFSMOKE_JSON / SFSMOKE_ARGS reach `sfsmoke smoke`
# Every JUnit file must pass ../shared/junit/check-junit.
#
# Needs: Node.js >= 18 with npm (gitlab-ci-local 4.56.x; newer ones need Node
# 22), rsync, git, python3. Env: SFSMOKE_BIN, SFSMOKE_CI_TOOLS (see ci/lib.sh),
# SFSMOKE_FAIL_SCENARIO (default: edition-essentials).
set -euo pipefail
# shellcheck source=ci/lib.sh
source "$(dirname "$0")/lib.sh"

GCL_VERSION=4.56.2
FAIL_SCENARIO=${SFSMOKE_FAIL_SCENARIO:-edition-essentials}
ORGS=(alpha bravo charlie delta echo foxtrot)

section "gitlab template: tools"
command -v rsync >/dev/null || die "rsync is not installed (gitlab-ci-local needs it)" "(hint: apt-get install -y rsync)"
command -v git >/dev/null || die "git is not installed"
node_major=$(node -p 'process.versions.node.split(".")[0]') || die "node is not on PATH"
((node_major >= 18)) || die "gitlab-ci-local $GCL_VERSION needs Node.js >= 18, found $(node --version)"
TOOLS=$(ci_tools_dir)/gitlab-ci-local
npm_tool "$TOOLS" "gitlab-ci-local@$GCL_VERSION"
GCL="$TOOLS/node_modules/.bin/gitlab-ci-local"
[[ -x $GCL ]] || die "no $GCL after npm install"
gcl_version=$("$GCL" --version) || die "gitlab-ci-local does not start (a broken install? remove $TOOLS and run again)"
note "gitlab-ci-local $gcl_version on node $(node --version)"
SFSMOKE_BIN=$(sfsmoke_bin)
export SFSMOKE_BIN
note "sfsmoke: $SFSMOKE_BIN ($("$SFSMOKE_BIN" --version))"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sfsmoke-gitlab.XXXXXX")
cleanup() {
    stop_sim
    if [[ ${KEEP_WORK:-} == 1 ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

section "gitlab template: the concrete job only adds the image"
python3 - "$CI_ROOT/ci/gitlab/sfsmoke.gitlab-ci.yml" <<'PY' || die "ci/gitlab/sfsmoke.gitlab-ci.yml: the job 'sfsmoke' must be '.sfsmoke' plus its image (see above)"
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
job, hidden = doc["sfsmoke"], doc[".sfsmoke"]
assert job == {"extends": ".sfsmoke", "image": "$SFSMOKE_IMAGE",
               "variables": {"SFSMOKE_IMAGE": job["variables"]["SFSMOKE_IMAGE"]}}, job
assert "image" not in hidden, "the hidden job must not pin an image"
assert hidden["artifacts"]["when"] == "always", "artifacts must be kept when the gate fails"
assert "junit" in hidden["artifacts"]["reports"], "artifacts:reports:junit is missing"
assert hidden["stage"] == ".pre", hidden["stage"]
print("  ok: sfsmoke = .sfsmoke + image", job["variables"]["SFSMOKE_IMAGE"])
PY

section "gitlab template: shellcheck on the job's script (as POSIX sh)"
shellcheck_scripts gitlab "$CI_ROOT/ci/gitlab/sfsmoke.gitlab-ci.yml" "$WORK/scripts"

section "gitlab template: scenarios"
scenarios=$("$SFSMOKE_BIN" sim --list-scenarios) || die "sfsmoke sim --list-scenarios failed"
grep -qw -- healthy <<<"$scenarios" || die "no 'healthy' scenario in sfsmoke sim --list-scenarios" "$scenarios"
grep -qw -- "$FAIL_SCENARIO" <<<"$scenarios" ||
    die "no '$FAIL_SCENARIO' scenario in sfsmoke sim --list-scenarios (set SFSMOKE_FAIL_SCENARIO)" "$scenarios"
note "healthy and $FAIL_SCENARIO are there"

# The throwaway project: smoke.toml with secrets from the environment, the
# template included as it is, a deploy stage after it.
PROJECT="$WORK/project"
mkdir -p "$PROJECT"
cp "$CI_ROOT/ci/gitlab/sfsmoke.gitlab-ci.yml" "$PROJECT/sfsmoke.gitlab-ci.yml"
{
    echo '# throwaway project for ci/test-gitlab-template.sh'
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
} >"$PROJECT/smoke.toml"
cat >"$PROJECT/.gitlab-ci.yml" <<'EOF'
include:
  - local: sfsmoke.gitlab-ci.yml

stages: [build, deploy]

# No container engine here: the template's `sfsmoke` job pins an image, so
# run its image-less twin on the shell executor instead.
sfsmoke:
  rules:
    - when: never

smoke-on-shell:
  extends: .sfsmoke
  rules:
    - if: $SHARDED != "1"

smoke-sharded:
  extends: .sfsmoke
  parallel: 2
  rules:
    - if: $SHARDED == "1"

deploy:
  stage: deploy
  script:
    - echo "DEPLOYING-NOW"
  rules:
    - if: $SHARDED != "1"
EOF
git -C "$PROJECT" init -q -b main
git -C "$PROJECT" add -A
git -C "$PROJECT" -c user.name=ci -c user.email=ci@example.invalid commit -q -m "throwaway project"

# run_pipeline NAME [gitlab-ci-local args]: runs it in the project, log in
# $WORK/NAME.log; sets RC.
run_pipeline() {
    local name=$1
    shift
    rm -rf "$PROJECT/target" "$PROJECT/.gitlab-ci-local/artifacts"
    set +e
    (cd "$PROJECT" && "$GCL" --home "$WORK/gcl-home" --no-color --max-job-name-padding 0 \
        --variable GITLAB_CI=true \
        --variable SFSMOKE_INSTALL=path --variable "SFSMOKE_BIN=$SFSMOKE_BIN" \
        --variable "SF_LOGIN_URL=$SIM_URL" --variable "SF_USER=$SIM_USERNAME" \
        --variable "SF_PASSWORD=$SIM_PASSWORD" --variable "SF_TOKEN=$SIM_TOKEN" \
        "$@" </dev/null >"$WORK/$name.log" 2>&1)
    RC=$?
    set -e
    sed 's/^/    | /' "$WORK/$name.log"
}

section "gitlab template: 1. healthy org -> the gate passes, deploy runs"
start_sim healthy "$WORK"
run_pipeline healthy
stop_sim
((RC == 0)) || die "gitlab-ci-local exited $RC on the healthy org (want 0; log above)"
grep -Eq 'PASS +smoke-on-shell' "$WORK/healthy.log" || die "no 'PASS smoke-on-shell' in the log"
grep -q 'DEPLOYING-NOW' "$WORK/healthy.log" || die "the deploy job did not run after a passing gate"
# What GitLab would receive: gitlab-ci-local exports the job's artifacts
# (paths + reports) there, honouring artifacts:when.
junit="$PROJECT/.gitlab-ci-local/artifacts/smoke-on-shell/target/smoke/junit.xml"
[[ -f $junit ]] || die "the job's artifacts hold no target/smoke/junit.xml" "$(ls -R "$PROJECT/.gitlab-ci-local/artifacts" 2>&1)"
check_junit "$junit" --expect-failures 0 --expect-errors 0 || die "check-junit rejects $junit"
# gitlab-ci-local sets GITLAB_CI=false; GitLab sets true, as run_pipeline does.
grep -q 'section_start:[0-9]*:' "$WORK/healthy.log" ||
    die "no collapsible section (section_start:) in the job log although GITLAB_CI=true"
note "collapsible GitLab sections: $(grep -c 'section_start:' "$WORK/healthy.log")"

section "gitlab template: 2. $FAIL_SCENARIO -> the gate fails, deploy never starts"
start_sim "$FAIL_SCENARIO" "$WORK"
run_pipeline failing
stop_sim
((RC != 0)) || die "gitlab-ci-local exited 0 on $FAIL_SCENARIO: the gate did not fail the pipeline"
grep -Eq 'FAIL +smoke-on-shell' "$WORK/failing.log" || die "no 'FAIL smoke-on-shell' in the log"
if grep -q 'DEPLOYING-NOW' "$WORK/failing.log"; then
    die "the deploy job ran although the gate failed"
fi
grep -q 'smoke-on-shell exported artifacts' "$WORK/failing.log" ||
    die "the failed job exported no artifacts (artifacts:when: always must keep the JUnit report)"
[[ -f $junit ]] || die "the failed job's artifacts hold no target/smoke/junit.xml"
check_junit "$junit" || die "check-junit rejects $junit"
grep -q 'API_DISABLED_FOR_ORG' "$junit" || die "$junit does not name API_DISABLED_FOR_ORG"
python3 - "$junit" <<'PY' || die "the failing run's JUnit has no <failure type=\"API_DISABLED_FOR_ORG\">"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
types = [f.get("type") for f in root.iter("failure")]
print("  failure types:", sorted(set(types)))
sys.exit(0 if "API_DISABLED_FOR_ORG" in types else 1)
PY

section "gitlab template: 3. parallel: 2 -> two shards, distinct JUnit files"
start_sim healthy "$WORK"
run_pipeline sharded --variable SHARDED=1
stop_sim
((RC == 0)) || die "gitlab-ci-local exited $RC on the sharded healthy run (want 0)"
shard_files=()
for k in 1 2; do
    grep -q "smoke-sharded: \[$k/2\] exported artifacts" "$WORK/sharded.log" || die "shard $k/2 exported no artifacts"
    f="$PROJECT/target/smoke/junit-shard-$k-of-2.xml"
    [[ -f $f ]] || die "shard $k/2 wrote no ${f#"$PROJECT"/}" "$(ls -la "$PROJECT/target/smoke" 2>&1)"
    check_junit "$f" --expect-failures 0 --expect-errors 0 || die "check-junit rejects $f"
    shard_files+=("$f")
done
python3 - "${ORGS[*]}" "${shard_files[@]}" <<'PY' || die "the shards do not split the orgs cleanly"
import sys, xml.etree.ElementTree as ET
want = set(sys.argv[1].split())
seen = []
for path in sys.argv[2:]:
    names = [s.get("name") for s in ET.parse(path).getroot().iter("testsuite")]
    print(f"  {path.rsplit('/', 1)[-1]}: {names}")
    seen.append(set(names))
assert not (seen[0] & seen[1]), f"an org ran in both shards: {seen[0] & seen[1]}"
assert seen[0] | seen[1] == want, f"orgs missing from the shards: {want - (seen[0] | seen[1])}"
PY

section "gitlab template: 4. SFSMOKE_ORGS, SFSMOKE_JSON, SFSMOKE_ARGS reach sfsmoke"
start_sim healthy "$WORK"
run_pipeline subset --variable "SFSMOKE_ORGS=alpha,charlie" --variable SFSMOKE_JSON=target/smoke/report.json \
    --variable SFSMOKE_ARGS=-q
stop_sim
((RC == 0)) || die "gitlab-ci-local exited $RC with SFSMOKE_ORGS/JSON/ARGS (want 0)"
grep -q -- '--org alpha --org charlie' "$WORK/subset.log" || die "SFSMOKE_ORGS=alpha,charlie did not become --org alpha --org charlie"
[[ -f $PROJECT/.gitlab-ci-local/artifacts/smoke-on-shell/target/smoke/report.json ]] ||
    die "SFSMOKE_JSON: no target/smoke/report.json in the job's artifacts"
python3 - "$junit" <<'PY' || die "SFSMOKE_ORGS did not select exactly alpha and charlie"
import sys, xml.etree.ElementTree as ET
got = sorted(s.get("name") for s in ET.parse(sys.argv[1]).getroot().findall("testsuite"))
print("  suites:", got)
sys.exit(0 if got == ["alpha", "charlie"] else 1)
PY

section "gitlab template: OK"
