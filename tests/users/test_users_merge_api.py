"""POST /users/merge: one user merges into another, identified users included."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import Api, Integration, WorkspaceHandle
from tests.support.users import alias, exported, post_users, track, user


def merge(client: TestClient, workspace: WorkspaceHandle, *updates: dict[str, Any]) -> Any:
    response = post_users(client, workspace, "/users/merge", {"merge_updates": list(updates)})
    assert response.status_code == 202, response.text
    return response.json()


def ext(external_id: str) -> dict[str, str]:
    return {"external_id": external_id}


def pair(to_merge: dict[str, Any], to_keep: dict[str, Any]) -> dict[str, Any]:
    return {"identifier_to_merge": to_merge, "identifier_to_keep": to_keep}


def sizes_are_exact(api: Api, integration: Integration, *cohort_ids: str) -> dict[str, int]:
    """Each cohort's size, checked against its member list."""
    sizes = {}
    for cohort_id in cohort_ids:
        size = api.cohort(integration, cohort_id)["size"]
        assert size == len(api.cohort_members(integration, cohort_id)), cohort_id
        sizes[cohort_id] = size
    return sizes


def test_identified_user_merges_into_another(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    track(client, workspace, attributes=[{"external_id": "keep", "plan": "pro"}])
    track(client, workspace, attributes=[{"external_id": "gone", "plan": "free", "city": "Oslo"}])
    api.add_aliases(workspace, [{"external_id": "gone", **alias("g1")}])
    api.add_aliases(workspace, [{"external_id": "gone", **alias("g2", "email")}])
    api.add_aliases(workspace, [{"external_id": "keep", **alias("k2", "email")}])
    api.add_devices(workspace, [{"device_id": "phone", "external_id": "gone"}])
    assert merge(client, workspace, pair(ext("gone"), ext("keep"))) == {"message": "success"}
    kept = user(client, workspace, "keep")
    assert kept["custom_attributes"] == {"plan": "pro", "city": "Oslo"}
    assert sorted(a["alias_name"] for a in kept["user_aliases"]) == ["g1", "k2"]
    assert kept["devices"] == [{"device_id": "phone"}]
    assert exported(client, workspace, external_ids=["gone"])["users"] == []


def test_overlapping_cohorts_keep_exact_sizes(client: TestClient, api: Api) -> None:
    integration = api.integration()
    workspace = integration.workspace
    api.track(workspace, "a", "b", "c")
    for cohort_id in ("both", "a-only", "b-only"):
        api.expect(api.name_cohort(integration, cohort_id), 201)
    api.synced(integration, "both", {"user_ids": ["a", "b", "c"]})
    api.synced(integration, "a-only", {"user_ids": ["a"]})
    api.synced(integration, "b-only", {"user_ids": ["b"]})
    merge(client, workspace, pair(ext("a"), ext("b")))
    assert sizes_are_exact(api, integration, "both", "a-only", "b-only") == {
        "both": 2,
        "a-only": 1,
        "b-only": 1,
    }
    assert api.member_external_ids(integration, "a-only") == {"b"}


def test_a_chain_in_one_request_ends_consistent(client: TestClient, api: Api) -> None:
    integration = api.integration()
    workspace = integration.workspace
    api.track(workspace, "a", "b", "c")
    track(
        client, workspace, attributes=[{"external_id": "a", "x": 1}, {"external_id": "b", "y": 2}]
    )
    for cohort_id in ("ab", "ac", "abc"):
        api.expect(api.name_cohort(integration, cohort_id), 201)
    api.synced(integration, "ab", {"user_ids": ["a", "b"]})
    api.synced(integration, "ac", {"user_ids": ["a", "c"]})
    api.synced(integration, "abc", {"user_ids": ["a", "b", "c"]})
    merge(client, workspace, pair(ext("a"), ext("b")), pair(ext("b"), ext("c")))
    assert sizes_are_exact(api, integration, "ab", "ac", "abc") == {"ab": 1, "ac": 1, "abc": 1}
    assert {api.member_external_ids(integration, c).pop() for c in ("ab", "ac", "abc")} == {"c"}
    assert user(client, workspace, "c")["custom_attributes"] == {"x": 1, "y": 2}
    assert exported(client, workspace, external_ids=["a", "b"])["users"] == []


def test_users_named_by_alias_and_braze_id(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    api.track(workspace, "keep")
    api.add_aliases(workspace, [alias("anon-1"), alias("anon-2", "email")])
    braze_id = exported(client, workspace, user_aliases=[alias("anon-2", "email")])["users"][0][
        "braze_id"
    ]
    keep = {"braze_id": user(client, workspace, "keep")["braze_id"]}
    result = merge(
        client,
        workspace,
        pair({"user_alias": alias("anon-1")}, keep),
        pair({"braze_id": braze_id}, {"user_alias": alias("anon-1")}),
        pair({"braze_id": braze_id}, ext("keep")),
    )
    # Identifiers name the users they named when the request came: anon-1's user is gone.
    assert [e["index"] for e in result["errors"]] == [1]
    kept = user(client, workspace, "keep")
    assert sorted(a["alias_name"] for a in kept["user_aliases"]) == ["anon-1", "anon-2"]
    assert exported(client, workspace, braze_id=braze_id)["users"] == []


def test_skipped_entries_are_reported_and_the_rest_applied(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    api.track(workspace, "a", "b", "c", "d")
    result = merge(
        client,
        workspace,
        pair(ext("nobody"), ext("a")),
        pair(ext("a"), ext("nobody")),
        pair(ext("a"), ext("a")),
        pair(ext("b"), ext("a")),
        pair(ext("c"), ext("b")),
        pair(ext("b"), ext("d")),
        pair(ext("c"), ext("d")),
    )
    assert result["message"] == "success"
    assert [e["index"] for e in result["errors"]] == [0, 1, 2, 4, 5]
    messages = [e["message"] for e in result["errors"]]
    assert "identifier_to_merge" in messages[0]
    assert "identifier_to_keep" in messages[1]
    assert "same user" in messages[2]
    assert "merged away" in messages[3]
    assert "merged away" in messages[4]
    remaining = exported(client, workspace, external_ids=["a", "b", "c", "d"])["users"]
    assert {u["external_id"] for u in remaining} == {"a", "d"}


def test_at_most_50_entries(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    api.track(workspace, "a", "b")
    body = {"merge_updates": [pair(ext("a"), ext("b"))] * 51}
    response = post_users(client, workspace, "/users/merge", body)
    assert response.status_code == 400
    assert "50" in response.json()["message"]
    assert len(exported(client, workspace, external_ids=["a", "b"])["users"]) == 2


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"merge_updates": "no"},
        {"merge_updates": [{"identifier_to_merge": {"external_id": "a"}}]},
        {"merge_updates": [pair({}, ext("b"))]},
        {"merge_updates": [pair({"external_id": "a", "braze_id": "x"}, ext("b"))]},
        {"merge_updates": [pair({"external_id": ""}, ext("b"))]},
        {"merge_updates": [pair({"external_id": 7}, ext("b"))]},
        {"merge_updates": [pair({"user_alias": {"alias_name": "x"}}, ext("b"))]},
        {"merge_updates": [pair({"device_id": "d"}, ext("b"))]},
        {"merge_updates": [{**pair(ext("a"), ext("b")), "extra": 1}]},
        {"merge_updates": [pair(ext("a"), ext("b")), pair(ext("a\ud800"), ext("b"))]},
    ],
)
def test_malformed_bodies_are_400_and_change_nothing(
    client: TestClient, api: Api, body: dict[str, Any]
) -> None:
    workspace = api.create_workspace()
    api.track(workspace, "a", "b")
    response = post_users(client, workspace, "/users/merge", body)
    assert response.status_code == 400, response.text
    assert len(exported(client, workspace, external_ids=["a", "b"])["users"]) == 2


def test_a_key_without_the_permission_is_403(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    api.track(workspace, "a", "b")
    key = api.create_rest_key(workspace.id, ["users.track", "users.identify"])
    limited = WorkspaceHandle(workspace.id, key)
    response = post_users(
        client, limited, "/users/merge", {"merge_updates": [pair(ext("a"), ext("b"))]}
    )
    assert response.status_code == 403
    allowed = WorkspaceHandle(workspace.id, api.create_rest_key(workspace.id, ["users.merge"]))
    assert merge(client, allowed, pair(ext("a"), ext("b"))) == {"message": "success"}


IDENTITY_PATHS = (
    "/users/merge",
    "/users/external_ids/rename",
    "/users/external_ids/remove",
    "/users/alias/update",
)


def test_openapi_describes_every_field_of_these_bodies(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]

    def undescribed(name: str, seen: set[str]) -> list[str]:
        if name in seen:
            return []
        seen.add(name)
        missing = []
        for field, spec in schemas[name].get("properties", {}).items():
            if "description" not in spec:
                missing.append(f"{name}.{field}")
            for ref in _refs(spec):
                missing += undescribed(ref, seen)
        return missing

    for path in IDENTITY_PATHS:
        body = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        assert undescribed(body["schema"]["$ref"].rsplit("/", 1)[-1], set()) == [], path


def _refs(spec: Any) -> list[str]:
    if isinstance(spec, dict):
        own = [spec["$ref"].rsplit("/", 1)[-1]] if "$ref" in spec else []
        return own + [ref for value in spec.values() for ref in _refs(value)]
    if isinstance(spec, list):
        return [ref for value in spec for ref in _refs(value)]
    return []
