"""Writes of partner cohort imports: the cohort row, its memberships and its sync log."""

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import case, delete, insert, literal, select
from sqlalchemy.orm import Session

from kohorte.store.batches import in_batch
from kohorte.store.dialect import dialect_insert
from kohorte.store.models import Cohort, CohortMembership, CohortSync, User

COHORT_KEY = ["workspace_id", "partner_name", "cohort_id"]


def upsert_named_cohort(
    session: Session,
    workspace_id: str,
    partner_name: str,
    cohort_id: str,
    name: str,
    created_at: datetime,
    now: datetime,
) -> None:
    """Create the cohort, or rename it keeping its first ``created_at``."""
    statement = dialect_insert(session, Cohort).values(
        workspace_id=workspace_id,
        partner_name=partner_name,
        cohort_id=cohort_id,
        name=name,
        created_at=created_at,
        updated_at=now,
        size=0,
    )
    # Partners name a cohort before almost every sync: only a real rename moves updated_at.
    unchanged = Cohort.__table__.c.name == statement.excluded.name
    session.execute(
        statement.on_conflict_do_update(
            index_elements=COHORT_KEY,
            set_={
                "name": statement.excluded.name,
                "updated_at": case((unchanged, Cohort.__table__.c.updated_at), else_=now),
            },
        )
    )


def lock_or_create_cohort(
    session: Session, workspace_id: str, partner_name: str, cohort_id: str, now: datetime
) -> int:
    """The cohort's id, created unnamed if new, its row locked until the transaction ends.

    The DO UPDATE takes the same row lock as SELECT ... FOR UPDATE would (on SQLite the write
    lock is already held), so concurrent syncs of one cohort run one after the other and see
    each other's memberships; it also stamps ``last_synced_at``, all in one statement.
    """
    statement = dialect_insert(session, Cohort).values(
        workspace_id=workspace_id,
        partner_name=partner_name,
        cohort_id=cohort_id,
        name=None,
        created_at=now,
        updated_at=now,
        size=0,
        last_synced_at=now,
    )
    upsert = statement.on_conflict_do_update(
        index_elements=COHORT_KEY, set_={"last_synced_at": now}
    ).returning(Cohort.__table__.c.id)
    cohort_pk: int = session.execute(upsert).scalar_one()
    return cohort_pk


def members_among(session: Session, cohort_pk: int, user_ids: Collection[int]) -> set[int]:
    if not user_ids:
        return set()
    return set(
        session.scalars(
            select(CohortMembership.user_id).where(
                CohortMembership.cohort_pk == cohort_pk,
                in_batch(session, CohortMembership.user_id, user_ids),
            )
        )
    )


def add_members(session: Session, cohort_pk: int, user_ids: Collection[int], now: datetime) -> int:
    """Insert memberships in one statement; returns the rows actually inserted.

    Selecting from users means a user deleted in the meantime is skipped, not an error.
    """
    if not user_ids:
        return 0
    rows = select(literal(cohort_pk), User.id, literal(now, CohortMembership.added_at.type))
    statement = (
        dialect_insert(session, CohortMembership)
        .from_select(
            ["cohort_pk", "user_id", "added_at"], rows.where(in_batch(session, User.id, user_ids))
        )
        .on_conflict_do_nothing()
        # INSERT row counts are only kept on request (PostgreSQL would report -1).
        .execution_options(preserve_rowcount=True)
    )
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def remove_members(session: Session, cohort_pk: int, user_ids: Collection[int]) -> int:
    if not user_ids:
        return 0
    result = session.execute(
        delete(CohortMembership).where(
            CohortMembership.cohort_pk == cohort_pk,
            in_batch(session, CohortMembership.user_id, user_ids),
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def record_sync(
    session: Session,
    cohort_pk: int,
    received_at: datetime,
    added: int,
    removed: int,
    unmatched: int,
) -> None:
    session.execute(
        insert(CohortSync).values(
            cohort_pk=cohort_pk,
            received_at=received_at,
            added=added,
            removed=removed,
            unmatched=unmatched,
        )
    )
