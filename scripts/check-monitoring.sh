#!/usr/bin/env bash
# The monitoring in infra/ (issue 20): Prometheus's alert rules checked and unit-tested with
# promtool (Debian's `prometheus` package, installed when missing), and every PromQL expression of
# each Grafana dashboard parsed by promtool too.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v promtool >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
promtool --version | head -1
promtool check rules infra/prometheus/alerts.yml
(cd infra/prometheus && promtool test rules alerts.test.yml)
# Each dashboard's queries, as a rule file promtool can check (Grafana's $variables replaced by
# values Prometheus accepts).
rules="$(mktemp --suffix .yml)"
trap 'rm -f "$rules"' EXIT
for dashboard in infra/grafana/*.json; do
  python3 - "$dashboard" "$rules" <<'PY'
import json, sys
dashboard = json.load(open(sys.argv[1]))
exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
assert exprs, f"{sys.argv[1]} has no queries"
with open(sys.argv[2], "w") as out:
    out.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, expr in enumerate(exprs):
        expr = expr.replace("$__rate_interval", "5m").replace('"$job"', '"ggzhub"')
        out.write(f"      - record: dashboard:query{i}\n        expr: {json.dumps(expr)}\n")
print(f"{sys.argv[1]}: {len(exprs)} queries")
PY
  promtool check rules "$rules"
done
