"""``/users/delete``: users named by one kind of identifier, with everything they hold."""

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kohorte.domain.errors import InvalidInput
from kohorte.domain.users import fields
from kohorte.store import cohort_counters, identities, memberships
from kohorte.store import users as store
from kohorte.store.types import utcnow

MAX_IDENTIFIERS = 50
KINDS = ("external_ids", "user_aliases", "braze_ids", "device_ids")


@dataclass(frozen=True)
class DeleteRequest:
    external_ids: Sequence[object] | None = None
    user_aliases: Sequence[object] | None = None
    braze_ids: Sequence[object] | None = None
    device_ids: Sequence[object] | None = None


def delete_users(session: Session, workspace_id: str, request: DeleteRequest) -> int:
    """Delete the users found; unknown identifiers are not an error. Returns how many went."""
    kind, values = _one_kind(request)
    fields.check_limit(values, MAX_IDENTIFIERS, kind)
    memberships.hold_workspace(session, workspace_id)
    return remove_users(session, _find(session, workspace_id, kind, values))


def remove_users(session: Session, user_ids: Collection[int]) -> int:
    """Delete users with everything they hold, their membership history included; the cohorts
    they were in shrink by them. The caller holds the workspace's membership lock."""
    cohort_counters.record(session, memberships.remove_users(session, user_ids, utcnow()))
    return store.delete_users(session, user_ids)


def _one_kind(request: DeleteRequest) -> tuple[str, list[object]]:
    given = [(kind, getattr(request, kind)) for kind in KINDS if getattr(request, kind) is not None]
    if len(given) != 1:
        raise InvalidInput(f"Give exactly one of {', '.join(KINDS)}")
    kind, values = given[0]
    return kind, list(values)


def _find(session: Session, workspace_id: str, kind: str, values: list[object]) -> set[int]:
    if kind == "user_aliases":
        aliases = [fields.alias(value, f"{kind}[{i}]").key for i, value in enumerate(values)]
        return set(identities.users_by_alias(session, workspace_id, aliases).values())
    ids = [fields.identifier(value, f"{kind}[{i}]") for i, value in enumerate(values)]
    return set(LOOKUPS[kind](session, workspace_id, ids).values())


LOOKUPS: dict[str, Callable[[Session, str, Collection[str]], dict[str, int]]] = {
    "external_ids": identities.users_by_external_id,
    "braze_ids": identities.users_by_braze_id,
    "device_ids": identities.device_owners,
}
