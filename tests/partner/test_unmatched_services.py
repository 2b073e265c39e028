"""The ledger's bound (``KOHORTE_UNMATCHED_PER_COHORT``) and the matcher's reasons, through
the services: a small bound, none at all, concurrent syncs, times that never go back, and what
``matcher.unmatched`` says of each kind."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kohorte.domain import unmatched
from kohorte.domain.cohort_import import matcher
from kohorte.domain.cohort_import import sync as cohort_sync
from kohorte.domain.cohort_import.auth import PartnerClient
from kohorte.domain.cohort_import.requests import parse_cohort_changes
from kohorte.settings import Settings
from kohorte.store import unmatched as ledger_store
from kohorte.store.database import make_session_factory
from tests.support.seeds import seed_partner, seed_user, seed_workspace


def partner_client(session: Session) -> PartnerClient:
    return PartnerClient(seed_workspace(session), seed_partner(session), key_id="unused")


def sync_service(session: Session, client: PartnerClient, limit: int, *user_ids: str) -> Any:
    body = {"cohort_id": "c1", "cohort_changes": [{"user_ids": list(user_ids)}]}
    return cohort_sync.sync_cohort(session, client, body, unmatched_limit=limit)


def ledger(session: Session, client: PartnerClient) -> list[str]:
    page = unmatched.list_unmatched(session, client.workspace_id, "amplitude", "c1", 1000)
    return [identifier.value for identifier in page.items]


def test_the_default_bound_is_the_setting_default() -> None:
    assert unmatched.DEFAULT_PER_COHORT == Settings().unmatched_per_cohort == 10_000


def test_a_small_bound_keeps_the_most_recently_seen(session: Session) -> None:
    client = partner_client(session)
    sync_service(session, client, 3, "x1", "x2")
    sync_service(session, client, 3, "x3")
    sync_service(session, client, 3, "x1")  # seen again: now the most recent
    assert sync_service(session, client, 3, "x4").unmatched == 1
    assert ledger(session, client) == ["x4", "x1", "x3"]


def test_a_batch_beyond_the_bound_keeps_the_bound(session: Session) -> None:
    client = partner_client(session)
    sync_service(session, client, 2, "x1")
    sync_service(session, client, 2, "y1", "y2", "y3")
    assert len(ledger(session, client)) == 2
    assert "x1" not in ledger(session, client)


def test_a_bound_of_zero_keeps_nothing(session: Session) -> None:
    client = partner_client(session)
    assert sync_service(session, client, 0, "x1", "x2").unmatched == 2
    assert ledger(session, client) == []


def test_the_matcher_says_why_each_kind_matched_nobody(session: Session) -> None:
    workspace_id = seed_workspace(session)
    seed_user(session, workspace_id, "u1", devices=["d-known"], aliases=[("crm", "a1")])
    seed_user(session, workspace_id, devices=["d-anon"])
    request = parse_cohort_changes(
        {
            "cohort_id": "c1",
            "cohort_changes": [
                {"user_ids": ["u1", "x", "x"], "device_ids": ["d-known", "d-anon", "d-x"]},
                {"aliases": [{"alias_label": "crm", "alias_name": n} for n in ("a1", "ax")]},
            ],
        }
    )
    found = matcher.unmatched(session, workspace_id, request.changes)
    assert sorted(found) == [
        (matcher.Kind.EXTERNAL_ID, "", "x", matcher.Unmatchable.NO_EXTERNAL_ID),
        (matcher.Kind.DEVICE_ID, "", "d-known", matcher.Unmatchable.DEVICE_OF_IDENTIFIED_USER),
        (matcher.Kind.DEVICE_ID, "", "d-x", matcher.Unmatchable.NO_DEVICE),
        (matcher.Kind.ALIAS, "crm", "ax", matcher.Unmatchable.NO_ALIAS),
    ]


def test_concurrent_syncs_count_every_request_and_keep_the_bound(engine: Engine) -> None:
    """Six syncs side by side, each with 20 identifiers of its own and the same 20 shared ones,
    over a bound of 100: the shared ones, seen by every sync, are among the most recent and
    counted six times. Syncs that add side by side each cut back what they see, so the bound
    holds again from the next sync that adds."""
    factory = make_session_factory(engine)
    with factory.begin() as session:
        client = partner_client(session)
        sync_service(session, client, 100, "x-first")

    def one(n: int) -> None:
        with factory.begin() as session:
            own = [f"x{n}-{i}" for i in range(20)]
            sync_service(session, client, 100, *own, *(f"shared-{i}" for i in range(20)))

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(one, range(6)))
    with factory.begin() as session:
        sync_service(session, client, 100, "x-last")
        found = unmatched.list_unmatched(session, client.workspace_id, "amplitude", "c1", 1000)
    assert len(found.items) == 100
    shared = [i for i in found.items if i.value.startswith("shared-")]
    assert sorted(i.count for i in shared) == [6] * 20


def test_a_sync_that_read_the_clock_earlier_but_writes_later_moves_no_time_back(
    session: Session,
) -> None:
    earlier, later = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    device = matcher.Kind.DEVICE_ID
    identified, unknown = (
        matcher.Unmatchable.DEVICE_OF_IDENTIFIED_USER,
        matcher.Unmatchable.NO_DEVICE,
    )
    ledger_store.record(session, 7, [ledger_store.Row(device, "", "d1", identified)], later)
    ledger_store.record(session, 7, [ledger_store.Row(device, "", "d1", unknown)], earlier)
    (entry,) = ledger_store.entries_after(session, 7, None, 10)
    assert (entry.count, entry.first_seen_at, entry.last_seen_at) == (2, earlier, later)
    assert entry.reason == identified
