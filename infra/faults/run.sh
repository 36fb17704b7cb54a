#!/usr/bin/env bash
# Faults survived (issue 20, item 4): the hub as separate processes on a private PostgreSQL, two
# gateway replicas behind HAProxy, a steady load, and one fault after another (SIGTERM and SIGKILL
# to a replica, a subgraph killed and restarted, PostgreSQL restarted), then a soak. Prints a
# table of figures per fault and exits non-zero when a case misses its criterion.
#
#   infra/faults/run.sh                  # the full run: 600 s soak
#   infra/faults/run.sh --soak-secs 60   # the CI variant
#   infra/faults/run.sh --help           # every flag (rates, outage lengths, which subgraph)
#
# Needs: a ggzhub binary (GGZHUB_BIN, else target/release/ggzhub, else target/debug/ggzhub),
# PostgreSQL 15's server binaries (PG_BIN, default /usr/lib/postgresql/15/bin), Python >= 3.11
# (standard library only), openssl, and HAProxy (Debian's package, installed with apt-get when
# missing; run here in the foreground with a generated configuration, never as the system
# service). Everything it starts lives under one temporary directory, removed on exit, Ctrl-C
# included; nothing else on the machine is touched (its PostgreSQL listens on a free port).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

die() { echo "faults: $*" >&2; exit 2; }

bin="${GGZHUB_BIN:-}"
if [ -z "$bin" ]; then
  for candidate in "$repo/target/release/ggzhub" "$repo/target/debug/ggzhub"; do
    if [ -x "$candidate" ]; then bin="$candidate"; break; fi
  done
fi
[ -n "$bin" ] || die "no ggzhub binary: build one (cargo build --bin ggzhub) or set GGZHUB_BIN"
[ -x "$bin" ] || die "GGZHUB_BIN=$bin is not an executable file"

pg_bin="${PG_BIN:-/usr/lib/postgresql/15/bin}"
for tool in initdb pg_ctl postgres; do
  [ -x "$pg_bin/$tool" ] || die "$pg_bin/$tool is missing: install postgresql-15 or set PG_BIN"
done
command -v psql >/dev/null || [ -x "$pg_bin/psql" ] || die "psql is missing"
command -v openssl >/dev/null || die "openssl is missing"

python=""
for candidate in python3.11 python3.12 python3.13 python3; do
  if command -v "$candidate" >/dev/null \
    && "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
    python="$candidate"; break
  fi
done
[ -n "$python" ] || die "Python >= 3.11 is missing"

if ! command -v haproxy >/dev/null; then
  echo "faults: haproxy is missing; installing Debian's package" >&2
  sudo=""
  if [ "$(id -u)" != "0" ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends haproxy >/dev/null
  command -v haproxy >/dev/null || die "apt-get install haproxy did not give a haproxy command"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/ggzhub-faults.XXXXXX")"
# PostgreSQL refuses to run as root; then it runs as the `postgres` user, which must be able to
# reach its data directory below this one (traverse only: the keys stay private).
chmod 0711 "$work"

# Whatever the driver leaves behind (it stops everything itself; this is for a driver killed
# hard): PostgreSQL, every process it recorded in $work/pids, then the directory.
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  # Output may go to a pipe whose reader is gone (`| head`): a write must not end this cleanup.
  trap '' PIPE
  # PostgreSQL first, by its own tool (an immediate shutdown, as after a crash)...
  if [ -f "$work/pg/data/postmaster.pid" ]; then
    local pg_ctl=("$pg_bin/pg_ctl" -D "$work/pg/data" -m immediate -w -t 20 stop)
    if [ "$(id -u)" = "0" ]; then runuser -u "$(stat -c %U "$work/pg/data")" -- "${pg_ctl[@]}" >/dev/null 2>&1 || true
    else "${pg_ctl[@]}" >/dev/null 2>&1 || true; fi
  fi
  # ... then every process of this run still alive (only if its command line names the work
  # directory: never a process that took a recorded pid after ours ended).
  if [ -f "$work/pids" ]; then
    while read -r pid name; do
      if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null \
        && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$work"; then
        echo "faults: stopping leftover $name ($pid)" >&2 || true
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done <"$work/pids"
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

# The driver runs in the background so that a signal to this script (Ctrl-C, a CI timeout's
# SIGTERM) reaches it at once: it is passed on as SIGTERM, on which the driver stops everything
# it started and exits; then the trap above removes what is left.
"$python" "$here/faults.py" --work "$work" --bin "$bin" --pg-bin "$pg_bin" --repo "$repo" "$@" &
driver=$!
echo "$driver faults.py" >>"$work/pids"
interrupted=""
on_signal() { interrupted="$1"; kill -TERM "$driver" 2>/dev/null || true; }
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
set +e
while true; do
  wait "$driver"
  status=$?
  kill -0 "$driver" 2>/dev/null || break
done
set -e
if [ -n "$interrupted" ]; then
  echo "faults: interrupted" >&2
  exit "$interrupted"
fi
exit "$status"
