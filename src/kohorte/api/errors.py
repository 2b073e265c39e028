"""The one place where errors become HTTP responses: ``{"message": ..., "errors"?: [...]}``."""

import logging
from typing import Any

from asgi_correlation_id import correlation_id
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from kohorte.domain import errors

logger = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[errors.KohorteError], int] = {
    errors.InvalidInput: 400,
    errors.Unauthenticated: 401,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PayloadTooLarge: 413,
    errors.RateLimited: 429,
    errors.StoreUnavailable: 503,
}

HTTP_MESSAGES = {404: "Not found", 405: "Method not allowed"}
STORE_UNAVAILABLE_MESSAGE = "Store unavailable, retry later"


def error_response(
    status: int,
    message: str,
    details: list[Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"message": message}
    if details:
        body["errors"] = details
    return JSONResponse(body, status_code=status, headers=headers)


def status_for(error: errors.KohorteError) -> int:
    for error_type in type(error).__mro__:
        if error_type in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[error_type]
    return 400


async def handle_domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.KohorteError)
    headers = exc.headers if isinstance(exc, errors.RateLimited) else None
    return error_response(status_for(exc), exc.message, exc.errors, headers)


async def handle_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [_describe_validation_problem(problem) for problem in exc.errors()]
    return error_response(400, "Invalid request: " + "; ".join(details), details)


def _describe_validation_problem(problem: dict[str, Any]) -> str:
    location = place(problem.get("loc", ()))
    message = str(problem.get("msg", "invalid"))
    if problem.get("type") == errors.PLACED_ERROR:
        return (location + message).lstrip(" .:")
    return f"{location}: {message}" if location else message


def place(location: Any) -> str:
    """``("body", "attributes", 3, "external_id")`` as ``attributes[3].external_id``."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part != "body":
            text += f".{part}" if text else str(part)
    return text


async def handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = HTTP_MESSAGES.get(exc.status_code) or str(exc.detail)
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
    return error_response(exc.status_code, message, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method of every route at the request's path: Starlette names only the first
    route it tried, and a path's GET and POST are often two routes."""
    path = str(request.scope["path"]).removeprefix(str(request.scope.get("root_path", "")))
    methods: set[str] = set()
    for route in request.app.router.routes:
        for candidate in _flattened(route):
            regex = getattr(candidate, "path_regex", None)
            if regex is not None and regex.match(path):
                methods.update(getattr(candidate, "methods", None) or ())
    return sorted(methods)


def _flattened(route: Any) -> list[Any]:
    # FastAPI keeps an included router as one entry that holds its routes.
    contexts = getattr(route, "effective_route_contexts", None)
    return list(contexts()) if callable(contexts) else [route]


async def handle_store_error(_request: Request, exc: Exception) -> JSONResponse:
    # Connection loss and statement time-outs (OperationalError) are worth a retry; anything
    # else from the database is a bug of ours, logged without parameters (they may hold
    # identifiers or keys).
    if isinstance(exc, IntegrityError):
        # Unique keys are checked up front; a violation here means a concurrent request
        # created the same user, alias or device first. Retrying sees its result.
        return error_response(409, "The request conflicted with a concurrent change; retry it")
    if isinstance(exc, OperationalError):
        logger.warning("store unavailable: %s", type(exc.orig).__name__)
        return error_response(503, STORE_UNAVAILABLE_MESSAGE)
    logger.error("database error: %s", type(exc).__name__)
    return error_response(500, "Internal server error")


async def handle_pool_timeout(_request: Request, exc: Exception) -> JSONResponse:
    # Every pooled connection is busy past the pool's time-out, most likely because the store
    # hangs: the same retryable 503 as a lost connection (not a DBAPIError, so told apart here).
    logger.warning("store unavailable: %s", type(exc).__name__)
    return error_response(503, STORE_UNAVAILABLE_MESSAGE)


async def handle_unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    logger.error("unhandled error: %s", type(exc).__name__, exc_info=exc)
    response = error_response(500, "Internal server error")
    # Starlette renders a 500 outside every middleware, the request id's included.
    response.headers["X-Request-ID"] = correlation_id.get() or ""
    return response


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(errors.KohorteError, handle_domain_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_exception)
    app.add_exception_handler(DBAPIError, handle_store_error)
    app.add_exception_handler(PoolTimeout, handle_pool_timeout)
    app.add_exception_handler(Exception, handle_unexpected_error)
