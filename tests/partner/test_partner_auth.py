"""Partner credentials: messages, their order, and keys that stop working."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import ADMIN_HEADERS, Api, Integration
from tests.support.partner import (
    changes_body,
    cohort_ids,
    cohorts_path,
    message,
    name_body,
    post_partner,
    users_path,
)

INVALID_PARTNER_KEY = "Invalid Partner API key"
INVALID_CLIENT_SECRET = "Invalid client secret"


def both_endpoints(integration: Integration, **override: Any) -> list[tuple[str, dict[str, Any]]]:
    return [
        (users_path(integration), {**changes_body(integration, "c1", []), **override}),
        (cohorts_path(integration), {**name_body(integration), **override}),
    ]


def test_valid_credentials_pass(api: Api, integration: Integration) -> None:
    for path, body in both_endpoints(integration):
        assert post_partner(api, path, body).status_code == 201


@pytest.mark.parametrize(
    "bad_key", [None, "", "kpart_nope", 42, ["x"], {"k": "v"}, "\ud800", "a\x00"]
)
def test_invalid_partner_api_key(api: Api, integration: Integration, bad_key: object) -> None:
    for path, body in both_endpoints(integration, partner_api_key=bad_key):
        response = post_partner(api, path, body)
        assert response.status_code == 401
        assert response.json() == {"message": INVALID_PARTNER_KEY}
        assert "x-ratelimit-limit" not in response.headers


def test_missing_partner_api_key(api: Api, integration: Integration) -> None:
    for path, body in both_endpoints(integration):
        del body["partner_api_key"]
        assert message(post_partner(api, path, body)) == INVALID_PARTNER_KEY


@pytest.mark.parametrize("bad_secret", [None, "", "kdik_nope", 7, False, "\ud800"])
def test_invalid_client_secret(api: Api, integration: Integration, bad_secret: object) -> None:
    for path, body in both_endpoints(integration, client_secret=bad_secret):
        response = post_partner(api, path, body)
        assert response.status_code == 401
        assert response.json() == {"message": INVALID_CLIENT_SECRET}


def test_missing_client_secret(api: Api, integration: Integration) -> None:
    for path, body in both_endpoints(integration):
        del body["client_secret"]
        assert message(post_partner(api, path, body)) == INVALID_CLIENT_SECRET


def test_partner_key_of_another_partner_is_invalid(api: Api, integration: Integration) -> None:
    other = api.partner("mixpanel")
    for path, body in both_endpoints(integration, partner_api_key=other.api_key):
        assert message(post_partner(api, path, body)) == INVALID_PARTNER_KEY


def test_unknown_partner_in_path(api: Api, integration: Integration) -> None:
    body = changes_body(integration, "c1", [])
    for partner in ["nobody", "Amplitude", "x y", "%C3%A9"]:
        response = post_partner(api, f"/partners/{partner}/cohorts/users", body)
        assert response.status_code == 401, partner
        assert message(response) == INVALID_PARTNER_KEY


def test_secret_of_another_partners_integration_is_not_enabled(api: Api) -> None:
    amplitude = api.integration(partner="amplitude")
    mixpanel_secret = api.create_data_import_key(amplitude.workspace, api.partner("mixpanel").name)
    for path, body in both_endpoints(amplitude, client_secret=mixpanel_secret):
        response = post_partner(api, path, body)
        assert response.status_code == 401
        assert response.json() == {
            "message": f"Partner not enabled for client with client secret: {mixpanel_secret}"
        }


def test_credentials_are_checked_before_fields_in_order(api: Api, integration: Integration) -> None:
    other_secret = api.create_data_import_key(integration.workspace, api.partner("heap").name)
    broken = {"cohort_id": 5, "cohort_changes": "nope", "name": "", "created_at": "never"}
    path = users_path(integration)
    assert message(post_partner(api, path, {**broken, "client_secret": "x"})) == INVALID_PARTNER_KEY
    with_key = {**broken, "partner_api_key": integration.partner.api_key}
    assert (
        message(post_partner(api, path, {**with_key, "client_secret": "x"}))
        == INVALID_CLIENT_SECRET
    )
    assert message(post_partner(api, path, {**with_key, "client_secret": other_secret})).startswith(
        "Partner not enabled"
    )
    assert message(
        post_partner(api, path, {**with_key, "client_secret": integration.client_secret})
    ) == ("cohort_id must be a valid string")


@pytest.mark.parametrize(
    "raw", [b"", b"[]", b"null", b'"text"', b"12", b"{", b"\xff\xfe", b"[" * 5000]
)
def test_body_that_is_not_a_json_object(
    client: TestClient, integration: Integration, raw: bytes
) -> None:
    for path in (users_path(integration), cohorts_path(integration)):
        response = client.post(path, content=raw, headers={"Content-Type": "application/json"})
        assert response.status_code == 400
        assert response.json() == {"message": "Request body must be a JSON object"}


def test_invalidated_data_import_key_is_rejected_on_the_next_request(
    api: Api, client: TestClient, integration: Integration
) -> None:
    body = changes_body(integration, "c1", [])
    assert post_partner(api, users_path(integration), body).status_code == 201
    keys_path = f"/integrations/{integration.partner.name}/data-import-keys"
    key_id = client.get(keys_path, headers=integration.workspace.headers).json()[
        "data_import_keys"
    ][0]["id"]
    deleted = client.delete(f"{keys_path}/{key_id}", headers=integration.workspace.headers)
    assert deleted.status_code == 204
    assert message(post_partner(api, users_path(integration), body)) == INVALID_CLIENT_SECRET


def test_revoked_partner_key_is_rejected_on_the_next_request(
    api: Api, client: TestClient, integration: Integration
) -> None:
    body = changes_body(integration, "c1", [])
    assert post_partner(api, users_path(integration), body).status_code == 201
    partners = client.get("/admin/partners", headers=ADMIN_HEADERS).json()["partners"]
    key_id = partners[0]["api_keys"][0]["id"]
    revoke = client.delete(
        f"/admin/partners/{integration.partner.name}/api-keys/{key_id}", headers=ADMIN_HEADERS
    )
    assert revoke.status_code == 204
    assert message(post_partner(api, users_path(integration), body)) == INVALID_PARTNER_KEY


def test_several_live_partner_keys_work(
    api: Api, client: TestClient, integration: Integration
) -> None:
    issued = client.post(
        f"/admin/partners/{integration.partner.name}/api-keys", headers=ADMIN_HEADERS
    ).json()
    for partner_key in (integration.partner.api_key, issued["partner_api_key"]):
        body = changes_body(integration, "c1", [])
        response = post_partner(
            api, users_path(integration), {**body, "partner_api_key": partner_key}
        )
        assert response.status_code == 201


def test_several_live_data_import_keys_reach_the_same_workspace(
    api: Api, integration: Integration
) -> None:
    second = api.create_data_import_key(integration.workspace, integration.partner.name)
    post_partner(
        api, users_path(integration), changes_body(integration, "first", [{"user_ids": []}])
    )
    rotated = {**changes_body(integration, "second", [{"user_ids": []}]), "client_secret": second}
    assert post_partner(api, users_path(integration), rotated).status_code == 201
    assert cohort_ids(api, integration) == ["first", "second"]


def test_deleted_workspace_is_rejected(
    api: Api, client: TestClient, integration: Integration
) -> None:
    body = changes_body(integration, "c1", [])
    assert post_partner(api, users_path(integration), body).status_code == 201
    deleted = client.delete(f"/admin/workspaces/{integration.workspace.id}", headers=ADMIN_HEADERS)
    assert deleted.status_code == 204
    assert message(post_partner(api, users_path(integration), body)) == INVALID_CLIENT_SECRET


def test_last_used_at_is_touched(api: Api, client: TestClient, integration: Integration) -> None:
    keys_path = f"/integrations/{integration.partner.name}/data-import-keys"
    listed = client.get(keys_path, headers=integration.workspace.headers).json()
    assert listed["data_import_keys"][0]["last_used_at"] is None
    post_partner(api, users_path(integration), changes_body(integration, "c1", []))
    listed = client.get(keys_path, headers=integration.workspace.headers).json()
    assert listed["data_import_keys"][0]["last_used_at"] is not None


def test_no_trailing_slash_redirect(client: TestClient, integration: Integration) -> None:
    for path in (users_path(integration) + "/", cohorts_path(integration) + "/"):
        response = client.post(
            path, json=changes_body(integration, "c1", []), follow_redirects=False
        )
        assert response.status_code == 404
        assert response.json() == {"message": "Not found"}


def test_errors_never_echo_other_secrets(api: Api, integration: Integration) -> None:
    response = post_partner(api, users_path(integration), changes_body(integration, 5, []))
    assert integration.client_secret not in response.text
    assert integration.partner.api_key not in response.text
