"""Standard profile fields in /users/import: apart from custom attributes, checked as in track."""

from fastapi.testclient import TestClient

from tests.support import Api
from tests.support.users import import_body, ndjson, post_users, user, user_by_device


def test_imported_standard_fields_are_kept_apart(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    body = ndjson(
        {"external_id": "u1", "attributes": {"first_name": "Ada", "dob": "1815-12-10", "vip": 1}},
        {"device_ids": ["d1"], "attributes": {"gender": "F", "country": "GB"}},
    )
    assert import_body(client, workspace, body)["imported"] == 2
    found = user(client, workspace, "u1")
    assert found["custom_attributes"] == {"vip": 1}
    assert (found["first_name"], found["dob"]) == ("Ada", "1815-12-10")
    anonymous = user_by_device(client, workspace, "d1")
    assert (anonymous["gender"], anonymous["country"]) == ("F", "GB")
    assert anonymous["custom_attributes"] == {}


def test_an_import_updates_and_clears_standard_fields(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    first = {"external_id": "u1", "email": "a@example.com", "home_city": "Paris", "n": 1}
    post_users(client, workspace, "/users/track", {"attributes": [first]})
    body = ndjson(
        {"external_id": "u1", "attributes": {"email": None, "language": "fr"}},
        {"external_id": "u1", "attributes": {"home_city": "Lyon"}},
    )
    assert import_body(client, workspace, body)["imported"] == 2
    found = user(client, workspace, "u1")
    assert "email" not in found
    assert (found["language"], found["home_city"]) == ("fr", "Lyon")
    assert found["custom_attributes"] == {"n": 1}


def test_a_bad_standard_field_is_a_line_error(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    body = ndjson(
        {"external_id": "bad-dob", "attributes": {"dob": "10/12/1815"}},
        {"external_id": "bad-gender", "attributes": {"gender": "female"}},
        {"external_id": "bad-name", "attributes": {"first_name": 7}},
        {"external_id": "good", "attributes": {"last_name": "Lovelace"}},
    )
    result = import_body(client, workspace, body)
    assert result["imported"] == 1
    messages = [(e["line"], e["message"]) for e in result["errors"]]
    assert [line for line, _ in messages] == [1, 2, 3]
    assert "attributes.dob must be a date" in messages[0][1]
    assert "attributes.gender" in messages[1][1]
    assert "attributes.first_name must be a string" in messages[2][1]
    assert user(client, workspace, "good")["last_name"] == "Lovelace"
