"""Instance admin endpoints (bearer admin token): workspaces, REST API keys, partners."""

from fastapi import APIRouter, Response, status

from kohorte.api.admin import schemas
from kohorte.api.deps import AdminDep, SessionDep
from kohorte.api.responses import CONFLICT_RESPONSE, ERROR_RESPONSES
from kohorte.domain import partners, workspaces

router = APIRouter(prefix="/admin", tags=["instance admin"], responses=ERROR_RESPONSES)
NO_CONTENT = status.HTTP_204_NO_CONTENT


@router.post("/workspaces", status_code=201, response_model=schemas.WorkspaceOut)
def create_workspace(
    body: schemas.WorkspaceCreate, session: SessionDep, _: AdminDep
) -> schemas.WorkspaceOut:
    workspace = workspaces.create_workspace(session, body.name)
    return schemas.WorkspaceOut.model_validate(workspace, from_attributes=True)


@router.get("/workspaces", response_model=schemas.WorkspaceList)
def list_workspaces(session: SessionDep, _: AdminDep) -> schemas.WorkspaceList:
    found = workspaces.list_workspaces(session)
    return schemas.WorkspaceList(
        workspaces=[schemas.WorkspaceOut.model_validate(w, from_attributes=True) for w in found]
    )


@router.delete("/workspaces/{workspace_id}", status_code=NO_CONTENT, response_class=Response)
def delete_workspace(workspace_id: str, session: SessionDep, _: AdminDep) -> Response:
    workspaces.delete_workspace(session, workspace_id)
    return Response(status_code=NO_CONTENT)


@router.post(
    "/workspaces/{workspace_id}/api-keys", status_code=201, response_model=schemas.RestKeyIssued
)
def create_rest_key(
    workspace_id: str, body: schemas.RestKeyCreate, session: SessionDep, _: AdminDep
) -> schemas.RestKeyIssued:
    issued = workspaces.issue_rest_key(session, workspace_id, body.name, body.permissions)
    record = issued.record
    return schemas.RestKeyIssued(
        id=record.id,
        name=record.name,
        key=issued.plaintext,
        permissions=record.permissions,
        created_at=record.created_at,
    )


@router.get("/workspaces/{workspace_id}/api-keys", response_model=schemas.RestKeyList)
def list_rest_keys(workspace_id: str, session: SessionDep, _: AdminDep) -> schemas.RestKeyList:
    keys = workspaces.list_rest_keys(session, workspace_id)
    return schemas.RestKeyList(
        api_keys=[schemas.RestKeyOut.model_validate(k, from_attributes=True) for k in keys]
    )


@router.delete(
    "/workspaces/{workspace_id}/api-keys/{key_id}", status_code=NO_CONTENT, response_class=Response
)
def revoke_rest_key(workspace_id: str, key_id: str, session: SessionDep, _: AdminDep) -> Response:
    workspaces.revoke_rest_key(session, workspace_id, key_id)
    return Response(status_code=NO_CONTENT)


@router.post(
    "/partners",
    status_code=201,
    response_model=schemas.PartnerCreated,
    responses=CONFLICT_RESPONSE,
)
def create_partner(
    body: schemas.PartnerCreate, session: SessionDep, _: AdminDep
) -> schemas.PartnerCreated:
    partner, issued = partners.create_partner(
        session, body.name, body.display_name, body.partner_api_key
    )
    return schemas.PartnerCreated(
        name=partner.name,
        display_name=partner.display_name,
        partner_api_key=issued.plaintext,
        key_id=issued.record.id,
    )


@router.get("/partners", response_model=schemas.PartnerList)
def list_partners(session: SessionDep, _: AdminDep) -> schemas.PartnerList:
    return schemas.PartnerList(
        partners=[
            schemas.PartnerOut(
                name=entry.partner.name,
                display_name=entry.partner.display_name,
                api_keys=[
                    schemas.PartnerKeyOut.model_validate(key, from_attributes=True)
                    for key in entry.keys
                ],
            )
            for entry in partners.list_partners(session)
        ]
    )


@router.post(
    "/partners/{name}/api-keys",
    status_code=201,
    response_model=schemas.PartnerKeyIssued,
    responses=CONFLICT_RESPONSE,
)
def create_partner_key(
    name: str, session: SessionDep, _: AdminDep, body: schemas.PartnerKeyCreate | None = None
) -> schemas.PartnerKeyIssued:
    issued = partners.issue_partner_key(session, name, body.partner_api_key if body else None)
    return schemas.PartnerKeyIssued(id=issued.record.id, partner_api_key=issued.plaintext)


@router.delete(
    "/partners/{name}/api-keys/{key_id}", status_code=NO_CONTENT, response_class=Response
)
def revoke_partner_key(name: str, key_id: str, session: SessionDep, _: AdminDep) -> Response:
    partners.revoke_partner_key(session, name, key_id)
    return Response(status_code=NO_CONTENT)
