"""The OpenAPI document as kohorte answers, derived from each route once, when first asked.

FastAPI documents a 422 "Validation Error" on every operation with parameters or a body, but
kohorte renders every invalid request as a 400 with the error body; and the errors that
middleware and dependencies give (401, 413, 429, 503, ...) appear in no router's
``responses``. Deriving them here from each route's dependencies, method and path keeps
~40 routers free of repeated error tables and keeps the document true when a router changes.
"""

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, cast

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import HTTPBearer
from starlette.routing import BaseRoute

from kohorte.api.deps import PERMISSION_CHECKS, get_engine, get_session, require_admin
from kohorte.api.partner.deps import admit_partner_caller

Document = dict[str, Any]
Operation = dict[str, Any]


class DocumentedRoute(Protocol):
    """What FastAPI's route context of an included APIRoute gives (prefix applied)."""

    path_format: str
    name: str
    methods: set[str]
    include_in_schema: bool
    dependant: Dependant


ERROR_SCHEMA = "ErrorBody"
ERROR_CONTENT = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}}
UNUSED_IF_UNREFERENCED = ("HTTPValidationError", "ValidationError")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
DESCRIPTIONS = {
    400: "Invalid input",
    401: "Missing or invalid credentials",
    403: "The key lacks the permission",
    404: "Unknown resource",
    413: "Request body is larger than 4 MB",
    429: "Too many requests or failed credential checks",
    503: "The store is unreachable or did not answer in time",
}
# The partner caller is authenticated from the body and counted in the store on its own.
STORE_CALLS: frozenset[Callable[..., Any]] = frozenset(
    {get_session, get_engine, admit_partner_caller}
)
CREDENTIAL_CALLS: frozenset[Callable[..., Any]] = frozenset({admit_partner_caller})


def install_openapi(app: FastAPI, body_limit_exempt: frozenset[str]) -> None:
    """Replaces ``app.openapi`` with one that post-processes FastAPI's document once."""
    build = app.openapi

    processed: list[int] = []

    def openapi() -> Document:
        # FastAPI rebuilds its document when routes change: post-process each new one once.
        document = build()
        if id(document) not in processed:
            processed[:] = [id(honest_document(document, app.routes, body_limit_exempt))]
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def honest_document(
    document: Document, routes: Sequence[BaseRoute], body_limit_exempt: frozenset[str]
) -> Document:
    for route, method, operation in _operations(document, routes):
        _drop_422(operation)
        for status in expected_errors(route, method, operation, body_limit_exempt):
            _document_error(operation, status)
        _describe_errors(operation)
        operation.setdefault("summary", _summary(route))
    _drop_unused_schemas(document)
    return document


def _operations(
    document: Document, routes: Sequence[BaseRoute]
) -> Iterator[tuple[DocumentedRoute, str, Operation]]:
    paths: dict[str, dict[str, Operation]] = document.get("paths", {})
    for context in iter_route_contexts(routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        route = cast(DocumentedRoute, context)
        for method in sorted(route.methods if route.include_in_schema else ()):
            operation = paths.get(route.path_format, {}).get(method.lower())
            if operation is not None:
                yield route, method, operation


def expected_errors(
    route: DocumentedRoute, method: str, operation: Operation, body_limit_exempt: frozenset[str]
) -> list[int]:
    """The error statuses this operation can give, judged from what it depends on."""
    calls = set(_calls(route.dependant))
    # Bodies read by hand (partner JSON, NDJSON imports) are declared through openapi_extra.
    has_body = method in BODY_METHODS and "requestBody" in operation
    credentials = _needs_credentials(calls)
    wanted = {
        400: has_body or bool(operation.get("parameters")),
        401: credentials,
        403: any(_checks_permission(call) for call in calls),
        # A path parameter may be read by a dependency only (the partner): judged by the path.
        404: "{" in route.path_format,
        413: has_body and route.path_format not in body_limit_exempt,
        429: credentials or route.path_format.startswith("/partners/"),
        503: bool(calls & STORE_CALLS),
    }
    return [status for status, applies in wanted.items() if applies]


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _needs_credentials(calls: set[Callable[..., Any]]) -> bool:
    return bool(calls & CREDENTIAL_CALLS) or any(isinstance(call, HTTPBearer) for call in calls)


def _checks_permission(call: Callable[..., Any]) -> bool:
    # permitted(permission) makes a new closure per permission and keeps each one.
    return call is require_admin or call in PERMISSION_CHECKS


def _drop_422(operation: Operation) -> None:
    operation.get("responses", {}).pop("422", None)


def _document_error(operation: Operation, status: int) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.setdefault(str(status), {"description": DESCRIPTIONS[status]})


def _describe_errors(operation: Operation) -> None:
    """Every error response carries the one error body, whoever declared it."""
    for status, response in operation.get("responses", {}).items():
        if status[0] in "45" and not response.get("content"):
            response["content"] = ERROR_CONTENT


def _summary(route: DocumentedRoute) -> str:
    return route.name.replace("_", " ").capitalize()


def _drop_unused_schemas(document: Document) -> None:
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    for name in UNUSED_IF_UNREFERENCED:
        if name in schemas and not _referenced(document, name):
            del schemas[name]


def _referenced(document: Document, name: str) -> bool:
    # ValidationError is referenced by HTTPValidationError only: drop the referrer first.
    text = repr({k: v for k, v in document["components"]["schemas"].items() if k != name})
    return f"#/components/schemas/{name}'" in text + repr(document.get("paths", {}))
