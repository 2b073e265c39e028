"""Request and response bodies of the segment endpoints."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictBool, StrictStr


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


class SegmentIn(BaseModel):
    """A segment as created or replaced; ``filter`` is checked by the segment service."""

    model_config = ConfigDict(extra="forbid")

    name: StrictStr
    filter: Any
    analytics_tracking_enabled: StrictBool = False


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filter: Any
    # An ISO-8601 time in the past: evaluate over the memberships as they stood then.
    as_of: StrictStr | None = None


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
