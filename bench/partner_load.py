"""Partner write path under load: kohorte against the thinnest path, interleaved, same run.

    python -m bench.partner_load [--engines postgresql,sqlite] [--workers 1,2]
        [--users 1000000] [--requests 400] [--duration 60] [--rounds 3] [--write-docs]
    python -m bench.partner_load --soak 600 --engines postgresql --workers 1

Needs the bench extra (``pip install -e '.[dev,bench]'``). For each engine (PostgreSQL: a
throwaway database on ``--postgres-url``'s server; SQLite: a file in a temporary folder) it
starts ``kohorte serve --workers W`` (each worker count in turn, on the same database), creates
through the admin and workspace APIs a workspace, a REST API key, a partner and a data import
key, loads the users through ``POST /users/import`` (one streamed NDJSON body; see
bench/workloads.py), and names the cohorts through the partner API. It then starts the thinnest
path (bench/thinnest.py) with the same worker count on another port, and a load generator in a
process of its own (bench/loadgen.py). Every workload runs ``--rounds`` times, kohorte then the
thinnest path, each phase ``--requests`` requests of 1,000 identifiers or ``--duration`` seconds,
whichever comes first, after the harness emptied the memberships (and put in the members a phase
removes) with direct SQL (bench/thinnest_sql.py). It reports per phase identifiers/s,
requests/s, p50/p99 latency, errors (any status but 201), CPU per request of the server's
processes and of the database's backends (PostgreSQL; SQLite runs inside the server), the peak
RSS of the server's processes, and each kohorte figure over the thinnest path's (median over
rounds of the ratio within a round). ``--write-docs`` puts the table in docs/performance.md.

``--soak S`` instead drives kohorte alone for S seconds (each connection adds 1,000 ids to its
cohort, then removes them, over and over) and samples the server's RSS every few seconds.

Every process started here runs in a process group of its own and is ended on exit, Ctrl-C,
SIGTERM, an error or ``--deadline-min``; the throwaway database and the temporary folder are
removed. All traffic goes to 127.0.0.1. The partner rate limit keeps its default (250,000
requests an hour per data import key): the harness counts what it sends on each key and
issues a new key before a phase could take one past 200,000.
"""

import argparse
import asyncio
import json
import os
import platform
import re
import secrets
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import asyncpg
import httpx
import psutil
from tests.support.databases import throwaway_postgres_database

from bench import processes, workloads
from bench import thinnest_sql as sql
from bench.workloads import Workload

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "performance.md"
DOCS_BEGIN = "<!-- bench.partner_load: begin -->"
DOCS_END = "<!-- bench.partner_load: end -->"
SOAK_BEGIN = "<!-- bench.partner_load soak: begin -->"
SOAK_END = "<!-- bench.partner_load soak: end -->"
PARTNER = "bench"
KEY_BUDGET = 200_000  # requests per data import key; the limit is 250,000 an hour
READY_TIMEOUT_S = 120.0
RSS_INTERVAL_S = 0.25
TARGETS = ("kohorte", "thinnest")
PREFIX = {"kohorte": "k-", "thinnest": "t-"}


# ------------------------------------------------------------------ direct SQL -----------


