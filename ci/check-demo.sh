#!/usr/bin/env bash
# The README's first command, checked as a newcomer would run it:
#   cargo run --locked -- demo
# must exit 1 (the demo's broken org fails the gate on purpose), print the
# failure, and write target/smoke/demo-junit.xml, which must pass
# ../shared/junit/check-junit with at least one failed and one passed case.
# Then `demo --scenario healthy` must exit 0, as the README says.
set -euo pipefail
# shellcheck source=ci/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$CI_ROOT"

junit=target/smoke/demo-junit.xml
log=$(mktemp "${TMPDIR:-/tmp}/sfsmoke-demo.XXXXXX")
trap 'rm -f "$log" "$log.healthy"' EXIT

section "demo: cargo run --locked -- demo (want exit 1)"
rm -f "$junit"
set +e
cargo run --locked --quiet -- demo </dev/null 2>&1 | tee "$log"
code=${PIPESTATUS[0]}
set -e
((code == 1)) || die "cargo run --locked -- demo exited $code, want 1 (its broken org must fail the gate)"
[[ -f $junit ]] || die "the demo wrote no $junit"
check_junit "$junit" || die "check-junit rejects the demo's $junit"
python3 - "$junit" <<'PY' || die "the demo's JUnit must hold a passed and a failed case"
import sys, xml.etree.ElementTree as ET
cases = list(ET.parse(sys.argv[1]).getroot().iter("testcase"))
failed = [c for c in cases if c.find("failure") is not None or c.find("error") is not None]
passed = [c for c in cases if len(c.findall("failure") + c.findall("error") + c.findall("skipped")) == 0]
codes = sorted({e.get("type") for c in failed for e in c if e.tag in ("failure", "error")})
print(f"  demo JUnit: {len(cases)} cases, {len(passed)} passed, {len(failed)} failed: {codes}")
sys.exit(0 if failed and passed else 1)
PY

section "demo: cargo run --locked -- demo --scenario healthy (want exit 0)"
set +e
cargo run --locked --quiet -- demo --scenario healthy --junit target/smoke/demo-healthy-junit.xml </dev/null >"$log.healthy" 2>&1
code=$?
set -e
if ((code != 0)); then
    cat "$log.healthy"
    die "demo --scenario healthy exited $code, want 0"
fi
check_junit target/smoke/demo-healthy-junit.xml --expect-failures 0 --expect-errors 0 ||
    die "check-junit rejects the healthy demo's JUnit"
note "demo --scenario healthy: exit 0"
