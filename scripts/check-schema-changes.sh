#!/usr/bin/env bash
# The hub's own schema checks (issue 22; dashboard/scripts/schema-check.mjs): the API schema and
# the public contract of schema/supergraph.graphql compared with the last release's
# (schema/released/) by GraphQL Inspector — a breaking change fails unless declared in
# schema/breaking-changes.json or it removes what the release deprecated with a removal date now
# passed — and every trusted document (the dashboard's operations.json; more with
# GGZHUB_TRUSTED_DOCUMENTS=path[:path…]) validated against the new schema.
set -euo pipefail
cd "$(dirname "$0")/../dashboard"
npm ci --no-audit --no-fund --loglevel=error
node scripts/schema-check.mjs "$@"
