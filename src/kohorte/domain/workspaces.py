"""Workspaces (tenants) and their REST API keys."""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kohorte.domain.errors import Conflict, InvalidInput, NotFound
from kohorte.domain.keys import IssuedKey, KeyKind, fixed_key, issue_key
from kohorte.domain.permissions import Permission
from kohorte.domain.text import is_valid_name
from kohorte.store import memberships
from kohorte.store import workspaces as store
from kohorte.store.models import RestApiKey, Workspace
from kohorte.store.types import utcnow

# Ids chosen by an operator (a seed file) rather than generated: safe in a URL path as is.
WORKSPACE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class IssuedRestKey:
    record: RestApiKey
    plaintext: str


def create_workspace(session: Session, name: str, workspace_id: str | None = None) -> Workspace:
    """A new workspace; its id is generated unless given (a seed file's fixed ids)."""
    if not is_valid_name(name):
        raise InvalidInput("name must be a non-empty string of at most 255 characters")
    if workspace_id is not None:
        _check_new_id(session, workspace_id)
    return store.add_workspace(session, name, workspace_id)


def workspace_exists(session: Session, workspace_id: str) -> bool:
    return store.workspace_exists(session, workspace_id)


def _check_new_id(session: Session, workspace_id: str) -> None:
    if not WORKSPACE_ID.fullmatch(workspace_id):
        raise InvalidInput("id must be 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'")
    if store.workspace_exists(session, workspace_id):
        raise Conflict(f"Workspace '{workspace_id}' already exists")


def list_workspaces(session: Session) -> Sequence[Workspace]:
    return store.list_workspaces(session)


def delete_workspace(session: Session, workspace_id: str) -> None:
    memberships.hold_workspace(session, workspace_id)  # no sync may add to it meanwhile
    if not store.delete_workspace(session, workspace_id):
        raise NotFound(f"Workspace '{workspace_id}' not found")


def issue_rest_key(
    session: Session,
    workspace_id: str,
    name: str,
    permissions: Iterable[str] | None,
    key: str | None = None,
) -> IssuedRestKey:
    """A new REST API key; generated unless ``key`` gives its value (a seed file's)."""
    require_workspace(session, workspace_id)
    if not is_valid_name(name):
        raise InvalidInput("name must be a non-empty string of at most 255 characters")
    checked = None if permissions is None else _check_permissions(permissions)
    issued: IssuedKey = issue_key(KeyKind.REST_API_KEY) if key is None else fixed_key(key, "key")
    record = store.add_rest_key(session, workspace_id, name, issued.prefix, issued.digest, checked)
    return IssuedRestKey(record, issued.plaintext)


def list_rest_keys(session: Session, workspace_id: str) -> Sequence[RestApiKey]:
    require_workspace(session, workspace_id)
    return store.list_rest_keys(session, workspace_id)


def revoke_rest_key(session: Session, workspace_id: str, key_id: str) -> None:
    require_workspace(session, workspace_id)
    if not store.revoke_rest_key(session, workspace_id, key_id, utcnow()):
        raise NotFound(f"REST API key '{key_id}' not found or already revoked")


def require_workspace(session: Session, workspace_id: str) -> None:
    if not store.workspace_exists(session, workspace_id):
        raise NotFound(f"Workspace '{workspace_id}' not found")


def _check_permissions(permissions: Iterable[str]) -> list[str]:
    known = {permission.value for permission in Permission}
    requested = list(dict.fromkeys(permissions))
    unknown = [permission for permission in requested if permission not in known]
    if unknown:
        raise InvalidInput(f"Unknown permission(s): {', '.join(unknown)}", errors=sorted(known))
    return requested
