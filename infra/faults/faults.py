#!/usr/bin/env python3
"""Faults survived (issue 20, item 4): the driver behind infra/faults/run.sh.

Brings the hub up as separate processes the way infra/README.md deploys it (one PostgreSQL
database per subgraph on a private PostgreSQL instance, keys made with openssl, organisation
tokens from `ggzhub token issue` verified by the gateway through a file-based JWKS in
`[[auth.issuers]]`), puts two gateway replicas behind HAProxy, sends a steady load through
HAProxy (a query joining the three subgraphs, and mutations whose acknowledgements are counted),
then runs the faults one after the other and a soak. Prints a table of figures per case; exits 1
when a case misses its criterion, 2 when the run itself could not be carried out.

Standard library only (Python >= 3.11). run.sh makes the work directory and removes it.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import http.client
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field

# Demo organisations (services/region/data/demo/organisations.json), bound in the demo register
# to the development identity provider.
NATIONAL_TABLE = "07a3f849-047d-5ed0-bd4c-6d00be40ea72"  # Landelijke tafel
KROMME_RIJN = "47ed3233-56c7-536b-aca1-44612422ab16"  # GGZ Kromme Rijn, a provider in utrecht
# The development identity provider's issuer (ggzhub_kit::token::DEV_ISSUER): the demo register
# binds the demo organisations to it, and `ggzhub token issue` signs as it.
DEV_ISSUER = "http://127.0.0.1:4005"
# Escalations of the demo data (services/national-table/data/demo/escalations.json).
ZEELAND_ESCALATION = "df18d1d6-e908-530a-989d-b52a8048760a"  # read by the load
UTRECHT_ESCALATION = "86d1d63f-7614-5af3-a08e-49a7f41375a0"  # MEASURE_AGREED: measures are added here

# The steady load's query: the region subgraph (region, offers, providers), the contracting
# subgraph (each offer's contract coverage, nullable) and the national-table subgraph (a nullable
# root field, whose raiser comes from the region subgraph again). Nullable where another subgraph
# answers, so that an unreachable subgraph shows as null with an error at its path (partial data)
# instead of nulling the whole answer.
QUERY = """query FaultsLoad {
  region(code: "zeeland") {
    code name
    offers(first: 10) {
      nodes { id unitName status provider { name } contractCoverage { year band continuitySecuredUntil } }
    }
  }
  escalation(id: "%s") { id status category raisedBy { name } }
}""" % ZEELAND_ESCALATION

# A heavier query, sent just before a replica is stopped or killed so that it holds requests.
HEAVY = """query FaultsHeavy {
  regions(first: 40) {
    nodes { code name offers(first: 25) { nodes { id unitName provider { name } contractCoverage { year band } } } }
  }
}"""

ADD_MEASURE = """mutation FaultsMeasure($escalation: ID!, $input: MeasureInput!) {
  addMeasure(escalationId: $escalation, input: $input) { id title }
}"""

CREATE_OFFER = """mutation FaultsOffer($input: CreateCareOfferInput!) {
  createCareOffer(input: $input) { id unitName }
}"""

SUBGRAPHS = ("region", "national-table", "contracting")
DATABASES = {"region": "ggzhub_region", "national-table": "ggzhub_national_table", "contracting": "ggzhub_contracting"}

T0 = time.monotonic()
WALL0 = time.time()


def now() -> float:
    """Seconds since the driver started (monotonic)."""
    return time.monotonic() - T0


def say(message: str) -> None:
    print(f"[{now():7.1f}s] {message}", flush=True)


class SetupError(Exception):
    """The run could not be carried out (exit 2)."""


class Interrupted(Exception):
    """SIGTERM or SIGINT."""


def on_signal(signum, _frame):
    raise Interrupted(signal.Signals(signum).name)


class Tolerant:
    """A stream whose writes never raise: when the reader of the output is gone (`| head`), the
    run still stops what it started instead of dying on BrokenPipeError halfway."""

    def __init__(self, stream):
        self.stream = stream
        self.broken = False

    def write(self, text):
        if not self.broken:
            try:
                return self.stream.write(text)
            except (BrokenPipeError, OSError):
                self.broken = True
        return len(text)

    def flush(self):
        if not self.broken:
            try:
                self.stream.flush()
            except (BrokenPipeError, OSError):
                self.broken = True

    def __getattr__(self, name):
        return getattr(self.stream, name)


def free_ports(n: int) -> list[int]:
    sockets, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
        ports.append(s.getsockname()[1])
    for s in sockets:
        s.close()
    return ports


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, math.ceil(p / 100 * len(ordered)) - 1)
    return ordered[k]


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:.0f} ms"


def secs(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} s"


# ---------------------------------------------------------------------------------------------
# Processes


@dataclass
class Proc:
    name: str
    cmd: list[str]
    env: dict[str, str]
    log_path: str
    ready_url: str | None
    popen: subprocess.Popen | None = None
    starts: int = 0


class Processes:
    """The children of this run, each in a session of its own (so Ctrl-C reaches only the driver,
    which stops them in order), recorded in work/pids for run.sh's last-resort cleanup."""

    def __init__(self, work: str):
        self.work = work
        self.procs: dict[str, Proc] = {}

    def add(self, name, cmd, env, ready_url=None) -> Proc:
        proc = Proc(name, cmd, env, os.path.join(self.work, "logs", f"{name}.log"), ready_url)
        self.procs[name] = proc
        return proc

    def start(self, name: str, timeout: float = 90) -> Proc:
        proc = self.procs[name]
        if proc.popen is not None and proc.popen.poll() is None:
            raise SetupError(f"{name} is already running")
        log = open(proc.log_path, "ab")
        if proc.starts:
            log.write(f"\n==== restarted at {now():.1f}s ====\n".encode())
            log.flush()
        proc.popen = subprocess.Popen(
            proc.cmd,
            env=proc.env,
            cwd=self.work,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        proc.starts += 1
        with open(os.path.join(self.work, "pids"), "a") as pids:
            pids.write(f"{proc.popen.pid} {name}\n")
        if proc.ready_url:
            self.wait_ready(name, timeout)
        return proc

    def wait_ready(self, name: str, timeout: float) -> float:
        proc = self.procs[name]
        deadline = time.monotonic() + timeout
        while True:
            if proc.popen.poll() is not None:
                raise SetupError(f"{name} exited with {proc.popen.returncode} while starting:\n{self.tail(name)}")
            status, _ = http_get(proc.ready_url, timeout=2)
            if status == 200:
                return now()
            if time.monotonic() > deadline:
                raise SetupError(f"{name} not ready at {proc.ready_url} within {timeout:.0f} s:\n{self.tail(name)}")
            time.sleep(0.1)

    def pid(self, name: str) -> int | None:
        proc = self.procs.get(name)
        if proc and proc.popen and proc.popen.poll() is None:
            return proc.popen.pid
        return None

    def running(self) -> dict[str, int]:
        return {name: pid for name in self.procs if (pid := self.pid(name))}

    def signal(self, name: str, sig: int) -> None:
        proc = self.procs[name]
        if proc.popen is None or proc.popen.poll() is not None:
            raise SetupError(f"{name} is not running; cannot send {signal.Signals(sig).name}")
        proc.popen.send_signal(sig)

    def wait_exit(self, name: str, timeout: float) -> int | None:
        try:
            return self.procs[name].popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, name: str, timeout: float = 20) -> None:
        proc = self.procs[name]
        if proc.popen is None or proc.popen.poll() is not None:
            return
        proc.popen.send_signal(signal.SIGTERM)
        try:
            proc.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            say(f"{name} did not stop within {timeout:.0f} s of SIGTERM; SIGKILL")
            proc.popen.kill()
            proc.popen.wait(10)

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            try:
                self.stop(name)
            except Exception as error:  # noqa: BLE001 - cleanup goes on
                print(f"stopping {name}: {error}", file=sys.stderr)

    def log_text(self, name: str) -> str:
        """The process's log, every start of it (restarts are marked in it)."""
        proc = self.procs[name]
        try:
            with open(proc.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def tail(self, name: str, lines: int = 25, width: int = 300) -> str:
        return "\n".join("    " + line[:width] for line in self.log_text(name).splitlines()[-lines:])


def http_get(url: str, timeout: float = 5) -> tuple[int | str, str]:
    """(status, body) of a GET, or (error kind, message)."""
    host, port, path = split_url(url)
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    except ConnectionRefusedError as error:
        return "refused", str(error)
    except (ConnectionError, OSError, http.client.HTTPException) as error:
        return type(error).__name__, str(error)
    finally:
        conn.close()


def split_url(url: str) -> tuple[str, int, str]:
    match = re.match(r"http://([^:/]+):(\d+)(/.*)?$", url)
    if not match:
        raise ValueError(f"not an http://host:port URL: {url}")
    return match.group(1), int(match.group(2)), match.group(3) or "/"


def run(cmd: list[str], env=None, what: str = "", user: str | None = None, check=True, **kw):
    if user:
        cmd = ["runuser", "-u", user, "--", *cmd]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, **kw)
    if check and result.returncode != 0:
        raise SetupError(f"{what or cmd[0]} failed ({result.returncode}): {' '.join(cmd)}\n{result.stdout}{result.stderr}")
    return result


# ---------------------------------------------------------------------------------------------
# PostgreSQL


