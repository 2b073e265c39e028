"""Which user holds an identifier: the one home of these lookups, for the users services and
the cohort matcher alike; one query per identifier kind, whatever the batch size.

An external id is a user's primary one or a *deprecated* one (renamed away from, kept in
``deprecated_external_ids`` until removed): both address the user, so every lookup by external
id, the partner matcher's included, reads both.

Each kind has one query (``*_holders``: identifier and user id, for a batch given as one
parameter); the lookups run it and map identifiers to users, and partner syncs whose identifiers
are distinct put it inside their write (``matched_users``), so it is written once.
"""

from collections.abc import Collection
from typing import NamedTuple

from sqlalchemy import Select, false, literal, select, tuple_, union_all
from sqlalchemy.orm import Session

from kohorte.store.batches import batch_pairs, batch_rows, in_batch
from kohorte.store.models import User, UserAlias, UserDevice
from kohorte.store.users_api_tables import DeprecatedExternalId

AliasKey = tuple[str, str]  # (alias_label, alias_name)
UserQuery = Select[int]  # one column, user_id


class Identifiers(NamedTuple):
    """A batch of identifiers by kind, as partner changes carry them."""

    external_ids: Collection[str]
    device_ids: Collection[str]
    aliases: Collection[AliasKey]


# Core columns, not the ORM entities: these run on every partner request, and the ORM's
# statement machinery costs more than the lookups' own Python work.
users = User.__table__.c
devices = UserDevice.__table__.c
aliases_ = UserAlias.__table__.c
deprecated = DeprecatedExternalId.__table__.c


def external_id_holders(
    session: Session, workspace_id: str, external_ids: Collection[str]
) -> Select[str, int]:
    """Primary and deprecated holders in one statement: two probes of a unique index per id.
    An id is never both (a rename refuses any id in use), so each matches at most one row."""
    primary = select(users.external_id, users.id).where(
        users.workspace_id == workspace_id, in_batch(session, users.external_id, external_ids)
    )
    # IN, not in_batch's ANY: a read locks nothing, and the planner may then hash the batch
    # against the few deprecated ids instead of probing the index once per id.
    renamed = select(deprecated.external_id, deprecated.user_id).where(
        deprecated.workspace_id == workspace_id,
        deprecated.external_id.in_(batch_rows(session, list(set(external_ids)), False)),
    )
    both = union_all(primary, renamed).subquery()
    return select(both.c.external_id, both.c.id)


def anonymous_device_holders(
    session: Session, workspace_id: str, device_ids: Collection[str]
) -> Select[str, int]:
    """Owners of the devices that have no external id: identified users are matched by it."""
    return (
        select(devices.device_id, devices.user_id)
        .join(User.__table__, users.id == devices.user_id)
        .where(
            devices.workspace_id == workspace_id,
            in_batch(session, devices.device_id, device_ids),
            users.external_id.is_(None),
        )
    )


def alias_holders(
    session: Session, workspace_id: str, aliases: Collection[AliasKey]
) -> Select[str, str, int]:
    """Exact (label, name) pairs; PostgreSQL probes the unique index on (workspace, label,
    name) once per pair."""
    pairs = batch_pairs(session, aliases)
    return select(aliases_.alias_label, aliases_.alias_name, aliases_.user_id).where(
        aliases_.workspace_id == workspace_id,
        tuple_(aliases_.alias_label, aliases_.alias_name).in_(pairs),
    )


def users_by_external_id(
    session: Session, workspace_id: str, external_ids: Collection[str]
) -> dict[str, int]:
    if not external_ids:
        return {}
    rows = session.execute(external_id_holders(session, workspace_id, external_ids))
    return dict(rows.all())


def anonymous_device_owners(
    session: Session, workspace_id: str, device_ids: Collection[str]
) -> dict[str, int]:
    if not device_ids:
        return {}
    rows = session.execute(anonymous_device_holders(session, workspace_id, device_ids))
    return dict(rows.all())


def users_by_braze_id(
    session: Session, workspace_id: str, braze_ids: Collection[str]
) -> dict[str, int]:
    if not braze_ids:
        return {}
    rows = session.execute(
        select(users.braze_id, users.id).where(
            users.workspace_id == workspace_id, in_batch(session, users.braze_id, braze_ids)
        )
    )
    return dict(rows.all())


def device_owners(
    session: Session, workspace_id: str, device_ids: Collection[str]
) -> dict[str, int]:
    """Owners of the devices, identified or not (the users API addresses devices of both)."""
    if not device_ids:
        return {}
    rows = session.execute(
        select(devices.device_id, devices.user_id).where(
            devices.workspace_id == workspace_id,
            in_batch(session, devices.device_id, device_ids),
        )
    )
    return dict(rows.all())


def users_by_alias(
    session: Session, workspace_id: str, aliases: Collection[AliasKey]
) -> dict[AliasKey, int]:
    if not aliases:
        return {}
    rows = session.execute(alias_holders(session, workspace_id, aliases)).all()
    return {(label, name): user_id for label, name, user_id in rows}


def matched_users(session: Session, workspace_id: str, identifiers: Identifiers) -> UserQuery:
    """The user of every identifier that matches one, one row per matched identifier."""
    external_ids, device_ids, aliases = identifiers
    parts: list[Select[int]] = []
    if external_ids:
        found = external_id_holders(session, workspace_id, external_ids).subquery()
        parts.append(select(found.c.id.label("user_id")))
    if device_ids:
        found = anonymous_device_holders(session, workspace_id, device_ids).subquery()
        parts.append(select(found.c.user_id))
    if aliases:
        found = alias_holders(session, workspace_id, aliases).subquery()
        parts.append(select(found.c.user_id))
    if not parts:
        return select(literal(0).label("user_id")).where(false())
    return parts[0] if len(parts) == 1 else select(union_all(*parts).subquery().c.user_id)


class DeviceHolder(NamedTuple):
    user_id: int
    identified: bool  # the owner has an external id, so partner syncs do not match the device


def device_holders(
    session: Session, workspace_id: str, device_ids: Collection[str]
) -> dict[str, DeviceHolder]:
    """Owners of the devices, identified or not, and whether each has an external id: why a
    device id matched nobody, or who a question about one is about."""
    if not device_ids:
        return {}
    rows = session.execute(
        select(devices.device_id, devices.user_id, users.external_id.is_not(None))
        .join(User.__table__, users.id == devices.user_id)
        .where(
            devices.workspace_id == workspace_id,
            in_batch(session, devices.device_id, device_ids),
        )
    )
    return {device_id: DeviceHolder(user_id, bool(known)) for device_id, user_id, known in rows}
