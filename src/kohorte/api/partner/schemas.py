"""Request and response bodies of the partner cohort import API, for the OpenAPI description.

The endpoints parse their bodies themselves (the vendor's check order and messages must be kept),
so these models document the wire format rather than validate it.
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kohorte.api.partner.deps import NOT_A_JSON_OBJECT_MESSAGE
from kohorte.api.responses import ErrorBody
from kohorte.domain import json_schema
from kohorte.domain.cohort_import import auth as partner_auth
from kohorte.domain.cohort_import import rate_limit
from kohorte.domain.cohort_import import requests as fields
from kohorte.domain.text import MAX_COHORT_ID_BYTES


class PartnerCredentials(BaseModel):
    partner_api_key: str = Field(description="The partner API key issued by the instance admin")
    client_secret: str = Field(description="The workspace's data import key for this partner")


COHORT_ID = Field(
    description=f"The partner's id of the cohort, at most {MAX_COHORT_ID_BYTES} bytes",
    json_schema_extra={"minLength": 1, "maxLength": MAX_COHORT_ID_BYTES},
)


class CohortNameRequest(PartnerCredentials):
    cohort_id: str = COHORT_ID
    name: str = Field(
        description="The name shown in segment filters",
        json_schema_extra=json_schema.name(fields.MAX_COHORT_NAME_LENGTH),
    )
    created_at: datetime = Field(description="ISO-8601; without an offset, UTC")


CHANGE_KEYS = ("user_ids", "device_ids", "aliases")


class UserAlias(BaseModel):
    alias_name: str
    alias_label: str


class CohortChange(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"anyOf": [{"required": [key]} for key in CHANGE_KEYS]}
    )

    user_ids: list[str] = Field(default=[], description="External ids")
    device_ids: list[str] = Field(default=[], description="Device ids (anonymous users only)")
    aliases: list[UserAlias] = Field(default=[])
    should_remove: bool = Field(default=False, description="Remove these users instead")


class CohortUsersRequest(PartnerCredentials):
    cohort_id: str = COHORT_ID
    cohort_changes: list[CohortChange] = Field(
        description="Applied in order; at most 1,000 identifiers in all; empty to test credentials"
    )


class CohortNamed(BaseModel):
    message: Literal["success"] = "success"


class CohortUsersChanged(BaseModel):
    message: Literal["success"] = "success"
    added: int = Field(description="Memberships created")
    removed: int = Field(description="Memberships deleted")
    unmatched: int = Field(description="Identifiers that matched no user")


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """An ``openapi_extra`` describing ``model`` as the JSON request body."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})
    content = {"application/json": {"schema": _inline(schema, definitions)}}
    return {"requestBody": {"required": True, "content": content}}


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(definitions[node["$ref"].rsplit("/", 1)[-1]], definitions)
        return {key: _inline(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, definitions) for item in node]
    return node


RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": {"description": "Requests allowed per hour for this client secret"},
    "X-RateLimit-Remaining": {"description": "Requests left in the current hour"},
    "X-RateLimit-Reset": {"description": "End of the current hour, UTC epoch seconds"},
}
CREDENTIAL_MESSAGES = [
    partner_auth.INVALID_PARTNER_KEY_MESSAGE,
    partner_auth.INVALID_CLIENT_SECRET_MESSAGE,
    partner_auth.PARTNER_NOT_ENABLED_MESSAGE.format("kdik_..."),
]


def _documented_error(description: str, messages: list[str]) -> dict[str, Any]:
    examples = {f"example {n}": {"value": {"message": m}} for n, m in enumerate(messages, 1)}
    return {
        "model": ErrorBody,
        "description": description,
        "content": {"application/json": {"examples": examples}},
    }


def error_responses(field_messages: list[str]) -> dict[int | str, dict[str, Any]]:
    return {
        400: _documented_error(
            "A field is invalid (checked in the order listed); nothing changed",
            [NOT_A_JSON_OBJECT_MESSAGE, *field_messages],
        ),
        401: _documented_error(
            "Invalid credentials (checked in the order listed)", CREDENTIAL_MESSAGES
        ),
        413: _documented_error("Body over 4 MB", ["Request body is larger than 4 MB"]),
        429: {
            **_documented_error("Rate limited", [rate_limit.RATE_LIMITED_MESSAGE]),
            "headers": RATE_LIMIT_HEADERS,
        },
    }


NAME_ERRORS = error_responses(
    [fields.COHORT_ID_MESSAGE, fields.NAME_MESSAGE, fields.CREATED_AT_MESSAGE]
)
CHANGES_ERRORS = error_responses(
    [
        fields.COHORT_ID_MESSAGE,
        fields.COHORT_CHANGES_MESSAGE,
        fields.TOO_MANY_IDENTIFIERS_MESSAGE,
    ]
)
