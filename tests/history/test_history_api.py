"""Membership history through HTTP: a user's events (``GET /users/cohort-history``), what
partner syncs, merges and deletes make of them, and how the user is named."""

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import Api, event_summary, instant
from tests.support.partner import adds, message, removes
from tests.support.users import alias, exported, identify, post_users, user

EVENT_FIELDS = {"partner", "cohort_id", "event", "at", "cause"}


def at(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["at"])


# --- events of partner syncs -----------------------------------------------------------------


def test_add_then_remove_gives_two_events_oldest_first(api: Api) -> None:
    integration = api.integration()
    api.track(integration.workspace, "u1")
    before = instant()
    api.synced(integration, "c1", adds("u1"))
    between = instant()
    api.synced(integration, "c1", removes("u1"))
    after = instant()
    events = api.user_history(integration.workspace, external_id="u1")
    assert [set(event) for event in events] == [EVENT_FIELDS, EVENT_FIELDS]
    assert event_summary(events) == [
        ("amplitude", "c1", "entered", "partner_sync"),
        ("amplitude", "c1", "left", "partner_sync"),
    ]
    assert before < at(events[0]) < between < at(events[1]) < after


def test_no_op_makes_no_event(api: Api) -> None:
    integration = api.integration()
    api.track(integration.workspace, "u1", "u2")
    api.synced(integration, "c1", adds("u1"))
    first = api.user_history(integration.workspace, external_id="u1")
    assert api.synced(integration, "c1", adds("u1"))["added"] == 0
    assert api.synced(integration, "c1", removes("u2"))["removed"] == 0
    assert api.synced(integration, "c2", removes("u1", "u2"))["removed"] == 0
    assert api.user_history(integration.workspace, external_id="u1") == first
    assert api.user_history(integration.workspace, external_id="u2") == []
    assert api.cohort_today(integration, "c1") == (1, 0, 1)
    assert api.cohort_today(integration, "c2") == (0, 0, 0)


def test_add_and_remove_in_one_request_net_out_without_events(api: Api) -> None:
    """A change that one request makes and undoes leaves no trace: neither for a user who was
    not a member (added, then removed) nor for one who was (removed, then added)."""
    integration = api.integration()
    api.track(integration.workspace, "out", "in")
    api.synced(integration, "c1", adds("in"))
    kept = api.user_history(integration.workspace, external_id="in")
    api.synced(integration, "c1", adds("out"), removes("out", "in"), adds("in"))
    assert api.user_history(integration.workspace, external_id="out") == []
    assert api.user_history(integration.workspace, external_id="in") == kept
    assert api.cohort_today(integration, "c1") == (1, 0, 1)


def test_events_of_one_request_carry_its_time(api: Api) -> None:
    integration = api.integration()
    workspace = integration.workspace
    api.track(workspace, "u1", "u2", "u3", "u4")
    api.synced(integration, "c1", adds("u1", "u2"), adds("u3"))
    entered = [api.user_history(workspace, external_id=u)[0] for u in ("u1", "u2", "u3")]
    assert len({event["at"] for event in entered}) == 1
    instant()
    api.synced(integration, "c1", removes("u1"), removes("u2"))
    left = [api.user_history(workspace, external_id=u)[-1] for u in ("u1", "u2")]
    assert [event["event"] for event in left] == ["left", "left"]
    assert left[0]["at"] == left[1]["at"] > entered[0]["at"]


def test_events_of_every_partner_and_cohort_oldest_first(api: Api) -> None:
    amplitude = api.integration()
    mixpanel = api.integration(amplitude.workspace, "mixpanel")
    api.track(amplitude.workspace, "u1")
    api.synced(mixpanel, "z", adds("u1"))
    instant()
    api.synced(amplitude, "a", adds("u1"))
    instant()
    api.synced(mixpanel, "z", removes("u1"))
    instant()
    api.synced(mixpanel, "z", adds("u1"))
    events = api.user_history(amplitude.workspace, external_id="u1")
    assert event_summary(events) == [
        ("mixpanel", "z", "entered", "partner_sync"),
        ("amplitude", "a", "entered", "partner_sync"),
        ("mixpanel", "z", "left", "partner_sync"),
        ("mixpanel", "z", "entered", "partner_sync"),
    ]
    assert [at(e) for e in events] == sorted(at(e) for e in events)
    assert len({e["at"] for e in events}) == 4


def test_device_and_alias_syncs_are_events_of_their_user(api: Api) -> None:
    integration = api.integration()
    workspace = integration.workspace
    api.add_devices(workspace, [{"device_id": "d1"}])
    api.add_aliases(workspace, [alias("a1")])
    api.synced(integration, "c1", {"device_ids": ["d1"], "aliases": [alias("a1")]})
    for identifier in ({"device_id": "d1"}, {"alias_label": "crm", "alias_name": "a1"}):
        events = api.user_history(workspace, **identifier)
        assert event_summary(events) == [("amplitude", "c1", "entered", "partner_sync")]


