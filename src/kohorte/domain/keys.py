"""Secret keys: generated with high entropy, shown once, kept only as SHA-256 hashes.

Every key carries 256 random bits, so a plain SHA-256 digest is as hard to reverse as a keyed
one and needs no extra server secret that could be lost; lookups go by digest.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import Enum

from kohorte.domain.errors import InvalidInput

KEY_RANDOM_BYTES = 32
SHOWN_PREFIX_LENGTH = 12
MIN_FIXED_KEY_LENGTH = 16
# A key chosen outside kohorte may be as short as 16 characters and has no kind prefix of ours,
# so the listing keeps only a few of its characters: something to recognise it by, too few to
# help anyone guess the rest.
FIXED_KEY_SHOWN_PREFIX_LENGTH = 4


class KeyKind(Enum):
    ADMIN_TOKEN = "kadm_"  # noqa: S105 (a prefix, not a secret)
    REST_API_KEY = "krest_"
    PARTNER_API_KEY = "kpart_"
    DATA_IMPORT_KEY = "kdik_"


@dataclass(frozen=True)
class IssuedKey:
    plaintext: str
    prefix: str
    digest: str


def issue_key(kind: KeyKind) -> IssuedKey:
    plaintext = kind.value + secrets.token_urlsafe(KEY_RANDOM_BYTES)
    return IssuedKey(plaintext, plaintext[:SHOWN_PREFIX_LENGTH], digest_key(plaintext))


def digest_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8", "surrogatepass")).hexdigest()


def digests_match(presented_digest: str, stored_digest: str) -> bool:
    return hmac.compare_digest(presented_digest, stored_digest)


def fixed_key(plaintext: str, field: str) -> IssuedKey:
    """A key whose value the caller chose (a vendor's partner key, a seed file's keys):
    stored and compared as an issued one."""
    if len(plaintext) < MIN_FIXED_KEY_LENGTH:
        raise InvalidInput(f"{field} must be at least {MIN_FIXED_KEY_LENGTH} characters")
    return IssuedKey(plaintext, plaintext[:FIXED_KEY_SHOWN_PREFIX_LENGTH], digest_key(plaintext))
