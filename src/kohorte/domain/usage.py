"""Usage: data points (applied adds and removes) per UTC day and partner, over a date range."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from kohorte.domain.days import resolve_range
from kohorte.store import usage as store
from kohorte.store.types import utcnow


@dataclass(frozen=True)
class DataPoints:
    day: date
    partner: str
    count: int


def data_points(
    session: Session,
    workspace_id: str,
    first: str | None = None,
    last: str | None = None,
    today: date | None = None,
) -> list[DataPoints]:
    """Counts from ``first`` to ``last`` (inclusive); by default the 30 days ending today."""
    first_day, last_day = resolve_range(first, last, today or utcnow().date())
    rows = store.data_point_counts(session, workspace_id, first_day, last_day)
    return [DataPoints(day, partner, count) for day, partner, count in rows]
