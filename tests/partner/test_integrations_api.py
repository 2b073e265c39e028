"""Workspace integrations and data import keys, through HTTP."""

from fastapi.testclient import TestClient

from tests.support import ADMIN_HEADERS, Api


def test_integrations_list_every_partner_with_live_key_counts(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    api.partner("amplitude")
    api.partner("mixpanel")
    api.create_data_import_key(workspace, "amplitude")
    api.create_data_import_key(workspace, "amplitude")
    response = client.get("/integrations", headers=workspace.headers)
    assert response.status_code == 200
    by_partner = {entry["partner"]: entry for entry in response.json()["integrations"]}
    assert by_partner["amplitude"] == {
        "partner": "amplitude",
        "display_name": "Amplitude",
        "enabled": True,
        "rest_endpoint": "http://kohorte.test",
        "live_keys": 2,
    }
    assert by_partner["mixpanel"]["enabled"] is False
    assert by_partner["mixpanel"]["live_keys"] == 0


def test_data_import_key_is_shown_once(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    api.partner("amplitude")
    created = client.post("/integrations/amplitude/data-import-keys", headers=workspace.headers)
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "key", "created_at", "rest_endpoint"}
    assert body["key"].startswith("kdik_")
    assert body["rest_endpoint"] == "http://kohorte.test"
    listed = client.get("/integrations/amplitude/data-import-keys", headers=workspace.headers)
    assert listed.status_code == 200
    (key,) = listed.json()["data_import_keys"]
    assert set(key) == {"id", "prefix", "created_at", "invalidated_at", "last_used_at"}
    assert key["prefix"] == body["key"][:12]
    assert body["key"] not in listed.text


def test_public_url_setting_is_the_rest_endpoint(client: TestClient, api: Api) -> None:
    client.app.state.settings = client.app.state.settings.model_copy(  # type: ignore[attr-defined]
        update={"public_url": "https://cohorts.example.com"}
    )
    workspace = api.create_workspace()
    api.partner("amplitude")
    created = client.post("/integrations/amplitude/data-import-keys", headers=workspace.headers)
    assert created.json()["rest_endpoint"] == "https://cohorts.example.com"


def test_unknown_partner_is_404(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    for method, path in [
        ("POST", "/integrations/nobody/data-import-keys"),
        ("GET", "/integrations/nobody/data-import-keys"),
        ("DELETE", "/integrations/nobody/data-import-keys/some-id"),
    ]:
        response = client.request(method, path, headers=workspace.headers)
        assert response.status_code == 404, (method, path)
        assert "nobody" in response.json()["message"]


def test_invalidated_key_is_listed_and_cannot_be_invalidated_twice(
    client: TestClient, api: Api
) -> None:
    integration = api.integration()
    headers = integration.workspace.headers
    (key,) = client.get("/integrations/amplitude/data-import-keys", headers=headers).json()[
        "data_import_keys"
    ]
    path = f"/integrations/amplitude/data-import-keys/{key['id']}"
    assert client.delete(path, headers=headers).status_code == 204
    assert client.delete(path, headers=headers).status_code == 404
    (listed,) = client.get("/integrations/amplitude/data-import-keys", headers=headers).json()[
        "data_import_keys"
    ]
    assert listed["invalidated_at"] is not None
    status = client.get("/integrations", headers=headers).json()["integrations"][0]
    assert status["enabled"] is False


def test_keys_of_another_workspace_are_invisible(client: TestClient, api: Api) -> None:
    mine = api.integration()
    theirs = api.create_workspace("other")
    (key,) = client.get(
        "/integrations/amplitude/data-import-keys", headers=mine.workspace.headers
    ).json()["data_import_keys"]
    assert client.get(
        "/integrations/amplitude/data-import-keys", headers=theirs.headers
    ).json() == {"data_import_keys": []}
    attempt = client.delete(
        f"/integrations/amplitude/data-import-keys/{key['id']}", headers=theirs.headers
    )
    assert attempt.status_code == 404


def test_workspace_api_rejects_missing_and_foreign_credentials(
    client: TestClient, api: Api
) -> None:
    assert client.get("/integrations").json() == {"message": "Missing REST API key"}
    assert client.get("/integrations").status_code == 401
    assert client.get("/integrations", headers=ADMIN_HEADERS).status_code == 401
    partner = api.partner("amplitude")
    foreign = {"Authorization": f"Bearer {partner.api_key}"}
    assert client.get("/integrations", headers=foreign).status_code == 401


def test_deleted_workspace_key_is_rejected(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    assert client.get("/integrations", headers=workspace.headers).status_code == 200
    client.delete(f"/admin/workspaces/{workspace.id}", headers=ADMIN_HEADERS)
    assert client.get("/integrations", headers=workspace.headers).status_code == 401


def test_integrations_manage_permission_is_required(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace(permissions=["cohorts.read"])
    response = client.get("/integrations", headers=workspace.headers)
    assert response.status_code == 403
    assert "integrations.manage" in response.json()["message"]
