"""The matcher: which existing user each identifier of a cohort request stands for.

``user_ids`` match by external id, ``aliases`` by (label, name), ``device_ids`` only users
without an external id (an identified user is addressed by external id or alias). Cohort import
never creates a user; an identifier that matches nobody is simply absent from the result.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from kohorte.domain.cohort_requests import Identifier, IdKind
from kohorte.domain.text import is_valid_identifier
from kohorte.store import matching as store


def resolve(
    session: Session, workspace_id: str, identifiers: Iterable[Identifier]
) -> dict[Identifier, int]:
    """Map every identifier that matches a user of the workspace to that user's id.

    Costs at most three queries whatever the batch size; duplicates are looked up once.
    Identifiers the store could never hold (NUL, lone surrogates, over 997 bytes) match nobody.
    """
    wanted = {identifier for identifier in identifiers if _is_matchable(identifier)}
    found = _find(session, workspace_id, wanted)
    return {
        identifier: found[identifier.kind][_key(identifier)]
        for identifier in wanted
        if _key(identifier) in found[identifier.kind]
    }


def _find(
    session: Session, workspace_id: str, wanted: set[Identifier]
) -> dict[IdKind, Mapping[Any, int]]:
    external_ids = {i.value for i in wanted if i.kind is IdKind.EXTERNAL_ID}
    device_ids = {i.value for i in wanted if i.kind is IdKind.DEVICE_ID}
    aliases = {(i.label or "", i.value) for i in wanted if i.kind is IdKind.ALIAS}
    return {
        IdKind.EXTERNAL_ID: store.users_by_external_id(session, workspace_id, external_ids),
        IdKind.DEVICE_ID: store.anonymous_users_by_device_id(session, workspace_id, device_ids),
        IdKind.ALIAS: store.users_by_alias(session, workspace_id, aliases),
    }


def _key(identifier: Identifier) -> str | store.AliasKey:
    if identifier.kind is IdKind.ALIAS:
        return (identifier.label or "", identifier.value)
    return identifier.value


def _is_matchable(identifier: Identifier) -> bool:
    if identifier.kind is IdKind.ALIAS:
        return is_valid_identifier(identifier.value) and is_valid_identifier(identifier.label)
    return is_valid_identifier(identifier.value)
