"""A segment's size at a series of instants (``/segments/data_series``).

Each instant is one count over the stays as they stood then (``segment_members``): exact for any
filter, and each count is the as-of size statement that the size endpoint runs.
"""

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from kohorte.store.segment_members import Selection, count_members


def sizes_at(session: Session, selection: Selection, instants: Sequence[datetime]) -> list[int]:
    return [count_members(session, replace(selection, as_of=instant)) for instant in instants]
