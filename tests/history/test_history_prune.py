"""Pruning in short batches: the horizon first, then batches each in a transaction of its own;
one prune at a time on PostgreSQL, and prunes beside syncs, user deletes and folds neither fail
nor deadlock, and leave what a prune alone leaves (both stores)."""

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select, text

from kohorte.domain import cohort_counters, membership_history
from kohorte.store import membership_history as store
from kohorte.store.database import make_session_factory
from kohorte.store.models import CohortDay, CohortMembership
from tests.support import Api, Integration
from tests.support.partner import adds, removes
from tests.support.seeds import Stay, seed_cohort_stays, seeding

OLD = datetime.now(UTC) - timedelta(days=40)
USERS = 30


def old_stays(n: int) -> list[Stay]:
    """Closed long ago: all of them go at a prune keeping 7 days."""
    return [Stay(f"u{i}", OLD, OLD + timedelta(hours=1)) for i in range(n)]


def count(engine: Engine, what: type[CohortMembership] | type[CohortDay]) -> int:
    with seeding(engine) as session:
        return int(session.scalar(select(func.count()).select_from(what)) or 0)


def test_a_prune_in_small_batches_deletes_what_one_batch_would(
    api: Api, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    integration = api.integration()
    seed_cohort_stays(engine, integration.workspace.id, "c1", old_stays(USERS))
    monkeypatch.setattr(store, "PRUNE_BATCH", 4)
    with seeding(engine) as session:
        pruned = membership_history.prune(session, 7)
    assert (pruned.stays, pruned.skipped) == (USERS, False)
    assert count(engine, CohortMembership) == 0
    with seeding(engine) as session:
        cohort_counters.fold(session)
    with seeding(engine) as session:
        assert membership_history.prune(session, 7).stays == 0
    assert count(engine, CohortDay) == 0


def test_a_prune_while_another_runs_skips(api: Api, engine: Engine, is_postgres: bool) -> None:
    if not is_postgres:
        pytest.skip("SQLite serializes writers with its write lock")
    integration = api.integration()
    seed_cohort_stays(engine, integration.workspace.id, "c1", old_stays(3))
    with engine.connect() as other, other.begin():
        other.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": store.PRUNE_LOCK})
        with seeding(engine) as session:
            assert membership_history.prune(session, 7).skipped
    assert count(engine, CohortMembership) == 3
    with seeding(engine) as session:
        assert membership_history.prune(session, 7).stays == 3


def looping(stop: threading.Event, errors: list[BaseException], job: Callable[[], None]) -> None:
    while not stop.is_set():
        try:
            job()
        except BaseException as error:
            errors.append(error)
            return


def test_prunes_beside_syncs_deletes_and_folds_neither_fail_nor_deadlock(
    api: Api, engine: Engine, integration: Integration, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_cohort_stays(engine, integration.workspace.id, "c1", old_stays(USERS))
    monkeypatch.setattr(store, "PRUNE_BATCH", 3)
    factory = make_session_factory(engine)

    def prune() -> None:
        with factory() as session:
            membership_history.prune(session, 7)
            session.commit()

    def fold() -> None:
        with factory() as session:
            cohort_counters.fold(session)
            session.commit()

    stop, errors = threading.Event(), list[BaseException]()
    threads = [threading.Thread(target=looping, args=(stop, errors, job)) for job in (prune, fold)]
    for thread in threads:
        thread.start()
    try:
        for round_ in range(10):
            users = [f"u{i}" for i in range(round_, USERS, 5)]
            api.synced(integration, "c1", adds(*users))
            api.synced(integration, "c1", removes(*users[::2]))
            deleted = {"external_ids": [f"u{USERS - 1 - round_}"]}
            response = api.client.post(
                "/users/delete", json=deleted, headers=integration.workspace.headers
            )
            api.expect(response, 201)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == []
    with seeding(engine) as session:
        membership_history.prune(session, 7)
        left_before = select(func.count()).where(
            CohortMembership.left_at < datetime.now(UTC) - timedelta(days=7)
        )
        assert session.scalar(left_before) == 0
    members = {m["external_id"] for m in api.cohort_members(integration, "c1")}
    expected = expected_members()
    assert members == expected
    assert api.cohort(integration, "c1")["size"] == len(expected)


def expected_members() -> set[str]:
    """What the rounds of the test above leave, computed without a store."""
    members: set[str] = set()
    gone: set[str] = set()
    for round_ in range(10):
        users = [f"u{i}" for i in range(round_, USERS, 5)]
        members |= set(users) - gone
        members -= set(users[::2])
        gone.add(f"u{USERS - 1 - round_}")
        members -= gone
    return members
