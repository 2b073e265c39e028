"""Shared OpenAPI descriptions of error responses."""

from typing import Any

from pydantic import BaseModel


class ErrorBody(BaseModel):
    message: str
    errors: list[Any] | None = None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Invalid input"},
    401: {"model": ErrorBody, "description": "Missing or invalid credentials"},
    403: {"model": ErrorBody, "description": "The key lacks the permission"},
    404: {"model": ErrorBody, "description": "Unknown resource"},
}
CONFLICT_RESPONSE: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "The name or key is already taken"}
}
