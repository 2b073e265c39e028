"""kill -9 of the whole server in the middle of a stream of syncs, twice: what was acknowledged
is there whole after a restart, and of what was in flight, at most one request, whole."""

import os
import signal
import threading
from pathlib import Path

import httpx
import pytest

from tests.support import Integration
from tests.support.servers import ServerProcess, start_server, wait_until_ready

USERS_PER_SYNC = 10
SYNCS = 300
pytestmark = pytest.mark.usefixtures("engine")  # the tables are emptied afterwards


def users_of(sync: int) -> list[str]:
    return [f"u{sync * USERS_PER_SYNC + i}" for i in range(USERS_PER_SYNC)]


def stream_syncs(server: ServerProcess, integration: Integration, first: int) -> dict[int, bool]:
    """Syncs from ``first`` on until the server dies: sync number → acknowledged (201)."""
    outcome: dict[int, bool] = {}
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        for sync in range(first, SYNCS):
            body: dict[str, object] = {**integration.credentials, "cohort_id": "c1"}
            body["cohort_changes"] = [{"user_ids": users_of(sync)}]
            outcome[sync] = False
            try:
                response = client.post("/partners/amplitude/cohorts/users", json=body)
            except httpx.TransportError:
                return outcome
            outcome[sync] = response.status_code == 201
    return outcome


def kill_mid_stream(server: ServerProcess, integration: Integration, first: int) -> dict[int, bool]:
    result: dict[int, bool] = {}
    thread = threading.Thread(
        target=lambda: result.update(stream_syncs(server, integration, first))
    )
    thread.start()
    threading.Event().wait(1.5)
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(10)
    thread.join(30)
    return result


def members(server: ServerProcess, integration: Integration) -> set[str]:
    with server.api() as api:
        return {str(m) for m in api.member_external_ids(integration, "c1")}


def test_acknowledged_syncs_survive_kill_9_twice(database_url: str, tmp_path: Path) -> None:
    server = start_server("crash-0", database_url, tmp_path)
    wait_until_ready(server)
    with server.api() as api:
        integration = api.integration()
        api.track(integration.workspace, *[u for s in range(SYNCS) for u in users_of(s)])
    outcomes: dict[int, bool] = {}
    for round_ in (1, 2):
        outcomes.update(kill_mid_stream(server, integration, len(outcomes)))
        server = start_server(f"crash-{round_}", database_url, tmp_path)
        wait_until_ready(server)
        stored = members(server, integration)
        check_whole(outcomes, stored)
    assert sum(outcomes.values()) > 0
    os.killpg(server.process.pid, signal.SIGKILL)


def check_whole(outcomes: dict[int, bool], stored: set[str]) -> None:
    in_flight_applied = 0
    for sync, acknowledged in outcomes.items():
        present = [user in stored for user in users_of(sync)]
        assert all(present) or not any(present), f"sync {sync} is half-applied"
        if acknowledged:
            assert all(present), f"acknowledged sync {sync} was lost"
        elif all(present):
            in_flight_applied += 1
    assert in_flight_applied <= 1
