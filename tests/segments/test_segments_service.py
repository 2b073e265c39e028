"""Unit tests of the segment service over a store seeded directly, filters drawn by hypothesis."""

import random
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kohorte.domain import segments
from kohorte.domain.errors import InvalidInput, NotFound
from tests.support.seeds import seed_cohort, seed_partner, seed_users_bulk, seed_workspace
from tests.support.segments import evaluate, leaf

COHORTS = ["a", "b", "c"]


@dataclass
class Seeded:
    workspace_id: str
    members: dict[str, set[str]]
    everyone: set[str]


@pytest.fixture
def seeded(session: Session) -> Seeded:
    rng = random.Random(2024)
    workspace_id = seed_workspace(session)
    seed_partner(session, "amplitude")
    names = [f"u{n:02}" for n in range(60)]
    ids = dict(zip(names, seed_users_bulk(session, workspace_id, names), strict=True))
    members: dict[str, set[str]] = {}
    for cohort_id in COHORTS:
        members[cohort_id] = {name for name in names if rng.random() < 0.4}
        member_ids = [ids[name] for name in members[cohort_id]]
        seed_cohort(session, workspace_id, "amplitude", cohort_id, name=None, members=member_ids)
    # Another workspace's users are never part of this one's segments.
    seed_users_bulk(session, seed_workspace(session, "other"), ["x1", "x2"])
    return Seeded(workspace_id, members, set(names))


filters = st.recursive(
    st.builds(
        leaf, st.sampled_from(COHORTS), st.sampled_from(["includes_value", "excludes_value"])
    ),
    lambda children: st.dictionaries(
        st.sampled_from(["and", "or"]),
        st.lists(children, min_size=1, max_size=3),
        min_size=1,
        max_size=1,
    ),
    max_leaves=10,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tree=filters)
def test_previews_match_python_sets(session: Session, seeded: Seeded, tree: dict[str, Any]) -> None:
    expected = evaluate(tree, seeded.members, seeded.everyone)
    found = segments.preview(session, seeded.workspace_id, tree)
    assert found.size == len(expected)
    assert [user["external_id"] for user in found.users] == sorted(expected)


def test_pages_walk_every_member_once(session: Session, seeded: Seeded) -> None:
    tree = {"or": [leaf("a"), leaf("b", "excludes_value")]}
    segment = segments.create_segment(session, seeded.workspace_id, "s", tree)
    walked: list[str | None] = []
    cursor = None
    while True:
        page = segments.segment_members(session, seeded.workspace_id, segment.id, 7, cursor)
        walked += [user["external_id"] for user in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert walked == sorted(evaluate(tree, seeded.members, seeded.everyone))
    assert segments.segment_size(session, seeded.workspace_id, segment.id) == len(walked)


def test_export_reads_on_its_own_session(session: Session, seeded: Seeded, engine: Engine) -> None:
    segment = segments.create_segment(
        session, seeded.workspace_id, "s", leaf("c", "excludes_value")
    )
    session.commit()  # the export reads committed data only, on a connection of its own
    batches = segments.export_members(session, engine, seeded.workspace_id, segment.id)
    exported = [user["external_id"] for batch in batches for user in batch]
    assert exported == sorted(seeded.everyone - seeded.members["c"])


def test_missing_segments_are_not_found(session: Session, seeded: Seeded) -> None:
    for call in (
        lambda: segments.get_segment(session, seeded.workspace_id, "nope"),
        lambda: segments.delete_segment(session, seeded.workspace_id, "\x00"),
        lambda: segments.segment_size(session, seeded.workspace_id, "nope"),
        lambda: segments.replace_segment(session, seeded.workspace_id, "nope", "n", leaf("a")),
    ):
        with pytest.raises(NotFound):
            call()


def test_names_and_filters_are_checked_before_anything_is_stored(
    session: Session, seeded: Seeded
) -> None:
    with pytest.raises(InvalidInput, match="name must be"):
        segments.create_segment(session, seeded.workspace_id, " ", leaf("a"))
    with pytest.raises(InvalidInput, match="unknown cohort 'zzz'"):
        segments.create_segment(session, seeded.workspace_id, "n", leaf("zzz"))
    assert segments.list_segments(session, seeded.workspace_id, None, None) == []


def test_details_describe_the_filter(session: Session, seeded: Seeded) -> None:
    tree = {"or": [leaf("a"), {"and": [leaf("b"), leaf("c", "excludes_value")]}]}
    segment = segments.create_segment(session, seeded.workspace_id, "s", tree)
    details = segments.segment_details(session, seeded.workspace_id, segment.id)
    assert details.text_description == (
        "Amplitude Cohorts includes 'a' OR "
        "(Amplitude Cohorts includes 'b' AND Amplitude Cohorts excludes 'c')"
    )
