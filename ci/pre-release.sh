#!/usr/bin/env bash
# The local check before a release (or before pushing to main):
#   cargo fmt --check, cargo clippy -D warnings (when clippy is installed),
#   cargo test --locked, and the demo (must exit 1: its broken org fails the
#   gate on purpose) with its JUnit file checked by ../shared/junit/check-junit
#   when that checker is there.
#   --full also runs the CI template checks (ci/test-github-templates.sh and
#   ci/test-gitlab-template.sh; they install npm tools on first use).
# Run from anywhere: bash ci/pre-release.sh [--full]
set -euo pipefail
# shellcheck source=ci/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$CI_ROOT"

full=0
case "${1:-}" in
    "") ;;
    --full) full=1 ;;
    -h | --help)
        sed -n '2,9p' "$0"
        exit 0
        ;;
    *) die "unknown argument '$1' (hint: bash ci/pre-release.sh [--full])" ;;
esac
start=$SECONDS

section "pre-release: cargo fmt --check"
if cargo fmt --version >/dev/null 2>&1; then
    cargo fmt --all -- --check || die "cargo fmt found unformatted code (hint: cargo fmt)"
else
    note "rustfmt is not installed: skipped (hint: rustup component add rustfmt)"
fi

section "pre-release: cargo clippy --all-targets --locked -- -D warnings"
if cargo clippy --version >/dev/null 2>&1; then
    cargo clippy --all-targets --locked -- -D warnings || die "clippy found warnings"
else
    note "clippy is not installed: skipped (hint: rustup component add clippy)"
fi

section "pre-release: cargo test --locked"
cargo test --locked || die "cargo test --locked failed"

section "pre-release: the demo (exits 1 by design)"
bash "$CI_ROOT/ci/check-demo.sh" || die "the demo check failed"

if ((full)); then
    section "pre-release: CI templates"
    bash "$CI_ROOT/ci/test-github-templates.sh"
    bash "$CI_ROOT/ci/test-gitlab-template.sh"
fi

section "pre-release: OK in $((SECONDS - start)) s"
