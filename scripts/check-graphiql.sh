#!/usr/bin/env bash
# Checks that dashboard/graphiql/dist (committed, built into the gateway, served under /graphiql/)
# is exactly what its pinned packages build: installs dashboard/graphiql's package-lock.json from
# the npm registry into a temporary directory (never into the repository), runs its build and
# compares the output with the committed dist/. Needs node and npm. Exits non-zero on any
# difference: rebuild with `cd dashboard/graphiql && npm ci && npm run build` and commit dist/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
command -v node >/dev/null || { echo "check-graphiql: node is required" >&2; exit 1; }
command -v npm >/dev/null || { echo "check-graphiql: npm is required" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
src="$root/dashboard/graphiql"
cp -r "$src/package.json" "$src/package-lock.json" "$src/.npmrc" "$src/build.mjs" "$src/src" "$work/"
(cd "$work" && npm ci --no-audit --no-fund --silent >/dev/null && npm run --silent build)
if ! diff -r "$work/dist" "$src/dist" >/dev/null; then
  echo "check-graphiql: dashboard/graphiql/dist differs from a fresh build:" >&2
  diff -rq "$work/dist" "$src/dist" >&2 || true
  exit 1
fi
echo "dashboard/graphiql/dist matches its build"
