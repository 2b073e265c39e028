"""Reading an NDJSON user import: splitting a byte stream into lines and checking each line.

One line is one user: ``{"external_id"?, "user_aliases"?, "device_ids"?, "attributes"?}``.
Memory stays bounded by the longest accepted line, whatever the size of the stream.
"""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from kohorte.domain.errors import InvalidInput
from kohorte.domain.users import fields
from kohorte.domain.users.attributes import Update, parse_updates
from kohorte.domain.users.fields import Alias

MAX_LINE_BYTES = 1024 * 1024
LINE_FIELDS = ("external_id", "user_aliases", "device_ids", "attributes")


@dataclass(frozen=True)
class OversizedLine:
    """A line longer than MAX_LINE_BYTES, skipped without being held in memory."""


@dataclass(frozen=True)
class ImportLine:
    number: int
    external_id: str | None
    aliases: list[Alias]
    device_ids: list[str]
    updates: list[Update]


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
    unknown = set(document) - set(LINE_FIELDS)
    if unknown:
        raise InvalidInput(f"a line takes only {', '.join(LINE_FIELDS)}")
    line = ImportLine(
        number,
        fields.optional_identifier(document.get("external_id"), "external_id"),
        [
            fields.alias(item, f"user_aliases[{i}]")
            for i, item in enumerate(_array(document, "user_aliases"))
        ],
        [
            fields.identifier(item, f"device_ids[{i}]")
            for i, item in enumerate(_array(document, "device_ids"))
        ],
        parse_updates(_object(document, "attributes"), "attributes"),
    )
    if line.external_id is None and not line.aliases and not line.device_ids:
        raise InvalidInput("a user needs an external_id, a user alias or a device id")
    return line


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
