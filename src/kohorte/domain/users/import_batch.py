"""Writing one batch of imported users in a fixed handful of statements.

The batch is first resolved in memory, in line order: every line gets a user (existing, or a
placeholder of ``new_users.NewUsers`` for one to create), aliases and devices not yet held go
to that user, attribute changes pile up per user. Then the new users, their aliases and
devices go in through the store's bulk path (``store/user_import.py``), and the existing
users' attributes are read, changed and written back in one statement each.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kohorte.domain.users.attributes import apply_updates
from kohorte.domain.users.import_lines import ImportLine
from kohorte.domain.users.new_users import NewUsers, is_placeholder
from kohorte.store import identities, user_import
from kohorte.store import users as store
from kohorte.store.identities import AliasKey

Note = tuple[int, str]


@dataclass
class _Batch:
    by_external_id: dict[str, int]
    alias_owner: dict[AliasKey, int]
    device_owner: dict[str, int]
    labels: dict[int, set[str]]
    new_users: NewUsers = field(default_factory=NewUsers)
    changes: dict[int, list[ImportLine]] = field(default_factory=dict)
    new_aliases: list[tuple[int, str, str]] = field(default_factory=list)
    new_devices: dict[str, int] = field(default_factory=dict)
    profiles: dict[int, dict[str, str | None]] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)

    def user_for(self, line: ImportLine) -> int:
        if line.external_id is not None:
            return self.by_external_id.get(line.external_id) or self._new(line.external_id)
        known = self._first_known(line)
        return known if known is not None else self._new(None)

    def _first_known(self, line: ImportLine) -> int | None:
        for alias in line.aliases:
            if alias.key in self.alias_owner:
                return self.alias_owner[alias.key]
        return next((self.device_owner[d] for d in line.device_ids if d in self.device_owner), None)

    def _new(self, external_id: str | None) -> int:
        placeholder = self.new_users.new(external_id)
        if external_id is not None:
            self.by_external_id[external_id] = placeholder
        return placeholder

    def take(self, line: ImportLine) -> None:
        user = self.user_for(line)
        if line.attributes or line.updates:
            self.changes.setdefault(user, []).append(line)
        if line.profile:
            self.profiles.setdefault(user, {}).update(line.profile)
        for index, alias in enumerate(line.aliases):
            self._take_alias(line.number, user, index, alias.key)
        for index, device_id in enumerate(line.device_ids):
            self._take_device(line.number, user, index, device_id)

    def _take_alias(self, number: int, user: int, index: int, key: AliasKey) -> None:
        owner = self.alias_owner.get(key)
        if owner is None and key[0] in self.labels.setdefault(user, set()):
            self.notes.append((number, f"user_aliases[{index}]: the user already has this label"))
        elif owner is None:
            self.alias_owner[key] = user
            self.labels[user].add(key[0])
            self.new_aliases.append((user, *key))
        elif owner != user:
            self.notes.append((number, f"user_aliases[{index}] belongs to another user; skipped"))

    def _take_device(self, number: int, user: int, index: int, device_id: str) -> None:
        owner = self.device_owner.setdefault(device_id, user)
        if owner == user:
            self.new_devices.setdefault(device_id, user)
        else:
            self.notes.append((number, f"device_ids[{index}] belongs to another user; skipped"))


def write_batch(session: Session, workspace_id: str, lines: list[ImportLine]) -> list[Note]:
    """Write the batch; notes for parts of lines that could not apply (the rest did).

    The bulk path fails if an identifier the batch found free was taken meanwhile, which only
    a concurrent request can do: then the batch's transaction is rolled back and the batch
    written again row by row, leaving what the other request wrote to it."""
    try:
        return _write(session, workspace_id, lines, bulk=True)
    except IntegrityError:
        session.rollback()
        return _write(session, workspace_id, lines, bulk=False)


def _write(session: Session, workspace_id: str, lines: list[ImportLine], bulk: bool) -> list[Note]:
    batch = _load(session, workspace_id, lines)
    for line in lines:
        batch.take(line)
    created = _create_users(session, workspace_id, batch, bulk)
    _update_existing(session, batch)
    _update_profiles(session, {created.get(u, u): p for u, p in batch.profiles.items()})
    user_import.add_aliases(
        session,
        workspace_id,
        [(created.get(u, u), label, name) for u, label, name in batch.new_aliases],
        bulk=bulk,
    )
    devices = {d: created.get(u, u) for d, u in batch.new_devices.items()}
    user_import.add_devices(session, workspace_id, devices, bulk=bulk)
    return batch.notes


def _load(session: Session, workspace_id: str, lines: list[ImportLine]) -> _Batch:
    external_ids = [line.external_id for line in lines if line.external_id is not None]
    aliases = [alias.key for line in lines for alias in line.aliases]
    devices = [device for line in lines for device in line.device_ids]
    by_external_id = identities.users_by_external_id(session, workspace_id, external_ids)
    alias_owner = identities.users_by_alias(session, workspace_id, aliases)
    device_owner = identities.device_owners(session, workspace_id, devices)
    known = {*by_external_id.values(), *alias_owner.values(), *device_owner.values()}
    labels = {user: set(held) for user, held in store.alias_labels_of(session, known).items()}
    return _Batch(by_external_id, alias_owner, device_owner, labels)


def _create_users(session: Session, workspace_id: str, batch: _Batch, bulk: bool) -> dict[int, int]:
    """Insert the batch's new users with their attributes; placeholder → id."""
    attributes = {
        user: _changed({}, batch.changes.get(user, ())) for user in batch.new_users.external_id_of
    }
    return batch.new_users.create(session, workspace_id, attributes=attributes, bulk=bulk)


def _update_existing(session: Session, batch: _Batch) -> None:
    changing = dict(_existing(batch))
    current = store.custom_attributes_of(session, changing)
    store.save_custom_attributes(
        session,
        {user: _changed(current[user], lines) for user, lines in changing.items()},
    )


def _update_profiles(session: Session, changes: dict[int, dict[str, str | None]]) -> None:
    """Standard profile fields, new and existing users alike: one read and one write, and
    only for batches that set any (the bulk path stays as it is for the others)."""
    current = store.profiles_of(session, changes)
    merged = {user: {**current.get(user, {}), **change} for user, change in changes.items()}
    store.save_profiles(
        session,
        {
            user: {k: v for k, v in profile.items() if v is not None}
            for user, profile in merged.items()
        },
    )


def _existing(batch: _Batch) -> Iterator[tuple[int, list[ImportLine]]]:
    return ((user, lines) for user, lines in batch.changes.items() if not is_placeholder(user))


def _changed(attributes: dict[str, Any], lines: Iterable[ImportLine]) -> dict[str, Any]:
    """The attributes after the lines' changes, applied in line order."""
    result = dict(attributes)
    for line in lines:
        for key, value in line.attributes.items():
            if value is None:
                result.pop(key, None)
            else:
                result[key] = value
        if line.updates:
            result = apply_updates(result, line.updates)
    return result
