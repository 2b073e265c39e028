"""``/segments/data_series``: a segment's size at the end of each of ``length`` UTC days."""

import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from kohorte.domain import days, membership_history
from kohorte.domain.errors import InvalidInput
from kohorte.domain.segments.resolution import refuse_history, resolve, selection
from kohorte.domain.segments.service import get_segment, stored_filter
from kohorte.store import segment_series as store
from kohorte.store.types import utcnow

MAX_LENGTH = 100
DIGITS = re.compile(r"[0-9]{1,4}")
LENGTH_RULE = f"length must be an integer from 1 to {MAX_LENGTH}"
# The same rule for the OpenAPI document: up to four digits, 1 to 100.
SERIES_LENGTH_PATTERN = r"^(0{0,3}[1-9]|0{0,2}[1-9][0-9]|0?100)$"


@dataclass(frozen=True)
class Point:
    day: date
    size: int


@dataclass(frozen=True)
class SeriesRequest:
    segment_id: str | None
    length: str | None
    ending_at: str | None = None


def data_series(
    session: Session, workspace_id: str, request: SeriesRequest, history_days: int | None
) -> list[Point]:
    """Oldest day first; each size at the end of its day, the last day's at ``ending_at``."""
    if not request.segment_id:
        raise InvalidInput("segment_id is required")
    length = _length(request.length)
    now = utcnow()
    ending = (
        now
        if request.ending_at is None
        else days.parse_instant(request.ending_at, "ending_at", now)
    )
    segment = get_segment(session, workspace_id, request.segment_id)
    tree = stored_filter(segment)
    refuse_history(tree, "has no data series")
    first = days.days_before(ending.date(), length - 1, "ending_at")
    series_days = [first + timedelta(days=ahead) for ahead in range(length)]
    instants = [days.end_of(day) for day in series_days[:-1]] + [ending]
    membership_history.check_kept(session, instants[0], history_days, "the series' first day")
    found = selection(workspace_id, tree, resolve(session, workspace_id, tree))
    sizes = store.sizes_at(session, found, instants, ends_now=request.ending_at is None)
    return [Point(day, size) for day, size in zip(series_days, sizes, strict=True)]


def _length(text: str | None) -> int:
    if text is None or not DIGITS.fullmatch(text) or not 1 <= int(text) <= MAX_LENGTH:
        raise InvalidInput(LENGTH_RULE)
    return int(text)
