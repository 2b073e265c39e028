"""`kohorte serve` as separate processes on a throwaway PostgreSQL database, for black-box tests.

Each server runs in a process group of its own (uvicorn's workers included) and is stopped,
group and all, when the test is done, whatever happened. Its output goes to a log file that
failures quote.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.api import ADMIN_TOKEN, Api, WorkspaceHandle
from tests.support.databases import throwaway_postgres_database
from tests.support.ops import closed_port

TEST_DATABASE_ENV = "KOHORTE_TEST_DATABASE_URL"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
REQUEST_TIMEOUT_S = 30.0


def postgres_server_url() -> str | None:
    url = os.environ.get(TEST_DATABASE_ENV, "")
    return url if url.startswith("postgres") else None


requires_postgres = pytest.mark.skipif(
    postgres_server_url() is None,
    reason=(
        f"runs kohorte processes against one PostgreSQL database; set {TEST_DATABASE_ENV} to a "
        "postgresql:// URL (SQLite is one file for one host, not shared by instances)"
    ),
)


@dataclass
class ServerProcess:
    name: str
    base_url: str
    process: "subprocess.Popen[bytes]"
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    @contextmanager
    def api(self) -> Iterator[Api]:
        """The test helpers' API, speaking HTTP to this server."""
        with httpx.Client(base_url=self.base_url, timeout=REQUEST_TIMEOUT_S) as client:
            yield Api(client)


def serve_command(*args: str) -> list[str]:
    """``kohorte serve`` with these arguments, run by this interpreter."""
    return [sys.executable, "-m", "kohorte", "serve", *args]


def server_environment(database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test run's environment without its KOHORTE_* settings, plus the server's own."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KOHORTE_")}
    environment.update(
        KOHORTE_DATABASE_URL=database_url,
        KOHORTE_ADMIN_TOKEN=ADMIN_TOKEN,
        KOHORTE_LOG_LEVEL="WARNING",
    )
    environment.update(extra or {})
    return environment


def start_server(
    name: str,
    database_url: str,
    log_dir: Path,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
) -> ServerProcess:
    port = closed_port()
    log_path = log_dir / f"{name}.log"
    command = serve_command("--port", str(port))
    command += ["--workers", str(workers)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # the child keeps its own copy of the log descriptor
            command,
            env=server_environment(database_url, extra_env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return ServerProcess(name, f"http://127.0.0.1:{port}", process, log_path)


def wait_until_ready(server: ServerProcess, timeout_s: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        code = server.process.poll()
        if code is not None:
            raise AssertionError(f"{server.name} exited with {code}:\n{server.log()}")
        try:
            if httpx.get(f"{server.base_url}/readyz", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{server.name} not ready after {timeout_s} s:\n{server.log()}")


def stop_server(server: ServerProcess) -> None:
    """SIGTERM to the whole process group, then SIGKILL to whatever of it lingers."""
    with suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        server.process.wait(STOP_TIMEOUT_S)
    # uvicorn's worker processes share the group: none may outlive the test.
    with suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(STOP_TIMEOUT_S)


@contextmanager
def running_servers(
    database_url: str,
    log_dir: Path,
    count: int = 1,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
) -> Iterator[list[ServerProcess]]:
    """``count`` ready servers on one database, stopped on the way out.

    They start one after the other: the first applies the migrations, the others find the
    schema current (deployments run ``kohorte db upgrade`` once before rolling out, see
    docs/scaling.md).
    """
    servers: list[ServerProcess] = []
    try:
        for number in range(count):
            server = start_server(f"kohorte-{number}", database_url, log_dir, workers, extra_env)
            servers.append(server)
            wait_until_ready(server)
        yield servers
    finally:
        for server in servers:
            stop_server(server)


@contextmanager
def servers_on_a_throwaway_database(
    log_dir: Path,
    count: int = 1,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
) -> Iterator[list[ServerProcess]]:
    server_url = postgres_server_url()
    assert server_url is not None, f"{TEST_DATABASE_ENV} is not a PostgreSQL URL"
    with (
        throwaway_postgres_database(server_url, prefix="kohorte_procs") as database_url,
        running_servers(database_url, log_dir, count, workers, extra_env) as servers,
    ):
        yield servers


def import_users(api: Api, workspace: WorkspaceHandle, lines: list[dict[str, Any]]) -> None:
    """Users through ``POST /users/import``, every line expected to be imported."""
    body = "".join(json.dumps(line) + "\n" for line in lines)
    headers = {**workspace.headers, "Content-Type": "application/x-ndjson"}
    imported = api.expect(api.client.post("/users/import", content=body, headers=headers), 201)
    assert imported["imported"] == len(lines), imported
