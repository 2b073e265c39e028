"""The body of ``/users/track``, checked by the models that the OpenAPI document shows.

An attributes object names its user by exactly one identifier; every other key is a custom
attribute (free-form, beside the identifier, as Braze's attributes object has them), checked
and turned into updates here.
"""

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    WithJsonSchema,
    model_validator,
)

from kohorte.domain import json_schema
from kohorte.domain.errors import InvalidInput, placed
from kohorte.domain.json_schema import JsonSchema, at_least_one_of, exactly_one_of
from kohorte.domain.text import is_storable
from kohorte.domain.users.attributes import Update, parse_updates
from kohorte.domain.users.fields import Alias, AliasRef, Flag, Identifier
from kohorte.domain.users.profile import MAX_TEXT_LENGTH, STANDARD_FIELDS

IDENTIFIER_KEYS = ("external_id", "user_alias", "braze_id")
CUSTOM_ATTRIBUTES = (
    "Custom attributes: any other key is a custom attribute of the user. A value is any JSON "
    'value; null removes the attribute; {"inc": n} adds to a number; {"add": [...]} and '
    '{"remove": [...]} change an array (a set).'
)


def _profile_text(value: object) -> object:
    if not isinstance(value, str) or not is_storable(value) or len(value) > MAX_TEXT_LENGTH:
        raise placed(
            f" must be a string of at most {MAX_TEXT_LENGTH} characters without NUL characters "
            "or lone surrogates, or null"
        )
    return value


def _birth_date(value: object) -> object:
    try:
        valid = (
            isinstance(value, str)
            and bool(DATE.fullmatch(value))
            and bool(date.fromisoformat(value))
        )
    except ValueError:
        valid = False
    if not valid:
        raise placed(" must be a date as YYYY-MM-DD, or null")
    return value


DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ProfileText = Annotated[
    str,
    BeforeValidator(_profile_text),
    Field(
        description="A standard profile field; null clears it",
        json_schema_extra={"maxLength": MAX_TEXT_LENGTH},
    ),
]
BirthDate = Annotated[
    str,
    BeforeValidator(_birth_date),
    Field(description="Date of birth as YYYY-MM-DD", json_schema_extra=json_schema.DATE),
]


def _describe_custom_attributes(schema: JsonSchema) -> None:
    schema["additionalProperties"] = {"description": CUSTOM_ATTRIBUTES}
    schema["propertyNames"] = json_schema.name()
    exactly_one_of(*IDENTIFIER_KEYS)(schema)


class AttributesEntry(BaseModel):
    """One user's attribute changes, the user named by exactly one of its identifiers."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_describe_custom_attributes)

    external_id: Identifier | None = Field(None, description="The user's external id")
    user_alias: AliasRef | None = Field(None, description="One of the user's aliases")
    braze_id: Identifier | None = Field(None, description="The user's braze_id (existing only)")
    update_existing_only: Flag | None = Field(
        None,
        alias="_update_existing_only",
        description="Only update an existing user; defaults to false with external_id, true "
        "with user_alias",
    )
    first_name: ProfileText | None = None
    last_name: ProfileText | None = None
    email: ProfileText | None = None
    phone: ProfileText | None = None
    gender: Literal["M", "F", "O", "N", "P"] | None = Field(
        None, description="M, F, O (other), N (not applicable) or P (prefer not to say)"
    )
    dob: BirthDate | None = None
    country: ProfileText | None = None
    home_city: ProfileText | None = None
    language: ProfileText | None = None
    time_zone: ProfileText | None = None
    _updates: list[Update] = PrivateAttr(default_factory=list)

    @property
    def profile(self) -> dict[str, str | None]:
        """The standard fields the object sets (None: clear it)."""
        return {
            name: getattr(self, name) for name in STANDARD_FIELDS if name in self.model_fields_set
        }

    @model_validator(mode="after")
    def _one_identifier_and_custom_attributes(self) -> "AttributesEntry":
        if len([key for key in IDENTIFIER_KEYS if getattr(self, key) is not None]) != 1:
            raise placed(f" must name its user by exactly one of {', '.join(IDENTIFIER_KEYS)}")
        try:
            self._updates = parse_updates(dict(self.model_extra or {}), "")
        except InvalidInput as error:
            raise placed(error.message) from None
        return self

    @property
    def kind(self) -> str:
        return next(key for key in IDENTIFIER_KEYS if getattr(self, key) is not None)

    @property
    def alias(self) -> Alias | None:
        return self.user_alias.alias() if self.user_alias is not None else None

    @property
    def only_existing(self) -> bool:
        if self.update_existing_only is not None:
            return self.update_existing_only
        return self.kind != "external_id"

    @property
    def updates(self) -> list[Update]:
        return self._updates


PROPERTIES = "Event properties: any JSON object (checked, not kept: exports show summaries)"


class _Occurrence(BaseModel):
    model_config = ConfigDict(json_schema_extra=exactly_one_of(*IDENTIFIER_KEYS))

    external_id: Identifier | None = Field(None, description="The user's external id")
    user_alias: AliasRef | None = Field(None, description="One of the user's aliases")
    braze_id: Identifier | None = Field(None, description="The user's braze_id (existing only)")
    # The service refuses null here (unlike in attributes objects): a boolean or nothing.
    update_existing_only: Annotated[bool | None, WithJsonSchema({"type": "boolean"})] = Field(
        None,
        alias="_update_existing_only",
        description="Only record for an existing user; defaults as in attributes objects",
    )
    time: datetime = Field(description="When it happened: an ISO-8601 date and time")
    properties: Annotated[
        dict[str, Any] | None,
        WithJsonSchema({"type": "object", "description": PROPERTIES, "additionalProperties": True}),
    ] = None


class EventEntry(_Occurrence):
    """A custom event of a user."""

    name: str = Field(description="The event's name")


class PurchaseEntry(_Occurrence):
    """A purchase of a user; summarised per product id."""

    product_id: str = Field(description="The product bought")
    currency: str = Field(description="A three-letter ISO 4217 currency code")
    price: float = Field(description="The price paid")
    quantity: int | None = Field(None, ge=1, le=100, description="How many (default 1)")


def _an_object(value: Any) -> dict[str, Any]:
    """Events and purchases are checked entry by entry by the service, which reports a bad
    one and applies the rest (as Braze does), so the model only asks for an object here."""
    if not isinstance(value, dict):
        raise placed(" must be an object")
    return value


Event = Annotated[dict[str, Any], PlainValidator(_an_object, json_schema_input_type=EventEntry)]
Purchase = Annotated[
    dict[str, Any], PlainValidator(_an_object, json_schema_input_type=PurchaseEntry)
]


class TrackRequest(BaseModel):
    """At least one of attributes, events and purchases, each of at most 75 objects."""

    model_config = ConfigDict(
        json_schema_extra=at_least_one_of("attributes", "events", "purchases", empty_counts=True)
    )

    attributes: list[AttributesEntry] | None = Field(
        None,
        description="Attributes objects, each naming its user by exactly one of external_id, "
        "user_alias or braze_id",
    )
    events: list[Event] | None = Field(
        None, description="Custom events; a bad one is reported in errors, the rest applied"
    )
    purchases: list[Purchase] | None = Field(
        None, description="Purchases; a bad one is reported in errors, the rest applied"
    )
