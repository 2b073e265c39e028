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
    return {planned.external_id_of[p]: user for p, user in created.items()}  # type: ignore[misc]


def create_alias_only_users(
    session: Session, workspace_id: str, aliases: Collection[AliasKey]
) -> dict[AliasKey, int]:
    """One new user per alias; an alias a concurrent request took first goes to that holder
    (the user made for it is removed again)."""
    keys = list(dict.fromkeys(aliases))
    planned = NewUsers()
    placeholders = [planned.new() for _ in keys]
    created = planned.create(session, workspace_id)
    users = [created[p] for p in placeholders]
    store.add_aliases(
        session, workspace_id, [(u, label, name) for u, (label, name) in zip(users, keys, strict=True)]
    )
    owners = identities.users_by_alias(session, workspace_id, keys)
    store.delete_users(session, [u for u, key in zip(users, keys, strict=True) if owners.get(key) != u])
    return owners
