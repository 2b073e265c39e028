"""Custom-attribute tests of segment filters in SQL, the same answers on both stores.

The rules (``domain.segments.attributes``): a filter value matches only stored values of its own
JSON type, numbers compare as numbers (``5`` equals ``5.0``), booleans are not numbers,
``includes_value`` looks only into stored arrays, a stored null is no value, and the negative
operators are the exact negations of the positive ones.

PostgreSQL (``users.custom_attributes`` is JSONB) uses only operators whose selectivity the
planner estimates from the column's statistics (``@>``, ``@@``, ``?``): with the functions
(``->``, ``jsonb_typeof``) it guessed 0.5 % of the users for any test and chose nested loops
over half a million rows. (``@>`` is also what a GIN index would serve; there is none, see
docs-attrseg.md: the values segments test are too common for it to help.) Containment is
typed as the rules want: ``{"a": "5"} @> {"a": 5}`` is false, numbers compare numerically,
and ``{"a": [5]} @> {"a": 5}`` is false (no unwrapping below the top).

SQLite (JSON text) reads the attribute with ``json_each`` by key, so that any name works (its
path syntax cannot quote a name holding a double quote), and checks the JSON type it reports.
"""

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, cast, exists, func, literal, not_, select
from sqlalchemy.dialects.postgresql import JSONB, JSONPATH

NEGATIONS = {"not_equals": "equals", "not_exists": "exists", "excludes_value": "includes_value"}
SQLITE_TYPES = {"string": ("text",), "number": ("integer", "real")}


@dataclass(frozen=True)
class AttributeTest:
    """A leaf: the custom attribute ``name`` tested with ``op`` against ``value``."""

    name: str
    op: str
    value: str | int | float | bool | None = None


def attribute_condition(
    test: AttributeTest, attributes: ColumnElement[Any], postgresql: bool
) -> ColumnElement[bool]:
    """Whether the user whose ``custom_attributes`` column is ``attributes`` passes the test.
    The tests that are negated are never NULL, so their negations are plain logic."""
    positive = AttributeTest(test.name, NEGATIONS.get(test.op, test.op), test.value)
    compiled = _postgresql(positive, attributes) if postgresql else _sqlite(positive, attributes)
    return not_(compiled) if test.op in NEGATIONS else compiled


def _postgresql(test: AttributeTest, attributes: ColumnElement[Any]) -> ColumnElement[bool]:
    if test.op == "equals":
        return attributes.op("@>", is_comparison=True)(_jsonb({test.name: test.value}))
    if test.op == "includes_value":
        return attributes.op("@>", is_comparison=True)(_jsonb({test.name: [test.value]}))
    if test.op == "exists":
        # ``?`` holds for a key whose value is null too; a null is no value.
        present = attributes.op("?", is_comparison=True)(bindparam(None, test.name))
        return and_(
            present, not_(attributes.op("@>", is_comparison=True)(_jsonb({test.name: None})))
        )
    comparison = ">" if test.op == "greater_than" else "<"
    # Strict mode: a missing key, or an array, is an error that @@ answers with NULL, and a
    # number compared with a string or boolean is "unknown", also NULL. These two operators
    # are never negated, so NULL is simply no match; wrapping it in coalesce() would hide
    # the clause from the planner's estimate.
    path = f"strict $.{json.dumps(test.name)} {comparison} {_number(test.value)}"
    return attributes.op("@@", is_comparison=True)(cast(literal(path), JSONPATH))


def _sqlite(test: AttributeTest, attributes: ColumnElement[Any]) -> ColumnElement[bool]:
    entry = func.json_each(attributes).table_valued("key", "type", "value").alias("attribute")
    found = entry.c
    condition: ColumnElement[bool]
    if test.op == "exists":
        condition = found.type != "null"
    elif test.op == "includes_value":
        condition = and_(found.type == "array", _sqlite_element(found.value, test.value))
    elif test.op == "equals":
        condition = _sqlite_equals(found.type, found.value, test.value)
    else:
        compared = (
            found.value > test.value if test.op == "greater_than" else found.value < test.value
        )
        condition = and_(found.type.in_(SQLITE_TYPES["number"]), compared)
    return exists(select(literal(1)).select_from(entry).where(found.key == test.name, condition))


def _sqlite_equals(
    kind: ColumnElement[Any], value: ColumnElement[Any], wanted: object
) -> ColumnElement[bool]:
    if isinstance(wanted, bool):
        return kind == ("true" if wanted else "false")
    types = SQLITE_TYPES["string" if isinstance(wanted, str) else "number"]
    return and_(kind.in_(types), value == wanted)


def _sqlite_element(array: ColumnElement[Any], wanted: object) -> ColumnElement[bool]:
    element = func.json_each(array).table_valued("type", "value").alias("element")
    types = SQLITE_TYPES["string" if isinstance(wanted, str) else "number"]
    match = and_(element.c.type.in_(types), element.c.value == wanted)
    return exists(select(literal(1)).select_from(element).where(match))


def _jsonb(document: object) -> ColumnElement[Any]:
    return bindparam(None, document, type_=JSONB)


def _number(value: object) -> str:
    """A filter number as a jsonpath literal: integers as they are, floats by their shortest
    repr (``1e+18``, ``2.5``), which jsonpath reads back as the same decimal."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)
