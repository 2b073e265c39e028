"""Services of merge, external id rename and alias update against Python models, drawn by
hypothesis: any sequence of entries ends as its in-order replay says."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from kohorte.domain.users import alias_updates, external_ids, merge_requests
from kohorte.domain.users.identifiers import UserIdentifier
from kohorte.store import identities
from kohorte.store.models import Cohort
from tests.support.seeds import member_ids, seed_cohort, seed_partner, seed_user, seed_workspace

USERS = 6
NAMES = [f"n{i}" for i in range(USERS + 3)]
examples = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _seed(session: Session) -> tuple[str, list[int]]:
    workspace = seed_workspace(session)
    return workspace, [
        seed_user(session, workspace, f"n{i}", aliases=[("crm", f"n{i}")]) for i in range(USERS)
    ]


@examples
@given(
    merges=st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(NAMES)), max_size=8),
    members=st.sets(st.integers(0, USERS - 1)),
)
def test_merges_keep_cohorts_exact(
    session: Session, merges: list[tuple[str, str]], members: set[int]
) -> None:
    nested = session.begin_nested()
    workspace, users = _seed(session)
    seed_partner(session)
    cohort = seed_cohort(session, workspace, "amplitude", "c", members=[users[i] for i in members])
    updates = [
        merge_requests.MergeUpdate(UserIdentifier(external_id=a), UserIdentifier(external_id=b))
        for a, b in merges
    ]
    skipped = merge_requests.merge(session, workspace, updates)
    model, gone, expected_skips = {users[i] for i in members}, set[int](), []
    by_name = {f"n{i}": user for i, user in enumerate(users)}
    for index, (a, b) in enumerate(merges):
        source, target = by_name.get(a), by_name.get(b)
        if source is None or target is None or source == target or {source, target} & gone:
            expected_skips.append(index)
            continue
        gone.add(source)
        if source in model:
            model = (model - {source}) | {target}
    session.expire_all()
    assert [error.index for error in skipped] == expected_skips
    assert member_ids(session, cohort) == model
    assert session.scalars(select(Cohort.size).where(Cohort.id == cohort)).one() == len(model)
    nested.rollback()


@examples
@given(renames=st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(NAMES)), max_size=8))
def test_renames_replay_in_order(session: Session, renames: list[tuple[str, str]]) -> None:
    nested = session.begin_nested()
    workspace, users = _seed(session)
    outcome = external_ids.rename(
        session, workspace, [external_ids.Rename(a, b) for a, b in renames]
    )
    owner = {f"n{i}": user for i, user in enumerate(users)}  # every id in use → its user
    primary, done = dict(owner), []
    for a, b in renames:
        if a in primary and b not in owner:
            owner[b] = primary[b] = primary.pop(a)
            done.append(a)
    assert outcome.done == done
    assert identities.users_by_external_id(session, workspace, NAMES) == owner
    nested.rollback()


@examples
@given(updates=st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(NAMES)), max_size=8))
def test_alias_updates_replay_in_order(session: Session, updates: list[tuple[str, str]]) -> None:
    nested = session.begin_nested()
    workspace, users = _seed(session)
    entries = [alias_updates.AliasUpdate("crm", old, new) for old, new in updates]
    skipped = alias_updates.update_aliases(session, workspace, entries)
    held = {("crm", f"n{i}"): user for i, user in enumerate(users)}
    expected_skips = []
    for index, (old, new) in enumerate(updates):
        if ("crm", old) not in held or ("crm", new) in held:
            expected_skips.append(index)
        else:
            held[("crm", new)] = held.pop(("crm", old))
    assert [error.index for error in skipped] == expected_skips
    keys = [("crm", name) for name in NAMES]
    assert identities.users_by_alias(session, workspace, keys) == held
    nested.rollback()
