"""Every 400 of a custom-attribute leaf: it names the place in the filter, and changes nothing."""
# ruff: noqa: E501 (a table of messages, one error a line)

import json
from typing import Any

import pytest

from kohorte.domain.errors import InvalidInput
from kohorte.domain.segments.filters import filter_json, parse_filter
from tests.support import Api
from tests.support.segment_attributes import attribute_leaf
from tests.support.segments import leaf

NESTED = "filter.and[1]"
ERRORS: list[tuple[dict[str, Any], str]] = [
    ({"filter": "custom_attribute", "op": "exists"}, f"{NESTED} lacks 'attribute'"),
    ({"filter": "custom_attribute", "attribute": "a"}, f"{NESTED} lacks 'op'"),
    (attribute_leaf("", "exists"), f"{NESTED}.attribute must be a custom attribute name"),
    (attribute_leaf(" ", "exists"), f"{NESTED}.attribute must be a custom attribute name"),
    (attribute_leaf(5, "exists"), f"{NESTED}.attribute must be a custom attribute name"),
    (attribute_leaf("a" * 256, "exists"), f"{NESTED}.attribute must be a custom attribute name"),
    (attribute_leaf("a\x00", "exists"), f"{NESTED}.attribute must be a custom attribute name"),
    (attribute_leaf("a", "contains", "x"), f"{NESTED}.op: unknown custom attribute operator"),
    (attribute_leaf("a", None, "x"), f"{NESTED}.op: unknown custom attribute operator"),
    (attribute_leaf("a", "exists", True), f"{NESTED}.value: 'exists' takes no value"),
    (attribute_leaf("a", "not_exists", None), f"{NESTED}.value: 'not_exists' takes no value"),
    (attribute_leaf("a", "equals"), f"{NESTED} lacks 'value': 'equals' takes a string, a number or a boolean"),
    (attribute_leaf("a", "equals", None), f"{NESTED}.value: 'equals' takes a string, a number or a boolean, not a null"),
    (attribute_leaf("a", "not_equals", [1]), f"{NESTED}.value: 'not_equals' takes a string, a number or a boolean, not an array"),
    (attribute_leaf("a", "equals", {"x": 1}), "not an object"),
    (attribute_leaf("a", "greater_than", "5"), f"{NESTED}.value: 'greater_than' takes a number, not a string"),
    (attribute_leaf("a", "less_than", True), f"{NESTED}.value: 'less_than' takes a number, not a boolean"),
    (attribute_leaf("a", "includes_value", True), f"{NESTED}.value: 'includes_value' takes a string or a number, not a boolean"),
    (attribute_leaf("a", "excludes_value", ["x"]), "'excludes_value' takes a string or a number, not an array"),
    (attribute_leaf("a", "equals", 10**19), f"{NESTED}.value: numbers in filters must be finite and at most 1e18"),
    (attribute_leaf("a", "greater_than", -1e19), "at most 1e18"),
    (attribute_leaf("a", "equals", 10**400), "at most 1e18"),
    (attribute_leaf("a", "equals", float("nan")), "must be finite"),
    (attribute_leaf("a", "less_than", float("-inf")), "must be finite"),
    (attribute_leaf("a", "equals", "\ud800"), f"{NESTED}.value: strings may not hold NUL"),
    ({**attribute_leaf("a", "exists"), "cohort": "x"}, f"{NESTED} has unknown key(s) 'cohort'"),
    ({"filter": "custom_attributes", "attribute": "a", "op": "exists"}, "unknown key(s) 'attribute'"),
]  # fmt: skip


@pytest.mark.parametrize(("bad", "message"), ERRORS)
def test_a_bad_leaf_is_a_400_naming_its_place(api: Api, bad: dict[str, Any], message: str) -> None:
    workspace = api.create_workspace()
    integration = api.integration(workspace)
    api.synced(integration, "c1", {"user_ids": ["nobody"]})
    tree = {"and": [leaf("c1"), bad]}
    # Sent as text: JSON escapes can carry lone surrogates, and Python's json writes NaN.
    headers = {**workspace.headers, "Content-Type": "application/json"}
    created = api.client.post(
        "/segments", content=json.dumps({"name": "s", "filter": tree}), headers=headers
    )
    previewed = api.client.post(
        "/segments/preview", content=json.dumps({"filter": tree}), headers=headers
    )
    for response in (created, previewed):
        assert response.status_code == 400, response.text
        assert message in response.json()["message"]
    listed = api.client.get("/segments/list", headers=workspace.headers)
    assert api.expect(listed, 200)["segments"] == []


def test_a_bad_leaf_leaves_a_segment_unchanged(api: Api) -> None:
    workspace = api.create_workspace()
    good = attribute_leaf("a", "exists")
    created = api.client.post(
        "/segments", json={"name": "s", "filter": good}, headers=workspace.headers
    )
    segment_id = api.expect(created, 201)["id"]
    bad = {"name": "t", "filter": attribute_leaf("a", "greater_than", "x")}
    replaced = api.client.put(f"/segments/{segment_id}", json=bad, headers=workspace.headers)
    assert replaced.status_code == 400
    assert replaced.json()["message"].startswith("filter.value: 'greater_than' takes a number")
    got = api.expect(api.client.get(f"/segments/{segment_id}", headers=workspace.headers), 200)
    assert (got["name"], got["filter"]) == ("s", good)


def test_a_leaf_is_stored_as_sent_without_a_value_for_exists() -> None:
    for tree in (
        attribute_leaf("a", "exists"),
        attribute_leaf("a.b", "equals", 2.5),
        attribute_leaf("a", "includes_value", -3),
        {"or": [attribute_leaf("a", "equals", False), leaf("c")]},
    ):
        assert filter_json(parse_filter(tree)) == tree


def test_attribute_leaves_count_toward_the_bound_on_leaves() -> None:
    with pytest.raises(InvalidInput, match="at most 64 cohorts and attributes"):
        parse_filter({"or": [attribute_leaf("a", "exists")] * 65})


def test_unknown_filter_names_both_kinds() -> None:
    with pytest.raises(InvalidInput, match="attribute filters 'custom_attribute'"):
        parse_filter({"filter": "x", "op": "equals", "value": 1})
