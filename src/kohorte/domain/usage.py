"""Usage: data points (applied adds and removes) per UTC day and partner, over a date range."""

import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from kohorte.domain.errors import InvalidInput
from kohorte.store import usage as store
from kohorte.store.types import utcnow

DEFAULT_DAYS = 30
MAX_DAYS = 366
# date.fromisoformat also takes "20240101" and week dates; the contract promises YYYY-MM-DD only.
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


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


def resolve_range(first: str | None, last: str | None, today: date) -> tuple[date, date]:
    last_day = today if last is None else parse_day(last, "to")
    first_day = (
        _days_before(last_day, DEFAULT_DAYS - 1) if first is None else parse_day(first, "from")
    )
    if first_day > last_day:
        raise InvalidInput(f"from ({first_day}) must not be after to ({last_day})")
    days = (last_day - first_day).days + 1
    if days > MAX_DAYS:
        raise InvalidInput(f"The range covers {days} days; at most {MAX_DAYS} are allowed")
    return first_day, last_day


def parse_day(text: str, name: str) -> date:
    message = f"{name} must be a date written YYYY-MM-DD"
    if not ISO_DAY.fullmatch(text):
        raise InvalidInput(message)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(message) from None


def _days_before(day: date, days: int) -> date:
    # Near year 1 the default window is cut short rather than running off the calendar.
    return day - timedelta(days=min(days, (day - date.min).days))
