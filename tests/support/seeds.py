"""Direct store seeding for unit tests of services (HTTP tests create users through the API)."""

import secrets
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from kohorte.store.models import Partner, User, UserAlias, UserDevice, Workspace


def seed_workspace(session: Session, name: str = "acme") -> str:
    workspace = Workspace(name=name)
    session.add(workspace)
    session.flush()
    return workspace.id


def seed_partner(session: Session, name: str = "amplitude") -> str:
    if session.get(Partner, name) is None:
        session.add(Partner(name=name, display_name=name.title()))
        session.flush()
    return name


def seed_user(
    session: Session,
    workspace_id: str,
    external_id: str | None = None,
    aliases: Iterable[tuple[str, str]] = (),
    devices: Iterable[str] = (),
    created_at: datetime | None = None,
) -> int:
    """A user with the given external id, (label, name) aliases and device ids; returns its id.

    ``created_at`` backdates the user (as of earlier instants, it existed then)."""
    user = User(workspace_id=workspace_id, external_id=external_id, braze_id=secrets.token_hex(12))
    if created_at is not None:
        user.created_at = user.updated_at = created_at
    session.add(user)
    session.flush()
    for label, name in aliases:
        session.add(
            UserAlias(
                workspace_id=workspace_id, user_id=user.id, alias_label=label, alias_name=name
            )
        )
    for device_id in devices:
        session.add(UserDevice(workspace_id=workspace_id, user_id=user.id, device_id=device_id))
    session.flush()
    return user.id


def seed_users_bulk(session: Session, workspace_id: str, external_ids: list[str]) -> list[int]:
    """Many identified users in one statement; returns their ids in the order given."""
    session.execute(
        insert(User),
        [
            {
                "workspace_id": workspace_id,
                "external_id": external_id,
                "braze_id": secrets.token_hex(12),
                "custom_attributes": {},
            }
            for external_id in external_ids
        ],
    )
    ids = dict(
        session.execute(
            select(User.external_id, User.id).where(
                User.workspace_id == workspace_id, User.external_id.in_(external_ids)
            )
        ).all()
    )
    return [ids[external_id] for external_id in external_ids]
