"""Partners (analytics tools that push cohorts) and their partner API keys."""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kohorte.domain.errors import Conflict, InvalidInput, NotFound
from kohorte.domain.keys import IssuedKey, KeyKind, fixed_key, issue_key
from kohorte.domain.text import is_valid_name
from kohorte.store import partners as store
from kohorte.store.models import Partner, PartnerApiKey
from kohorte.store.types import utcnow

PARTNER_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


@dataclass(frozen=True)
class IssuedPartnerKey:
    record: PartnerApiKey
    plaintext: str


@dataclass(frozen=True)
class PartnerWithKeys:
    partner: Partner
    keys: list[PartnerApiKey]


def create_partner(
    session: Session, name: str, display_name: str | None, api_key: str | None = None
) -> tuple[Partner, IssuedPartnerKey]:
    """Create a partner with one live key: ``api_key`` when given (a vendor's own), else a
    generated one."""
    if not PARTNER_NAME.fullmatch(name):
        raise InvalidInput(
            "name must match [a-z0-9][a-z0-9_-]* (at most 64 characters), e.g. 'amplitude'"
        )
    if display_name is not None and not is_valid_name(display_name):
        raise InvalidInput("display_name must be a non-empty string of at most 255 characters")
    if store.find_partner(session, name) is not None:
        raise Conflict(f"Partner '{name}' already exists")
    issued = _partner_key(session, api_key)  # checked before anything is written
    partner = store.add_partner(session, name, display_name or name.replace("_", " ").title())
    return partner, _add_key(session, name, issued)


def issue_partner_key(
    session: Session, partner_name: str, api_key: str | None = None
) -> IssuedPartnerKey:
    """An additional live key for the partner: ``api_key`` when given, else a generated one."""
    require_partner(session, partner_name)
    return _add_key(session, partner_name, _partner_key(session, api_key))


def partner_exists(session: Session, name: str) -> bool:
    return store.find_partner(session, name) is not None


def _partner_key(session: Session, api_key: str | None) -> IssuedKey:
    if api_key is None:
        return issue_key(KeyKind.PARTNER_API_KEY)
    issued = fixed_key(api_key, "partner_api_key")
    if store.partner_key_exists(session, issued.digest):
        raise Conflict("partner_api_key is already registered")
    return issued


def _add_key(session: Session, partner_name: str, issued: IssuedKey) -> IssuedPartnerKey:
    record = store.add_partner_key(session, partner_name, issued.prefix, issued.digest)
    return IssuedPartnerKey(record, issued.plaintext)


def list_partners(session: Session) -> list[PartnerWithKeys]:
    keys_by_partner: dict[str, list[PartnerApiKey]] = {}
    for key in store.list_partner_keys(session):
        keys_by_partner.setdefault(key.partner_name, []).append(key)
    return [
        PartnerWithKeys(partner, keys_by_partner.get(partner.name, []))
        for partner in store.list_partners(session)
    ]


def revoke_partner_key(session: Session, partner_name: str, key_id: str) -> None:
    require_partner(session, partner_name)
    if not store.revoke_partner_key(session, partner_name, key_id, utcnow()):
        raise NotFound(f"Partner API key '{key_id}' not found or already revoked")


def require_partner(session: Session, name: str) -> Partner:
    partner = store.find_partner(session, name)
    if partner is None:
        raise NotFound(f"Partner '{name}' not found")
    return partner


def list_partner_names(session: Session) -> Sequence[str]:
    return [partner.name for partner in store.list_partners(session)]
