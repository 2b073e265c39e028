"""Cohort memberships as stays: opening and closing them, and what user deletes and merges do.

A stay is open (the user is a member) while ``left_at`` is null; the partial unique index
``uq_cohort_memberships_current`` holds at most one open stay per cohort and user. The table
has no foreign keys, so the writers that remove users take the workspace's membership lock
exclusively (``hold_workspace``) while partner syncs share it (``share_workspace``): a sync
never opens a stay for a user that a concurrent delete is removing.
"""

import hashlib
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, any_, case, delete, func, literal, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from kohorte.store.batches import batch_rows, in_batch
from kohorte.store.dialect import dialect_insert, is_postgresql
from kohorte.store.models import CohortMembership

Membership = cast(Table, CohortMembership.__table__)
PerCohort = dict[int, int]  # cohort pk -> number of members gained (or lost)


def share_workspace(session: Session, workspace_id: str) -> None:
    """Held by partner syncs until their commit; on SQLite the write lock serializes anyway."""
    if is_postgresql(session):
        session.execute(sql_text("SELECT pg_advisory_xact_lock_shared(:key)"), _lock(workspace_id))


def hold_workspace(session: Session, workspace_id: str) -> None:
    """Held by user deletes, merges and workspace deletion until their commit.

    Taken before any row lock, by every writer that takes it, so it adds no deadlock.
    """
    if is_postgresql(session):
        session.execute(sql_text("SELECT pg_advisory_xact_lock(:key)"), _lock(workspace_id))


def _lock(workspace_id: str) -> dict[str, int]:
    digest = hashlib.blake2b(f"memberships:{workspace_id}".encode(), digest_size=8).digest()
    return {"key": int.from_bytes(digest, "big", signed=True)}


def enter(session: Session, cohort_pk: int, user_ids: Sequence[int], now: datetime) -> set[int]:
    """Open a stay for every user not in the cohort now; returns the users that entered."""
    if not user_ids:
        return set()
    entering = _entering(session, cohort_pk, user_ids, now).returning(Membership.c.user_id)
    return set(session.scalars(entering).all())


def _entering(session: Session, cohort_pk: int, user_ids: Sequence[int], now: datetime) -> Any:
    """Rows go in ascending user order, so two syncs adding overlapping users wait on each other
    in one order and cannot deadlock; a user another sync is adding is decided by its commit."""
    users = batch_rows(session, user_ids).subquery()
    rows = select(
        literal(cohort_pk), users.c.value, literal(now, Membership.c.entered_at.type)
    ).order_by(users.c.value)
    return (
        dialect_insert(session, Membership)
        .from_select(["cohort_pk", "user_id", "entered_at"], rows)
        .on_conflict_do_nothing()
    )


def leave(session: Session, cohort_pk: int, user_ids: Sequence[int], now: datetime) -> set[int]:
    """Close the open stays of these users; returns the users that left."""
    if not user_ids:
        return set()
    leaving = _leaving(session, cohort_pk, user_ids, now).returning(Membership.c.user_id)
    return set(session.scalars(leaving).all())


def _leaving(session: Session, cohort_pk: int, user_ids: Sequence[int], now: datetime) -> Any:
    # A stay opened by a sync that started later but committed first must not end before it
    # began: the stay ends at the later of the two times.
    ends = case((Membership.c.entered_at > now, Membership.c.entered_at), else_=now)
    return (
        update(Membership)
        .where(
            Membership.c.cohort_pk == cohort_pk,
            Membership.c.left_at.is_(None),
            in_batch(session, Membership.c.user_id, user_ids),
        )
        .values(left_at=ends)
    )


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


def enter_matched(
    session: Session, cohort_pk: int, matched: Select[int], now: datetime
) -> tuple[int, int]:
    """Open a stay for every matched user not in the cohort now, in the statement that finds
    them: (identifiers matched, users entered). Rows go in ascending user order."""
    found = matched.subquery() if not is_postgresql(session) else matched.cte("matched")
    rows = select(literal(cohort_pk), found.c.user_id, literal(now, Membership.c.entered_at.type))
    entering = (
        dialect_insert(session, Membership)
        .from_select(["cohort_pk", "user_id", "entered_at"], rows.order_by(found.c.user_id))
        .on_conflict_do_nothing()
    )
    return _counted(session, found, entering)


def leave_matched(
    session: Session, cohort_pk: int, matched: Select[int], now: datetime
) -> tuple[int, int]:
    """Close the open stays of the matched users, in the statement that finds them:
    (identifiers matched, users that left)."""
    found = matched.subquery() if not is_postgresql(session) else matched.cte("matched")
    user_ids = select(found.c.user_id)
    in_found = (
        Membership.c.user_id == any_(func.array(user_ids.scalar_subquery()))
        if is_postgresql(session)
        else Membership.c.user_id.in_(user_ids)
    )
    ends = case((Membership.c.entered_at > now, Membership.c.entered_at), else_=now)
    leaving = (
        update(Membership)
        .where(Membership.c.cohort_pk == cohort_pk, Membership.c.left_at.is_(None), in_found)
        .values(left_at=ends)
    )
    return _counted(session, found, leaving)


def _counted(session: Session, found: Any, write: Any) -> tuple[int, int]:
    """(rows found, rows written): one statement on PostgreSQL, whose CTEs may write; two on
    SQLite, where both run under the transaction's write lock."""
    found_count = select(func.count()).select_from(found).scalar_subquery()
    if is_postgresql(session):
        written = write.returning(literal(1)).cte("written")
        written_count = select(func.count()).select_from(written).scalar_subquery()
        row = session.execute(select(found_count, written_count)).one()
        return int(row[0]), int(row[1])
    matched = int(session.scalar(select(found_count)) or 0)
    return matched, _rowcount(session.execute(write.execution_options(preserve_rowcount=True)))


def remove_users(session: Session, user_ids: Collection[int]) -> PerCohort:
    """Delete every stay of these users (a deleted user leaves no history); returns, per
    cohort, how many members it lost (negative)."""
    if not user_ids:
        return {}
    rows = session.execute(
        delete(Membership)
        .where(in_batch(session, Membership.c.user_id, user_ids))
        .returning(Membership.c.cohort_pk, Membership.c.left_at)
    )
    lost: PerCohort = {}
    for cohort_pk, left_at in rows:
        if left_at is None:
            lost[cohort_pk] = lost.get(cohort_pk, 0) - 1
    return lost


def carry_over(session: Session, pairs: Mapping[int, int], now: datetime) -> PerCohort:
    """Each target enters the cohorts its source is in now (a cohort holding both keeps one
    member); returns, per cohort, how many targets entered. Every target at most once."""
    if not pairs:
        return {}
    rows = select(
        Membership.c.cohort_pk,
        case(pairs, value=Membership.c.user_id),
        literal(now, Membership.c.entered_at.type),
    ).where(Membership.c.user_id.in_(list(pairs)), Membership.c.left_at.is_(None))
    statement = (
        dialect_insert(session, Membership)
        .from_select(["cohort_pk", "user_id", "entered_at"], rows)
        .on_conflict_do_nothing()
        .returning(Membership.c.cohort_pk)
    )
    gained: PerCohort = {}
    for cohort_pk in session.scalars(statement):
        gained[cohort_pk] = gained.get(cohort_pk, 0) + 1
    return gained
