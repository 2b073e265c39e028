"""What every partner endpoint does before its service runs: read the body, admit the caller.

The partner API carries its credentials inside the JSON body and must answer in the vendor's
order (credentials before fields), so the body is parsed here rather than by a pydantic model.
"""

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from kohorte.api.contention import ContentionRetryRoute, end_attempt
from kohorte.api.deps import SettingsDep
from kohorte.api.errors import handle_domain_error
from kohorte.api.journal import PARSED_BODY_STATE, WORKSPACE_STATE
from kohorte.domain.cohort_import import auth as partner_auth
from kohorte.domain.cohort_import import rate_limit
from kohorte.domain.cohort_import.auth import PartnerClient
from kohorte.domain.errors import InvalidInput, KohorteError

NOT_A_JSON_OBJECT_MESSAGE = "Request body must be a JSON object"
RATE_LIMIT_HEADERS_STATE = "rate_limit_headers"
ADMISSION_STATE = "partner_admission"


async def json_object_body(request: Request) -> dict[str, Any]:
    parsed = getattr(request.state, PARSED_BODY_STATE, None)  # parsed once, by the journal
    if parsed is not None:
        return _json_object(parsed)
    try:
        parsed = json.loads(await request.body())
    except (ValueError, RecursionError) as error:  # RecursionError: absurdly deep nesting
        raise InvalidInput(NOT_A_JSON_OBJECT_MESSAGE) from error
    return _json_object(parsed)


def _json_object(parsed: object) -> dict[str, Any]:
    if not isinstance(parsed, dict):
        raise InvalidInput(NOT_A_JSON_OBJECT_MESSAGE)
    return parsed


JsonObjectDep = Annotated[dict[str, Any], Depends(json_object_body)]


def admit_partner_caller(
    partner: str, body: JsonObjectDep, request: Request, settings: SettingsDep
) -> PartnerClient:
    """Authenticate and count the request in a short unit of work of its own.

    It commits before the request's changes are applied, so a request rejected later (a 400)
    still counts; and it is over before the request's session writes, so on SQLite no
    transaction waits on another of the same request.
    """
    admission: partner_auth.Admission | None = getattr(request.state, ADMISSION_STATE, None)
    if admission is None:  # once per request: a retry after contention is not counted again
        factory: sessionmaker[Session] = request.app.state.session_factory
        try:
            with factory.begin() as session:
                limit = settings.partner_rate_limit_per_hour
                admission = partner_auth.admit(session, partner, body, limit)
        except partner_auth.PartnerNotEnabled as error:
            setattr(request.state, WORKSPACE_STATE, error.workspace_id)
            raise
        setattr(request.state, ADMISSION_STATE, admission)
        setattr(request.state, WORKSPACE_STATE, admission.client.workspace_id)
    if admission.rate_limit is not None:
        setattr(request.state, RATE_LIMIT_HEADERS_STATE, admission.rate_limit.headers())
    rate_limit.enforce(admission.rate_limit)
    return admission.client


PartnerCallerDep = Annotated[PartnerClient, Depends(admit_partner_caller)]


class PartnerRoute(ContentionRetryRoute):
    """Renders domain errors here, so that every response to an admitted caller, errors
    included, carries the rate-limit headers; retried on contention like every writer."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_with_rate_limit_headers(request: Request) -> Response:
            try:
                response = await handle(request)
            except KohorteError as error:
                # Handled here, inside the request's session scope: end its transaction now,
                # or the session would commit whatever ran before the error.
                await run_in_threadpool(end_attempt, request)
                response = await handle_domain_error(request, error)
            response.headers.update(getattr(request.state, RATE_LIMIT_HEADERS_STATE, {}))
            return response

        return handle_with_rate_limit_headers
