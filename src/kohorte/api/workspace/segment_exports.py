"""``POST /users/export/segment`` and the download link it answers with.

The export starts after the request's transaction commits (a background task of the response
hands it to the process's export runner), so the runner always finds its record.
"""

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import FileResponse

from kohorte.api.deps import SessionDep, SettingsDep, permitted
from kohorte.api.responses import ERROR_RESPONSES, ErrorBody
from kohorte.api.workspace import segment_export_schemas as schemas
from kohorte.domain import segment_exports
from kohorte.domain.access import WorkspaceAccess
from kohorte.domain.permissions import Permission
from kohorte.domain.segment_export_runs import ExportRunner
from kohorte.domain.segment_exports import ExportRequest

router = APIRouter(tags=["users"], responses=ERROR_RESPONSES)
# The link needs no credentials: its one error is 404 (unknown token, or not complete yet).
downloads = APIRouter(tags=["users"], responses={404: ERROR_RESPONSES[404]})
ExportAccess = Annotated[WorkspaceAccess, Depends(permitted(Permission.USERS_EXPORT_SEGMENT))]
DOWNLOAD_PATH = "/users/export/segment/files/"
TOO_MANY: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorBody, "description": "An export of the segment is running"}
}


def get_runner(request: Request) -> ExportRunner:
    runner: ExportRunner = request.app.state.segment_exports
    return runner


RunnerDep = Annotated[ExportRunner, Depends(get_runner)]


@router.post(
    "/users/export/segment",
    status_code=201,
    response_model=schemas.SegmentExportStarted,
    responses=TOO_MANY,
)
def export_segment(
    body: schemas.SegmentExportIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    access: ExportAccess,
    runner: RunnerDep,
    background: BackgroundTasks,
) -> schemas.SegmentExportStarted:
    """Start exporting every member of a segment as NDJSON; answers at once with the link.

    One export of a segment runs at a time (429 while one does).
    """
    base = settings.public_url or str(request.base_url).rstrip("/")
    plan = segment_exports.start_export(
        session,
        access.workspace_id,
        ExportRequest(
            body.segment_id, body.fields_to_export, body.callback_endpoint, body.output_format
        ),
        settings.export_callback_host_set,
        settings.export_stale_after,
        lambda token: base + DOWNLOAD_PATH + token,
    )
    background.add_task(runner.submit, plan)
    return schemas.SegmentExportStarted(
        message="success", object_prefix=plan.object_prefix, url=plan.url
    )


@downloads.get(
    DOWNLOAD_PATH + "{token}",
    response_class=FileResponse,
    responses={200: {"content": {"application/gzip": {}, "application/zip": {}}}},
)
def download_export(token: str, session: SessionDep, runner: RunnerDep) -> FileResponse:
    """The export's file once complete (no credentials: the link is the secret); 404 before."""
    found = segment_exports.export_file(session, runner.directory, token)
    return FileResponse(found.path, media_type=found.media_type, filename=found.download_name)
