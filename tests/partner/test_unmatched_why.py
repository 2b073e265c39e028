"""Why a user is or is not in a cohort (``GET /cohorts/{partner}/{cohort_id}/why``): every
reason, how the user is named, the user as listed, the events, and the last unmatched time."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from kohorte.domain.permissions import Permission
from tests.support import Api, Integration, event_summary
from tests.support.partner import adds, message, removes
from tests.support.unmatched import all_unmatched, asked_why, why, with_users
from tests.support.users import alias, post_users

ANSWER_FIELDS = {"member", "reason", "user", "last_unmatched_at", "events"}
ONE_IDENTIFIER = "Give exactly one of external_id, device_id, or alias_label with alias_name"
BY_ALIAS = {"alias_label": "crm", "alias_name": "a1"}


def listed(api: Api, integration: Integration, cohort_id: str, external_id: str | None) -> Any:
    """The user as the cohort's members route lists them."""
    members = api.cohort_members(integration, cohort_id)
    return next(user for user in members if user["external_id"] == external_id)


def cohort_events(api: Api, integration: Integration, cohort_id: str, **who: str) -> Any:
    """The user's events in the cohort, as ``/users/cohort-history`` shows them."""
    events = api.user_history(integration.workspace, **who)
    return [event for event in events if event["cohort_id"] == cohort_id]


# --- member ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question", [{"external_id": "u1"}, BY_ALIAS, {"device_id": "d-known"}], ids=str
)
def test_a_member_is_member_however_named(api: Api, question: dict[str, str]) -> None:
    integration = with_users(api, "u2")
    api.synced(integration, "c1", adds("u1"), adds("u2"))
    answer = why(api, integration, "c1", **question)
    assert set(answer) == ANSWER_FIELDS
    assert (answer["member"], answer["reason"]) == (True, "member")
    assert answer["user"] == listed(api, integration, "c1", "u1")
    assert answer["events"] == cohort_events(api, integration, "c1", external_id="u1")
    assert event_summary(answer["events"]) == [("amplitude", "c1", "entered", "partner_sync")]
    assert answer["last_unmatched_at"] is None


def test_an_anonymous_member_by_device(api: Api) -> None:
    integration = with_users(api, "u2")
    api.synced(integration, "c1", {"device_ids": ["d-anon"]})
    answer = why(api, integration, "c1", device_id="d-anon")
    assert (answer["member"], answer["reason"]) == (True, "member")
    assert answer["user"] == listed(api, integration, "c1", None)
    assert answer["user"]["devices"] == [{"device_id": "d-anon"}]


def test_a_member_by_merge_shows_the_merge(client: TestClient, api: Api) -> None:
    integration = with_users(api, "u2")
    api.synced(integration, "c1", {"device_ids": ["d-anon"]})
    body = {
        "aliases_to_identify": [],
        "devices_to_identify": [{"external_id": "u2", "device_id": "d-anon"}],
    }
    assert post_users(client, integration.workspace, "/users/identify", body).status_code == 201
    answer = why(api, integration, "c1", external_id="u2")
    assert answer["reason"] == "member"
    assert event_summary(answer["events"]) == [("amplitude", "c1", "entered", "merge")]


def test_member_again_after_a_removal(api: Api) -> None:
    integration = with_users(api, "u2")
    for change in (adds("u1"), removes("u1"), adds("u1")):
        api.synced(integration, "c1", change)
    answer = why(api, integration, "c1", external_id="u1")
    assert answer["reason"] == "member"
    assert [e["event"] for e in answer["events"]] == ["entered", "left", "entered"]


# --- not a member ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "change"),
    [
        ({"external_id": "nobody"}, adds("nobody")),
        ({"alias_label": "crm", "alias_name": "gone"}, {"aliases": [alias("gone")]}),
        ({"device_id": "d-missing"}, {"device_ids": ["d-missing"]}),
    ],
    ids=["external_id", "alias", "device_id"],
)
def test_no_user_and_when_it_was_last_sent_unmatched(
    api: Api, question: dict[str, str], change: dict[str, Any]
) -> None:
    integration = with_users(api, "u2")
    api.synced(integration, "c1", adds("u1"))
    answer = why(api, integration, "c1", **question)
    assert answer == {
        "member": False,
        "reason": "no_user",
        "user": None,
        "last_unmatched_at": None,
        "events": [],
    }
    api.synced(integration, "c1", change)
    api.synced(integration, "c2", change)
    (entry,) = all_unmatched(api, integration, "c1")
    answer = why(api, integration, "c1", **question)
    assert answer["last_unmatched_at"] == entry["last_seen_at"]
    assert answer["reason"] == "no_user"


def test_device_of_identified_user_wins_over_never_added(api: Api) -> None:
    integration = with_users(api, "u2")
    api.synced(integration, "c1", {"device_ids": ["d-known"]})
    answer = why(api, integration, "c1", device_id="d-known")
    assert (answer["member"], answer["reason"]) == (False, "device_of_identified_user")
    assert answer["user"]["external_id"] == "u1"
    assert {"device_id": "d-known"} in answer["user"]["devices"]
    assert answer["events"] == []
    assert answer["last_unmatched_at"] == all_unmatched(api, integration, "c1")[0]["last_seen_at"]
    # Named by external id, the same user is simply never added.
    assert why(api, integration, "c1", external_id="u1")["reason"] == "never_added"


