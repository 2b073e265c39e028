"""Membership history read from the stays: a user's events, a cohort's days, and pruning.

A stay is one ``entered`` event (its ``cause``) and, once closed, one ``left`` event (always a
partner's sync), so history and current membership are one set of rows and cannot disagree.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, delete, func, literal, select, union_all
from sqlalchemy.orm import Session

from kohorte.store.dialect import dialect_insert
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


def cohort_day_counts(session: Session, cohort_pk: int, since: date) -> list[DayCounts]:
    """Entered and left events of the cohort per UTC day, for the days from ``since`` on: the
    folded days plus the deltas not folded yet."""
    folded = select(CohortDay.day, CohortDay.entered, CohortDay.exited).where(
        CohortDay.cohort_pk == cohort_pk, CohortDay.day >= since
    )
    pending = select(
        CohortCounterDelta.day, CohortCounterDelta.entered, CohortCounterDelta.exited
    ).where(CohortCounterDelta.cohort_pk == cohort_pk, CohortCounterDelta.day >= since)
    both = union_all(folded, pending).subquery()
    rows = session.execute(
        select(both.c.day, func.sum(both.c.entered), func.sum(both.c.exited))
        .group_by(both.c.day)
        .order_by(both.c.day)
    ).all()
    return [DayCounts(_as_date(day), int(came), int(went)) for day, came, went in rows]


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def pruned_before(session: Session) -> datetime | None:
    """Before this instant, closed stays may have been pruned (None: nothing ever was)."""
    return session.scalar(select(HistoryHorizon.pruned_before).where(HistoryHorizon.id == 1))


def prune(session: Session, before: datetime) -> int:
    """Delete the stays that ended before ``before`` and record the horizon; returns how many.

    Such a stay is a member at no instant from ``before`` on, so no current membership and no
    size at a time still kept changes; stays still open at ``before`` keep their entered event.
    """
    removed = session.execute(
        delete(CohortMembership)
        .where(CohortMembership.left_at < before)
        .execution_options(synchronize_session=False)
    )
    # Days wholly before the horizon are never read again.
    session.execute(delete(CohortDay).where(CohortDay.day < before.date()))
    # An upsert that only moves the horizon forward: prunes of several workers may overlap.
    horizon = dialect_insert(session, HistoryHorizon).values(id=1, pruned_before=before)
    kept = HistoryHorizon.pruned_before
    later = case(
        (horizon.excluded.pruned_before > kept, horizon.excluded.pruned_before), else_=kept
    )
    session.execute(
        horizon.on_conflict_do_update(index_elements=["id"], set_={"pruned_before": later})
    )
    return int(getattr(removed, "rowcount", 0))
