"""Response bodies of the Braze-shaped users API, and the request bodies of delete and export.

The other request bodies are the users services' request models (``domain/users/*_requests``).
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kohorte.domain.json_schema import at_least_one_of, exactly_one_of
from kohorte.domain.users.export import EXPORT_FIELDS
from kohorte.domain.users.fields import AliasRef, Identifier

JsonObject = dict[str, Any]


class PartialError(BaseModel):
    type: str = Field(description="Why the entry was skipped")
    input_array: str
    index: int


class TrackOut(BaseModel):
    """A count for each array the request had."""

    message: str = "success"
    attributes_processed: int | None = None
    events_processed: int | None = None
    purchases_processed: int | None = None
    errors: list[PartialError] | None = None


class DevicesOut(BaseModel):
    message: str = "success"
    devices_processed: int


class IdentifyOut(BaseModel):
    message: str = "success"
    aliases_processed: int
    devices_processed: int
    errors: list[PartialError] | None = None


class AliasNewOut(BaseModel):
    message: str = "success"
    aliases_processed: int
    errors: list[PartialError] | None = None


class DeleteIn(BaseModel):
    """Exactly one of the four arrays, at most 50 identifiers."""

    model_config = ConfigDict(
        json_schema_extra=exactly_one_of("external_ids", "user_aliases", "braze_ids", "device_ids")
    )

    external_ids: list[Identifier] | None = None
    user_aliases: list[AliasRef] | None = None
    braze_ids: list[Identifier] | None = None
    device_ids: list[Identifier] | None = None

    def aliases(self) -> list[object] | None:
        return _alias_dicts(self.user_aliases)


class DeleteOut(BaseModel):
    message: str = "success"
    deleted: int


def _alias_dicts(aliases: list[AliasRef] | None) -> list[object] | None:
    return None if aliases is None else [alias.model_dump() for alias in aliases]


class ExportIn(BaseModel):
    """external_ids and user_aliases (at most 50 together), or device_id, or braze_id."""

    model_config = ConfigDict(
        json_schema_extra=at_least_one_of("external_ids", "user_aliases", "device_id", "braze_id")
    )

    external_ids: list[Identifier] | None = None
    user_aliases: list[AliasRef] | None = None
    device_id: Identifier | None = None
    braze_id: Identifier | None = None
    fields_to_export: list[str] | None = Field(
        None,
        json_schema_extra={"minItems": 1, "items": {"enum": list(EXPORT_FIELDS)}},
        description="The fields each user has, exactly: any of "
        + ", ".join(EXPORT_FIELDS)
        + ". Without it: the base fields, plus the standard fields and summaries a user has.",
    )

    def aliases(self) -> list[object] | None:
        return _alias_dicts(self.user_aliases)


class ExportedAlias(BaseModel):
    alias_name: str
    alias_label: str


class ExportedDevice(BaseModel):
    device_id: str


class ExportedCohort(BaseModel):
    partner: str
    cohort_id: str
    name: str | None


class ExportedSummary(BaseModel):
    name: str = Field(description="The event name, or the product id of purchases")
    first: datetime
    last: datetime
    count: int


class ExportedUser(BaseModel):
    """Only the fields asked for in ``fields_to_export`` are present."""

    external_id: str | None = None
    braze_id: str | None = None
    user_aliases: list[ExportedAlias] | None = None
    devices: list[ExportedDevice] | None = None
    cohorts: list[ExportedCohort] | None = None
    custom_attributes: JsonObject | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    gender: str | None = None
    dob: str | None = None
    country: str | None = None
    home_city: str | None = None
    language: str | None = None
    time_zone: str | None = None
    custom_events: list[ExportedSummary] | None = None
    purchases: list[ExportedSummary] | None = None


class ExportOut(BaseModel):
    message: str = "success"
    users: list[ExportedUser]
    invalid_user_ids: list[str | ExportedAlias]


class ImportLineError(BaseModel):
    line: int
    message: str


class ImportOut(BaseModel):
    message: str = "success"
    imported: int
    errors: list[ImportLineError]
    errors_not_shown: int = Field(
        0, description="Line errors beyond the first 1,000, counted but not listed"
    )


class HistoryEventOut(BaseModel):
    partner: str
    cohort_id: str
    event: Literal["entered", "left"]
    at: datetime
    cause: Literal["partner_sync", "merge"]


class CohortHistoryOut(BaseModel):
    events: list[HistoryEventOut]
