"""POST /users/external_ids/rename and /remove: deprecated external ids address their user
everywhere until removed, and count as taken for everybody."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import Api, WorkspaceHandle
from tests.support.users import alias, exported, import_body, ndjson, post_users, user

RENAME = "/users/external_ids/rename"
ONE_RENAME = {"current_external_id": "a", "new_external_id": "b"}
REMOVE = "/users/external_ids/remove"


def rename(client: TestClient, workspace: WorkspaceHandle, *pairs: tuple[str, str]) -> Any:
    renames = [{"current_external_id": old, "new_external_id": new} for old, new in pairs]
    response = post_users(client, workspace, RENAME, {"external_id_renames": renames})
    assert response.status_code == 201, response.text
    return response.json()


def remove(client: TestClient, workspace: WorkspaceHandle, *external_ids: str) -> Any:
    response = post_users(client, workspace, REMOVE, {"external_ids": list(external_ids)})
    assert response.status_code == 201, response.text
    return response.json()


def renamed_workspace(api: Api, client: TestClient) -> WorkspaceHandle:
    """A workspace where "old" was renamed to "new" (and "other" exists)."""
    workspace = api.create_workspace()
    api.track(workspace, "old", "other")
    rename(client, workspace, ("old", "new"))
    return workspace


def test_rename_makes_the_new_id_primary_and_keeps_the_old_one(
    client: TestClient, api: Api
) -> None:
    workspace = api.create_workspace()
    api.track(workspace, "old")
    api.add_aliases(workspace, [{"external_id": "old", **alias("a1")}])
    api.add_devices(workspace, [{"device_id": "phone", "external_id": "old"}])
    before = user(client, workspace, "old")
    result = rename(client, workspace, ("old", "new"))
    assert result == {"message": "success", "external_ids": ["old"], "rename_errors": []}
    after = user(client, workspace, "new")
    assert after == {**before, "external_id": "new"}
    assert user(client, workspace, "old") == after


def test_refused_renames_are_reported_and_the_rest_applied(client: TestClient, api: Api) -> None:
    workspace = renamed_workspace(api, client)
    api.track(workspace, "third")
    result = rename(
        client,
        workspace,
        ("nobody", "x1"),
        ("old", "x2"),
        ("other", "new"),
        ("other", "old"),
        ("new", "old"),
        ("third", "third"),
        ("other", "renamed"),
    )
    assert result["external_ids"] == ["other"]
    errors = dict(result["rename_errors"])
    assert [pair[0] for pair in result["rename_errors"]] == [
        "nobody",
        "old",
        "other",
        "other",
        "new",
        "third",
    ]
    assert "no user" in errors["nobody"]
    assert "deprecated" in errors["old"]
    assert all("in use" in reason for _, reason in result["rename_errors"][2:])
    assert user(client, workspace, "renamed")["external_id"] == "renamed"
    assert user(client, workspace, "old")["external_id"] == "new"


def test_renames_apply_in_order(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    api.track(workspace, "a")
    result = rename(client, workspace, ("a", "b"), ("b", "c"), ("a", "d"), ("c", "a"))
    assert result["external_ids"] == ["a", "b"]
    assert [pair[0] for pair in result["rename_errors"]] == ["a", "c"]
    for external_id in ("a", "b", "c"):
        assert user(client, workspace, external_id)["external_id"] == "c"


def test_a_deprecated_id_addresses_its_user_in_the_users_api(client: TestClient, api: Api) -> None:
    workspace = renamed_workspace(api, client)
    post_users(
        client, workspace, "/users/track", {"attributes": [{"external_id": "old", "plan": "x"}]}
    )
    import_body(client, workspace, ndjson({"external_id": "old", "attributes": {"city": "Oslo"}}))
    api.add_aliases(workspace, [{"external_id": "old", **alias("a1")}])
    api.add_devices(workspace, [{"device_id": "phone"}])
    body = {"devices_to_identify": [{"external_id": "old", "device_id": "phone"}]}
    assert post_users(client, workspace, "/users/identify", body).status_code == 201
    renamed = user(client, workspace, "new")
    assert renamed["custom_attributes"] == {"plan": "x", "city": "Oslo"}
    assert renamed["user_aliases"] == [alias("a1")]
    assert renamed["devices"] == [{"device_id": "phone"}]
    # Nobody was created for the deprecated id.
    assert exported(client, workspace, external_ids=["old", "new"])["users"] == [renamed]
    assert api.user_history(workspace, external_id="old") == []


def test_a_deprecated_id_deletes_its_user(client: TestClient, api: Api) -> None:
    workspace = renamed_workspace(api, client)
    response = post_users(client, workspace, "/users/delete", {"external_ids": ["old"]})
    assert response.json()["deleted"] == 1
    assert exported(client, workspace, external_ids=["old", "new"])["users"] == []
    # Its deprecated ids went with it: "old" is free again.
    api.track(workspace, "old")
    assert user(client, workspace, "old")["external_id"] == "old"


def test_removal_forgets_deprecated_ids_and_frees_them(client: TestClient, api: Api) -> None:
    workspace = renamed_workspace(api, client)
    result = remove(client, workspace, "old", "new", "nobody", "old")
    assert result["removed_ids"] == ["old"]
    assert [pair[0] for pair in result["removal_errors"]] == ["new", "nobody", "old"]
    assert "primary" in dict(result["removal_errors"])["new"]
    assert exported(client, workspace, external_ids=["old"])["invalid_user_ids"] == ["old"]
    api.track(workspace, "old")
    assert user(client, workspace, "old")["braze_id"] != user(client, workspace, "new")["braze_id"]


def test_a_removed_id_can_be_renamed_onto_again(client: TestClient, api: Api) -> None:
    workspace = renamed_workspace(api, client)
    assert rename(client, workspace, ("other", "old"))["rename_errors"][0][0] == "other"
    remove(client, workspace, "old")
    assert rename(client, workspace, ("other", "old"))["external_ids"] == ["other"]
    assert (
        user(client, workspace, "old")["braze_id"] == user(client, workspace, "other")["braze_id"]
    )


def test_deprecated_ids_belong_to_their_workspace(client: TestClient, api: Api) -> None:
    workspace = renamed_workspace(api, client)
    elsewhere = api.create_workspace("elsewhere")
    api.track(elsewhere, "old")
    assert user(client, elsewhere, "old")["external_id"] == "old"
    assert remove(client, elsewhere, "old")["removal_errors"][0][0] == "old"
    assert user(client, workspace, "old")["external_id"] == "new"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            RENAME,
            {"external_id_renames": [{"current_external_id": "a", "new_external_id": "b"}] * 51},
        ),
        (REMOVE, {"external_ids": ["a"] * 51}),
    ],
)
def test_at_most_50_entries(client: TestClient, api: Api, path: str, body: Any) -> None:
    workspace = api.create_workspace()
    api.track(workspace, "a")
    response = post_users(client, workspace, path, body)
    assert response.status_code == 400
    assert "At most 50" in response.json()["message"]
    assert user(client, workspace, "a")["external_id"] == "a"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (RENAME, {}),
        (RENAME, {"external_id_renames": [{"current_external_id": "a"}]}),
        (RENAME, {"external_id_renames": [{"current_external_id": "a", "new_external_id": ""}]}),
        (RENAME, {"external_id_renames": [{"current_external_id": "a", "new_external_id": 5}]}),
        (
            RENAME,
            {"external_id_renames": [{"current_external_id": "a", "new_external_id": "b\x00"}]},
        ),
        (
            RENAME,
            {
                "external_id_renames": [
                    {"current_external_id": "a", "new_external_id": "b", "extra": True}
                ]
            },
        ),
        (REMOVE, {}),
        (REMOVE, {"external_ids": "a"}),
        (REMOVE, {"external_ids": ["a", ""]}),
        (REMOVE, {"external_ids": ["a", "x" * 998]}),
    ],
)
def test_malformed_bodies_are_400_and_change_nothing(
    client: TestClient, api: Api, path: str, body: Any
) -> None:
    workspace = api.create_workspace()
    api.track(workspace, "a")
    rename(client, workspace, ("a", "kept"))
    response = post_users(client, workspace, path, body)
    assert response.status_code == 400, response.text
    assert user(client, workspace, "a")["external_id"] == "kept"


@pytest.mark.parametrize(
    ("path", "permission", "body"),
    [
        (
            RENAME,
            "users.external_ids.rename",
            {"external_id_renames": [{"current_external_id": "a", "new_external_id": "b"}]},
        ),
        (REMOVE, "users.external_ids.remove", {"external_ids": ["a"]}),
    ],
)
def test_a_key_without_the_permission_is_403(
    client: TestClient, api: Api, path: str, permission: str, body: Any
) -> None:
    workspace = api.create_workspace()
    api.track(workspace, "a")
    others = [
        "users.track",
        "users.merge",
        "users.external_ids.rename",
        "users.external_ids.remove",
    ]
    limited = [p for p in others if p != permission]
    key = WorkspaceHandle(workspace.id, api.create_rest_key(workspace.id, limited))
    assert post_users(client, key, path, body).status_code == 403
    allowed = WorkspaceHandle(workspace.id, api.create_rest_key(workspace.id, [permission]))
    assert post_users(client, allowed, path, body).status_code == 201


def test_identify_by_either_id_of_a_renamed_user_is_not_a_conflict(
    client: TestClient, api: Api
) -> None:
    workspace = renamed_workspace(api, client)
    api.add_aliases(workspace, [{"external_id": "new", **alias("a1")}])
    entries = [
        {"external_id": external_id, "user_alias": alias("a1")} for external_id in ("old", "new")
    ]
    response = post_users(client, workspace, "/users/identify", {"aliases_to_identify": entries})
    assert response.json() == {"message": "success", "aliases_processed": 2, "devices_processed": 0}