# --- merges ----------------------------------------------------------------------------------


def test_identify_merge_gives_the_kept_user_merge_events(client: TestClient, api: Api) -> None:
    """The kept user enters, at the merge, each cohort the anonymous user was in and it was not;
    a cohort it already held makes no event; the anonymous user's history goes."""
    integration = api.integration()
    workspace = integration.workspace
    api.track(workspace, "alice")
    api.add_devices(workspace, [{"device_id": "phone"}])
    anonymous = exported(client, workspace, device_id="phone")["users"][0]["braze_id"]
    api.synced(integration, "both", adds("alice"), {"device_ids": ["phone"]})
    api.synced(integration, "anon", {"device_ids": ["phone"]})
    before = instant()
    identify(
        client,
        workspace,
        aliases_to_identify=[],
        devices_to_identify=[{"external_id": "alice", "device_id": "phone"}],
    )
    after = instant()
    events = api.user_history(workspace, external_id="alice")
    assert event_summary(events) == [
        ("amplitude", "both", "entered", "partner_sync"),
        ("amplitude", "anon", "entered", "merge"),
    ]
    assert before < at(events[1]) < after
    # The device is alice's now, and names her; the anonymous user is gone with its history.
    assert api.user_history(workspace, device_id="phone") == events
    gone = client.get(
        "/users/cohort-history", params={"braze_id": anonymous}, headers=workspace.headers
    )
    assert gone.status_code == 404, gone.text
    # The cohorts count the anonymous user's entry no more, and alice's once.
    assert api.cohort_today(integration, "anon") == (1, 0, 1)
    assert api.cohort_today(integration, "both") == (1, 0, 1)


def test_alias_merge_gives_the_kept_user_merge_events(client: TestClient, api: Api) -> None:
    integration = api.integration()
    workspace = integration.workspace
    api.track(workspace, "bob")
    api.add_aliases(workspace, [alias("visitor")])
    api.synced(integration, "c1", {"aliases": [alias("visitor")]})
    entry = {"external_id": "bob", "user_alias": alias("visitor")}
    identify(client, workspace, aliases_to_identify=[entry])
    expected = [("amplitude", "c1", "entered", "merge")]
    assert event_summary(api.user_history(workspace, external_id="bob")) == expected
    by_alias = api.user_history(workspace, alias_label="crm", alias_name="visitor")
    assert event_summary(by_alias) == expected


def test_login_on_an_anonymous_device_merges_with_merge_events(
    client: TestClient, api: Api
) -> None:
    """``POST /users/devices`` with the external id of an existing user merges as identify does."""
    integration = api.integration()
    workspace = integration.workspace
    api.track(workspace, "carol")
    api.add_devices(workspace, [{"device_id": "tablet"}])
    api.synced(integration, "c1", {"device_ids": ["tablet"]})
    api.synced(integration, "c2", {"device_ids": ["tablet"]})
    api.add_devices(workspace, [{"device_id": "tablet", "external_id": "carol"}])
    events = api.user_history(workspace, external_id="carol")
    assert event_summary(events) == [
        ("amplitude", "c1", "entered", "merge"),
        ("amplitude", "c2", "entered", "merge"),
    ]
    assert events[0]["at"] == events[1]["at"]


def test_merge_into_a_user_who_left_the_cohort_opens_a_new_stay(
    client: TestClient, api: Api
) -> None:
    integration = api.integration()
    workspace = integration.workspace
    api.track(workspace, "dave")
    api.add_devices(workspace, [{"device_id": "laptop"}])
    api.synced(integration, "c1", adds("dave"))
    instant()
    api.synced(integration, "c1", removes("dave"))
    instant()
    api.synced(integration, "c1", {"device_ids": ["laptop"]})
    instant()
    identify(
        client,
        workspace,
        aliases_to_identify=[],
        devices_to_identify=[{"external_id": "dave", "device_id": "laptop"}],
    )
    events = api.user_history(workspace, external_id="dave")
    assert event_summary(events) == [
        ("amplitude", "c1", "entered", "partner_sync"),
        ("amplitude", "c1", "left", "partner_sync"),
        ("amplitude", "c1", "entered", "merge"),
    ]
    assert api.cohort_today(integration, "c1") == (2, 1, 1)
    # The merged stay ends like any other, by a partner's sync.
    api.synced(integration, "c1", removes("dave"))
    last = api.user_history(workspace, external_id="dave")[-1]
    assert (last["event"], last["cause"]) == ("left", "partner_sync")


