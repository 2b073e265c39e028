"""POST /users/devices: devices seen in SDK sessions, anonymous or logged in."""

from typing import Any

from fastapi.testclient import TestClient

from tests.support import Api, WorkspaceHandle
from tests.support.users import exported, post_users, user, user_by_device


def devices(client: TestClient, workspace: WorkspaceHandle, *entries: dict[str, Any]) -> Any:
    response = post_users(client, workspace, "/users/devices", {"devices": list(entries)})
    assert response.status_code == 201, response.text
    return response.json()


def test_anonymous_device_creates_one_anonymous_user(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    result = devices(client, workspace, {"device_id": "d1"}, {"device_id": "d1"})
    assert result == {"message": "success", "devices_processed": 2}
    found = user_by_device(client, workspace, "d1")
    assert found["external_id"] is None
    assert found["devices"] == [{"device_id": "d1"}]
    devices(client, workspace, {"device_id": "d1"})
    assert user_by_device(client, workspace, "d1")["braze_id"] == found["braze_id"]


def test_logged_in_device_creates_or_joins_the_identified_user(
    client: TestClient, api: Api
) -> None:
    workspace = api.create_workspace()
    devices(client, workspace, {"device_id": "d1", "external_id": "u1"})
    devices(client, workspace, {"device_id": "d2", "external_id": "u1"})
    assert user(client, workspace, "u1")["devices"] == [{"device_id": "d1"}, {"device_id": "d2"}]


def test_login_on_an_anonymous_device_identifies_its_user(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    devices(client, workspace, {"device_id": "d1"})
    anonymous = user_by_device(client, workspace, "d1")
    devices(client, workspace, {"device_id": "d1", "external_id": "u1"})
    assert user(client, workspace, "u1")["braze_id"] == anonymous["braze_id"]


def test_login_on_an_anonymous_device_merges_into_the_existing_user(
    client: TestClient, api: Api
) -> None:
    workspace = api.create_workspace()
    api.track(workspace, "u1")
    devices(client, workspace, {"device_id": "d1"}, {"device_id": "d2"})
    anonymous = user_by_device(client, workspace, "d1")
    devices(client, workspace, {"device_id": "d1", "external_id": "u1"})
    merged = user(client, workspace, "u1")
    assert merged["devices"] == [{"device_id": "d1"}]
    assert exported(client, workspace, braze_id=anonymous["braze_id"])["users"] == []
    assert user_by_device(client, workspace, "d2")["external_id"] is None


def test_device_changes_hands_to_the_user_now_logged_in(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    devices(client, workspace, {"device_id": "shared", "external_id": "alice"})
    devices(client, workspace, {"device_id": "shared", "external_id": "bob"})
    assert user(client, workspace, "bob")["devices"] == [{"device_id": "shared"}]
    assert user(client, workspace, "alice")["devices"] == []


def test_entries_apply_in_order_within_a_request(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    api.track(workspace, "u1")
    result = devices(
        client,
        workspace,
        {"device_id": "d1"},
        {"device_id": "d1", "external_id": "u2"},
        {"device_id": "d2"},
        {"device_id": "d2", "external_id": "u2"},
        {"device_id": "d3"},
        {"device_id": "d3", "external_id": "u1"},
        {"device_id": "d1", "external_id": "u1"},
    )
    assert result["devices_processed"] == 7
    assert user(client, workspace, "u2")["devices"] == [{"device_id": "d2"}]
    assert user(client, workspace, "u1")["devices"] == [{"device_id": "d1"}, {"device_id": "d3"}]
    assert exported(client, workspace, external_ids=["u1", "u2"])["invalid_user_ids"] == []


def test_limit_and_validation(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    many = [{"device_id": f"d{i}"} for i in range(1001)]
    too_many = post_users(client, workspace, "/users/devices", {"devices": many})
    assert too_many.status_code == 400
    assert "At most 1000 devices" in too_many.json()["message"]
    for bad in [{}, {"device_id": ""}, {"device_id": 1}, {"device_id": "d", "external_id": ""}]:
        response = post_users(client, workspace, "/users/devices", {"devices": [bad]})
        assert response.status_code == 400, bad
    assert user_by_device(client, workspace, "d0") is None
    assert devices(client, workspace, *many[:1000])["devices_processed"] == 1000
