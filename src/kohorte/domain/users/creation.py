"""Creating users in bulk, shared by track, alias/new and import."""

from collections.abc import Collection

from sqlalchemy.orm import Session

from kohorte.store import identities
from kohorte.store import users as store
from kohorte.store.identities import AliasKey


def ensure_identified_users(
    session: Session, workspace_id: str, external_ids: Collection[str]
) -> dict[str, int]:
    """Ids of the users with these external ids, creating those that are new."""
    return store.create_identified_users(
        session, workspace_id, {external_id: {} for external_id in external_ids}
    )


def create_alias_only_users(
    session: Session, workspace_id: str, aliases: Collection[AliasKey]
) -> dict[AliasKey, int]:
    """One new user per alias; an alias a concurrent request took first goes to that holder."""
    keys = list(dict.fromkeys(aliases))
    created = store.create_anonymous_users(session, workspace_id, [{} for _ in keys])
    store.add_aliases(
        session,
        workspace_id,
        [(u, label, name) for u, (label, name) in zip(created, keys, strict=True)],
    )
    owners = identities.users_by_alias(session, workspace_id, keys)
    orphans = [user for user, key in zip(created, keys, strict=True) if owners.get(key) != user]
    store.delete_users(session, orphans)
    return owners
