"""The matcher: which existing user each identifier of a cohort request stands for.

``user_ids`` match by external id, ``aliases`` by (label, name), ``device_ids`` only users
without an external id (an identified user is addressed by external id or alias). Cohort import
never creates a user; an identifier that matches nobody is simply absent from the result, and
``unmatched`` says why it matched nobody (the ledger of ``domain/unmatched.py``).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

from sqlalchemy.orm import Session

from kohorte.domain.cohort_import.requests import Change
from kohorte.domain.text import MAX_IDENTIFIER_BYTES, is_valid_identifier
from kohorte.store import identities as store
from kohorte.store.identities import AliasKey, Identifiers

# A string of at most this many characters never exceeds MAX_IDENTIFIER_BYTES in UTF-8.
_SURELY_SHORT = MAX_IDENTIFIER_BYTES // 4


@dataclass(frozen=True)
class Matches:
    """The users found for a request's identifiers, per kind."""

    external_ids: Mapping[str, int]
    device_ids: Mapping[str, int]
    aliases: Mapping[AliasKey, int]

    def users_of(self, change: Change) -> list[int]:
        """The users the change's identifiers matched, one entry per matched identifier."""
        found = [self.external_ids[i] for i in change.external_ids if i in self.external_ids]
        found += [self.device_ids[i] for i in change.device_ids if i in self.device_ids]
        found += [self.aliases[a] for a in change.aliases if a in self.aliases]
        return found


def resolve(session: Session, workspace_id: str, changes: Sequence[Change]) -> Matches:
    """Look up every identifier of the changes: at most one query per kind, whatever the batch
    size; duplicates are looked up once. Identifiers the store could never hold (NUL, lone
    surrogates, over 997 bytes) match nobody."""
    external_ids, device_ids, aliases = matchable(changes)
    return Matches(
        store.users_by_external_id(session, workspace_id, external_ids),
        store.anonymous_device_owners(session, workspace_id, device_ids),
        store.users_by_alias(session, workspace_id, aliases),
    )


def matchable(changes: Sequence[Change]) -> Identifiers:
    """The changes' identifiers that could name a user, for the store to match and write from
    in one statement (``memberships.apply_matched``); the matching rules are the store's
    lookups, the same that ``resolve`` runs."""
    return Identifiers(
        _matchable(i for change in changes for i in change.external_ids),
        _matchable(i for change in changes for i in change.device_ids),
        _matchable_pairs(a for change in changes for a in change.aliases),
    )


def _matchable(values: Iterable[str]) -> set[str]:
    """The values that could name a user; checked on the whole batch first, because a real
    batch is all short, plain text and checking each value costs more than the lookup."""
    wanted = set(values)
    joined = "".join(wanted)
    if "\x00" not in joined and _encodes(joined) and all(len(v) <= _SURELY_SHORT for v in wanted):
        wanted.discard("")
        return wanted
    return {value for value in wanted if is_valid_identifier(value)}


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _matchable_pairs(aliases: Iterable[AliasKey]) -> set[AliasKey]:
    wanted = set(aliases)
    labels = _matchable(label for label, _ in wanted)
    names = _matchable(name for _, name in wanted)
    return {(label, name) for label, name in wanted if label in labels and name in names}


class Kind(IntEnum):
    """Kinds of identifier, as the ledger of unmatched identifiers stores them."""

    EXTERNAL_ID = 0
    DEVICE_ID = 1
    ALIAS = 2


class Unmatchable(IntEnum):
    """Why an identifier matched nobody, as the ledger stores it; ``REASONS`` says it."""

    NO_EXTERNAL_ID = 0
    NO_ALIAS = 1
    NO_DEVICE = 2
    DEVICE_OF_IDENTIFIED_USER = 3


REASONS = {
    Unmatchable.NO_EXTERNAL_ID: "no user with this external_id",
    Unmatchable.NO_ALIAS: "no user with this alias",
    Unmatchable.NO_DEVICE: "no user with this device_id",
    Unmatchable.DEVICE_OF_IDENTIFIED_USER: "device belongs to an identified user",
}


class Unmatched(NamedTuple):
    """An identifier that matched nobody; ``label`` is the alias label, empty for the other
    kinds, and ``value`` the id or the alias name."""

    kind: Kind
    label: str
    value: str
    reason: Unmatchable


def unmatched(session: Session, workspace_id: str, changes: Sequence[Change]) -> list[Unmatched]:
    """The distinct identifiers of the changes that match nobody, and why: one query per kind.

    Identifiers the store could never hold (empty, NUL, lone surrogates, over 997 bytes) are
    left out: they match nobody, but no row can keep them."""
    external_ids, device_ids, aliases = matchable(changes)
    users = store.users_by_external_id(session, workspace_id, external_ids)
    holders = store.users_by_alias(session, workspace_id, aliases)
    owners = store.device_holders(session, workspace_id, device_ids)
    found = [
        Unmatched(Kind.EXTERNAL_ID, "", value, Unmatchable.NO_EXTERNAL_ID)
        for value in external_ids
        if value not in users
    ]
    found += [
        Unmatched(Kind.ALIAS, label, name, Unmatchable.NO_ALIAS)
        for label, name in aliases
        if (label, name) not in holders
    ]
    found += [
        Unmatched(Kind.DEVICE_ID, "", device_id, _device_reason(owners.get(device_id)))
        for device_id in device_ids
        if device_id not in owners or owners[device_id].identified
    ]
    return found


def _device_reason(owner: store.DeviceHolder | None) -> Unmatchable:
    # Only the owner of a device without an external id is matched by it (the rule above).
    return Unmatchable.NO_DEVICE if owner is None else Unmatchable.DEVICE_OF_IDENTIFIED_USER
