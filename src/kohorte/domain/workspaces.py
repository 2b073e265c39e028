"""Workspaces (tenants) and their REST API keys."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kohorte.domain.errors import InvalidInput, NotFound
from kohorte.domain.keys import KeyKind, issue_key
from kohorte.domain.permissions import Permission
from kohorte.domain.text import is_valid_name
from kohorte.store import memberships
from kohorte.store import workspaces as store
from kohorte.store.models import RestApiKey, Workspace
from kohorte.store.types import utcnow


@dataclass(frozen=True)
class IssuedRestKey:
    record: RestApiKey
    plaintext: str


def create_workspace(session: Session, name: str) -> Workspace:
    if not is_valid_name(name):
        raise InvalidInput("name must be a non-empty string of at most 255 characters")
    return store.add_workspace(session, name)


def list_workspaces(session: Session) -> Sequence[Workspace]:
    return store.list_workspaces(session)


def delete_workspace(session: Session, workspace_id: str) -> None:
    memberships.hold_workspace(session, workspace_id)  # no sync may add to it meanwhile
    if not store.delete_workspace(session, workspace_id):
        raise NotFound(f"Workspace '{workspace_id}' not found")


def issue_rest_key(
    session: Session, workspace_id: str, name: str, permissions: Iterable[str] | None
) -> IssuedRestKey:
    require_workspace(session, workspace_id)
    if not is_valid_name(name):
        raise InvalidInput("name must be a non-empty string of at most 255 characters")
    checked = None if permissions is None else _check_permissions(permissions)
    issued = issue_key(KeyKind.REST_API_KEY)
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
