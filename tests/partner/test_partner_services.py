"""Unit tests of the cohort sync services: request parsing, the membership plan, concurrency."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kohorte.domain.cohort_import import sync as cohort_sync
from kohorte.domain.cohort_import.auth import PartnerClient
from kohorte.domain.cohort_import.plan import plan_sync
from kohorte.domain.cohort_import.requests import Change, parse_cohort_changes, parse_cohort_naming
from kohorte.domain.errors import InvalidInput
from kohorte.store.database import make_session_factory
from kohorte.store.models import Cohort, CohortMembership
from kohorte.store.types import utcnow
from kohorte.store.usage import data_point_counts
from tests.support.seeds import seed_partner, seed_user, seed_users_bulk, seed_workspace

TODAY = (utcnow().date(), utcnow().date())


def test_parse_keeps_order_kinds_and_duplicates() -> None:
    parsed = parse_cohort_changes(
        {
            "cohort_id": "c",
            "cohort_changes": [
                {"aliases": [{"alias_name": "n", "alias_label": "l"}], "user_ids": ["a", "a"]},
                {"device_ids": ["d"], "should_remove": True},
            ],
        }
    )
    first, second = parsed.changes
    assert first == Change(False, ["a", "a"], [], [("l", "n")])
    assert second == Change(True, [], ["d"], [])
    assert parsed.size == 4


def test_parse_naming_converts_to_utc() -> None:
    naming = parse_cohort_naming(
        {"cohort_id": "c", "name": "N", "created_at": "2024-01-21T19:20:30+05:00"}
    )
    assert naming.created_at == datetime(2024, 1, 21, 14, 20, 30, tzinfo=UTC)


@pytest.mark.parametrize("created_at", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_times_outside_the_calendar_after_conversion_are_refused(created_at: str) -> None:
    with pytest.raises(InvalidInput, match="created_at"):
        parse_cohort_naming({"cohort_id": "c", "name": "N", "created_at": created_at})


def replayed(steps: list[tuple[list[int], bool]], members: set[int]) -> tuple[int, int, set[int]]:
    """The contract's reading of a request, one identifier at a time: the model of the plan."""
    state, added, removed = set(members), 0, 0
    for users, remove in steps:
        for user in users:
            if remove and user in state:
                state.discard(user)
                removed += 1
            elif not remove and user not in state:
                state.add(user)
                added += 1
    return added, removed, state


def planned(steps: list[tuple[list[int], bool]], members: set[int]) -> tuple[int, int, set[int]]:
    """The plan, with the store's answers simulated: who entered, who left."""
    plan = plan_sync(steps)
    entered = {user for user in plan.to_enter if user not in members}
    left = {user for user in plan.to_leave if user in members}
    added, removed = plan.counts(entered, left)
    return added, removed, (members | entered) - left


@pytest.mark.parametrize(
    ("steps", "members", "expected"),
    [
        ([([1], False), ([2], False)], set(), (2, 0, {1, 2})),
        ([([1], False), ([1], True)], set(), (1, 1, set())),
        ([([1], True), ([1], False)], {1}, (1, 1, {1})),
        ([([1, 1], False)], set(), (1, 0, {1})),
        ([([1, 2], True)], {2}, (0, 1, set())),
        ([([1], False)], {1}, (0, 0, {1})),
    ],
)
def test_membership_plan_replays_steps_in_order(
    steps: list[tuple[list[int], bool]], members: set[int], expected: tuple[Any, ...]
) -> None:
    assert planned(steps, members) == expected


users = st.lists(st.integers(0, 5), max_size=6)


@given(
    steps=st.lists(st.tuples(users, st.booleans()), min_size=1, max_size=6),
    members=st.sets(st.integers(0, 5)),
)
def test_plan_counts_equal_a_replay_one_identifier_at_a_time(
    steps: list[tuple[list[int], bool]], members: set[int]
) -> None:
    assert planned(steps, members) == replayed(steps, members)


def open_stays(session: Session) -> int | None:
    query = select(func.count()).where(CohortMembership.left_at.is_(None))
    return session.scalar(query)


def client_for(session: Session) -> PartnerClient:
    return PartnerClient(seed_workspace(session), seed_partner(session), key_id="unused")


def body(changes: list[dict[str, Any]], cohort_id: str = "c1") -> dict[str, Any]:
    return {"cohort_id": cohort_id, "cohort_changes": changes}


def test_sync_applies_and_keeps_size(session: Session) -> None:
    client = client_for(session)
    seed_user(session, client.workspace_id, external_id="a")
    seed_user(session, client.workspace_id, devices=["d"])
    result = cohort_sync.sync_cohort(
        session, client, body([{"user_ids": ["a", "x"], "device_ids": ["d"]}])
    )
    assert (result.added, result.removed, result.unmatched, result.matched) == (2, 0, 1, 2)
    assert session.scalar(select(Cohort.size)) == 2
    assert open_stays(session) == 2


def test_empty_changes_touch_nothing(session: Session) -> None:
    client = client_for(session)
    result = cohort_sync.sync_cohort(session, client, body([]))
    assert (result.added, result.removed, result.unmatched) == (0, 0, 0)
    assert session.scalar(select(func.count()).select_from(Cohort)) == 0


def run_concurrently(
    engine: Engine, client: PartnerClient, request: dict[str, Any], times: int
) -> list[cohort_sync.SyncResult]:
    factory = make_session_factory(engine)

    def one() -> cohort_sync.SyncResult:
        with factory.begin() as session:
            return cohort_sync.sync_cohort(session, client, request)

    with ThreadPoolExecutor(max_workers=times) as pool:
        return list(pool.map(lambda _: one(), range(times)))


def test_concurrent_syncs_of_one_cohort_keep_counts_exact(engine: Engine) -> None:
    with make_session_factory(engine).begin() as session:
        client = client_for(session)
        external_ids = [f"user-{n}" for n in range(200)]
        seed_users_bulk(session, client.workspace_id, external_ids)
    added = run_concurrently(engine, client, body([{"user_ids": external_ids}]), times=6)
    assert sum(result.added for result in added) == 200
    removed = run_concurrently(
        engine, client, body([{"user_ids": external_ids, "should_remove": True}]), times=6
    )
    assert sum(result.removed for result in removed) == 200
    with make_session_factory(engine)() as session:
        assert session.scalar(select(Cohort.size)) == 0
        assert open_stays(session) == 0
        assert session.scalar(select(func.count()).select_from(CohortMembership)) == 200
        assert session.scalar(select(func.count()).select_from(Cohort)) == 1
        assert [
            count for _, _, count in data_point_counts(session, client.workspace_id, *TODAY)
        ] == [400]
