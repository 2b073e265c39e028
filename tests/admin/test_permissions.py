"""Every workspace endpoint checks its permission; a key without it gets a 403 naming it."""

import pytest
from fastapi.testclient import TestClient

from kohorte.domain.permissions import Permission
from tests.support import Api

ENDPOINTS: list[tuple[str, str, Permission]] = [
    ("GET", "/integrations", Permission.INTEGRATIONS_MANAGE),
    ("POST", "/integrations/amplitude/data-import-keys", Permission.INTEGRATIONS_MANAGE),
    ("GET", "/integrations/amplitude/data-import-keys", Permission.INTEGRATIONS_MANAGE),
    ("DELETE", "/integrations/amplitude/data-import-keys/x", Permission.INTEGRATIONS_MANAGE),
    ("POST", "/users/track", Permission.USERS_TRACK),
    ("POST", "/users/devices", Permission.USERS_TRACK),
    ("POST", "/users/identify", Permission.USERS_IDENTIFY),
    ("POST", "/users/alias/new", Permission.USERS_ALIAS_NEW),
    ("POST", "/users/delete", Permission.USERS_DELETE),
    ("POST", "/users/export/ids", Permission.USERS_EXPORT_IDS),
    ("POST", "/users/import", Permission.USERS_IMPORT),
    ("GET", "/cohorts", Permission.COHORTS_READ),
    ("GET", "/cohorts/amplitude/some/cohort", Permission.COHORTS_READ),
    ("GET", "/cohorts/amplitude/some/cohort/users", Permission.COHORTS_READ),
    ("POST", "/segments", Permission.SEGMENTS_MANAGE),
    ("PUT", "/segments/x", Permission.SEGMENTS_MANAGE),
    ("DELETE", "/segments/x", Permission.SEGMENTS_MANAGE),
    ("GET", "/segments/x/size", Permission.SEGMENTS_READ),
    ("GET", "/segments/x/users", Permission.SEGMENTS_READ),
    ("GET", "/segments/x/export", Permission.SEGMENTS_READ),
    ("POST", "/segments/preview", Permission.SEGMENTS_READ),
    ("GET", "/segments/list", Permission.SEGMENTS_READ),
    ("GET", "/segments/details?segment_id=x", Permission.SEGMENTS_READ),
    ("GET", "/usage", Permission.USAGE_READ),
]


@pytest.mark.parametrize(("method", "path", "permission"), ENDPOINTS)
def test_missing_permission_is_403_naming_it(
    client: TestClient, api: Api, method: str, path: str, permission: Permission
) -> None:
    api.partner("amplitude")
    others = [p.value for p in Permission if p is not permission]
    workspace = api.create_workspace(permissions=others)
    response = client.request(method, path, headers=workspace.headers, json={})
    assert response.status_code == 403, response.text
    assert permission.value in response.json()["message"]


@pytest.mark.parametrize(("method", "path", "permission"), ENDPOINTS)
def test_the_permission_alone_passes_the_check(
    client: TestClient, api: Api, method: str, path: str, permission: Permission
) -> None:
    api.partner("amplitude")
    workspace = api.create_workspace(permissions=[permission.value])
    response = client.request(method, path, headers=workspace.headers, json={})
    assert response.status_code not in (401, 403, 405), response.text


def test_get_segment_accepts_either_segment_permission(client: TestClient, api: Api) -> None:
    for permission in (Permission.SEGMENTS_READ, Permission.SEGMENTS_MANAGE):
        workspace = api.create_workspace(permissions=[permission.value])
        response = client.get("/segments/missing", headers=workspace.headers)
        assert response.status_code == 404, response.text
    workspace = api.create_workspace(permissions=[Permission.COHORTS_READ.value])
    assert client.get("/segments/missing", headers=workspace.headers).status_code == 403
