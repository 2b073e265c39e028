"""Whom each ``/users/track`` object names, and finding (or creating) those users.

Braze's rules: ``_update_existing_only`` defaults to false with external_id (a new external id
creates the user) and true with user_alias; braze_id only reaches existing users.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from kohorte.domain.errors import InvalidInput
from kohorte.domain.users import fields
from kohorte.domain.users.fields import Alias, Skipped
from kohorte.domain.users.new_users import create_alias_only_users, ensure_identified_users
from kohorte.store import identities

IDENTIFIER_KEYS = ("external_id", "user_alias", "braze_id")
UPDATE_EXISTING_ONLY = "_update_existing_only"


@dataclass(frozen=True)
class UserRef:
    array: str
    index: int
    kind: str  # one of IDENTIFIER_KEYS
    external_id: str | None
    alias: Alias | None
    braze_id: str | None
    update_existing_only: bool

    @property
    def key(self) -> tuple[str, int]:
        return (self.array, self.index)

    @property
    def where(self) -> str:
        return f"{self.array}[{self.index}]"

    def not_found(self) -> Skipped:
        return Skipped(self.array, self.index, f"No user found for {self.kind}")


def parse_ref(array: str, index: int, item: object) -> tuple[UserRef, dict[str, Any]]:
    """The user an object names and the object's other keys; a 400 naming the place."""
    where = f"{array}[{index}]"
    if not isinstance(item, dict):
        raise InvalidInput(f"{array}.{index} must be an object")
    named = [key for key in IDENTIFIER_KEYS if item.get(key) is not None]
    if len(named) != 1:
        raise InvalidInput(
            f"{where} must name its user by exactly one of {', '.join(IDENTIFIER_KEYS)}"
        )
    kind = named[0]
    only_existing = item.get(UPDATE_EXISTING_ONLY, kind != "external_id")
    if not isinstance(only_existing, bool):
        raise InvalidInput(f"{where}.{UPDATE_EXISTING_ONLY} must be a boolean")
    value, field = item[kind], f"{where}.{kind}"
    ref = UserRef(
        array=array,
        index=index,
        kind=kind,
        external_id=fields.identifier(value, field) if kind == "external_id" else None,
        alias=fields.alias(value, field) if kind == "user_alias" else None,
        braze_id=fields.identifier(value, field) if kind == "braze_id" else None,
        update_existing_only=only_existing or kind == "braze_id",
    )
    rest = {k: v for k, v in item.items() if k not in (*IDENTIFIER_KEYS, UPDATE_EXISTING_ONLY)}
    return ref, rest


def resolve(session: Session, workspace_id: str, refs: list[UserRef]) -> dict[tuple[str, int], int]:
    """User id per object (array, index), creating the users objects may create."""
    by_external_id = _external_ids(session, workspace_id, refs)
    by_alias = _aliases(session, workspace_id, refs)
    braze_ids = [ref.braze_id for ref in refs if ref.braze_id is not None]
    by_braze_id = identities.users_by_braze_id(session, workspace_id, braze_ids)
    found: dict[tuple[str, int], int | None] = {}
    for ref in refs:
        if ref.external_id is not None:
            found[ref.key] = by_external_id.get(ref.external_id)
        elif ref.alias is not None:
            found[ref.key] = by_alias.get(ref.alias.key)
        else:
            found[ref.key] = by_braze_id.get(ref.braze_id or "")
    return {key: user_id for key, user_id in found.items() if user_id is not None}


def _external_ids(session: Session, workspace_id: str, refs: list[UserRef]) -> dict[str, int]:
    wanted = [r.external_id for r in refs if r.external_id is not None]
    known = identities.users_by_external_id(session, workspace_id, wanted)
    new = {
        r.external_id
        for r in refs
        if r.external_id is not None and r.external_id not in known and not r.update_existing_only
    }
    return known | ensure_identified_users(session, workspace_id, new) if new else known


def _aliases(
    session: Session, workspace_id: str, refs: list[UserRef]
) -> dict[tuple[str, str], int]:
    wanted = [r.alias.key for r in refs if r.alias is not None]
    known = identities.users_by_alias(session, workspace_id, wanted)
    new = [
        r.alias.key
        for r in refs
        if r.alias is not None and r.alias.key not in known and not r.update_existing_only
    ]
    return known | create_alias_only_users(session, workspace_id, new) if new else known
