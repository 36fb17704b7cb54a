#!/usr/bin/env bash
# The dashboard's checks, as CI runs them: Chromium (Debian's) installed when missing, a clean-copy build
# compared with the committed dist/ and operations.json, then the browser tests against a real hub that
# the tests start (`ggzhub dev` on ports 4100-4105 with a fresh data directory).
#   GGZHUB_BIN     the hub binary (default target/debug/ggzhub; built with `cargo build` when missing)
#   DASHBOARD_URL  test an already running dashboard instead (see dashboard/tests/harness.mjs)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/install-chromium.sh
bash scripts/check-dashboard.sh
export GGZHUB_BIN="${GGZHUB_BIN:-$root/target/debug/ggzhub}"
if [ -z "${DASHBOARD_URL:-}" ] && [ ! -x "$GGZHUB_BIN" ]; then
  cargo build -q --bin ggzhub
fi
cd dashboard
npm ci --no-audit --no-fund --loglevel=error
# The generated schemas, typed operations and persisted documents (not committed; the tests read them).
npm run --silent codegen
npm test
