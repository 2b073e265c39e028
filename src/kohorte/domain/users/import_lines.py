"""Reading an NDJSON user import: splitting a byte stream into lines and checking each line.

One line is one user: ``{"external_id"?, "user_aliases"?, "device_ids"?, "attributes"?}``;
standard profile fields among ``attributes`` (first_name, dob, …) are checked as /users/track
checks them and kept apart from custom attributes. Memory stays bounded by the longest
accepted line, whatever the size of the stream.
"""

import dataclasses
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from kohorte.domain.errors import PLACED_ERROR, InvalidInput
from kohorte.domain.text import MAX_IDENTIFIER_BYTES, MAX_NAME_LENGTH
from kohorte.domain.users import fields
from kohorte.domain.users.attributes import Update, parse_updates
from kohorte.domain.users.fields import Alias
from kohorte.domain.users.profile import STANDARD_FIELDS
from kohorte.domain.users.track_requests import AttributesEntry

MAX_LINE_BYTES = 1024 * 1024
LINE_FIELDS = ("external_id", "user_aliases", "device_ids", "attributes")
LINE_FIELDS_SET = frozenset(LINE_FIELDS)
# A string of this many characters is at most MAX_IDENTIFIER_BYTES in UTF-8.
QUICK_IDENTIFIER_CHARS = MAX_IDENTIFIER_BYTES // 4


@dataclass(frozen=True)
class OversizedLine:
    """A line longer than MAX_LINE_BYTES, skipped without being held in memory."""


@dataclass(frozen=True)
class ImportLine:
    """One checked line. ``attributes`` holds plain values to set (None: remove the attribute),
    ``updates`` the operators (inc, add/remove) and nested values; their keys never overlap.
    ``profile`` the standard profile fields the line sets (None: clear it)."""

    number: int
    external_id: str | None
    aliases: list[Alias]
    device_ids: list[str]
    attributes: dict[str, Any]
    updates: list[Update]
    profile: dict[str, str | None] = dataclasses.field(default_factory=dict)


RawLine = bytes | OversizedLine


def lines_from_chunks(
    chunks: Iterable[bytes], max_bytes: int = MAX_LINE_BYTES
) -> Iterator[RawLine]:
    """The lines of a byte stream (without line ends), an over-long one as OversizedLine."""
    pending = bytearray()
    oversized = False
    for chunk in chunks:
        pending += chunk
        *complete, rest = pending.split(b"\n")
        for line in complete:
            yield OversizedLine() if oversized or len(line) > max_bytes else bytes(line)
            oversized = False
        pending = bytearray(rest)
        if len(pending) > max_bytes:
            oversized, pending = True, bytearray()
    if pending or oversized:
        yield OversizedLine() if oversized else bytes(pending)


def parse_line(number: int, raw: RawLine) -> ImportLine | None:
    """The user a line describes, None for a blank line; InvalidInput says what is wrong."""
    if isinstance(raw, OversizedLine):
        raise InvalidInput(f"line is longer than {MAX_LINE_BYTES} bytes")
    if not raw.strip():
        return None
    document = _json_object(raw)
    unknown = document.keys() - LINE_FIELDS_SET
    if unknown:
        raise InvalidInput(f"a line takes only {', '.join(LINE_FIELDS)}")
    profile = _profile(document)
    line = _line(number, raw, document)
    return dataclasses.replace(line, profile=profile) if profile else line


def _line(number: int, raw: bytes, document: dict[str, Any]) -> ImportLine:
    # Without a \u escape, no string of the line can hold NUL or a lone surrogate: the JSON
    # parser refuses raw control characters and the UTF-8 decoder refuses encoded surrogates.
    if b"\\u" not in raw:
        line = _quick_line(number, document)
        if line is not None:
            return line
    return _checked_line(number, document)


def _profile(document: dict[str, Any]) -> dict[str, str | None]:
    """Take the standard profile fields out of the line's attributes, checked by the rules of
    ``/users/track`` (its attributes model), so that both say the same of a bad value."""
    attributes = document.get("attributes")
    if not isinstance(attributes, dict) or attributes.keys().isdisjoint(STANDARD_FIELDS):
        return {}
    values = {name: attributes.pop(name) for name in STANDARD_FIELDS if name in attributes}
    try:
        return AttributesEntry.model_validate({"external_id": "-", **values}).profile
    except ValidationError as error:
        first = error.errors()[0]
        joint = "" if first["type"] == PLACED_ERROR else ": "
        raise InvalidInput(f"attributes.{first['loc'][0]}{joint}{first['msg']}") from None


