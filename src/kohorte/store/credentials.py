"""Lookups of stored key digests. Every lookup is by digest, never by plaintext."""

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from kohorte.store.models import InstanceSecret, RestApiKey, Workspace

LAST_USED_RESOLUTION = timedelta(minutes=1)
ADMIN_TOKEN_SECRET_NAME = "admin_token"  # noqa: S105 (a row name)


def find_admin_token_digest(session: Session) -> str | None:
    return session.scalar(
        select(InstanceSecret.secret_hash).where(InstanceSecret.name == ADMIN_TOKEN_SECRET_NAME)
    )


def save_admin_token_digest(session: Session, digest: str) -> None:
    secret = session.get(InstanceSecret, ADMIN_TOKEN_SECRET_NAME)
    if secret is None:
        session.add(InstanceSecret(name=ADMIN_TOKEN_SECRET_NAME, secret_hash=digest))
    else:
        secret.secret_hash = digest
    session.flush()


def find_live_rest_key(session: Session, digest: str) -> RestApiKey | None:
    # Joining the workspace makes a key of a deleted workspace fail even mid-cascade.
    return session.scalar(
        select(RestApiKey)
        .join(Workspace, Workspace.id == RestApiKey.workspace_id)
        .where(RestApiKey.key_hash == digest, RestApiKey.revoked_at.is_(None))
    )


def touch_rest_key(session: Session, key_id: str, now: datetime) -> None:
    # At most one write a minute per key: last_used_at is for humans, not for accounting.
    session.execute(
        update(RestApiKey)
        .where(RestApiKey.id == key_id)
        .where(
            or_(
                RestApiKey.last_used_at.is_(None),
                RestApiKey.last_used_at < now - LAST_USED_RESOLUTION,
            )
        )
        .values(last_used_at=now)
    )
