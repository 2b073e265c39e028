"""Direct store seeding of cohorts, memberships, syncs and data points for read tests.

Partner syncs write these rows in production; the read side is tested against rows whose
timestamps and counts the test chooses.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.orm import Session

from kohorte.store.database import make_session_factory
from kohorte.store.models import Cohort, CohortMembership, CohortSync, DataPointCount
from kohorte.store.types import utcnow


def seed_cohort(
    session: Session,
    workspace_id: str,
    partner: str,
    cohort_id: str,
    name: str | None = "A cohort",
    members: Iterable[int] = (),
    created_at: datetime | None = None,
) -> int:
    """A cohort holding the given user ids; returns its primary key."""
    created = created_at or utcnow()
    cohort = Cohort(
        workspace_id=workspace_id,
        partner_name=partner,
        cohort_id=cohort_id,
        name=name,
        created_at=created,
        updated_at=created,
        folded_size=0,
    )
    session.add(cohort)
    session.flush()
    add_members(session, cohort.id, members)
    return cohort.id


def add_members(session: Session, cohort_pk: int, user_ids: Iterable[int]) -> None:
    """Open stays for the users (entered now) and set the cohort's size to its member count."""
    now = utcnow()
    rows = [{"cohort_pk": cohort_pk, "user_id": user_id, "entered_at": now} for user_id in user_ids]
    if rows:
        session.execute(insert(CohortMembership), rows)
    _recount(session, cohort_pk)


def remove_members(session: Session, cohort_pk: int, user_ids: Iterable[int]) -> None:
    session.execute(
        update(CohortMembership)
        .where(
            CohortMembership.cohort_pk == cohort_pk,
            CohortMembership.user_id.in_(list(user_ids)),
            CohortMembership.left_at.is_(None),
        )
        .values(left_at=utcnow())
    )
    _recount(session, cohort_pk)


def member_ids(session: Session, cohort_pk: int) -> set[int]:
    """The cohort's members now: its open stays."""
    query = select(CohortMembership.user_id).where(
        CohortMembership.cohort_pk == cohort_pk, CohortMembership.left_at.is_(None)
    )
    return set(session.scalars(query))


def _recount(session: Session, cohort_pk: int) -> None:
    count = (
        select(func.count())
        .where(CohortMembership.cohort_pk == cohort_pk, CohortMembership.left_at.is_(None))
        .scalar_subquery()
    )
    session.execute(update(Cohort).where(Cohort.id == cohort_pk).values(folded_size=count))


def seed_sync(
    session: Session,
    cohort_pk: int,
    received_at: datetime,
    added: int = 0,
    removed: int = 0,
    unmatched: int = 0,
) -> None:
    session.add(
        CohortSync(
            cohort_pk=cohort_pk,
            received_at=received_at,
            added=added,
            removed=removed,
            unmatched=unmatched,
        )
    )
    session.flush()


def seed_data_points(
    session: Session, workspace_id: str, partner: str, day: date, count: int
) -> None:
    session.add(
        DataPointCount(workspace_id=workspace_id, partner_name=partner, day=day, count=count)
    )
    session.flush()


@contextmanager
def seeding(engine: Engine) -> Iterator[Session]:
    """A store session committed and closed on exit, so HTTP calls after it see its rows (and
    on SQLite are not kept waiting for its write lock)."""
    with make_session_factory(engine)() as session:
        yield session
        session.commit()
