"""POST /users/delete and POST /users/export/ids."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import Api, Integration, WorkspaceHandle
from tests.support.users import alias, exported, post_users, user


def delete(client: TestClient, workspace: WorkspaceHandle, **body: Any) -> Any:
    response = post_users(client, workspace, "/users/delete", body)
    assert response.status_code == 201, response.text
    return response.json()


def people(api: Api) -> Integration:
    integration = api.integration()
    workspace = integration.workspace
    api.track(workspace, "u1", "u2", "u3")
    api.add_aliases(workspace, [{"external_id": "u2", **alias("a2")}, alias("alias-only")])
    api.add_devices(workspace, [{"device_id": "d-anon"}, {"device_id": "d3", "external_id": "u3"}])
    return integration


@pytest.mark.parametrize(
    ("body", "gone"),
    [
        ({"external_ids": ["u1", "ghost", "u1"]}, "u1"),
        ({"user_aliases": [alias("a2"), alias("ghost")]}, "u2"),
        ({"device_ids": ["d3", "ghost"]}, "u3"),
    ],
)
def test_delete_by_each_identifier_kind(
    client: TestClient, api: Api, body: dict[str, Any], gone: str
) -> None:
    workspace = people(api).workspace
    assert delete(client, workspace, **body) == {"message": "success", "deleted": 1}
    remaining = exported(client, workspace, external_ids=["u1", "u2", "u3"])
    assert remaining["invalid_user_ids"] == [gone]
    assert delete(client, workspace, **body)["deleted"] == 0


def test_delete_by_braze_id_and_of_anonymous_users(client: TestClient, api: Api) -> None:
    workspace = people(api).workspace
    braze_id = user(client, workspace, "u1")["braze_id"]
    assert delete(client, workspace, braze_ids=[braze_id, "nope"])["deleted"] == 1
    assert delete(client, workspace, device_ids=["d-anon"])["deleted"] == 1
    assert delete(client, workspace, user_aliases=[alias("alias-only")])["deleted"] == 1
    assert exported(client, workspace, device_id="d-anon")["users"] == []


def test_delete_drops_memberships_and_recounts_sizes(client: TestClient, api: Api) -> None:
    integration = people(api)
    change = {"user_ids": ["u1", "u2"], "device_ids": ["d-anon"]}
    assert api.sync(integration, "c1", [change]).status_code == 201
    assert api.sync(integration, "c2", [{"user_ids": ["u1"]}]).status_code == 201
    delete(client, integration.workspace, external_ids=["u1"])
    assert api.cohort(integration, "c1")["size"] == 2
    assert api.cohort(integration, "c2")["size"] == 0
    assert api.member_external_ids(integration, "c1") == {"u2", None}


def test_delete_needs_exactly_one_kind_and_at_most_50(client: TestClient, api: Api) -> None:
    workspace = people(api).workspace
    for body in [{}, {"external_ids": ["u1"], "braze_ids": ["x"]}, {"external_ids": "u1"}]:
        response = post_users(client, workspace, "/users/delete", body)
        assert response.status_code == 400, body
    too_many = post_users(client, workspace, "/users/delete", {"external_ids": ["u1"] * 51})
    assert too_many.status_code == 400
    assert "At most 50" in too_many.json()["message"]
    bad = post_users(client, workspace, "/users/delete", {"external_ids": ["u1", "\ud800"]})
    assert bad.status_code == 400
    assert delete(client, workspace, external_ids=["u1"] * 50)["deleted"] == 1


def test_delete_stays_in_its_workspace(client: TestClient, api: Api) -> None:
    workspace = people(api).workspace
    other = api.create_workspace("other")
    assert delete(client, other, external_ids=["u1"])["deleted"] == 0
    assert user(client, workspace, "u1")["external_id"] == "u1"


def test_export_shape(client: TestClient, api: Api) -> None:
    integration = people(api)
    workspace = integration.workspace
    api.name_cohort(integration, "c1", name="Buyers")
    api.sync(integration, "c1", [{"user_ids": ["u3"]}])
    api.sync(integration, "c0", [{"user_ids": ["u3"]}])
    post_users(
        client, workspace, "/users/track", {"attributes": [{"external_id": "u3", "vip": True}]}
    )
    result = exported(client, workspace, external_ids=["u3"])
    assert result == {
        "message": "success",
        "users": [
            {
                "external_id": "u3",
                "braze_id": result["users"][0]["braze_id"],
                "user_aliases": [],
                "devices": [{"device_id": "d3"}],
                "cohorts": [
                    {"partner": "amplitude", "cohort_id": "c0", "name": None},
                    {"partner": "amplitude", "cohort_id": "c1", "name": "Buyers"},
                ],
                "custom_attributes": {"vip": True},
            }
        ],
        "invalid_user_ids": [],
    }


def test_export_by_each_identifier_and_invalid_ones(client: TestClient, api: Api) -> None:
    workspace = people(api).workspace
    braze_id = user(client, workspace, "u1")["braze_id"]
    result = exported(
        client,
        workspace,
        external_ids=["u1", "ghost"],
        user_aliases=[alias("a2"), alias("nobody")],
        device_id="d-anon",
        braze_id=braze_id,
    )
    assert [u["external_id"] for u in result["users"]] == ["u1", "u2", None]
    assert result["invalid_user_ids"] == ["ghost", alias("nobody")]
    assert exported(client, workspace, device_id="d-none")["invalid_user_ids"] == ["d-none"]


def test_export_limits_and_validation(client: TestClient, api: Api) -> None:
    workspace = people(api).workspace
    ids = [f"u{i}" for i in range(26)]
    aliases = [alias(f"a{i}") for i in range(25)]
    too_many = post_users(
        client, workspace, "/users/export/ids", {"external_ids": ids, "user_aliases": aliases}
    )
    assert too_many.status_code == 400
    assert "At most 50" in too_many.json()["message"]
    body = {"external_ids": ids[:25], "user_aliases": aliases}
    assert len(exported(client, workspace, **body)["users"]) == 3
    for bad in [{}, {"external_ids": [""]}, {"device_id": 3}, {"user_aliases": ["x"]}]:
        response = post_users(client, workspace, "/users/export/ids", bad)
        assert response.status_code == 400, bad
