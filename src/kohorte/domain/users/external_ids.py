"""``/users/external_ids/rename`` and ``/remove``: a user's external id changes, and the old one
keeps addressing the user (deprecated) until it is removed.

An id in use, primary or deprecated, is taken for every user, its own holder included: a
rename onto it is refused. Renames replay in request order on what the store holds, then write
set-based; cohort memberships, aliases and devices are untouched.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from kohorte.domain.users import fields
from kohorte.store import external_ids as store

MAX_RENAMES = 50
MAX_REMOVALS = 50
NOT_PRIMARY = "current_external_id is deprecated, not a primary external id"
UNKNOWN = "current_external_id matches no user"
IN_USE = "new_external_id is already in use"
REMOVE_PRIMARY = "is a primary external id; only deprecated ones can be removed"
REMOVE_UNKNOWN = "is not a deprecated external id"


@dataclass(frozen=True)
class Rename:
    current_external_id: str
    new_external_id: str


@dataclass
class Outcome:
    """The ids done and the ids refused, each with why, in request order."""

    done: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)


def rename(session: Session, workspace_id: str, renames: Sequence[Rename]) -> Outcome:
    fields.check_limit(renames, MAX_RENAMES, "external_id_renames")
    named = {r.current_external_id for r in renames} | {r.new_external_id for r in renames}
    primary = store.primary_holders(session, workspace_id, named)
    deprecated = store.deprecated_holders(session, workspace_id, named)
    outcome, renamed = _replay(renames, primary, deprecated)
    users = set(renamed.values())
    store.set_primary(session, {user: ext for ext, user in primary.items() if user in users})
    store.add_deprecated(session, workspace_id, renamed)
    return outcome


def _replay(
    renames: Sequence[Rename], primary: dict[str, int], deprecated: dict[str, int]
) -> tuple[Outcome, dict[str, int]]:
    """Apply the renames in order to the holders (changed in place); the outcome and the ids
    that became deprecated, each with its user."""
    outcome, renamed = Outcome(), dict[str, int]()
    for entry in renames:
        reason = _rename_refusal(entry, primary, deprecated)
        if reason is not None:
            outcome.errors.append((entry.current_external_id, reason))
            continue
        user = primary.pop(entry.current_external_id)
        primary[entry.new_external_id] = deprecated[entry.current_external_id] = user
        renamed[entry.current_external_id] = user
        outcome.done.append(entry.current_external_id)
    return outcome, renamed


def _rename_refusal(
    entry: Rename, primary: dict[str, int], deprecated: dict[str, int]
) -> str | None:
    if entry.current_external_id not in primary:
        return NOT_PRIMARY if entry.current_external_id in deprecated else UNKNOWN
    if entry.new_external_id in primary or entry.new_external_id in deprecated:
        return IN_USE
    return None


def remove(session: Session, workspace_id: str, external_ids: Sequence[str]) -> Outcome:
    """Forget deprecated ids: afterwards they address nobody and may be used again."""
    fields.check_limit(external_ids, MAX_REMOVALS, "external_ids")
    deprecated = store.deprecated_holders(session, workspace_id, external_ids)
    primary = store.primary_holders(session, workspace_id, external_ids)
    outcome = Outcome()
    for external_id in external_ids:
        if deprecated.pop(external_id, None) is not None:
            outcome.done.append(external_id)
        else:
            reason = REMOVE_PRIMARY if external_id in primary else REMOVE_UNKNOWN
            outcome.errors.append((external_id, reason))
    store.remove_deprecated(session, workspace_id, outcome.done)
    return outcome
