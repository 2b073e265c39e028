"""Conditions matching a column against a batch of values, spelled per dialect.

On PostgreSQL the batch travels as one array parameter (``= ANY(:values)``): the statement
text stays the same whatever the batch size, so it is compiled and planned once, instead of
an ``IN`` list of up to a thousand parameters rendered, sent and planned anew every time.
SQLite has no arrays; its ``IN`` lists are cheap.
"""

import json
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, any_, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.types import TypeEngine

from kohorte.store.dialect import is_postgresql


def in_batch(
    session: Session, column: QueryableAttribute[Any], values: Collection[Any]
) -> ColumnElement[bool]:
    distinct = list(set(values))
    if is_postgresql(session):
        item_type: TypeEngine[Any] = column.expression.type
        return column == any_(literal(distinct, ARRAY(item_type)))
    return column.in_(distinct)


def batch_rows(session: Session, values: Sequence[int]) -> Select[tuple[int]]:
    """The integers as a one-column table (column ``value``) from one parameter: an array
    unnested on PostgreSQL, a JSON array read by ``json_each`` on SQLite (a VALUES list of a
    thousand rows would be compiled anew for every batch size)."""
    if is_postgresql(session):
        array = literal(list(values), ARRAY(BigInteger()))
        return select(func.unnest(array).table_valued("value").render_derived().c.value)
    return select(func.json_each(literal(json.dumps(list(values)))).table_valued("value").c.value)
