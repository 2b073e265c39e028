"""Segments over partner cohorts: CRUD, size, members, export, preview, Braze-compatible reads.

The static paths (/segments/list, /segments/details, /segments/preview) are registered before
/segments/{segment_id} so that they are never taken for an id.
"""

import json
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse
from starlette.convertors import StringConvertor, register_url_convertor

from kohorte.api.deps import EngineDep, SessionDep, SettingsDep, WorkspaceDep, permitted
from kohorte.api.query_params import Cursor, Limit
from kohorte.api.responses import ERROR_RESPONSES
from kohorte.api.workspace import segment_schemas as schemas
from kohorte.domain import json_schema, segments
from kohorte.domain.access import WorkspaceAccess
from kohorte.domain.permissions import Permission
from kohorte.domain.segments.series import MAX_LENGTH as MAX_SERIES_LENGTH
from kohorte.domain.segments.series import SERIES_LENGTH_PATTERN
from kohorte.domain.segments.service import SORT_DIRECTIONS
from kohorte.store.models import Segment
from kohorte.store.user_views import UserView

STATIC_PATHS = ("list", "details", "data_series", "preview")


class SegmentIdConvertor(StringConvertor):
    """A segment id is never the name of a sibling route: PUT /segments/list is then a 405
    with ``Allow: GET``, not an update of a segment called "list"."""

    regex = f"(?!(?:{'|'.join(STATIC_PATHS)})$)[^/]+"


register_url_convertor("segment_id", SegmentIdConvertor())
router = APIRouter(prefix="/segments", tags=["segments"], responses=ERROR_RESPONSES)
Manage = Annotated[WorkspaceAccess, Depends(permitted(Permission.SEGMENTS_MANAGE))]
Read = Annotated[WorkspaceAccess, Depends(permitted(Permission.SEGMENTS_READ))]
NDJSON = "application/x-ndjson"
AS_OF_DESCRIPTION = (
    "An ISO-8601 time in the past (UTC when it has no offset), within the kept history."
)
RequiredSegmentId = Annotated[str, Query(json_schema_extra={"minLength": 1})]
AsOfQuery = Annotated[
    str | None,
    Query(
        description="Evaluate over the memberships as they stood then. " + AS_OF_DESCRIPTION,
        json_schema_extra=json_schema.TIME,
    ),
]


def read_or_manage(access: WorkspaceDep) -> WorkspaceAccess:
    """Reading a segment's definition is allowed to keys that may read or manage segments."""
    if Permission.SEGMENTS_MANAGE not in access.permissions:
        access.require(Permission.SEGMENTS_READ)
    return access


ReadOrManage = Annotated[WorkspaceAccess, Depends(read_or_manage)]


def _users(views: list[UserView]) -> list[schemas.UserOut]:
    return [schemas.UserOut.model_validate(view) for view in views]


def _out(segment: Segment) -> schemas.SegmentOut:
    return schemas.SegmentOut.model_validate(segment, from_attributes=True)


@router.post("", status_code=201, response_model=schemas.SegmentCreated)
def create_segment(
    body: schemas.SegmentIn, session: SessionDep, access: Manage
) -> schemas.SegmentCreated:
    segment = segments.create_segment(
        session, access.workspace_id, body.name, body.filter, body.analytics_tracking_enabled
    )
    return schemas.SegmentCreated.model_validate(segment, from_attributes=True)


@router.get("/list", response_model=schemas.SegmentList)
def list_segments(
    session: SessionDep,
    access: Read,
    page: Annotated[
        int | None, Query(description="From 0", json_schema_extra={"minimum": 0})
    ] = None,
    sort_direction: Annotated[
        str | None,
        Query(description="By creation time", json_schema_extra={"enum": list(SORT_DIRECTIONS)}),
    ] = None,
) -> schemas.SegmentList:
    found = segments.list_segments(session, access.workspace_id, page, sort_direction)
    return schemas.SegmentList(
        segments=[schemas.SegmentListed.model_validate(s, from_attributes=True) for s in found]
    )


@router.get("/details", response_model=schemas.SegmentDetailsOut)
def segment_details(
    session: SessionDep, access: Read, segment_id: RequiredSegmentId
) -> schemas.SegmentDetailsOut:
    details = segments.segment_details(session, access.workspace_id, segment_id)
    segment = details.segment
    return schemas.SegmentDetailsOut(
        created_at=segment.created_at,
        updated_at=segment.updated_at,
        name=segment.name,
        text_description=details.text_description,
        filter=segment.filter,
    )


