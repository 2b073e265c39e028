"""Helpers of the seed file tests: the shipped example as a document, files written from
documents, applying one in its own transaction, a snapshot of the whole store, and
``kohorte serve`` with arguments as a subprocess (beside tests/support/servers.py, reused)."""

import copy
import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, func, select

from kohorte.seed.loader import apply_seed_file
from kohorte.store.database import make_session_factory
from kohorte.store.models import Base
from tests.support.databases import throwaway_postgres_database
from tests.support.ops import closed_port
from tests.support.servers import (
    START_TIMEOUT_S,
    ServerProcess,
    postgres_server_url,
    serve_command,
    server_environment,
    stop_server,
    wait_until_ready,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "seed.yaml"
PARTNER_KEY = "seed-partner-key-amplitude-0001"
REST_KEY = "seed-rest-key-demo-ci-0001"
DATA_IMPORT_KEY = "seed-data-import-key-demo-0001"


def example() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    return copy.deepcopy(document)


def write_seed(directory: Path, document: object, suffix: str = ".yaml") -> Path:
    path = directory / f"seed{suffix}"
    text = json.dumps(document) if suffix == ".json" else yaml.safe_dump(document)
    path.write_text(text)
    return path


def apply(engine: Engine, path: Path) -> None:
    with make_session_factory(engine)() as session, session.begin():
        apply_seed_file(session, path)


def store_rows(engine: Engine) -> dict[str, int]:
    """Rows per table: equal before and after means nothing was written (or removed)."""
    with engine.connect() as connection:
        return {
            table.name: connection.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


@contextmanager
def server_database(directory: Path) -> Iterator[str]:
    """A store of its own for a server process: a throwaway PostgreSQL database when the run
    is on PostgreSQL, else an SQLite file."""
    server_url = postgres_server_url()
    if server_url is None:
        yield f"sqlite:///{directory / 'served.db'}"
        return
    with throwaway_postgres_database(server_url, prefix="kohorte_seed") as url:
        yield url


def run_serve(
    database_url: str, *args: str, extra_env: dict[str, str] | None = None
) -> "subprocess.CompletedProcess[str]":
    """``kohorte serve`` expected to stop before serving."""
    return subprocess.run(
        serve_command("--port", str(closed_port()), *args),
        env=server_environment(database_url, extra_env),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
        check=False,
    )


def start_serve(database_url: str, log_dir: Path, *args: str) -> ServerProcess:
    """``kohorte serve`` with arguments, in a process group of its own; stop it with
    ``stop_server``."""
    port = closed_port()
    log_path = log_dir / f"serve-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            serve_command("--port", str(port), *args),
            env=server_environment(database_url),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = ServerProcess(f"serve-{port}", f"http://127.0.0.1:{port}", process, log_path)
    try:
        wait_until_ready(server)
    except AssertionError:
        stop_server(server)
        raise
    return server
