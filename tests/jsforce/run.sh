#!/usr/bin/env bash
# Third-party client check: jsforce (npm), unchanged, against `sfsmoke sim`.
#
# Builds the binary, starts four simulated orgs on free loopback ports
# (healthy, edition-essentials, profile-no-api, and a healthy one changed
# while the client runs), runs check.js, and stops
# the servers whatever happens. Offline except `npm ci` from the registry.
# Exit status: 0 when every expectation held, non-zero otherwise.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

cargo build --locked --quiet --bin sfsmoke
bin="${CARGO_TARGET_DIR:-$root/target}/debug/sfsmoke"

if [ ! -d "$here/node_modules/jsforce" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# start SCENARIO: serve it on a free port; sets $url from the server's own
# announcement (read from a FIFO, so no readiness polling).
start() {
  local scenario="$1" n="${#pids[@]}" line
  local fifo="$work/$n-$scenario.out" errlog="$work/$n-$scenario.err"
  mkfifo "$fifo"
  "$bin" sim --scenario "$scenario" --port 0 >"$fifo" 2>"$errlog" &
  pids+=("$!")
  exec {fd}<"$fifo"
  url=""
  while IFS= read -r -u "$fd" line; do
    case "$line" in
      *"login URL:"*) url="${line##* }"; break ;;
    esac
  done
  if [ -z "$url" ]; then
    echo "error: sfsmoke sim --scenario $scenario did not start:" >&2
    cat "$errlog" >&2
    exit 1
  fi
  # Keep draining its output so the server never blocks on a full pipe.
  cat <&"$fd" >/dev/null &
  pids+=("$!")
}

start healthy;            healthy_url="$url"
start edition-essentials; essentials_url="$url"
start profile-no-api;     profile_url="$url"
start healthy;            changing_url="$url"

node "$here/check.js" "$healthy_url" "$essentials_url" "$profile_url" "$changing_url"
