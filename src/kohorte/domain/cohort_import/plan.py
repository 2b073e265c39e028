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
    # Only for requests that both add and remove; otherwise every write counts once.
    replays: dict[int, Replay] = field(default_factory=dict)

    def counts(self, entered: Collection[int], left: Collection[int]) -> tuple[int, int]:
        """(added, removed), given the users the store let enter and leave."""
        if not self.replays:
            return len(entered), len(left)
        added = removed = 0
        for user_id in self.to_enter:
            adds, removes = self.replays[user_id].counts(was_member=user_id not in entered)
            added, removed = added + adds, removed + removes
        for user_id in self.to_leave:
            adds, removes = self.replays[user_id].counts(was_member=user_id in left)
            added, removed = added + adds, removed + removes
        return added, removed


def plan_sync(steps: Sequence[Step]) -> SyncPlan:
    directions = {remove for _, remove in steps}
    if len(directions) == 1:
        users = sorted({user_id for matched, _ in steps for user_id in matched})
        return SyncPlan([], users) if directions == {True} else SyncPlan(users, [])
    replays, last_removes = _replay(steps)
    return SyncPlan(
        sorted(u for u, removes in last_removes.items() if not removes),
        sorted(u for u, removes in last_removes.items() if removes),
        replays,
    )


def _replay(steps: Sequence[Step]) -> tuple[dict[int, Replay], dict[int, bool]]:
    replays: dict[int, Replay] = {}
    last_removes: dict[int, bool] = {}
    for matched, remove in steps:
        for user_id in set(matched):
            previous = last_removes.get(user_id)
            if previous is None:
                replays[user_id] = Replay(remove, 1)
            elif previous != remove:
                replay = replays[user_id]
                replays[user_id] = Replay(replay.first_removes, replay.length + 1)
            last_removes[user_id] = remove
    return replays, last_removes
