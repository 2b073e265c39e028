"""Query parameters that several routes share: one spelling each, with the limits the
services check (the pages of every list, identifiers of a user)."""

from typing import Annotated

from fastapi import Query

from kohorte.domain import json_schema
from kohorte.domain.pagination import DEFAULT_LIMIT, MAX_LIMIT

Limit = Annotated[
    int | None,
    Query(
        description=f"Items per page, 1 to {MAX_LIMIT}; {DEFAULT_LIMIT} when omitted",
        json_schema_extra=json_schema.LIMIT,
    ),
]
Cursor = Annotated[str | None, Query(description="The next_cursor of the previous page")]
IdentifierQuery = Annotated[
    str | None, Query(description="One identifier", json_schema_extra=json_schema.IDENTIFIER)
]
DAY = "A UTC date written YYYY-MM-DD; the range is inclusive and at most 366 days."
FirstDay = Annotated[
    str | None,
    Query(
        alias="from",
        description=DAY + " Default: to - 29 days.",
        json_schema_extra=json_schema.DATE,
    ),
]
LastDay = Annotated[
    str | None,
    Query(alias="to", description=DAY + " Default: today.", json_schema_extra=json_schema.DATE),
]
