"""``kohorte serve --seed`` and ``--ephemeral`` as subprocesses, as an operator runs them."""

import os
import re
import signal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kohorte.store.database import create_store_engine
from kohorte.store.models import Workspace
from tests.support import Integration, PartnerHandle, WorkspaceHandle
from tests.support.resets import admin_listing
from tests.support.seed_files import (
    DATA_IMPORT_KEY,
    PARTNER_KEY,
    REST_KEY,
    example,
    run_serve,
    server_database,
    start_serve,
    write_seed,
)
from tests.support.servers import STOP_TIMEOUT_S, stop_server

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEEDED = Integration(
    WorkspaceHandle("demo", REST_KEY), PartnerHandle("amplitude", PARTNER_KEY), DATA_IMPORT_KEY
)


def _workspaces(database_url: str) -> int:
    engine = create_store_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(Workspace)) or 0
    finally:
        engine.dispose()


def test_an_invalid_file_stops_the_start_with_one_line(tmp_path: Path) -> None:
    document = example()
    document["workspaces"][0]["api_keys"].append({"name": "x", "key": "short"})
    path = write_seed(tmp_path, document)
    with server_database(tmp_path) as database_url:
        result = run_serve(database_url, "--seed", str(path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"Error: invalid seed file {path}: workspaces[0].api_keys[1].key: "
        "a key must be at least 16 characters"
    ]


def test_a_file_breaking_a_rule_of_the_store_applies_nothing(tmp_path: Path) -> None:
    document = example()
    document["workspaces"][0]["cohorts"][0]["members"]["user_ids"] = ["alice", "nobody"]
    path = write_seed(tmp_path, document, ".json")
    with server_database(tmp_path) as database_url:
        result = run_serve(database_url, "--seed", str(path))
        assert result.returncode == 2
        [line] = result.stderr.splitlines()
        assert f"{path}: workspaces[0].cohorts[0].members.user_ids[1]: matches no user" in line
        assert _workspaces(database_url) == 0


def test_a_seeded_server_serves_the_seeded_keys_and_restarts_unchanged(tmp_path: Path) -> None:
    with server_database(tmp_path) as database_url:
        for seed in (EXAMPLES / "seed.yaml", EXAMPLES / "seed.json"):
            listings = []
            for _ in range(2):
                server = start_serve(database_url, tmp_path, "--seed", str(seed))
                try:
                    with server.api() as api:
                        api.synced(SEEDED, "power-users")
                        assert api.cohort(SEEDED, "power-users")["size"] == 2
                        listings.append(admin_listing(api))
                finally:
                    stop_server(server)
            assert listings[0] == listings[1]
            assert [w["id"] for w in listings[0]["workspaces"]] == ["demo"]


def test_the_seed_file_may_come_from_the_environment(tmp_path: Path) -> None:
    document = example()
    document["workspaces"][0]["id"] = "not an id"
    path = write_seed(tmp_path, document)
    with server_database(tmp_path) as database_url:
        result = run_serve(database_url, extra_env={"KOHORTE_SEED_FILE": str(path)})
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: invalid seed file {path}: workspaces[0].id: ")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_an_ephemeral_store_is_removed_when_the_server_stops(
    tmp_path: Path, stop: signal.Signals
) -> None:
    ignored = tmp_path / "not-this.db"
    seed = str(EXAMPLES / "seed.yaml")
    server = start_serve(f"sqlite:///{ignored}", tmp_path, "--ephemeral", "--seed", seed)
    try:
        found = re.search(
            r"Ephemeral store in (\S+) \(KOHORTE_DATABASE_URL is ignored\)", server.log()
        )
        assert found is not None, server.log()
        directory = Path(found.group(1))
        assert directory.is_dir()
        with server.api() as api:
            assert api.cohort(SEEDED, "power-users")["size"] == 2
        os.killpg(server.process.pid, stop)  # as Ctrl-C or a service manager would
        server.process.wait(STOP_TIMEOUT_S)
    finally:
        stop_server(server)
    assert not directory.exists(), server.log()
    assert not ignored.exists()
