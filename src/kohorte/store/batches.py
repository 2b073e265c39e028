"""Conditions matching a column against a batch of values, spelled per dialect.

On PostgreSQL the batch travels as one array parameter (``= ANY(:values)``): the statement
text stays the same whatever the batch size, so it is compiled and planned once, instead of
an ``IN`` list of up to a thousand parameters rendered, sent and planned anew every time.
SQLite has no arrays; its ``IN`` lists are cheap.
"""

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, any_, literal
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