def _checked_line(number: int, document: dict[str, Any]) -> ImportLine:
    """Every rule checked one by one; the first broken one is the error."""
    external_id = fields.optional_identifier(document.get("external_id"), "external_id")
    aliases = [
        fields.alias(item, f"user_aliases[{i}]")
        for i, item in enumerate(_array(document, "user_aliases"))
    ]
    device_ids = [
        fields.identifier(item, f"device_ids[{i}]")
        for i, item in enumerate(_array(document, "device_ids"))
    ]
    updates = parse_updates(_object(document, "attributes"), "attributes")
    if external_id is None and not aliases and not device_ids:
        raise InvalidInput("a user needs an external_id, a user alias or a device id")
    plain = {u.key: u.value for u in updates if u.kind in ("set", "unset") and _is_plain(u.value)}
    others = [u for u in updates if u.key not in plain]
    return ImportLine(number, external_id, aliases, device_ids, plain, others)


def _quick_line(number: int, document: dict[str, Any]) -> ImportLine | None:
    """The line if it is of the usual shape and obviously valid (its strings storable), else
    None: then _checked_line decides, with its exact messages."""
    external_id = document.get("external_id")
    if external_id is not None and not _is_short_identifier(external_id):
        return None
    aliases = _quick_aliases(document.get("user_aliases"))
    device_ids = _or_default(document.get("device_ids"), [])
    attributes = _or_default(document.get("attributes"), {})
    if (
        aliases is None
        or not isinstance(device_ids, list)
        or not all(_is_short_identifier(device_id) for device_id in device_ids)
        or not isinstance(attributes, dict)
        or (external_id is None and not aliases and not device_ids)
    ):
        return None
    plain: dict[str, Any] = {}
    updates: list[Update] = []
    for key, value in attributes.items():
        if not (0 < len(key) <= MAX_NAME_LENGTH and key.strip()):
            return None
        if _is_plain(value):
            plain[key] = value
        else:
            updates.extend(parse_updates({key: value}, "attributes"))
    return ImportLine(number, external_id, aliases, device_ids, plain, updates)


def _quick_aliases(value: object) -> list[Alias] | None:
    if not value:
        return [] if value is None or value == [] else None
    if not isinstance(value, list):
        return None
    aliases = []
    for item in value:
        if not isinstance(item, dict) or len(item) != 2:
            return None
        label, name = item.get("alias_label"), item.get("alias_name")
        if not (_is_short_identifier(label) and _is_short_identifier(name)):
            return None
        aliases.append(Alias(label=label, name=name))  # type: ignore[arg-type]
    return aliases


def _or_default(value: Any, default: Any) -> Any:
    return default if value is None else value


def _is_short_identifier(value: object) -> bool:
    """A valid identifier, for a string known to hold no NUL and no lone surrogate."""
    return (
        isinstance(value, str)
        and value != ""
        and (len(value) <= QUICK_IDENTIFIER_CHARS or len(value.encode()) <= MAX_IDENTIFIER_BYTES)
    )


def _is_plain(value: object) -> bool:
    """A JSON scalar that is stored as it is (checked: floats must be finite)."""
    kind = type(value)
    return (
        kind is str
        or kind is int
        or kind is bool
        or value is None
        or (
            kind is float and math.isfinite(value)  # type: ignore[arg-type]
        )
    )


def _json_object(raw: bytes) -> dict[str, object]:
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidInput("line is not valid UTF-8") from None
    except (ValueError, RecursionError):
        raise InvalidInput("line is not valid JSON") from None
    if not isinstance(document, dict):
        raise InvalidInput("line must be a JSON object")
    return document


def _array(document: dict[str, object], key: str) -> list[object]:
    value = document.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput(f"{key} must be an array")
    return value


def _object(document: dict[str, object], key: str) -> dict[str, object]:
    value = document.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{key} must be an object")
    return value
