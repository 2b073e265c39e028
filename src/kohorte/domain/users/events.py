"""Custom events and purchases of ``/users/track``: checked entry by entry, kept as summaries.

A bad entry (no name, a time that is not ISO-8601, a bad currency, price or quantity) is
reported and the others applied, as Braze does. What is kept per user and name is what an
export shows: first and last time and a count (a purchase of quantity n counts n, as Braze
counts it as n purchases).
"""

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from kohorte.domain.errors import InvalidInput
from kohorte.domain.text import MAX_NAME_LENGTH, is_valid_name
from kohorte.domain.users.attributes import check_value
from kohorte.store import user_events as store
from kohorte.store.user_events import EVENT, PURCHASE, Summary

MAX_QUANTITY = 100
MAX_PRICE = 1e15
CURRENCY = re.compile(r"[A-Za-z]{3}")
KIND_OF_ARRAY = {"events": EVENT, "purchases": PURCHASE}


@dataclass(frozen=True)
class Occurrence:
    """One valid event or purchase: its kind, name (the product id of a purchase), time and
    how many it counts for."""

    kind: int
    name: str
    at: datetime
    count: int = 1


def occurrence(array: str, item: dict[str, Any]) -> Occurrence:
    """The entry's occurrence; InvalidInput with the reason Braze would give when it is bad."""
    if array == "purchases":
        return _purchase(item)
    name, at = _name(item, "name"), _time(item)
    _check_properties(item)
    return Occurrence(EVENT, name, at)


def _purchase(item: dict[str, Any]) -> Occurrence:
    product_id = _name(item, "product_id")
    currency = item.get("currency")
    if not isinstance(currency, str) or not CURRENCY.fullmatch(currency):
        raise InvalidInput("'currency' must be a three-letter ISO 4217 code")
    price: Any = item.get("price")
    # abs() first: math.isfinite overflows on a huge integer.
    if not _is_number(price) or abs(price) > MAX_PRICE or not math.isfinite(price):
        raise InvalidInput(f"'price' must be a number of at most {MAX_PRICE:.0e}")
    quantity = item.get("quantity", 1)
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise InvalidInput(f"'quantity' must be an integer from 1 to {MAX_QUANTITY}")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(f"'quantity' must be an integer from 1 to {MAX_QUANTITY}")
    at = _time(item)
    _check_properties(item)
    return Occurrence(PURCHASE, product_id, at, quantity)


def _name(item: dict[str, Any], key: str) -> str:
    if not is_valid_name(item.get(key)):
        raise InvalidInput(
            f"'{key}' is required: a non-empty string of at most {MAX_NAME_LENGTH} characters"
        )
    name: str = item[key]
    return name


def _time(item: dict[str, Any]) -> datetime:
    value = item.get("time")
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidInput("'time' is required: an ISO-8601 date and time")
    try:
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError:  # an offset that moves year 1 or 9999 out of range
        raise InvalidInput("'time' is required: an ISO-8601 date and time") from None


def _check_properties(item: dict[str, Any]) -> None:
    """Properties are checked as Braze checks them but not kept: exports show summaries."""
    properties = item.get("properties", {})
    if not isinstance(properties, dict):
        raise InvalidInput("'properties' must be an object")
    try:
        check_value(properties, "properties")
    except InvalidInput as error:
        raise InvalidInput(f"'properties' are not valid: {error.message}") from error


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def record(session: Session, occurrences: Iterable[tuple[int, Occurrence]]) -> None:
    """Fold (user id, occurrence) pairs into the users' summaries: one statement."""
    summaries: dict[tuple[int, int, str], Summary] = {}
    for user_id, seen in occurrences:
        key = (user_id, seen.kind, seen.name)
        known = summaries.get(key)
        summaries[key] = Summary(
            user_id,
            seen.kind,
            seen.name,
            min(seen.at, known.first_at) if known else seen.at,
            max(seen.at, known.last_at) if known else seen.at,
            seen.count + (known.count if known else 0),
        )
    store.add_summaries(session, list(summaries.values()))
