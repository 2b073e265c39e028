"""Renaming aliases: one delete and one insert for the whole batch.

A single UPDATE could collide with itself (one entry frees a name that a later entry takes: a
unique index is checked row by row), so the renamed rows go and come back with their new names.
"""

from collections.abc import Mapping

from sqlalchemy import delete, insert, tuple_
from sqlalchemy.orm import Session

from kohorte.store.batches import batch_pairs
from kohorte.store.identities import AliasKey
from kohorte.store.models import UserAlias


def rename_aliases(
    session: Session, workspace_id: str, renames: Mapping[AliasKey, tuple[str, int]]
) -> None:
    """``renames``: (label, old name) → (new name, holder); every new (label, name) is free
    once the old ones are gone."""
    if not renames:
        return
    session.execute(
        delete(UserAlias)
        .where(
            UserAlias.workspace_id == workspace_id,
            tuple_(UserAlias.alias_label, UserAlias.alias_name).in_(
                batch_pairs(session, list(renames))
            ),
        )
        .execution_options(synchronize_session=False)
    )
    rows = [
        {"workspace_id": workspace_id, "user_id": user, "alias_label": label, "alias_name": new}
        for (label, _old), (new, user) in renames.items()
    ]
    session.execute(insert(UserAlias), rows)
