"""SQL of the request journal: append with a bound, filtered keyset listing, deletion."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session

from kohorte.store.emulator_tables import JournalEntry


@dataclass(frozen=True)
class NewEntry:
    partner: str
    path: str
    workspace_id: str | None
    cohort_id: str | None
    status: int
    request_json: str | None
    request_truncated: bool
    response_json: str | None


@dataclass(frozen=True)
class EntryFilter:
    partner: str | None = None
    workspace_id: str | None = None
    cohort_id: str | None = None
    status_from: int | None = None  # inclusive
    status_to: int | None = None  # inclusive
    since: datetime | None = None


def append(session: Session, entry: NewEntry, max_entries: int) -> None:
    """Insert one entry, then drop those more than ``max_entries`` ids behind it.

    Exact when ids have no gaps. Concurrent writers can leave a few more than the bound for a
    moment (each evicts behind its own id), never fewer; a rolled-back insert leaves a gap
    and then one entry fewer is kept until later inserts catch up.
    """
    if session.get_bind().dialect.name == "postgresql":
        # A diagnostic record: losing the last few on a crash is fine, an fsync per request is not.
        session.execute(text("SET LOCAL synchronous_commit = off"))
    new_id = session.execute(
        insert(JournalEntry).values(**entry.__dict__).returning(JournalEntry.id)
    ).scalar_one()
    session.execute(delete(JournalEntry).where(JournalEntry.id <= new_id - max_entries))


def page(
    session: Session, where: EntryFilter, before_id: int | None, limit: int
) -> list[JournalEntry]:
    """Up to ``limit`` entries matching ``where``, newest first, with ids below ``before_id``."""
    query = select(JournalEntry).order_by(JournalEntry.id.desc()).limit(limit)
    for column, value in (
        (JournalEntry.partner, where.partner),
        (JournalEntry.workspace_id, where.workspace_id),
        (JournalEntry.cohort_id, where.cohort_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if where.status_from is not None and where.status_to is not None:
        query = query.where(JournalEntry.status.between(where.status_from, where.status_to))
    if where.since is not None:
        query = query.where(JournalEntry.received_at >= where.since)
    if before_id is not None:
        query = query.where(JournalEntry.id < before_id)
    return list(session.scalars(query))


def delete_all(session: Session) -> None:
    session.execute(delete(JournalEntry))
