"""Bodies of the journal and fault routes (also what OpenAPI shows)."""

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from kohorte.domain.faults import MAX_COUNT, MAX_DELAY_MS
from kohorte.domain.json_schema import at_least_one_of

FaultStatus = Literal[423, 429, 500, 502, 503, 504]
NOTHING_ASKED_MESSAGE = "a fault needs status or delay_ms"


def _a_json_number(value: object) -> object:
    # A JSON integer may be written 5.0, but neither true nor "5" is one.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be an integer")
    return value


# The bounds come before the check, so that the schema shows them as minimum and maximum.
FaultCount = Annotated[int, Field(ge=1, le=MAX_COUNT), BeforeValidator(_a_json_number)]
DelayMs = Annotated[int, Field(ge=0, le=MAX_DELAY_MS), BeforeValidator(_a_json_number)]


class JournalEntryOut(BaseModel):
    id: int
    received_at: datetime
    partner: str
    path: str
    workspace_id: str | None
    cohort_id: str | None
    status: int
    request: Any = Field(description="The JSON body sent, secrets masked; null if not JSON")
    request_truncated: bool
    response: Any = Field(description="The JSON body answered, secrets masked")


class JournalPage(BaseModel):
    entries: list[JournalEntryOut]
    next_cursor: str | None


class FaultCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra=at_least_one_of("status", "delay_ms")
    )

    partner: str | None = Field(default=None, description="Any partner when omitted")
    cohort_id: str | None = Field(default=None, description="Any cohort when omitted")
    status: FaultStatus | None = Field(default=None, description="Only a delay when omitted")
    count: FaultCount = Field(default=1, description="How many requests it applies to")
    delay_ms: DelayMs | None = None

    @model_validator(mode="after")
    def asks_for_something(self) -> Self:
        if self.status is None and self.delay_ms is None:
            raise ValueError(NOTHING_ASKED_MESSAGE)
        return self


class FaultOut(BaseModel):
    id: int
    partner: str | None
    cohort_id: str | None
    status: int | None
    count: int = Field(description="Requests it still applies to")
    delay_ms: int


class FaultList(BaseModel):
    faults: list[FaultOut]
