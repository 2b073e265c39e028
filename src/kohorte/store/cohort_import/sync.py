"""The cohort rows and the sync log of partner cohort imports (memberships: store/memberships)."""

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from kohorte.store.dialect import dialect_insert
from kohorte.store.models import Cohort, CohortSync

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
    row = _new_cohort(workspace_id, partner_name, cohort_id, name, created_at, now)
    statement = dialect_insert(session, Cohort).values(**row)
    table = Cohort.__table__
    # Partners name a cohort before almost every sync: only a real rename writes the row.
    renamed = table.c.name.is_distinct_from(statement.excluded.name)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=COHORT_KEY,
            set_={"name": statement.excluded.name, "updated_at": now},
            where=renamed,
        )
    )


def find_or_create_cohort(
    session: Session, workspace_id: str, partner_name: str, cohort_id: str, now: datetime
) -> int:
    """The cohort's id, created unnamed if new. Takes no lock on an existing cohort's row, so
    concurrent syncs of one cohort do not wait for each other here."""
    found = _cohort_pk(session, workspace_id, partner_name, cohort_id)
    if found is not None:
        return found
    created = session.scalar(
        dialect_insert(session, Cohort)
        .values(**_new_cohort(workspace_id, partner_name, cohort_id, None, now, now))
        .on_conflict_do_nothing(index_elements=COHORT_KEY)
        .returning(Cohort.__table__.c.id)
    )
    # None: a concurrent sync created it first (and the insert waited for its commit).
    if created is not None:
        return int(created)
    found = _cohort_pk(session, workspace_id, partner_name, cohort_id)
    assert found is not None, "a cohort that conflicted on insert exists"
    return found


def _new_cohort(
    workspace_id: str,
    partner_name: str,
    cohort_id: str,
    name: str | None,
    created_at: datetime,
    now: datetime,
) -> dict[str, object]:
    return {
        "workspace_id": workspace_id,
        "partner_name": partner_name,
        "cohort_id": cohort_id,
        "name": name,
        "created_at": created_at,
        "updated_at": now,
        "folded_size": 0,
    }


def _cohort_pk(
    session: Session, workspace_id: str, partner_name: str, cohort_id: str
) -> int | None:
    table = Cohort.__table__
    return session.scalar(
        select(table.c.id).where(
            table.c.workspace_id == workspace_id,
            table.c.partner_name == partner_name,
            table.c.cohort_id == cohort_id,
        )
    )


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
