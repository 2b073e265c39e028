"""Keyset pagination: pages ordered by an integer key, behind an opaque cursor."""

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Generic, TypeVar

from kohorte.domain.errors import InvalidInput

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_KEY = 2**63 - 1  # keys are BIGINT ids; a forged cursor beyond that is invalid, not a 500

Item = TypeVar("Item")


@dataclass(frozen=True)
class Page(Generic[Item]):
    items: list[Item]
    next_cursor: str | None


def check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")
    return limit


BAD_CURSOR = "cursor is not valid; pass next_cursor from the previous page"


def encode_position(position: object) -> str:
    """A page's end position (JSON-able) as an opaque cursor."""
    raw = json.dumps({"after": position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_position(cursor: str) -> object:
    """What ``encode_position`` encoded; a cursor that is not one is a 400."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))["after"]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeError):
        raise InvalidInput(BAD_CURSOR) from None


def encode_cursor(after_key: int) -> str:
    return encode_position(after_key)


def decode_cursor(cursor: str | None) -> int | None:
    """The key after which the next page starts, or None for the first page."""
    if cursor is None or cursor == "":
        return None
    after = decode_position(cursor)
    if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= MAX_KEY:
        raise InvalidInput(BAD_CURSOR)
    return after


def page_from_keys(keys: list[int], limit: int) -> tuple[list[int], str | None]:
    """Given up to limit+1 keys fetched in order, the keys of this page and the next cursor."""
    if len(keys) > limit:
        return keys[:limit], encode_cursor(keys[limit - 1])
    return keys, None
