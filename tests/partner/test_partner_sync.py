"""Cohort sync through HTTP: naming, membership changes in order, atomicity, bookkeeping."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support import Api, Integration
from tests.support.partner import (
    CHANGES_MESSAGE,
    adds,
    changes_body,
    cohort_ids,
    cohort_or_none,
    cohorts_path,
    data_points,
    integration_with_users,
    message,
    name_body,
    post_partner,
    removes,
    sync,
    users_path,
)


@pytest.fixture
def integration(api: Api) -> Integration:
    return integration_with_users(api, "u1", "u2", "u3")


def counts(added: int, removed: int, unmatched: int) -> dict[str, Any]:
    return {"message": "success", "added": added, "removed": removed, "unmatched": unmatched}


def test_adds_and_removes_members(api: Api, integration: Integration) -> None:
    assert sync(api, integration, [adds("u1", "u2", "ghost")]) == counts(2, 0, 1)
    assert api.member_external_ids(integration, "c1") == {"u1", "u2"}
    assert sync(api, integration, [removes("u1", "ghost")]) == counts(0, 1, 1)
    assert api.member_external_ids(integration, "c1") == {"u2"}
    assert api.cohort(integration, "c1")["size"] == 1


def test_changes_apply_in_array_order(api: Api, integration: Integration) -> None:
    assert sync(api, integration, [adds("u1"), removes("u1")]) == counts(1, 1, 0)
    assert api.member_external_ids(integration, "c1") == set()
    assert sync(api, integration, [removes("u2"), adds("u2")]) == counts(1, 0, 0)
    assert sync(api, integration, [removes("u2"), adds("u2"), removes("u2")]) == counts(1, 2, 0)
    assert api.member_external_ids(integration, "c1") == set()
    assert api.cohort(integration, "c1")["size"] == 0


def test_adding_a_member_twice_and_removing_a_non_member_are_no_ops(
    api: Api, integration: Integration
) -> None:
    assert sync(api, integration, [adds("u1", "u1"), adds("u1")]) == counts(1, 0, 0)
    assert sync(api, integration, [adds("u1")]) == counts(0, 0, 0)
    assert sync(api, integration, [removes("u2", "u3")]) == counts(0, 0, 0)
    assert api.member_external_ids(integration, "c1") == {"u1"}


def test_one_user_by_several_identifiers(api: Api, integration: Integration) -> None:
    api.add_aliases(
        integration.workspace, [{"external_id": "u1", "alias_name": "a1", "alias_label": "amp"}]
    )
    alias = {"aliases": [{"alias_name": "a1", "alias_label": "amp"}]}
    assert sync(api, integration, [adds("u1"), alias]) == counts(1, 0, 0)
    assert sync(api, integration, [{**alias, "should_remove": True}]) == counts(0, 1, 0)
    assert api.member_external_ids(integration, "c1") == set()


def test_one_user_added_by_one_identifier_and_removed_by_another(
    api: Api, integration: Integration
) -> None:
    # No identifier comes twice, yet one user is in both directions: order decides.
    api.add_aliases(
        integration.workspace, [{"external_id": "u1", "alias_name": "a1", "alias_label": "amp"}]
    )
    alias = {"aliases": [{"alias_name": "a1", "alias_label": "amp"}]}
    assert sync(api, integration, [adds("u1", "u2"), {**alias, "should_remove": True}]) == counts(
        2, 1, 0
    )
    assert api.member_external_ids(integration, "c1") == {"u2"}
    assert sync(api, integration, [{**alias, "should_remove": True}, adds("u1")]) == counts(1, 0, 0)
    assert api.member_external_ids(integration, "c1") == {"u1", "u2"}
    assert api.cohort(integration, "c1")["size"] == 2


def test_adds_and_removes_of_different_users_in_one_request(
    api: Api, integration: Integration
) -> None:
    sync(api, integration, [adds("u1", "u2")])
    changes = [adds("u3", "ghost"), removes("u1", "nobody"), adds("u2")]
    assert sync(api, integration, changes) == counts(1, 1, 2)
    assert api.member_external_ids(integration, "c1") == {"u2", "u3"}
    assert api.cohort(integration, "c1")["size"] == 2


def test_device_ids_match_anonymous_users_only(api: Api, integration: Integration) -> None:
    api.add_devices(
        integration.workspace,
        [{"device_id": "anon-phone"}, {"device_id": "known-phone", "external_id": "u1"}],
    )
    result = sync(api, integration, [{"device_ids": ["anon-phone", "known-phone", "nope"]}])
    assert result == counts(1, 0, 2)
    assert api.member_external_ids(integration, "c1") == {None}


def test_aliases_match_alias_only_users(api: Api, integration: Integration) -> None:
    api.add_aliases(integration.workspace, [{"alias_name": "n1", "alias_label": "crm"}])
    changes = [
        {
            "aliases": [
                {"alias_name": "n1", "alias_label": "crm"},
                {"alias_name": "n1", "alias_label": "x"},
            ]
        }
    ]
    assert sync(api, integration, changes) == counts(1, 0, 1)
    [member] = api.cohort_members(integration, "c1")
    assert member["user_aliases"] == [{"alias_name": "n1", "alias_label": "crm"}]


def test_cohort_import_never_creates_users(api: Api, integration: Integration) -> None:
    changes = [
        {
            "user_ids": ["new"],
            "device_ids": ["new"],
            "aliases": [{"alias_name": "n", "alias_label": "l"}],
        }
    ]
    assert sync(api, integration, changes) == counts(0, 0, 3)
    exported = api.client.post(
        "/users/export/ids", json={"external_ids": ["new"]}, headers=integration.workspace.headers
    )
    assert exported.json()["users"] == []


@pytest.mark.parametrize("odd", ["nul\u0000", "\ud800", "x" * 998, "é" * 499, ""])
def test_identifiers_the_store_cannot_hold_are_unmatched(
    api: Api, integration: Integration, odd: str
) -> None:
    changes = [
        {"user_ids": [odd, "u1"], "device_ids": [odd]},
        {
            "aliases": [
                {"alias_name": odd, "alias_label": "l"},
                {"alias_name": "n", "alias_label": odd},
            ]
        },
    ]
    response = post_partner(api, users_path(integration), changes_body(integration, "c1", changes))
    assert response.status_code == 201
    assert response.json() == counts(1, 0, 4)


def test_longest_identifier_matches(api: Api, integration: Integration) -> None:
    longest = "é" * 498 + "x"  # 997 bytes
    api.track(integration.workspace, longest)
    assert sync(api, integration, [adds(longest)]) == counts(1, 0, 0)


def test_rejected_request_changes_nothing(api: Api, integration: Integration) -> None:
    bad = [adds("u1", "u2"), {"user_ids": [1]}]
    response = post_partner(api, users_path(integration), changes_body(integration, "c1", bad))
    assert message(response) == CHANGES_MESSAGE
    assert cohort_or_none(api, integration, "c1") is None
    sync(api, integration, [adds("u3")])
    response = post_partner(
        api,
        users_path(integration),
        changes_body(integration, "c1", [removes("u3"), {"aliases": [{}]}]),
    )
    assert response.status_code == 400
    assert api.member_external_ids(integration, "c1") == {"u3"}
    assert len(api.cohort(integration, "c1")["recent_syncs"]) == 1


def test_empty_changes_create_nothing(api: Api, integration: Integration) -> None:
    assert sync(api, integration, []) == counts(0, 0, 0)
    assert cohort_ids(api, integration) == []


def test_unknown_cohort_is_created_without_a_name_even_when_nothing_matches(
    api: Api, integration: Integration
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    assert sync(api, integration, [{"user_ids": [], "device_ids": [], "aliases": []}]) == counts(
        0, 0, 0
    )
    cohort = api.cohort(integration, "c1")
    assert cohort["name"] is None
    assert cohort["size"] == 0
    created_at = datetime.fromisoformat(cohort["created_at"])
    assert before <= created_at <= datetime.now(UTC) + timedelta(seconds=1)
    assert cohort["last_synced_at"] is not None
    assert cohort["recent_syncs"][0] | {"received_at": None} == {
        "received_at": None,
        "added": 0,
        "removed": 0,
        "unmatched": 0,
    }


def test_sync_log_and_last_synced_at(api: Api, integration: Integration) -> None:
    sync(api, integration, [adds("u1", "ghost")])
    sync(api, integration, [removes("u1"), adds("u2", "u3")])
    cohort = api.cohort(integration, "c1")
    assert [(s["added"], s["removed"], s["unmatched"]) for s in cohort["recent_syncs"]] == [
        (2, 1, 0),
        (1, 0, 1),
    ]
    assert cohort["last_synced_at"] == cohort["recent_syncs"][0]["received_at"]
    assert cohort["size"] == 2


def test_naming_is_an_idempotent_upsert_keeping_the_first_created_at(
    api: Api, integration: Integration
) -> None:
    path = cohorts_path(integration)
    first = name_body(integration, name="First", created_at="2024-01-01T00:00:00Z")
    assert post_partner(api, path, first).json() == {"message": "success"}
    assert post_partner(api, path, first).status_code == 201
    renamed = name_body(integration, name="Second", created_at="2025-06-01T00:00:00Z")
    assert post_partner(api, path, renamed).status_code == 201
    cohort = api.cohort(integration, "c1")
    assert (cohort["name"], cohort["created_at"]) == ("Second", "2024-01-01T00:00:00Z")
    assert cohort_ids(api, integration) == ["c1"]


def test_renaming_moves_updated_at_and_repeating_does_not(
    api: Api, integration: Integration
) -> None:
    path = cohorts_path(integration)
    post_partner(api, path, name_body(integration, name="A"))
    created = api.cohort(integration, "c1")["updated_at"]
    post_partner(api, path, name_body(integration, name="A"))
    assert api.cohort(integration, "c1")["updated_at"] == created
    post_partner(api, path, name_body(integration, name="B"))
    assert api.cohort(integration, "c1")["updated_at"] > created


def test_naming_a_cohort_created_by_a_sync_keeps_members_and_created_at(
    api: Api, integration: Integration
) -> None:
    sync(api, integration, [adds("u1")])
    created_at = api.cohort(integration, "c1")["created_at"]
    post_partner(api, cohorts_path(integration), name_body(integration, name="Later"))
    cohort = api.cohort(integration, "c1")
    assert (cohort["name"], cohort["created_at"], cohort["size"]) == ("Later", created_at, 1)


@pytest.mark.parametrize(
    "cohort_id",
    [
        "with space",
        "a/b/c",
        "/leading",
        "trailing/",
        "ünïcödé",
        "日本語",
        "🚀 launch",
        "50%",
        "a?b#c",
        " ",
    ],
)
def test_unusual_cohort_ids(api: Api, integration: Integration, cohort_id: str) -> None:
    assert (
        post_partner(
            api, cohorts_path(integration), name_body(integration, cohort_id=cohort_id)
        ).status_code
        == 201
    )
    assert sync(api, integration, [adds("u1")], cohort_id=cohort_id) == counts(1, 0, 0)
    assert cohort_ids(api, integration) == [cohort_id]
    assert api.cohort(integration, cohort_id)["name"] == "Power users"


def test_workspaces_are_isolated(api: Api) -> None:
    ours = api.integration(api.create_workspace("ours"))
    theirs = api.integration(api.create_workspace("theirs"))
    api.track(ours.workspace, "same")
    api.track(theirs.workspace, "same", "only-theirs")
    assert sync(api, ours, [adds("same", "only-theirs")]) == counts(1, 0, 1)
    assert cohort_ids(api, theirs) == []
    assert sync(api, theirs, [adds("same")]) == counts(1, 0, 0)
    assert sync(api, ours, [removes("same")]) == counts(0, 1, 0)
    assert api.member_external_ids(theirs, "c1") == {"same"}
    assert api.cohort(ours, "c1")["size"] == 0


def test_same_cohort_id_for_two_partners_is_two_cohorts(api: Api, integration: Integration) -> None:
    other = api.integration(integration.workspace, partner="mixpanel")
    sync(api, integration, [adds("u1")])
    sync(api, other, [adds("u2")])
    assert api.member_external_ids(integration, "c1") == {"u1"}
    assert api.member_external_ids(other, "c1") == {"u2"}


def test_data_points_count_applied_adds_and_removes(api: Api, integration: Integration) -> None:
    sync(api, integration, [adds("u1", "u2", "ghost")])
    sync(api, integration, [adds("u1"), removes("u3")])
    assert data_points(api, integration) == 2
    sync(api, integration, [removes("u1"), adds("u1")])
    assert data_points(api, integration) == 4
    other = api.integration(integration.workspace, partner="mixpanel")
    sync(api, other, [adds("u1")])
    assert data_points(api, integration) == 4
    assert data_points(api, other) == 1


def test_rejected_requests_count_no_data_points(api: Api, integration: Integration) -> None:
    post_partner(
        api,
        users_path(integration),
        changes_body(integration, "c1", [adds("u1"), {"user_ids": [2]}]),
    )
    assert data_points(api, integration) == 0