class DirectSql:
    """The harness's own connection, for setup between phases (never during a measurement)."""

    def __init__(self, url: str, schema_override: str | None) -> None:
        self.url = url
        self.postgres = url.startswith("postgres")
        self.loop = asyncio.new_event_loop()
        self.pg: Any = None
        self.lite: sqlite3.Connection | None = None
        if self.postgres:
            dsn = "postgresql:" + url.split(":", 1)[1]
            self.pg = self.loop.run_until_complete(asyncpg.connect(dsn))
            columns = [r[0] for r in self._run(self.pg.fetch(sql.PG_COLUMNS))]
        else:
            self.lite = sqlite3.connect(url.split(":///", 1)[1], isolation_level=None, timeout=60)
            self.lite.execute("PRAGMA busy_timeout=60000")
            columns = [r[0] for r in self.lite.execute(sql.SQLITE_COLUMNS)]
        self.schema = schema_override or sql.detect_schema(columns)
        self.cohorts: dict[str, tuple[int, str]] = {}

    def _run(self, awaitable: Any) -> Any:
        return self.loop.run_until_complete(awaitable)

    def close(self) -> None:
        if self.pg is not None:
            self._run(self.pg.close())
        if self.lite is not None:
            self.lite.close()
        self.loop.close()

    def cohort(self, cohort_id: str) -> tuple[int, str]:
        if cohort_id not in self.cohorts:
            if self.pg is not None:
                row = self._run(self.pg.fetchrow(sql.PG_COHORT, PARTNER, cohort_id))
            else:
                assert self.lite is not None
                row = self.lite.execute(sql.SQLITE_COHORT, (PARTNER, cohort_id)).fetchone()
            if row is None:
                raise RuntimeError(f"cohort {cohort_id} does not exist")
            self.cohorts[cohort_id] = (int(row[0]), str(row[1]))
        return self.cohorts[cohort_id]

    def prepare(self, workload: Workload, prefix: str, requests: int, users: int) -> int:
        """Empty the memberships, then put in what the phase will remove; returns rows added."""
        added = 0
        if self.pg is not None:
            self._run(self.pg.execute(sql.PG_CLEAR))
            for index, ids in workloads.prefill(workload, requests, users):
                cohort = self.cohort(workloads.cohort_id(prefix, index))
                arguments = sql.pg_arguments(*cohort, {workload.kind: ids})
                status = self._run(self.pg.execute(sql.PG_SQL[self.schema]["add"], *arguments))
                added += int(status.rsplit(" ", 1)[-1])
            self._run(self.pg.execute(sql.PG_SQL[self.schema]["reset_sizes"]))
            self._run(self.pg.execute("ANALYZE cohort_memberships"))
            return added
        assert self.lite is not None
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        self.lite.execute("BEGIN IMMEDIATE")
        self.lite.execute(sql.SQLITE_CLEAR)
        for index, ids in workloads.prefill(workload, requests, users):
            cohort = self.cohort(workloads.cohort_id(prefix, index))
            statement = sql.sqlite_statement(self.schema, "add", *cohort, {workload.kind: ids}, now)
            if statement is not None:
                added += self.lite.execute(*statement).rowcount
        self.lite.execute(sql.SQLITE_SQL[self.schema]["reset_sizes"])
        self.lite.execute("COMMIT")
        self.lite.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return added

    def vacuum_analyze(self) -> None:
        """After the load: what autovacuum would have done (it is off on this server)."""
        if self.pg is not None:
            self._run(self.pg.execute("VACUUM ANALYZE"))

    def backends(self) -> list[Any]:
        """psutil processes of the database's backends other than this connection's."""
        if self.pg is None:
            return []
        rows = self._run(
            self.pg.fetch(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        found = []
        for row in rows:
            try:
                found.append(psutil.Process(int(row[0])))
            except psutil.NoSuchProcess:
                continue
        return found

    def server_version(self) -> str:
        if self.pg is not None:
            return str(self._run(self.pg.fetchval("SHOW server_version")))
        return f"SQLite {sqlite3.sqlite_version}"


# ------------------------------------------------------------------ servers ----------------


@dataclass
class Server:
    name: str
    process: subprocess.Popen[Any]
    base_url: str
    log: Path


def start_kohorte(
    url: str, workers: int, admin_token: str, logs: Path, settings: Sequence[str] = ()
) -> Server:
    """kohorte on its defaults (journal and unmatched ledger on), plus ``--kohorte-env``."""
    port = processes.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOHORTE_")}
    env |= {"KOHORTE_DATABASE_URL": url, "KOHORTE_ADMIN_TOKEN": admin_token}
    env |= dict(setting.split("=", 1) for setting in settings)
    log = logs / f"kohorte-w{workers}.log"
    command = [sys.executable, "-m", "kohorte", "serve", "--port", str(port)]
    process = processes.start([*command, "--workers", str(workers)], env, log, cwd=ROOT)
    server = Server("kohorte", process, f"http://127.0.0.1:{port}", log)
    processes.wait_ready(process, f"{server.base_url}/readyz", READY_TIMEOUT_S, log)
    return server


def start_thinnest(url: str, workers: int, schema: str, logs: Path) -> Server:
    port = processes.free_port()
    env = dict(os.environ) | {
        "BENCH_THINNEST_DATABASE_URL": url,
        "BENCH_THINNEST_SCHEMA": schema,
        "PYTHONPATH": str(ROOT),
    }
    log = logs / f"thinnest-w{workers}.log"
    command = [sys.executable, "-m", "uvicorn", "bench.thinnest:app", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--no-access-log"]
    process = processes.start([*command, "--log-level", "warning"], env, log, cwd=ROOT)
    server = Server("thinnest", process, f"http://127.0.0.1:{port}", log)
    processes.wait_ready(process, f"{server.base_url}/readyz", READY_TIMEOUT_S, log)
    return server


class LoadGenerator:
    def __init__(self, logs: Path) -> None:
        env = dict(os.environ) | {"PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "bench.loadgen"]
        self.process = processes.start(command, env, logs / "loadgen.log", pipes=True, cwd=ROOT)

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the load generator exited; see its log")
        message: dict[str, Any] = json.loads(line)
        if "failed" in message:
            raise RuntimeError(f"load generator: {message['failed']}")
        return message

    def quit(self) -> None:
        try:
            self.send({"op": "quit"})
            self.process.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        processes.stop(self.process)


# ------------------------------------------------------------------ kohorte setup ----------


@dataclass
class Tenant:
    workspace_id: str
    rest_key: str
    partner_key: str
    client_secret: str = ""
    used: int = 0  # requests sent with client_secret
    keys_issued: int = 0

    def credentials(self, planned: int) -> dict[str, str]:
        """Partner credentials for ``planned`` more requests, on a fresh key if needed."""
        if not self.client_secret or self.used + planned > KEY_BUDGET:
            raise RuntimeError("call renew_key first")
        self.used += planned
        return {"partner_api_key": self.partner_key, "client_secret": self.client_secret}


def _post(client: httpx.Client, path: str, token: str, body: Any = None) -> Any:
    response = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    if response.status_code != 201:
        raise RuntimeError(f"POST {path}: {response.status_code} {response.text[:300]}")
    return response.json()


def renew_key_if_needed(base_url: str, tenant: Tenant, planned: int) -> None:
    if tenant.client_secret and tenant.used + planned <= KEY_BUDGET:
        return
    with httpx.Client(base_url=base_url, timeout=30) as client:
        issued = _post(client, f"/integrations/{PARTNER}/data-import-keys", tenant.rest_key)
    tenant.client_secret, tenant.used = issued["key"], 0
    tenant.keys_issued += 1


def provision(base_url: str, admin_token: str) -> Tenant:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        workspace = _post(client, "/admin/workspaces", admin_token, {"name": "bench"})["id"]
        rest_key = _post(
            client, f"/admin/workspaces/{workspace}/api-keys", admin_token, {"name": "bench"}
        )["key"]
        partner_key = _post(client, "/admin/partners", admin_token, {"name": PARTNER})[
            "partner_api_key"
        ]
    tenant = Tenant(workspace, rest_key, partner_key)
    renew_key_if_needed(base_url, tenant, 0)
    return tenant


@dataclass
class Usage:
    """CPU seconds and peak RSS of a stretch of time."""

    elapsed_s: float
    server_cpu_s: float
    db_cpu_s: float | None
    client_cpu_s: float
    peak_rss: int


@contextmanager
def measured(server: Server, direct: DirectSql, client_pid: int | None) -> Iterator[list[Usage]]:
    """Yields a list that holds the Usage of the ``with`` body when it ends."""
    out: list[Usage] = []
    backends = direct.backends()
    db_before = processes.cpu_seconds(backends)
    server_before = processes.cpu_seconds(processes.tree(server.process.pid))
    client_tree = processes.tree(client_pid) if client_pid else []
    client_before = processes.cpu_seconds(client_tree)
    started = time.perf_counter()
    with processes.RssSampler(server.process.pid, RSS_INTERVAL_S) as rss:
        yield out
    elapsed = time.perf_counter() - started
    server_cpu = processes.cpu_delta(
        server_before, processes.cpu_seconds(processes.tree(server.process.pid))
    )
    db_cpu = None
    if direct.postgres:
        db_cpu = processes.cpu_delta(db_before, processes.cpu_seconds(direct.backends()))
    client_cpu = processes.cpu_delta(client_before, processes.cpu_seconds(client_tree))
    out.append(Usage(elapsed, server_cpu, db_cpu, client_cpu, rss.peak))


def import_users(server: Server, direct: DirectSql, tenant: Tenant, users: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {tenant.rest_key}", "Content-Type": "application/x-ndjson"}
    timeout = httpx.Timeout(connect=10, read=7200, write=7200, pool=10)
    with measured(server, direct, None) as usage, httpx.Client(timeout=timeout) as client:
        response = client.post(
            f"{server.base_url}/users/import",
            content=workloads.ndjson_chunks(users),
            headers=headers,
        )
    if response.status_code != 201:
        raise RuntimeError(f"user import: {response.status_code} {response.text[:500]}")
    answer = response.json()
    if answer["imported"] != users or answer["errors"]:
        raise RuntimeError(f"user import: {answer}")
    (used,) = usage
    return {
        "users": users,
        "seconds": used.elapsed_s,
        "users_per_s": users / used.elapsed_s,
        "server_cpu_s": used.server_cpu_s,
        "db_cpu_s": used.db_cpu_s,
        "peak_rss": used.peak_rss,
    }


def name_cohorts(base_url: str, tenant: Tenant, count: int) -> None:
    renew_key_if_needed(base_url, tenant, 2 * count)
    credentials = tenant.credentials(2 * count)
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for target in TARGETS:
            for index in range(count):
                cohort_id = workloads.cohort_id(PREFIX[target], index)
                body = credentials | {
                    "cohort_id": cohort_id,
                    "name": f"bench {cohort_id}",
                    "created_at": datetime.now(UTC).isoformat(),
                }
                response = client.post(f"/partners/{PARTNER}/cohorts", json=body)
                if response.status_code != 201:
                    raise RuntimeError(f"naming {cohort_id}: {response.text[:300]}")


# ------------------------------------------------------------------ phases -----------------


@dataclass
class PhaseResult:
    engine: str
    workers: int
    workload: str
    target: str
    round: int
    load: dict[str, Any]
    usage: Usage
    prefilled: int
    loadavg: float = field(default_factory=lambda: os.getloadavg()[0])

    def figures(self) -> dict[str, float | None]:
        load, usage = self.load, self.usage
        elapsed = max(load["elapsed_s"], 1e-9)
        requests = max(load["requests"], 1)
        return {
            "ids_s": load["ids"] / elapsed,
            "req_s": load["ok"] / elapsed,
            "p50_ms": load["p50_ms"],
            "p99_ms": load["p99_ms"],
            "server_cpu_ms": usage.server_cpu_s * 1000 / requests,
            "db_cpu_ms": None if usage.db_cpu_s is None else usage.db_cpu_s * 1000 / requests,
            "rss_mb": usage.peak_rss / 2**20,
            "errors": float(load["errors"]),
        }


@dataclass
class Run:
    args: argparse.Namespace
    tenant: Tenant
    direct: DirectSql
    servers: dict[str, Server]
    loadgen: LoadGenerator
    engine: str
    workers: int


def run_phase(
    run: Run, workload: Workload, target: str, round_: int, requests: int, duration: float
) -> PhaseResult:
    args, direct = run.args, run.direct
    prefilled = direct.prepare(workload, PREFIX[target], requests, args.users)
    server = run.servers[target]
    planned = requests + workload.connections
    renew_key_if_needed(run.servers["kohorte"].base_url, run.tenant, planned)
    spec = {
        "op": "phase",
        "base_url": server.base_url,
        "partner": PARTNER,
        # The thinnest path ignores the credentials; they are sent so both bodies are alike.
        "credentials": run.tenant.credentials(planned),
        "cohort_prefix": PREFIX[target],
        "workload": workload.name,
        "users": args.users,
        "requests": requests,
        "duration": duration,
    }
    run.loadgen.send(spec)
    run.loadgen.receive()  # ready: connections open and warm
    with measured(server, direct, run.loadgen.process.pid) as usage:
        run.loadgen.send({"op": "go"})
        load = run.loadgen.receive()["result"]
    result = PhaseResult(
        run.engine, run.workers, workload.name, target, round_, load, usage[0], prefilled
    )
    show_phase(result)
    return result


def show_phase(result: PhaseResult) -> None:
    f, load, usage = result.figures(), result.load, result.usage
    db = "-" if f["db_cpu_ms"] is None else f"{f['db_cpu_ms']:.1f}"
    written = load["added"] + load["removed"]
    line = (
        f"  r{result.round} {result.workload:<8} {result.target:<9}"
        f" {load['ok']:>5} req {load['elapsed_s']:6.1f} s {f['ids_s']:>9,.0f} ids/s"
        f" {f['req_s']:7.1f} req/s  p50 {f['p50_ms'] or 0:7.1f}  p99 {f['p99_ms'] or 0:7.1f} ms"
        f"  cpu/req srv {f['server_cpu_ms']:6.1f} db {db:>6} ms"
        f"  rss {f['rss_mb']:5.0f} MB  client {usage.client_cpu_s / usage.elapsed_s:4.0%}"
        f"  load {result.loadavg:.1f}"
    )
    if load["errors"]:
        line += f"  ERRORS {load['errors']}: {load['first_error']}"
    if written != load["ids"]:
        line += f"  WROTE {written} of {load['ids']} ids"
    print(line, flush=True)


def run_soak(run: Run) -> dict[str, Any]:
    args, direct = run.args, run.direct
    direct.prepare(workloads.SOAK, PREFIX["kohorte"], 0, args.users)
    server = run.servers["kohorte"]
    cap = KEY_BUDGET - workloads.SOAK.connections
    renew_key_if_needed(server.base_url, run.tenant, KEY_BUDGET)
    spec = {
        "op": "phase",
        "base_url": server.base_url,
        "partner": PARTNER,
        "credentials": run.tenant.credentials(KEY_BUDGET),
        "cohort_prefix": PREFIX["kohorte"],
        "workload": "soak",
        "users": args.users,
        "requests": cap,
        "duration": float(args.soak),
    }
    run.loadgen.send(spec)
    run.loadgen.receive()
    with processes.RssSampler(server.process.pid, args.soak_interval) as rss:
        run.loadgen.send({"op": "go"})
        load = run.loadgen.receive()["result"]
    series = [(round(t - rss.samples[0][0], 1), value) for t, value in rss.samples]
    mb = [value / 2**20 for _, value in series]
    result = {
        "engine": run.engine,
        "workers": run.workers,
        "load": load,
        "rss_first_mb": mb[0],
        # A tenth into the soak: warmed up (caches, pools), so growth after it is what leaks.
        "rss_warm_mb": mb[len(mb) // 10],
        "rss_peak_mb": max(mb),
        "rss_last_mb": mb[-1],
        "rss_series": series,
    }
    print(
        f"  soak {load['elapsed_s']:.0f} s: {load['ok']} requests"
        f" ({load['ok'] / load['elapsed_s']:.1f}/s), {load['errors']} errors,"
        f" p50 {load['p50_ms'] or 0:.1f} ms, p99 {load['p99_ms'] or 0:.1f} ms;"
        f" RSS first {mb[0]:.0f} MB, at a tenth {mb[len(mb) // 10]:.0f} MB,"
        f" peak {max(mb):.0f} MB, last {mb[-1]:.0f} MB",
        flush=True,
    )
    return result


# ------------------------------------------------------------------ a whole engine --------


@contextmanager
def database(engine: str, postgres_url: str, scratch: Path) -> Iterator[str]:
    if engine == "postgresql":
        with throwaway_postgres_database(postgres_url, "kohorte_bench_load") as url:
            yield url
    else:
        yield f"sqlite:///{scratch / 'kohorte-bench.db'}"


def bench_engine(args: argparse.Namespace, engine: str, scratch: Path) -> dict[str, Any]:
    chosen = [workloads.WORKLOADS[name] for name in args.workloads]
    cohorts = max(
        [8] + [workloads.cohorts_needed(w, requests_of(args, w), args.users) for w in chosen]
    )
    out: dict[str, Any] = {"engine": engine, "phases": [], "soak": []}
    admin_token = secrets.token_urlsafe(32)
    with database(engine, args.postgres_url, scratch) as url:
        tenant: Tenant | None = None
        for workers in args.workers:
            print(f"\n== {engine}, {workers} worker(s)", flush=True)
            with ExitStack() as stack:
                kohorte = start_kohorte(url, workers, admin_token, scratch, args.kohorte_env)
                stack.callback(processes.stop, kohorte.process)
                direct = DirectSql(url, args.membership_schema)
                stack.callback(direct.close)
                out["database"] = direct.server_version()
                out["schema"] = direct.schema
                if tenant is None:
                    tenant = provision(kohorte.base_url, admin_token)
                    print(f"  loading {args.users:,} users through POST /users/import", flush=True)
                    out["import"] = import_users(kohorte, direct, tenant, args.users)
                    out["import"]["workers"] = workers
                    imported = out["import"]
                    print(
                        f"  imported in {imported['seconds']:.1f} s"
                        f" ({imported['users_per_s']:,.0f} users/s)",
                        flush=True,
                    )
                    direct.vacuum_analyze()
                    name_cohorts(kohorte.base_url, tenant, cohorts)
                thinnest = start_thinnest(url, workers, direct.schema, scratch)
                stack.callback(processes.stop, thinnest.process)
                loadgen = LoadGenerator(scratch)
                stack.callback(loadgen.quit)
                servers = {"kohorte": kohorte, "thinnest": thinnest}
                run = Run(args, tenant, direct, servers, loadgen, engine, workers)
                if args.soak:
                    out["soak"].append(run_soak(run))
                    continue
                print(f"  membership schema: {direct.schema}", flush=True)
                for round_ in range(1, args.rounds + 1):
                    for workload in chosen:
                        for target in TARGETS:
                            result = run_phase(
                                run,
                                workload,
                                target,
                                round_,
                                requests_of(args, workload),
                                args.duration,
                            )
                            out["phases"].append(result)
        if tenant is not None:
            out["keys_issued"] = tenant.keys_issued
    return out


def requests_of(args: argparse.Namespace, workload: Workload) -> int:
    return int(args.latency_requests if workload.name == "latency" else args.requests)


# ------------------------------------------------------------------ report -----------------

FIGURES = (
    ("ids_s", "ids/s", "{:,.0f}"),
    ("req_s", "req/s", "{:,.1f}"),
    ("p50_ms", "p50 ms", "{:,.1f}"),
    ("p99_ms", "p99 ms", "{:,.1f}"),
    ("server_cpu_ms", "server CPU ms/req", "{:,.2f}"),
    ("db_cpu_ms", "DB CPU ms/req", "{:,.2f}"),
    ("rss_mb", "peak RSS MB", "{:,.0f}"),
)


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def table(engine: str, workers: int, phases: list[PhaseResult]) -> list[str]:
    head = ["workload", *(label for _, label, _ in FIGURES), "errors"]
    lines = [
        f"{engine}, {workers} worker(s): kohorte / thinnest (kohorte over thinnest)",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for name, workload in workloads.WORKLOADS.items():
        mine = [p for p in phases if p.workload == name and p.workers == workers]
        if not mine:
            continue
        rounds = sorted({p.round for p in mine})
        by = {(p.target, p.round): p.figures() for p in mine}
        cells = [workload.title]
        for key, _, fmt in FIGURES:
            k = _median([by[("kohorte", r)][key] for r in rounds if ("kohorte", r) in by])
            t = _median([by[("thinnest", r)][key] for r in rounds if ("thinnest", r) in by])
            ratios = []
            for r in rounds:
                kv, tv = by.get(("kohorte", r), {}).get(key), by.get(("thinnest", r), {}).get(key)
                if kv is not None and tv:
                    ratios.append(kv / tv)
            ratio = _median(ratios)
            if k is None or t is None:
                cells.append("-")
                continue
            shown = f"{fmt.format(k)} / {fmt.format(t)}"
            cells.append(shown + (f" ({ratio:.2f}x)" if ratio is not None else ""))
        errors = {
            target: sum(p.load["errors"] for p in mine if p.target == target) for target in TARGETS
        }
        cells.append(f"{errors['kohorte']} / {errors['thinnest']}")
        lines.append("| " + " | ".join(cells) + " |")
    first_errors = [
        f"- {p.target} {p.workload} round {p.round}: {p.load['first_error']}"
        for p in phases
        if p.workers == workers and p.load["first_error"]
    ]
    if first_errors:
        lines += ["", "First error bodies:", "", *first_errors[:10]]
    return lines


def machine(results: list[dict[str, Any]], started_load: float) -> list[str]:
    memory = psutil.virtual_memory().total / 2**30
    versions = ", ".join(f"{r['engine']} {r.get('database', '?')}" for r in results)
    return [
        f"Machine: {os.cpu_count()} cores, {memory:.0f} GiB memory, {platform.platform()};"
        f" Python {platform.python_version()}; {versions}; membership schema"
        f" {', '.join(sorted({str(r.get('schema')) for r in results}))}.",
        f"Load average (1 min) at start {started_load:.1f}, at end {os.getloadavg()[0]:.1f}.",
    ]


def report(
    args: argparse.Namespace, results: list[dict[str, Any]], started: datetime, load: float
) -> list[str]:
    command = "python -m bench.partner_load " + " ".join(sys.argv[1:])
    lines = [
        f"Run {started:%Y-%m-%d %H:%M} UTC: `{command}`",
        "",
        *machine(results, load),
        "",
    ]
    for result in results:
        imported = result.get("import")
        if imported:
            lines.append(
                f"{result['engine']}: {imported['users']:,} users loaded through"
                f" `POST /users/import` in {imported['seconds']:.1f} s"
                f" ({imported['users_per_s']:,.0f} users/s, {imported['workers']} worker(s),"
                f" server CPU {imported['server_cpu_s']:.1f} s"
                + (
                    f", database CPU {imported['db_cpu_s']:.1f} s"
                    if imported["db_cpu_s"] is not None
                    else ""
                )
                + f", peak RSS {imported['peak_rss'] / 2**20:.0f} MB)."
            )
    lines.append("")
    for result in results:
        for workers in args.workers:
            if any(p.workers == workers for p in result["phases"]):
                lines += [*table(result["engine"], workers, result["phases"]), ""]
        for soak in result["soak"]:
            driven = soak["load"]
            lines.append(
                f"Soak, {soak['engine']}, {soak['workers']} worker(s):"
                f" {driven['elapsed_s']:.0f} s, {driven['ok']:,} requests"
                f" ({driven['ok'] / driven['elapsed_s']:.1f}/s), {driven['errors']} errors;"
                f" server RSS first {soak['rss_first_mb']:.0f} MB, a tenth in"
                f" {soak['rss_warm_mb']:.0f} MB, peak"
                f" {soak['rss_peak_mb']:.0f} MB, last {soak['rss_last_mb']:.0f} MB"
                f" ({len(soak['rss_series'])} samples every {args.soak_interval:g} s)."
            )
    return lines


def write_docs(lines: list[str], soak: bool) -> None:
    begin, end = (SOAK_BEGIN, SOAK_END) if soak else (DOCS_BEGIN, DOCS_END)
    title = (
        "Partner write path: soak" if soak else "Partner write path: kohorte and the thinnest path"
    )
    block = "\n".join([begin, f"## {title}", "", *LEGEND[soak], "", *lines, end])
    text = DOCS.read_text(encoding="utf-8")
    if begin in text and end in text:
        before, rest = text.split(begin, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    DOCS.write_text(text, encoding="utf-8")
    print(f"wrote {DOCS.relative_to(ROOT)}")


LEGEND = {
    False: [
        "Written by `python -m bench.partner_load --write-docs` (bench/partner_load.py). kohorte",
        "(`kohorte serve`) and the thinnest path (bench/thinnest.py: the same body, one SQL",
        "statement per change object, no authentication or bookkeeping) run side by side on one",
        "database with the same worker count, driven by one load generator process (asyncio +",
        "httpx, one keep-alive connection per client), interleaved: kohorte then thinnest for",
        "each workload, round after round. Every request carries 1,000 identifiers; every id a",
        "phase adds is new and every id it removes is a member (the harness empties the",
        "memberships and puts in the members to remove before each phase, outside the",
        "measurement). Each cell: kohorte / thinnest (their ratio), medians over the rounds;",
        "the ratio is the median of kohorte's figure over the thinnest path's within each round",
        "(below 1x for ids/s and req/s means kohorte is slower). CPU per request is the",
        "user + system time of the server's processes, and of the database's backends on",
        "PostgreSQL (on SQLite the database runs inside the server). Users are loaded once per",
        "engine, through kohorte with the first worker count, then PostgreSQL gets a VACUUM",
        "ANALYZE (autovacuum is off on the development server). The machine is shared, so",
        "absolute figures are noisy; the ratios are what to read.",
    ],
    True: [
        "Written by `python -m bench.partner_load --soak S --write-docs`: kohorte alone, 8",
        "connections each adding 1,000 external ids to its own cohort and removing them again,",
        "over and over; the RSS of the server's processes sampled every few seconds.",
    ],
}


# ------------------------------------------------------------------ main -------------------


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])

    def names(text: str) -> list[str]:
        return [part.strip() for part in text.split(",") if part.strip()]

    parser.add_argument("--engines", type=names, default=["postgresql", "sqlite"])
    parser.add_argument("--workers", type=lambda s: [int(n) for n in names(s)], default=[1, 2])
    parser.add_argument("--users", type=int, default=1_000_000, help="a multiple of 10")
    parser.add_argument("--requests", type=int, default=400, help="requests per phase")
    parser.add_argument("--latency-requests", type=int, default=200, help="of the 1-conn phase")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per phase, at most")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workloads", type=names, default=list(workloads.WORKLOADS))
    parser.add_argument(
        "--membership-schema",
        choices=sql.SCHEMAS,
        default=None,
        help="default: read from the cohort_memberships columns",
    )
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--soak", type=float, default=0.0, help="seconds of kohorte alone")
    parser.add_argument("--soak-interval", type=float, default=5.0)
    parser.add_argument("--deadline-min", type=float, default=180.0, help="stop everything then")
    parser.add_argument("--json", type=Path, help="write every phase's raw figures here")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument(
        "--kohorte-env",
        action="append",
        default=[],
        metavar="KOHORTE_X=V",
        help="a setting for kohorte's server, e.g. KOHORTE_JOURNAL_MAX_ENTRIES=0; repeatable",
    )
    args = parser.parse_args(argv)
    problems = []
    if args.users % 10 or args.users < 10_000:
        problems.append("--users must be a multiple of 10, at least 10,000")
    if set(args.engines) - {"postgresql", "sqlite"}:
        problems.append("--engines takes postgresql and/or sqlite")
    if set(args.workloads) - set(workloads.WORKLOADS):
        problems.append(f"--workloads takes {', '.join(workloads.WORKLOADS)}")
    if not all(n >= 1 for n in args.workers):
        problems.append("--workers takes counts of at least 1")
    if args.requests > KEY_BUDGET or args.requests < 8:
        problems.append(f"--requests must be from 8 to {KEY_BUDGET}")
    if not all(re.fullmatch(r"KOHORTE_\w+=.*", setting) for setting in args.kohorte_env):
        problems.append("--kohorte-env takes KOHORTE_NAME=value")
    if not (args.engines and args.workers and args.workloads and args.rounds >= 1):
        problems.append("nothing to run")
    if problems:
        parser.error("; ".join(problems))
    return args


def _deadline(_signum: int, _frame: FrameType | None) -> None:
    raise processes.Interrupted("deadline reached")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_arguments(argv)
    processes.install_cleanup()
    signal.signal(signal.SIGALRM, _deadline)
    signal.alarm(int(args.deadline_min * 60))
    started, load = datetime.now(UTC), os.getloadavg()[0]
    scratch = Path(tempfile.mkdtemp(prefix="kohorte-bench-load-"))
    results: list[dict[str, Any]] = []
    try:
        for engine in args.engines:
            results.append(bench_engine(args, engine, scratch))
    except (KeyboardInterrupt, processes.Interrupted):
        raise
    except BaseException:
        print(f"\nstopped; server logs were in {scratch}", file=sys.stderr)
        for log in sorted(scratch.glob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-15:]
            print(f"--- {log.name}\n" + "\n".join(tail), file=sys.stderr)
        raise
    finally:
        signal.alarm(0)
        processes.stop_all()
        shutil.rmtree(scratch, ignore_errors=True)
    lines = report(args, results, started, load)
    print("\n" + "\n".join(lines))
    if args.json:
        raw = [r | {"phases": [asdict(p) for p in r["phases"]]} for r in results]
        args.json.write_text(json.dumps(raw, indent=1, default=str), encoding="utf-8")
    if args.write_docs:
        write_docs(lines, soak=bool(args.soak))


if __name__ == "__main__":
    try:
        main()
    except (KeyboardInterrupt, processes.Interrupted) as stop:
        print(
            f"interrupted ({str(stop) or 'SIGINT'}); every process started was ended",
            file=sys.stderr,
        )
        raise SystemExit(130) from None
