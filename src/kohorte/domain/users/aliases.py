"""``/users/alias/new``: aliases for identified users, or new alias-only users.

A user holds one name per label, and a (label, name) pair belongs to one user of a workspace;
an entry breaking either rule is skipped and reported, the others still apply.
"""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from kohorte.domain.users import fields
from kohorte.domain.users.creation import create_alias_only_users
from kohorte.domain.users.fields import Alias, Skipped
from kohorte.domain.users.identify_requests import AliasNewRequest
from kohorte.store import identities
from kohorte.store import users as store

MAX_ALIASES = 50
INPUT_ARRAY = "user_aliases"
ALIAS_TAKEN = "Alias already belongs to another user"
LABEL_TAKEN = "User already has an alias with this alias_label"
UNKNOWN_USER = "No user found for external_id"
NEW_USER = 0  # owner marker of an alias that will get its own alias-only user


@dataclass(frozen=True)
class AliasResult:
    processed: int
    skipped: list[Skipped]


@dataclass
class _Plan:
    owners: dict[tuple[str, str], int]
    users: dict[str, int]
    labels: dict[int, dict[str, str]]
    for_users: list[tuple[int, str, str]]
    for_new_users: list[tuple[str, str]]


def add_aliases(session: Session, workspace_id: str, request: AliasNewRequest) -> AliasResult:
    fields.check_limit(request.user_aliases, MAX_ALIASES, "user_aliases")
    parsed = [
        (entry.external_id, Alias(label=entry.alias_label, name=entry.alias_name))
        for entry in request.user_aliases
    ]
    plan = _load(session, workspace_id, parsed)
    skipped = [
        Skipped(INPUT_ARRAY, index, reason)
        for index, (external_id, alias) in enumerate(parsed)
        if (reason := _place(plan, external_id, alias)) is not None
    ]
    store.add_aliases(session, workspace_id, plan.for_users)
    create_alias_only_users(session, workspace_id, plan.for_new_users)
    return AliasResult(len(parsed) - len(skipped), skipped)


def _load(session: Session, workspace_id: str, parsed: list[tuple[str | None, Alias]]) -> _Plan:
    external_ids = [ext for ext, _ in parsed if ext is not None]
    users = identities.users_by_external_id(session, workspace_id, external_ids)
    owners = identities.users_by_alias(session, workspace_id, [alias.key for _, alias in parsed])
    labels = store.alias_labels_of(session, users.values())
    return _Plan(owners, users, labels, [], [])


def _place(plan: _Plan, external_id: str | None, alias: Alias) -> str | None:
    """Record where the alias goes, or say why it cannot go anywhere."""
    user = NEW_USER if external_id is None else plan.users.get(external_id)
    owner = plan.owners.get(alias.key)
    if owner is not None:
        return None if owner == user and user != NEW_USER else ALIAS_TAKEN
    if user is None:
        return UNKNOWN_USER
    plan.owners[alias.key] = user
    if user == NEW_USER:
        plan.for_new_users.append(alias.key)
        return None
    if alias.label in plan.labels.setdefault(user, {}):
        del plan.owners[alias.key]
        return LABEL_TAKEN
    plan.labels[user][alias.label] = alias.name
    plan.for_users.append((user, alias.label, alias.name))
    return None
