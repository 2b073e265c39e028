"""Which user holds an identifier: set-based lookups, one statement per identifier kind."""

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from kohorte.store.batches import in_batch
from kohorte.store.models import User, UserAlias, UserDevice

AliasKey = tuple[str, str]  # (alias_label, alias_name)


def users_by_external_id(
    session: Session, workspace_id: str, external_ids: Collection[str]
) -> dict[str, int]:
    if not external_ids:
        return {}
    rows = session.execute(
        select(User.external_id, User.id).where(
            User.workspace_id == workspace_id,
            in_batch(session, User.external_id, external_ids),
        )
    )
    return {external_id: user_id for external_id, user_id in rows if external_id is not None}


def anonymous_users_by_device_id(
    session: Session, workspace_id: str, device_ids: Collection[str]
) -> dict[str, int]:
    """Owners of the devices that have no external id: identified users are matched by it."""
    if not device_ids:
        return {}
    rows = session.execute(
        select(UserDevice.device_id, UserDevice.user_id)
        .join(User, User.id == UserDevice.user_id)
        .where(
            UserDevice.workspace_id == workspace_id,
            in_batch(session, UserDevice.device_id, device_ids),
            User.external_id.is_(None),
        )
    )
    return dict(rows.all())


def users_by_alias(
    session: Session, workspace_id: str, aliases: Collection[AliasKey]
) -> dict[AliasKey, int]:
    """Looked up as label in (...) and name in (...), which the unique index on (workspace,
    label, name) serves, then narrowed to the exact pairs (a batch holds few labels)."""
    if not aliases:
        return {}
    rows = session.execute(
        select(UserAlias.alias_label, UserAlias.alias_name, UserAlias.user_id).where(
            UserAlias.workspace_id == workspace_id,
            in_batch(session, UserAlias.alias_label, {label for label, _ in aliases}),
            in_batch(session, UserAlias.alias_name, {name for _, name in aliases}),
        )
    )
    wanted = set(aliases)
    return {(label, name): user_id for label, name, user_id in rows if (label, name) in wanted}