class Postgres:
    """A private PostgreSQL instance: its own data directory and a free port; stopping and starting
    it touches nothing else."""

    def __init__(self, work: str, pg_bin: str, port: int, procs: Processes):
        self.dir = os.path.join(work, "pg")
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "sock")
        self.pg_bin = pg_bin
        self.port = port
        self.procs = procs
        # PostgreSQL refuses to run as root: then as `postgres` (Debian's server packages make it).
        self.user = None
        if os.geteuid() == 0:
            import pwd
            try:
                self.user = pwd.getpwnam("postgres").pw_name
            except KeyError:
                self.user = "nobody"
        psql = os.path.join(pg_bin, "psql")
        self.psql = psql if os.path.exists(psql) else shutil.which("psql")

    def url(self, db: str) -> str:
        return f"postgres://ggzhub@127.0.0.1:{self.port}/{db}"

    def init(self) -> None:
        os.makedirs(self.sock)
        if self.user:
            shutil.chown(self.dir, self.user)
            shutil.chown(self.sock, self.user)
            os.chmod(self.dir, 0o700)
        run([os.path.join(self.pg_bin, "initdb"), "-D", self.data, "-U", "ggzhub", "-A", "trust", "-E", "UTF8",
             "--no-sync"], what="initdb", user=self.user)
        with open(os.path.join(self.data, "postgresql.auto.conf"), "a") as conf:
            conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.sock}'\n"
                       "max_connections = 200\nlogging_collector = off\n")

    def start(self) -> None:
        log = os.path.join(self.dir, "postgres.log")
        cmd = [os.path.join(self.pg_bin, "pg_ctl"), "-D", self.data, "-l", log, "-w", "-t", "60", "start"]
        run(cmd, what="pg_ctl start", user=self.user, start_new_session=True)
        self.record_pid()

    def stop(self, mode: str = "fast") -> None:
        cmd = [os.path.join(self.pg_bin, "pg_ctl"), "-D", self.data, "-m", mode, "-w", "-t", "60", "stop"]
        run(cmd, what="pg_ctl stop", user=self.user)

    def record_pid(self) -> None:
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            pid = f.readline().strip()
        with open(os.path.join(self.procs.work, "pids"), "a") as pids:
            pids.write(f"{pid} postgres\n")

    def query(self, db: str, sql: str, timeout: float = 10) -> str:
        result = run([self.psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", "ggzhub", "-d", db, "-XAtq",
                      "-v", "ON_ERROR_STOP=1", "-c", sql], what="psql", timeout=timeout)
        return result.stdout.strip()

    def try_query(self, db: str, sql: str) -> str | None:
        try:
            return self.query(db, sql, timeout=3)
        except (SetupError, subprocess.TimeoutExpired):
            return None


# ---------------------------------------------------------------------------------------------
# The load


@dataclass
class Record:
    kind: str  # query | measure | offer | heavy
    t0: float
    marker: str | None = None
    target: str = "haproxy"
    t1: float | None = None
    status: int | None = None
    outcome: str = "pending"  # ok | partial | failed
    detail: str = ""
    served_by: str | None = None
    error_paths: list = field(default_factory=list)  # per error: its path, or None
    codes: list = field(default_factory=list)  # per error: extensions.code
    messages: list = field(default_factory=list)  # per error: message
    missing: list = field(default_factory=list)  # parts of a partial answer that are null

    @property
    def latency(self) -> float | None:
        return None if self.t1 is None else self.t1 - self.t0


def error_summary(errors: list) -> str:
    parts = []
    for e in errors[:3]:
        code = (e.get("extensions") or {}).get("code", "")
        path = "/".join(str(p) for p in e.get("path") or [])
        parts.append(f"{code} {path} {e.get('message', '')[:120]}".strip())
    return "; ".join(parts)


def classify_query(body: dict) -> tuple[str, str, list[str]]:
    """ok (every part there, no error), partial (data with errors), failed; and which parts of a
    partial answer are null."""
    data = body.get("data")
    errors = body.get("errors") or []
    if not isinstance(data, dict) or data.get("region") is None:
        return "failed", error_summary(errors) or "no data", []
    region = data["region"]
    nodes = ((region.get("offers") or {}).get("nodes")) or []
    missing = []
    if data.get("escalation") is None:
        missing.append("escalation")
    if any(n.get("contractCoverage") is None for n in nodes):
        missing.append("contractCoverage")
    if errors:
        return "partial", error_summary(errors), missing
    problems = []
    if region.get("name") != "Zeeland":
        problems.append("region name")
    if not nodes:
        problems.append("no offers")
    if any(not (n.get("provider") or {}).get("name") for n in nodes):
        problems.append("an offer without provider")
    escalation = data.get("escalation") or {}
    if escalation.get("id") != ZEELAND_ESCALATION or not (escalation.get("raisedBy") or {}).get("name"):
        problems.append("escalation")
    problems += [f"{m} null" for m in missing if m != "escalation"]
    if problems:
        return "failed", "incomplete answer without errors: " + ", ".join(problems), missing
    return "ok", "", []


UNAVAILABLE_CODES = {"SUBGRAPH_UNAVAILABLE", "DATABASE_UNAVAILABLE", "SERVICE_UNAVAILABLE", "OVERLOADED"}


def says_unavailable(r: Record) -> bool:
    """Whether a failed or partial answer tells the client the hub (or a part of it) is unavailable
    for now, rather than something that reads as a bug or says nothing."""
    if r.status == 503:
        return True
    if r.codes and all(c in UNAVAILABLE_CODES or "unavailable" in m or "cannot be read now" in m
                       for c, m in zip(r.codes, r.messages)):
        return True
    return False


def classify_heavy(body: dict) -> tuple[str, str, list]:
    data = body.get("data")
    errors = body.get("errors") or []
    if errors:
        return ("partial" if data else "failed"), error_summary(errors), []
    nodes = ((data or {}).get("regions") or {}).get("nodes") or []
    return ("ok", "", []) if len(nodes) > 10 else ("failed", f"{len(nodes)} regions", [])


def classify_mutation(body: dict, field_name: str) -> tuple[str, str, list]:
    data = body.get("data") or {}
    errors = body.get("errors") or []
    if errors or not (data.get(field_name) or {}).get("id"):
        return "failed", error_summary(errors) or "no id", []
    return "ok", "", []


class Client:
    """One keep-alive HTTP/1.1 connection per worker thread (as a client's connection pool)."""

    def __init__(self, timeout: float):
        self.local = threading.local()
        self.timeout = timeout

    def post(self, url: str, token: str, payload: dict) -> tuple[int, dict | None, str | None, str]:
        host, port, path = split_url(url)
        key = (host, port)
        conns = getattr(self.local, "conns", None)
        if conns is None:
            conns = self.local.conns = {}
        conn = conns.get(key)
        if conn is None:
            conn = conns[key] = http.client.HTTPConnection(host, port, timeout=self.timeout)
        body = json.dumps(payload).encode()
        headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
        try:
            conn.request("POST", path, body, headers)
            response = conn.getresponse()
            raw = response.read()
        except Exception:
            conn.close()
            conns.pop(key, None)
            raise
        served_by = response.getheader("x-served-by")
        if response.getheader("connection", "").lower() == "close":
            conn.close()
            conns.pop(key, None)
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        return response.status, parsed, served_by, raw[:200].decode("utf-8", "replace")


