"""Partner credentials, looked up together: the partner API key and the data import key."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import literal, or_, select, update
from sqlalchemy.orm import Session

from kohorte.store.models import DataImportKey, PartnerApiKey

# last_used_at is for humans: written at most once a minute per key, not by every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class ClientKey:
    id: str
    workspace_id: str
    partner_name: str
    last_used_at: datetime | None


@dataclass(frozen=True)
class Credentials:
    partner_of_key: str | None  # the partner a live partner API key was issued to
    client_key: ClientKey | None  # the live data import key


def find_credentials(session: Session, partner_key_digest: str, secret_digest: str) -> Credentials:
    """Both lookups in one statement (one round trip on every partner request)."""
    partner_of_key = (
        select(PartnerApiKey.partner_name)
        .where(PartnerApiKey.key_hash == partner_key_digest, PartnerApiKey.revoked_at.is_(None))
        .scalar_subquery()
    )
    one_row = select(literal(1).label("one")).subquery()
    live_key = (DataImportKey.key_hash == secret_digest) & DataImportKey.invalidated_at.is_(None)
    row = session.execute(
        select(
            partner_of_key,
            DataImportKey.id,
            DataImportKey.workspace_id,
            DataImportKey.partner_name,
            DataImportKey.last_used_at,
        )
        .select_from(one_row)
        .outerjoin(DataImportKey, live_key)
    ).one()
    partner, key_id, workspace_id, key_partner, last_used_at = row
    key = None if key_id is None else ClientKey(key_id, workspace_id, key_partner, last_used_at)
    return Credentials(partner, key)


def touch_client_key(session: Session, key: ClientKey, now: datetime) -> None:
    if key.last_used_at is not None and key.last_used_at >= now - LAST_USED_RESOLUTION:
        return
    session.execute(
        update(DataImportKey)
        .where(
            DataImportKey.id == key.id,
            or_(
                DataImportKey.last_used_at.is_(None),
                DataImportKey.last_used_at < now - LAST_USED_RESOLUTION,
            ),
        )
        .values(last_used_at=now)
    )
