"""``/users/merge``: each entry merges one user into another, identified users included.

Entries apply in order with the merge engine of ``merge.py``; an entry naming an unknown user,
the same user twice, or a user an earlier entry merged away is skipped and reported.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kohorte.domain.users import fields, identifiers
from kohorte.domain.users.identifiers import EntryError, UserIdentifier
from kohorte.domain.users.merge import merge_users
from kohorte.store import memberships

MAX_MERGE_UPDATES = 50
UNKNOWN_TO_MERGE = "identifier_to_merge matches no user"
UNKNOWN_TO_KEEP = "identifier_to_keep matches no user"
SAME_USER = "identifier_to_merge and identifier_to_keep name the same user"
MERGED_AWAY = "names a user that an earlier merge of this request merged away"


@dataclass(frozen=True)
class MergeUpdate:
    to_merge: UserIdentifier
    to_keep: UserIdentifier


def merge(session: Session, workspace_id: str, updates: Sequence[MergeUpdate]) -> list[EntryError]:
    """Apply the merges in order; the entries skipped, each with why."""
    fields.check_limit(updates, MAX_MERGE_UPDATES, "merge_updates")
    named = [identifier for u in updates for identifier in (u.to_merge, u.to_keep)]
    users = identifiers.resolve(session, workspace_id, named)
    pairs, errors = _plan(list(zip(users[::2], users[1::2], strict=True)))
    if pairs:
        # Before any other write: merges remove users, which partner syncs must not race.
        memberships.hold_workspace(session, workspace_id)
    for stage in _stages(pairs):
        merge_users(session, stage)
    return errors


def _plan(
    users: list[tuple[int | None, int | None]],
) -> tuple[list[tuple[int, int]], list[EntryError]]:
    """The (merged, kept) pairs to apply in order, and the entries skipped."""
    gone: set[int] = set()
    pairs: list[tuple[int, int]] = []
    errors: list[EntryError] = []
    for index, (source, target) in enumerate(users):
        reason = _refusal(source, target, gone)
        if reason is not None:
            errors.append(EntryError(index, reason))
            continue
        assert source is not None
        assert target is not None
        gone.add(source)
        pairs.append((source, target))
    return pairs, errors


def _refusal(source: int | None, target: int | None, gone: set[int]) -> str | None:
    if source is None:
        return UNKNOWN_TO_MERGE
    if target is None:
        return UNKNOWN_TO_KEEP
    if source in gone or target in gone:
        return MERGED_AWAY
    return SAME_USER if source == target else None


def _stages(pairs: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Consecutive runs that the engine can apply at once: a stage ends before a user kept by
    one of its merges is merged itself (A into B, then B into C: B holds A's part first)."""
    stages: list[list[tuple[int, int]]] = []
    kept: set[int] = set()
    for source, target in pairs:
        if not stages or source in kept:
            stages.append([])
            kept = set()
        stages[-1].append((source, target))
        kept.add(target)
    return stages