class Load:
    """A steady, open-loop load: requests are sent on a fixed schedule whatever the answers take
    (a slow hub does not slow the load down), each recorded with its outcome."""

    def __init__(self, url: str, tokens: dict[str, str], query_rps: float, mutation_rps: float, run_id: str,
                 timeout: float):
        self.url = url
        self.tokens = tokens
        self.query_rps = query_rps
        self.mutation_rps = mutation_rps
        self.run_id = run_id
        self.client = Client(timeout)
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=256, thread_name_prefix="load")
        self.records: list[Record] = []
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.mutations = 0
        self.late = 0  # sends more than 100 ms behind schedule (the driver itself overloaded)

    def start(self) -> None:
        self.thread = threading.Thread(target=self.schedule, name="scheduler", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread:
            self.thread.join(5)
        self.pool.shutdown(wait=True, cancel_futures=False)

    def schedule(self) -> None:
        q_period = 1 / self.query_rps if self.query_rps > 0 else math.inf
        m_period = 1 / self.mutation_rps if self.mutation_rps > 0 else math.inf
        next_q = time.monotonic()
        next_m = next_q + m_period / 2
        while not self.stop_event.is_set():
            t = time.monotonic()
            if t >= next_q:
                if t - next_q > 0.1:
                    self.late += 1
                self.submit("query")
                next_q += q_period
            if t >= next_m:
                if t - next_m > 0.1:
                    self.late += 1
                self.mutations += 1
                self.submit("measure" if self.mutations % 2 else "offer")
                next_m += m_period
            self.stop_event.wait(max(0.0, min(next_q, next_m) - time.monotonic()))

    def submit(self, kind: str, url: str | None = None, target: str = "haproxy") -> concurrent.futures.Future:
        record = Record(kind=kind, t0=now(), target=target)
        if kind in ("measure", "offer"):
            record.marker = f"faults {self.run_id} {kind} {uuid.uuid4().hex[:12]}"
        with self.lock:
            self.records.append(record)
        return self.pool.submit(self.send, record, url or self.url)

    def send(self, record: Record, url: str) -> Record:
        record.t0 = now()
        if record.kind == "query":
            token, payload = self.tokens["national"], {"query": QUERY, "operationName": "FaultsLoad"}
        elif record.kind == "heavy":
            token, payload = self.tokens["national"], {"query": HEAVY, "operationName": "FaultsHeavy"}
        elif record.kind == "measure":
            token = self.tokens["national"]
            payload = {"query": ADD_MEASURE, "operationName": "FaultsMeasure", "variables": {
                "escalation": UTRECHT_ESCALATION,
                "input": {"title": record.marker, "description": "Written by infra/faults/run.sh; counted.",
                          "ownerOrganisationId": KROMME_RIJN, "dueDate": "2027-06-30"}}}
        else:
            token = self.tokens["provider"]
            payload = {"query": CREATE_OFFER, "operationName": "FaultsOffer", "variables": {"input": {
                "category": "OUTREACH", "careForm": "FACT", "unitName": record.marker, "location": "Zeist",
                "availability": "OFFICE_HOURS", "regionCode": "utrecht"}}}
        try:
            status, body, served_by, raw = self.client.post(url, token, payload)
        except Exception as error:  # noqa: BLE001 - every failure is an outcome
            record.t1 = now()
            record.outcome = "failed"
            record.detail = f"{type(error).__name__}: {error}"[:200]
            return record
        record.t1 = now()
        record.status = status
        record.served_by = served_by
        if isinstance(body, dict):
            errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
            record.error_paths = [e.get("path") or None for e in errors]
            record.codes = [(e.get("extensions") or {}).get("code") for e in errors]
            record.messages = [str(e.get("message", "")) for e in errors]
        if body is None:
            record.outcome, record.detail = "failed", f"HTTP {status}, not JSON: {raw[:120]!r}"
        elif status != 200:
            record.outcome, record.detail = "failed", f"HTTP {status}: {error_summary(body.get('errors') or [])}"
        elif record.kind == "query":
            record.outcome, record.detail, record.missing = classify_query(body)
        elif record.kind == "heavy":
            record.outcome, record.detail, _ = classify_heavy(body)
        else:
            field_name = "addMeasure" if record.kind == "measure" else "createCareOffer"
            record.outcome, record.detail, _ = classify_mutation(body, field_name)
        return record

    def between(self, t0: float, t1: float, kinds=("query", "measure", "offer")) -> list[Record]:
        with self.lock:
            return [r for r in self.records if r.kind in kinds and t0 <= r.t0 < t1]

    def all(self) -> list[Record]:
        with self.lock:
            return list(self.records)

    def wait_settled(self, t1: float, timeout: float = 90) -> None:
        """Waits until every request sent before t1 has its answer."""
        deadline = time.monotonic() + timeout
        while any(r.t1 is None for r in self.between(0, t1, kinds=("query", "measure", "offer", "heavy"))):
            if time.monotonic() > deadline:
                raise SetupError(f"requests sent before {t1:.1f}s still unanswered after {timeout:.0f} s")
            time.sleep(0.1)


# ---------------------------------------------------------------------------------------------
# Observation: process resources, PostgreSQL connections, HAProxy's view of the replicas


def proc_status(pid: int) -> tuple[int | None, int | None]:
    """(VmRSS in kB, open file descriptors) of a process."""
    rss = fds = None
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return rss, fds


@dataclass
class Sample:
    t: float
    procs: dict[str, tuple[int, int, int]]  # name -> (pid, rss kB, fds)
    pg_connections: int | None  # backends connected to the hub's three databases
    pg_by_db: dict[str, int]


class Sampler:
    def __init__(self, procs: Processes, pg: Postgres, interval: float = 2.0):
        self.procs, self.pg, self.interval = procs, pg, interval
        self.samples: list[Sample] = []
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.loop, name="sampler", daemon=True)

    def loop(self) -> None:
        while not self.stop_event.is_set():
            self.take()
            self.stop_event.wait(self.interval)

    def take(self) -> Sample:
        procs = {}
        for name, pid in self.procs.running().items():
            rss, fds = proc_status(pid)
            if rss is not None and fds is not None:
                procs[name] = (pid, rss, fds)
        by_db: dict[str, int] = {}
        total = None
        out = self.pg.try_query("postgres", "select datname, count(*) from pg_stat_activity "
                                            "where datname like 'ggzhub_%' group by datname")
        if out is not None:
            total = 0
            for line in out.splitlines():
                db, n = line.split("|")
                by_db[db] = int(n)
                total += int(n)
        sample = Sample(now(), procs, total, by_db)
        with self.lock:
            self.samples.append(sample)
        return sample

    def between(self, t0: float, t1: float) -> list[Sample]:
        with self.lock:
            return [s for s in self.samples if t0 <= s.t <= t1]


