"""POST /users/alias/update: an alias's name changes within its label."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import Api, WorkspaceHandle
from tests.support.users import alias, exported, post_users, user

PATH = "/users/alias/update"


def change(old: str, new: str, label: str = "crm") -> dict[str, str]:
    return {"alias_label": label, "old_alias_name": old, "new_alias_name": new}


def update(client: TestClient, workspace: WorkspaceHandle, *updates: dict[str, str]) -> Any:
    response = post_users(client, workspace, PATH, {"alias_updates": list(updates)})
    assert response.status_code == 201, response.text
    return response.json()


def holder(client: TestClient, workspace: WorkspaceHandle, name: str, label: str = "crm") -> Any:
    users = exported(client, workspace, user_aliases=[alias(name, label)])["users"]
    return users[0]["external_id"] if users else None


def aliased_workspace(api: Api) -> WorkspaceHandle:
    """u1 holds crm:a and email:a, u2 holds crm:b; an alias-only user holds crm:c."""
    workspace = api.create_workspace()
    api.track(workspace, "u1", "u2")
    api.add_aliases(
        workspace,
        [
            {"external_id": "u1", **alias("a")},
            {"external_id": "u1", **alias("a", "email")},
            {"external_id": "u2", **alias("b")},
            alias("c"),
        ],
    )
    return workspace


def test_the_alias_gets_its_new_name(client: TestClient, api: Api) -> None:
    workspace = aliased_workspace(api)
    assert update(client, workspace, change("a", "a2")) == {"message": "success"}
    assert holder(client, workspace, "a2") == "u1"
    assert holder(client, workspace, "a") is None
    assert holder(client, workspace, "a", "email") == "u1"
    assert sorted(user(client, workspace, "u1")["user_aliases"], key=str) == sorted(
        [alias("a2"), alias("a", "email")], key=str
    )


def test_unknown_old_and_taken_new_are_reported(client: TestClient, api: Api) -> None:
    workspace = aliased_workspace(api)
    result = update(
        client,
        workspace,
        change("nobody", "x"),
        change("a", "b"),
        change("a", "a"),
        change("a", "c"),
        change("b", "b2"),
        change("a", "x", "other-label"),
    )
    assert [e["index"] for e in result["errors"]] == [0, 1, 2, 3, 5]
    messages = [e["message"] for e in result["errors"]]
    assert "old_alias_name" in messages[0]
    assert all("taken" in m for m in messages[1:4])
    assert holder(client, workspace, "b2") == "u2"
    assert holder(client, workspace, "a") == "u1"
    assert holder(client, workspace, "x", "other-label") is None


def test_entries_apply_in_order(client: TestClient, api: Api) -> None:
    workspace = aliased_workspace(api)
    # a frees its name for b, which frees its own for a's second rename, then a chain.
    result = update(
        client, workspace, change("a", "t"), change("b", "a"), change("t", "b"), change("b", "z")
    )
    assert "errors" not in result
    assert holder(client, workspace, "z") == "u1"
    assert holder(client, workspace, "a") == "u2"
    assert holder(client, workspace, "b") is None
    assert holder(client, workspace, "t") is None


def test_an_alias_only_user_is_renamed_too(client: TestClient, api: Api) -> None:
    workspace = aliased_workspace(api)
    before = exported(client, workspace, user_aliases=[alias("c")])["users"][0]
    update(client, workspace, change("c", "c2"))
    after = exported(client, workspace, user_aliases=[alias("c2")])["users"][0]
    assert after == {**before, "user_aliases": [alias("c2")]}


def test_at_most_50_entries(client: TestClient, api: Api) -> None:
    workspace = aliased_workspace(api)
    response = post_users(client, workspace, PATH, {"alias_updates": [change("a", "x")] * 51})
    assert response.status_code == 400
    assert "At most 50" in response.json()["message"]
    assert holder(client, workspace, "a") == "u1"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"alias_updates": [{"alias_label": "crm", "old_alias_name": "a"}]},
        {"alias_updates": [change("a", "")]},
        {"alias_updates": [change("a", "x\x00")]},
        {"alias_updates": [{**change("a", "x"), "user_id": 1}]},
        {"alias_updates": [change("a", "x"), {"alias_label": 3}]},
    ],
)
def test_malformed_bodies_are_400_and_change_nothing(
    client: TestClient, api: Api, body: dict[str, Any]
) -> None:
    workspace = aliased_workspace(api)
    response = post_users(client, workspace, PATH, body)
    assert response.status_code == 400, response.text
    assert holder(client, workspace, "a") == "u1"


def test_a_key_without_the_permission_is_403(client: TestClient, api: Api) -> None:
    workspace = aliased_workspace(api)
    limited = WorkspaceHandle(workspace.id, api.create_rest_key(workspace.id, ["users.alias.new"]))
    body = {"alias_updates": [change("a", "x")]}
    assert post_users(client, limited, PATH, body).status_code == 403
    allowed = WorkspaceHandle(
        workspace.id, api.create_rest_key(workspace.id, ["users.alias.update"])
    )
    assert update(client, allowed, change("a", "x")) == {"message": "success"}
    assert holder(client, workspace, "x") == "u1"
