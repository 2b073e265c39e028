"""The request journal for the instance admin: every partner request, any workspace."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from kohorte.api.admin.emulator_schemas import JournalEntryOut, JournalPage
from kohorte.api.deps import AdminDep, SessionDep, SettingsDep
from kohorte.api.query_params import Cursor, Limit
from kohorte.api.responses import ERROR_RESPONSES
from kohorte.domain import journal, json_schema

router = APIRouter(prefix="/admin", tags=["emulator controls"], responses=ERROR_RESPONSES)
NO_CONTENT = status.HTTP_204_NO_CONTENT


def journal_query(
    partner: Annotated[str | None, Query()] = None,
    workspace_id: Annotated[str | None, Query()] = None,
    cohort_id: Annotated[str | None, Query()] = None,
    status: Annotated[
        str | None,
        Query(
            description="A code (400) or a class (4xx)",
            json_schema_extra={"pattern": "^[1-5]([0-9]{2}|[xX]{2})$"},
        ),
    ] = None,
    since: Annotated[
        str | None, Query(description="An ISO-8601 time", json_schema_extra=json_schema.TIME)
    ] = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> journal.Query:
    return journal.Query(partner, workspace_id, cohort_id, status, since, limit, cursor)


JournalQueryDep = Annotated[journal.Query, Depends(journal_query)]


def journal_page(session: SessionDep, settings: SettingsDep, query: journal.Query) -> JournalPage:
    page = journal.list_entries(session, query, settings.journal_max_entries)
    entries = [JournalEntryOut.model_validate(entry) for entry in page.items]
    return JournalPage(entries=entries, next_cursor=page.next_cursor)


@router.get("/journal", response_model=JournalPage, summary="Partner requests, newest first")
def list_journal(
    session: SessionDep, settings: SettingsDep, query: JournalQueryDep, _: AdminDep
) -> JournalPage:
    return journal_page(session, settings, query)


@router.delete("/journal", status_code=NO_CONTENT, response_class=Response)
def clear_journal(session: SessionDep, _: AdminDep) -> Response:
    journal.clear(session)
    return Response(status_code=NO_CONTENT)
