"""Instance admin API: workspaces, REST API keys and partners, through HTTP."""

from fastapi.testclient import TestClient

from tests.support import ADMIN_HEADERS, Api, bearer


def test_workspace_lifecycle(client: TestClient) -> None:
    created = client.post("/admin/workspaces", json={"name": "Acme"}, headers=ADMIN_HEADERS)
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "name", "created_at"}
    listed = client.get("/admin/workspaces", headers=ADMIN_HEADERS).json()["workspaces"]
    assert [w["id"] for w in listed] == [body["id"]]
    assert (
        client.delete(f"/admin/workspaces/{body['id']}", headers=ADMIN_HEADERS).status_code == 204
    )
    assert client.get("/admin/workspaces", headers=ADMIN_HEADERS).json() == {"workspaces": []}
    missing = client.delete(f"/admin/workspaces/{body['id']}", headers=ADMIN_HEADERS)
    assert missing.status_code == 404
    assert "not found" in missing.json()["message"]


def test_admin_requires_the_admin_token(client: TestClient, api: Api) -> None:
    assert client.get("/admin/workspaces").status_code == 401
    assert client.get("/admin/workspaces", headers=bearer("wrong")).json() == {
        "message": "Invalid admin token"
    }
    workspace = api.create_workspace()
    # A REST key is never accepted in place of the admin token.
    assert client.get("/admin/workspaces", headers=workspace.headers).status_code == 401


def test_rest_key_is_shown_once_and_listed_without_material(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    issued = client.post(
        f"/admin/workspaces/{workspace.id}/api-keys",
        json={"name": "ci", "permissions": ["cohorts.read"]},
        headers=ADMIN_HEADERS,
    ).json()
    assert issued["key"].startswith("krest_")
    assert issued["permissions"] == ["cohorts.read"]
    listed = client.get(f"/admin/workspaces/{workspace.id}/api-keys", headers=ADMIN_HEADERS)
    keys = listed.json()["api_keys"]
    assert len(keys) == 2
    assert all("key" not in key for key in keys)
    assert issued["key"] not in listed.text
    assert {key["prefix"] for key in keys} == {workspace.rest_key[:12], issued["key"][:12]}


def test_unknown_permission_is_rejected(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    response = client.post(
        f"/admin/workspaces/{workspace.id}/api-keys",
        json={"name": "ci", "permissions": ["users.fly"]},
        headers=ADMIN_HEADERS,
    )
    assert response.status_code == 400
    assert "users.fly" in response.json()["message"]


def test_revoked_rest_key_is_rejected_on_the_next_request(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    assert client.get("/integrations", headers=workspace.headers).status_code == 200
    key_id = client.get(f"/admin/workspaces/{workspace.id}/api-keys", headers=ADMIN_HEADERS).json()[
        "api_keys"
    ][0]["id"]
    revoke = client.delete(
        f"/admin/workspaces/{workspace.id}/api-keys/{key_id}", headers=ADMIN_HEADERS
    )
    assert revoke.status_code == 204
    assert client.get("/integrations", headers=workspace.headers).status_code == 401


def test_partner_names_are_validated_and_unique(client: TestClient) -> None:
    for bad in ["Amplitude", "-x", "", "a b", "ä"]:
        response = client.post("/admin/partners", json={"name": bad}, headers=ADMIN_HEADERS)
        assert response.status_code == 400, bad
    first = client.post("/admin/partners", json={"name": "amplitude"}, headers=ADMIN_HEADERS)
    assert first.status_code == 201
    assert set(first.json()) == {"name", "display_name", "partner_api_key", "key_id"}
    again = client.post("/admin/partners", json={"name": "amplitude"}, headers=ADMIN_HEADERS)
    assert again.status_code == 409


def test_partner_keys_can_be_added_and_revoked(client: TestClient) -> None:
    client.post(
        "/admin/partners",
        json={"name": "mixpanel", "display_name": "Mixpanel"},
        headers=ADMIN_HEADERS,
    )
    extra = client.post("/admin/partners/mixpanel/api-keys", headers=ADMIN_HEADERS)
    assert extra.status_code == 201
    assert extra.json()["partner_api_key"].startswith("kpart_")
    listed = client.get("/admin/partners", headers=ADMIN_HEADERS).json()["partners"]
    assert listed[0]["display_name"] == "Mixpanel"
    assert len(listed[0]["api_keys"]) == 2
    revoke = client.delete(
        f"/admin/partners/mixpanel/api-keys/{extra.json()['id']}", headers=ADMIN_HEADERS
    )
    assert revoke.status_code == 204
    keys = client.get("/admin/partners", headers=ADMIN_HEADERS).json()["partners"][0]["api_keys"]
    assert sum(key["revoked_at"] is not None for key in keys) == 1
    assert client.post("/admin/partners/nobody/api-keys", headers=ADMIN_HEADERS).status_code == 404


def test_malformed_admin_bodies_are_400(client: TestClient) -> None:
    for body in [b"not json", b"[]", b'{"name": 5}', b"{}"]:
        response = client.post(
            "/admin/workspaces",
            content=body,
            headers={**ADMIN_HEADERS, "Content-Type": "application/json"},
        )
        assert response.status_code == 400, body
        assert set(response.json()) <= {"message", "errors"}