class HaproxyWatch:
    """Polls HAProxy's statistics (CSV) and keeps each replica's state changes as HAProxy saw them."""

    def __init__(self, stats_url: str, servers: list[str]):
        self.url, self.servers = stats_url, servers
        self.state: dict[str, str] = {}
        self.changes: list[tuple[float, str, str]] = []
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.loop, name="haproxy-watch", daemon=True)

    def read(self) -> dict[str, str]:
        status, body = http_get(self.url, timeout=2)
        if status != 200:
            return {}
        lines = body.splitlines()
        header = lines[0].lstrip("# ").split(",")
        out = {}
        for line in lines[1:]:
            row = dict(zip(header, line.split(",")))
            if row.get("pxname") == "gateways" and row.get("svname") in self.servers:
                out[row["svname"]] = row.get("status", "?")
        return out

    def loop(self) -> None:
        while not self.stop_event.is_set():
            for name, status in self.read().items():
                if self.state.get(name) != status:
                    self.state[name] = status
                    self.changes.append((now(), name, status))
            self.stop_event.wait(0.1)

    def first(self, name: str, status_prefix: str, after: float) -> float | None:
        for t, n, status in list(self.changes):
            if n == name and t >= after and status.startswith(status_prefix):
                return t
        return None

    def wait(self, name: str, status_prefix: str, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while not self.state.get(name, "").startswith(status_prefix):
            if time.monotonic() > deadline:
                raise SetupError(f"HAProxy does not see {name} {status_prefix} within {timeout:.0f} s "
                                 f"(now {self.state.get(name)})")
            time.sleep(0.05)
        return now()


def scrape(url: str) -> dict[str, float]:
    """Prometheus text as {series: value}."""
    status, body = http_get(url, timeout=5)
    if status != 200:
        return {}
    out = {}
    for line in body.splitlines():
        if not line or line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        try:
            out[series] = float(value)
        except ValueError:
            pass
    return out


def metric_sum(metrics: dict[str, float], name: str, **labels: str) -> float:
    total = 0.0
    for series, value in metrics.items():
        if not series.startswith(name + "{") and series != name:
            continue
        if all(f'{k}="{v}"' in series for k, v in labels.items()):
            total += value
    return total


def log_events(text: str) -> list[dict]:
    events = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except ValueError:
                pass
    return events


def event_time(event: dict) -> float | None:
    """A JSON log line's timestamp on the driver's clock."""
    stamp = event.get("timestamp")
    if not isinstance(stamp, str):
        return None
    from datetime import datetime
    try:
        wall = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
    return wall - WALL0


# ---------------------------------------------------------------------------------------------
# Cases


@dataclass
class Check:
    what: str
    passed: bool
    evidence: str = ""


@dataclass
class CaseResult:
    name: str
    figures: list[tuple[str, str]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def figure(self, label: str, value) -> None:
        self.figures.append((label, str(value)))

    def check(self, what: str, passed: bool, evidence: str = "") -> None:
        self.checks.append(Check(what, bool(passed), evidence))

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    def print(self) -> None:
        width = max([len(label) for label, _ in self.figures] + [10])
        print()
        print(f"== {self.name}: {'PASSED' if self.passed else 'FAILED'}")
        print(f"  {'figure':<{width}}  value")
        print(f"  {'-' * width}  {'-' * 40}")
        for label, value in self.figures:
            print(f"  {label:<{width}}  {value}")
        for c in self.checks:
            print(f"  [{'ok' if c.passed else 'FAIL'}] {c.what}" + (f" — {c.evidence}" if c.evidence else ""))
        for n in self.notes:
            print(f"  note: {n}")
        sys.stdout.flush()


class Hub:
    def __init__(self, args):
        self.args = args
        self.work = args.work
        self.bin = args.bin
        for sub in ("logs", "keys", "idp", "data"):
            os.makedirs(os.path.join(self.work, sub), exist_ok=True)
        os.chmod(os.path.join(self.work, "keys"), 0o700)
        names = ["pg", "region", "national-table", "contracting", "gw1", "gw2", "gw1-metrics", "gw2-metrics",
                 "haproxy", "haproxy-stats", "region-metrics", "national-table-metrics", "contracting-metrics"]
        self.ports = dict(zip(names, free_ports(len(names))))
        self.procs = Processes(self.work)
        self.pg = Postgres(self.work, args.pg_bin, self.ports["pg"], self.procs)
        self.run_id = uuid.uuid4().hex[:8]
        self.tokens: dict[str, str] = {}
        self.load: Load | None = None
        self.sampler: Sampler | None = None
        self.watch: HaproxyWatch | None = None
        self.results: list[CaseResult] = []

    # -- setup

    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not (k.startswith(("GGZHUB_", "OTEL_")) or k.endswith("DATABASE_URL") or k == "RUST_LOG")}
        env["RUST_LOG"] = "info"
        env["GGZHUB_DATA_DIR"] = os.path.join(self.work, "data")
        return env

    def ggzhub(self, *args: str, what: str = "") -> str:
        return run([self.bin, *args], env=self.base_env(), what=what or f"ggzhub {args[0]}", cwd=self.work).stdout

    def url(self, name: str, path: str = "/graphql") -> str:
        return f"http://127.0.0.1:{self.ports[name]}{path}"

    def setup(self) -> None:
        say(f"work directory {self.work}; ggzhub {self.bin}")
        say(f"PostgreSQL: initdb and start on 127.0.0.1:{self.pg.port}")
        self.pg.init()
        self.pg.start()
        for db in DATABASES.values():
            self.pg.query("postgres", f"create database {db}")

        say("keys: the internal token key (openssl), the identity provider's key and its JWKS file")
        keys = os.path.join(self.work, "keys")
        self.internal_key = os.path.join(keys, "internal-token.pem")
        self.internal_pub = os.path.join(keys, "internal-token.pub.pem")
        run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", self.internal_key], what="openssl genpkey")
        run(["openssl", "pkey", "-in", self.internal_key, "-pubout", "-out", self.internal_pub], what="openssl pkey")
        idp = os.path.join(self.work, "idp")
        self.jwks = os.path.join(idp, "jwks.json")
        with open(self.jwks, "w") as f:
            f.write(self.ggzhub("token", "jwks", "--data-dir", idp))

        say("seed: ggzhub seed <service> --demo into each database (migrations first)")
        for service, db in DATABASES.items():
            out = self.ggzhub("--log-format", "json", "seed", service, "--demo", "--database-url", self.pg.url(db))
            say(f"  {service}: {out.strip().splitlines()[-1] if out.strip() else '(no output)'}")

        ttl = f"{int(self.args.estimated_secs + 3600)}s"
        for who, org in (("national", NATIONAL_TABLE), ("provider", KROMME_RIJN)):
            token = self.ggzhub("token", "issue", "--org", org, "--subject", f"faults-{who}", "--ttl", ttl,
                                "--data-dir", idp, "--database-url", self.pg.url(DATABASES["region"]),
                                what="ggzhub token issue").strip()
            if token.count(".") != 2:
                raise SetupError(f"ggzhub token issue printed no JWT: {token!r}")
            self.tokens[who] = token

        env = self.base_env()
        sub = {s: self.url(s) for s in SUBGRAPHS}
        common = ["--token-public-key", self.internal_pub, "--token-signing-key", self.internal_key,
                  "--max-connections", str(self.args.db_pool)]
        # Subgraphs with a metrics listener of their own (newer builds; default ports 9465-9467) get
        # a free port each, so that nothing else on the machine is in the way.
        metrics = "--metrics-listen" in run([self.bin, "serve", "region", "--help"], env=env).stdout

        def metrics_args(service: str) -> list[str]:
            return ["--metrics-listen", f"127.0.0.1:{self.ports[service + '-metrics']}"] if metrics else []

        self.procs.add("region", [self.bin, "--log-format", "json", "serve", "region", *metrics_args("region"),
                                  "--listen", f"127.0.0.1:{self.ports['region']}",
                                  "--database-url", self.pg.url(DATABASES["region"]),
                                  "--contracting-url", sub["contracting"], *common],
                       env, self.url("region", "/health/ready"))
        self.procs.add("national-table", [self.bin, "--log-format", "json", "serve", "national-table",
                                          *metrics_args("national-table"),
                                          "--listen", f"127.0.0.1:{self.ports['national-table']}",
                                          "--database-url", self.pg.url(DATABASES["national-table"]),
                                          "--region-url", sub["region"], *common],
                       env, self.url("national-table", "/health/ready"))
        self.procs.add("contracting", [self.bin, "--log-format", "json", "serve", "contracting",
                                       *metrics_args("contracting"),
                                       "--listen", f"127.0.0.1:{self.ports['contracting']}",
                                       "--database-url", self.pg.url(DATABASES["contracting"]),
                                       "--region-url", sub["region"], "--national-table-url", sub["national-table"],
                                       *common],
                       env, self.url("contracting", "/health/ready"))

        config = os.path.join(self.work, "gateway.toml")
        with open(config, "w") as f:
            f.write(f"""# Generated by infra/faults/faults.py; every other option at its default (gateway.toml).
[supergraph]
path = {json.dumps(os.path.join(self.args.repo, "schema", "supergraph.graphql"))}

[subgraphs.urls]
region = {json.dumps(sub["region"])}
national-table = {json.dumps(sub["national-table"])}
contracting = {json.dumps(sub["contracting"])}

[auth]
signing_key = {json.dumps(self.internal_key)}

# The organisations' identity provider: here the development provider's key, published as a
# JWKS file (`ggzhub token jwks`), as a provider whose keys are deployed with the gateway would be.
[[auth.issuers]]
issuer = {json.dumps(DEV_ISSUER)}
audiences = ["gateway"]
jwks_file = {json.dumps(self.jwks)}
""")
        for gw in ("gw1", "gw2"):
            self.procs.add(gw, [self.bin, "--log-format", "json", "serve", "gateway", "--config", config,
                                "--listen", f"127.0.0.1:{self.ports[gw]}",
                                "--metrics-listen", f"127.0.0.1:{self.ports[gw + '-metrics']}"],
                           env, self.url(gw, "/health/ready"))

        haproxy_cfg = os.path.join(self.work, "haproxy.cfg")
        with open(haproxy_cfg, "w") as f:
            f.write(f"""# Generated by infra/faults/faults.py: two gateway replicas, health-checked on /health/ready.
global
    maxconn 4000
    log stdout format raw local0 info

defaults
    mode http
    log global
    option httplog
    # A connection refused or not made is tried again, on the other replica (redispatch); a
    # request once sent is never sent again (retry-on conn-failure only: a mutation must not run
    # twice). The wait before a retry is the shorter of 1 s and timeout connect.
    retries 3
    option redispatch 1
    retry-on conn-failure
    timeout connect 500ms
    # Longer than the gateway's own request timeout (30 s): the gateway answers first.
    timeout client 120s
    timeout server 120s
    timeout http-keep-alive 120s

frontend hub
    bind 127.0.0.1:{self.ports['haproxy']}
    default_backend gateways
    # Which replica answered (also on HAProxy's own 502/503), for the figures.
    http-after-response set-header x-served-by %s

backend gateways
    balance roundrobin
    option httpchk GET /health/ready
    http-check expect status 200
    default-server inter 500ms fastinter 250ms downinter 500ms fall 2 rise 2
    server gw1 127.0.0.1:{self.ports['gw1']} check
    server gw2 127.0.0.1:{self.ports['gw2']} check

listen stats
    no log
    bind 127.0.0.1:{self.ports['haproxy-stats']}
    stats enable
    stats uri /stats
""")
        run(["haproxy", "-c", "-f", haproxy_cfg], what="haproxy -c")
        self.procs.add("haproxy", ["haproxy", "-db", "-f", haproxy_cfg], env)

        say("starting region, national-table, contracting, gw1, gw2, haproxy (separate processes)")
        for name in ("region", "national-table", "contracting", "gw1", "gw2", "haproxy"):
            self.procs.start(name)
        self.watch = HaproxyWatch(self.url("haproxy-stats", "/stats;csv"), ["gw1", "gw2"])
        self.watch.thread.start()
        self.watch.wait("gw1", "UP", 30)
        self.watch.wait("gw2", "UP", 30)

        self.load = Load(self.url("haproxy"), self.tokens, self.args.query_rps, self.args.mutation_rps, self.run_id,
                         timeout=self.args.client_timeout)
        # One request of each kind before the load starts: a setup problem shows here, plainly.
        for kind in ("query", "measure", "offer"):
            record = Record(kind=kind, t0=now(), marker=f"faults {self.run_id} setup {kind}")
            self.load.send(record, self.url("haproxy"))
            if record.outcome != "ok":
                raise SetupError(f"the first {kind} through HAProxy did not succeed: {record.detail}")
        say("one query and each mutation answered through HAProxy")

        self.sampler = Sampler(self.procs, self.pg, interval=self.args.sample_secs)
        self.sampler.thread.start()
        self.load.start()
        say(f"steady load started: {self.args.query_rps}/s queries, {self.args.mutation_rps}/s mutations "
            f"(addMeasure, createCareOffer alternately) through HAProxy")

    def write_data(self) -> None:
        """Every request and every resource sample of the run as CSV (kept with --keep-logs)."""
        import csv
        if self.load:
            with open(os.path.join(self.work, "logs", "requests.csv"), "w", newline="") as f:
                out = csv.writer(f)
                out.writerow(["t_sent", "t_answered", "kind", "target", "status", "outcome", "served_by", "detail"])
                for r in self.load.all():
                    out.writerow([f"{r.t0:.3f}", "" if r.t1 is None else f"{r.t1:.3f}", r.kind, r.target,
                                  r.status or "", r.outcome, r.served_by or "", r.detail])
        if not self.sampler:
            return
        with open(os.path.join(self.work, "logs", "samples.csv"), "w") as f:
            f.write("t_secs,process,pid,rss_kb,fds,pg_connections\n")
            for sample in self.sampler.between(0, math.inf):
                for name, (pid, rss, fds) in sorted(sample.procs.items()):
                    f.write(f"{sample.t:.1f},{name},{pid},{rss},{fds},"
                            f"{'' if sample.pg_connections is None else sample.pg_connections}\n")

    def shutdown(self) -> None:
        if self.load:
            self.load.stop_event.set()
        if self.sampler:
            self.sampler.stop_event.set()
            try:
                self.write_data()
            except OSError as error:
                print(f"writing requests.csv and samples.csv: {error}", file=sys.stderr)
        if self.watch:
            self.watch.stop_event.set()
        self.procs.stop_all()
        try:
            if os.path.exists(os.path.join(self.pg.data, "postmaster.pid")):
                self.pg.stop("fast")
        except Exception as error:  # noqa: BLE001
            print(f"stopping PostgreSQL: {error}", file=sys.stderr)

    # -- helpers for the cases

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def window_figures(self, result: CaseResult, t_start: float, t_fault: float, t_recovered: float,
                       t_end: float, labels=("before", "during", "after")) -> list[Record]:
        """The common figures: requests sent/ok/partial/failed over the case, the failure window,
        p95 before, during and after."""
        self.load.wait_settled(t_end)
        records = self.load.between(t_start, t_end)
        ok = [r for r in records if r.outcome == "ok"]
        partial = [r for r in records if r.outcome == "partial"]
        failed = [r for r in records if r.outcome == "failed"]
        result.figure("requests sent (queries + mutations)",
                      f"{len(records)} ({sum(r.kind == 'query' for r in records)} + "
                      f"{sum(r.kind != 'query' for r in records)})")
        result.figure("ok / partial / failed", f"{len(ok)} / {len(partial)} / {len(failed)}")
        bad = partial + failed
        if bad:
            first = min(r.t0 for r in bad)
            last = max(r.t1 for r in bad)
            result.figure("failure window (first bad sent → last bad answered)",
                          f"{last - first:.2f} s ({first - t_fault:+.2f} s → {last - t_fault:+.2f} s from the fault)")
        else:
            result.figure("failure window", "none (0 partial, 0 failed)")
        for i, r in enumerate(sorted(failed, key=lambda r: r.t0)[:5]):
            result.figure(f"failed #{i + 1}", f"{r.kind} sent {r.t0 - t_fault:+.3f} s, answered "
                                              f"{r.t1 - t_fault:+.3f} s, via {r.served_by}: {r.detail[:110]}")

        def p95(t0, t1):
            lat = [r.latency for r in self.load.between(t0, t1, kinds=("query",)) if r.latency is not None]
            return f"{ms(percentile(lat, 95))} (n={len(lat)})"

        for label, (t0, t1) in zip(labels, ((t_start, t_fault), (t_fault, t_recovered), (t_recovered, t_end))):
            if label:
                result.figure(f"query p95 {label}", p95(t0, t1))
        return records

    def resources(self, result: CaseResult, t0: float, t1: float) -> None:
        samples = self.sampler.between(t0, t1)
        if not samples:
            return
        start, end = samples[0], samples[-1]
        for name in end.procs:
            if name in start.procs and start.procs[name][0] == end.procs[name][0]:
                _, rss0, fd0 = start.procs[name]
                _, rss1, fd1 = end.procs[name]
                result.figure(f"{name}: RSS start → end, fds", f"{rss0 / 1024:.1f} → {rss1 / 1024:.1f} MB, {fd0} → {fd1}")
            else:
                _, rss1, fd1 = end.procs[name]
                result.figure(f"{name}: RSS end, fds (restarted in the case)", f"{rss1 / 1024:.1f} MB, {fd1}")
        result.figure("PostgreSQL connections start → end (max)",
                      f"{start.pg_connections} → {end.pg_connections} "
                      f"(max {max((s.pg_connections or 0) for s in samples)})")

    def ensure_healthy(self, what: str, seconds: float = 5, timeout: float = 60) -> None:
        """Waits until every query of the last `seconds` is a full answer; a hub that does not get
        there makes the run fail loudly rather than run the next case on a broken hub."""
        deadline = time.monotonic() + timeout
        while True:
            t = now()
            self.load.wait_settled(t - 0.5)
            recent = self.load.between(t - seconds, t - 0.5, kinds=("query",))
            if recent and all(r.outcome == "ok" for r in recent):
                return
            if time.monotonic() > deadline:
                bad = [r for r in recent if r.outcome != "ok"][:3]
                raise SetupError(f"{what}: the hub does not give full answers ({len(recent)} recent queries; "
                                 f"e.g. {[r.detail for r in bad]})")
            time.sleep(0.5)

    def heavy(self, n: int, url: str, target: str) -> list[concurrent.futures.Future]:
        return [self.load.submit("heavy", url=url, target=target) for _ in range(n)]

    def hold(self, n: int, url: str, target: str) -> tuple[list[concurrent.futures.Future], float, float]:
        """Sends n heavy queries for a replica to hold when it is stopped, and returns once they
        are in execution there but not answered: lone heavy queries first measure how long one
        takes on this machine, the n are sent together, and the wait after they have left is a
        third of that, between 0.01 s (time to reach the replica) and 0.15 s (the fixed wait this
        replaced, which a fast machine outran: every held query was answered before the signal).
        Returns the futures, the lone query's time and the wait."""
        # Two lone queries, the faster counting: the first may still pay for planning the query.
        times = []
        for _ in range(2):
            probe = self.heavy(1, url, target)[0].result(timeout=60)
            if probe.outcome == "ok" and probe.t1 is not None:
                times.append(probe.t1 - probe.t0)
        alone = min(times, default=0.45)
        held = self.heavy(n, url, target)
        deadline = now() + 1
        while now() < deadline and not all(f.running() or f.done() for f in held):
            time.sleep(0.001)
        wait = min(0.15, max(0.01, alone / 3))
        self.sleep(wait)
        return held, alone, wait

    def log_lines_since(self, name: str, t: float, pattern: str) -> list[tuple[float | None, dict]]:
        out = []
        for event in log_events(self.procs.log_text(name)):
            when = event_time(event)
            if when is not None and when < t - 1:
                continue
            if re.search(pattern, json.dumps(event)):
                out.append((when, event))
        return out

    # -- the cases

    def case_sigterm(self) -> CaseResult:
        a = self.args
        result = CaseResult("SIGTERM to a gateway replica (gw1)")
        t_start = now()
        self.sleep(a.before_secs)
        # Requests that gw1 holds when the signal comes: heavy queries sent straight to it.
        held, alone, wait = self.hold(a.held, self.url("gw1"), "gw1")
        in_flight = sum(1 for f in held if not f.done())
        t_fault = now()
        self.procs.signal("gw1", signal.SIGTERM)
        # gw1's readiness and whether it takes new connections, every 20 ms until it exits.
        probes: list[tuple[float, str]] = []
        code = None
        while code is None:
            status, _ = http_get(self.url("gw1", "/health/ready"), timeout=1)
            probes.append((now(), str(status)))
            code = self.procs.procs["gw1"].popen.poll()
            if now() - t_fault > 60:
                break
            time.sleep(0.02)
        t_exit = now() if code is not None else None
        held_records = [f.result(timeout=60) for f in held]
        self.sleep(a.one_replica_secs)
        t_down = self.watch.first("gw1", "DOWN", t_fault)
        self.procs.start("gw1")
        t_recovered = self.watch.wait("gw1", "UP", 30)
        self.sleep(a.after_secs)
        t_end = now()
        records = self.window_figures(result, t_start, t_fault, t_recovered, t_end)

        held_ok = [r for r in held_records if r.outcome == "ok"]
        last_held = max((r.t1 for r in held_records), default=None)
        result.figure("requests gw1 held at SIGTERM (heavy, sent to it directly)",
                      f"{in_flight} in flight of {len(held)}; {len(held_ok)} answered in full, last "
                      f"{secs(last_held - t_fault) if last_held else '–'} after SIGTERM")
        result.figure("signal sent after the held queries left", f"{wait * 1000:.0f} ms (a lone one took {alone * 1000:.0f} ms)")
        result.figure("gw1 exit after SIGTERM", f"status {code}, after {secs(t_exit - t_fault) if t_exit else 'not within 60 s'}")
        seen = sorted({s for _, s in probes})
        ready_503 = [t for t, s in probes if s == "503"]
        first_refused = next((t for t, s in probes if s == "refused"), None)
        result.figure("gw1 /health/ready during the drain", ", ".join(
            f"{s} ×{sum(1 for _, x in probes if x == s)}" for s in seen))
        result.figure("HAProxy marks gw1 DOWN", secs(t_down - t_fault) + " after SIGTERM" if t_down else "not seen")
        result.figure("gw1 back UP in HAProxy", f"{secs(t_recovered - t_fault)} after SIGTERM")
        failed = [r for r in records if r.outcome != "ok"]
        result.check("0 failed requests through HAProxy", not failed,
                     "; ".join(f"{r.kind} at {r.t0 - t_fault:+.2f}s via {r.served_by}: {r.detail}" for r in failed[:5]))
        result.check("gw1 held requests when the signal came", in_flight > 0, f"{in_flight} of {len(held)}")
        result.check("the requests gw1 held were finished (answered in full)", len(held_ok) == len(held),
                     "; ".join(r.detail for r in held_records if r.outcome != "ok")[:300])
        result.check("gw1 exited 0 after finishing them", code == 0 and (last_held is None or t_exit >= last_held - 0.05),
                     f"exit {code} at {secs(t_exit - t_fault) if t_exit else '–'}, last held answer at "
                     f"{secs(last_held - t_fault) if last_held else '–'}")
        # From 100 ms after the signal (the time to handle it) on, no new connection is served.
        served = [(t, s) for t, s in probes if t > t_fault + 0.1 and s not in ("refused", "503", "ConnectionResetError")]
        result.check("gw1 took no new connection after SIGTERM (refused while it drained, then it exited)",
                     not served, f"first refusal {secs(first_refused - t_fault) if first_refused else '–'} after "
                     f"SIGTERM; answered after it: {served[:3]}")
        if not ready_503:
            result.notes.append(
                "gw1 never answered /health/ready with 503 while draining: it stops accepting connections at "
                "once (axum's graceful shutdown closes the listener) and HAProxy learns of it from refused "
                "connections (retried on gw2) and then from failed health checks.")
        drain_logged = self.log_lines_since("gw1", t_fault, "draining in-flight requests")
        result.figure("gw1 logged 'draining in-flight requests'", "yes" if drain_logged else "no")
        self.resources(result, t_start, t_end)
        return result

    def case_sigkill(self) -> CaseResult:
        a = self.args
        result = CaseResult("SIGKILL to a gateway replica (gw2)")
        t_start = now()
        self.sleep(a.before_secs)
        held, alone, wait = self.hold(a.held, self.url("haproxy"), "haproxy")
        t_fault = now()
        self.procs.signal("gw2", signal.SIGKILL)
        code = self.procs.wait_exit("gw2", 10)
        # Until the process is gone its sockets still take connections and requests (the kernel
        # accepts them), so a request sent between the signal and the exit is one gw2 held too.
        t_exit = now()
        held_records = [f.result(timeout=60) for f in held]
        self.sleep(a.one_replica_secs)
        t_down = self.watch.first("gw2", "DOWN", t_fault)
        self.procs.start("gw2")
        t_recovered = self.watch.wait("gw2", "UP", 30)
        self.sleep(a.after_secs)
        t_end = now()
        records = self.window_figures(result, t_start, t_fault, t_recovered, t_end)
        in_flight_at_kill = [r for r in records + held_records if r.t0 <= t_fault and (r.t1 or 0) >= t_fault]
        bad = [r for r in records + held_records if r.outcome != "ok"]
        # A request gw2 held: sent before its exit was seen (at least 5 ms after the signal),
        # answered after the kill, and (when HAProxy says) routed to gw2.
        held_by_gw2 = [r for r in bad if r.t0 <= max(t_fault + 0.005, t_exit) and r.served_by in ("gw2", None)]
        others = [r for r in bad if r not in held_by_gw2]
        result.figure("gw2 exit", f"{code} (SIGKILL), seen {(t_exit - t_fault) * 1000:.1f} ms after the signal")
        result.figure("requests in flight through HAProxy at the kill", len(in_flight_at_kill))
        result.figure("failed: held by gw2 / any other", f"{len(held_by_gw2)} / {len(others)}")
        result.figure("kill sent after the held queries left", f"{wait * 1000:.0f} ms (a lone one took {alone * 1000:.0f} ms)")
        result.figure("heavy queries sent just before the kill",
                      f"{len(held_records)}: " + ", ".join(f"{r.served_by}:{r.outcome}" for r in held_records))
        for r in held_records:
            if r.outcome != "ok":
                result.figure("a failed heavy query", f"via {r.served_by}: {r.detail[:120]}")
                break
        result.figure("HAProxy marks gw2 DOWN", secs(t_down - t_fault) + " after SIGKILL" if t_down else "not seen")
        after_kill_ok = [r for r in records if r.t0 > t_fault and r.outcome == "ok"]
        result.figure("answered in full after the kill, before gw2 was back",
                      sum(1 for r in after_kill_ok if r.t0 < t_recovered))
        result.check("only requests gw2 held at the kill failed", not others,
                     "; ".join(f"{r.kind} at {r.t0 - t_fault:+.3f}s via {r.served_by}: {r.detail}" for r in others[:5]))
        result.check("gw2 held requests when it was killed (some failed)",
                     len(held_by_gw2) > 0 or not any(r.served_by == "gw2" for r in held_records),
                     f"{len(held_by_gw2)} failed")
        result.check("the rest continued on gw1", all(r.served_by == "gw1" for r in after_kill_ok
                                                     if r.t0 < t_recovered - 1) and len(after_kill_ok) > 0)
        self.resources(result, t_start, t_end)
        return result

    def wait_full(self, since: float, limit: float) -> float | None:
        """The moment from which every query sent is answered in full (3 s of them in a row), or
        None when that does not happen within `limit` seconds of `since`."""
        deadline = since + limit
        while now() < deadline:
            self.sleep(0.5)
            self.load.wait_settled(now() - 1)
            queries = self.load.between(since, now() - 1, kinds=("query",))
            bad = [r for r in queries if r.outcome != "ok"]
            full_after = max((r.t0 for r in bad), default=since)
            if any(r.t0 > full_after for r in queries) and now() - 1 - full_after > 3:
                return full_after
        return None

    def case_subgraph(self, name: str) -> CaseResult:
        a = self.args
        # What the steady query loses without this subgraph (see QUERY).
        part = {"national-table": "escalation", "contracting": "contractCoverage"}[name]
        result = CaseResult(f"subgraph {name} killed (SIGKILL) and restarted after {a.subgraph_down_secs:.0f} s")
        t_start = now()
        self.sleep(a.before_secs)
        gateways = ("gw1", "gw2")
        before = {gw: scrape(self.url(gw + "-metrics", "/metrics")) for gw in gateways}
        t_fault = now()
        self.procs.signal(name, signal.SIGKILL)
        self.procs.wait_exit(name, 10)
        self.sleep(a.subgraph_down_secs)
        during = {gw: scrape(self.url(gw + "-metrics", "/metrics")) for gw in gateways}
        t_restart = now()
        self.procs.start(name)
        t_ready = now()
        t_full = self.wait_full(t_ready, a.recovery_limit_secs + 15)
        t_recovered = t_full if t_full is not None else now()
        self.sleep(a.after_secs)
        t_end = now()
        after = {gw: scrape(self.url(gw + "-metrics", "/metrics")) for gw in gateways}
        records = self.window_figures(result, t_start, t_fault, t_recovered, t_end)

        down = [r for r in records if t_fault + 0.5 <= r.t0 < t_restart]
        down_q = [r for r in down if r.kind == "query"]
        partial = [r for r in down_q if r.outcome == "partial"]
        failed_q = [r for r in down_q if r.outcome == "failed"]
        right_part = [r for r in partial if r.missing == [part]]
        errors = [(path, code, msg) for r in partial for path, code, msg in zip(r.error_paths, r.codes, r.messages)]
        pathless = [e for e in errors if e[0] is None]
        result.figure("queries while it was down: full / partial / failed",
                      f"{sum(r.outcome == 'ok' for r in down_q)} / {len(partial)} / {len(failed_q)}")
        result.figure("partial answers with only its part null",
                      f"{len(right_part)} of {len(partial)} (null: {part}; region, offers, providers there)")
        result.figure("errors in the partial answers: with a path / without",
                      f"{len(errors) - len(pathless)} / {len(pathless)}")
        paths = sorted({"/".join(str(p) for p in e[0]) for e in errors if e[0]})
        result.figure("their paths", ", ".join(paths[:4]) + (" …" if len(paths) > 4 else "") if paths else "–")
        result.figure("their codes", ", ".join(sorted({str(e[1]) for e in errors})) or "–")
        if errors:
            result.figure("a partial answer's error", f"{errors[0][1]}: {errors[0][2][:120]}")
        muts = [r for r in down if r.kind != "query"]
        result.figure("mutations while it was down: ok / failed",
                      f"{sum(r.outcome == 'ok' for r in muts)} / {sum(r.outcome == 'failed' for r in muts)} "
                      f"(addMeasure is national-table's, createCareOffer region's)")
        down_lat = [r.latency for r in down_q if r.latency is not None]
        result.figure("query latency while down: p95 / max",
                      f"{ms(percentile(down_lat, 95))} / {ms(max(down_lat, default=None))}")

        def refused(metrics: dict) -> float:
            return metric_sum(metrics, "ggzhub_subgraph_request_duration_seconds_count",
                              subgraph_name=name, ggzhub_outcome="circuit_open")

        breaker_ok = []
        for gw in gateways:
            outcomes = sorted({m.group(1) for series in during[gw]
                               if series.startswith("ggzhub_subgraph_request_duration_seconds_count")
                               and f'subgraph_name="{name}"' in series
                               for m in [re.search(r'ggzhub_outcome="([^"]+)"', series)] if m})
            opened = [t for t, _ in self.log_lines_since(gw, t_fault, "circuit breaker opened")
                      if t is not None and t < t_restart]
            closed = [t for t, _ in self.log_lines_since(gw, t_restart, "circuit breaker closed")
                      if t is not None and t >= t_restart - 1]
            while_down, since_return = refused(during[gw]) - refused(before[gw]), refused(after[gw]) - refused(during[gw])
            result.figure(f"{gw}: fetches refused circuit_open while down / after its restart (metrics)",
                          f"{while_down:.0f} / {since_return:.0f} (outcomes while down: {', '.join(outcomes)})")
            result.figure(f"{gw}: log 'circuit breaker opened' / 'closed'",
                          f"{len(opened)}× (first {secs(opened[0] - t_fault) if opened else '–'} after the kill) / "
                          f"{len(closed)}× ({secs(closed[0] - t_ready) if closed else '–'} after its return)")
            breaker_ok.append(f"{gw}: opened {'yes' if while_down > 0 and opened else 'no'}, "
                              f"closed {'yes' if closed else 'no'}")
        result.figure("subgraph ready again", f"{secs(t_ready - t_restart)} after its restart")
        ttf = None if t_full is None else max(0.0, t_full - t_ready)
        result.figure("time to full answers (from its return)", secs(ttf) if ttf is not None else "not within the wait")
        result.check("partial data while it was down: its part null, the rest there, no query failed outright",
                     len(partial) > 0 and not failed_q and len(right_part) == len(partial),
                     f"{len(failed_q)} failed, {len(partial) - len(right_part)} with other parts null"
                     + (f"; e.g. {failed_q[0].detail}" if failed_q else ""))
        result.check("with errors at paths: each error names the path of the field it leaves null "
                     "(GraphQL spec, Response › Errors)", errors and not pathless,
                     f"{len(pathless)} of {len(errors)} errors without a path"
                     + (f", e.g. {pathless[0][1]}: {pathless[0][2][:90]}" if pathless else ""))
        result.check("each gateway's circuit breaker opened (metrics circuit_open and log) and closed after "
                     "the return (log)", all("opened yes" in b and "closed yes" in b for b in breaker_ok),
                     "; ".join(breaker_ok))
        result.check(f"full answers within {a.recovery_limit_secs:.0f} s of its return",
                     ttf is not None and ttf <= a.recovery_limit_secs, secs(ttf))
        self.resources(result, t_start, t_end)
        return result

    def case_postgres(self) -> CaseResult:
        a = self.args
        result = CaseResult(f"PostgreSQL restarted (fast shutdown, down {a.pg_down_secs:.0f} s)")
        t_start = now()
        pids = self.procs.running()
        self.sleep(a.before_secs)
        t_fault = now()
        self.pg.stop("fast")
        t_stopped = now()
        # Each service's readiness halfway through the outage (asked at once: each may take a while).
        ready_during: dict[str, str] = {}

        def ask(service: str) -> None:
            t = now()
            status = http_get(self.url(service, "/health/ready"), timeout=30)[0]
            ready_during[service] = f"{status} in {secs(now() - t)}"

        self.sleep(a.pg_down_secs / 2)
        askers = [threading.Thread(target=ask, args=(svc,)) for svc in SUBGRAPHS + ("gw1",)]
        for t in askers:
            t.start()
        self.sleep(max(0.0, a.pg_down_secs - (now() - t_stopped)))
        t_restart = now()
        self.pg.start()
        t_pg_up = now()
        for t in askers:
            t.join(30)
        # Every service on its own again: readiness 200 and full answers.
        ready_again = {}
        deadline = t_pg_up + 60
        for s in SUBGRAPHS:
            while now() < deadline:
                if http_get(self.url(s, "/health/ready"), timeout=5)[0] == 200:
                    ready_again[s] = now() - t_pg_up
                    break
                self.sleep(0.1)
        t_full = self.wait_full(t_pg_up, 60)
        t_recovered = t_full if t_full is not None else now()
        self.sleep(a.after_secs)
        t_end = now()
        records = self.window_figures(result, t_start, t_fault, t_recovered, t_end)
        down = [r for r in records if t_stopped <= r.t0 < t_restart]
        down_failed = [r for r in down if r.outcome != "ok"]
        lat = [r.latency for r in down if r.latency is not None]
        result.figure("pg_ctl stop -m fast took", secs(t_stopped - t_fault))
        result.figure("requests sent while it was down: ok / partial / failed",
                      f"{sum(r.outcome == 'ok' for r in down)} / {sum(r.outcome == 'partial' for r in down)} / "
                      f"{sum(r.outcome == 'failed' for r in down)}")
        result.figure("answer time while down: p50 / p95 / max",
                      f"{ms(percentile(lat, 50))} / {ms(percentile(lat, 95))} / {ms(max(lat, default=None))}")
        errors: dict[str, int] = {}
        for r in down_failed:
            key = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "<id>", r.detail)[:150]
            errors[key] = errors.get(key, 0) + 1
        for i, (detail, n) in enumerate(sorted(errors.items(), key=lambda kv: -kv[1])[:4]):
            result.figure(f"error while down #{i + 1} (×{n})", detail)
        result.figure("/health/ready while down", ", ".join(f"{k} {v}" for k, v in ready_during.items()))
        result.figure("ready again after PostgreSQL was back",
                      ", ".join(f"{k} {secs(v)}" for k, v in ready_again.items()) or "none")
        ttf = None if t_full is None else max(0.0, t_full - t_pg_up)
        result.figure("time to full answers (from PostgreSQL's return)", secs(ttf) if ttf is not None else "not within 60 s")
        slow = [r for r in down if r.latency is not None and r.latency > a.fail_fast_secs]
        result.check(f"requests fail fast while it is down (each answered within {a.fail_fast_secs:.0f} s; "
                     "the request timeout is 30 s)", bool(down) and not slow,
                     f"{len(slow)} of {len(down)} slower, max {ms(max(lat, default=None))}")
        statuses: dict[str, int] = {}
        for r in down_failed:
            key = f"HTTP {r.status}" + (f" {r.codes[0]}" if r.codes else "") if r.status else r.detail.split(":")[0]
            statuses[key] = statuses.get(key, 0) + 1
        result.figure("failed or partial while down, by status and first code",
                      ", ".join(f"{k} ×{n}" for k, n in sorted(statuses.items(), key=lambda kv: -kv[1])))
        unclear = [r for r in down_failed if not says_unavailable(r)]
        result.check("with a clear error: each failed answer says the hub (or a part) is unavailable, for now "
                     "(HTTP 503, SUBGRAPH_UNAVAILABLE, DATABASE_UNAVAILABLE, OVERLOADED, or a message saying so), not INTERNAL",
                     not unclear, f"{len(unclear)} of {len(down_failed)} unclear"
                     + (f", e.g. HTTP {unclear[0].status}: {unclear[0].detail[:110]}" if unclear else "")
                     + (f"; by codes: {collections.Counter(tuple(r.codes) for r in unclear).most_common(3)}" if unclear else ""))
        result.check("every service reconnected on its own (readiness 200, same processes)",
                     len(ready_again) == len(SUBGRAPHS) and self.procs.running() == pids,
                     f"pids before {pids}, after {self.procs.running()}")
        result.check(f"full answers within {a.recovery_limit_secs:.0f} s of its return",
                     ttf is not None and ttf <= a.recovery_limit_secs, secs(ttf))
        self.writes(result, upto=t_end)
        self.resources(result, t_start, t_end)
        return result

    def writes(self, result: CaseResult, upto: float) -> bool:
        """Every acknowledged mutation's row is in its database exactly once; none is there twice;
        unacknowledged ones are counted (applied or not: the client cannot know)."""
        self.load.wait_settled(upto)
        rows: dict[str, int] = {}
        for db, sql in (("ggzhub_national_table", "select title, count(*) from measures where title like '{p}%' group by title"),
                        ("ggzhub_region", "select unit_name, count(*) from care_offers where unit_name like '{p}%' group by unit_name")):
            out = self.pg.query(db, sql.format(p=f"faults {self.run_id} "))
            for line in out.splitlines():
                marker, n = line.rsplit("|", 1)
                rows[marker] = int(n)
        everything = [r for r in self.load.all() if r.kind in ("measure", "offer")]
        muts = [r for r in everything if r.t0 < upto]
        acked = [r for r in muts if r.outcome == "ok"]
        unacked = [r for r in muts if r.outcome != "ok"]
        lost = [r for r in acked if rows.get(r.marker, 0) == 0]
        twice = {m: n for m, n in rows.items() if n > 1}
        known = {r.marker for r in everything}
        strangers = [m for m in rows if m not in known and " setup " not in m]
        applied_unacked = [r for r in unacked if rows.get(r.marker, 0) >= 1]
        result.figure("mutations acknowledged / rows found for them",
                      f"{len(acked)} / {sum(1 for r in acked if rows.get(r.marker, 0) >= 1)}")
        result.figure("mutations not acknowledged: applied / not applied",
                      f"{len(applied_unacked)} / {len(unacked) - len(applied_unacked)}")
        result.figure("rows in the databases (measures + care offers)", sum(rows.values()))
        ok = not lost and not twice and not strangers
        result.check("no acknowledged write lost, none applied twice", ok,
                     f"lost {len(lost)}, twice {len(twice)}, unknown rows {len(strangers)}")
        return ok

    def case_soak(self) -> CaseResult:
        a = self.args
        result = CaseResult(f"soak: {a.soak_secs:.0f} s at {a.query_rps}/s queries + {a.mutation_rps}/s mutations")
        t_start = now()
        warmup = min(a.soak_warmup_secs, a.soak_secs / 4)
        self.sleep(a.soak_secs)
        t_end = now()
        records = self.window_figures(result, t_start, t_start + warmup, t_end, t_end,
                                      labels=("in the warm-up", "after the warm-up", None))
        failed = [r for r in records if r.outcome != "ok"]
        lat = [r.latency for r in records if r.kind == "query" and r.latency is not None]
        result.figure("query p50 / p95 / p99 over the soak",
                      f"{ms(percentile(lat, 50))} / {ms(percentile(lat, 95))} / {ms(percentile(lat, 99))}")
        result.figure("warm-up excluded from the resource figures", secs(warmup))
        samples = self.sampler.between(t_start + warmup, t_end)
        if len(samples) < 4:
            result.check("enough resource samples", False, f"{len(samples)} samples")
            return result
        tail = max(1, len(samples) // 10)
        first, last = samples[:tail], samples[-tail:]
        grew = []
        for name in sorted(samples[-1].procs):
            pids = {s.procs[name][0] for s in samples if name in s.procs}
            if len(pids) != 1:
                result.check(f"{name} ran through the soak", False, f"pids {pids}")
                continue
            rss0 = sum(s.procs[name][1] for s in first if name in s.procs) / len(first)
            rss1 = sum(s.procs[name][1] for s in last if name in s.procs) / len(last)
            peak = max(s.procs[name][1] for s in samples if name in s.procs)
            fd0 = max(s.procs[name][2] for s in first if name in s.procs)
            fd1 = max(s.procs[name][2] for s in last if name in s.procs)
            growth = (rss1 - rss0) / rss0 * 100
            result.figure(f"{name}: RSS after warm-up → end (peak), fds",
                          f"{rss0 / 1024:.1f} → {rss1 / 1024:.1f} MB ({growth:+.1f} %, peak {peak / 1024:.1f}), "
                          f"{fd0} → {fd1}")
            # The shape in between: RSS at each fifth of the soak after the warm-up.
            points = [samples[min(len(samples) - 1, round(i * (len(samples) - 1) / 5))] for i in range(6)]
            result.figure(f"{name}: RSS at each fifth (MB)", " → ".join(
                f"{p.procs[name][1] / 1024:.1f}" for p in points if name in p.procs))
            if growth > a.rss_growth_percent:
                grew.append(f"{name} RSS {growth:+.1f} %")
            if fd1 > fd0 + a.fd_slack:
                grew.append(f"{name} fds {fd0} → {fd1}")
        conn0 = max((s.pg_connections or 0) for s in first)
        conn1 = max((s.pg_connections or 0) for s in last)
        conn_max = max((s.pg_connections or 0) for s in samples)
        result.figure("PostgreSQL connections after warm-up → end (max)", f"{conn0} → {conn1} (max {conn_max})")
        if conn1 > conn0 + a.conn_slack:
            grew.append(f"PostgreSQL connections {conn0} → {conn1}")
        result.figure("samples", f"{len(samples)}, every {a.sample_secs:.0f} s (the run's in logs/samples.csv with --keep-logs)")
        result.check("0 failed requests", not failed, "; ".join(r.detail for r in failed[:3]))
        result.check(f"RSS flat (≤ {a.rss_growth_percent:.0f} % after warm-up), no fd or connection growth "
                     f"(slack {a.fd_slack} fds, {a.conn_slack} connections)", not grew, "; ".join(grew))
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", required=True, help="an empty work directory (run.sh makes and removes it)")
    parser.add_argument("--bin", required=True, help="the ggzhub binary")
    parser.add_argument("--pg-bin", required=True, help="PostgreSQL's server binaries")
    parser.add_argument("--repo", required=True, help="the repository (for schema/supergraph.graphql)")
    parser.add_argument("--soak-secs", type=float, default=600, help="length of the soak (default 600)")
    parser.add_argument("--soak-warmup-secs", type=float, default=60,
                        help="start of the soak left out of the resource figures (at most a quarter of it)")
    parser.add_argument("--query-rps", type=float, default=20, help="queries per second (default 20)")
    parser.add_argument("--mutation-rps", type=float, default=2, help="mutations per second (default 2)")
    parser.add_argument("--subgraphs", default="national-table,contracting",
                        help="the subgraphs killed and restarted, one case each (default national-table,contracting; "
                             "not region: it also holds the register every request is resolved against)")
    parser.add_argument("--subgraph-down-secs", type=float, default=15,
                        help="how long a killed subgraph stays down (default 15: its circuit breaker, open for 10 s, "
                             "has failed one trial and is open again when it returns)")
    parser.add_argument("--pg-down-secs", type=float, default=30,
                        help="how long PostgreSQL stays down (default 30: longer than the gateway's 30 s register cache)")
    parser.add_argument("--before-secs", type=float, default=8, help="steady load before each fault")
    parser.add_argument("--after-secs", type=float, default=8, help="steady load after each recovery")
    parser.add_argument("--one-replica-secs", type=float, default=5,
                        help="how long a stopped replica stays down before it is started again")
    parser.add_argument("--held", type=int, default=6, help="heavy queries in flight when a replica is stopped")
    parser.add_argument("--warmup-secs", type=float, default=15, help="steady load before the first case")
    parser.add_argument("--recovery-limit-secs", type=float, default=15, help="criterion: full answers within")
    parser.add_argument("--fail-fast-secs", type=float, default=10,
                        help="criterion: a request during the PostgreSQL outage is answered within")
    parser.add_argument("--rss-growth-percent", type=float, default=10)
    parser.add_argument("--fd-slack", type=int, default=4)
    parser.add_argument("--conn-slack", type=int, default=2)
    parser.add_argument("--sample-secs", type=float, default=2)
    parser.add_argument("--db-pool", type=int, default=10, help="each subgraph's PostgreSQL pool (default 10)")
    parser.add_argument("--client-timeout", type=float, default=60,
                        help="the load's own timeout per request (above the hub's 30 s)")
    parser.add_argument("--cases", default="sigterm,sigkill,subgraph,postgres,soak",
                        help="which cases, in order (default all)")
    parser.add_argument("--keep-logs", help="copy the services' logs here before the work directory goes")
    args = parser.parse_args()
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = set(cases) - {"sigterm", "sigkill", "subgraph", "postgres", "soak"}
    if unknown:
        parser.error(f"unknown cases {sorted(unknown)}")
    args.subgraph_names = [s.strip() for s in args.subgraphs.split(",") if s.strip()]
    if not args.subgraph_names or set(args.subgraph_names) - {"national-table", "contracting"}:
        parser.error("--subgraphs: national-table and/or contracting")
    args.estimated_secs = args.soak_secs + 600

    sys.stdout, sys.stderr = Tolerant(sys.stdout), Tolerant(sys.stderr)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    hub = Hub(args)
    status = 0
    started = time.monotonic()
    try:
        hub.setup()
        hub.sleep(args.warmup_secs)
        hub.ensure_healthy("after the warm-up")
        steps = [(c, n) for c in cases for n in (args.subgraph_names if c == "subgraph" else [None])]
        for i, (case, name) in enumerate(steps):
            say(f"case {case}" + (f" {name}" if name else ""))
            result = hub.case_subgraph(name) if name else getattr(hub, f"case_{case}")()
            hub.results.append(result)
            result.print()
            if i + 1 < len(steps):
                hub.ensure_healthy(f"after case {case}", timeout=90)
        # The whole run's writes, faults included.
        final = CaseResult("all writes of the run")
        hub.load.stop_event.set()
        hub.load.wait_settled(now())
        hub.writes(final, upto=now())
        final.figure("requests the load sent late (> 100 ms behind schedule)", hub.load.late)
        hub.results.append(final)
        final.print()
    except Interrupted as error:
        print(f"\nfaults: interrupted ({error}); stopping everything", file=sys.stderr)
        status = 130
    except SetupError as error:
        print(f"\nfaults: the run could not be carried out: {error}", file=sys.stderr)
        status = 2
    except Exception:
        import traceback
        traceback.print_exc()
        status = 2
    finally:
        # Stop everything first (the logs stay until run.sh removes the work directory).
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        hub.shutdown()
        try:
            if status in (1, 2) or (not status and any(not r.passed for r in hub.results)):
                for name in hub.procs.procs:
                    print(f"\n-- last lines of {name}'s log", file=sys.stderr)
                    print(hub.procs.tail(name, 15), file=sys.stderr)
            if args.keep_logs:
                shutil.copytree(os.path.join(args.work, "logs"), args.keep_logs, dirs_exist_ok=True)
                if os.path.exists(os.path.join(hub.pg.dir, "postgres.log")):
                    shutil.copy(os.path.join(hub.pg.dir, "postgres.log"), args.keep_logs)
        except Exception as error:  # noqa: BLE001 - the run's outcome stands
            print(f"faults: after the run: {error}", file=sys.stderr)
    total = time.monotonic() - started
    if status:
        return status
    print()
    print("== summary")
    for r in hub.results:
        print(f"  {'PASSED' if r.passed else 'FAILED'}  {r.name}")
    print(f"  total {total:.0f} s ({total / 60:.1f} min)")
    if not hub.results or any(not r.passed for r in hub.results):
        print("faults: a case missed its criterion", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
