"""Emulator controls of the instance admin: resets (registered only with the control API on)."""

from fastapi import APIRouter, Response, status

from kohorte.api.deps import AdminDep, SessionDep, SettingsDep
from kohorte.api.responses import ERROR_RESPONSES
from kohorte.domain import resets
from kohorte.seed.loader import apply_seed_file

router = APIRouter(prefix="/admin", tags=["emulator controls"], responses=ERROR_RESPONSES)
NO_CONTENT = status.HTTP_204_NO_CONTENT


@router.post("/reset", status_code=NO_CONTENT, response_class=Response)
def reset_instance(session: SessionDep, settings: SettingsDep, _: AdminDep) -> Response:
    """Remove everything but the admin token, then apply the seed file again (if any)."""
    resets.reset_instance(session)
    if settings.seed_file is not None:
        apply_seed_file(session, settings.seed_file)  # in the same transaction
    return Response(status_code=NO_CONTENT)


@router.post("/workspaces/{workspace_id}/reset", status_code=NO_CONTENT, response_class=Response)
def reset_workspace(workspace_id: str, session: SessionDep, _: AdminDep) -> Response:
    """Remove the workspace's users, cohorts, history, segments, usage and journal; keep it
    and its keys."""
    resets.reset_workspace(session, workspace_id)
    return Response(status_code=NO_CONTENT)
