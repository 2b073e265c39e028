"""Request and response bodies of merge, external id rename and removal, and alias update."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from kohorte.domain.users.fields import Identifier
from kohorte.domain.users.identifiers import UserIdentifier

# Written out rather than derived: a tuple's prefixItems trips some OpenAPI 3.1 tools.
IdAndReason = Annotated[
    tuple[str, str],
    WithJsonSchema({"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}),
]


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MergeUpdateIn(Entry):
    identifier_to_merge: UserIdentifier = Field(description="The user that is merged and then gone")
    identifier_to_keep: UserIdentifier = Field(description="The user that receives what it held")


class MergeIn(BaseModel):
    merge_updates: list[MergeUpdateIn] = Field(
        description="At most 50 merges, applied in order: devices, cohort memberships, aliases "
        "(unless the kept user has the label) and attributes it lacks move to the kept user"
    )


class EntryErrorOut(BaseModel):
    index: int = Field(description="Position of the skipped entry in the request's array")
    message: str = Field(description="Why the entry was skipped")


class MergeOut(BaseModel):
    message: str = Field("success", description="`success` even when some entries were skipped")
    errors: list[EntryErrorOut] | None = Field(
        None, description="The skipped entries; absent when every entry applied"
    )


class RenameIn(Entry):
    current_external_id: Identifier = Field(description="The user's primary external id")
    new_external_id: Identifier = Field(
        description="The new primary external id, in use by nobody (primary or deprecated)"
    )


class RenamesIn(BaseModel):
    external_id_renames: list[RenameIn] = Field(
        description="At most 50 renames, applied in order; the old id becomes deprecated and "
        "keeps addressing the user until removed"
    )


class RenamesOut(BaseModel):
    message: str = Field("success", description="`success` even when some renames were refused")
    external_ids: list[str] = Field(description="Each current_external_id that was renamed")
    rename_errors: list[IdAndReason] = Field(
        description="[current_external_id, reason] of each refused rename"
    )


class RemovalsIn(BaseModel):
    external_ids: list[Identifier] = Field(
        description="At most 50 deprecated external ids to forget; afterwards they address nobody"
    )


class RemovalsOut(BaseModel):
    message: str = Field("success", description="`success` even when some ids were refused")
    removed_ids: list[str] = Field(description="The deprecated ids removed")
    removal_errors: list[IdAndReason] = Field(
        description="[external_id, reason] of each id that was not a deprecated one"
    )


class AliasUpdateIn(Entry):
    alias_label: Identifier = Field(description="The label of the alias, which stays")
    old_alias_name: Identifier = Field(description="The alias's current name")
    new_alias_name: Identifier = Field(description="Its new name, free within the label")


class AliasUpdatesIn(BaseModel):
    alias_updates: list[AliasUpdateIn] = Field(description="At most 50 renames, applied in order")


class AliasUpdatesOut(BaseModel):
    message: str = Field("success", description="`success` even when some entries were skipped")
    errors: list[EntryErrorOut] | None = Field(
        None, description="The skipped entries; absent when every entry applied"
    )
