"""``/users/track``: create users, update their attributes and record their events and
purchases, a batch at a time.

Each object names its user by exactly one of external_id, user_alias or braze_id. Lookups,
creations, attribute writes and event summaries each cost one statement for the whole batch.
"""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from kohorte.domain.errors import InvalidInput
from kohorte.domain.users import events, fields
from kohorte.domain.users.attributes import Update, apply_updates
from kohorte.domain.users.events import Occurrence
from kohorte.domain.users.fields import Skipped
from kohorte.domain.users.track_requests import AttributesEntry, TrackRequest
from kohorte.domain.users.track_users import IDENTIFIER_KEYS, UserRef, parse_ref, resolve
from kohorte.store import users as store

MAX_OBJECTS = 75
ARRAYS = ("attributes", "events", "purchases")


@dataclass(frozen=True)
class TrackResult:
    processed: dict[str, int]  # per array the request had
    skipped: list[Skipped]


@dataclass(frozen=True)
class _Parsed:
    updates: list[tuple[UserRef, AttributesEntry]]
    occurrences: list[tuple[UserRef, Occurrence]]
    invalid: list[Skipped]


def track(session: Session, workspace_id: str, request: TrackRequest) -> TrackResult:
    parsed = _parse(request)
    refs = [ref for ref, _ in parsed.updates] + [ref for ref, _ in parsed.occurrences]
    user_ids = resolve(session, workspace_id, refs)
    _apply(session, [(user_ids[r.key], u) for r, u in parsed.updates if r.key in user_ids])
    events.record(
        session, [(user_ids[r.key], o) for r, o in parsed.occurrences if r.key in user_ids]
    )
    skipped = parsed.invalid + [ref.not_found() for ref in refs if ref.key not in user_ids]
    return TrackResult(_processed(request, user_ids), sorted(skipped, key=_order))


def _parse(request: TrackRequest) -> _Parsed:
    given = {name: getattr(request, name) for name in ARRAYS if getattr(request, name) is not None}
    if not given:
        raise InvalidInput("Give attributes, events or purchases")
    for name, items in given.items():
        fields.check_limit(items, MAX_OBJECTS, f"{name} objects")
    parsed = _Parsed(
        [_attribute(i, item) for i, item in enumerate(request.attributes or [])], [], []
    )
    for array in ("events", "purchases"):
        for index, item in enumerate(given.get(array, [])):
            _occurrence(parsed, array, index, item)
    return parsed


def _attribute(index: int, item: AttributesEntry) -> tuple[UserRef, AttributesEntry]:
    ref = UserRef(
        array="attributes",
        index=index,
        kind=item.kind,
        external_id=item.external_id,
        alias=item.alias,
        braze_id=item.braze_id,
        update_existing_only=item.only_existing,
    )
    return ref, item


def _occurrence(parsed: _Parsed, array: str, index: int, item: object) -> None:
    """An entry naming its user badly is a 400 as in ``attributes``; one whose event is bad
    is reported and the others applied."""
    ref, rest = parse_ref(array, index, item)
    try:
        parsed.occurrences.append((ref, events.occurrence(array, rest)))
    except InvalidInput as error:
        parsed.invalid.append(Skipped(array, index, error.message))


def _apply(session: Session, updating: list[tuple[int, AttributesEntry]]) -> None:
    _apply_attributes(session, [(user, entry.updates) for user, entry in updating if entry.updates])
    _apply_profiles(session, [(user, entry.profile) for user, entry in updating if entry.profile])


def _apply_attributes(session: Session, updating: list[tuple[int, list[Update]]]) -> None:
    attributes = store.custom_attributes_of(session, {user_id for user_id, _ in updating})
    for user_id, updates in updating:
        attributes[user_id] = apply_updates(attributes[user_id], updates)
    store.save_custom_attributes(session, attributes)


def _apply_profiles(session: Session, changes: list[tuple[int, dict[str, str | None]]]) -> None:
    """Standard fields set, in request order; null clears one."""
    profiles = store.profiles_of(session, {user_id for user_id, _ in changes})
    for user_id, change in changes:
        merged = {**profiles[user_id], **change}
        profiles[user_id] = {name: value for name, value in merged.items() if value is not None}
    store.save_profiles(session, profiles)


def _processed(request: TrackRequest, user_ids: dict[tuple[str, int], int]) -> dict[str, int]:
    return {
        array: sum(1 for key in user_ids if key[0] == array)
        for array in ARRAYS
        if getattr(request, array) is not None
    }


def _order(skipped: Skipped) -> tuple[int, int]:
    return ARRAYS.index(skipped.input_array), skipped.index


__all__ = ["IDENTIFIER_KEYS", "TrackRequest", "TrackResult", "track"]
