"""Direct store seeding for unit tests of services and read tests (HTTP tests create users
through the API): workspaces, partners and users, then cohorts, memberships, syncs and data
points.

Partner syncs write cohort rows in production; the read side is tested against rows whose
timestamps and counts the test chooses.
"""

import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.orm import Session

from kohorte.store import cohort_counters
from kohorte.store.cohort_counters import Delta
from kohorte.store.database import make_session_factory
from kohorte.store.memberships import StayCause
from kohorte.store.models import (
    Cohort,
    CohortMembership,
    CohortSync,
    DataPointCount,
    Partner,
    User,
    UserAlias,
    UserDevice,
    Workspace,
)
from kohorte.store.types import utcnow


def seed_workspace(session: Session, name: str = "acme") -> str:
    workspace = Workspace(name=name)
    session.add(workspace)
    session.flush()
    return workspace.id


def seed_partner(session: Session, name: str = "amplitude") -> str:
    if session.get(Partner, name) is None:
        session.add(Partner(name=name, display_name=name.title()))
        session.flush()
    return name


def seed_user(
    session: Session,
    workspace_id: str,
    external_id: str | None = None,
    aliases: Iterable[tuple[str, str]] = (),
    devices: Iterable[str] = (),
    created_at: datetime | None = None,
) -> int:
    """A user with the given external id, (label, name) aliases and device ids; returns its id.

    ``created_at`` backdates the user (as of earlier instants, it existed then)."""
    user = User(workspace_id=workspace_id, external_id=external_id, braze_id=secrets.token_hex(12))
    if created_at is not None:
        user.created_at = user.updated_at = created_at
    session.add(user)
    session.flush()
    for label, name in aliases:
        session.add(
            UserAlias(
                workspace_id=workspace_id, user_id=user.id, alias_label=label, alias_name=name
            )
        )
    for device_id in devices:
        session.add(UserDevice(workspace_id=workspace_id, user_id=user.id, device_id=device_id))
    session.flush()
    return user.id


def seed_users_bulk(session: Session, workspace_id: str, external_ids: list[str]) -> list[int]:
    """Many identified users in one statement; returns their ids in the order given."""
    session.execute(
        insert(User),
        [
            {
                "workspace_id": workspace_id,
                "external_id": external_id,
                "braze_id": secrets.token_hex(12),
                "custom_attributes": {},
            }
            for external_id in external_ids
        ],
    )
    ids = dict(
        session.execute(
            select(User.external_id, User.id).where(
                User.workspace_id == workspace_id, User.external_id.in_(external_ids)
            )
        ).all()
    )
    return [ids[external_id] for external_id in external_ids]


# --- cohorts, memberships, syncs and data points -------------------------------------------

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


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
        _count_events(session, [Delta(cohort_pk, now.date(), entered=len(rows))])
    _recount(session, cohort_pk)


def remove_members(session: Session, cohort_pk: int, user_ids: Iterable[int]) -> None:
    now = utcnow()
    result = session.execute(
        update(CohortMembership)
        .where(
            CohortMembership.cohort_pk == cohort_pk,
            CohortMembership.user_id.in_(list(user_ids)),
            CohortMembership.left_at.is_(None),
        )
        .values(left_at=now)
        .returning(CohortMembership.user_id)
    )
    _count_events(session, [Delta(cohort_pk, now.date(), exited=len(result.all()))])
    _recount(session, cohort_pk)


def _count_events(session: Session, deltas: list[Delta]) -> None:
    """The per-day event counts a sync would leave, for ``/cohorts/…/history``."""
    cohort_counters.record(session, deltas)


def seed_stay(
    session: Session,
    cohort_pk: int,
    user_id: int,
    entered_at: datetime,
    left_at: datetime | None = None,
    cause: StayCause = StayCause.PARTNER_SYNC,
) -> None:
    """One stay with the times the test chooses (the API only ever writes "now"); the cohort's
    size is set to its open stays, so seed a cohort's stays before any sync through the API."""
    session.add(
        CohortMembership(
            cohort_pk=cohort_pk,
            user_id=user_id,
            entered_at=entered_at,
            left_at=left_at,
            cause=int(cause),
        )
    )
    session.flush()
    events = [Delta(cohort_pk, entered_at.date(), entered=1)]
    if left_at is not None:
        events.append(Delta(cohort_pk, left_at.date(), exited=1))
    _count_events(session, events)
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


def days_ago(back: int) -> date:
    """The UTC date ``back`` days before today."""
    return utcnow().date() - timedelta(days=back)


def time_on(back: int, hour: int = 0, minute: int = 0) -> datetime:
    """``hour:minute`` UTC on the day ``back`` days before today."""
    return datetime.combine(days_ago(back), time(hour, minute), tzinfo=UTC)


@dataclass(frozen=True)
class Stay:
    """A stay of the user with this external id, as a test wants it in the store."""

    user: str
    entered: datetime
    left: datetime | None = None


def seed_cohort_stays(
    engine: Engine,
    workspace_id: str,
    cohort_id: str,
    stays: Iterable[Stay],
    created: dict[str, datetime] | None = None,
    partner: str = "amplitude",
) -> None:
    """A new cohort with these stays; their users are created (``created``: when, by external
    id; else long ago) unless the workspace has them already."""
    stays = list(stays)
    with seeding(engine) as session:
        cohort_pk = seed_cohort(session, workspace_id, partner, cohort_id)
        names = sorted({stay.user for stay in stays} | set(created or {}))
        query = select(User.external_id, User.id).where(
            User.workspace_id == workspace_id, User.external_id.in_(names)
        )
        known: dict[str, int] = {str(name): user_id for name, user_id in session.execute(query)}
        for name in names:
            if name not in known:
                when = (created or {}).get(name, LONG_AGO)
                known[name] = seed_user(session, workspace_id, name, created_at=when)
        for stay in stays:
            seed_stay(session, cohort_pk, known[stay.user], stay.entered, stay.left)
