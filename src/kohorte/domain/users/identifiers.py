"""A user of a workspace as the users API names one, and the one resolver of such names.

A ``UserIdentifier`` holds exactly one of ``external_id`` (primary or deprecated), ``user_alias``
or ``braze_id``; ``resolve`` maps a batch of them to user ids in one lookup per kind.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from kohorte.domain.json_schema import exactly_one_of
from kohorte.domain.users.fields import AliasRef, Identifier
from kohorte.store import identities


class UserIdentifier(BaseModel):
    """Exactly one of external_id, user_alias or braze_id."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra=exactly_one_of("external_id", "user_alias", "braze_id")
    )

    external_id: Identifier | None = Field(
        default=None, description="The user's external id (a deprecated one still addresses it)"
    )
    user_alias: AliasRef | None = Field(default=None, description="One of the user's aliases")
    braze_id: Identifier | None = Field(default=None, description="The id kohorte gave the user")

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [v for v in (self.external_id, self.user_alias, self.braze_id) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of external_id, user_alias or braze_id")
        return self


@dataclass(frozen=True)
class EntryError:
    """An entry of a request that was skipped, reported Braze's way as ``{index, message}``."""

    index: int
    message: str


def resolve(
    session: Session, workspace_id: str, identifiers: Sequence[UserIdentifier]
) -> list[int | None]:
    """The user of each identifier, None where it names nobody: one query per kind used."""
    external = [i.external_id for i in identifiers if i.external_id is not None]
    aliases = [i.user_alias.alias().key for i in identifiers if i.user_alias is not None]
    brazes = [i.braze_id for i in identifiers if i.braze_id is not None]
    by_external = identities.users_by_external_id(session, workspace_id, external)
    by_alias = identities.users_by_alias(session, workspace_id, aliases)
    by_braze = identities.users_by_braze_id(session, workspace_id, brazes)
    return [
        by_external.get(i.external_id)
        if i.external_id is not None
        else by_alias.get(i.user_alias.alias().key)
        if i.user_alias is not None
        else by_braze.get(i.braze_id or "")
        for i in identifiers
    ]
