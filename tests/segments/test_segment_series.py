"""Segment sizes over a series of instants (the store behind /segments/data_series).

On PostgreSQL the series is a signed sum of terms (inclusion-exclusion) computed by a few
grouped statements; elsewhere, and for filters over many cohorts, one as-of count per instant.
Both must equal a plain Python evaluation of the stays.
"""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert, update
from sqlalchemy.orm import Session

from kohorte.store.models import CohortMembership, User
from kohorte.store.segment_members import CohortTest, Every, Node, Selection, Some
from kohorte.store.segment_series import _holds, signed_terms, sizes_at
from tests.support.seeds import seed_cohort, seed_partner, seed_users_bulk, seed_workspace

START = datetime(2026, 1, 1, tzinfo=UTC)

leaf = st.builds(CohortTest, st.sampled_from([1, 2, 3, 4, None]), st.just(0), st.booleans())
trees: st.SearchStrategy[Node] = st.recursive(
    leaf,
    lambda children: st.one_of(
        st.builds(lambda c: Every(tuple(c)), st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda c: Some(tuple(c)), st.lists(children, min_size=1, max_size=3)),
    ),
    max_leaves=6,
)


@given(trees)
def test_terms_sum_to_the_filter_for_every_membership(tree: Node) -> None:
    terms = signed_terms(tree)
    if terms is None:
        return
    cohorts = [1, 2, 3, 4]
    for size in range(len(cohorts) + 1):
        for member_of in combinations(cohorts, size):
            total = sum(sign for term, sign in terms.items() if set(term) <= set(member_of))
            assert total == _holds(tree, set(member_of))


def test_a_filter_over_many_cohorts_has_no_terms() -> None:
    tree = Every(tuple(CohortTest(pk, 0, pk % 2 == 0) for pk in range(1, 9)))
    assert signed_terms(tree) is None


@dataclass(frozen=True)
class Stay:
    cohort: int
    user: int
    began: datetime
    ended: datetime | None


def _seed(
    session: Session, rng: random.Random
) -> tuple[str, dict[int, int], list[Stay], dict[int, datetime]]:
    workspace = seed_workspace(session)
    seed_partner(session)
    users = seed_users_bulk(session, workspace, [f"u{i}" for i in range(30)])
    created = {user: START + timedelta(hours=rng.randrange(0, 24 * 10)) for user in users}
    for user, at in created.items():
        session.execute(update(User).where(User.id == user).values(created_at=at))
    pks = {n: seed_cohort(session, workspace, "amplitude", f"c{n}") for n in (1, 2, 3)}
    stays: list[Stay] = []
    for pk in pks.values():
        for user in rng.sample(users, 15):
            at = created[user] + timedelta(hours=rng.randrange(0, 48))
            while at < START + timedelta(days=12) and rng.random() < 0.8:
                ended = at + timedelta(hours=rng.randrange(1, 72)) if rng.random() < 0.7 else None
                stays.append(Stay(pk, user, at, ended))
                if ended is None:
                    break
                at = ended + timedelta(hours=rng.randrange(1, 24))
    if stays:
        session.execute(
            insert(CohortMembership),
            [
                {
                    "cohort_pk": s.cohort,
                    "user_id": s.user,
                    "entered_at": s.began,
                    "left_at": s.ended,
                }
                for s in stays
            ],
        )
    session.flush()
    return workspace, pks, stays, created


def _expected(tree: Node, stays: list[Stay], created: dict[int, datetime], at: datetime) -> int:
    count = 0
    for user, born in created.items():
        member_of = {
            s.cohort
            for s in stays
            if s.user == user and s.began <= at and (s.ended is None or s.ended > at)
        }
        if born <= at and _holds(tree, member_of):
            count += 1
    return count


def _instants(rng: random.Random, stays: list[Stay]) -> list[datetime]:
    # Whole days, as data_series asks, plus the exact start of some stay as the last instant.
    days = [START + timedelta(days=d) for d in range(1, 14)]
    last = max(days[-1], rng.choice(stays).began) if stays else days[-1]
    return [*days[:-1], last]


def test_series_equal_the_stays_for_random_filters(session: Session) -> None:
    rng = random.Random(8)
    workspace, pks, stays, created = _seed(session, rng)
    c1, c2, c3 = (CohortTest(pks[n], 0, True) for n in (1, 2, 3))
    not2, not3 = CohortTest(pks[2], 0, False), CohortTest(pks[3], 0, False)
    filters: list[Node] = [
        c1,
        not2,
        Every((c1, not2)),
        Some((c1, c2)),
        Every((Some((c1, not3)), c2)),
        Some((Every((c1, c2, c3)), not3)),
        Every((c1, CohortTest(None, 0, False))),
    ]
    instants = _instants(rng, stays)
    for tree in filters:
        found = sizes_at(session, Selection(workspace, tree), instants)
        assert found == [_expected(tree, stays, created, at) for at in instants], tree


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32), trees)
def test_series_equal_the_stays_for_any_tree(engine: Engine, seed: int, tree: Node) -> None:
    rng = random.Random(seed)
    with Session(engine) as session:  # never committed: each example starts from an empty store
        workspace, pks, stays, created = _seed(session, rng)
        mapped = _mapped(tree, pks)
        instants = _instants(rng, stays)
        found = sizes_at(session, Selection(workspace, mapped), instants)
        assert found == [_expected(mapped, stays, created, at) for at in instants]


def _mapped(tree: Node, pks: dict[int, int]) -> Node:
    """Leaves 1-3 name the seeded cohorts; 4 names one with no stays."""
    if isinstance(tree, CohortTest):
        pk = None if tree.cohort_pk is None else pks.get(tree.cohort_pk, 10**9)
        return CohortTest(pk, 0, tree.includes)
    assert isinstance(tree, Every | Some)
    children = tuple(_mapped(child, pks) for child in tree.children)
    return Every(children) if isinstance(tree, Every) else Some(children)
