"""Partners and the API keys the instance admin issued to them."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kohorte.store.models import Partner, PartnerApiKey


def find_partner(session: Session, name: str) -> Partner | None:
    return session.get(Partner, name)


def add_partner(session: Session, name: str, display_name: str) -> Partner:
    partner = Partner(name=name, display_name=display_name)
    session.add(partner)
    session.flush()
    return partner


def list_partners(session: Session) -> Sequence[Partner]:
    return session.scalars(select(Partner).order_by(Partner.name)).all()


def add_partner_key(session: Session, partner_name: str, prefix: str, digest: str) -> PartnerApiKey:
    key = PartnerApiKey(partner_name=partner_name, prefix=prefix, key_hash=digest)
    session.add(key)
    session.flush()
    return key


def list_partner_keys(session: Session) -> Sequence[PartnerApiKey]:
    return session.scalars(
        select(PartnerApiKey).order_by(PartnerApiKey.created_at, PartnerApiKey.id)
    ).all()


def partner_key_exists(session: Session, digest: str) -> bool:
    """Revoked keys count too: the hash column is unique."""
    found = session.scalar(select(PartnerApiKey.id).where(PartnerApiKey.key_hash == digest))
    return found is not None


def find_live_partner_key(session: Session, digest: str) -> PartnerApiKey | None:
    return session.scalar(
        select(PartnerApiKey).where(
            PartnerApiKey.key_hash == digest, PartnerApiKey.revoked_at.is_(None)
        )
    )


def revoke_partner_key(session: Session, partner_name: str, key_id: str, now: datetime) -> bool:
    result = session.execute(
        update(PartnerApiKey)
        .where(PartnerApiKey.partner_name == partner_name, PartnerApiKey.id == key_id)
        .where(PartnerApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
