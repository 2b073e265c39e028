"""The seed file's format, built from the very models the API validates its bodies with.

This package sits beside ``kohorte.api`` and ``kohorte.cli`` as one more way in: it reads a
file and calls the domain services, as a router reads a body and calls them. So it may import
the API's request models (a seed partner *is* a ``POST /admin/partners`` body, plus its fixed
keys) while the domain still imports nothing of ``api/`` or of this package. Rules that the
domain owns run as the domain runs them: a user is one ``/users/import`` line parsed by
``import_lines.parse_line``, a cohort's members one change object checked by the partner
request parser, a key's length by ``keys.fixed_key``; segment filters and permissions, which
need the store, are checked by their services while the file is applied.
"""

import json
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictStr,
    model_validator,
)

from kohorte.api.admin.schemas import PartnerCreate, RestKeyCreate, WorkspaceCreate
from kohorte.api.partner.schemas import CohortChange
from kohorte.api.workspace.segment_schemas import SegmentIn
from kohorte.domain.cohort_import.requests import (
    MAX_IDENTIFIERS_PER_REQUEST,
    parse_cohort_changes,
)
from kohorte.domain.errors import InvalidInput
from kohorte.domain.keys import fixed_key
from kohorte.domain.users.import_lines import ImportLine, parse_line
from kohorte.domain.workspaces import WORKSPACE_ID

FORBID = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


def _key(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    try:
        return fixed_key(value, "a key").plaintext
    except InvalidInput as error:
        raise ValueError(error.message) from error


def _user(value: object) -> ImportLine:
    if not isinstance(value, dict):
        raise ValueError("a user is an object, as one line of POST /users/import")
    try:
        line = parse_line(0, json.dumps(value, ensure_ascii=False).encode())
    except InvalidInput as error:
        raise ValueError(error.message) from error
    if line is None:
        raise ValueError("a user is an object, as one line of POST /users/import")
    return line


Key = Annotated[str, PlainValidator(_key)]
User = Annotated[ImportLine, PlainValidator(_user)]


class SeedPartner(PartnerCreate):
    """As ``POST /admin/partners``; ``api_keys``: its partner API keys with fixed values."""

    model_config = FORBID
    api_keys: list[Key] = []
    partner_api_key: Key | None = None


class SeedRestKey(RestKeyCreate):
    """As ``POST /admin/workspaces/{id}/api-keys``, with the key's fixed value."""

    model_config = FORBID
    key: Key


class SeedDataImportKey(BaseModel):
    model_config = FORBID
    partner: StrictStr
    key: Key


class SeedMembers(CohortChange):
    """One change object of a partner sync; members are added, never removed."""

    model_config = FORBID

    @model_validator(mode="after")
    def adds_only(self) -> "SeedMembers":
        if self.should_remove:
            raise ValueError("members are added: should_remove must be false")
        return self

    def change_objects(self) -> list[dict[str, Any]]:
        """The members as change objects of at most 1,000 identifiers each (one request's)."""
        identifiers: list[tuple[str, object]] = [("user_ids", v) for v in self.user_ids]
        identifiers += [("device_ids", v) for v in self.device_ids]
        identifiers += [("aliases", a.model_dump()) for a in self.aliases]
        chunks = []
        for start in range(0, len(identifiers), MAX_IDENTIFIERS_PER_REQUEST):
            chunk: dict[str, Any] = {"user_ids": [], "device_ids": [], "aliases": []}
            for kind, value in identifiers[start : start + MAX_IDENTIFIERS_PER_REQUEST]:
                chunk[kind].append(value)
            chunks.append(chunk)
        return chunks


class SeedCohort(BaseModel):
    model_config = FORBID
    partner: StrictStr
    cohort_id: StrictStr
    name: StrictStr | None = None
    members: SeedMembers = SeedMembers()

    @model_validator(mode="after")
    def as_a_partner_sync(self) -> "SeedCohort":
        """The partner route's own rules for the cohort id and the change objects."""
        if self.name is None and not self.members.change_objects():
            # A partner sync without members creates nothing: the cohort needs one or a name.
            raise ValueError("a cohort needs a name or members")
        for change in self.members.change_objects() or [{}]:
            body = {"cohort_id": self.cohort_id, "cohort_changes": [change]}
            try:
                parse_cohort_changes(body)
            except InvalidInput as error:
                raise ValueError(error.message) from error
        return self


class SeedSegment(SegmentIn):
    """As ``POST /segments``, with an optional fixed id."""

    model_config = FORBID
    id: Annotated[StrictStr, Field(pattern=f"^{WORKSPACE_ID.pattern}$")] | None = None


class SeedWorkspace(WorkspaceCreate):
    """As ``POST /admin/workspaces``, with its fixed id and what it holds."""

    model_config = FORBID
    id: Annotated[StrictStr, Field(pattern=f"^{WORKSPACE_ID.pattern}$")]
    api_keys: list[SeedRestKey] = []
    data_import_keys: list[SeedDataImportKey] = []
    users: list[User] = []
    cohorts: list[SeedCohort] = []
    segments: list[SeedSegment] = []


class SeedFile(BaseModel):
    model_config = FORBID
    partners: list[SeedPartner] = []
    workspaces: list[SeedWorkspace] = []
