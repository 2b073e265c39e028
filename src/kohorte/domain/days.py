"""Dates and instants that clients send: day ranges (usage, cohort history) and ``as_of``."""

import re
from datetime import UTC, date, datetime, time, timedelta

from kohorte.domain.errors import InvalidInput

DEFAULT_DAYS = 30
MAX_DAYS = 366
# date.fromisoformat also takes "20240101" and week dates; the contract promises YYYY-MM-DD only.
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A date, then optionally a time: what clients mean by ISO-8601 (and what fromisoformat reads).
ISO_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?"
)


def resolve_range(first: str | None, last: str | None, today: date) -> tuple[date, date]:
    """``from`` and ``to`` (inclusive); by default the 30 days ending today."""
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


def parse_instant(text: str, name: str, now: datetime) -> datetime:
    """An ISO-8601 time, not in the future; without an offset it is read as UTC."""
    message = f"{name} must be an ISO-8601 time such as 2026-01-31T12:00:00Z"
    if not ISO_INSTANT.fullmatch(text):
        raise InvalidInput(message)
    try:
        instant = datetime.fromisoformat(text)
        instant = instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)
    except ValueError:
        raise InvalidInput(message) from None
    except OverflowError:
        # Year 1 or 9999 with an offset: the time in UTC falls off the calendar.
        raise InvalidInput(f"{name} ({text}) is out of the range of times kohorte reads") from None
    if instant > now:
        raise InvalidInput(f"{name} ({instant.isoformat()}) is in the future")
    return instant


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def end_of(day: date) -> datetime:
    """The last instant of the day (times are kept to the microsecond): the state at the end
    of a day holds every event of that day and none of the next."""
    return start_of(day) + timedelta(days=1, microseconds=-1)


def days_before(day: date, days: int, name: str) -> date:
    """The day ``days`` before ``day``; a 400 naming ``name`` when that is before year 1."""
    if (day - date.min).days < days:
        raise InvalidInput(f"{name} ({day}) leaves no room for {days} earlier days")
    return day - timedelta(days=days)


def _days_before(day: date, days: int) -> date:
    # Near year 1 the default window is cut short rather than running off the calendar.
    return day - timedelta(days=min(days, (day - date.min).days))
