"""How users are shown wherever they are listed: ids, aliases and devices, in three queries."""

from collections.abc import Collection, Sequence
from typing import Any, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from kohorte.store.batches import in_batch
from kohorte.store.models import User, UserAlias, UserDevice


class AliasView(TypedDict):
    alias_name: str
    alias_label: str


class DeviceView(TypedDict):
    device_id: str


class UserView(TypedDict):
    external_id: str | None
    braze_id: str
    user_aliases: list[AliasView]
    devices: list[DeviceView]


def user_views(session: Session, user_ids: Sequence[int]) -> list[UserView]:
    """Views of the given users in the order given; ids that no longer exist are skipped."""
    if not user_ids:
        return []
    users = session.execute(
        select(User.id, User.external_id, User.braze_id).where(in_batch(session, User.id, user_ids))
    ).all()
    aliases = aliases_by_user(session, user_ids)
    devices = devices_by_user(session, user_ids)
    by_id: dict[int, UserView] = {
        user_id: UserView(
            external_id=external_id,
            braze_id=braze_id,
            user_aliases=aliases.get(user_id, []),
            devices=devices.get(user_id, []),
        )
        for user_id, external_id, braze_id in users
    }
    return [by_id[user_id] for user_id in user_ids if user_id in by_id]


def aliases_by_user(session: Session, user_ids: Sequence[int]) -> dict[int, list[AliasView]]:
    rows = session.execute(
        select(UserAlias.user_id, UserAlias.alias_name, UserAlias.alias_label)
        .where(in_batch(session, UserAlias.user_id, user_ids))
        .order_by(UserAlias.user_id, UserAlias.alias_label)
    ).all()
    grouped: dict[int, list[AliasView]] = {}
    for user_id, name, label in rows:
        grouped.setdefault(user_id, []).append(AliasView(alias_name=name, alias_label=label))
    return grouped


def devices_by_user(session: Session, user_ids: Sequence[int]) -> dict[int, list[DeviceView]]:
    rows = session.execute(
        select(UserDevice.user_id, UserDevice.device_id)
        .where(in_batch(session, UserDevice.user_id, user_ids))
        .order_by(UserDevice.user_id, UserDevice.id)
    ).all()
    grouped: dict[int, list[DeviceView]] = {}
    for user_id, device_id in rows:
        grouped.setdefault(user_id, []).append(DeviceView(device_id=device_id))
    return grouped


USER_COLUMNS = {
    "external_id": User.external_id,
    "braze_id": User.braze_id,
    "custom_attributes": User.custom_attributes,
    "profile": User.profile,
}


def user_columns(
    session: Session, user_ids: Sequence[int], columns: Collection[str]
) -> dict[int, dict[str, Any]]:
    """The named columns of the users that exist (one query, only the columns asked for)."""
    if not user_ids:
        return {}
    names = [name for name in USER_COLUMNS if name in columns]
    rows = session.execute(
        select(User.id, *(USER_COLUMNS[name] for name in names)).where(
            in_batch(session, User.id, user_ids)
        )
    ).all()
    return {row[0]: dict(zip(names, row[1:], strict=True)) for row in rows}
