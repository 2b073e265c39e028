"""Users a request will create: placeholders while the request is worked out, then created
set-based, in one place for identify, devices, alias/new, track and import.

A placeholder is a negative number, so it can never be taken for a real user id (ids start
at 1), and it can stand wherever a user id does (device and alias owners, merge targets) until
``create`` maps it to the real id.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from kohorte.store import identities, user_import
from kohorte.store import users as store
from kohorte.store.identities import AliasKey


def is_placeholder(user: int) -> bool:
    return user < 0


@dataclass
class NewUsers:
    """The placeholders handed out so far, each with the external id it will have (None for
    an anonymous user)."""

    external_id_of: dict[int, str | None] = field(default_factory=dict)

    def new(self, external_id: str | None = None) -> int:
        placeholder = -(len(self.external_id_of) + 1)
        self.external_id_of[placeholder] = external_id
        return placeholder

    def identify(self, placeholder: int, external_id: str) -> None:
        """A user planned as anonymous turned out to be ``external_id``."""
        self.external_id_of[placeholder] = external_id

    def create(
        self,
        session: Session,
        workspace_id: str,
        *,
        keep: Collection[int] | None = None,
        attributes: Mapping[int, dict[str, Any]] | None = None,
        bulk: bool = False,
    ) -> dict[int, int]:
        """Create the placeholders (those in ``keep``, or all) with their custom attributes;
        placeholder → real id. Row by row (``bulk=False``) an external id a concurrent request
        created first maps to that user; ``bulk`` is the import's path (store/user_import.py)."""
        wanted = [p for p in self.external_id_of if keep is None or p in keep]
        given = attributes or {}
        named = {p: ext for p in wanted if (ext := self.external_id_of[p]) is not None}
        anonymous = [p for p in wanted if p not in named]
        by_ext, ids = user_import.create_users(
            session,
            workspace_id,
            {ext: given.get(p, {}) for p, ext in named.items()},
            [given.get(p, {}) for p in anonymous],
            bulk=bulk,
        )
        return {p: by_ext[ext] for p, ext in named.items()} | dict(zip(anonymous, ids, strict=True))


def ensure_identified_users(
    session: Session, workspace_id: str, external_ids: Collection[str]
) -> dict[str, int]:
    """Ids of the users with these (new) external ids, creating them; a concurrent creator's
    user is taken as it is."""
    planned = NewUsers()
    for external_id in dict.fromkeys(external_ids):
        planned.new(external_id)
    created = planned.create(session, workspace_id)
    return {ext: created[p] for p, ext in planned.external_id_of.items() if ext is not None}


def create_alias_only_users(
    session: Session, workspace_id: str, aliases: Collection[AliasKey]
) -> dict[AliasKey, int]:
    """One new user per alias: ids by alias."""
    planned = NewUsers()
    return create_with_aliases(
        session, workspace_id, planned, {planned.new(): key for key in dict.fromkeys(aliases)}
    )


def create_with_aliases(
    session: Session, workspace_id: str, planned: NewUsers, alias_of: Mapping[int, AliasKey]
) -> dict[AliasKey, int]:
    """Create the placeholders of ``alias_of``, each holding its alias; ids by alias. An alias
    a concurrent request took first stays with its holder (the user made for it is removed)."""
    created = planned.create(session, workspace_id, keep=alias_of.keys())
    users = {created[p]: key for p, key in alias_of.items()}
    store.add_aliases(
        session, workspace_id, [(u, label, name) for u, (label, name) in users.items()]
    )
    owners = identities.users_by_alias(session, workspace_id, list(users.values()))
    store.delete_users(session, [user for user, key in users.items() if owners.get(key) != user])
    return owners
