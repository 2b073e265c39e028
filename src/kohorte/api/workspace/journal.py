"""The request journal of one workspace, for its REST API keys (``journal.read``)."""

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends

from kohorte.api.admin.emulator_schemas import JournalPage
from kohorte.api.admin.journal import JournalQueryDep, journal_page
from kohorte.api.deps import SessionDep, SettingsDep, permitted
from kohorte.api.responses import ERROR_RESPONSES
from kohorte.domain.access import WorkspaceAccess
from kohorte.domain.permissions import Permission

router = APIRouter(tags=["emulator controls"], responses=ERROR_RESPONSES)
JournalReaderDep = Annotated[WorkspaceAccess, Depends(permitted(Permission.JOURNAL_READ))]


@router.get("/journal", response_model=JournalPage, summary="This workspace's partner requests")
def list_workspace_journal(
    session: SessionDep, settings: SettingsDep, query: JournalQueryDep, access: JournalReaderDep
) -> JournalPage:
    # The key's workspace replaces any workspace_id asked for: other workspaces stay unseen.
    scoped = replace(query, workspace_id=access.workspace_id)
    return journal_page(session, settings, scoped)
