"""Cohort sync: naming partner cohorts and applying their membership changes.

A change request costs a fixed handful of statements whatever its size: a shared lock on the
workspace's memberships, the cohort's id, the write, the sync log and one counter delta. When
no identifier comes twice and no user is both added and removed (the usual request), the write
matches and writes in one statement; otherwise the matcher looks the identifiers up, the
changes are replayed per user, then one insert opens stays and one update closes them. No statement
updates a row that another sync needs, so syncs of one cohort run side by side: the unique index
of open stays decides, user by user, which of two concurrent adds enters.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy.orm import Session

from kohorte.domain import unmatched as unmatched_ledger
from kohorte.domain.cohort_import import matcher
from kohorte.domain.cohort_import.auth import PartnerClient
from kohorte.domain.cohort_import.plan import plan_sync
from kohorte.domain.cohort_import.requests import (
    CohortChanges,
    parse_cohort_changes,
    parse_cohort_naming,
)
from kohorte.store import cohort_counters, memberships
from kohorte.store.cohort_counters import Delta
from kohorte.store.cohort_import import sync as store
from kohorte.store.memberships import Days
from kohorte.store.types import utcnow


@dataclass(frozen=True)
class SyncResult:
    added: int
    removed: int
    unmatched: int
    matched: int


def name_cohort(session: Session, client: PartnerClient, body: Mapping[str, object]) -> None:
    naming = parse_cohort_naming(body)
    store.upsert_named_cohort(
        session,
        client.workspace_id,
        client.partner_name,
        naming.cohort_id,
        naming.name,
        naming.created_at,
        utcnow(),
    )


def sync_cohort(
    session: Session,
    client: PartnerClient,
    body: Mapping[str, object],
    unmatched_limit: int = unmatched_ledger.DEFAULT_PER_COHORT,
) -> SyncResult:
    request = parse_cohort_changes(body)
    if not request.changes:
        return SyncResult(added=0, removed=0, unmatched=0, matched=0)  # a credentials check
    return _apply(session, client, request, unmatched_limit)


def _apply(
    session: Session, client: PartnerClient, request: CohortChanges, unmatched_limit: int
) -> SyncResult:
    now = utcnow()
    # Deletes and merges of users wait for this lock, so no stay is opened for a user that is
    # being deleted (the table has no foreign key that would catch it).
    memberships.share_workspace(session, client.workspace_id)
    cohort_pk = store.find_or_create_cohort(
        session, client.workspace_id, client.partner_name, request.cohort_id, now
    )
    written = _write_matched(session, client, cohort_pk, request, now)
    if written is None:
        written = _write_in_order(session, client, cohort_pk, request, now)
    matched, added, removed, entered, exited = written
    unmatched = request.size - matched
    if unmatched and unmatched_limit:  # a sync where everything matched pays nothing for it
        unmatched_ledger.record(
            session, client.workspace_id, cohort_pk, request, now, unmatched_limit
        )
    store.record_sync(session, cohort_pk, now, added, removed, unmatched)
    cohort_counters.record(session, _deltas(cohort_pk, now, added + removed, entered, exited))
    return SyncResult(added, removed, unmatched, matched)


def _deltas(
    cohort_pk: int, now: datetime, data_points: int, entered: Days, exited: Days
) -> list[Delta]:
    """One delta per day the write touched: usually one, today. Every applied add or remove is
    one data point, booked today; no-ops and unmatched ids are free. History counts the stays
    written, on the day each began or ended (a stay may begin after ``now``, see
    ``memberships``): a user added and removed in one request made no event."""
    touched = {now.date(), *entered, *exited}
    return [
        Delta(
            cohort_pk,
            day,
            members=entered[day] - exited[day],
            data_points=data_points if day == now.date() else 0,
            entered=entered[day],
            exited=exited[day],
        )
        for day in sorted(touched)
    ]


class Written(NamedTuple):
    """What a write did: identifiers matched, adds and removes applied in order (what the
    partner is told and charged), and the stays it actually opened and closed per day (the
    events)."""

    matched: int
    added: int
    removed: int
    entered: Days
    exited: Days


def _write_matched(
    session: Session, client: PartnerClient, cohort_pk: int, request: CohortChanges, now: datetime
) -> Written | None:
    """What one statement that matches and writes did that matches and writes, when order cannot
    matter: no identifier comes twice (so each matched row is one matched identifier) and no
    user is both added and removed (the store checks, and writes nothing if one is). The usual
    request, a batch of adds, of removes, or of each, then costs what its write costs."""
    if not _identifiers_distinct(request):
        return None
    adds = [change for change in request.changes if not change.remove]
    removes = [change for change in request.changes if change.remove]
    adding = matcher.matchable(adds) if adds else None
    removing = matcher.matchable(removes) if removes else None
    applied = memberships.apply_matched(
        session, client.workspace_id, cohort_pk, adding, removing, now
    )
    if applied is None:
        return None
    entered, left = applied.entered, applied.left
    return Written(applied.matched, entered.total(), left.total(), entered, left)


def _identifiers_distinct(request: CohortChanges) -> bool:
    kinds = (
        [i for change in request.changes for i in change.external_ids],
        [i for change in request.changes for i in change.device_ids],
        [a for change in request.changes for a in change.aliases],
    )
    return all(len(set(values)) == len(values) for values in kinds)


def _write_in_order(
    session: Session, client: PartnerClient, cohort_pk: int, request: CohortChanges, now: datetime
) -> Written:
    """What a request did that both adds and removes: changes replayed in
    order per user (domain/cohort_import/plan.py). Only for users it both adds and removes do
    the writes have to say who was a member before."""
    found = matcher.resolve(session, client.workspace_id, request.changes)
    steps = [(found.users_of(change), change.remove) for change in request.changes]
    matched = sum(len(users) for users, _ in steps)
    plan = plan_sync(steps)
    if not plan.replays:
        entered = memberships.count_entering(session, cohort_pk, plan.to_enter, now)
        exited = memberships.count_leaving(session, cohort_pk, plan.to_leave, now)
        return Written(matched, entered.total(), exited.total(), entered, exited)
    entered_users = memberships.enter(session, cohort_pk, plan.to_enter, now)
    left_users = memberships.leave(session, cohort_pk, plan.to_leave, now)
    added, removed = plan.counts(set(entered_users), set(left_users))
    return Written(matched, added, removed, Days(entered_users.values()), Days(left_users.values()))
