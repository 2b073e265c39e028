"""``/users/alias/new``: aliases for identified users, or new alias-only users.

A user holds one name per label, and a (label, name) pair belongs to one user of a workspace;
an entry breaking either rule is skipped and reported, the others still apply.
"""

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from kohorte.domain.users import fields
from kohorte.domain.users.fields import Alias, Skipped
from kohorte.domain.users.identify_requests import AliasNewRequest
from kohorte.domain.users.new_users import NewUsers, create_with_aliases
from kohorte.store import identities
from kohorte.store import users as store

MAX_ALIASES = 50
INPUT_ARRAY = "user_aliases"
ALIAS_TAKEN = "Alias already belongs to another user"
LABEL_TAKEN = "User already has an alias with this alias_label"
UNKNOWN_USER = "No user found for external_id"


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
    for_new_users: dict[int, tuple[str, str]]  # placeholder → alias
    new_users: NewUsers = field(default_factory=NewUsers)


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
    create_with_aliases(session, workspace_id, plan.new_users, plan.for_new_users)
    return AliasResult(len(parsed) - len(skipped), skipped)


def _load(session: Session, workspace_id: str, parsed: list[tuple[str | None, Alias]]) -> _Plan:
    external_ids = [ext for ext, _ in parsed if ext is not None]
    users = identities.users_by_external_id(session, workspace_id, external_ids)
    owners = identities.users_by_alias(session, workspace_id, [alias.key for _, alias in parsed])
    labels = store.alias_labels_of(session, users.values())
    return _Plan(owners, users, labels, [], {})


def _place(plan: _Plan, external_id: str | None, alias: Alias) -> str | None:
    """Record where the alias goes, or say why it cannot go anywhere."""
    owner = plan.owners.get(alias.key)
    if external_id is None:
        if owner is not None:
            return ALIAS_TAKEN
        _for_new_user(plan, alias)
        return None
    user = plan.users.get(external_id)
    if owner is not None:
        return None if owner == user else ALIAS_TAKEN
    if user is None:
        return UNKNOWN_USER
    if alias.label in plan.labels.setdefault(user, {}):
        return LABEL_TAKEN
    plan.owners[alias.key] = user
    plan.labels[user][alias.label] = alias.name
    plan.for_users.append((user, alias.label, alias.name))
    return None


def _for_new_user(plan: _Plan, alias: Alias) -> None:
    """The alias gets an alias-only user of its own (created by ``new_users``)."""
    placeholder = plan.new_users.new()
    plan.owners[alias.key] = placeholder
    plan.for_new_users[placeholder] = alias.key
