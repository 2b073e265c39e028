"""Per-user summaries of custom events and purchases (table ``user_event_summaries``)."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kohorte.store.users_api_tables import UserEventSummary

EVENT = 0
PURCHASE = 1

Summary = tuple[str, datetime, datetime, int]  # (name, first_at, last_at, count)


def summaries_of(
    session: Session, user_ids: Sequence[int], kinds: Sequence[int]
) -> dict[tuple[int, int], list[Summary]]:
    """Each user's summaries of the given kinds, by (user id, kind), names in order."""
    if not user_ids or not kinds:
        return {}
    rows = session.execute(
        select(
            UserEventSummary.user_id,
            UserEventSummary.kind,
            UserEventSummary.name,
            UserEventSummary.first_at,
            UserEventSummary.last_at,
            UserEventSummary.count,
        )
        .where(UserEventSummary.user_id.in_(user_ids), UserEventSummary.kind.in_(kinds))
        .order_by(UserEventSummary.user_id, UserEventSummary.kind, UserEventSummary.name)
    ).all()
    grouped: dict[tuple[int, int], list[Summary]] = {}
    for user_id, kind, name, first_at, last_at, count in rows:
        grouped.setdefault((user_id, kind), []).append((name, first_at, last_at, count))
    return grouped
