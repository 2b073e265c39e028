"""Each users endpoint needs its own permission; a key without it gets a 403 naming it."""

import pytest
from fastapi.testclient import TestClient

from kohorte.domain.permissions import Permission
from tests.support import Api
from tests.support.users import exported

ENDPOINTS = [
    ("/users/track", Permission.USERS_TRACK, {"attributes": [{"external_id": "u"}]}),
    ("/users/devices", Permission.USERS_TRACK, {"devices": [{"device_id": "d"}]}),
    ("/users/identify", Permission.USERS_IDENTIFY, {"aliases_to_identify": []}),
    ("/users/alias/new", Permission.USERS_ALIAS_NEW, {"user_aliases": []}),
    ("/users/delete", Permission.USERS_DELETE, {"external_ids": ["u"]}),
    ("/users/export/ids", Permission.USERS_EXPORT_IDS, {"external_ids": ["u"]}),
]


@pytest.mark.parametrize(("path", "permission", "body"), ENDPOINTS)
def test_the_permission_is_needed_and_enough(
    client: TestClient, api: Api, path: str, permission: Permission, body: object
) -> None:
    workspace = api.create_workspace()
    others = [p.value for p in Permission if p is not permission]
    without = api.create_rest_key(workspace.id, others)
    denied = client.post(path, json=body, headers={"Authorization": f"Bearer {without}"})
    assert denied.status_code == 403
    assert permission.value in denied.json()["message"]
    assert exported(client, workspace, external_ids=["u"])["users"] == []
    only = api.create_rest_key(workspace.id, [permission.value])
    allowed = client.post(path, json=body, headers={"Authorization": f"Bearer {only}"})
    assert allowed.status_code == 201, allowed.text


def test_import_needs_its_permission(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    others = [p.value for p in Permission if p is not Permission.USERS_IMPORT]
    without = api.create_rest_key(workspace.id, others)
    headers = {"Authorization": f"Bearer {without}"}
    denied = client.post("/users/import", content=b'{"external_id": "u"}', headers=headers)
    assert denied.status_code == 403
    assert "users.import" in denied.json()["message"]
    assert exported(client, workspace, external_ids=["u"])["users"] == []


@pytest.mark.parametrize("path", [path for path, _, _ in ENDPOINTS] + ["/users/import"])
def test_users_endpoints_need_a_rest_key(client: TestClient, path: str) -> None:
    response = client.post(path, json={})
    assert response.status_code == 401
    assert response.json()["message"] == "Missing REST API key"


@pytest.mark.parametrize("path", [path for path, _, _ in ENDPOINTS])
def test_missing_body_is_400(client: TestClient, api: Api, path: str) -> None:
    workspace = api.create_workspace()
    response = client.post(path, headers=workspace.headers)
    assert response.status_code == 400
    assert response.json()["message"]
