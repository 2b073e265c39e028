"""Partner request counters per data import key and fixed window, shared by every worker."""

from datetime import datetime

from sqlalchemy import delete, func, literal, select
from sqlalchemy.orm import Session

from kohorte.store.dialect import dialect_insert, is_postgresql
from kohorte.store.models import RateLimitWindow


def count_request(session: Session, key_id: str, window_start: datetime) -> int:
    """Add one request to the key's window in one atomic upsert; returns the new count.

    Every request of a key updates this row, so its lock must be held for as short as can be:
    on PostgreSQL the same statement makes the transaction commit without waiting for the WAL
    flush (a count lost in a crash costs nothing), so the row is free again microseconds after
    the update instead of after a disk flush.
    """
    table = RateLimitWindow.__table__
    row = select(literal(key_id), literal(window_start, table.c.window_start.type), literal(1))
    if is_postgresql(session):
        relaxed = func.set_config("synchronous_commit", "off", True)
        row = row.where(relaxed.is_not(None))
    statement = dialect_insert(session, table).from_select(["key_id", "window_start", "count"], row)
    upsert = statement.on_conflict_do_update(
        index_elements=["key_id", "window_start"], set_={"count": table.c.count + 1}
    ).returning(table.c.count)
    count: int = session.execute(upsert).scalar_one()
    return count


def forget_windows_before(session: Session, key_id: str, window_start: datetime) -> None:
    session.execute(
        delete(RateLimitWindow).where(
            RateLimitWindow.key_id == key_id, RateLimitWindow.window_start < window_start
        )
    )
