"""Custom-attribute leaves of segment filters: what a client may send, checked, and how it reads.

``{"filter": "custom_attribute", "attribute": "<name>", "op": ..., "value"?: ...}``. Values are
typed as Braze's custom attributes are: a filter value only ever matches a stored value of its
own JSON type (``"5"`` never equals ``5``; booleans are not numbers; ``5`` equals ``5.0``), and
``includes_value`` looks only into stored arrays. The negative operators are exactly the
negations of the positive ones (``not_equals`` of ``equals``, ``not_exists`` of ``exists``,
``excludes_value`` of ``includes_value``), so a user without the attribute, or with a value of
another type, matches them. A stored JSON null counts as no value.

Numbers in filters are finite and at most 1e18 in magnitude: both stores then compare them with
stored numbers exactly (SQLite holds integers up to 2^63 exactly and larger ones only as reals,
which are all beyond any filter value).
"""

import json
from dataclasses import dataclass, field
from typing import Any

from kohorte.domain.errors import InvalidInput
from kohorte.domain.text import MAX_NAME_LENGTH, is_storable, is_valid_name

ATTRIBUTE_FILTER = "custom_attribute"
ATTRIBUTE_KEYS = frozenset({"filter", "attribute", "op", "value"})
MAX_NUMBER = 1e18
Scalar = str | int | float | bool

# What each operator compares with: the JSON types its value may have (none: it takes no value).
VALUE_TYPES: dict[str, tuple[str, ...]] = {
    "equals": ("string", "number", "boolean"),
    "not_equals": ("string", "number", "boolean"),
    "greater_than": ("number",),
    "less_than": ("number",),
    "exists": (),
    "not_exists": (),
    "includes_value": ("string", "number"),
    "excludes_value": ("string", "number"),
}
WORDS = {
    "equals": "equals",
    "not_equals": "does not equal",
    "greater_than": "is greater than",
    "less_than": "is less than",
    "exists": "exists",
    "not_exists": "does not exist",
    "includes_value": "includes",
    "excludes_value": "excludes",
}


@dataclass(frozen=True)
class AttributeLeaf:
    attribute: str
    op: str
    value: Scalar | None = None
    # Where the leaf sits in the request, so that later checks can point at it.
    path: str = field(default="filter", compare=False)


def parse_attribute_leaf(raw: dict[str, Any], path: str) -> AttributeLeaf:
    _check_keys(raw, path)
    attribute, op = raw["attribute"], raw["op"]
    if not is_valid_name(attribute):
        raise InvalidInput(
            f"{path}.attribute must be a custom attribute name: a non-empty string of at most "
            f"{MAX_NAME_LENGTH} characters without NUL characters or lone surrogates"
        )
    if not isinstance(op, str) or op not in VALUE_TYPES:
        names = ", ".join(repr(name) for name in VALUE_TYPES)
        raise InvalidInput(f"{path}.op: unknown custom attribute operator; use one of {names}")
    return AttributeLeaf(attribute, op, _value(raw, op, path), path)


def attribute_json(leaf: AttributeLeaf) -> dict[str, Any]:
    """The normalised JSON of the leaf: ``value`` only for operators that take one."""
    found: dict[str, Any] = {"filter": ATTRIBUTE_FILTER, "attribute": leaf.attribute, "op": leaf.op}
    if VALUE_TYPES[leaf.op]:
        found["value"] = leaf.value
    return found


def describe_attribute(leaf: AttributeLeaf) -> str:
    """In words, as segment details show it: ``Custom Attribute 'plan' equals "gold"``."""
    text = f"Custom Attribute '{leaf.attribute}' {WORDS[leaf.op]}"
    if not VALUE_TYPES[leaf.op]:
        return text
    shown = f"'{leaf.value}'" if isinstance(leaf.value, str) else json.dumps(leaf.value)
    return f"{text} {shown}"


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, dict) else "array"


def _check_keys(raw: dict[str, Any], path: str) -> None:
    unknown = sorted(str(key) for key in raw.keys() - ATTRIBUTE_KEYS)
    if unknown:
        names = ", ".join(repr(key[:40]) for key in unknown)
        raise InvalidInput(
            f"{path} has unknown key(s) {names}; a custom attribute filter has 'filter', "
            "'attribute', 'op' and, unless op is 'exists' or 'not_exists', 'value'"
        )
    missing = [key for key in ("attribute", "op") if key not in raw]
    if missing:
        raise InvalidInput(f"{path} lacks {', '.join(repr(key) for key in missing)}")


def _value(raw: dict[str, Any], op: str, path: str) -> Scalar | None:
    allowed = VALUE_TYPES[op]
    if not allowed:
        if "value" in raw:
            raise InvalidInput(f"{path}.value: {op!r} takes no value")
        return None
    if "value" not in raw:
        raise InvalidInput(f"{path} lacks 'value': {op!r} takes {_kinds(allowed)}")
    value = raw["value"]
    if json_type(value) not in allowed:
        raise InvalidInput(
            f"{path}.value: {op!r} takes {_kinds(allowed)}, not {_a(json_type(value))}"
        )
    _check_scalar(value, path)
    return value  # type: ignore[no-any-return]


def _check_scalar(value: Scalar, path: str) -> None:
    if isinstance(value, str) and not is_storable(value):
        raise InvalidInput(f"{path}.value: strings may not hold NUL characters or lone surrogates")
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    # Also refuses NaN and infinities (never <=), and compares huge integers exactly.
    if (
        is_number
        and not abs(float(value) if isinstance(value, float) else int(value)) <= MAX_NUMBER
    ):
        raise InvalidInput(f"{path}.value: numbers in filters must be finite and at most 1e18")


def _kinds(allowed: tuple[str, ...]) -> str:
    named = [_a(kind) for kind in allowed]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " or " + named[-1]


def _a(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind
