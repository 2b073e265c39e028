"""Cohort sync: naming partner cohorts and applying their membership changes.

A change request is applied with set-based statements whatever its size: one upsert that
creates or locks the cohort, the matcher's lookups, one select of the current memberships among
the matched users, one insert of the net adds, one delete of the net removes, then the
bookkeeping (size, sync log, data points).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from kohorte.domain import matcher
from kohorte.domain.cohort_requests import (
    CohortChanges,
    parse_cohort_changes,
    parse_cohort_naming,
)
from kohorte.domain.partner_auth import PartnerClient
from kohorte.store import cohort_writes as store
from kohorte.store.cohort_sizes import adjust_cohort_size
from kohorte.store.data_points import add_data_points
from kohorte.store.types import utcnow

Step = tuple[int, bool]  # (user id, should_remove)


@dataclass(frozen=True)
class SyncResult:
    added: int
    removed: int
    unmatched: int
    matched: int


@dataclass(frozen=True)
class MembershipPlan:
    """What applying the steps in order does to the memberships the cohort has now."""

    to_insert: list[int]
    to_delete: list[int]
    added: int
    removed: int


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


def sync_cohort(session: Session, client: PartnerClient, body: Mapping[str, object]) -> SyncResult:
    request = parse_cohort_changes(body)
    if not request.changes:
        return SyncResult(added=0, removed=0, unmatched=0, matched=0)  # a credentials check
    return _apply(session, client, request)


def _apply(session: Session, client: PartnerClient, request: CohortChanges) -> SyncResult:
    now = utcnow()
    cohort_pk = store.lock_or_create_cohort(
        session, client.workspace_id, client.partner_name, request.cohort_id, now
    )
    steps, unmatched = _steps(session, client.workspace_id, request)
    current = store.members_among(session, cohort_pk, {user_id for user_id, _ in steps})
    plan = plan_memberships(steps, current)
    _write_memberships(session, cohort_pk, plan, now)
    store.record_sync(session, cohort_pk, now, plan.added, plan.removed, unmatched)
    if plan.added + plan.removed:
        # Every applied add or remove is one data point; no-ops and unmatched ids are free.
        points = plan.added + plan.removed
        add_data_points(session, client.workspace_id, client.partner_name, now.date(), points)
    return SyncResult(plan.added, plan.removed, unmatched, matched=len(steps))


def _write_memberships(
    session: Session, cohort_pk: int, plan: MembershipPlan, now: datetime
) -> None:
    inserted = store.add_members(session, cohort_pk, plan.to_insert, now)
    deleted = store.remove_members(session, cohort_pk, plan.to_delete)
    # By the rows actually written, so the size stays exact even if a user vanished meanwhile.
    adjust_cohort_size(session, cohort_pk, inserted - deleted)


def _steps(session: Session, workspace_id: str, request: CohortChanges) -> tuple[list[Step], int]:
    """The matched identifiers as (user, remove) steps in request order, and the unmatched count."""
    identifiers = [i for change in request.changes for i in change.identifiers]
    users = matcher.resolve(session, workspace_id, identifiers)
    steps = [
        (users[identifier], change.remove)
        for change in request.changes
        for identifier in change.identifiers
        if identifier in users
    ]
    return steps, len(identifiers) - len(steps)


def plan_memberships(steps: Iterable[Step], members: set[int]) -> MembershipPlan:
    """Replay the steps in order over ``members`` (the current members among their users).

    Every step that changes membership counts, so adding then removing one user in a request
    counts one add and one remove and leaves no row behind.
    """
    state = set(members)
    added = removed = 0
    for user_id, remove in steps:
        if remove and user_id in state:
            state.discard(user_id)
            removed += 1
        elif not remove and user_id not in state:
            state.add(user_id)
            added += 1
    return MembershipPlan(sorted(state - members), sorted(members - state), added, removed)
