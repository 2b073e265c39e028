"""The Braze-shaped users API of a workspace (REST API key)."""

from typing import Annotated

from fastapi import APIRouter, Depends

from kohorte.api.deps import SessionDep, permitted
from kohorte.api.responses import ERROR_RESPONSES
from kohorte.api.workspace import users_schemas as schemas
from kohorte.domain.access import WorkspaceAccess
from kohorte.domain.permissions import Permission
from kohorte.domain.users import aliases, identify, track
from kohorte.domain.users.fields import Skipped

router = APIRouter(prefix="/users", tags=["users"], responses=ERROR_RESPONSES)


TrackAccess = Annotated[WorkspaceAccess, Depends(permitted(Permission.USERS_TRACK))]
IdentifyAccess = Annotated[WorkspaceAccess, Depends(permitted(Permission.USERS_IDENTIFY))]
AliasAccess = Annotated[WorkspaceAccess, Depends(permitted(Permission.USERS_ALIAS_NEW))]


def _errors(skipped: list[Skipped]) -> list[schemas.PartialError] | None:
    return [
        schemas.PartialError(type=item.type, input_array=item.input_array, index=item.index)
        for item in skipped
    ] or None


@router.post(
    "/track", status_code=201, response_model=schemas.TrackOut, response_model_exclude_none=True
)
def track_users(
    body: schemas.TrackIn, session: SessionDep, access: TrackAccess
) -> schemas.TrackOut:
    """Create users and set their custom attributes (at most 75 objects).

    `_update_existing_only` defaults to false with `external_id` (a new external id creates the
    user) and true with `user_alias`; `braze_id` only updates existing users. `null` removes an
    attribute; `{"inc": n}`, `{"add": [...]}` and `{"remove": [...]}` update numbers and arrays.
    Objects naming a user that does not exist (and may not be created) are skipped and listed
    in `errors`.
    """
    result = track.track(session, access.workspace_id, body.attributes)
    return schemas.TrackOut(attributes_processed=result.processed, errors=_errors(result.skipped))


@router.post("/devices", status_code=201, response_model=schemas.DevicesOut)
def register_devices(
    body: schemas.DevicesIn, session: SessionDep, access: TrackAccess
) -> schemas.DevicesOut:
    """Devices seen in SDK sessions (kohorte extension; at most 1,000, applied in order).

    Without `external_id` the device belongs to an anonymous user, created if the device is
    new. With one, the device's user is the identified user with that external id (created if
    new): a device of an anonymous user identifies that user, or merges it into the user that
    already has the external id, exactly as `devices_to_identify` does; a device of another
    identified user changes hands to the user now logged in on it, as an SDK's `changeUser`
    would.
    """
    processed = identify.register_devices(session, access.workspace_id, body.devices)
    return schemas.DevicesOut(devices_processed=processed)


@router.post(
    "/alias/new",
    status_code=201,
    response_model=schemas.AliasNewOut,
    response_model_exclude_none=True,
)
def new_aliases(
    body: schemas.AliasNewIn, session: SessionDep, access: AliasAccess
) -> schemas.AliasNewOut:
    """Add aliases (at most 50): to the user with `external_id`, or as new alias-only users.

    A user holds one name per label and a (label, name) pair belongs to one user; entries that
    break a rule or name an unknown external id are skipped and listed in `errors`.
    """
    result = aliases.add_aliases(session, access.workspace_id, body.user_aliases)
    return schemas.AliasNewOut(aliases_processed=result.processed, errors=_errors(result.skipped))
