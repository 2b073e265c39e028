"""Event and purchase summaries of users: one set-based upsert a request, one read an export.

A summary row is (user, kind, name) with the first and last time and a count; adding to it
keeps the earliest first, the latest last and sums the counts, whether the rows come from one
``/users/track`` request or from a merged user.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kohorte.store.batches import in_batch
from kohorte.store.dialect import dialect_insert, is_postgresql
from kohorte.store.users_api_tables import UserEventSummary

EVENT = 0
PURCHASE = 1


@dataclass(frozen=True)
class Summary:
    user_id: int
    kind: int
    name: str
    first_at: datetime
    last_at: datetime
    count: int


def add_summaries(session: Session, summaries: Sequence[Summary]) -> None:
    """Fold summaries into the stored ones (each (user, kind, name) at most once here)."""
    if not summaries:
        return
    insert = dialect_insert(session, UserEventSummary.__table__)
    earliest, latest = (
        (func.least, func.greatest) if is_postgresql(session) else (func.min, func.max)
    )
    table = UserEventSummary.__table__.c
    upsert = insert.on_conflict_do_update(
        index_elements=["user_id", "kind", "name"],
        set_={
            "first_at": earliest(table.first_at, insert.excluded.first_at),
            "last_at": latest(table.last_at, insert.excluded.last_at),
            "count": table.count + insert.excluded.count,
        },
    )
    session.execute(upsert, [_row(summary) for summary in summaries])


def _row(summary: Summary) -> dict[str, Any]:
    return {
        "user_id": summary.user_id,
        "kind": summary.kind,
        "name": summary.name,
        "first_at": summary.first_at,
        "last_at": summary.last_at,
        "count": summary.count,
    }


def summaries_of(
    session: Session, user_ids: Collection[int], kinds: Collection[int] = (EVENT, PURCHASE)
) -> list[Summary]:
    """The users' summaries of the given kinds, by user, kind and name."""
    if not user_ids or not kinds:
        return []
    rows = session.execute(
        select(UserEventSummary)
        .where(in_batch(session, UserEventSummary.user_id, user_ids))
        .where(UserEventSummary.kind.in_(list(kinds)))
        .order_by(UserEventSummary.user_id, UserEventSummary.kind, UserEventSummary.name)
    ).scalars()
    return [
        Summary(row.user_id, row.kind, row.name, row.first_at, row.last_at, row.count)
        for row in rows
    ]


def move_summaries(session: Session, pairs: Mapping[int, int]) -> None:
    """Fold each source user's summaries into its target's (every target at most once)."""
    moved = [
        Summary(pairs[s.user_id], s.kind, s.name, s.first_at, s.last_at, s.count)
        for s in summaries_of(session, list(pairs))
    ]
    add_summaries(session, moved)
    session.execute(
        delete(UserEventSummary)
        .where(UserEventSummary.user_id.in_(list(pairs)))
        .execution_options(synchronize_session=False)
    )
