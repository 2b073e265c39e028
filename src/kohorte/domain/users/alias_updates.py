"""``/users/alias/update``: an alias's name changes within its label, for the user holding it.

Entries replay in request order (one may take a name an earlier one freed, or rename an alias
an earlier one renamed), on what the store holds for every (label, name) the request names;
the outcome is written set-based.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kohorte.domain.users import fields
from kohorte.domain.users.identifiers import EntryError
from kohorte.store import alias_updates as store
from kohorte.store import identities

MAX_ALIAS_UPDATES = 50
UNKNOWN_OLD = "old_alias_name matches no alias with this alias_label"
TAKEN_NEW = "new_alias_name is already taken within this alias_label"


@dataclass(frozen=True)
class AliasUpdate:
    alias_label: str
    old_alias_name: str
    new_alias_name: str


def update_aliases(
    session: Session, workspace_id: str, updates: Sequence[AliasUpdate]
) -> list[EntryError]:
    """Apply the renames; the entries skipped, each with why."""
    fields.check_limit(updates, MAX_ALIAS_UPDATES, "alias_updates")
    named = [(u.alias_label, n) for u in updates for n in (u.old_alias_name, u.new_alias_name)]
    held = identities.users_by_alias(session, workspace_id, named)
    origin = {key: key for key in held}  # current (label, name) → the row's stored one
    errors: list[EntryError] = []
    for index, entry in enumerate(updates):
        old, new = (
            (entry.alias_label, entry.old_alias_name),
            (entry.alias_label, entry.new_alias_name),
        )
        if old not in held or new in held:
            errors.append(EntryError(index, UNKNOWN_OLD if old not in held else TAKEN_NEW))
            continue
        held[new], origin[new] = held.pop(old), origin.pop(old)
    renamed = {stored: (key[1], held[key]) for key, stored in origin.items() if key != stored}
    store.rename_aliases(session, workspace_id, renamed)
    return errors
