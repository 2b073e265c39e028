"""Custom-attribute leaves in segment filters, over HTTP: every operator, the typing rules, every
400, paging exactly once, exports, details, and history reads refused."""

import json
from typing import Any

import pytest

from kohorte.domain.pagination import encode_cursor
from tests.support import Api
from tests.support.segment_attributes import (
    attribute_leaf,
    evaluate_with_attributes,
    track_attributes,
)
from tests.support.segments import Universe, create_segment, external_ids, leaf

USERS: dict[str, dict[str, Any]] = {
    "int5": {"n": 5, "tags": ["a", 5, True], "name": "gold"},
    "float5": {"n": 5.0, "tags": [5.0], "name": "Gold"},
    "str5": {"n": "5", "tags": "a", "name": "5"},
    "bool": {"n": True, "tags": [["a"]], "flag": False},
    "big": {"n": 10**20, "tags": [{"a": 1}], "flag": True},
    "arr": {"n": [5], "tags": [], "name": ""},
    "obj": {"n": {"x": 5}, "odd.name": 1, 'q"x': "y"},
    "none": {},
}


@pytest.fixture
def world(api: Api) -> Universe:
    found = Universe(api)
    track_attributes(found, USERS)
    found.add_cohort("c1", "One")
    found.add_members("c1", ["int5", "str5", "big", "none"])
    return found


def size_of(world: Universe, tree: dict[str, Any]) -> int:
    segment_id = create_segment(world.api, world.workspace, tree)
    response = world.api.client.get(f"/segments/{segment_id}/size", headers=world.headers)
    return int(world.api.expect(response, 200)["size"])


def preview(world: Universe, tree: dict[str, Any]) -> set[str]:
    response = world.api.client.post(
        "/segments/preview", json={"filter": tree}, headers=world.headers
    )
    found = world.api.expect(response, 200)
    assert found["size"] == len(found["users"])
    return set(external_ids(found["users"]))


CASES = [
    (attribute_leaf("n", "equals", 5), {"int5", "float5"}),
    (attribute_leaf("n", "equals", 5.0), {"int5", "float5"}),
    (attribute_leaf("n", "equals", "5"), {"str5"}),
    (attribute_leaf("n", "equals", True), {"bool"}),
    (attribute_leaf("flag", "equals", False), {"bool"}),
    (attribute_leaf("name", "equals", "gold"), {"int5"}),
    (attribute_leaf("name", "equals", ""), {"arr"}),
    (attribute_leaf("n", "not_equals", 5), set(USERS) - {"int5", "float5"}),
    (attribute_leaf("n", "greater_than", 4), {"int5", "float5", "big"}),
    (attribute_leaf("n", "greater_than", 1e18), {"big"}),
    (attribute_leaf("n", "less_than", 5.5), {"int5", "float5"}),
    (attribute_leaf("n", "less_than", -1), set()),
    (attribute_leaf("flag", "exists"), {"bool", "big"}),
    (attribute_leaf("n", "not_exists"), {"none"}),
    (attribute_leaf("tags", "includes_value", "a"), {"int5"}),
    (attribute_leaf("tags", "includes_value", 5), {"int5", "float5"}),
    (attribute_leaf("tags", "excludes_value", 5), set(USERS) - {"int5", "float5"}),
    (attribute_leaf("odd.name", "equals", 1), {"obj"}),
    (attribute_leaf('q"x', "equals", "y"), {"obj"}),
    ({"and": [leaf("c1"), attribute_leaf("n", "equals", 5)]}, {"int5"}),
    ({"and": [leaf("c1"), attribute_leaf("n", "not_exists")]}, {"none"}),
    ({"and": [leaf("c1", "excludes_value"), attribute_leaf("n", "equals", 5)]}, {"float5"}),
    (
        {"or": [leaf("c1"), attribute_leaf("flag", "exists")]},
        {"int5", "str5", "big", "none", "bool"},
    ),
    (
        {
            "and": [
                leaf("c1"),
                {
                    "or": [
                        attribute_leaf("n", "equals", "5"),
                        attribute_leaf("n", "greater_than", 6),
                    ]
                },
            ]
        },
        {"str5", "big"},
    ),
]


@pytest.mark.parametrize(("tree", "expected"), CASES)
def test_each_operator_follows_the_typing_rules(
    world: Universe, tree: dict[str, Any], expected: set[str]
) -> None:
    # the model agrees with the table
    assert evaluate_with_attributes(tree, world.members, USERS) == expected
    assert preview(world, tree) == expected
    assert size_of(world, tree) == len(expected)


def test_pages_return_every_member_exactly_once(api: Api) -> None:
    world = Universe(api)
    users = {f"u{n:03}": {"score": n % 7, "even": n % 2 == 0} for n in range(150)}
    track_attributes(world, users)
    world.add_cohort("c1", "One")
    world.add_members("c1", [user for n, user in enumerate(users) if n % 3])
    for tree in (
        attribute_leaf("score", "greater_than", 2),
        {"and": [leaf("c1"), attribute_leaf("even", "equals", True)]},
        {"or": [leaf("c1"), attribute_leaf("score", "equals", 0)]},
    ):
        expected = evaluate_with_attributes(tree, world.members, users)
        segment_id = create_segment(api, world.workspace, tree)
        for limit in (1, 7, 1000):
            listed = external_ids(
                api.walk_pages(f"/segments/{segment_id}/users", world.headers, limit)
            )
            assert len(listed) == len(set(listed))
            assert set(listed) == expected


