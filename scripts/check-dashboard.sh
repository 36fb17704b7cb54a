#!/usr/bin/env bash
# Rebuilds the dashboard from a clean copy (npm ci && npm run build in a temporary directory) and fails
# when the committed dashboard/dist/ or dashboard/operations.json differ from what the sources build:
# the gateway embeds both, so they must match the code (as schema/*.graphql must match the subgraphs).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/schema"
cp "$root/schema/supergraph.graphql" "$tmp/schema/"
# The sources only (no node_modules, no build output, no GraphiQL package of the gateway).
tar -C "$root" --exclude=dashboard/node_modules --exclude=dashboard/dist --exclude=dashboard/scratch \
  --exclude=dashboard/graphiql --exclude='dashboard/src/gql' --exclude='dashboard/src/gql-public' \
  -cf - dashboard | tar -C "$tmp" -xf -
cd "$tmp/dashboard"
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
status=0
if ! diff -r "$root/dashboard/dist" "$tmp/dashboard/dist" >"$tmp/dist.diff"; then
  echo "dashboard/dist/ is not what the sources build: run 'cd dashboard && npm ci && npm run build' and commit dist/" >&2
  head -50 "$tmp/dist.diff" >&2
  status=1
fi
if ! diff "$root/dashboard/operations.json" "$tmp/dashboard/operations.json" >&2; then
  echo "dashboard/operations.json is not what the sources generate: run 'cd dashboard && npm run build' and commit it" >&2
  status=1
fi
[ "$status" = 0 ] && echo "dashboard: committed dist/ and operations.json match a clean build"
exit "$status"
