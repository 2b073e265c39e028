"""Primary and deprecated external ids, apart: what renames and removals read and write.

Lookups that only need the user an external id addresses (either kind) are in
``identities.py``; these tell the kinds apart. Each function is one statement for the batch.
"""

from collections.abc import Collection, Mapping

from sqlalchemy import case, delete, insert, select, update
from sqlalchemy.orm import Session

from kohorte.store.batches import in_batch
from kohorte.store.identities import deprecated, users
from kohorte.store.models import User
from kohorte.store.types import utcnow
from kohorte.store.users_api_tables import DeprecatedExternalId


def primary_holders(
    session: Session, workspace_id: str, external_ids: Collection[str]
) -> dict[str, int]:
    if not external_ids:
        return {}
    rows = session.execute(
        select(users.external_id, users.id).where(
            users.workspace_id == workspace_id, in_batch(session, users.external_id, external_ids)
        )
    )
    return dict(rows.all())


def deprecated_holders(
    session: Session, workspace_id: str, external_ids: Collection[str]
) -> dict[str, int]:
    if not external_ids:
        return {}
    rows = session.execute(
        select(deprecated.external_id, deprecated.user_id).where(
            deprecated.workspace_id == workspace_id,
            in_batch(session, deprecated.external_id, external_ids),
        )
    )
    return dict(rows.all())


def set_primary(session: Session, primary_of: Mapping[int, str]) -> None:
    """Give each user its new primary external id (none of them held by anyone before)."""
    if not primary_of:
        return
    session.execute(
        update(User)
        .where(User.id.in_(list(primary_of)))
        .values(external_id=case(dict(primary_of), value=User.id), updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def add_deprecated(session: Session, workspace_id: str, holders: Mapping[str, int]) -> None:
    if not holders:
        return
    now = utcnow()
    rows = [
        {"workspace_id": workspace_id, "external_id": ext, "user_id": user, "created_at": now}
        for ext, user in holders.items()
    ]
    session.execute(insert(DeprecatedExternalId), rows)


def remove_deprecated(session: Session, workspace_id: str, external_ids: Collection[str]) -> None:
    if not external_ids:
        return
    session.execute(
        delete(DeprecatedExternalId)
        .where(
            DeprecatedExternalId.workspace_id == workspace_id,
            in_batch(session, DeprecatedExternalId.external_id, external_ids),
        )
        .execution_options(synchronize_session=False)
    )