def test_a_page_after_a_cursor_starts_after_it(world: Universe) -> None:
    tree = {"and": [leaf("c1"), attribute_leaf("n", "exists")]}
    segment_id = create_segment(world.api, world.workspace, tree)
    path = f"/segments/{segment_id}/users"
    first = world.api.expect(
        world.api.client.get(path, params={"limit": 1}, headers=world.headers), 200
    )
    rest = world.api.walk_pages(path, world.headers, 1, {"cursor": first["next_cursor"]})
    listed = external_ids(first["users"]) + external_ids(rest)
    assert sorted(listed) == ["big", "int5", "str5"]
    beyond: dict[str, str | int] = {"limit": 10, "cursor": encode_cursor(10**12)}
    assert world.api.client.get(path, params=beyond, headers=world.headers).json()["users"] == []


def test_export_streams_every_member(world: Universe) -> None:
    tree = {"or": [attribute_leaf("tags", "includes_value", 5), leaf("c1")]}
    segment_id = create_segment(world.api, world.workspace, tree)
    response = world.api.client.get(f"/segments/{segment_id}/export", headers=world.headers)
    assert response.status_code == 200, response.text
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert sorted(external_ids(lines)) == ["big", "float5", "int5", "none", "str5"]
    assert set(lines[0]) == {"external_id", "braze_id", "user_aliases", "devices"}


def test_details_and_list_show_attribute_filters(world: Universe) -> None:
    tree = {
        "and": [
            leaf("c1"),
            attribute_leaf("name", "equals", "gold"),
            {
                "or": [
                    attribute_leaf("n", "greater_than", 2.5),
                    attribute_leaf("flag", "not_exists"),
                ]
            },
        ]
    }
    segment_id = create_segment(world.api, world.workspace, tree)
    params = {"segment_id": segment_id}
    details = world.api.client.get("/segments/details", params=params, headers=world.headers)
    body = world.api.expect(details, 200)
    assert body["filter"] == tree
    assert body["text_description"] == (
        "Amplitude Cohorts includes 'One' AND Custom Attribute 'name' equals 'gold' AND "
        "(Custom Attribute 'n' is greater than 2.5 OR Custom Attribute 'flag' does not exist)"
    )
    listed = world.api.client.get("/segments/list", headers=world.headers)
    assert [s["id"] for s in world.api.expect(listed, 200)["segments"]] == [segment_id]
    got = world.api.client.get(f"/segments/{segment_id}", headers=world.headers)
    assert world.api.expect(got, 200)["filter"] == tree


def test_a_segment_can_be_replaced_with_an_attribute_filter(world: Universe) -> None:
    segment_id = create_segment(world.api, world.workspace, leaf("c1"))
    tree = attribute_leaf("n", "equals", "5")
    body = {"name": "renamed", "filter": tree}
    replaced = world.api.client.put(f"/segments/{segment_id}", json=body, headers=world.headers)
    assert world.api.expect(replaced, 200)["filter"] == tree
    response = world.api.client.get(f"/segments/{segment_id}/size", headers=world.headers)
    assert world.api.expect(response, 200)["size"] == 1


ATTRIBUTE_IN_AND = {"and": [leaf("c1"), attribute_leaf("n", "exists")]}


def test_history_reads_of_attribute_filters_are_refused(world: Universe) -> None:
    segment_id = create_segment(world.api, world.workspace, ATTRIBUTE_IN_AND)
    as_of = {"as_of": "2020-01-01T00:00:00Z"}
    reads = [
        world.api.client.get(f"/segments/{segment_id}/size", params=as_of, headers=world.headers),
        world.api.client.get(f"/segments/{segment_id}/users", params=as_of, headers=world.headers),
        world.api.client.get(f"/segments/{segment_id}/export", params=as_of, headers=world.headers),
        world.api.client.post(
            "/segments/preview",
            json={"filter": ATTRIBUTE_IN_AND, "as_of": "2020-01-01T00:00:00Z"},
            headers=world.headers,
        ),
    ]
    for response in reads:
        assert response.status_code == 400, response.text
    message = reads[0].json()["message"]
    assert message.startswith("filter.and[1]: custom attributes keep no history")


def test_data_series_is_reachable_and_refuses_attribute_filters(world: Universe) -> None:
    cohorts_only = create_segment(world.api, world.workspace, leaf("c1"))
    with_attributes = create_segment(world.api, world.workspace, ATTRIBUTE_IN_AND)
    params = {"segment_id": cohorts_only, "length": "2"}
    series = world.api.client.get("/segments/data_series", params=params, headers=world.headers)
    body = world.api.expect(series, 200)
    assert body["message"] == "success"
    assert [p["size"] for p in body["data"]][-1] == 4
    params["segment_id"] = with_attributes
    refused = world.api.client.get("/segments/data_series", params=params, headers=world.headers)
    assert refused.status_code == 400
    assert refused.json()["message"] == (
        "filter.and[1]: custom attributes keep no history, so a segment filter that tests one "
        "has no data series"
    )
    unknown = {"segment_id": "nope", "length": "2"}
    missing = world.api.client.get("/segments/data_series", params=unknown, headers=world.headers)
    assert missing.status_code == 404


def test_cohort_only_segments_still_read_history(world: Universe) -> None:
    segment_id = create_segment(world.api, world.workspace, leaf("c1"))
    params = {"as_of": "2999-01-01T00:00:00Z"}
    future = world.api.client.get(
        f"/segments/{segment_id}/size", params=params, headers=world.headers
    )
    assert future.status_code == 400
    assert "future" in future.json()["message"]
