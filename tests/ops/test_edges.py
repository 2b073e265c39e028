"""The edges of the contract's "Operations" section: store time-outs, 405s, auth throttling."""

import asyncio
from collections.abc import Iterator
from typing import Any, cast

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from kohorte.api import auth_throttle
from kohorte.api.app import create_app
from kohorte.api.auth_throttle import THROTTLED_MESSAGE, FailureCounter
from kohorte.api.contention import is_contention
from kohorte.api.errors import handle_store_error
from kohorte.settings import Settings
from kohorte.store.database import create_store_engine, without_timeouts
from tests.support import ADMIN_HEADERS, ADMIN_TOKEN, bearer

WRONG = bearer("not-the-admin-token-0123456789")


@pytest.fixture
def tight_engine(database_url: str, engine: Engine) -> Iterator[Engine]:
    """An engine of the test store whose statements may take 50 ms at most."""
    if engine.dialect.name != "postgresql":
        pytest.skip("statement time-outs are PostgreSQL's")
    tight = create_store_engine(database_url, statement_timeout_ms=50)
    yield tight
    tight.dispose()


def test_a_statement_over_the_timeout_is_answered_503(tight_engine: Engine) -> None:
    with pytest.raises(OperationalError) as raised, tight_engine.connect() as connection:
        connection.execute(text("SELECT pg_sleep(1)"))
    assert getattr(raised.value.orig, "sqlstate", None) == "57014"
    assert not is_contention(raised.value)
    response = asyncio.run(handle_store_error(cast(Request, None), raised.value))
    assert response.status_code == 503
    assert b'"message"' in response.body


def test_long_work_lifts_the_timeout_for_its_transaction_only(tight_engine: Engine) -> None:
    with without_timeouts(tight_engine).begin() as connection:
        connection.execute(text("SELECT pg_sleep(0.2)"))
    with tight_engine.connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar() == "50ms"


def test_default_postgres_engine_has_timeouts_and_keeps_its_connect_args(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's settings")
    with engine.connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar() == "8s"
        assert connection.execute(text("SHOW lock_timeout")).scalar() == "5s"
        assert connection.connection.dbapi_connection.prepare_threshold is None  # type: ignore[union-attr]


def test_a_lock_timeout_is_contention_kohorte_retries() -> None:
    class LockNotAvailable(Exception):
        sqlstate = "55P03"

    error = DBAPIError("SELECT ... FOR UPDATE", {}, LockNotAvailable())
    assert is_contention(error)


def test_405_lists_every_method_of_the_path(client: TestClient) -> None:
    response = client.put("/admin/workspaces", headers=ADMIN_HEADERS)
    assert response.status_code == 405
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert response.json() == {"message": "Method not allowed"}


@pytest.fixture(autouse=True)
def _one_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """The throttle's window is the clock's minute; a test must not straddle two."""
    monkeypatch.setattr(auth_throttle, "now", lambda: 600.0)


def throttled_client(database_url: str, engine: Engine, limit: int) -> TestClient:
    settings = Settings(
        database_url=database_url, admin_token=ADMIN_TOKEN, auth_failures_per_minute=limit
    )
    return TestClient(create_app(settings, engine), base_url="http://kohorte.test")


def test_failed_credential_checks_are_throttled(database_url: str, engine: Engine) -> None:
    with throttled_client(database_url, engine, 3) as client:
        for _ in range(3):
            assert client.get("/admin/workspaces", headers=WRONG).status_code == 401
        refused = client.get("/admin/workspaces", headers=WRONG)
        assert refused.status_code == 429
        assert refused.json() == {"message": THROTTLED_MESSAGE}
        correct = client.get("/admin/workspaces", headers=ADMIN_HEADERS)
        assert correct.status_code == 429
        assert client.get("/healthz").status_code == 200  # no credentials: not throttled


def test_partner_body_credentials_are_throttled(database_url: str, engine: Engine) -> None:
    body: dict[str, Any] = {"partner_api_key": "nope", "client_secret": "nope", "name": "x"}
    with throttled_client(database_url, engine, 2) as client:
        statuses = [client.post("/partners/p/cohorts", json=body).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


def test_limit_zero_never_throttles(database_url: str, engine: Engine) -> None:
    with throttled_client(database_url, engine, 0) as client:
        statuses = {client.get("/admin/workspaces", headers=WRONG).status_code for _ in range(8)}
        assert statuses == {401}
        assert client.get("/admin/workspaces", headers=ADMIN_HEADERS).status_code == 200


def test_the_throttle_ends_with_its_minute() -> None:
    now = [120.0]
    counter = FailureCounter(2, clock=lambda: now[0])
    counter.record("10.0.0.1")
    counter.record("10.0.0.1")
    assert counter.is_blocked("10.0.0.1")
    assert not counter.is_blocked("10.0.0.2")
    now[0] = 180.0
    assert not counter.is_blocked("10.0.0.1")


def test_an_exhausted_pool_is_answered_503(database_url: str, engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's pool is not the one with a checkout time-out")
    small = create_store_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    settings = Settings(database_url=database_url, admin_token=ADMIN_TOKEN, counter_fold_seconds=0)
    try:
        with TestClient(create_app(settings, small)) as client, small.connect() as held:
            held.execute(text("SELECT 1"))
            response = client.get("/admin/workspaces", headers=ADMIN_HEADERS)
    finally:
        small.dispose()
    assert response.status_code == 503
    assert response.json() == {"message": "Store unavailable, retry later"}
