"""The one planner of new users (domain/users/new_users.py): placeholders, and their creation."""

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from kohorte.domain.users.identity_plan import IdentityPlan
from kohorte.domain.users.new_users import NewUsers, create_alias_only_users, is_placeholder
from kohorte.store.models import User, UserAlias
from tests.support.seeds import seed_user, seed_workspace

EXTERNAL_IDS = st.sampled_from(["ann", "bob", "cid"])
DEVICES = st.sampled_from(["d1", "d2", "d3", "d4"])
OPERATIONS = st.lists(st.tuples(DEVICES, st.none() | EXTERNAL_IDS), max_size=12)


@given(st.lists(st.none() | st.text(min_size=1, max_size=5), max_size=30))
def test_placeholders_are_distinct_and_never_real_ids(external_ids: list[str | None]) -> None:
    planned = NewUsers()
    placeholders = [planned.new(external_id) for external_id in external_ids]
    assert len(set(placeholders)) == len(placeholders)
    assert all(is_placeholder(p) and p < 1 for p in placeholders)
    assert [planned.external_id_of[p] for p in placeholders] == external_ids


@given(OPERATIONS)
def test_session_logins_plan_one_new_user_per_external_id(
    operations: list[tuple[str, str | None]],
) -> None:
    """On an empty store every user is new: one per external id, each device ending with the
    user of its last login (or an anonymous user if it never had one)."""
    plan = IdentityPlan({}, {}, {}, {})
    last_login: dict[str, str | None] = {}
    for device, external_id in operations:
        if external_id is None:
            plan.see_anonymous_device(device)
            last_login.setdefault(device, None)
        else:
            plan.log_in_on_device(device, external_id)
            last_login[device] = external_id
    standing = plan.users_to_create()
    named = [plan.new_users.external_id_of[p] for p in standing]
    assert sorted(n for n in named if n is not None) == sorted(
        {e for _, e in operations if e is not None}
    )
    for device, external_id in last_login.items():
        owner = plan.resolve(plan.device_owner[device])
        assert owner in standing
        assert plan.new_users.external_id_of[owner] == external_id


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.none() | EXTERNAL_IDS, st.booleans()),
        max_size=8,
        unique_by=lambda e: e[0] or uuid.uuid4().hex,
    )
)
def test_create_makes_exactly_the_kept_placeholders(
    session: Session, wanted: list[tuple[str | None, bool]]
) -> None:
    workspace_id = seed_workspace(session, uuid.uuid4().hex)
    existing = seed_user(session, workspace_id, "bob")
    planned = NewUsers()
    placeholders = {planned.new(external_id): keep for external_id, keep in wanted}
    kept = [p for p, keep in placeholders.items() if keep]
    created = planned.create(
        session, workspace_id, keep=kept, attributes={p: {"n": p} for p in kept}
    )
    assert set(created) == set(kept)
    rows = {
        row.id: row
        for row in session.scalars(select(User).where(User.workspace_id == workspace_id))
    }
    for placeholder, user_id in created.items():
        external_id = planned.external_id_of[placeholder]
        assert rows[user_id].external_id == external_id
        # An external id that already exists keeps its user (and its attributes).
        if external_id == "bob":
            assert user_id == existing
        else:
            assert rows[user_id].custom_attributes == {"n": placeholder}
    assert len(rows) == 1 + len([p for p in kept if planned.external_id_of[p] != "bob"])


def test_alias_only_users_get_their_alias_and_a_taken_alias_stays_with_its_holder(
    session: Session,
) -> None:
    workspace_id = seed_workspace(session)
    holder = seed_user(session, workspace_id, None, aliases=[("crm", "taken")])
    owners = create_alias_only_users(session, workspace_id, [("crm", "taken"), ("crm", "new")])
    assert owners[("crm", "taken")] == holder
    assert owners[("crm", "new")] != holder
    users = session.scalars(select(User.id).where(User.workspace_id == workspace_id)).all()
    assert sorted(users) == sorted([holder, owners[("crm", "new")]])
    aliases = session.scalars(
        select(UserAlias.alias_name).where(UserAlias.user_id == owners[("crm", "new")])
    )
    assert list(aliases) == ["new"]
