"""The input rules the services enforce, spelled in JSON Schema for the OpenAPI document.

The services keep checking (their messages are the vendor's); these only make the document
say what they check, so a client generated from it sends what kohorte accepts.
"""

from collections.abc import Callable
from typing import Any

from kohorte.domain.pagination import MAX_LIMIT
from kohorte.domain.text import MAX_IDENTIFIER_BYTES, MAX_NAME_LENGTH

JsonSchema = dict[str, Any]

# maxLength counts characters; the rule counts UTF-8 bytes, which only an ASCII string meets
# at the same length. The description says bytes.
IDENTIFIER: JsonSchema = {"minLength": 1, "maxLength": MAX_IDENTIFIER_BYTES}
# Not only white space.
NOT_BLANK = r"\S"


def name(max_length: int = MAX_NAME_LENGTH) -> JsonSchema:
    return {"minLength": 1, "maxLength": max_length, "pattern": NOT_BLANK}


def exactly_one_of(*keys: str) -> Callable[[JsonSchema], None]:
    """An object that gives exactly one of ``keys`` a value other than null."""

    def add(schema: JsonSchema) -> None:
        schema["oneOf"] = [_given(key) for key in keys]

    return add


def at_least_one_of(*keys: str, empty_counts: bool = False) -> Callable[[JsonSchema], None]:
    """An object that gives at least one of ``keys`` a value other than null (and, unless
    ``empty_counts``, other than an empty list)."""
    value: JsonSchema = (
        {"not": {"type": "null"}}
        if empty_counts
        else {
            "not": {"type": "null"},
            "minItems": 1,
        }
    )

    def add(schema: JsonSchema) -> None:
        schema["anyOf"] = [{"required": [key], "properties": {key: value}} for key in keys]

    return add


def _given(key: str) -> JsonSchema:
    return {"required": [key], "properties": {key: {"not": {"type": "null"}}}}


DATE: JsonSchema = {"format": "date"}
TIME: JsonSchema = {"format": "date-time"}
# A page's size, as domain.pagination checks it.
LIMIT: JsonSchema = {"minimum": 1, "maximum": MAX_LIMIT}
