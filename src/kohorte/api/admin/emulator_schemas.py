"""Bodies of the journal and fault routes (also what OpenAPI shows)."""

from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kohorte.domain.faults import MAX_DELAY_MS

FaultStatus = Literal[423, 429, 500, 502, 503, 504]
NOTHING_ASKED_MESSAGE = "a fault needs status or delay_ms"


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
    model_config = ConfigDict(extra="forbid")

    partner: str | None = Field(default=None, description="Any partner when omitted")
    cohort_id: str | None = Field(default=None, description="Any cohort when omitted")
    status: FaultStatus | None = Field(default=None, description="Only a delay when omitted")
    count: int = Field(default=1, ge=1, description="How many requests it applies to")
    delay_ms: int | None = Field(default=None, ge=0, le=MAX_DELAY_MS)

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
