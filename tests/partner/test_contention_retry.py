"""A transaction that loses to a concurrent one is run again: the client sees its success once.

The losing statement is simulated (a deadlock error raised by the sync log write), so the rule
is checked on both stores; tests/partner/test_contention.py shows real contention on PostgreSQL.
"""

from collections.abc import Callable
from typing import Any

import psycopg.errors
import pytest
from sqlalchemy.exc import OperationalError

from kohorte.store.cohort_import import sync as sync_store
from tests.support import Api, Integration
from tests.support.partner import adds, cohort_or_none, integration_with_users


def failing(times: int, error: Exception, real: Callable[..., Any]) -> Callable[..., Any]:
    calls = {"n": 0}

    def record_sync(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] <= times:
            raise OperationalError("INSERT INTO cohort_syncs ...", {}, error)
        return real(*args, **kwargs)

    record_sync.calls = calls  # type: ignore[attr-defined]
    return record_sync


@pytest.fixture
def integration(api: Api) -> Integration:
    return integration_with_users(api, "u1", "u2")


def remaining(response: Any) -> int:
    return int(response.headers["X-RateLimit-Remaining"])


def test_a_deadlocked_sync_is_run_again_and_counted_once(
    api: Api, integration: Integration, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = api.sync(integration, "c1", [])
    patched = failing(
        2, psycopg.errors.DeadlockDetected("deadlock detected"), sync_store.record_sync
    )
    monkeypatch.setattr(sync_store, "record_sync", patched)
    response = api.sync(integration, "c1", [adds("u1", "u2")])
    assert response.status_code == 201, response.text
    assert response.json()["added"] == 2
    assert patched.calls["n"] == 3  # type: ignore[attr-defined]
    assert remaining(response) == remaining(first) - 1  # admitted and counted once
    assert api.cohort(integration, "c1")["size"] == 2
    assert len(api.cohort(integration, "c1")["recent_syncs"]) == 1


def test_contention_that_never_ends_is_a_503_and_changes_nothing(
    api: Api, integration: Integration, monkeypatch: pytest.MonkeyPatch
) -> None:
    error = psycopg.errors.SerializationFailure("could not serialize access")
    monkeypatch.setattr(sync_store, "record_sync", failing(99, error, sync_store.record_sync))
    response = api.sync(integration, "c1", [adds("u1")])
    assert response.status_code == 503, response.text
    assert cohort_or_none(api, integration, "c1") is None  # not even created


def test_other_store_errors_are_not_retried(
    api: Api, integration: Integration, monkeypatch: pytest.MonkeyPatch
) -> None:
    patched = failing(1, psycopg.errors.DiskFull("no space left"), sync_store.record_sync)
    monkeypatch.setattr(sync_store, "record_sync", patched)
    assert api.sync(integration, "c1", [adds("u1")]).status_code == 503
    assert patched.calls["n"] == 1  # type: ignore[attr-defined]
