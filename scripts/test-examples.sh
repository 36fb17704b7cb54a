#!/usr/bin/env bash
# Runs the partner client examples (examples/python, examples/typescript) against a real hub:
# `ggzhub dev` on free ports with a fresh data directory, then each example's sync as a demo
# provider and its coordinating insurer, then each example's unit tests. Fails on any failure.
#   GGZHUB_BIN     the hub binary (default target/debug/ggzhub; built with `cargo build` when missing)
#   GGZHUB_CACHE   where the Python virtualenv is kept (default ~/.cache/ggzhub)
# Needs python3 (with venv), node 20.6 or later and npm.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
started=$SECONDS

fail() { echo "test-examples: FAILED: $*" >&2; exit 1; }
for tool in python3 node npm; do command -v "$tool" >/dev/null || fail "$tool is required"; done

export GGZHUB_BIN="${GGZHUB_BIN:-$root/target/debug/ggzhub}"
if [ ! -x "$GGZHUB_BIN" ]; then
  cargo build -q --bin ggzhub
fi

# The hub: every port picked free, a fresh data directory; stopped on exit, whatever happens.
work="$(mktemp -d)"
hub_pid=""
cleanup() {
  status=$?
  if [ -n "$hub_pid" ] && kill -0 "$hub_pid" 2>/dev/null; then
    kill "$hub_pid" 2>/dev/null || true
    wait "$hub_pid" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ] && [ -f "$work/hub.log" ]; then
    echo "--- the hub's log, last lines (without its banner of URLs, clients and tokens)" >&2
    sed '/^ggzhub dev hub/,/^README.md has a first query/d' "$work/hub.log" | tail -n 30 >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== ggzhub dev ($GGZHUB_BIN), data in $work/data"
RUST_LOG="${RUST_LOG:-warn}" "$GGZHUB_BIN" dev --data-dir "$work/data" \
  --gateway-port 0 --region-port 0 --national-table-port 0 --contracting-port 0 --issuer-port 0 \
  >"$work/hub.log" 2>&1 &
hub_pid=$!

# It prints its URLs once every part is up; then the gateway's readiness says it serves.
gateway=""
for _ in $(seq 1 240); do
  kill -0 "$hub_pid" 2>/dev/null || fail "ggzhub dev exited"
  gateway="$(sed -n 's|^  gateway  *\(http://[^ ]*/graphql\)$|\1|p' "$work/hub.log" | head -n 1)"
  if [ -n "$gateway" ] && python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
    "${gateway%/graphql}/health/ready" 2>/dev/null; then
    break
  fi
  gateway=""
  sleep 0.5
done
[ -n "$gateway" ] || fail "ggzhub dev was not ready within 120 s"
[ -f "$work/data/demo-clients.json" ] || fail "no demo-clients.json in $work/data"
echo "gateway $gateway ready after $((SECONDS - started)) s"
export GGZHUB_DATA_DIR="$work/data" GGZHUB_GATEWAY="$gateway"

# Python: a virtualenv per version of the pinned requirements, kept between runs.
requirements="$root/examples/python/requirements.txt"
venv="${GGZHUB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ggzhub}/examples-python-$(sha256sum "$requirements" | cut -c1-12)"
if [ ! -f "$venv/.installed" ]; then
  echo "== Python: a virtualenv with the pinned requirements ($venv)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  touch "$venv/.installed"
fi

# Two records a page, so that every paged read (offers, both change feeds) takes several pages.
echo "== Python example: sync as the first demo provider"
(cd examples/python && "$venv/bin/python" sync.py --page-size 2 --month 2030-01) || fail "the Python example"

# The same month again: every report exists, so the bulk write is refused whole, each report named.
echo "== Python example again, the same month: refused, each report named"
if (cd examples/python && "$venv/bin/python" sync.py --month 2030-01 >"$work/again.log" 2>&1); then
  cat "$work/again.log"
  fail "reports of a month already reported were accepted"
fi
grep -A3 'refused (CONFLICT), nothing stored:' "$work/again.log" || { cat "$work/again.log"; fail "no refused reports printed"; }
grep -q '^  report 0 (.*): .* \[CONFLICT\]$' "$work/again.log" \
  || { cat "$work/again.log"; fail "report 0 not named as refused"; }

# TypeScript: the locked packages, the API schema and typed operations generated, type-checked
# and compiled by tsc.
echo "== TypeScript example: npm ci, codegen, tsc"
(cd examples/typescript && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build) \
  || fail "building the TypeScript example"
echo "== TypeScript example: sync as another provider (GGZ Dinkeldal)"
(cd examples/typescript && node dist/src/sync.js --provider "GGZ Dinkeldal" --page-size 2) || fail "the TypeScript example"

echo "== Python example: unit tests"
(cd examples/python && "$venv/bin/python" -m unittest -v) || fail "the Python unit tests"
echo "== TypeScript example: unit tests"
(cd examples/typescript && npm test --silent) || fail "the TypeScript unit tests"

echo "== examples passed in $((SECONDS - started)) s"
