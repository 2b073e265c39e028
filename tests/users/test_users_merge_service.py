"""Unit tests of the merge service and the identity plan, straight on the store."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from kohorte.domain.users.identity_plan import OWNED_BY_OTHER, UNKNOWN_DEVICE, IdentityPlan
from kohorte.domain.users.merge import merge_users
from kohorte.store.models import Cohort, User, UserAlias, UserDevice
from tests.support.seeds import member_ids, seed_cohort, seed_partner, seed_user, seed_workspace


def _cohort(session: Session, workspace_id: str, cohort_id: str, members: list[int]) -> int:
    seed_partner(session)
    return seed_cohort(session, workspace_id, "amplitude", cohort_id, members=members)


def _size(session: Session, cohort_pk: int) -> int:
    return session.scalars(select(Cohort.size).where(Cohort.id == cohort_pk)).one()


def test_merge_moves_everything_and_recounts(session: Session) -> None:
    ws = seed_workspace(session)
    target = seed_user(session, ws, "known", aliases=[("email", "t@x")], devices=["t-dev"])
    source = seed_user(session, ws, None, aliases=[("email", "s@x"), ("crm", "c1")], devices=["s"])
    other = seed_user(session, ws, "other")
    both = _cohort(session, ws, "both", [target, source, other])
    source_only = _cohort(session, ws, "source-only", [source])
    target_only = _cohort(session, ws, "target-only", [target])
    session.get(User, target).custom_attributes = {"plan": "pro"}  # type: ignore[union-attr]
    session.get(User, source).custom_attributes = {"plan": "free", "city": "Oslo"}  # type: ignore[union-attr]
    session.flush()

    merge_users(session, [(source, target)])
    session.expire_all()

    assert session.get(User, source) is None
    assert member_ids(session, both) == {target, other}
    assert member_ids(session, source_only) == {target}
    assert [_size(session, c) for c in (both, source_only, target_only)] == [2, 1, 1]
    devices = session.scalars(select(UserDevice.device_id).where(UserDevice.user_id == target))
    assert set(devices) == {"t-dev", "s"}
    aliases = session.execute(
        select(UserAlias.alias_label, UserAlias.alias_name).where(UserAlias.user_id == target)
    ).all()
    assert set(aliases) == {("email", "t@x"), ("crm", "c1")}
    assert session.get(User, target).custom_attributes == {"plan": "pro", "city": "Oslo"}  # type: ignore[union-attr]


def test_two_sources_with_one_label_merge_into_one_target(session: Session) -> None:
    ws = seed_workspace(session)
    target = seed_user(session, ws, "known")
    first = seed_user(session, ws, None, aliases=[("crm", "a")])
    second = seed_user(session, ws, None, aliases=[("crm", "b")])
    cohort = _cohort(session, ws, "c", [first, second])
    merge_users(session, [(first, target), (second, target)])
    session.expire_all()
    held = session.scalars(select(UserAlias.alias_name).where(UserAlias.user_id == target))
    assert list(held) == ["a"]
    assert member_ids(session, cohort) == {target}
    assert _size(session, cohort) == 1
    assert session.scalars(select(User.id)).all() == [target]


def test_merges_of_many_pairs_in_one_call(session: Session) -> None:
    ws = seed_workspace(session)
    pairs = [
        (seed_user(session, ws, None, devices=[f"d{i}"]), seed_user(session, ws, f"u{i}"))
        for i in range(30)
    ]
    cohort = _cohort(session, ws, "c", [source for source, _ in pairs])
    merge_users(session, pairs)
    session.expire_all()
    assert member_ids(session, cohort) == {target for _, target in pairs}
    assert _size(session, cohort) == 30
    owners = dict(session.execute(select(UserDevice.device_id, UserDevice.user_id)).all())
    assert owners == {f"d{i}": target for i, (_, target) in enumerate(pairs)}


def test_merging_nothing_is_a_no_op(session: Session) -> None:
    merge_users(session, [])


def plan(devices: dict[str, int], external_ids: dict[int, str | None]) -> IdentityPlan:
    by_external_id = {ext: user for user, ext in external_ids.items() if ext is not None}
    return IdentityPlan(dict(devices), {}, by_external_id, dict(external_ids))


def test_plan_identifies_merges_and_skips() -> None:
    identity = plan({"anon": 1, "anon2": 2, "owned": 3}, {1: None, 2: None, 3: "bob"})
    assert identity.identify_device("anon", "alice") is None
    assert identity.identified == {1: "alice"}
    assert identity.identify_device("anon2", "alice") is None
    assert identity.merges == [(2, 1)]
    assert identity.identify_device("owned", "alice") == OWNED_BY_OTHER
    assert identity.identify_device("owned", "bob") is None
    assert identity.identify_device("missing", "bob") == UNKNOWN_DEVICE


def test_plan_session_login_moves_devices_and_creates_users() -> None:
    identity = plan({"shared": 3}, {3: "bob"})
    identity.log_in_on_device("shared", "carol")
    identity.see_anonymous_device("fresh")
    identity.log_in_on_device("fresh", "bob")
    assert identity.users_to_create() == [-1]
    assert identity.new_users.external_id_of[-1] == "carol"
    assert identity.device_moves == {"shared": -1, "fresh": -2}
    assert identity.resolve(identity.device_moves["fresh"]) == 3
