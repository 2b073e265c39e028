"""Set-based lookups of users by identifier, one statement per identifier kind."""

from collections.abc import Collection

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from kohorte.store.models import User, UserAlias, UserDevice

AliasKey = tuple[str, str]  # (alias_label, alias_name)


def users_by_external_id(
    session: Session, workspace_id: str, external_ids: Collection[str]
) -> dict[str, int]:
    if not external_ids:
        return {}
    rows = session.execute(
        select(User.external_id, User.id).where(
            User.workspace_id == workspace_id, User.external_id.in_(external_ids)
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
            UserDevice.device_id.in_(device_ids),
            User.external_id.is_(None),
        )
    )
    return dict(rows.all())


def users_by_alias(
    session: Session, workspace_id: str, aliases: Collection[AliasKey]
) -> dict[AliasKey, int]:
    if not aliases:
        return {}
    rows = session.execute(
        select(UserAlias.alias_label, UserAlias.alias_name, UserAlias.user_id).where(
            UserAlias.workspace_id == workspace_id,
            tuple_(UserAlias.alias_label, UserAlias.alias_name).in_(list(aliases)),
        )
    )
    return {(label, name): user_id for label, name, user_id in rows}
