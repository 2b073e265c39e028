"""A pytest plugin for the tests of code that talks to kohorte, as moto is for AWS.

Installed with kohorte, it is loaded by pytest on its own (entry point ``pytest11``). It starts
``kohorte serve --ephemeral`` once per test session on a free port, with the seed file given by
``--kohorte-seed`` or the ini option ``kohorte_seed``, and stops it at the end (the ephemeral
store goes with it). The fixture ``kohorte`` resets the server to its seed before each test and
yields it: its ``base_url``, ``admin_token`` and the keys the seed file fixed.
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx
import pytest

from kohorte.seed.model import SeedFile, SeedWorkspace
from kohorte.seed.reading import read_seed_file

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
SEED_OPTION = "kohorte_seed"
T = TypeVar("T")


class KohorteStartError(RuntimeError):
    """The server exited or did not become ready; the message quotes its output."""


@dataclass(frozen=True)
class KohorteServer:
    """A running kohorte and what its seed file fixed."""

    base_url: str
    admin_token: str
    seed: SeedFile = field(default_factory=SeedFile)

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def reset(self) -> None:
        """Everything back to the seed file (``POST /admin/reset``)."""
        response = httpx.post(f"{self.base_url}/admin/reset", headers=self.admin_headers)
        response.raise_for_status()

    def journal(self, **filters: str | int) -> list[dict[str, Any]]:
        """The journal's entries, newest first (``GET /admin/journal``)."""
        response = httpx.get(
            f"{self.base_url}/admin/journal", params=filters, headers=self.admin_headers
        )
        response.raise_for_status()
        entries: list[dict[str, Any]] = response.json()["entries"]
        return entries

    def partner_api_key(self, partner: str) -> str:
        """The first fixed partner API key of ``partner`` in the seed file."""
        found = [p for p in self.seed.partners if p.name == partner and p.api_keys]
        return _only(found, f"partner {partner!r} with api_keys").api_keys[0]

    def rest_api_key(self, workspace_id: str, name: str | None = None) -> str:
        """A fixed REST API key of the workspace: the first one, or the one called ``name``."""
        keys = self._workspace(workspace_id).api_keys
        found = [key for key in keys if name in (None, key.name)][:1]
        return _only(found, f"REST API key {name or ''} of workspace {workspace_id!r}").key

    def data_import_key(self, workspace_id: str, partner: str) -> str:
        """The fixed data import key (client secret) of the workspace for ``partner``."""
        keys = self._workspace(workspace_id).data_import_keys
        found = [key for key in keys if key.partner == partner][:1]
        return _only(found, f"data import key of workspace {workspace_id!r} for {partner}").key

    def _workspace(self, workspace_id: str) -> SeedWorkspace:
        found = [w for w in self.seed.workspaces if w.id == workspace_id]
        return _only(found, f"workspace {workspace_id!r}")


def _only(found: list[T], what: str) -> T:
    if not found:
        raise KeyError(f"the seed file has no {what}")
    return found[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


Process = subprocess.Popen[bytes]


def start_server(seed: Path | None, log: IO[bytes]) -> tuple[KohorteServer, Process]:
    """``kohorte serve --ephemeral`` on a free port, ready, with a fresh admin token."""
    known = read_seed_file(seed) if seed is not None else SeedFile()  # a bad file fails here
    port, token = free_port(), secrets.token_urlsafe(32)
    command = [sys.executable, "-m", "kohorte", "serve", "--ephemeral", "--port", str(port)]
    command += ["--seed", str(seed)] if seed is not None else []
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KOHORTE_")}
    environment.update(KOHORTE_ADMIN_TOKEN=token, KOHORTE_LOG_LEVEL="WARNING")
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        command, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    return KohorteServer(f"http://127.0.0.1:{port}", token, known), process


def wait_until_ready(server: KohorteServer, process: Process, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise KohorteStartError(f"kohorte exited with {process.returncode}:\n{_tail(log)}")
        with suppress(httpx.TransportError):
            if httpx.get(f"{server.base_url}/readyz", timeout=2.0).status_code == 200:
                return
        time.sleep(0.1)
    raise KohorteStartError(f"kohorte not ready after {START_TIMEOUT_S} s:\n{_tail(log)}")


def stop_server(process: Process) -> None:
    """SIGTERM (the ephemeral store is removed on the way out), then SIGKILL if it lingers."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(STOP_TIMEOUT_S)
        return
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(STOP_TIMEOUT_S)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kohorte")
    group.addoption("--kohorte-seed", help="seed file for the kohorte fixture's server")
    parser.addini(SEED_OPTION, "seed file for the kohorte fixture's server (relative to rootdir)")


def _seed_path(config: pytest.Config) -> Path | None:
    given = config.getoption("--kohorte-seed") or config.getini(SEED_OPTION)
    if not given:
        return None
    path = Path(given)
    return path if path.is_absolute() else config.rootpath / path


@pytest.fixture(scope="session")
def kohorte_server(pytestconfig: pytest.Config) -> Iterator[KohorteServer]:
    """One kohorte for the whole session, on an ephemeral store, stopped at the end."""
    with tempfile.TemporaryDirectory(prefix="kohorte-plugin-") as folder:
        log_path = Path(folder) / "kohorte.log"
        with log_path.open("wb") as log:
            server, process = start_server(_seed_path(pytestconfig), log)
        try:
            wait_until_ready(server, process, log_path)
            yield server
        finally:
            stop_server(process)


@pytest.fixture
def kohorte(kohorte_server: KohorteServer) -> KohorteServer:
    """The session's kohorte, reset to its seed file before the test."""
    kohorte_server.reset()
    return kohorte_server
