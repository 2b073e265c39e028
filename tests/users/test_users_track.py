"""POST /users/track: creating users and updating their custom attributes."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import Api
from tests.support.users import alias, exported, post_users, user


def track_in_new_workspace(client: TestClient, api: Api, attributes: list[dict[str, Any]]) -> Any:
    workspace = api.create_workspace()
    return workspace, post_users(client, workspace, "/users/track", {"attributes": attributes})


def test_external_id_creates_the_user_with_its_attributes(client: TestClient, api: Api) -> None:
    workspace, response = track_in_new_workspace(
        client, api, [{"external_id": "u1", "plan": "pro", "age": 31}]
    )
    assert response.status_code == 201
    assert response.json() == {"message": "success", "attributes_processed": 1}
    found = user(client, workspace, "u1")
    assert found["custom_attributes"] == {"plan": "pro", "age": 31}
    assert len(found["braze_id"]) == 24
    assert found["user_aliases"] == []
    assert found["devices"] == []


def test_existing_user_is_updated_and_null_removes(client: TestClient, api: Api) -> None:
    workspace, _ = track_in_new_workspace(
        client, api, [{"external_id": "u1", "plan": "pro", "age": 31}]
    )
    body = {"attributes": [{"external_id": "u1", "plan": None, "city": "Köln"}]}
    assert post_users(client, workspace, "/users/track", body).status_code == 201
    assert user(client, workspace, "u1")["custom_attributes"] == {"age": 31, "city": "Köln"}
    assert len(exported(client, workspace, external_ids=["u1"])["users"]) == 1


def test_operators_inc_add_remove(client: TestClient, api: Api) -> None:
    workspace, _ = track_in_new_workspace(
        client, api, [{"external_id": "u1", "n": 2, "tags": ["a"]}]
    )
    updates = [
        {"external_id": "u1", "n": {"inc": 3}, "fresh": {"inc": -1.5}},
        {"external_id": "u1", "tags": {"add": ["b", "a", "c"]}},
        {"external_id": "u1", "tags": {"remove": ["a"]}, "new_list": {"add": [1]}},
        {"external_id": "u1", "nested": {"inc": 1, "other": 2}},
    ]
    assert post_users(client, workspace, "/users/track", {"attributes": updates}).status_code == 201
    assert user(client, workspace, "u1")["custom_attributes"] == {
        "n": 5,
        "fresh": -1.5,
        "tags": ["b", "c"],
        "new_list": [1],
        "nested": {"inc": 1, "other": 2},
    }


def test_update_existing_only_skips_unknown_external_ids(client: TestClient, api: Api) -> None:
    workspace, response = track_in_new_workspace(
        client,
        api,
        [
            {"external_id": "known", "a": 1},
            {"external_id": "ghost", "_update_existing_only": True, "a": 1},
        ],
    )
    assert response.status_code == 201
    assert response.json() == {
        "message": "success",
        "attributes_processed": 1,
        "errors": [
            {"type": "No user found for external_id", "input_array": "attributes", "index": 1}
        ],
    }
    assert exported(client, workspace, external_ids=["ghost"])["invalid_user_ids"] == ["ghost"]


def test_user_alias_defaults_to_update_existing_only(client: TestClient, api: Api) -> None:
    workspace, response = track_in_new_workspace(client, api, [{"user_alias": alias("a1"), "x": 1}])
    assert response.json()["attributes_processed"] == 0
    assert response.json()["errors"][0]["type"] == "No user found for user_alias"
    assert exported(client, workspace, user_aliases=[alias("a1")])["users"] == []


def test_user_alias_with_false_creates_an_alias_only_user(client: TestClient, api: Api) -> None:
    workspace, response = track_in_new_workspace(
        client, api, [{"user_alias": alias("a1"), "_update_existing_only": False, "x": 1}]
    )
    assert response.json() == {"message": "success", "attributes_processed": 1}
    users = exported(client, workspace, user_aliases=[alias("a1")])["users"]
    assert len(users) == 1
    assert users[0]["external_id"] is None
    assert users[0]["user_aliases"] == [alias("a1")]
    assert users[0]["custom_attributes"] == {"x": 1}
    again = {"attributes": [{"user_alias": alias("a1"), "x": 2}]}
    assert post_users(client, workspace, "/users/track", again).json()["attributes_processed"] == 1
    users = exported(client, workspace, user_aliases=[alias("a1")])["users"]
    assert users[0]["custom_attributes"] == {"x": 2}


def test_braze_id_only_updates_existing_users(client: TestClient, api: Api) -> None:
    workspace, _ = track_in_new_workspace(client, api, [{"external_id": "u1"}])
    braze_id = user(client, workspace, "u1")["braze_id"]
    body = {"attributes": [{"braze_id": braze_id, "v": 1}, {"braze_id": "nobody", "v": 1}]}
    response = post_users(client, workspace, "/users/track", body).json()
    assert response["attributes_processed"] == 1
    assert response["errors"] == [
        {"type": "No user found for braze_id", "input_array": "attributes", "index": 1}
    ]
    assert user(client, workspace, "u1")["custom_attributes"] == {"v": 1}


def test_75_objects_are_accepted_76_are_not(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    attributes = [{"external_id": f"u{i}"} for i in range(76)]
    too_many = post_users(client, workspace, "/users/track", {"attributes": attributes})
    assert too_many.status_code == 400
    assert "At most 75" in too_many.json()["message"]
    assert exported(client, workspace, external_ids=["u0"])["users"] == []
    at_limit = post_users(client, workspace, "/users/track", {"attributes": attributes[:75]})
    assert at_limit.json() == {"message": "success", "attributes_processed": 75}


def test_users_are_per_workspace(client: TestClient, api: Api) -> None:
    first, _ = track_in_new_workspace(client, api, [{"external_id": "u1", "a": 1}])
    second = api.create_workspace("other")
    post_users(client, second, "/users/track", {"attributes": [{"external_id": "u1", "a": 2}]})
    assert user(client, first, "u1")["custom_attributes"] == {"a": 1}
    assert user(client, second, "u1")["custom_attributes"] == {"a": 2}


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ([{"a": 1}], "exactly one of"),
        ([{"external_id": "u", "braze_id": "b"}], "exactly one of"),
        ([{"external_id": ""}], "external_id must be a non-empty string"),
        ([{"external_id": 5}], "external_id must be a non-empty string"),
        ([{"external_id": "x" * 998}], "997 bytes"),
        ([{"external_id": "a\u0000b"}], "NUL"),
        ([{"external_id": "\ud800"}], "lone surrogates"),
        ([{"user_alias": {"alias_name": "n"}}], "alias_label"),
        ([{"user_alias": "n"}], "alias_name and alias_label"),
        ([{"external_id": "u", "_update_existing_only": "yes"}], "must be a boolean"),
        ([{"external_id": "u", "a": "x\u0000"}], "NUL"),
        ([{"external_id": "u", "a": ["\udfff"]}], "lone surrogates"),
        ([{"external_id": "u", "": 1}], "custom attribute names"),
        ([{"external_id": "u", "\u0000": 1}], "custom attribute names"),
        ([{"external_id": "u", "n": {"inc": "1"}}], "inc takes a number"),
        ([{"external_id": "u", "n": {"inc": 10**30}}], "inc takes a number"),
        ([{"external_id": "u", "n": {"add": "x"}}], "add takes an array"),
        ([{"external_id": "u"}, 7], "attributes[2]"),
    ],
)
def test_invalid_objects_are_400_and_change_nothing(
    client: TestClient, api: Api, attributes: list[Any], expected: str
) -> None:
    workspace = api.create_workspace()
    body = {"attributes": [{"external_id": "first"}, *attributes]}
    response = post_users(client, workspace, "/users/track", body)
    assert response.status_code == 400, response.text
    assert expected in response.json()["message"]
    assert exported(client, workspace, external_ids=["first"])["users"] == []


@pytest.mark.parametrize(
    "body", [None, {}, {"attributes": None}, {"attributes": "x"}, [], {"attributes": [None]}]
)
def test_malformed_bodies_are_400(client: TestClient, api: Api, body: Any) -> None:
    workspace = api.create_workspace()
    response = post_users(client, workspace, "/users/track", body)
    assert response.status_code == 400
    assert response.json()["message"]


def test_non_finite_numbers_and_overflowing_inc_are_400(client: TestClient, api: Api) -> None:
    workspace, _ = track_in_new_workspace(client, api, [{"external_id": "u", "n": 9e17}])
    raw = b'{"attributes": [{"external_id": "u", "n": NaN}]}'
    headers = {**workspace.headers, "Content-Type": "application/json"}
    assert client.post("/users/track", content=raw, headers=headers).status_code == 400
    body = {"attributes": [{"external_id": "u", "n": {"inc": 9e17}}]}
    response = post_users(client, workspace, "/users/track", body)
    assert response.status_code == 400
    assert "would go beyond" in response.json()["message"]
    assert user(client, workspace, "u")["custom_attributes"] == {"n": 9e17}