def test_device_of_identified_user_wins_over_removed(api: Api) -> None:
    integration = with_users(api, "u2")
    api.synced(integration, "c1", adds("u1"))
    api.synced(integration, "c1", removes("u1"))
    answer = why(api, integration, "c1", device_id="d-known")
    assert answer["reason"] == "device_of_identified_user"
    assert [e["event"] for e in answer["events"]] == ["entered", "left"]


def test_never_added_even_when_in_another_cohort(api: Api) -> None:
    integration = with_users(api, "u2")
    api.synced(integration, "c2", adds("u2"))
    api.synced(integration, "c1", adds("u1"))
    answer = why(api, integration, "c1", external_id="u2")
    assert (answer["member"], answer["reason"], answer["events"]) == (False, "never_added", [])
    assert answer["user"]["external_id"] == "u2"
    assert answer["user"]["user_aliases"] == []
    assert answer["last_unmatched_at"] is None


def test_removed_and_the_last_event_says_when(api: Api) -> None:
    integration = with_users(api, "u2")
    api.synced(integration, "c1", adds("u1"))
    api.synced(integration, "c1", removes("u1"))
    api.synced(integration, "c2", adds("u1"))
    answer = why(api, integration, "c1", **BY_ALIAS)
    assert (answer["member"], answer["reason"]) == (False, "removed")
    assert answer["events"] == cohort_events(api, integration, "c1", external_id="u1")
    assert event_summary(answer["events"]) == [
        ("amplitude", "c1", "entered", "partner_sync"),
        ("amplitude", "c1", "left", "partner_sync"),
    ]
    assert answer["events"][0]["at"] < answer["events"][1]["at"]


def test_an_identifier_that_later_matches_keeps_its_last_unmatched_time(api: Api) -> None:
    integration = with_users(api, "u2")
    api.synced(integration, "c1", adds("late"))
    (entry,) = all_unmatched(api, integration, "c1")
    api.track(integration.workspace, "late")
    assert why(api, integration, "c1", external_id="late")["reason"] == "never_added"
    api.synced(integration, "c1", adds("late"))
    answer = why(api, integration, "c1", external_id="late")
    assert (answer["reason"], answer["last_unmatched_at"]) == ("member", entry["last_seen_at"])


# --- the question ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        {},
        {"external_id": "u1", "device_id": "d-known"},
        {"external_id": "u1", **BY_ALIAS},
        {"alias_label": "crm"},
        {"alias_name": "a1"},
        {"device_id": "d-anon", "alias_name": "a1"},
    ],
    ids=str,
)
def test_not_exactly_one_identifier_is_400(api: Api, question: dict[str, str]) -> None:
    integration = with_users(api, "u2")
    api.synced(integration, "c1", adds("u1"))
    response = asked_why(api, integration, "c1", **question)
    assert response.status_code == 400
    assert message(response) == ONE_IDENTIFIER


@pytest.mark.parametrize(
    "question",
    [{"external_id": ""}, {"device_id": "x" * 998}, {"alias_label": "", "alias_name": "a"}],
)
def test_an_identifier_no_user_can_hold_is_400(api: Api, question: dict[str, str]) -> None:
    integration = with_users(api, "u2")
    api.synced(integration, "c1", adds("u1"))
    response = asked_why(api, integration, "c1", **question)
    assert response.status_code == 400
    assert "at most 997 bytes" in message(response)


def test_unknown_cohort_is_404(api: Api) -> None:
    integration = with_users(api, "u2")
    response = asked_why(api, integration, "nope", external_id="u1")
    assert response.status_code == 404
    assert message(response) == "Cohort 'nope' of partner 'amplitude' not found"


def test_cohort_ids_with_slashes(api: Api) -> None:
    integration = with_users(api, "u2")
    api.synced(integration, "a/why", adds("u1"))
    assert why(api, integration, "a/why", external_id="u1")["reason"] == "member"


def test_cohorts_read_is_required(client: TestClient, api: Api) -> None:
    integration = with_users(api, "u2")
    api.synced(integration, "c1", adds("u1"))
    others = [p.value for p in Permission if p is not Permission.COHORTS_READ]
    key = api.create_rest_key(integration.workspace.id, others)
    path, params = "/cohorts/amplitude/c1/why", {"external_id": "u1"}
    response = client.get(path, params=params, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 403
    assert Permission.COHORTS_READ.value in message(response)
    alone = api.create_rest_key(integration.workspace.id, [Permission.COHORTS_READ.value])
    response = client.get(path, params=params, headers={"Authorization": f"Bearer {alone}"})
    assert response.status_code == 200
    assert client.get(path, params=params).status_code == 401


def test_another_workspace_answers_about_its_own_users(api: Api) -> None:
    mine = with_users(api, "u2")
    theirs = api.integration(api.create_workspace("other"))
    api.synced(mine, "c1", adds("u1"), adds("ghost"))
    assert asked_why(api, theirs, "c1", external_id="u1").status_code == 404
    api.track(theirs.workspace, "u1")
    api.synced(theirs, "c1", adds("u2"))
    answer = why(api, theirs, "c1", external_id="u1")
    assert (answer["reason"], answer["events"]) == ("never_added", [])
    assert answer["user"]["braze_id"] != why(api, mine, "c1", external_id="u1")["user"]["braze_id"]
    assert why(api, theirs, "c1", external_id="ghost")["last_unmatched_at"] is None
