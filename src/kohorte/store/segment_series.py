"""A segment's size at a series of instants (``/segments/data_series``).

On PostgreSQL the whole series costs a few statements, whatever its length. A filter over
cohorts c1..ck is a boolean function of "is in c_i", and any such function is a unique signed
sum of products of those indicators (inclusion-exclusion: A AND NOT B = A - A*B). So the size at
each instant is the same signed sum of "how many users are in all of S" over the terms S; the
empty term counts the users that existed then. Each term is one query grouping the stays (a
join of stays on the user for two cohorts or more, intersecting their time ranges) by the
range of instants each covers; a difference array then gives every instant's count. The terms
go in one statement (UNION ALL, tagged by term): under READ COMMITTED each statement has its own
snapshot, so terms read apart could see a sync between them and give a size off by one. Stays of one
user in one cohort never overlap, so no instant is counted twice.

Filters over many cohorts would need too many joins; they, and SQLite, take one as-of count per
instant (``segment_members.count_members``), which is exact for any filter.
"""

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from itertools import accumulate, combinations

from sqlalchemy import (
    ARRAY,
    ColumnExpressionArgument,
    DateTime,
    Integer,
    Select,
    Subquery,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from kohorte.store.dialect import is_postgresql
from kohorte.store.membership_history import day_counts
from kohorte.store.models import Cohort, CohortMembership, User
from kohorte.store.segment_attributes import AttributeTest
from kohorte.store.segment_members import CohortTest, Every, Node, Selection, count_members

# Beyond these the terms (up to 2^k of them) cost more than one count per instant.
MAX_COHORTS = 6
MAX_JOINED_TERMS = 3

JOIN_WORK_MEM = "64MB"

Term = tuple[int, ...]  # cohort pks, sorted; () is everybody
Ranges = Select[int, int, int]  # (first, end, count): count at instants first..end-1


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
    signs = list(terms.values())
    sizes = [0] * len(instants)
    for tag, counts in _term_counts(
        session, _Series(selection.workspace_id, instants, ends_now), list(terms)
    ).items():
        sizes = [size + signs[tag] * count for size, count in zip(sizes, counts, strict=True)]
    return sizes


def _term_counts(session: Session, series: "_Series", terms: list[Term]) -> dict[int, list[int]]:
    """Per term (by its index), its count at each instant: all terms in one statement."""
    if not terms:  # a filter that holds for nobody, such as A and not A
        return {}
    tagged = [series.ranges(term).add_columns(literal(tag)) for tag, term in enumerate(terms)]
    statement = tagged[0] if len(tagged) == 1 else union_all(*tagged)
    rows = [(int(a), int(b), int(n), int(tag)) for a, b, n, tag in session.execute(statement)]
    return _summed_by_tag(rows, len(terms), len(series.instants))


def _room_for_joins(session: Session) -> None:
    """For this transaction only: the join of two cohorts' stays hashes a million rows, which
    spills to disk in batches at the default work_mem, and compiling it (JIT) costs more than
    it saves. Measured at 1,000,000 users: 2.2 s with the defaults, 1.6 s with these."""
    session.execute(
        select(
            func.set_config("work_mem", JOIN_WORK_MEM, True), func.set_config("jit", "off", True)
        )
    )


def _summed_by_tag(
    rows: Sequence[tuple[int, int, int, int]], terms: int, instants: int
) -> dict[int, list[int]]:
    """Per term, per instant, the counts of the ranges covering it (a difference array)."""
    changes = {tag: [0] * (instants + 1) for tag in range(terms)}
    for first, end, count, tag in rows:
        if first < end:
            changes[tag][first] += count
            changes[tag][end] -= count
    return {tag: list(accumulate(found[:-1])) for tag, found in changes.items()}


class _Series:
    """The queries of one series' terms, sharing one array of its instants."""

    def __init__(self, workspace_id: str, instants: Sequence[datetime], ends_now: bool) -> None:
        self.workspace_id = workspace_id
        self.instants = instants
        self.ends_now = ends_now
        listed: Sequence[datetime] = list(instants)  # an array parameter, not a tuple
        self.bounds = bindparam("bounds", listed, type_=ARRAY(DateTime(timezone=True)))

    def ranges(self, term: Term) -> Ranges:
        if not term:
            return self._users()
        if len(term) == 1 and self.ends_now:
            return self._cohort_days(term[0])
        return self._stays_of_all(term)

    def _users(self) -> Ranges:
        """The empty term: the users that existed at each instant."""
        first = self._index(User.created_at).label("first")
        query = select(first, literal(len(self.instants)), func.count()).where(
            User.workspace_id == self.workspace_id, User.created_at <= self.instants[-1]
        )
        return query.group_by(first)

    def _cohort_days(self, cohort_pk: int) -> Ranges:
        """Members at each day's end: the size now at every instant, less the members that
        came, plus those that went, on each later day (``cohort_days``, kept like sizes) at
        the instants before that day; the last instant is now."""
        size = select(literal(0), literal(len(self.instants)), Cohort.size).where(
            Cohort.id == cohort_pk
        )
        days = day_counts(cohort_pk, self.instants[0].date())
        began = func.timezone("UTC", cast(days.c.day, DateTime))  # midnight UTC, a timestamptz
        before = func.least(self._index(began), len(self.instants) - 1)
        net = func.sum(days.c.exited) - func.sum(days.c.entered)
        later = select(literal(0), before, net).group_by(days.c.day)
        return union_all(size, later).subquery().select()

    def _stays_of_all(self, term: Term) -> Ranges:
        """Users in every cohort of ``term``: a join of their stays intersecting the times."""
        stays = [self._stays(pk) for pk in term]
        began = func.greatest(*[s.c.began for s in stays]) if len(stays) > 1 else stays[0].c.began
        ended = func.least(*[s.c.ended for s in stays]) if len(stays) > 1 else stays[0].c.ended
        first, end = self._index(began).label("first"), self._index(ended).label("end")
        query = select(first, end, func.count()).select_from(stays[0])
        for other in stays[1:]:
            query = query.join(other, other.c.user_id == stays[0].c.user_id)
        if len(stays) > 1:
            query = query.where(began < ended)
        return query.group_by(first, end)

    def _stays(self, cohort_pk: int) -> Subquery:
        """The cohort's stays that hold at some instant of the series, open ones ending never."""
        stays = aliased(CohortMembership)
        ended = func.coalesce(stays.left_at, literal_column("'infinity'::timestamptz"))
        return (
            select(stays.user_id, stays.entered_at.label("began"), ended.label("ended"))
            .where(
                stays.cohort_pk == cohort_pk,
                stays.entered_at <= self.instants[-1],
                or_(stays.left_at.is_(None), stays.left_at > self.instants[0]),
            )
            .subquery()
        )

    def _index(self, instant: ColumnExpressionArgument[datetime]) -> ColumnElement[int]:
        """How many instants of the series come strictly before ``instant``: times are kept to
        the microsecond, so "before x" is "at or before x less one microsecond", which is what
        width_bucket counts."""
        return func.width_bucket(
            instant - literal_column("interval '1 microsecond'"), self.bounds, type_=Integer
        )


def signed_terms(tree: Node) -> dict[Term, int] | None:
    """The filter as {term: coefficient}; None when it names too many cohorts for terms, or
    tests custom attributes (which have no history: the domain refuses series of them)."""
    cohorts = sorted(_cohorts_of(tree))
    if len(cohorts) > MAX_COHORTS or _tests_attributes(tree):
        return None
    truth = {
        subset: _holds(tree, set(subset))
        for size in range(len(cohorts) + 1)
        for subset in combinations(cohorts, size)
    }
    terms = {subset: sign for subset in truth if (sign := _coefficient(truth, subset))}
    joined = sum(1 for term in terms if len(term) >= 2)
    return terms if joined <= MAX_JOINED_TERMS else None


def _coefficient(truth: dict[Term, int], subset: Term) -> int:
    """Möbius inversion: the term's sign from the filter's truth on the subsets of it."""
    inner = [t for size in range(len(subset) + 1) for t in combinations(subset, size)]
    return sum((-1) ** (len(subset) - len(t)) * truth[t] for t in inner)


def _tests_attributes(tree: Node) -> bool:
    if isinstance(tree, AttributeTest | CohortTest):
        return isinstance(tree, AttributeTest)
    return any(_tests_attributes(child) for child in tree.children)


def _cohorts_of(tree: Node) -> set[int]:
    if isinstance(tree, AttributeTest):
        return set()
    if isinstance(tree, CohortTest):
        return set() if tree.cohort_pk is None else {tree.cohort_pk}
    return set().union(*(_cohorts_of(child) for child in tree.children))


def _holds(tree: Node, member_of: set[int]) -> int:
    if isinstance(tree, AttributeTest):  # never reached: signed_terms declines such filters
        raise TypeError("custom attribute tests have no terms")
    if isinstance(tree, CohortTest):
        inside = tree.cohort_pk is not None and tree.cohort_pk in member_of
        return int(inside == tree.includes)
    found = [_holds(child, member_of) for child in tree.children]
    return int(all(found) if isinstance(tree, Every) else any(found))