@router.get("/data_series", response_model=schemas.DataSeries)
def segment_data_series(
    session: SessionDep,
    settings: SettingsDep,
    access: Read,
    segment_id: RequiredSegmentId,
    length: Annotated[
        str,
        Query(
            description=f"Days, an integer from 1 to {MAX_SERIES_LENGTH}.",
            json_schema_extra={"pattern": SERIES_LENGTH_PATTERN},
        ),
    ],
    ending_at: Annotated[
        str | None, Query(description=AS_OF_DESCRIPTION, json_schema_extra=json_schema.TIME)
    ] = None,
) -> schemas.DataSeries:
    """Size at the end of each of `length` UTC days ending on the day of `ending_at` (default
    now), oldest first; the last day's size is the size at `ending_at` (Braze-compatible)."""
    request = segments.SeriesRequest(segment_id, length, ending_at)
    points = segments.data_series(session, access.workspace_id, request, settings.history_days)
    return schemas.DataSeries(
        data=[schemas.DataPoint(time=point.day.isoformat(), size=point.size) for point in points]
    )


@router.post("/preview", response_model=schemas.PreviewOut)
def preview_segment(
    body: schemas.PreviewIn, session: SessionDep, settings: SettingsDep, access: Read
) -> schemas.PreviewOut:
    when = segments.When(body.as_of, settings.history_days)
    found = segments.preview(session, access.workspace_id, body.filter, when)
    return schemas.PreviewOut(size=found.size, users=_users(found.users))


@router.get("/{segment_id:segment_id}", response_model=schemas.SegmentOut)
def get_segment(segment_id: str, session: SessionDep, access: ReadOrManage) -> schemas.SegmentOut:
    return _out(segments.get_segment(session, access.workspace_id, segment_id))


@router.put("/{segment_id:segment_id}", response_model=schemas.SegmentOut)
def replace_segment(
    segment_id: str, body: schemas.SegmentIn, session: SessionDep, access: Manage
) -> schemas.SegmentOut:
    segment = segments.replace_segment(
        session,
        access.workspace_id,
        segment_id,
        body.name,
        body.filter,
        body.analytics_tracking_enabled,
    )
    return _out(segment)


@router.delete("/{segment_id:segment_id}", status_code=204, response_class=Response)
def delete_segment(segment_id: str, session: SessionDep, access: Manage) -> Response:
    segments.delete_segment(session, access.workspace_id, segment_id)
    return Response(status_code=204)


def when(settings: SettingsDep, as_of: AsOfQuery = None) -> segments.When:
    return segments.When(as_of, settings.history_days)


WhenDep = Annotated[segments.When, Depends(when)]


@router.get("/{segment_id:segment_id}/size", response_model=schemas.SegmentSize)
def segment_size(
    segment_id: str, session: SessionDep, access: Read, at: WhenDep
) -> schemas.SegmentSize:
    """Member count, now or as of a past instant."""
    size = segments.segment_size(session, access.workspace_id, segment_id, at)
    return schemas.SegmentSize(size=size)


@router.get("/{segment_id:segment_id}/users", response_model=schemas.SegmentUsers)
def segment_users(
    segment_id: str,
    session: SessionDep,
    access: Read,
    at: WhenDep,
    limit: Limit = None,
    cursor: Cursor = None,
) -> schemas.SegmentUsers:
    """One keyset page of members, now or as of a past instant; every member exactly once."""
    page = segments.segment_members(session, access.workspace_id, segment_id, limit, cursor, at)
    return schemas.SegmentUsers(users=_users(page.items), next_cursor=page.next_cursor)


@router.get("/{segment_id:segment_id}/export", response_class=StreamingResponse)
def export_segment(
    segment_id: str, session: SessionDep, engine: EngineDep, access: Read, at: WhenDep
) -> StreamingResponse:
    """Every member as NDJSON, now or as of a past instant."""
    batches = segments.export_members(session, engine, access.workspace_id, segment_id, at)
    return StreamingResponse(_ndjson(batches), media_type=NDJSON)


def _ndjson(batches: Iterator[list[UserView]]) -> Iterator[bytes]:
    for batch in batches:
        yield "".join(
            json.dumps(user, ensure_ascii=False, separators=(",", ":")) + "\n" for user in batch
        ).encode()
