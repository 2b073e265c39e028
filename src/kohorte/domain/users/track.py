"""``/users/track``: create users and update their custom attributes, a batch at a time.

Each object names its user by exactly one of external_id, user_alias or braze_id. Lookups,
creations and attribute writes each cost one statement for the whole batch.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from kohorte.domain.errors import InvalidInput
from kohorte.domain.users import fields
from kohorte.domain.users.attributes import Update, apply_updates, parse_updates
from kohorte.domain.users.creation import create_alias_only_users, ensure_identified_users
from kohorte.domain.users.fields import Alias, Skipped
from kohorte.store import identities
from kohorte.store import users as store

MAX_ATTRIBUTE_OBJECTS = 75
IDENTIFIER_KEYS = ("external_id", "user_alias", "braze_id")
UPDATE_EXISTING_ONLY = "_update_existing_only"
INPUT_ARRAY = "attributes"


@dataclass(frozen=True)
class TrackEntry:
    index: int
    kind: str  # one of IDENTIFIER_KEYS
    external_id: str | None
    alias: Alias | None
    braze_id: str | None
    update_existing_only: bool
    updates: list[Update]


@dataclass(frozen=True)
class TrackResult:
    processed: int
    skipped: list[Skipped]


def track(session: Session, workspace_id: str, attributes: list[dict[str, Any]]) -> TrackResult:
    fields.check_limit(attributes, MAX_ATTRIBUTE_OBJECTS, "attributes objects")
    entries = [parse_entry(index, item) for index, item in enumerate(attributes)]
    user_ids = _resolve(session, workspace_id, entries)
    skipped = [_skip(entry) for entry in entries if entry.index not in user_ids]
    _apply(session, entries, user_ids)
    return TrackResult(len(user_ids), skipped)


def parse_entry(index: int, item: dict[str, Any]) -> TrackEntry:
    where = f"attributes[{index}]"
    named = [key for key in IDENTIFIER_KEYS if item.get(key) is not None]
    if len(named) != 1:
        raise InvalidInput(
            f"{where} must name its user by exactly one of {', '.join(IDENTIFIER_KEYS)}"
        )
    kind = named[0]
    only_existing = item.get(UPDATE_EXISTING_ONLY, kind == "user_alias")
    if not isinstance(only_existing, bool):
        raise InvalidInput(f"{where}.{UPDATE_EXISTING_ONLY} must be a boolean")
    rest = {
        key: value
        for key, value in item.items()
        if key not in (*IDENTIFIER_KEYS, UPDATE_EXISTING_ONLY)
    }
    return TrackEntry(
        index=index,
        kind=kind,
        external_id=fields.identifier(item[kind], f"{where}.{kind}")
        if kind == "external_id"
        else None,
        alias=fields.alias(item[kind], f"{where}.{kind}") if kind == "user_alias" else None,
        braze_id=fields.identifier(item[kind], f"{where}.{kind}") if kind == "braze_id" else None,
        update_existing_only=only_existing,
        updates=parse_updates(rest, where),
    )


def _resolve(session: Session, workspace_id: str, entries: list[TrackEntry]) -> dict[int, int]:
    """User id per entry index, creating the users entries may create."""
    by_external_id = _external_ids(session, workspace_id, entries)
    by_alias = _aliases(session, workspace_id, entries)
    braze_ids = [entry.braze_id for entry in entries if entry.braze_id is not None]
    by_braze_id = identities.users_by_braze_id(session, workspace_id, braze_ids)
    found: dict[int, int | None] = {}
    for entry in entries:
        if entry.external_id is not None:
            found[entry.index] = by_external_id.get(entry.external_id)
        elif entry.alias is not None:
            found[entry.index] = by_alias.get(entry.alias.key)
        else:
            found[entry.index] = by_braze_id.get(entry.braze_id or "")
    return {index: user_id for index, user_id in found.items() if user_id is not None}


def _external_ids(session: Session, workspace_id: str, entries: list[TrackEntry]) -> dict[str, int]:
    wanted = [e.external_id for e in entries if e.external_id is not None]
    known = identities.users_by_external_id(session, workspace_id, wanted)
    new = {
        e.external_id
        for e in entries
        if e.external_id is not None and e.external_id not in known and not e.update_existing_only
    }
    return known | ensure_identified_users(session, workspace_id, new) if new else known


def _aliases(
    session: Session, workspace_id: str, entries: list[TrackEntry]
) -> dict[tuple[str, str], int]:
    wanted = [e.alias.key for e in entries if e.alias is not None]
    known = identities.users_by_alias(session, workspace_id, wanted)
    new = [
        e.alias.key
        for e in entries
        if e.alias is not None and e.alias.key not in known and not e.update_existing_only
    ]
    return known | create_alias_only_users(session, workspace_id, new) if new else known


def _apply(session: Session, entries: list[TrackEntry], user_ids: dict[int, int]) -> None:
    updating = [
        (user_ids[e.index], e.updates) for e in entries if e.index in user_ids and e.updates
    ]
    attributes = store.custom_attributes_of(session, {user_id for user_id, _ in updating})
    for user_id, updates in updating:
        attributes[user_id] = apply_updates(attributes[user_id], updates)
    store.save_custom_attributes(session, attributes)


def _skip(entry: TrackEntry) -> Skipped:
    if entry.kind == "braze_id":
        return Skipped(INPUT_ARRAY, entry.index, "No user found for braze_id")
    return Skipped(INPUT_ARRAY, entry.index, f"No user found for {entry.kind}")
