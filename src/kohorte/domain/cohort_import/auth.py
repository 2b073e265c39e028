"""Who is calling the partner endpoints: partner API key and client secret from the body.

The checks and their messages follow the Braze-compatible contract, in its order: the partner
API key (valid for the partner in the path), the client secret, the partner being enabled for
that secret.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kohorte.domain.cohort_import import rate_limit
from kohorte.domain.cohort_import.rate_limit import RateLimitStatus
from kohorte.domain.errors import Unauthenticated
from kohorte.domain.keys import digest_key
from kohorte.store.cohort_import import auth as store
from kohorte.store.cohort_import.auth import ClientKey
from kohorte.store.types import utcnow

INVALID_PARTNER_KEY_MESSAGE = "Invalid Partner API key"
INVALID_CLIENT_SECRET_MESSAGE = "Invalid client secret"  # noqa: S105 (a message)
PARTNER_NOT_ENABLED_MESSAGE = "Partner not enabled for client with client secret: {}"


class PartnerNotEnabled(Unauthenticated):
    """The secret is a data import key of ``workspace_id``, for another partner."""

    def __init__(self, message: str, workspace_id: str) -> None:
        super().__init__(message)
        self.workspace_id = workspace_id


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
    key = _authenticate(
        session, partner_name, body.get("partner_api_key"), body.get("client_secret")
    )
    now = utcnow()
    store.touch_client_key(session, key, now)
    status = rate_limit.count_request(session, key.id, limit_per_hour, now)
    return Admission(PartnerClient(key.workspace_id, key.partner_name, key.id), status)


def _authenticate(
    session: Session, partner_name: str, partner_api_key: object, client_secret: object
) -> ClientKey:
    found = store.find_credentials(session, _digest(partner_api_key), _digest(client_secret))
    if found.partner_of_key is None or found.partner_of_key != partner_name:
        raise Unauthenticated(INVALID_PARTNER_KEY_MESSAGE)
    if found.client_key is None:
        raise Unauthenticated(INVALID_CLIENT_SECRET_MESSAGE)
    if found.client_key.partner_name != partner_name:
        # The contract echoes the secret the caller sent; it is that caller's own credential.
        message = PARTNER_NOT_ENABLED_MESSAGE.format(client_secret)
        raise PartnerNotEnabled(message, found.client_key.workspace_id)
    return found.client_key


def _digest(presented: object) -> str:
    # Nothing is stored under the empty digest, so a missing or non-string key matches nothing.
    return digest_key(presented) if isinstance(presented, str) and presented else ""
