"""kohorte against a PostgreSQL cluster of its own that hangs or stops under it.

The cluster is started by the module (never the shared one): it is the only way to freeze or
stop the store without disturbing other tests. Contract, "Operations": while the store hangs
or is down every request that needs it is answered 503 within 10 s, /readyz is 503, kohorte
recovers by itself, and nothing answered 201 is lost.
"""

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from tests.support import ADMIN_HEADERS
from tests.support.ops import closed_port
from tests.support.servers import (
    ServerProcess,
    postgres_server_url,
    start_server,
    stop_server,
    wait_until_ready,
)

INITDB = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
# The contract's bound, plus what a loaded two-core machine adds to an HTTP round trip.
ANSWER_BOUND_S = 10.5
RECOVERY_S = 15.0
CLIENT_TIMEOUT_S = 20.0

pytestmark = pytest.mark.skipif(
    postgres_server_url() is None or not INITDB,
    reason="needs KOHORTE_TEST_DATABASE_URL=postgresql://... and PostgreSQL's initdb installed",
)


@dataclass
class Cluster:
    """A throwaway cluster; its server programs refuse root, so they run as postgres."""

    root: Path
    port: int = field(default_factory=closed_port)

    @property
    def bin(self) -> Path:
        return Path(INITDB[-1]).parent

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/kohorte"

    def run(self, *args: str) -> None:
        command = ["runuser", "-u", "postgres", "--", *args]
        subprocess.run(command, check=True, timeout=60, capture_output=True)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off -k {self.root}"
        log = str(self.root / "postgres.log")
        self.run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def processes(self) -> list[int]:
        """The postmaster and its children (backends included), postmaster first."""
        postmaster = int((self.data / "postmaster.pid").read_text().splitlines()[0])
        found = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True)
        return [postmaster, *(int(pid) for pid in found.stdout.split())]

    def signal_all(self, number: signal.Signals) -> None:
        for pid in self.processes():
            with suppress(ProcessLookupError):
                os.kill(pid, number)


def new_cluster() -> Cluster:
    root = Path(tempfile.mkdtemp(prefix="kohorte-outage-"))
    shutil.chown(root, "postgres", "postgres")
    cluster = Cluster(root)
    cluster.run(
        str(cluster.bin / "initdb"), "-D", str(cluster.data), "-A", "trust", "-U", "postgres"
    )
    cluster.start()
    createdb = str(cluster.bin / "createdb")
    cluster.run(createdb, "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "kohorte")
    return cluster


def discard_cluster(cluster: Cluster) -> None:
    # A frozen cluster ignores a stop until it may run again.
    with suppress(Exception):
        cluster.signal_all(signal.SIGCONT)
    with suppress(Exception):
        cluster.stop("immediate")
    if not os.environ.get("KOHORTE_KEEP_OUTAGE_DIR"):
        shutil.rmtree(cluster.root, ignore_errors=True)


@pytest.fixture(scope="module")
def outage() -> Iterator[tuple[Cluster, ServerProcess]]:
    cluster = new_cluster()
    server: ServerProcess | None = None
    try:
        server = start_server("outage", cluster.url, cluster.root)
        wait_until_ready(server)
        yield cluster, server
    finally:
        if server is not None:
            stop_server(server)
        discard_cluster(cluster)


@pytest.fixture
def client(outage: tuple[Cluster, ServerProcess]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=outage[1].base_url, timeout=CLIENT_TIMEOUT_S) as http:
        yield http


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def assert_unavailable(response: httpx.Response, elapsed: float) -> None:
    assert response.status_code == 503, (response.status_code, response.text)
    assert isinstance(response.json()["message"], str), response.text
    assert elapsed < ANSWER_BOUND_S, elapsed


def list_workspaces(client: httpx.Client) -> httpx.Response:
    return client.get("/admin/workspaces", headers=ADMIN_HEADERS)


def wait_for_recovery(client: httpx.Client) -> float:
    """Seconds until /readyz and a store request both succeed again (fails past RECOVERY_S)."""
    started = time.monotonic()
    while time.monotonic() - started < RECOVERY_S:
        with suppress(httpx.TransportError):
            if client.get("/readyz").status_code == 200 and list_workspaces(client).is_success:
                return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"kohorte not back {RECOVERY_S} s after the store")


def test_hung_store_is_answered_503_in_time_and_recovered_from(
    outage: tuple[Cluster, ServerProcess], client: httpx.Client
) -> None:
    cluster, server = outage
    assert list_workspaces(client).status_code == 200
    cluster.signal_all(signal.SIGSTOP)
    try:
        request, request_s = timed(lambda: list_workspaces(client))
        ready, ready_s = timed(lambda: client.get("/readyz"))
    finally:
        cluster.signal_all(signal.SIGCONT)
    print(f"hung store: request answered in {request_s:.2f} s, /readyz in {ready_s:.2f} s")
    assert_unavailable(request, request_s)
    assert_unavailable(ready, ready_s)
    print(f"hung store: recovered {wait_for_recovery(client):.2f} s after SIGCONT")
    assert server.process.poll() is None, "kohorte must recover without a restart"


@dataclass
class Writer:
    """Creates uniquely named workspaces in a loop, noting every answer."""

    client: httpx.Client
    acknowledged: list[str] = field(default_factory=list)
    answers: list[tuple[float, int | str, float]] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stopping.is_set():
            name = f"outage-{uuid4().hex[:12]}"
            started = time.monotonic()
            try:
                response = self.client.post(
                    "/admin/workspaces", json={"name": name}, headers=ADMIN_HEADERS
                )
                status: int | str = response.status_code
            except httpx.TransportError as error:
                status = type(error).__name__
            self.answers.append((started, status, time.monotonic() - started))
            if status in (200, 201):
                self.acknowledged.append(name)
            time.sleep(0.02)

    def answers_between(self, start: float, end: float) -> list[tuple[int | str, float]]:
        return [(status, took) for began, status, took in self.answers if start <= began < end]


def test_store_stopped_under_load_answers_503_and_loses_nothing(
    outage: tuple[Cluster, ServerProcess], client: httpx.Client
) -> None:
    cluster, _ = outage
    writer = Writer(httpx.Client(base_url=client.base_url, timeout=CLIENT_TIMEOUT_S))
    thread = threading.Thread(target=writer.run, daemon=True)
    thread.start()
    try:
        time.sleep(1.0)
        cluster.stop("fast")
        stopped_at = time.monotonic()
        time.sleep(5.0)
        ready, ready_s = timed(lambda: client.get("/readyz"))
        restarted_at = time.monotonic()
        cluster.start()
        print(f"stopped store: recovered {wait_for_recovery(client):.2f} s after restart")
        time.sleep(1.0)
    finally:
        writer.stopping.set()
        thread.join(CLIENT_TIMEOUT_S + 5)
        writer.client.close()
    assert_unavailable(ready, ready_s)
    during = writer.answers_between(stopped_at, restarted_at)
    slowest = max((took for _, took in during), default=0.0)
    print(f"stopped store: {len(during)} answers while down, slowest {slowest:.2f} s")
    assert during
    assert all(status == 503 for status, _ in during), during
    assert all(took < ANSWER_BOUND_S for _, took in during), during
    assert any(status == 201 for status, _ in writer.answers_between(restarted_at, 1e12))
    print(f"stopped store: {len(writer.acknowledged)} workspaces acknowledged in all")
    stored = {w["name"] for w in list_workspaces(client).json()["workspaces"]}
    assert set(writer.acknowledged) <= stored, set(writer.acknowledged) - stored
