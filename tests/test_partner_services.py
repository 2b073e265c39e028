"""Unit tests of the cohort sync services: request parsing, the membership plan, concurrency."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kohorte.domain import cohort_sync
from kohorte.domain.cohort_requests import (
    Identifier,
    IdKind,
    parse_cohort_changes,
    parse_cohort_naming,
)
from kohorte.domain.errors import InvalidInput
from kohorte.domain.partner_auth import PartnerClient
from kohorte.store.database import make_session_factory
from kohorte.store.models import Cohort, CohortMembership, DataPointCount
from tests.seed import seed_partner, seed_user, seed_users_bulk, seed_workspace


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
    assert first.identifiers == (
        Identifier(IdKind.EXTERNAL_ID, "a"),
        Identifier(IdKind.EXTERNAL_ID, "a"),
        Identifier(IdKind.ALIAS, "n", "l"),
    )
    assert (first.remove, second.remove) == (False, True)
    assert second.identifiers == (Identifier(IdKind.DEVICE_ID, "d"),)


def test_parse_naming_converts_to_utc() -> None:
    naming = parse_cohort_naming(
        {"cohort_id": "c", "name": "N", "created_at": "2024-01-21T19:20:30+05:00"}
    )
    assert naming.created_at == datetime(2024, 1, 21, 14, 20, 30, tzinfo=UTC)


@pytest.mark.parametrize("created_at", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_times_outside_the_calendar_after_conversion_are_refused(created_at: str) -> None:
    with pytest.raises(InvalidInput, match="created_at"):
        parse_cohort_naming({"cohort_id": "c", "name": "N", "created_at": created_at})


@pytest.mark.parametrize(
    ("steps", "members", "expected"),
    [
        ([(1, False), (2, False)], set(), ([1, 2], [], 2, 0)),
        ([(1, False), (1, True)], set(), ([], [], 1, 1)),
        ([(1, True), (1, False)], {1}, ([], [], 1, 1)),
        ([(1, False), (1, False)], set(), ([1], [], 1, 0)),
        ([(1, True), (2, True)], {2}, ([], [2], 0, 1)),
        ([(1, False)], {1}, ([], [], 0, 0)),
    ],
)
def test_membership_plan_replays_steps_in_order(
    steps: list[tuple[int, bool]], members: set[int], expected: tuple[Any, ...]
) -> None:
    plan = cohort_sync.plan_memberships(steps, members)
    assert (plan.to_insert, plan.to_delete, plan.added, plan.removed) == expected


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
    assert session.scalar(select(func.count()).select_from(CohortMembership)) == 2


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
        assert session.scalar(select(func.count()).select_from(CohortMembership)) == 0
        assert session.scalar(select(func.count()).select_from(Cohort)) == 1
        assert session.scalar(select(DataPointCount.count)) == 400
