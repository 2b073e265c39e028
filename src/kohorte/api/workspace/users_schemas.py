"""Request and response bodies of the Braze-shaped users API.

Entries are taken as JSON objects and checked by the users services, which know the rules and
say precisely which entry and field is wrong.
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, StrictStr

from kohorte.domain.users.export import EXPORT_FIELDS

JsonObject = dict[str, Any]


class PartialError(BaseModel):
    type: str = Field(description="Why the entry was skipped")
    input_array: str
    index: int


class TrackIn(BaseModel):
    attributes: list[JsonObject] = Field(
        description="At most 75 user attribute objects, each naming its user by exactly one of "
        "external_id, user_alias or braze_id"
    )


class TrackOut(BaseModel):
    message: str = "success"
    attributes_processed: int
    errors: list[PartialError] | None = None


class DevicesIn(BaseModel):
    devices: list[JsonObject] = Field(
        description="At most 1,000 objects {device_id, external_id?}, applied in order"
    )


class DevicesOut(BaseModel):
    message: str = "success"
    devices_processed: int


class IdentifyIn(BaseModel):
    aliases_to_identify: list[JsonObject] = Field(default_factory=list)
    devices_to_identify: list[JsonObject] = Field(default_factory=list)


class IdentifyOut(BaseModel):
    message: str = "success"
    aliases_processed: int
    devices_processed: int
    errors: list[PartialError] | None = None


class AliasNewIn(BaseModel):
    user_aliases: list[JsonObject]


class AliasNewOut(BaseModel):
    message: str = "success"
    aliases_processed: int
    errors: list[PartialError] | None = None


class DeleteIn(BaseModel):
    external_ids: list[Any] | None = None
    user_aliases: list[Any] | None = None
    braze_ids: list[Any] | None = None
    device_ids: list[Any] | None = None


class DeleteOut(BaseModel):
    message: str = "success"
    deleted: int


class ExportIn(BaseModel):
    external_ids: list[Any] | None = None
    user_aliases: list[Any] | None = None
    device_id: StrictStr | None = None
    braze_id: StrictStr | None = None
    fields_to_export: list[str] | None = Field(
        None,
        description="The fields each user has, exactly: any of "
        + ", ".join(EXPORT_FIELDS)
        + ". Without it: the base fields, plus the standard fields and summaries a user has.",
    )


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
