"""POST /users/alias/new: aliases for identified users, or new alias-only users."""

from typing import Any

from fastapi.testclient import TestClient

from tests.support import Api, WorkspaceHandle
from tests.support.users import alias, exported, post_users, user


def new_aliases(client: TestClient, workspace: WorkspaceHandle, *entries: dict[str, Any]) -> Any:
    response = post_users(client, workspace, "/users/alias/new", {"user_aliases": list(entries)})
    assert response.status_code == 201, response.text
    return response.json()


def test_alias_is_added_to_the_identified_user(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    api.track(workspace, "u1")
    result = new_aliases(client, workspace, {"external_id": "u1", **alias("c-1")})
    assert result == {"message": "success", "aliases_processed": 1}
    assert user(client, workspace, "u1")["user_aliases"] == [alias("c-1")]


def test_without_external_id_an_alias_only_user_is_created(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    new_aliases(client, workspace, alias("c-1"), alias("c-2"))
    users = exported(client, workspace, user_aliases=[alias("c-1"), alias("c-2")])["users"]
    assert len(users) == 2
    assert {u["external_id"] for u in users} == {None}


def test_rule_breaking_entries_are_skipped_and_reported(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    api.track(workspace, "u1", "u2")
    new_aliases(client, workspace, {"external_id": "u1", **alias("taken")})
    result = new_aliases(
        client,
        workspace,
        {"external_id": "ghost", **alias("g")},
        {"external_id": "u2", **alias("taken")},
        alias("taken"),
        {"external_id": "u1", **alias("second-name")},
        {"external_id": "u1", **alias("taken")},
        {"external_id": "u2", **alias("mine")},
        {"external_id": "u2", **alias("mine-too")},
        {"external_id": "u2", **alias("x", "other-label")},
    )
    assert result["aliases_processed"] == 3
    assert [(e["index"], e["type"]) for e in result["errors"]] == [
        (0, "No user found for external_id"),
        (1, "Alias already belongs to another user"),
        (2, "Alias already belongs to another user"),
        (3, "User already has an alias with this alias_label"),
        (6, "User already has an alias with this alias_label"),
    ]
    assert user(client, workspace, "u1")["user_aliases"] == [alias("taken")]
    assert user(client, workspace, "u2")["user_aliases"] == [
        alias("mine"),
        alias("x", "other-label"),
    ]


def test_a_pair_is_unique_per_workspace_only(client: TestClient, api: Api) -> None:
    first = api.create_workspace()
    second = api.create_workspace("other")
    new_aliases(client, first, alias("same"))
    assert new_aliases(client, second, alias("same"))["aliases_processed"] == 1


def test_at_most_50_and_validation(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    entries = [alias(f"a{i}") for i in range(51)]
    too_many = post_users(client, workspace, "/users/alias/new", {"user_aliases": entries})
    assert too_many.status_code == 400
    assert "At most 50 user_aliases" in too_many.json()["message"]
    bad_entries: list[Any] = [
        {"alias_name": "n"},
        {"alias_name": "", "alias_label": "l"},
        {"alias_name": "n", "alias_label": 3},
        {"alias_name": "n\u0000", "alias_label": "l"},
        {"alias_name": "n", "alias_label": "l", "external_id": ""},
        {"alias_name": "n", "alias_label": "l", "nickname": "x"},
        "n",
    ]
    for bad in bad_entries:
        response = post_users(
            client, workspace, "/users/alias/new", {"user_aliases": [alias("ok"), bad]}
        )
        assert response.status_code == 400, bad
    assert exported(client, workspace, user_aliases=[alias("ok")])["users"] == []
    assert new_aliases(client, workspace, *entries[:50])["aliases_processed"] == 50