def test_identifying_with_a_new_external_id_keeps_the_users_own_history(
    client: TestClient, api: Api
) -> None:
    integration = api.integration()
    workspace = integration.workspace
    api.add_devices(workspace, [{"device_id": "watch"}])
    api.synced(integration, "c1", {"device_ids": ["watch"]})
    events = api.user_history(workspace, device_id="watch")
    identify(
        client,
        workspace,
        aliases_to_identify=[],
        devices_to_identify=[{"external_id": "erin", "device_id": "watch"}],
    )
    assert api.user_history(workspace, external_id="erin") == events
    assert event_summary(events) == [("amplitude", "c1", "entered", "partner_sync")]


# --- deletes ---------------------------------------------------------------------------------


def test_a_deleted_user_leaves_no_history(client: TestClient, api: Api) -> None:
    integration = api.integration()
    workspace = integration.workspace
    api.track(workspace, "gone", "stays")
    api.synced(integration, "c1", adds("gone", "stays"))
    api.synced(integration, "c1", removes("gone"))
    api.synced(integration, "c2", adds("gone"))
    braze_id = user(client, workspace, "gone")["braze_id"]
    assert api.cohort_today(integration, "c1") == (2, 1, 1)
    assert api.cohort_today(integration, "c2") == (1, 0, 1)
    response = post_users(client, workspace, "/users/delete", {"external_ids": ["gone"]})
    assert response.json()["deleted"] == 1
    for identifier in ({"external_id": "gone"}, {"braze_id": braze_id}):
        missing = client.get("/users/cohort-history", params=identifier, headers=workspace.headers)
        assert missing.status_code == 404, missing.text
    assert api.cohort_today(integration, "c1") == (1, 0, 1)
    assert api.cohort_today(integration, "c2") == (0, 0, 0)
    # The external id used again names a new user, whose history starts empty.
    api.track(workspace, "gone")
    assert api.user_history(workspace, external_id="gone") == []


# --- naming the user -------------------------------------------------------------------------


def test_each_identifier_kind_names_the_user(client: TestClient, api: Api) -> None:
    integration = api.integration()
    workspace = integration.workspace
    api.add_devices(workspace, [{"device_id": "d1", "external_id": "u1"}])
    api.add_aliases(workspace, [{"external_id": "u1", **alias("a1")}])
    api.synced(integration, "c1", adds("u1"))
    braze_id = user(client, workspace, "u1")["braze_id"]
    expected = api.user_history(workspace, external_id="u1")
    assert event_summary(expected) == [("amplitude", "c1", "entered", "partner_sync")]
    assert api.user_history(workspace, braze_id=braze_id) == expected
    assert api.user_history(workspace, device_id="d1") == expected
    assert api.user_history(workspace, alias_label="crm", alias_name="a1") == expected


@pytest.mark.parametrize(
    "identifier",
    [
        {},
        {"external_id": "u1", "braze_id": "b"},
        {"external_id": "u1", "device_id": "d1"},
        {"device_id": "d1", "alias_label": "crm", "alias_name": "a1"},
        {"alias_label": "crm"},
        {"alias_name": "a1"},
        {"external_id": "u1", "alias_name": "a1"},
    ],
)
def test_not_exactly_one_identifier_is_400(
    client: TestClient, api: Api, identifier: dict[str, str]
) -> None:
    workspace = api.create_workspace()
    api.add_devices(workspace, [{"device_id": "d1", "external_id": "u1"}])
    api.add_aliases(workspace, [{"external_id": "u1", **alias("a1")}])
    response = client.get("/users/cohort-history", params=identifier, headers=workspace.headers)
    assert response.status_code == 400, response.text
    assert message(response)


@pytest.mark.parametrize(
    "identifier",
    [
        {"external_id": "nobody"},
        {"braze_id": "0123456789abcdef01234567"},
        {"device_id": "nowhere"},
        {"alias_label": "crm", "alias_name": "nobody"},
        {"alias_label": "other", "alias_name": "a1"},
    ],
)
def test_unknown_user_is_404(client: TestClient, api: Api, identifier: dict[str, str]) -> None:
    workspace = api.create_workspace()
    api.add_aliases(workspace, [{"external_id": "u1", **alias("a1")}])
    response = client.get("/users/cohort-history", params=identifier, headers=workspace.headers)
    assert response.status_code == 404, response.text
    assert message(response)


def test_a_request_that_adds_and_removes_gives_its_events_one_time(api: Api) -> None:
    """The usual request of a partner: some users in, others out, each identifier once."""
    integration = api.integration()
    workspace = integration.workspace
    api.track(workspace, "u1", "u2", "u3")
    api.synced(integration, "c1", adds("u1", "u2"))
    instant()
    result = api.synced(integration, "c1", removes("u1"), adds("u3"), removes("u2"))
    assert (result["added"], result["removed"]) == (1, 2)
    changed = [api.user_history(workspace, external_id=u)[-1] for u in ("u1", "u3", "u2")]
    assert [(e["event"], e["cause"]) for e in changed] == [
        ("left", "partner_sync"),
        ("entered", "partner_sync"),
        ("left", "partner_sync"),
    ]
    assert len({event["at"] for event in changed}) == 1
