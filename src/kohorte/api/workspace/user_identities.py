"""Merging users, renaming and removing external ids, renaming aliases (REST API key)."""

from typing import Annotated

from fastapi import APIRouter, Depends

from kohorte.api.contention import ContentionRetryRoute
from kohorte.api.deps import SessionDep, permitted
from kohorte.api.responses import ERROR_RESPONSES
from kohorte.api.workspace import user_identities_schemas as schemas
from kohorte.domain.access import WorkspaceAccess
from kohorte.domain.permissions import Permission
from kohorte.domain.users import alias_updates, external_ids, merge_requests
from kohorte.domain.users.identifiers import EntryError

router = APIRouter(
    prefix="/users", tags=["users"], responses=ERROR_RESPONSES, route_class=ContentionRetryRoute
)

MergeAccess = Annotated[WorkspaceAccess, Depends(permitted(Permission.USERS_MERGE))]
RenameAccess = Annotated[WorkspaceAccess, Depends(permitted(Permission.USERS_EXTERNAL_IDS_RENAME))]
RemoveAccess = Annotated[WorkspaceAccess, Depends(permitted(Permission.USERS_EXTERNAL_IDS_REMOVE))]
AliasAccess = Annotated[WorkspaceAccess, Depends(permitted(Permission.USERS_ALIAS_UPDATE))]


def _errors(skipped: list[EntryError]) -> list[schemas.EntryErrorOut] | None:
    return [schemas.EntryErrorOut(index=e.index, message=e.message) for e in skipped] or None


@router.post(
    "/merge", status_code=202, response_model=schemas.MergeOut, response_model_exclude_none=True
)
def merge_users(
    body: schemas.MergeIn, session: SessionDep, access: MergeAccess
) -> schemas.MergeOut:
    """Merge users into others (at most 50 entries, applied in order before the answer).

    The merged user's devices and cohort memberships move to the kept user (a cohort holding
    both keeps one member), its aliases too unless the kept user has the label, and attributes
    fill those the kept user lacks; then the merged user is gone. Entries naming an unknown user,
    the same user twice or a user merged away by an earlier entry are skipped and listed.
    """
    updates = [
        merge_requests.MergeUpdate(entry.identifier_to_merge, entry.identifier_to_keep)
        for entry in body.merge_updates
    ]
    skipped = merge_requests.merge(session, access.workspace_id, updates)
    return schemas.MergeOut(errors=_errors(skipped))


@router.post("/external_ids/rename", status_code=201, response_model=schemas.RenamesOut)
def rename_external_ids(
    body: schemas.RenamesIn, session: SessionDep, access: RenameAccess
) -> schemas.RenamesOut:
    """Give users new primary external ids (at most 50, applied in order).

    The old id becomes deprecated: it still addresses the user everywhere, partner cohort
    imports included, until removed. The current id must be primary; the new one must be in use
    by nobody, as a primary or a deprecated id.
    """
    renames = [
        external_ids.Rename(entry.current_external_id, entry.new_external_id)
        for entry in body.external_id_renames
    ]
    outcome = external_ids.rename(session, access.workspace_id, renames)
    return schemas.RenamesOut(external_ids=outcome.done, rename_errors=outcome.errors)


@router.post("/external_ids/remove", status_code=201, response_model=schemas.RemovalsOut)
def remove_external_ids(
    body: schemas.RemovalsIn, session: SessionDep, access: RemoveAccess
) -> schemas.RemovalsOut:
    """Forget deprecated external ids (at most 50): afterwards they address nobody and may be
    used again. A primary id is refused."""
    outcome = external_ids.remove(session, access.workspace_id, body.external_ids)
    return schemas.RemovalsOut(removed_ids=outcome.done, removal_errors=outcome.errors)


@router.post(
    "/alias/update",
    status_code=201,
    response_model=schemas.AliasUpdatesOut,
    response_model_exclude_none=True,
)
def update_aliases(
    body: schemas.AliasUpdatesIn, session: SessionDep, access: AliasAccess
) -> schemas.AliasUpdatesOut:
    """Rename aliases within their label (at most 50, applied in order). An entry whose old
    alias is unknown or whose new (label, name) is taken is skipped and listed."""
    updates = [
        alias_updates.AliasUpdate(e.alias_label, e.old_alias_name, e.new_alias_name)
        for e in body.alias_updates
    ]
    skipped = alias_updates.update_aliases(session, access.workspace_id, updates)
    return schemas.AliasUpdatesOut(errors=_errors(skipped))
