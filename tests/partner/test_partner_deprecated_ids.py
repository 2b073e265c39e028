"""Partner cohort imports match a renamed user by its deprecated external id until it is
removed; then the id matches nobody and is reported unmatched."""

from typing import Any

from fastapi.testclient import TestClient

from tests.support import Api, Integration
from tests.support.users import post_users


def renamed(api: Api, client: TestClient, *cohort_ids: str) -> Integration:
    """ "old" was renamed to "new"; "other" exists; the cohorts are named."""
    integration = api.integration()
    api.track(integration.workspace, "old", "other")
    body = {"external_id_renames": [{"current_external_id": "old", "new_external_id": "new"}]}
    assert (
        post_users(client, integration.workspace, "/users/external_ids/rename", body).status_code
        == 201
    )
    for cohort_id in cohort_ids:
        api.expect(api.name_cohort(integration, cohort_id), 201)
    return integration


def remove_old(client: TestClient, integration: Integration) -> None:
    body = {"external_ids": ["old"]}
    response = post_users(client, integration.workspace, "/users/external_ids/remove", body)
    assert response.json()["removed_ids"] == ["old"]


def unmatched(api: Api, integration: Integration, cohort_id: str) -> list[Any]:
    path = f"/cohorts/{integration.partner.name}/{cohort_id}/unmatched"
    response = api.client.get(path, headers=integration.workspace.headers)
    identifiers: list[Any] = api.expect(response, 200)["identifiers"]
    return [(i["kind"], i["value"], i["reason"]) for i in identifiers]


def test_deprecated_id_is_matched_then_unmatched_once_removed(client: TestClient, api: Api) -> None:
    integration = renamed(api, client, "c")
    added = api.synced(integration, "c", {"user_ids": ["old", "other"]})
    assert (added["added"], added["unmatched"]) == (2, 0)
    assert api.member_external_ids(integration, "c") == {"new", "other"}
    assert unmatched(api, integration, "c") == []
    remove_old(client, integration)
    again = api.synced(integration, "c", {"user_ids": ["old"], "should_remove": True})
    assert (again["removed"], again["unmatched"]) == (0, 1)
    assert unmatched(api, integration, "c") == [
        ("external_id", "old", "no user with this external_id")
    ]
    assert api.member_external_ids(integration, "c") == {"new", "other"}


def test_replayed_changes_match_the_deprecated_id_too(client: TestClient, api: Api) -> None:
    integration = renamed(api, client, "c")
    # An add then a remove of overlapping users: the changes replay in order.
    result = api.synced(
        integration,
        "c",
        {"user_ids": ["old", "other"]},
        {"user_ids": ["new"], "should_remove": True},
        {"user_ids": ["old"]},
    )
    assert result["unmatched"] == 0
    assert api.member_external_ids(integration, "c") == {"new", "other"}
    assert api.cohort(integration, "c")["size"] == 2


def test_deprecated_and_primary_id_of_one_user_in_one_change(client: TestClient, api: Api) -> None:
    integration = renamed(api, client, "c")
    result = api.synced(integration, "c", {"user_ids": ["old", "new"]})
    assert (result["added"], result["unmatched"]) == (1, 0)
    assert api.cohort(integration, "c")["size"] == 1


def test_why_answers_for_a_deprecated_id(client: TestClient, api: Api) -> None:
    integration = renamed(api, client, "c")
    api.synced(integration, "c", {"user_ids": ["old"]})
    path = f"/cohorts/{integration.partner.name}/c/why"
    answer = api.expect(
        client.get(path, params={"external_id": "old"}, headers=integration.workspace.headers),
        200,
    )
    assert (answer["member"], answer["user"]["external_id"]) == (True, "new")
    remove_old(client, integration)
    answer = api.expect(
        client.get(path, params={"external_id": "old"}, headers=integration.workspace.headers),
        200,
    )
    assert (answer["member"], answer["reason"]) == (False, "no_user")
