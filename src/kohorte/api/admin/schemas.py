"""Request and response bodies of the instance admin API."""

from datetime import datetime

from pydantic import BaseModel, StrictStr


class WorkspaceCreate(BaseModel):
    name: StrictStr


class WorkspaceOut(BaseModel):
    id: str
    name: str
    created_at: datetime


class WorkspaceList(BaseModel):
    workspaces: list[WorkspaceOut]


class RestKeyCreate(BaseModel):
    name: StrictStr
    permissions: list[StrictStr] | None = None


class RestKeyIssued(BaseModel):
    id: str
    name: str
    key: str
    permissions: list[str] | None
    created_at: datetime


class RestKeyOut(BaseModel):
    id: str
    name: str
    prefix: str
    permissions: list[str] | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class RestKeyList(BaseModel):
    api_keys: list[RestKeyOut]


class PartnerCreate(BaseModel):
    name: StrictStr
    display_name: StrictStr | None = None
    # A vendor's own partner key (at least 16 characters), registered instead of a new one.
    partner_api_key: StrictStr | None = None


class PartnerKeyCreate(BaseModel):
    partner_api_key: StrictStr | None = None


class PartnerCreated(BaseModel):
    name: str
    display_name: str
    partner_api_key: str
    key_id: str


class PartnerKeyOut(BaseModel):
    id: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class PartnerOut(BaseModel):
    name: str
    display_name: str
    api_keys: list[PartnerKeyOut]


class PartnerList(BaseModel):
    partners: list[PartnerOut]


class PartnerKeyIssued(BaseModel):
    id: str
    partner_api_key: str
