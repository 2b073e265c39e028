"""The ledger of unmatched identifiers: per cohort, what partner syncs sent that matched no
user, how often, when, and why when last seen; bounded per cohort, least recently seen going
first.

A sync writes its batch in one upsert and, only when it added identifiers, one delete that
cuts the cohort's ledger back to the bound. Both run in the sync's transaction.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    case,
    cast,
    delete,
    func,
    literal,
    select,
    true,
    tuple_,
)
from sqlalchemy.orm import Session
from sqlalchemy.types import JSON, Text

from kohorte.store.dialect import dialect_insert, is_postgresql
from kohorte.store.emulator_tables import UnmatchedIdentifier
from kohorte.store.types import UTCDateTime

table = UnmatchedIdentifier.__table__
c = table.c
# Most recently seen first; ties (a batch shares its instant) in one fixed order, so that pages
# and the bound agree on what comes last.
NEWEST_FIRST = (c.last_seen_at.desc(), c.kind.desc(), c.label.desc(), c.value.desc())


class Row(NamedTuple):
    """An identifier and why it matched nobody, as a sync records it."""

    kind: int
    label: str
    value: str
    reason: int


class Key(NamedTuple):
    """Where an identifier sits in the ledger's order: the position a page continues after."""

    last_seen_at: datetime
    kind: int
    label: str
    value: str


@dataclass(frozen=True)
class Entry:
    kind: int
    label: str
    value: str
    reason: int
    count: int
    first_seen_at: datetime
    last_seen_at: datetime

    @property
    def key(self) -> Key:
        return Key(self.last_seen_at, self.kind, self.label, self.value)


def record(session: Session, cohort_pk: int, rows: Sequence[Row], now: datetime) -> bool:
    """Count each identifier once more (a new one once) and keep its latest reason; whether
    any identifier was new to the cohort's ledger. ``rows`` must be distinct."""
    insert = dialect_insert(session, table)
    upsert = insert.from_select(
        ["cohort_pk", "kind", "label", "value", "reason", "count", "first_seen_at", "last_seen_at"],
        _rows_selected(session, rows, cohort_pk, now),
    )
    counts = session.scalars(
        upsert.on_conflict_do_update(
            index_elements=["cohort_pk", "kind", "label", "value"],
            set_=_seen_again(upsert.excluded),
        ).returning(c["count"])
    ).all()
    return 1 in counts


def _seen_again(sent: Any) -> dict[str, ColumnElement[Any]]:
    """Times never go back: a sync that read the clock before another but writes after it
    (it waited for a lock) leaves the later time, and the reason of that time, in place."""
    later = sent.last_seen_at >= c.last_seen_at
    return {
        "count": c["count"] + 1,
        "last_seen_at": case((later, sent.last_seen_at), else_=c.last_seen_at),
        "reason": case((later, sent.reason), else_=c.reason),
        "first_seen_at": case(
            (sent.first_seen_at < c.first_seen_at, sent.first_seen_at), else_=c.first_seen_at
        ),
    }


def _rows_selected(
    session: Session, rows: Sequence[Row], cohort_pk: int, now: datetime
) -> Select[Any]:
    """The rows to insert, from one JSON parameter (store/batches.py says why). Sorted, so two
    syncs upserting overlapping identifiers lock them in one order."""
    kind, label, value, reason = _batch_columns(session, json.dumps(sorted(rows)))
    seen = literal(now, UTCDateTime())
    # SQLite reads "SELECT ... FROM f(...) ON CONFLICT" as a join constraint without a WHERE.
    return select(
        literal(cohort_pk, BigInteger()), kind, label, value, reason, literal(1), seen, seen
    ).where(true())


def _batch_columns(session: Session, encoded_rows: str) -> list[ColumnElement[Any]]:
    encoded = literal(encoded_rows, Text())
    if is_postgresql(session):
        elements = func.json_array_elements(cast(encoded, JSON)).table_valued("value")
        element = elements.render_derived().c.value
        fields = [element.op("->>")(index) for index in range(4)]
        return [cast(fields[0], Integer()), fields[1], fields[2], cast(fields[3], Integer())]
    element = func.json_each(encoded).table_valued("value").c.value
    return [func.json_extract(element, f"$[{index}]") for index in range(4)]


def keep_latest(session: Session, cohort_pk: int, limit: int) -> None:
    """Delete the cohort's identifiers beyond the ``limit`` most recently seen: those from the
    first one past the bound on, a range of the index (ix_..._cohort_pk_last_seen_at)."""
    position = tuple_(c.last_seen_at, c.kind, c.label, c.value)
    first_past = (
        select(c.last_seen_at, c.kind, c.label, c.value)
        .where(c.cohort_pk == cohort_pk)
        .order_by(*NEWEST_FIRST)
        .offset(limit)
        .limit(1)
    )
    session.execute(
        delete(UnmatchedIdentifier).where(
            c.cohort_pk == cohort_pk, position <= first_past.scalar_subquery()
        )
    )


def entries_after(session: Session, cohort_pk: int, after: Key | None, limit: int) -> list[Entry]:
    """Up to ``limit`` identifiers of the cohort, most recently seen first, after ``after``."""
    query = select(
        c.kind, c.label, c.value, c.reason, c["count"], c.first_seen_at, c.last_seen_at
    ).where(c.cohort_pk == cohort_pk)
    if after is not None:
        position = tuple_(c.last_seen_at, c.kind, c.label, c.value)
        query = query.where(position < _key_literal(after))
    rows = session.execute(query.order_by(*NEWEST_FIRST).limit(limit)).all()
    return [Entry(*row) for row in rows]


def _key_literal(key: Key) -> ColumnElement[Any]:
    return tuple_(
        literal(key.last_seen_at, UTCDateTime()),
        literal(key.kind, Integer()),
        literal(key.label, Text()),
        literal(key.value, Text()),
    )


def last_seen(
    session: Session, cohort_pk: int, kind: int, label: str, value: str
) -> datetime | None:
    """When a sync of the cohort last sent this identifier unmatched (None: never, or evicted)."""
    return session.scalar(
        select(c.last_seen_at).where(
            c.cohort_pk == cohort_pk, c.kind == kind, c.label == label, c.value == value
        )
    )
