"""Segment definitions over HTTP: create, read, replace, delete, list, details, permissions."""

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.support import Api
from tests.support.segments import Universe, leaf


@pytest.fixture
def universe(api: Api, engine: Engine) -> Universe:
    world = Universe(api)
    world.add_cohort("power", "Power users")
    world.add_cohort("churned")
    return world


def create(client: TestClient, universe: Universe, body: dict[str, Any]) -> Any:
    response = client.post("/segments", json=body, headers=universe.headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_read_replace_delete(client: TestClient, universe: Universe) -> None:
    tree = {"and": [leaf("power"), leaf("churned", "excludes_value")]}
    created = create(client, universe, {"name": "Engaged", "filter": tree})
    assert set(created) == {"id", "name", "filter", "created_at"}
    assert created["filter"] == tree
    path = f"/segments/{created['id']}"
    read = client.get(path, headers=universe.headers).json()
    assert read["name"] == "Engaged"
    assert read["analytics_tracking_enabled"] is False
    replaced = client.put(
        path,
        json={"name": "Power", "filter": leaf("power"), "analytics_tracking_enabled": True},
        headers=universe.headers,
    )
    assert replaced.status_code == 200
    assert replaced.json()["filter"] == leaf("power")
    assert replaced.json()["analytics_tracking_enabled"] is True
    assert replaced.json()["updated_at"] >= read["updated_at"]
    assert client.get(path, headers=universe.headers).json()["name"] == "Power"
    assert client.delete(path, headers=universe.headers).status_code == 204
    assert client.get(path, headers=universe.headers).status_code == 404
    assert client.delete(path, headers=universe.headers).status_code == 404


def test_filter_is_stored_normalised(client: TestClient, universe: Universe) -> None:
    given = {"or": [{"value": "power", "op": "includes_value", "filter": "amplitude_cohorts"}]}
    created = create(client, universe, {"name": "n", "filter": given})
    assert list(created["filter"]["or"][0]) == ["filter", "op", "value"]


@pytest.mark.parametrize(
    ("tree", "expected"),
    [
        (leaf("power", partner="mixpanel"), "filter.filter: unknown partner 'mixpanel'"),
        (leaf("nope"), "filter.value: unknown cohort 'nope' of partner 'amplitude'"),
        (
            {"and": [leaf("power"), leaf("power", "is_value")]},
            "filter.and[1].op: unknown operator 'is_value'",
        ),
        ({"or": [leaf("power"), {"and": [leaf("gone")]}]}, "filter.or[1].and[0].value: unknown"),
        ({"and": []}, "filter.and must be a non-empty array"),
        ({"and": [leaf("power")], "or": [leaf("power")]}, "exactly one key"),
        ("power", "filter must be an object"),
        (None, "filter must be an object"),
        ({"filter": "amplitude", "op": "includes_value", "value": "power"}, "unknown filter"),
        ({"filter": "amplitude_cohorts", "op": "includes_value"}, "lacks 'value'"),
        ({**leaf("power"), "extra": 1}, "unknown key(s) 'extra'"),
        (leaf(""), "filter.value must be a cohort id"),
        ({**leaf("power"), "value": 7}, "filter.value must be a cohort id"),
        ({**leaf("power"), "op": ["includes_value"]}, "unknown operator a array"),
    ],
)
def test_invalid_filters_are_400s_that_say_what_is_wrong(
    client: TestClient, universe: Universe, tree: Any, expected: str
) -> None:
    for method, path, body in [
        ("POST", "/segments", {"name": "n", "filter": tree}),
        ("POST", "/segments/preview", {"filter": tree}),
    ]:
        response = client.request(method, path, json=body, headers=universe.headers)
        assert response.status_code == 400, response.text
        assert expected in response.json()["message"]
    assert client.get("/segments/list", headers=universe.headers).json()["segments"] == []


def test_another_workspaces_cohort_is_unknown(
    client: TestClient, api: Api, universe: Universe, engine: Engine
) -> None:
    other = Universe(api)
    other.add_cohort("theirs")
    response = client.post(
        "/segments", json={"name": "n", "filter": leaf("theirs")}, headers=universe.headers
    )
    assert response.status_code == 400
    assert "unknown cohort 'theirs'" in response.json()["message"]


def test_absurd_depth_and_size_are_rejected(client: TestClient, universe: Universe) -> None:
    deep: dict[str, Any] = leaf("power")
    for _ in range(20):
        deep = {"and": [deep]}
    wide = {"or": [leaf("power")] * 500}
    for tree, expected in [(deep, "nested at most"), (wide, "at most 64 cohorts")]:
        response = client.post("/segments/preview", json={"filter": tree}, headers=universe.headers)
        assert response.status_code == 400
        assert expected in response.json()["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "filter": {}},
        {"name": "   ", "filter": leaf("power")},
        {"name": "x" * 256, "filter": leaf("power")},
        {"name": "a\u0000b", "filter": leaf("power")},
        {"name": 5, "filter": leaf("power")},
        {"name": None, "filter": leaf("power")},
        {"filter": leaf("power")},
        {"name": "n"},
        {"name": "n", "filter": leaf("power"), "analytics_tracking_enabled": "yes"},
        {"name": "n", "filter": leaf("power"), "description": "not stored"},
        {"name": "n", "filter": leaf("a\u0000b")},
        {"name": "n", "filter": leaf("x" * 5000)},
        {"name": "n", "filter": {**leaf("power"), "filter": "\ud800_cohorts"}},
        {"name": "n", "filter": {**leaf("power"), "op": "\u0000"}},
        {"name": "n", "filter": {"and": [leaf("power"), 12]}},
        {"name": "n", "filter": {"or": {"not": "a list"}}},
        [],
        "text",
    ],
)
def test_bad_bodies_are_400s(client: TestClient, universe: Universe, body: Any) -> None:
    # json.dumps escapes NUL and lone surrogates the way a client's JSON encoder would.
    headers = {**universe.headers, "content-type": "application/json"}
    response = client.post("/segments", content=json.dumps(body), headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["message"]


def test_lone_surrogates_in_raw_bodies_are_400s(client: TestClient, universe: Universe) -> None:
    raw = '{"name": "n", "filter": {"filter": "amplitude_cohorts", "op": "includes_value", '
    for value in ['"\\ud800"', '"a\\u0000"']:
        response = client.post(
            "/segments",
            content=raw + f'"value": {value}}}}}',
            headers={**universe.headers, "content-type": "application/json"},
        )
        assert response.status_code == 400, response.text
    missing = client.post("/segments", headers=universe.headers)
    assert missing.status_code == 400


def test_unknown_and_weird_ids_are_404s(client: TestClient, universe: Universe) -> None:
    for segment_id in ["nope", "%00", "%ED%A0%80", "x" * 3000]:
        for suffix in ["", "/size", "/users", "/export"]:
            response = client.get(f"/segments/{segment_id}{suffix}", headers=universe.headers)
            assert response.status_code == 404, (segment_id, suffix, response.text)
            assert "not found" in response.json()["message"]
    assert (
        client.get("/segments/details?segment_id=nope", headers=universe.headers).status_code == 404
    )
    assert (
        client.get("/segments/details?segment_id=%00", headers=universe.headers).status_code == 404
    )
    assert client.get("/segments/details", headers=universe.headers).status_code == 400


def test_segments_belong_to_their_workspace(
    client: TestClient, api: Api, universe: Universe, engine: Engine
) -> None:
    created = create(client, universe, {"name": "mine", "filter": leaf("power")})
    stranger = Universe(api).headers
    path = f"/segments/{created['id']}"
    for method, suffix in [("GET", ""), ("DELETE", ""), ("GET", "/size"), ("GET", "/users")]:
        assert client.request(method, path + suffix, headers=stranger).status_code == 404
    assert client.get(path + "/export", headers=stranger).status_code == 404
    replaced = client.put(path, json={"name": "x", "filter": leaf("power")}, headers=stranger)
    assert replaced.status_code == 404
    details = client.get(f"/segments/details?segment_id={created['id']}", headers=stranger)
    assert details.status_code == 404
    assert client.get("/segments/list", headers=stranger).json()["segments"] == []
    assert client.get(path, headers=universe.headers).json()["name"] == "mine"


def test_permissions(client: TestClient, api: Api, universe: Universe) -> None:
    created = create(client, universe, {"name": "s", "filter": leaf("power")})
    path = f"/segments/{created['id']}"
    reader = {
        "Authorization": f"Bearer {api.create_rest_key(universe.workspace.id, ['segments.read'])}"
    }
    manager = {
        "Authorization": f"Bearer {api.create_rest_key(universe.workspace.id, ['segments.manage'])}"
    }
    neither = {
        "Authorization": f"Bearer {api.create_rest_key(universe.workspace.id, ['cohorts.read'])}"
    }
    body = {"name": "s", "filter": leaf("power")}
    for headers in (reader, manager):
        assert client.get(path, headers=headers).status_code == 200
    for method, url, payload in [
        ("POST", "/segments", body),
        ("PUT", path, body),
        ("DELETE", path, None),
    ]:
        denied = client.request(method, url, json=payload, headers=reader)
        assert denied.status_code == 403
        assert "segments.manage" in denied.json()["message"]
    read_paths = [
        path + "/size",
        path + "/users",
        path + "/export",
        "/segments/list",
        f"/segments/details?segment_id={created['id']}",
    ]
    for url in read_paths:
        assert client.get(url, headers=reader).status_code == 200, url
        denied = client.get(url, headers=manager)
        assert denied.status_code == 403, url
        assert "segments.read" in denied.json()["message"]
    preview = client.post("/segments/preview", json={"filter": leaf("power")}, headers=manager)
    assert preview.status_code == 403
    assert client.get(path, headers=neither).status_code == 403
    assert client.get(path).status_code == 401
    assert client.put(path, json=body, headers=manager).status_code == 200
    assert client.delete(path, headers=manager).status_code == 204


def test_list_pages_of_100_by_creation(client: TestClient, universe: Universe) -> None:
    ids = [
        create(client, universe, {"name": f"s{i}", "filter": leaf("power")})["id"]
        for i in range(205)
    ]

    def page(**params: Any) -> list[dict[str, Any]]:
        response = client.get("/segments/list", params=params, headers=universe.headers)
        assert response.status_code == 200
        assert response.json()["message"] == "success"
        segments: list[dict[str, Any]] = response.json()["segments"]
        return segments

    first = page()
    assert first == page(page=0) == page(page=0, sort_direction="asc")
    assert first[0] == {"id": ids[0], "name": "s0", "analytics_tracking_enabled": False, "tags": []}
    walked = [s["id"] for p in (first, page(page=1), page(page=2)) for s in p]
    assert walked == ids
    assert [len(page(page=n)) for n in range(4)] == [100, 100, 5, 0]
    assert [s["id"] for s in page(sort_direction="desc")] == ids[::-1][:100]
    assert page(page=10**18) == []
    for bad in [{"page": -1}, {"page": "x"}, {"page": "1.5"}, {"sort_direction": "up"}]:
        response = client.get("/segments/list", params=bad, headers=universe.headers)
        assert response.status_code == 400, bad


def test_details_are_braze_compatible(client: TestClient, universe: Universe) -> None:
    tree = {"and": [leaf("power"), {"or": [leaf("churned", "excludes_value"), leaf("power")]}]}
    created = create(client, universe, {"name": "Mixed", "filter": tree})
    response = client.get(
        "/segments/details", params={"segment_id": created["id"]}, headers=universe.headers
    )
    assert response.status_code == 200
    details = response.json()
    assert set(details) == {
        "message",
        "created_at",
        "updated_at",
        "name",
        "description",
        "text_description",
        "tags",
        "teams",
        "filter",
    }
    assert details["message"] == "success"
    assert details["name"] == "Mixed"
    assert details["filter"] == tree
    assert details["tags"] == []
    assert details["teams"] == []
    assert details["text_description"] == (
        "Amplitude Cohorts includes 'Power users' AND "
        "(Amplitude Cohorts excludes 'churned' OR Amplitude Cohorts includes 'Power users')"
    )
