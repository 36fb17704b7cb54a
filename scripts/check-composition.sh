#!/usr/bin/env bash
# Checks that our composer (graphql-composition adapted to Apollo's format) means the same as
# @apollo/composition for the hub's subgraphs: composes schema/*.graphql with Apollo's composer
# (installed from the npm registry into a temporary directory, never into the repository) and
# compares every type, field, argument and join directive with schema/supergraph.graphql.
# Needs node and npm. Exits non-zero on any difference.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
command -v node >/dev/null || { echo "check-composition: node is required" >&2; exit 1; }
(cd "$work" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent @apollo/composition@2 graphql@16 >/dev/null)
cp "$root/scripts/compose-apollo.mjs" "$work/"
node "$work/compose-apollo.mjs" "$root/schema"
