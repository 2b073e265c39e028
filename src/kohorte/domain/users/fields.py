"""Checks of identifiers and per-request limits shared by the users endpoints."""

from collections.abc import Sized
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from kohorte.domain import json_schema
from kohorte.domain.errors import InvalidInput, placed
from kohorte.domain.text import MAX_IDENTIFIER_BYTES, is_valid_identifier

IDENTIFIER_RULE = (
    f"must be a non-empty string of at most {MAX_IDENTIFIER_BYTES} bytes "
    "without NUL characters or lone surrogates"
)


@dataclass(frozen=True)
class Alias:
    label: str
    name: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.label, self.name)

    def as_dict(self) -> dict[str, str]:
        return {"alias_name": self.name, "alias_label": self.label}


def identifier(value: object, field: str) -> str:
    if not is_valid_identifier(value):
        raise InvalidInput(f"{field} {IDENTIFIER_RULE}")
    assert isinstance(value, str)
    return value


def _checked_identifier(value: object) -> object:
    if not is_valid_identifier(value):
        raise placed(f" {IDENTIFIER_RULE}")
    return value


Identifier = Annotated[
    str,
    BeforeValidator(_checked_identifier),
    Field(
        description=f"An identifier: a non-empty string of at most {MAX_IDENTIFIER_BYTES} bytes",
        json_schema_extra=json_schema.IDENTIFIER,
    ),
]


def _strict_flag(value: object) -> object:
    if not isinstance(value, bool):
        raise placed(" must be a boolean")
    return value


Flag = Annotated[bool, BeforeValidator(_strict_flag)]


class AliasRef(BaseModel):
    """A user alias: a name unique within its label."""

    model_config = ConfigDict(extra="forbid")

    alias_name: Identifier
    alias_label: Identifier

    @model_validator(mode="before")
    @classmethod
    def _an_object_of_two_fields(cls, value: Any) -> Any:
        if not isinstance(value, dict) or set(value) - {"alias_name", "alias_label"}:
            raise placed(" must be an object with alias_name and alias_label")
        return value

    def alias(self) -> "Alias":
        return Alias(label=self.alias_label, name=self.alias_name)


def alias(value: object, field: str) -> Alias:
    if not isinstance(value, dict) or set(value) - {"alias_name", "alias_label"}:
        raise InvalidInput(f"{field} must be an object with alias_name and alias_label")
    return Alias(
        label=identifier(value.get("alias_label"), f"{field}.alias_label"),
        name=identifier(value.get("alias_name"), f"{field}.alias_name"),
    )


def optional_identifier(value: object, field: str) -> str | None:
    return None if value is None else identifier(value, field)


def check_limit(items: Sized, limit: int, what: str) -> None:
    if len(items) > limit:
        raise InvalidInput(f"At most {limit} {what} are allowed per request, got {len(items)}")


@dataclass(frozen=True)
class Skipped:
    """An entry that was valid but could not be applied (Braze's partial-success error)."""

    input_array: str
    index: int
    type: str

    def as_dict(self) -> dict[str, object]:
        return {"type": self.type, "input_array": self.input_array, "index": self.index}
