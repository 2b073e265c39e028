"""Random users with random attributes of mixed types, random cohorts and random filters of
cohort and attribute leaves: size, member pages and export against the Python model, on both
stores."""

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import Api
from tests.support.segment_attributes import (
    attribute_leaf,
    evaluate_with_attributes,
    track_attributes,
)
from tests.support.segments import Universe, create_segment, external_ids, leaf

NAMES = ["plan", "n", "a.b", 'q"x', "é ü", "tags"]
STRINGS = st.sampled_from(["", "gold", "Gold", "5", "true", "é", 'a"b\\c'])
NUMBERS = st.one_of(
    # Filters take numbers up to 1e18 in magnitude (larger ones are a 400); stored ones are any.
    st.sampled_from([0, 5, 5.0, -3, 2.5, 0.1, 10**18, -(10**18), 1e18]),
    st.integers(-10, 10),
    st.floats(-1e6, 1e6, allow_nan=False),
)
SCALARS = st.one_of(STRINGS, NUMBERS, st.booleans())
STORED = st.one_of(
    SCALARS,
    st.sampled_from([10**20, 2**62]),
    st.lists(st.one_of(SCALARS, st.lists(SCALARS, max_size=2)), max_size=4),
    st.dictionaries(st.sampled_from(["x", "n"]), SCALARS, min_size=1, max_size=2),
)
USERS = st.lists(
    st.dictionaries(st.sampled_from(NAMES), STORED, max_size=4), min_size=1, max_size=14
)
VALUES = {
    "equals": SCALARS,
    "not_equals": SCALARS,
    "greater_than": NUMBERS,
    "less_than": NUMBERS,
    "includes_value": st.one_of(STRINGS, NUMBERS),
    "excludes_value": st.one_of(STRINGS, NUMBERS),
}


@st.composite
def attribute_leaves(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(st.sampled_from(NAMES))
    op = draw(st.sampled_from([*VALUES, "exists", "not_exists"]))
    if op in VALUES:
        return attribute_leaf(name, op, draw(VALUES[op]))
    return attribute_leaf(name, op)


cohort_leaves = st.builds(
    leaf, st.sampled_from(["c1", "c2"]), st.sampled_from(["includes_value", "excludes_value"])
)
FILTERS = st.recursive(
    st.one_of(attribute_leaves(), cohort_leaves),
    lambda children: st.dictionaries(
        st.sampled_from(["and", "or"]),
        st.lists(children, min_size=1, max_size=3),
        min_size=1,
        max_size=1,
    ),
    max_leaves=6,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    users=USERS,
    members=st.lists(st.tuples(st.booleans(), st.booleans()), min_size=14, max_size=14),
    trees=st.lists(FILTERS, min_size=1, max_size=4),
    limit=st.integers(1, 5),
)
def test_segments_match_the_model(
    api: Api,
    users: list[dict[str, Any]],
    members: list[tuple[bool, bool]],
    trees: list[dict[str, Any]],
    limit: int,
) -> None:
    world = Universe(api)  # a workspace of its own for every example
    attributes = {f"u{n:02}": found for n, found in enumerate(users)}
    track_attributes(world, attributes)
    for index, cohort_id in enumerate(["c1", "c2"]):
        world.add_cohort(cohort_id, cohort_id.upper())
        world.add_members(cohort_id, [u for n, u in enumerate(attributes) if members[n][index]])
    for tree in trees:
        expected = evaluate_with_attributes(tree, world.members, attributes)
        segment_id = create_segment(api, world.workspace, tree)
        size = api.client.get(f"/segments/{segment_id}/size", headers=world.headers)
        assert api.expect(size, 200)["size"] == len(expected), tree
        listed = external_ids(api.walk_pages(f"/segments/{segment_id}/users", world.headers, limit))
        assert len(listed) == len(set(listed)), tree
        assert set(listed) == expected, tree
        export = api.client.get(f"/segments/{segment_id}/export", headers=world.headers)
        lines = [json.loads(line) for line in export.text.splitlines()]
        assert sorted(external_ids(lines)) == sorted(expected), tree
