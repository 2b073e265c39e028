"""Which user holds an identifier: the one home of these lookups, set-based.

Each function costs one statement whatever the batch size (on PostgreSQL the batch travels as
one array parameter, see ``batches.in_batch``) and answers only for identifiers it found.
Used by the users services and by the cohort matcher.
"""

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


def users_by_braze_id(
    session: Session, workspace_id: str, braze_ids: Collection[str]
) -> dict[str, int]:
    if not braze_ids:
        return {}
    rows = session.execute(
        select(User.braze_id, User.id).where(
            User.workspace_id == workspace_id, in_batch(session, User.braze_id, braze_ids)
        )
    )
    return dict(rows.all())


def users_by_alias(
    session: Session, workspace_id: str, aliases: Collection[AliasKey]
) -> dict[AliasKey, int]:
    """Looked up as label in (...) and name in (...), which the unique index on (workspace,
    label, name) serves, then narrowed to the exact pairs (a batch holds few labels).

    Not a row-value list ``(label, name) IN (...)``: PostgreSQL tests that against every alias
    of the workspace instead of searching the index."""
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


def device_owners(
    session: Session, workspace_id: str, device_ids: Collection[str]
) -> dict[str, int]:
    if not device_ids:
        return {}
    rows = session.execute(
        select(UserDevice.device_id, UserDevice.user_id).where(
            UserDevice.workspace_id == workspace_id,
            in_batch(session, UserDevice.device_id, device_ids),
        )
    )
    return dict(rows.all())


def anonymous_device_owners(
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
