"""Custom attributes: checking what clients send and applying Braze-style updates.

A value is any JSON value; ``null`` removes the attribute; ``{"inc": n}`` adds to a number;
``{"add": [...]}`` / ``{"remove": [...]}`` (together or alone) change an array, which behaves as
a set as in Braze. Any other object is stored as a nested value.
"""

import math
from dataclasses import dataclass
from typing import Any

from kohorte.domain.errors import InvalidInput
from kohorte.domain.text import MAX_NAME_LENGTH, is_storable, is_valid_name

MAX_NESTING = 32
MAX_MAGNITUDE = 1e18
ARRAY_OPERATORS = frozenset({"add", "remove"})


@dataclass(frozen=True)
class Update:
    key: str
    kind: str  # "set", "unset", "inc" or "array"
    value: Any = None
    add: tuple[Any, ...] = ()
    remove: tuple[Any, ...] = ()


def parse_updates(values: dict[str, Any], field: str) -> list[Update]:
    """Updates for each key of ``values``; a 400 naming the first bad one."""
    return [
        _parse_update(key, value, f"{field}.{_printable(key)}") for key, value in values.items()
    ]


def _parse_update(key: str, value: Any, where: str) -> Update:
    if not is_valid_name(key):
        raise InvalidInput(
            f"{where}: custom attribute names must be non-empty strings of at most "
            f"{MAX_NAME_LENGTH} characters without NUL characters or lone surrogates"
        )
    check_value(value, where)
    if value is None:
        return Update(key, "unset")
    if isinstance(value, dict) and set(value) == {"inc"}:
        return _increment(key, value["inc"], where)
    if isinstance(value, dict) and value and set(value) <= ARRAY_OPERATORS:
        return _array_change(key, value, where)
    return Update(key, "set", value)


def _increment(key: str, amount: Any, where: str) -> Update:
    if not _is_number(amount) or abs(amount) > MAX_MAGNITUDE:
        raise InvalidInput(f"{where}: inc takes a number of at most {MAX_MAGNITUDE:.0e}")
    return Update(key, "inc", amount)


def _array_change(key: str, value: dict[str, Any], where: str) -> Update:
    for operator in value:
        if not isinstance(value[operator], list):
            raise InvalidInput(f"{where}: {operator} takes an array")
    return Update(
        key, "array", add=tuple(value.get("add", ())), remove=tuple(value.get("remove", ()))
    )


def check_value(value: Any, where: str, depth: int = 0) -> None:
    """JSON the store can keep: storable strings, finite numbers, bounded nesting."""
    if depth > MAX_NESTING:
        raise InvalidInput(f"{where}: values may nest at most {MAX_NESTING} levels")
    if isinstance(value, str) and not is_storable(value):
        raise InvalidInput(f"{where}: strings may not hold NUL characters or lone surrogates")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(f"{where}: numbers must be finite")
    if isinstance(value, list):
        for item in value:
            check_value(item, where, depth + 1)
    if isinstance(value, dict):
        for name, item in value.items():
            if not is_storable(name):
                raise InvalidInput(f"{where}: keys may not hold NUL characters or lone surrogates")
            check_value(item, where, depth + 1)


def apply_updates(attributes: dict[str, Any], updates: list[Update]) -> dict[str, Any]:
    result = dict(attributes)
    for update in updates:
        _apply(result, update)
    return result


def _apply(attributes: dict[str, Any], update: Update) -> None:
    current = attributes.get(update.key)
    if update.kind == "unset":
        attributes.pop(update.key, None)
    elif update.kind == "inc":
        # A missing or non-numeric value counts from zero.
        start = current if _is_number(current) else 0
        attributes[update.key] = _bounded(start + update.value, update.key)
    elif update.kind == "array":
        items = list(current) if isinstance(current, list) else []
        items += [item for item in update.add if item not in items]
        attributes[update.key] = [item for item in items if item not in update.remove]
    else:
        attributes[update.key] = update.value


def _bounded(number: int | float, key: str) -> int | float:
    if not math.isfinite(number) or abs(number) > MAX_MAGNITUDE:
        raise InvalidInput(f"inc on '{key}' would go beyond {MAX_MAGNITUDE:.0e}")
    return number


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def fill_missing(target: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    """The target's attributes, plus the source's for names the target lacks (target wins)."""
    return {**source, **target}


def _printable(key: str) -> str:
    return key if is_storable(key) and len(key) <= MAX_NAME_LENGTH else "<invalid name>"
