"""Cohort memberships as stays: opening and closing them, and what user deletes and merges do.

A stay is open (the user is a member) while ``left_at`` is null; the partial unique index
``uq_cohort_memberships_current`` holds at most one open stay per cohort and user. The table
has no foreign keys, so the writers that remove users take the workspace's membership lock
exclusively (``hold_workspace``) while partner syncs share it (``share_workspace``): a sync
never opens a stay for a user that a concurrent delete is removing.
"""

import hashlib
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import IntEnum
from typing import Any, cast

from sqlalchemy import (
    Table,
    any_,
    case,
    delete,
    false,
    func,
    intersect,
    literal,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from kohorte.store import identities
from kohorte.store.batches import batch_rows, in_batch
from kohorte.store.cohort_counters import Delta
from kohorte.store.dialect import dialect_insert, is_postgresql
from kohorte.store.identities import Identifiers, UserQuery
from kohorte.store.models import CohortMembership

Membership = cast(Table, CohortMembership.__table__)
PerCohort = dict[int, int]  # cohort pk -> number of members gained (or lost)
Days = Counter[date]  # UTC day -> stays opened (or closed) at an instant of that day
# The ON CONFLICT target of adds: only an open stay makes an add a no-op; any other unique
# clash is an error (and, being contention, retried), never a silently dropped row.
OPEN_STAY = ["cohort_pk", "user_id"]
OPEN = Membership.c.left_at.is_(None)


class StayCause(IntEnum):
    """What opened a stay: stored in ``cause``; every stay is closed by a partner's sync."""

    PARTNER_SYNC = 0
    MERGE = 1


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


@dataclass(frozen=True)
class Applied:
    """What one write of matched users did: identifiers matched (both ways), and the stays it
    opened and closed per day of their ``entered_at`` / ``left_at``."""

    matched: int
    entered: Days
    left: Days


def apply_matched(
    session: Session,
    workspace_id: str,
    cohort_pk: int,
    adding: Identifiers | None,
    removing: Identifiers | None,
    now: datetime,
) -> Applied | None:
    """Open stays for the users ``adding`` matches and close those of the users ``removing``
    matches, in the statement that matches them (on PostgreSQL; SQLite needs three, under its
    write lock). None, with nothing written, when some user is matched both ways: then the
    order of the changes decides, and the caller replays them."""
    entering = _matched(session, workspace_id, adding)
    leaving = _matched(session, workspace_id, removing)
    if is_postgresql(session):
        return _apply_matched_in_one(session, cohort_pk, entering, leaving, now)
    adds = entering.subquery() if entering is not None else None
    removes = leaving.subquery() if leaving is not None else None
    matched, clash = session.execute(
        select(_count(adds) + _count(removes), _clash(adds, removes))
    ).one()
    if clash:
        return None
    entered = (
        _days(session, _entering(session, cohort_pk, adds, now)) if adds is not None else Days()
    )
    left = (
        _days(session, _leaving(session, cohort_pk, removes, now))
        if removes is not None
        else Days()
    )
    return Applied(int(matched), entered, left)


def _apply_matched_in_one(
    session: Session,
    cohort_pk: int,
    entering: UserQuery | None,
    leaving: UserQuery | None,
    now: datetime,
) -> Applied | None:
    adds = entering.cte("adds") if entering is not None else None
    removes = leaving.cte("removes") if leaving is not None else None
    clash = _clash(adds, removes)
    entered = left = literal(None)
    if adds is not None:
        written = _entering(session, cohort_pk, adds, now, ~clash)
        entered = _instants(written.returning(Membership.c.entered_at.label("at")).cte("entered"))
    if removes is not None:
        written = _leaving(session, cohort_pk, removes, now, ~clash)
        left = _instants(written.returning(Membership.c.left_at.label("at")).cte("left"))
    row = session.execute(select(_count(adds) + _count(removes), clash, entered, left)).one()
    return None if row[1] else Applied(int(row[0]), _per_day(row[2]), _per_day(row[3]))


def _instants(written: Any) -> Any:
    """The instants a write gave its stays, as one array: the caller books each on its day."""
    return select(func.array_agg(written.c.at)).scalar_subquery()


def _per_day(instants: Sequence[datetime] | None) -> Days:
    return Counter(_utc_day(at) for at in instants or ())


def _utc_day(at: datetime) -> date:
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(UTC).date()


def _matched(session: Session, workspace_id: str, found: Identifiers | None) -> UserQuery | None:
    return None if found is None else identities.matched_users(session, workspace_id, found)


def _count(rows: Any) -> Any:
    if rows is None:
        return literal(0)
    return select(func.count()).select_from(rows).scalar_subquery()


def _clash(adds: Any, removes: Any) -> Any:
    if adds is None or removes is None:
        return false()
    # INTERSECT, which PostgreSQL hashes: a join or IN of two CTEs, of which it knows no
    # statistics, became a nested loop over every pair. Never correlated: inside the insert
    # from ``adds`` it would turn into a per-row filter.
    both = intersect(select(adds.c.user_id), select(removes.c.user_id)).subquery()
    return select(both.c.user_id).correlate(None).exists()


def enter(
    session: Session, cohort_pk: int, user_ids: Sequence[int], now: datetime
) -> dict[int, date]:
    """Open a stay for every user not in the cohort now; returns the users that entered, each
    with the day its stay began."""
    if not user_ids:
        return {}
    write = _entering(session, cohort_pk, _listed(session, user_ids), now)
    return _named(session, write.returning(Membership.c.user_id, Membership.c.entered_at))


def count_entering(
    session: Session, cohort_pk: int, user_ids: Sequence[int], now: datetime
) -> Days:
    """``enter``, counting the users that entered per day instead of naming them."""
    if not user_ids:
        return Days()
    return _days(session, _entering(session, cohort_pk, _listed(session, user_ids), now))


def leave(
    session: Session, cohort_pk: int, user_ids: Sequence[int], now: datetime
) -> dict[int, date]:
    """Close the open stays of these users; returns the users that left, each with the day
    its stay ended."""
    if not user_ids:
        return {}
    write = _leaving(session, cohort_pk, _listed(session, user_ids), now)
    return _named(session, write.returning(Membership.c.user_id, Membership.c.left_at))


def count_leaving(session: Session, cohort_pk: int, user_ids: Sequence[int], now: datetime) -> Days:
    """``leave``, counting the users that left per day instead of naming them."""
    if not user_ids:
        return Days()
    return _days(session, _leaving(session, cohort_pk, _listed(session, user_ids), now))


def _named(session: Session, write: Any) -> dict[int, date]:
    return {user_id: _utc_day(at) for user_id, at in session.execute(write)}


def _listed(session: Session, user_ids: Sequence[int]) -> Any:
    return select(batch_rows(session, user_ids).subquery().c.value.label("user_id")).subquery()


def _entering(
    session: Session, cohort_pk: int, users: Any, now: datetime, guard: Any = None
) -> Any:
    """On PostgreSQL rows go in ascending user order, so two syncs adding overlapping users wait
    on each other in one order and cannot deadlock; a user another sync is adding is decided by
    its commit. SQLite has one writer at a time, and an ORDER BY there makes it walk all the
    workspace's users by id instead of looking the batch up."""
    rows = select(literal(cohort_pk), users.c.user_id, _entered_at(session, cohort_pk, users, now))
    # Never without WHERE: SQLite would read the ON CONFLICT that follows as a join condition.
    rows = rows.where(guard if guard is not None else true())
    if is_postgresql(session):
        rows = rows.order_by(users.c.user_id)
    return (
        dialect_insert(session, Membership)
        .from_select(["cohort_pk", "user_id", "entered_at"], rows)
        .on_conflict_do_nothing(
            index_elements=OPEN_STAY, index_where=Membership.c.left_at.is_(None)
        )
    )


def _entered_at(session: Session, cohort_pk: int, users: Any, now: datetime) -> Any:
    """A stay begins no earlier than the user's previous stay in the cohort ended: a sync that
    took ``now`` before a concurrent remove committed with a later one must not open a stay
    overlapping that closed one (a user counted twice at an instant between)."""
    earlier = Membership.alias("earlier")
    at = literal(now, Membership.c.entered_at.type)
    ended = (
        select(func.max(earlier.c.left_at))
        .where(earlier.c.cohort_pk == cohort_pk, earlier.c.user_id == users.c.user_id)
        .scalar_subquery()
    )
    if is_postgresql(session):
        # A microsecond after it: a stay closed the instant it opened would otherwise share
        # its key (cohort, user, entered_at) with the new one. greatest skips a null.
        return func.greatest(at, ended + literal_column("interval '1 microsecond'"))
    return func.max(at, func.coalesce(ended, at)).label("entered_at")


def _leaving(session: Session, cohort_pk: int, users: Any, now: datetime, guard: Any = None) -> Any:
    user_ids = select(users.c.user_id)
    # On PostgreSQL = ANY(array(...)): an index scan in user order, so overlapping removes lock
    # their rows in one order (see store/batches.py).
    listed = (
        Membership.c.user_id == any_(func.array(user_ids.scalar_subquery()))
        if is_postgresql(session)
        else Membership.c.user_id.in_(user_ids)
    )
    # A stay opened by a sync that started later but committed first must not end before it
    # began: the stay ends at the later of the two times.
    ends = case((Membership.c.entered_at > now, Membership.c.entered_at), else_=now)
    conditions = [Membership.c.cohort_pk == cohort_pk, Membership.c.left_at.is_(None), listed]
    if guard is not None:
        conditions.append(guard)
    return update(Membership).where(*conditions).values(left_at=ends)


def _days(session: Session, write: Any) -> Days:
    """Runs an insert of stays or an update closing them: the stays written per day."""
    column = Membership.c.entered_at if write.is_insert else Membership.c.left_at
    return _per_day(session.scalars(write.returning(column)).all())


def remove_users(session: Session, user_ids: Collection[int], now: datetime) -> list[Delta]:
    """Delete every stay of these users (a deleted user leaves no history); returns what the
    cohorts lost: members today, and the events of the days the stays began and ended."""
    if not user_ids:
        return []
    rows = session.execute(
        delete(Membership)
        .where(in_batch(session, Membership.c.user_id, user_ids))
        .returning(Membership.c.cohort_pk, Membership.c.entered_at, Membership.c.left_at)
    )
    members: Counter[tuple[int, date]] = Counter()
    entered: Counter[tuple[int, date]] = Counter()
    exited: Counter[tuple[int, date]] = Counter()
    for cohort_pk, entered_at, left_at in rows:
        entered[cohort_pk, entered_at.date()] -= 1
        if left_at is None:
            members[cohort_pk, now.date()] -= 1
        else:
            exited[cohort_pk, left_at.date()] -= 1
    return [
        Delta(pk, day, members=members[pk, day], entered=entered[pk, day], exited=exited[pk, day])
        for pk, day in {*members, *entered, *exited}
    ]


def carry_over(session: Session, pairs: Mapping[int, int], now: datetime) -> PerCohort:
    """Each target enters the cohorts its source is in now (a cohort holding both keeps one
    member); returns, per cohort, how many targets entered. Every target at most once."""
    if not pairs:
        return {}
    rows = select(
        Membership.c.cohort_pk,
        case(pairs, value=Membership.c.user_id),
        literal(now, Membership.c.entered_at.type),
        literal(int(StayCause.MERGE)),
    ).where(Membership.c.user_id.in_(list(pairs)), Membership.c.left_at.is_(None))
    statement = (
        dialect_insert(session, Membership)
        .from_select(["cohort_pk", "user_id", "entered_at", "cause"], rows)
        .on_conflict_do_nothing(
            index_elements=OPEN_STAY, index_where=Membership.c.left_at.is_(None)
        )
        .returning(Membership.c.cohort_pk)
    )
    gained: PerCohort = {}
    for cohort_pk in session.scalars(statement):
        gained[cohort_pk] = gained.get(cohort_pk, 0) + 1
    return gained
