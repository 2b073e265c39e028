"""Partner integrations of a workspace and their data import keys."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from kohorte.api.deps import SessionDep, SettingsDep, permitted
from kohorte.api.responses import ERROR_RESPONSES
from kohorte.domain import integrations
from kohorte.domain.access import WorkspaceAccess
from kohorte.domain.permissions import Permission

router = APIRouter(prefix="/integrations", tags=["integrations"], responses=ERROR_RESPONSES)
Access = Annotated[WorkspaceAccess, Depends(permitted(Permission.INTEGRATIONS_MANAGE))]


class IntegrationOut(BaseModel):
    partner: str
    display_name: str
    enabled: bool
    rest_endpoint: str
    live_keys: int


class IntegrationList(BaseModel):
    integrations: list[IntegrationOut]


class DataImportKeyIssued(BaseModel):
    id: str
    key: str
    created_at: datetime
    rest_endpoint: str


class DataImportKeyOut(BaseModel):
    id: str
    prefix: str
    created_at: datetime
    invalidated_at: datetime | None
    last_used_at: datetime | None


class DataImportKeyList(BaseModel):
    data_import_keys: list[DataImportKeyOut]


def rest_endpoint(request: Request, settings: SettingsDep) -> str:
    """The base URL partners post to: configured, or the one this request came in on."""
    return settings.public_url or str(request.base_url).rstrip("/")


RestEndpoint = Annotated[str, Depends(rest_endpoint)]


@router.get("", response_model=IntegrationList)
def list_integrations(
    session: SessionDep, access: Access, endpoint: RestEndpoint
) -> IntegrationList:
    found = integrations.list_integrations(session, access.workspace_id)
    return IntegrationList(
        integrations=[
            IntegrationOut(
                partner=entry.partner,
                display_name=entry.display_name,
                enabled=entry.enabled,
                rest_endpoint=endpoint,
                live_keys=entry.live_keys,
            )
            for entry in found
        ]
    )


@router.post("/{partner}/data-import-keys", status_code=201, response_model=DataImportKeyIssued)
def create_data_import_key(
    partner: str, session: SessionDep, access: Access, endpoint: RestEndpoint
) -> DataImportKeyIssued:
    issued = integrations.issue_data_import_key(session, access.workspace_id, partner)
    return DataImportKeyIssued(
        id=issued.record.id,
        key=issued.plaintext,
        created_at=issued.record.created_at,
        rest_endpoint=endpoint,
    )


@router.get("/{partner}/data-import-keys", response_model=DataImportKeyList)
def list_data_import_keys(partner: str, session: SessionDep, access: Access) -> DataImportKeyList:
    keys = integrations.list_data_import_keys(session, access.workspace_id, partner)
    return DataImportKeyList(
        data_import_keys=[DataImportKeyOut.model_validate(k, from_attributes=True) for k in keys]
    )


@router.delete("/{partner}/data-import-keys/{key_id}", status_code=204, response_class=Response)
def invalidate_data_import_key(
    partner: str, key_id: str, session: SessionDep, access: Access
) -> Response:
    integrations.invalidate_data_import_key(session, access.workspace_id, partner, key_id)
    return Response(status_code=204)
