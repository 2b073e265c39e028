"""Two sessions, one interleaving each: a partner sync held open while a user it touches is
deleted or merged, and the other way round (PostgreSQL, where writers really run side by side).

Each test holds one transaction open, starts the other in a thread, checks that it waits, then
commits the first: the cohort's size must equal its members afterwards, whatever the order.
"""

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kohorte.domain.cohort_import import sync as cohort_sync
from kohorte.domain.cohort_import.auth import PartnerClient
from kohorte.domain.users import deletion, identify
from kohorte.domain.users.identify_requests import DeviceToIdentify, IdentifyRequest
from kohorte.store.database import make_session_factory
from kohorte.store.models import Cohort, Workspace
from tests.support.seeds import member_ids, seed_partner, seed_user, seed_workspace

WAIT = 0.5  # long enough for a thread that is not blocked to finish its few statements


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=1) as executor:
        yield executor


@pytest.fixture
def factory(engine: Engine, is_postgres: bool) -> Callable[[], Session]:
    if not is_postgres:
        pytest.skip("SQLite runs one writer at a time: there is no interleaving to pin")
    return make_session_factory(engine)


def seeded(factory: Callable[[], Session]) -> tuple[PartnerClient, dict[str, int]]:
    with factory() as session:
        workspace = seed_workspace(session)
        client = PartnerClient(workspace, seed_partner(session), key_id="unused")
        users = {
            "u1": seed_user(session, workspace, external_id="u1"),
            "u2": seed_user(session, workspace, external_id="u2"),
            "known": seed_user(session, workspace, external_id="known"),
            "anon": seed_user(session, workspace, devices=["phone"]),
        }
        session.commit()
    return client, users


def adds_body(*external_ids: str, devices: tuple[str, ...] = ()) -> dict[str, Any]:
    changes = [{"user_ids": list(external_ids), "device_ids": list(devices)}]
    return {"cohort_id": "c1", "cohort_changes": changes}


def in_own_session(factory: Callable[[], Session], work: Callable[[Session], Any]) -> Any:
    with factory() as session:
        result = work(session)
        session.commit()
        return result


def waits(future: Future[Any]) -> bool:
    try:
        future.result(timeout=WAIT)
    except TimeoutError:
        return True
    return False


def cohort_state(factory: Callable[[], Session]) -> tuple[int, set[int]]:
    with factory() as session:
        cohort = session.scalars(select(Cohort)).one()
        return cohort.size, member_ids(session, cohort.id)


def delete(external_id: str) -> Callable[[Session], int]:
    def work(session: Session) -> int:
        request = deletion.DeleteRequest(external_ids=[external_id])
        return deletion.delete_users(session, workspace_of(session), request)

    return work


def workspace_of(session: Session) -> str:
    return session.scalars(select(Workspace.id)).one()


def test_delete_waits_for_a_sync_that_adds_the_user(
    factory: Callable[[], Session], pool: ThreadPoolExecutor
) -> None:
    client, users = seeded(factory)
    with factory() as sync_session:
        result = cohort_sync.sync_cohort(sync_session, client, adds_body("u1", "u2"))
        assert (result.added, result.removed) == (2, 0)
        deleting = pool.submit(in_own_session, factory, delete("u2"))
        assert waits(deleting)
        sync_session.commit()
    assert deleting.result(timeout=10) == 1
    assert cohort_state(factory) == (1, {users["u1"]})


def test_sync_after_an_open_delete_finds_the_user_gone(
    factory: Callable[[], Session], pool: ThreadPoolExecutor
) -> None:
    client, users = seeded(factory)
    in_own_session(factory, lambda s: cohort_sync.sync_cohort(s, client, adds_body("u1")))
    with factory() as delete_session:
        assert delete("u2")(delete_session) == 1
        syncing = pool.submit(
            in_own_session,
            factory,
            lambda s: cohort_sync.sync_cohort(s, client, adds_body("u1", "u2")),
        )
        assert waits(syncing)
        delete_session.commit()
    result = syncing.result(timeout=10)
    assert (result.added, result.unmatched) == (0, 1)
    assert cohort_state(factory) == (1, {users["u1"]})


def merge_anon_into_known(session: Session) -> None:
    devices = [DeviceToIdentify(external_id="known", device_id="phone")]
    request = IdentifyRequest(devices_to_identify=devices)
    identify.identify(session, workspace_of(session), request)


def test_merge_waits_for_a_sync_that_adds_the_merged_user(
    factory: Callable[[], Session], pool: ThreadPoolExecutor
) -> None:
    client, users = seeded(factory)
    in_own_session(factory, lambda s: cohort_sync.sync_cohort(s, client, adds_body("known")))
    with factory() as sync_session:
        result = cohort_sync.sync_cohort(sync_session, client, adds_body("u1", devices=("phone",)))
        assert result.added == 2
        merging = pool.submit(in_own_session, factory, merge_anon_into_known)
        assert waits(merging)
        sync_session.commit()
    merging.result(timeout=10)
    # The anonymous member merged into a member: one member fewer, and the size says so.
    assert cohort_state(factory) == (2, {users["u1"], users["known"]})


def test_sync_waits_for_an_open_merge(
    factory: Callable[[], Session], pool: ThreadPoolExecutor
) -> None:
    client, users = seeded(factory)
    in_own_session(
        factory, lambda s: cohort_sync.sync_cohort(s, client, adds_body(devices=("phone",)))
    )
    with factory() as merge_session:
        merge_anon_into_known(merge_session)
        syncing = pool.submit(
            in_own_session,
            factory,
            lambda s: cohort_sync.sync_cohort(s, client, adds_body("known")),
        )
        assert waits(syncing)
        merge_session.commit()
    result = syncing.result(timeout=10)
    assert result.added == 0  # the merge made "known" a member already
    assert cohort_state(factory) == (1, {users["known"]})


def test_overlapping_adds_of_two_open_syncs_count_once(
    factory: Callable[[], Session], pool: ThreadPoolExecutor
) -> None:
    client, users = seeded(factory)
    in_own_session(factory, lambda s: cohort_sync.sync_cohort(s, client, adds_body("known")))
    with factory() as first:
        assert cohort_sync.sync_cohort(first, client, adds_body("u1", "u2")).added == 2
        second = pool.submit(
            in_own_session,
            factory,
            lambda s: cohort_sync.sync_cohort(s, client, adds_body("u2", "known")),
        )
        assert waits(second)  # on u2, which the first sync is adding
        first.commit()
    assert second.result(timeout=10).added == 0
    assert cohort_state(factory) == (3, {users["u1"], users["u2"], users["known"]})
