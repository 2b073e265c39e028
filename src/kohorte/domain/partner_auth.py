"""Who is calling the partner endpoints: partner API key and client secret from the body.

The checks and their messages follow the Braze-compatible contract, in its order: the partner
API key (valid for the partner in the path), the client secret, the partner being enabled for
that secret.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kohorte.domain import rate_limit
from kohorte.domain.errors import Unauthenticated
from kohorte.domain.keys import digest_key
from kohorte.domain.rate_limit import RateLimitStatus
from kohorte.store import integrations as client_keys
from kohorte.store import partners as partner_keys
from kohorte.store.models import DataImportKey
from kohorte.store.types import utcnow

INVALID_PARTNER_KEY_MESSAGE = "Invalid Partner API key"
INVALID_CLIENT_SECRET_MESSAGE = "Invalid client secret"  # noqa: S105 (a message)
PARTNER_NOT_ENABLED_MESSAGE = "Partner not enabled for client with client secret: {}"


@dataclass(frozen=True)
class PartnerClient:
    """A workspace calling through one of its data import keys for one partner."""

    workspace_id: str
    partner_name: str
    key_id: str


@dataclass(frozen=True)
class Admission:
    client: PartnerClient
    rate_limit: RateLimitStatus | None


def admit(
    session: Session, partner_name: str, body: Mapping[str, object], limit_per_hour: int
) -> Admission:
    """Authenticate the request and count it against its key's rate limit.

    Meant for a unit of work of its own, committed even when the request is rejected later.
    """
    client = authenticate(
        session, partner_name, body.get("partner_api_key"), body.get("client_secret")
    )
    now = utcnow()
    client_keys.touch_data_import_key(session, client.key_id, now)
    status = rate_limit.count_request(session, client.key_id, limit_per_hour, now)
    return Admission(client, status)


def authenticate(
    session: Session, partner_name: str, partner_api_key: object, client_secret: object
) -> PartnerClient:
    _require_partner_key(session, partner_name, partner_api_key)
    key = _live_client_key(session, client_secret)
    if key.partner_name != partner_name:
        # The contract echoes the secret the caller sent; it is that caller's own credential.
        raise Unauthenticated(PARTNER_NOT_ENABLED_MESSAGE.format(client_secret))
    return PartnerClient(key.workspace_id, key.partner_name, key.id)


def _require_partner_key(session: Session, partner_name: str, presented: object) -> None:
    if not isinstance(presented, str) or not presented:
        raise Unauthenticated(INVALID_PARTNER_KEY_MESSAGE)
    key = partner_keys.find_live_partner_key(session, digest_key(presented))
    if key is None or key.partner_name != partner_name:
        raise Unauthenticated(INVALID_PARTNER_KEY_MESSAGE)


def _live_client_key(session: Session, presented: object) -> DataImportKey:
    if not isinstance(presented, str) or not presented:
        raise Unauthenticated(INVALID_CLIENT_SECRET_MESSAGE)
    key = client_keys.find_live_data_import_key(session, digest_key(presented))
    if key is None:
        raise Unauthenticated(INVALID_CLIENT_SECRET_MESSAGE)
    return key
