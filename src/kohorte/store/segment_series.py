"""A segment's size at a series of instants (``/segments/data_series``).

On PostgreSQL the whole series costs a few statements, whatever its length. A filter over
cohorts c1..ck is a boolean function of "is in c_i", and any such function is a unique signed
sum of products of those indicators (inclusion-exclusion: A AND NOT B = A - A*B). So the size at
each instant is the same signed sum of "how many users are in all of S" over the terms S; the
empty term counts the users that existed then. Each term is one statement grouping the stays (a
join of stays on the user for two cohorts or more, intersecting their time ranges) by the
range of instants each covers; a difference array then gives every instant's count. Stays of one
user in one cohort never overlap, so no instant is counted twice.

Filters over many cohorts would need too many joins; they, and SQLite, take one as-of count per
instant (``segment_members.count_members``), which is exact for any filter.
"""

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from itertools import accumulate, combinations
from typing import Any

from sqlalchemy import ARRAY, DateTime, bindparam, func, literal_column, or_, select
from sqlalchemy.orm import Session, aliased

from kohorte.store.dialect import is_postgresql
from kohorte.store.membership_history import cohort_window
from kohorte.store.models import CohortMembership, User
from kohorte.store.segment_members import CohortTest, Every, Node, Selection, count_members

# Beyond these the terms (up to 2^k of them) cost more than one count per instant.
MAX_COHORTS = 6
MAX_JOINED_TERMS = 3

JOIN_WORK_MEM = "64MB"

Term = tuple[int, ...]  # cohort pks, sorted; () is everybody


def sizes_at(
    session: Session, selection: Selection, instants: Sequence[datetime], ends_now: bool = False
) -> list[int]:
    """The selection's size at each of ``instants`` (ascending). With ``ends_now`` the last
    instant is now and every other one the last instant of a UTC day, so a term of one cohort
    is read from the cohort's size and its per-day counts instead of its stays."""
    terms = signed_terms(selection.tree)
    if not is_postgresql(session) or terms is None:
        return [count_members(session, replace(selection, as_of=at)) for at in instants]
    if any(len(term) > 1 for term in terms):
        _room_for_joins(session)
    sizes = [0] * len(instants)
    for term, sign in terms.items():
        if len(term) == 1 and ends_now:
            counts = _cohort_sizes(session, term[0], instants)
        else:
            counts = _summed(
                _term_ranges(session, selection.workspace_id, term, instants), instants
            )
        sizes = [size + sign * count for size, count in zip(sizes, counts, strict=True)]
    return sizes


def _room_for_joins(session: Session) -> None:
    """For this transaction only: the join of two cohorts' stays hashes a million rows, which
    spills to disk in batches at the default work_mem, and compiling it (JIT) costs more than
    it saves. Measured at 1,000,000 users: 2.2 s with the defaults, 1.6 s with these."""
    session.execute(
        select(
            func.set_config("work_mem", JOIN_WORK_MEM, True), func.set_config("jit", "off", True)
        )
    )


def _summed(ranges: list[tuple[int, int, int]], instants: Sequence[datetime]) -> list[int]:
    """Per instant, the counts of the ranges covering it (a difference array)."""
    changes = [0] * (len(instants) + 1)
    for first, end, count in ranges:
        changes[first] += count
        changes[end] -= count
    return list(accumulate(changes[:-1]))


def _cohort_sizes(session: Session, cohort_pk: int, instants: Sequence[datetime]) -> list[int]:
    """Members at each day's end: today's size less the members that came, plus those that
    went, on every later day (``cohort_days``, kept exactly like sizes)."""
    window = cohort_window(session, cohort_pk, instants[0].date(), instants[-1].date())
    net = [(day.day, day.entered - day.left) for day in window.days]
    at_end = [window.size - sum(n for day, n in net if day > at.date()) for at in instants[:-1]]
    return [*at_end, window.size]


def signed_terms(tree: Node) -> dict[Term, int] | None:
    """The filter as {term: coefficient}; None when it names too many cohorts for terms."""
    cohorts = sorted(_cohorts_of(tree))
    if len(cohorts) > MAX_COHORTS:
        return None
    truth = {
        subset: _holds(tree, set(subset))
        for size in range(len(cohorts) + 1)
        for subset in combinations(cohorts, size)
    }
    terms = {}
    for subset in truth:
        inner = [t for size in range(len(subset) + 1) for t in combinations(subset, size)]
        sign = sum((-1) ** (len(subset) - len(t)) * truth[t] for t in inner)
        if sign:
            terms[subset] = sign
    joined = sum(1 for term in terms if len(term) >= 2)
    return terms if joined <= MAX_JOINED_TERMS else None


def _cohorts_of(tree: Node) -> set[int]:
    if isinstance(tree, CohortTest):
        return set() if tree.cohort_pk is None else {tree.cohort_pk}
    return set().union(*(_cohorts_of(child) for child in tree.children))


def _holds(tree: Node, member_of: set[int]) -> int:
    if isinstance(tree, CohortTest):
        inside = tree.cohort_pk is not None and tree.cohort_pk in member_of
        return int(inside == tree.includes)
    found = [_holds(child, member_of) for child in tree.children]
    return int(all(found) if isinstance(tree, Every) else any(found))


def _term_ranges(
    session: Session, workspace_id: str, term: Term, instants: Sequence[datetime]
) -> list[tuple[int, int, int]]:
    """(first, end, count): ``count`` users of all of ``term`` at instants first..end-1."""
    bounds = bindparam("bounds", list(instants), type_=ARRAY(DateTime(timezone=True)))
    if not term:
        users = select(_index(User.created_at, bounds).label("first"), func.count()).where(
            User.workspace_id == workspace_id, User.created_at <= instants[-1]
        )
        rows = session.execute(users.group_by("first")).all()
        return [(int(first), len(instants), int(count)) for first, count in rows]
    stays = [_stays(pk, instants) for pk in term]
    began = func.greatest(*[s.c.began for s in stays]) if len(stays) > 1 else stays[0].c.began
    ended = func.least(*[s.c.ended for s in stays]) if len(stays) > 1 else stays[0].c.ended
    query = select(_index(began, bounds).label("first"), _index(ended, bounds).label("end"))
    query = query.add_columns(func.count()).select_from(stays[0])
    for other in stays[1:]:
        query = query.join(other, other.c.user_id == stays[0].c.user_id)
    if len(stays) > 1:
        query = query.where(began < ended)
    rows = session.execute(query.group_by("first", "end")).all()
    return [(int(first), int(end), int(count)) for first, end, count in rows if first < end]


def _stays(cohort_pk: int, instants: Sequence[datetime]) -> Any:
    """The cohort's stays that hold at some instant of the series, open ones ending never."""
    stays = aliased(CohortMembership)
    ended = func.coalesce(stays.left_at, literal_column("'infinity'::timestamptz"))
    return (
        select(stays.user_id, stays.entered_at.label("began"), ended.label("ended"))
        .where(
            stays.cohort_pk == cohort_pk,
            stays.entered_at <= instants[-1],
            or_(stays.left_at.is_(None), stays.left_at > instants[0]),
        )
        .subquery()
    )


def _index(instant: Any, bounds: Any) -> Any:
    """How many instants of the series come strictly before ``instant``: times are kept to
    the microsecond, so "before x" is "at or before x less one microsecond", which is what
    width_bucket counts."""
    return func.width_bucket(instant - literal_column("interval '1 microsecond'"), bounds)
