"""POST /users/identify: anonymous users become identified, or merge into the identified user."""

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.support import Api, Integration
from tests.support.users import alias, exported, identify, post_users, user, user_by_device


def by_alias(alias_name: str) -> dict[str, Any]:
    return {"aliases_to_identify": [{"external_id": "known", "user_alias": alias(alias_name)}]}


def test_new_external_id_is_given_to_the_alias_only_user(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    api.add_aliases(workspace, [alias("a1")])
    anonymous = exported(client, workspace, user_aliases=[alias("a1")])["users"][0]
    body = {"aliases_to_identify": [{"external_id": "new", "user_alias": alias("a1")}]}
    result = identify(client, workspace, **body)
    assert result == {"message": "success", "aliases_processed": 1, "devices_processed": 0}
    identified = user(client, workspace, "new")
    assert identified["braze_id"] == anonymous["braze_id"]
    assert identified["user_aliases"] == [alias("a1")]


def test_existing_external_id_absorbs_the_anonymous_user(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    api.track(workspace, "known")
    api.add_aliases(workspace, [alias("a1"), alias("shared", "email")])
    api.add_aliases(workspace, [{"external_id": "known", **alias("mine", "email")}])
    api.add_devices(workspace, [{"device_id": "d1"}])
    post_attrs = [
        {"external_id": "known", "plan": "pro"},
        {"user_alias": alias("a1"), "plan": "free", "city": "Oslo"},
    ]
    post_users(client, workspace, "/users/track", {"attributes": post_attrs})
    anonymous_braze_id = exported(client, workspace, user_aliases=[alias("a1")])["users"][0][
        "braze_id"
    ]
    identify(client, workspace, **by_alias("a1"))
    merged = user(client, workspace, "known")
    assert merged["custom_attributes"] == {"plan": "pro", "city": "Oslo"}
    assert alias("a1") in merged["user_aliases"]
    assert exported(client, workspace, braze_id=anonymous_braze_id)["users"] == []
    # The alias-only user with label "email" stays apart: only a1's user was identified.
    assert exported(client, workspace, user_aliases=[alias("shared", "email")])["users"]


def test_merge_keeps_the_identified_users_alias_of_the_same_label(
    client: TestClient, api: Api
) -> None:
    workspace = api.create_workspace()
    api.track(workspace, "known")
    api.add_aliases(workspace, [{"external_id": "known", **alias("theirs", "email")}])
    # One anonymous user holding two aliases, one with the label "email" the target has too.
    line = json.dumps({"user_aliases": [alias("a1"), alias("other-mail", "email")]})
    response = client.post("/users/import", content=line.encode(), headers=workspace.headers)
    assert response.json()["imported"] == 1
    identify(client, workspace, **by_alias("a1"))
    merged = user(client, workspace, "known")
    assert sorted(a["alias_name"] for a in merged["user_aliases"]) == ["a1", "theirs"]
    # The alias that could not move went with the anonymous user.
    assert exported(client, workspace, user_aliases=[alias("other-mail", "email")])["users"] == []


def test_devices_to_identify_merge_devices_and_skip_what_matches_no_one(
    client: TestClient, api: Api
) -> None:
    workspace = api.create_workspace()
    api.track(workspace, "known", "someone")
    api.add_devices(
        workspace,
        [{"device_id": "d1"}, {"device_id": "d2"}, {"device_id": "d3", "external_id": "someone"}],
    )
    body = {
        "aliases_to_identify": [],
        "devices_to_identify": [
            {"external_id": "known", "device_id": "d1"},
            {"external_id": "fresh", "device_id": "d2"},
            {"external_id": "known", "device_id": "nowhere"},
            {"external_id": "known", "device_id": "d3"},
        ],
    }
    result = identify(client, workspace, **body)
    assert result["aliases_processed"] == 0
    assert result["devices_processed"] == 2
    assert result["errors"] == [
        {"type": "No user found for device_id", "input_array": "devices_to_identify", "index": 2},
        {
            "type": "Already belongs to a user with another external_id",
            "input_array": "devices_to_identify",
            "index": 3,
        },
    ]
    assert user(client, workspace, "known")["devices"] == [{"device_id": "d1"}]
    assert user(client, workspace, "fresh")["devices"] == [{"device_id": "d2"}]
    assert user_by_device(client, workspace, "d3")["external_id"] == "someone"


def test_unknown_alias_is_skipped(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    result = identify(client, workspace, **by_alias("ghost"))
    assert result["aliases_processed"] == 0
    assert result["errors"][0]["type"] == "No user found for user_alias"
    assert exported(client, workspace, external_ids=["known"])["users"] == []


def test_two_anonymous_users_merge_into_one_in_a_request(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    api.track(workspace, "known")
    api.add_devices(workspace, [{"device_id": "d1"}, {"device_id": "d2"}])
    api.add_aliases(workspace, [alias("a1")])
    body = {
        "aliases_to_identify": [{"external_id": "known", "user_alias": alias("a1")}],
        "devices_to_identify": [
            {"external_id": "known", "device_id": "d1"},
            {"external_id": "known", "device_id": "d2"},
        ],
    }
    assert identify(client, workspace, **body)["devices_processed"] == 2
    merged = user(client, workspace, "known")
    assert merged["devices"] == [{"device_id": "d1"}, {"device_id": "d2"}]
    assert merged["user_aliases"] == [alias("a1")]


def test_at_most_50_entries_over_both_arrays(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    aliases = [{"external_id": f"e{i}", "user_alias": alias(f"a{i}")} for i in range(25)]
    devices = [{"external_id": f"e{i}", "device_id": f"d{i}"} for i in range(26)]
    body = {"aliases_to_identify": aliases, "devices_to_identify": devices}
    too_many = post_users(client, workspace, "/users/identify", body)
    assert too_many.status_code == 400
    assert "At most 50" in too_many.json()["message"]
    body["devices_to_identify"] = devices[:25]
    assert identify(client, workspace, **body)["aliases_processed"] == 0


def test_invalid_entries_are_400(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    api.add_devices(workspace, [{"device_id": "d1"}])
    bad_bodies: list[dict[str, Any]] = [
        {"aliases_to_identify": [{"external_id": "x"}]},
        {"aliases_to_identify": [{"external_id": "", "user_alias": alias("a")}]},
        {"devices_to_identify": [{"external_id": "x"}]},
        {"devices_to_identify": [{"device_id": "d1", "external_id": "\u0000"}]},
        {"devices_to_identify": [{"device_id": "d1", "external_id": "x", "extra": 1}]},
        {"aliases_to_identify": None},
        {"aliases_to_identify": [1]},
    ]
    for body in bad_bodies:
        response = post_users(client, workspace, "/users/identify", body)
        assert response.status_code == 400, body
    assert user_by_device(client, workspace, "d1")["external_id"] is None


# --- cohorts through merges ------------------------------------------------------------------


def _cohorts(api: Api, integration: Integration, memberships: dict[str, dict[str, Any]]) -> None:
    for cohort_id, change in memberships.items():
        response = api.sync(integration, cohort_id, [change])
        assert response.status_code == 201, response.text


def test_merge_moves_cohort_memberships_and_keeps_sizes_right(client: TestClient, api: Api) -> None:
    integration = api.integration()
    workspace = integration.workspace
    api.track(workspace, "known", "bystander")
    api.add_devices(workspace, [{"device_id": "d-anon"}])
    _cohorts(
        api,
        integration,
        {
            "both": {"user_ids": ["known", "bystander"], "device_ids": ["d-anon"]},
            "anon-only": {"device_ids": ["d-anon"]},
            "anon-too": {"device_ids": ["d-anon"], "user_ids": ["bystander"]},
            "known-only": {"user_ids": ["known"]},
        },
    )
    assert api.cohort(integration, "both")["size"] == 3
    body = {"devices_to_identify": [{"external_id": "known", "device_id": "d-anon"}]}
    identify(client, workspace, **body)
    sizes = {c: api.cohort(integration, c)["size"] for c in ("both", "anon-only", "anon-too")}
    assert sizes == {"both": 2, "anon-only": 1, "anon-too": 2}
    assert api.cohort(integration, "known-only")["size"] == 1
    assert api.member_external_ids(integration, "both") == {"known", "bystander"}
    assert api.member_external_ids(integration, "anon-only") == {"known"}
    cohorts = user(client, workspace, "known")["cohorts"]
    assert {c["cohort_id"] for c in cohorts} == {"both", "anon-only", "anon-too", "known-only"}
    assert all(c["partner"] == "amplitude" for c in cohorts)


def test_identified_user_is_no_longer_matched_by_device(client: TestClient, api: Api) -> None:
    integration = api.integration()
    workspace = integration.workspace
    api.add_devices(workspace, [{"device_id": "d1"}])
    body = {"devices_to_identify": [{"external_id": "now-known", "device_id": "d1"}]}
    identify(client, workspace, **body)
    result = api.sync(integration, "c1", [{"device_ids": ["d1"]}]).json()
    assert result["added"] == 0
    assert result["unmatched"] == 1
