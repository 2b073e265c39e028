"""Request and response bodies of the instance admin API."""

from datetime import datetime

from pydantic import BaseModel, Field, StrictStr

from kohorte.domain import json_schema
from kohorte.domain.keys import MIN_FIXED_KEY_LENGTH
from kohorte.domain.partners import PARTNER_NAME
from kohorte.domain.permissions import Permission

NAME = Field(json_schema_extra=json_schema.name())
VENDOR_KEY = Field(
    None,
    description="A vendor's own partner key, registered instead of a generated one",
    json_schema_extra={"minLength": MIN_FIXED_KEY_LENGTH},
)


class WorkspaceCreate(BaseModel):
    name: StrictStr = NAME


class WorkspaceOut(BaseModel):
    id: str
    name: str
    created_at: datetime


class WorkspaceList(BaseModel):
    workspaces: list[WorkspaceOut]


class RestKeyCreate(BaseModel):
    name: StrictStr = NAME
    permissions: list[StrictStr] | None = Field(
        None,
        description="What the key may do; every permission when omitted",
        json_schema_extra={"items": {"enum": [permission.value for permission in Permission]}},
    )


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
    name: StrictStr = Field(
        description="The partner's name in URLs, e.g. amplitude",
        json_schema_extra={"pattern": f"^{PARTNER_NAME.pattern}$"},
    )
    display_name: StrictStr | None = Field(None, json_schema_extra=json_schema.name())
    partner_api_key: StrictStr | None = VENDOR_KEY


class PartnerKeyCreate(BaseModel):
    partner_api_key: StrictStr | None = VENDOR_KEY


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
