"""User import throughput: N users streamed as NDJSON to ``POST /users/import`` of a server.

Starts ``kohorte serve`` as a subprocess on a store of its own (a temporary SQLite file, or a
throwaway PostgreSQL database next to the one named), creates a workspace and a REST key, then
posts N users (bench.make_users_ndjson.mixed_user_line: 80% identified, 20% anonymous with a
device, 30% with an alias, two attributes each) as one streamed body. Prints the wall time of
the request, users per second and the server's peak RSS (sampled with psutil). The body is
written to a temporary file first and streamed from it, so making it is not timed.

    python -m bench.user_import --users 1000000 --store sqlite
    python -m bench.user_import --users 1000000 --store postgresql \\
        --database-url postgresql://postgres@127.0.0.1:5432/test
"""

import argparse
import importlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
from tests.support.databases import throwaway_postgres_database

from bench.make_users_ndjson import mixed_user_line
from kohorte.domain import workspaces
from kohorte.store.database import create_store_engine, make_session_factory
from kohorte.store.migrate import upgrade_to_head

CHUNK_BYTES = 256 * 1024
ADMIN_TOKEN = "bench-admin-token-0123456789"


def write_body(count: int, path: Path) -> None:
    """The NDJSON body, written beforehand so that making it is not part of the timing."""
    with path.open("w", encoding="utf-8") as out:
        for n in range(1, count + 1):
            out.write(json.dumps(mixed_user_line(n, count), separators=(",", ":")) + "\n")


def stream(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            yield chunk


def prepare_store(url: str) -> tuple[str, str]:
    """Migrate; a workspace and a REST key: (workspace id, key)."""
    engine = create_store_engine(url, statement_timeout_ms=0)
    try:
        upgrade_to_head(engine)
        with make_session_factory(engine).begin() as session:
            workspace = workspaces.create_workspace(session, "bench")
            issued = workspaces.issue_rest_key(session, workspace.id, "bench", None)
            return workspace.id, issued.plaintext
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KOHORTE_DATABASE_URL": url, "KOHORTE_ADMIN_TOKEN": ADMIN_TOKEN}
    env["KOHORTE_LOG_LEVEL"] = "warning"
    command = [sys.executable, "-m", "kohorte", "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start")


class PeakRss:
    """The highest resident set size of a process, sampled every 100 ms (0 without psutil)."""

    def __init__(self, pid: int) -> None:
        self.peak = 0
        self._stop = threading.Event()
        try:
            psutil = importlib.import_module("psutil")
        except ImportError:
            return
        self._process = psutil.Process(pid)
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            try:
                self.peak = max(self.peak, self._process.memory_info().rss)
            except Exception:
                return

    def stop(self) -> int:
        self._stop.set()
        return self.peak


def run(url: str, count: int, body: Path) -> None:
    write_body(count, body)
    workspace_id, key = prepare_store(url)
    port = free_port()
    server = start_server(url, port)
    try:
        rss = PeakRss(server.pid)
        started = time.perf_counter()
        response = httpx.post(
            f"http://127.0.0.1:{port}/users/import",
            content=stream(body),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"},
            timeout=None,
        )
        elapsed = time.perf_counter() - started
        peak = rss.stop()
    finally:
        server.terminate()
        server.wait(30)
    result = response.json()
    print(
        f"status {response.status_code}: imported {result.get('imported')}, "
        f"{len(result.get('errors', []))} errors (workspace {workspace_id})"
    )
    print(
        f"{count} users in {elapsed:.1f} s: {count / elapsed:,.0f} users/s; "
        f"server peak RSS {peak / 2**20:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="PostgreSQL server to create the throwaway database on",
    )
    arguments = parser.parse_args()
    with ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if arguments.store == "sqlite":
            url = f"sqlite:///{directory / 'bench.db'}"
        else:
            url = stack.enter_context(
                throwaway_postgres_database(arguments.database_url, "kohorte_bench_import")
            )
        run(url, arguments.users, directory / "users.ndjson")


if __name__ == "__main__":
    main()
