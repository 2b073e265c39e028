"""Membership history read from the stays: a user's events, a cohort's days, and pruning.

A stay is one ``entered`` event (its ``cause``) and, once closed, one ``left`` event (always a
partner's sync), so history and current membership are one set of rows and cannot disagree.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, delete, func, literal, select, text, true, tuple_, union_all
from sqlalchemy.orm import Session

from kohorte.store.cohort_counters import hold_folds
from kohorte.store.dialect import dialect_insert, is_postgresql
from kohorte.store.models import (
    Cohort,
    CohortCounterDelta,
    CohortDay,
    CohortMembership,
    HistoryHorizon,
)

ENTERED, LEFT = "entered", "left"


@dataclass(frozen=True)
class StoredEvent:
    partner: str
    cohort_id: str
    event: str
    at: datetime
    cause: int


@dataclass(frozen=True)
class DayCounts:
    day: date
    entered: int
    left: int


def user_events(session: Session, user_id: int) -> list[StoredEvent]:
    """Every event of the user, oldest first; at one instant a stay's left comes before the
    next stay's entered (ordering by the stay's start), and a stay's entered before its left."""
    stays = select(CohortMembership).where(CohortMembership.user_id == user_id).subquery()
    entered = select(
        stays.c.cohort_pk,
        literal(ENTERED).label("event"),
        stays.c.entered_at.label("at"),
        stays.c.entered_at.label("began"),
        stays.c.cause,
        literal(0).label("rank"),
    )
    left = select(
        stays.c.cohort_pk,
        literal(LEFT).label("event"),
        stays.c.left_at.label("at"),
        stays.c.entered_at.label("began"),
        literal(0).label("cause"),
        literal(1).label("rank"),
    ).where(stays.c.left_at.is_not(None))
    events = union_all(entered, left).subquery()
    rows = session.execute(
        select(Cohort.partner_name, Cohort.cohort_id, events.c.event, events.c.at, events.c.cause)
        .join(Cohort, Cohort.id == events.c.cohort_pk)
        .order_by(events.c.at, events.c.began, events.c.rank, Cohort.partner_name, Cohort.cohort_id)
    ).all()
    return [StoredEvent(*row) for row in rows]


def day_counts(cohort_pk: int, since: date) -> Any:
    """Entered and left events of the cohort per UTC day from ``since`` on, as rows (day,
    entered, exited) to group: the folded days plus the deltas not folded yet."""
    folded = select(CohortDay.day, CohortDay.entered, CohortDay.exited).where(
        CohortDay.cohort_pk == cohort_pk, CohortDay.day >= since
    )
    pending = select(
        CohortCounterDelta.day, CohortCounterDelta.entered, CohortCounterDelta.exited
    ).where(CohortCounterDelta.cohort_pk == cohort_pk, CohortCounterDelta.day >= since)
    return union_all(folded, pending).subquery()


@dataclass(frozen=True)
class CohortWindow:
    """A cohort over the days ``first``..``last``: its size at the end of ``last`` and the
    days of the window that had events."""

    size: int
    days: list[DayCounts]


def cohort_window(session: Session, cohort_pk: int, first: date, last: date) -> CohortWindow:
    """One statement: under READ COMMITTED each statement sees its own snapshot, so a size
    read apart from the days could include a sync the days miss (a size off by one, even -1).
    The days after the window are summed in SQL into one row (day NULL), so a window far in
    the past costs no walk over the days since."""
    both = day_counts(cohort_pk, first)
    key = case((both.c.day <= last, both.c.day)).label("day")
    grouped = (
        select(key, func.sum(both.c.entered).label("came"), func.sum(both.c.exited).label("went"))
        .group_by(key)
        .subquery()
    )
    rows = session.execute(
        select(Cohort.size, grouped.c.day, grouped.c.came, grouped.c.went)
        .outerjoin(grouped, true())
        .where(Cohort.id == cohort_pk)
    ).all()
    after = sum(
        int(came) - int(went) for _, day, came, went in rows if day is None and came is not None
    )
    found = [
        DayCounts(_as_date(day), int(came), int(went))
        for _, day, came, went in rows
        if day is not None
    ]
    return CohortWindow(int(rows[0][0] if rows else 0) - after, found)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def pruned_before(session: Session) -> datetime | None:
    """Before this instant, closed stays may have been pruned (None: nothing ever was)."""
    return session.scalar(select(HistoryHorizon.pruned_before).where(HistoryHorizon.id == 1))


# Only one prune at a time (per transaction: a prune commits between its batches).
PRUNE_LOCK = 0x6B6F686F72746502
PRUNE_BATCH = 1_000


def take_prune_lock(session: Session) -> bool:
    """False when another prune holds it; on SQLite the write lock serializes anyway."""
    if not is_postgresql(session):
        return True
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": PRUNE_LOCK}))


def record_horizon(session: Session, before: datetime) -> None:
    """An upsert that only moves the horizon forward: prunes of several workers may overlap."""
    horizon = dialect_insert(session, HistoryHorizon).values(id=1, pruned_before=before)
    kept = HistoryHorizon.pruned_before
    later = case(
        (horizon.excluded.pruned_before > kept, horizon.excluded.pruned_before), else_=kept
    )
    session.execute(
        horizon.on_conflict_do_update(index_elements=["id"], set_={"pruned_before": later})
    )


def prune_stays(session: Session, before: datetime, limit: int = PRUNE_BATCH) -> int:
    """Delete up to ``limit`` stays that ended before ``before``, in key order; how many.

    Such a stay is a member at no instant from ``before`` on, so no current membership and no
    size at a time still kept changes. On PostgreSQL rows another writer holds (a delete of
    users) are skipped, never waited for: the prune cannot deadlock with it, and a later prune
    takes them.
    """
    stay = CohortMembership
    key = (stay.cohort_pk, stay.user_id, stay.entered_at)
    batch = select(*key).where(stay.left_at < before).order_by(*key).limit(limit)
    if is_postgresql(session):
        batch = batch.with_for_update(skip_locked=True)
    removed = session.execute(
        delete(stay).where(tuple_(*key).in_(batch)).execution_options(synchronize_session=False)
    )
    return int(getattr(removed, "rowcount", 0))


def prune_days(session: Session, before: date, limit: int = PRUNE_BATCH) -> int:
    """Delete up to ``limit`` folded days wholly before the horizon (never read again), under
    the lock folds take: a fold upserts these rows, in another order."""
    hold_folds(session)
    batch = (
        select(CohortDay.cohort_pk, CohortDay.day)
        .where(CohortDay.day < before)
        .order_by(CohortDay.cohort_pk, CohortDay.day)
        .limit(limit)
    )
    removed = session.execute(
        delete(CohortDay)
        .where(tuple_(CohortDay.cohort_pk, CohortDay.day).in_(batch))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(removed, "rowcount", 0))
