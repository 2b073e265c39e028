"""Who is calling: the instance admin or a workspace REST API key."""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from kohorte.domain.errors import PermissionDenied, Unauthenticated
from kohorte.domain.keys import KeyKind, digest_key, digests_match, issue_key
from kohorte.domain.permissions import ALL_PERMISSIONS, Permission
from kohorte.store import credentials
from kohorte.store.types import utcnow


@dataclass(frozen=True)
class WorkspaceAccess:
    workspace_id: str
    key_id: str
    permissions: frozenset[Permission]

    def require(self, permission: Permission) -> None:
        if permission not in self.permissions:
            raise PermissionDenied(f"This REST API key lacks the permission '{permission.value}'")


def authenticate_admin(session: Session, token: str | None, configured_token: str | None) -> None:
    if not token:
        raise Unauthenticated("Missing admin token")
    if configured_token is not None:
        expected = digest_key(configured_token)
    else:
        expected = credentials.find_admin_token_digest(session) or ""
    if not expected or not digests_match(digest_key(token), expected):
        raise Unauthenticated("Invalid admin token")


def authenticate_workspace(session: Session, key: str | None) -> WorkspaceAccess:
    if not key:
        raise Unauthenticated("Missing REST API key")
    stored = credentials.find_live_rest_key(session, digest_key(key))
    if stored is None or not digests_match(digest_key(key), stored.key_hash):
        raise Unauthenticated("Invalid REST API key")
    credentials.touch_rest_key(session, stored.id, utcnow())
    permissions = ALL_PERMISSIONS if stored.permissions is None else stored.permissions
    return WorkspaceAccess(stored.workspace_id, stored.id, frozenset(map(Permission, permissions)))


def ensure_admin_token(session: Session) -> str | None:
    """Generate the admin token on first start; return it (to print once) or None if one exists."""
    if credentials.find_admin_token_digest(session) is not None:
        return None
    return rotate_admin_token(session)


def rotate_admin_token(session: Session) -> str:
    issued = issue_key(KeyKind.ADMIN_TOKEN)
    credentials.save_admin_token_digest(session, issued.digest)
    return issued.plaintext
