"""Standard profile fields in /users/track: apart from custom attributes, checked, merged."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import Api
from tests.support.users import post_users, user


def test_standard_fields_are_kept_apart_and_shown_at_the_top(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    body = {
        "attributes": [
            {"external_id": "u1", "first_name": "Ada", "dob": "1815-12-10", "gender": "F", "vip": 1}
        ]
    }
    assert post_users(client, workspace, "/users/track", body).status_code == 201
    found = user(client, workspace, "u1")
    assert found["custom_attributes"] == {"vip": 1}
    assert (found["first_name"], found["dob"], found["gender"]) == ("Ada", "1815-12-10", "F")
    assert "email" not in found


def test_null_clears_a_standard_field(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    first = {"attributes": [{"external_id": "u1", "email": "a@example.com", "country": "FR"}]}
    post_users(client, workspace, "/users/track", first)
    post_users(
        client, workspace, "/users/track", {"attributes": [{"external_id": "u1", "email": None}]}
    )
    found = user(client, workspace, "u1")
    assert "email" not in found
    assert found["country"] == "FR"


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("gender", "female", "gender"),
        ("dob", "10/12/1815", "attributes[0].dob must be a date"),
        ("dob", "1815-02-30", "attributes[0].dob must be a date"),
        ("first_name", 3, "attributes[0].first_name must be a string"),
        ("email", "a\u0000b", "attributes[0].email must be a string"),
    ],
)
def test_bad_standard_fields_are_400_and_change_nothing(
    client: TestClient, api: Api, field: str, value: Any, named: str
) -> None:
    workspace = api.create_workspace()
    body = {"attributes": [{"external_id": "u1", field: value}]}
    response = post_users(client, workspace, "/users/track", body)
    assert response.status_code == 400, response.text
    assert named in response.json()["message"]


def test_a_merge_fills_the_standard_fields_the_kept_user_lacks(
    client: TestClient, api: Api
) -> None:
    workspace = api.create_workspace()
    api.add_devices(workspace, [{"device_id": "phone"}])
    anonymous = post_users(client, workspace, "/users/export/ids", {"device_id": "phone"}).json()
    braze_id = anonymous["users"][0]["braze_id"]
    anon = {"braze_id": braze_id, "first_name": "Anon", "language": "fr"}
    known = {"external_id": "known", "first_name": "Kept"}
    post_users(client, workspace, "/users/track", {"attributes": [anon, known]})
    body = {"devices_to_identify": [{"device_id": "phone", "external_id": "known"}]}
    assert post_users(client, workspace, "/users/identify", body).status_code == 201
    found = user(client, workspace, "known")
    assert (found["first_name"], found["language"]) == ("Kept", "fr")
