"""Merging anonymous users into the identified users they turned out to be.

The source disappears; its devices and cohort memberships move to the target (a cohort holding
both keeps one member), its aliases move unless the target has one with the same label, and its
custom attributes and standard profile fields fill only those the target lacks, and its event
and purchase summaries are added to the target's (counts summed, the earliest first, the latest
last). A target enters the cohorts its source was in (a new stay from the merge on); the
source's own history goes with it. Sizes change by the
stays actually opened and closed, so they stay exact beside concurrent syncs.
"""

from collections.abc import Iterable

from sqlalchemy.orm import Session

from kohorte.domain.users.attributes import fill_missing
from kohorte.domain.users.deletion import remove_users
from kohorte.store import cohort_counters, memberships, user_events, user_merge
from kohorte.store import users as store
from kohorte.store.cohort_counters import Delta
from kohorte.store.types import utcnow


def merge_users(session: Session, pairs: Iterable[tuple[int, int]]) -> None:
    """Merge each (source, target) pair; sources are distinct and never targets.

    The caller holds the workspace's membership lock (``memberships.hold_workspace``), taken
    before any other write of its transaction.
    """
    for round_pairs in _rounds(list(pairs)):
        _merge_round(session, round_pairs)


def _rounds(pairs: list[tuple[int, int]]) -> list[dict[int, int]]:
    """Split pairs so that no target appears twice in a round (two sources' aliases with one
    label would otherwise both move onto the same target)."""
    rounds: list[dict[int, int]] = []
    for source, target in pairs:
        free = next((r for r in rounds if target not in r.values()), None)
        if free is None:
            free = {}
            rounds.append(free)
        free[source] = target
    return rounds


def _merge_round(session: Session, pairs: dict[int, int]) -> None:
    now = utcnow()
    gained = memberships.carry_over(session, pairs, now)
    cohort_counters.record(
        session, [Delta(pk, now.date(), members=n, entered=n) for pk, n in gained.items()]
    )
    user_merge.move_devices(session, pairs)
    user_merge.move_aliases(session, pairs)
    user_events.move_summaries(session, pairs)
    _fill_attributes(session, pairs)
    remove_users(session, list(pairs))


def _fill_attributes(session: Session, pairs: dict[int, int]) -> None:
    attributes = store.custom_attributes_of(session, {*pairs, *pairs.values()})
    merged = {
        target: fill_missing(attributes.get(target, {}), attributes.get(source, {}))
        for source, target in pairs.items()
    }
    store.save_custom_attributes(
        session,
        {target: attrs for target, attrs in merged.items() if attrs != attributes.get(target)},
    )
    _fill_profiles(session, pairs)


def _fill_profiles(session: Session, pairs: dict[int, int]) -> None:
    """Standard fields the kept user lacks come from the merged one (the kept user wins)."""
    profiles = store.profiles_of(session, {*pairs, *pairs.values()})
    merged = {
        target: fill_missing(profiles.get(target, {}), profiles.get(source, {}))
        for source, target in pairs.items()
    }
    store.save_profiles(
        session,
        {target: profile for target, profile in merged.items() if profile != profiles.get(target)},
    )
