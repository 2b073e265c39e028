"""The Braze-shaped users API of a workspace (REST API key)."""

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from anyio import from_thread
from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from kohorte.api.contention import ContentionRetryRoute
from kohorte.api.deps import SessionDep, WorkspaceDep, permitted
from kohorte.api.query_params import IdentifierQuery
from kohorte.api.responses import ERROR_RESPONSES
from kohorte.api.workspace import users_schemas as schemas
from kohorte.domain import membership_history
from kohorte.domain.access import WorkspaceAccess
from kohorte.domain.permissions import Permission
from kohorte.domain.users import aliases, deletion, export, identify, importing, track
from kohorte.domain.users.fields import Skipped
from kohorte.domain.users.identify_requests import (
    AliasNewRequest,
    DevicesRequest,
    IdentifyRequest,
)
from kohorte.domain.users.import_lines import lines_from_chunks
from kohorte.domain.users.track_requests import TrackRequest

router = APIRouter(
    prefix="/users",
    tags=["users"],
    responses=ERROR_RESPONSES,
    route_class=ContentionRetryRoute,
)


TrackAccess = Annotated[WorkspaceAccess, Depends(permitted(Permission.USERS_TRACK))]
IdentifyAccess = Annotated[WorkspaceAccess, Depends(permitted(Permission.USERS_IDENTIFY))]
AliasAccess = Annotated[WorkspaceAccess, Depends(permitted(Permission.USERS_ALIAS_NEW))]
DeleteAccess = Annotated[WorkspaceAccess, Depends(permitted(Permission.USERS_DELETE))]
ExportAccess = Annotated[WorkspaceAccess, Depends(permitted(Permission.USERS_EXPORT_IDS))]
ImportAccess = Annotated[WorkspaceAccess, Depends(permitted(Permission.USERS_IMPORT))]
# An empty body imports nothing and is answered as such, so the body is not required.
NDJSON_BODY = {
    "requestBody": {
        "required": False,
        "content": {"application/x-ndjson": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _errors(skipped: list[Skipped]) -> list[schemas.PartialError] | None:
    return [
        schemas.PartialError(type=item.type, input_array=item.input_array, index=item.index)
        for item in skipped
    ] or None


@router.post(
    "/track", status_code=201, response_model=schemas.TrackOut, response_model_exclude_none=True
)
def track_users(body: TrackRequest, session: SessionDep, access: TrackAccess) -> schemas.TrackOut:
    """Create users, set their attributes, record their events and purchases (at most 75
    objects in each array; at least one array).

    `_update_existing_only` defaults to false with `external_id` (a new external id creates the
    user) and true with `user_alias`; `braze_id` only updates existing users. `null` removes an
    attribute; `{"inc": n}`, `{"add": [...]}` and `{"remove": [...]}` update numbers and arrays.
    Standard profile fields are kept apart from custom attributes. Objects naming a user that
    does not exist (and may not be created), and events or purchases that are not valid, are
    skipped and listed in `errors`; the others are applied.
    """
    result = track.track(session, access.workspace_id, body)
    counts = {f"{array}_processed": count for array, count in result.processed.items()}
    return schemas.TrackOut.model_validate({**counts, "errors": _errors(result.skipped)})


@router.post("/devices", status_code=201, response_model=schemas.DevicesOut)
def register_devices(
    body: DevicesRequest, session: SessionDep, access: TrackAccess
) -> schemas.DevicesOut:
    """Devices seen in SDK sessions (kohorte extension; at most 1,000, applied in order).

    Without `external_id` the device belongs to an anonymous user, created if the device is
    new. With one, the device's user is the identified user with that external id (created if
    new): a device of an anonymous user identifies that user, or merges it into the user that
    already has the external id, exactly as `devices_to_identify` does; a device of another
    identified user changes hands to the user now logged in on it, as an SDK's `changeUser`
    would.
    """
    processed = identify.register_devices(session, access.workspace_id, body)
    return schemas.DevicesOut(devices_processed=processed)


@router.post(
    "/alias/new",
    status_code=201,
    response_model=schemas.AliasNewOut,
    response_model_exclude_none=True,
)
def new_aliases(
    body: AliasNewRequest, session: SessionDep, access: AliasAccess
) -> schemas.AliasNewOut:
    """Add aliases (at most 50): to the user with `external_id`, or as new alias-only users.

    A user holds one name per label and a (label, name) pair belongs to one user; entries that
    break a rule or name an unknown external id are skipped and listed in `errors`.
    """
    result = aliases.add_aliases(session, access.workspace_id, body)
    return schemas.AliasNewOut(aliases_processed=result.processed, errors=_errors(result.skipped))


@router.post(
    "/identify",
    status_code=201,
    response_model=schemas.IdentifyOut,
    response_model_exclude_none=True,
)
def identify_users(
    body: IdentifyRequest, session: SessionDep, access: IdentifyAccess
) -> schemas.IdentifyOut:
    """Identify anonymous users by alias or device (at most 50 entries over both arrays).

    A new external id is given to the anonymous user; an existing one absorbs it (merge): its
    devices and cohort memberships move over, its aliases too unless the label is taken, and
    its custom attributes fill only those missing. Entries matching no anonymous user are
    skipped and listed in `errors`.
    """
    result = identify.identify(session, access.workspace_id, body)
    return schemas.IdentifyOut(
        aliases_processed=result.aliases_processed,
        devices_processed=result.devices_processed,
        errors=_errors(result.skipped),
    )


@router.post("/delete", status_code=201, response_model=schemas.DeleteOut)
def delete_users(
    body: schemas.DeleteIn, session: SessionDep, access: DeleteAccess
) -> schemas.DeleteOut:
    """Delete users by exactly one of external_ids, user_aliases, braze_ids or device_ids
    (at most 50). Unknown identifiers are not an error and not counted."""
    request = deletion.DeleteRequest(
        body.external_ids, body.aliases(), body.braze_ids, body.device_ids
    )
    return schemas.DeleteOut(deleted=deletion.delete_users(session, access.workspace_id, request))


# Unset fields are left out: a user has exactly the fields asked for, null ones included.
@router.post(
    "/export/ids",
    status_code=201,
    response_model=schemas.ExportOut,
    response_model_exclude_unset=True,
)
def export_users(
    body: schemas.ExportIn, session: SessionDep, access: ExportAccess
) -> schemas.ExportOut:
    """Users by external_ids and user_aliases (at most 50 together), device_id or braze_id;
    identifiers matching nobody are listed in `invalid_user_ids`. With `fields_to_export`, each
    user has exactly the fields asked for; an unknown field is a 400 naming it."""
    request = export.ExportRequest(
        body.external_ids,
        body.aliases(),
        body.device_id,
        body.braze_id,
        list(body.fields_to_export) if body.fields_to_export is not None else None,
    )
    result = export.export_users(session, access.workspace_id, request)
    return schemas.ExportOut.model_validate(
        {"message": "success", "users": result.users, "invalid_user_ids": result.invalid_user_ids}
    )


def history_reader(access: WorkspaceDep) -> WorkspaceAccess:
    """A user's cohort history is cohort data: the contract gives it to ``cohorts.read``."""
    access.require(Permission.COHORTS_READ)
    return access


@router.get("/cohort-history", response_model=schemas.CohortHistoryOut)
def user_cohort_history(
    session: SessionDep,
    access: Annotated[WorkspaceAccess, Depends(history_reader)],
    external_id: IdentifierQuery = None,
    braze_id: IdentifierQuery = None,
    device_id: IdentifierQuery = None,
    alias_label: IdentifierQuery = None,
    alias_name: IdentifierQuery = None,
) -> schemas.CohortHistoryOut:
    """When the user (named by exactly one identifier) entered and left each cohort, oldest
    first (kohorte extension)."""
    ref = membership_history.UserRef(external_id, braze_id, device_id, alias_label, alias_name)
    events = membership_history.user_history(session, access.workspace_id, ref)
    return schemas.CohortHistoryOut(
        events=[
            schemas.HistoryEventOut.model_validate(event, from_attributes=True) for event in events
        ]
    )


async def import_users(
    request: Request, session: SessionDep, access: ImportAccess
) -> schemas.ImportOut:
    """Load users from NDJSON, one user a line (kohorte extension; no size limit).

    A line is `{"external_id"?, "user_aliases"?, "device_ids"?, "attributes"?}`. An existing
    external id is updated (attributes merged, aliases and devices added). The body is read as
    a stream and written in batches of 1,000 lines, each committed on its own: if the store
    fails midway, the lines before the reported line stay imported. Bad lines are listed in
    `errors` (the first 1,000; `errors_not_shown` counts the rest) and the others imported.
    """
    lines = lines_from_chunks(_chunks_from_worker_thread(request.stream()))
    report = await run_in_threadpool(
        importing.import_users, session, access.workspace_id, lines, session.commit
    )
    return schemas.ImportOut(
        imported=report.imported,
        errors=[schemas.ImportLineError(line=e.line, message=e.message) for e in report.errors],
        errors_not_shown=report.errors_not_shown,
    )


def _chunks_from_worker_thread(stream: AsyncIterator[bytes]) -> Iterator[bytes]:
    """The request body, chunk by chunk, for synchronous code running in a worker thread."""

    async def next_chunk() -> bytes | None:
        try:
            return await anext(stream)
        except StopAsyncIteration:
            return None

    while (chunk := from_thread.run(next_chunk)) is not None:
        yield chunk


# A streamed body cannot be read again, so the import is not retried as a whole: each of its
# batches is a transaction of its own, and a failed batch is reported (see importing.py).
router.add_api_route(
    "/import",
    import_users,
    methods=["POST"],
    status_code=201,
    response_model=schemas.ImportOut,
    openapi_extra=NDJSON_BODY,
    route_class_override=APIRoute,
)
