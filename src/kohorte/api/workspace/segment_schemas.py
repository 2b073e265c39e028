"""Request and response bodies of the segment endpoints."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SkipValidation, StrictBool, StrictStr

from kohorte.domain import json_schema
from kohorte.domain.partners import PARTNER_NAME
from kohorte.domain.segments.filters import FILTER_SUFFIX
from kohorte.domain.text import MAX_COHORT_ID_BYTES


class AliasOut(BaseModel):
    alias_name: str
    alias_label: str


class DeviceOut(BaseModel):
    device_id: str


class UserOut(BaseModel):
    """A user as listed (``store.user_views``); ``external_id`` is null for anonymous users."""

    external_id: str | None
    braze_id: str
    user_aliases: list[AliasOut]
    devices: list[DeviceOut]


class CohortFilter(BaseModel):
    """A leaf testing membership of one partner cohort."""

    filter: str = Field(
        description="'<partner>_cohorts', e.g. 'amplitude_cohorts'",
        examples=["amplitude_cohorts"],
        json_schema_extra={"pattern": f"^{PARTNER_NAME.pattern}{FILTER_SUFFIX}$"},
    )
    op: Literal["includes_value", "excludes_value"] = Field(
        description="includes_value: members of the cohort; excludes_value: everyone else."
    )
    value: str = Field(
        description="The partner's cohort id.",
        json_schema_extra={"minLength": 1, "maxLength": MAX_COHORT_ID_BYTES},
    )


class AttributeFilter(BaseModel):
    """A leaf testing a custom attribute. Values are typed: a value only matches stored values
    of its own JSON type ("5" never equals 5; booleans are not numbers), includes_value looks
    only into stored arrays. A user without the attribute matches only not_equals, not_exists
    and excludes_value, which are the exact negations of equals, exists and includes_value."""

    filter: Literal["custom_attribute"] = Field(description="Always 'custom_attribute'.")
    attribute: str = Field(description="The custom attribute's name.")
    op: Literal[
        "equals",
        "not_equals",
        "greater_than",
        "less_than",
        "exists",
        "not_exists",
        "includes_value",
        "excludes_value",
    ] = Field(description="How the attribute is tested.")
    value: str | float | bool | None = Field(
        default=None,
        description=(
            "equals, not_equals: a string, number or boolean; greater_than, less_than: a "
            "number; includes_value, excludes_value (the attribute is an array): a string or "
            "number; exists, not_exists: none (the key must be absent). Numbers are finite "
            "and at most 1e18 in magnitude."
        ),
    )


class AndFilter(BaseModel):
    """Members of every filter listed."""

    and_: list["SegmentFilter"] = Field(alias="and", min_length=1, description="Filters.")


class OrFilter(BaseModel):
    """Members of at least one filter listed."""

    or_: list["SegmentFilter"] = Field(alias="or", min_length=1, description="Filters.")


# What OpenAPI shows of a filter. The body keeps the JSON as sent (SkipValidation): the segment
# service checks it, naming the place of whatever is wrong (``filter.and[1].value``).
SegmentFilter = CohortFilter | AttributeFilter | AndFilter | OrFilter
FilterField = Annotated[
    SkipValidation[SegmentFilter],
    Field(
        description=(
            'A cohort or custom-attribute leaf, or {"and": [...]} / {"or": [...]} of '
            "filters, nested at most 8 levels, at most 64 leaves."
        )
    ),
]


class SegmentIn(BaseModel):
    """A segment as created or replaced; ``filter`` is checked by the segment service."""

    model_config = ConfigDict(extra="forbid")

    name: StrictStr = Field(json_schema_extra=json_schema.name())
    filter: FilterField
    analytics_tracking_enabled: StrictBool = False


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filter: FilterField
    as_of: StrictStr | None = Field(
        None,
        description="An ISO-8601 time in the past: evaluate over the memberships as they "
        "stood then",
        json_schema_extra=json_schema.TIME,
    )


class SegmentCreated(BaseModel):
    id: str
    name: str
    filter: dict[str, Any]
    created_at: datetime


class SegmentOut(SegmentCreated):
    analytics_tracking_enabled: bool
    updated_at: datetime


class SegmentSize(BaseModel):
    size: int


class SegmentUsers(BaseModel):
    users: list[UserOut]
    next_cursor: str | None


class PreviewOut(BaseModel):
    size: int
    users: list[UserOut]


class SegmentListed(BaseModel):
    id: str
    name: str
    analytics_tracking_enabled: bool
    tags: list[str] = []


class SegmentList(BaseModel):
    message: str = "success"
    segments: list[SegmentListed]


class SegmentDetailsOut(BaseModel):
    message: str = "success"
    created_at: datetime
    updated_at: datetime
    name: str
    description: str | None = None
    text_description: str
    tags: list[str] = []
    teams: list[str] = []
    filter: dict[str, Any]


class DataPoint(BaseModel):
    time: str
    size: int


class DataSeries(BaseModel):
    message: str = "success"
    data: list[DataPoint]
