"""One error hierarchy for every domain; the HTTP layer maps each kind to a status once."""

from typing import Any

from pydantic_core import PydanticCustomError


class KohorteError(Exception):
    """Base of every error a client can cause. ``message`` is safe to show to that client."""

    def __init__(self, message: str, errors: list[Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


class InvalidInput(KohorteError):
    """The request is malformed or breaks a rule (400)."""


class Unauthenticated(KohorteError):
    """Missing or invalid credentials (401)."""


class PermissionDenied(KohorteError):
    """Valid credentials without the needed permission (403)."""


class NotFound(KohorteError):
    """The resource does not exist in the caller's scope (404)."""


class Conflict(KohorteError):
    """The resource already exists (409)."""


class PayloadTooLarge(KohorteError):
    """The body is over the size limit (413)."""


class RateLimited(KohorteError):
    """Too many requests for one key (429)."""

    def __init__(self, message: str, headers: dict[str, str]) -> None:
        super().__init__(message)
        self.headers = headers


class StoreUnavailable(KohorteError):
    """The database cannot be reached; safe to retry (503)."""


PLACED_ERROR = "kohorte_placed"


def placed(detail: str) -> PydanticCustomError:
    """A validation error of a request model whose text continues the place it is found at:
    ``" must be a boolean"`` after ``attributes[3]._update_existing_only``, ``".a: …"`` after
    ``attributes[3]``. The HTTP layer joins the two, so messages name the entry and field."""
    return PydanticCustomError(PLACED_ERROR, "{detail}", {"detail": detail})
