#!/usr/bin/env bash
# Checks that our composer (graphql-composition adapted to Apollo's format) means the same as
# @apollo/composition: composes the subgraph SDLs of schema/ (the hub) and of each fixture in
# gateway/tests/fixtures/compose/ with Apollo's composer (installed from the npm registry into a
# temporary directory, never into the repository) and compares every type, field, argument, enum
# value, link and join directive with the checked-in supergraph.graphql beside them, which the
# Rust tests keep equal to our composer's output (`cargo test -p ggzhub-gateway --test gateway compose::`).
# Needs node and npm. Exits non-zero on any difference.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
command -v node >/dev/null || { echo "check-composition: node is required" >&2; exit 1; }
command -v npm >/dev/null || { echo "check-composition: npm is required" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent @apollo/composition@2.14.4 graphql@16 >/dev/null)
cp "$root/scripts/compose-apollo.mjs" "$work/"
echo "@apollo/composition $(node -p "require('$work/node_modules/@apollo/composition/package.json').version")"
node "$work/compose-apollo.mjs" "$root/schema/supergraph.graphql" "$root"/gateway/tests/fixtures/compose/*/supergraph.graphql
