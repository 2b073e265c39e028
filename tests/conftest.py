"""Fixtures: one store per run, chosen by KOHORTE_TEST_DATABASE_URL (SQLite when unset).

On PostgreSQL each run creates its own database and drops it afterwards, so runs never share
state; every test starts from empty tables.
"""

import os
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from kohorte.api.app import create_app
from kohorte.settings import Settings
from kohorte.store.database import create_store_engine, make_session_factory
from kohorte.store.migrate import upgrade_to_head
from kohorte.store.models import Base
from tests.support import ADMIN_TOKEN, Api, Integration
from tests.support.cli import cli_environment
from tests.support.databases import throwaway_postgres_database
from tests.support.logs import kept_logging

TEST_DATABASE_ENV = "KOHORTE_TEST_DATABASE_URL"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base_url = os.environ.get(TEST_DATABASE_ENV, "")
    if not base_url.startswith("postgres"):
        yield f"sqlite:///{tmp_path_factory.mktemp('store') / 'kohorte-test.db'}"
        return
    with throwaway_postgres_database(base_url) as url:
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    store_engine = create_store_engine(database_url)
    upgrade_to_head(store_engine)
    yield store_engine
    store_engine.dispose()


@pytest.fixture(autouse=True)
def _logging_kept() -> Iterator[None]:
    with kept_logging():
        yield


@pytest.fixture(autouse=True)
def _empty_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "engine" not in request.fixturenames:
        return
    store_engine: Engine = request.getfixturevalue("engine")
    tables = list(reversed(Base.metadata.sorted_tables))
    with store_engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(table.name for table in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, admin_token=ADMIN_TOKEN)


@pytest.fixture
def app(settings: Settings, engine: Engine) -> FastAPI:
    return create_app(settings, engine)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://kohorte.test") as test_client:
        yield test_client


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client)


@pytest.fixture
def integration(api: Api) -> Integration:
    """A workspace, a partner and a data import key for it; modules that need users tracked
    first define their own."""
    return api.integration()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, engine: Engine) -> Iterator[None]:
    """The CLI reads its settings from the environment, like an operator's shell."""
    with cli_environment(monkeypatch, database_url, unset="KOHORTE_ADMIN_TOKEN"):
        yield


@pytest.fixture
def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A store session for unit tests of services; committed at the end of the test."""
    with make_session_factory(engine)() as store_session:
        yield store_session
        store_session.commit()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Captures what ``kohorte serve`` would hand to uvicorn instead of starting a server."""
    calls: list[dict[str, Any]] = []

    def fake_run(app: str, **options: Any) -> None:
        calls.append({"app": app, **options})

    monkeypatch.setattr(uvicorn, "run", fake_run)
    return calls
