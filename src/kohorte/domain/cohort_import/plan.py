"""What a change request does to a cohort's memberships, worked out before anything is written.

Changes apply in array order, so a user added and then removed ends outside the cohort, and
each step that changes membership counts. Per user only three things matter: the final step
(it says whether the user ends inside), the first step, and how many times the direction
flips. Which users were members before is learnt from the writes themselves (the insert says
who entered, the update who left), so nothing is read before writing and no concurrent sync
can slip in between a read and a write.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

Step = tuple[Sequence[int], bool]  # the users one change matched, and whether it removes them


@dataclass(frozen=True)
class Replay:
    """One user's steps with repeats dropped: the first direction and the number of flips."""

    first_removes: bool
    length: int
    last_removes: bool  # the final step: whether the user ends outside

    def counts(self, was_member: bool) -> tuple[int, int]:
        """(adds, removes) that actually change membership, starting from ``was_member``."""
        no_op_first = self.first_removes != was_member
        length = self.length - 1 if no_op_first else self.length
        starts_with_add = self.first_removes == no_op_first
        adds = (length + 1) // 2 if starts_with_add else length // 2
        return adds, length - adds


@dataclass(frozen=True)
class SyncPlan:
    to_enter: list[int]  # ascending, the order rows are locked in: users ending inside
    to_leave: list[int]  # ascending: users ending outside
    # Only the users that the request both adds and removes; every other user's one write
    # counts once, so without replays the counts of rows written are the answer.
    replays: dict[int, Replay] = field(default_factory=dict)

    def counts(self, entered: Collection[int], left: Collection[int]) -> tuple[int, int]:
        """(added, removed), given the users the store let enter and leave."""
        added, removed = len(entered), len(left)
        for user_id, replay in self.replays.items():
            was_member = user_id in left if replay.last_removes else user_id not in entered
            adds, removes = replay.counts(was_member)
            wrote_add, wrote_remove = user_id in entered, user_id in left
            added, removed = added + adds - wrote_add, removed + removes - wrote_remove
        return added, removed


def plan_sync(steps: Sequence[Step]) -> SyncPlan:
    adds = {user_id for matched, remove in steps if not remove for user_id in matched}
    removes = {user_id for matched, remove in steps if remove for user_id in matched}
    both = adds & removes
    replays = _replay(steps, both) if both else {}
    ending_inside = {user_id for user_id in both if not replays[user_id].last_removes}
    return SyncPlan(
        sorted((adds - both) | ending_inside),
        sorted((removes - both) | (both - ending_inside)),
        replays,
    )


def _replay(steps: Sequence[Step], users: set[int]) -> dict[int, Replay]:
    replays: dict[int, Replay] = {}
    for matched, remove in steps:
        for user_id in users.intersection(matched):
            replay = replays.get(user_id)
            if replay is None:
                replays[user_id] = Replay(remove, 1, remove)
            elif replay.last_removes != remove:
                replays[user_id] = Replay(replay.first_removes, replay.length + 1, remove)
    return replays
