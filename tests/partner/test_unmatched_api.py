"""The ledger of unmatched identifiers (``GET /cohorts/{partner}/{cohort_id}/unmatched``):
what partner syncs sent that matched no user, why, how often and when, newest first, paged."""

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kohorte.api.app import create_app
from kohorte.domain.permissions import Permission
from kohorte.settings import Settings
from tests.support import Api, instant
from tests.support.partner import adds, changes_body, message, post_partner, users_path
from tests.support.unmatched import all_unmatched, by_value, unmatched_page, with_users
from tests.support.users import alias

FIELDS = {"kind", "value", "reason", "count", "first_seen_at", "last_seen_at"}


def seen(identifier: dict[str, Any], field: str = "last_seen_at") -> datetime:
    return datetime.fromisoformat(identifier[field])


def every_kind(**extra: Any) -> dict[str, Any]:
    return {
        "user_ids": ["u1", "nobody"],
        "aliases": [alias("a1"), alias("a-missing")],
        "device_ids": ["d-anon", "d-missing", "d-known"],
        **extra,
    }


# --- what is recorded ------------------------------------------------------------------------


def test_every_reason_is_recorded_and_matched_identifiers_are_not(api: Api) -> None:
    integration = with_users(api)
    before = instant()
    assert api.synced(integration, "c1", every_kind())["unmatched"] == 4
    after = instant()
    found = all_unmatched(api, integration, "c1")
    assert all(set(i) == FIELDS for i in found), found
    assert {key: i["reason"] for key, i in by_value(found).items()} == {
        ("external_id", "nobody"): "no user with this external_id",
        ("alias", ("crm", "a-missing")): "no user with this alias",
        ("device_id", "d-missing"): "no user with this device_id",
        ("device_id", "d-known"): "device belongs to an identified user",
    }
    alias_entry = by_value(found)[("alias", ("crm", "a-missing"))]
    assert alias_entry["value"] == {"alias_name": "a-missing", "alias_label": "crm"}
    for identifier in found:
        assert identifier["count"] == 1
        assert before < seen(identifier, "first_seen_at") == seen(identifier) < after


def test_removes_are_recorded_like_adds(api: Api) -> None:
    integration = with_users(api)
    api.synced(integration, "c1", every_kind(should_remove=True))
    assert len(all_unmatched(api, integration, "c1")) == 4


def test_count_is_requests_and_first_seen_stays_while_last_seen_moves(api: Api) -> None:
    integration = with_users(api)
    api.synced(integration, "c1", adds("nobody", "once"))
    first = by_value(all_unmatched(api, integration, "c1"))
    between = instant()
    api.synced(integration, "c1", adds("nobody"))
    api.synced(integration, "c1", {"user_ids": ["nobody"], "should_remove": True})
    now = by_value(all_unmatched(api, integration, "c1"))
    nobody, once = now[("external_id", "nobody")], now[("external_id", "once")]
    assert (nobody["count"], once["count"]) == (3, 1)
    assert nobody["first_seen_at"] == first[("external_id", "nobody")]["first_seen_at"]
    assert seen(first[("external_id", "nobody")]) < between < seen(nobody)
    assert once == first[("external_id", "once")]


def test_an_identifier_sent_twice_in_one_request_counts_once(api: Api) -> None:
    integration = with_users(api)
    changes: list[dict[str, Any]] = [
        {"user_ids": ["nobody", "nobody"], "aliases": [alias("x"), alias("x")]},
        {"user_ids": ["nobody"], "device_ids": ["d-missing"], "should_remove": True},
        {"device_ids": ["d-missing"]},
    ]
    assert api.synced(integration, "c1", *changes)["unmatched"] == 7
    found = all_unmatched(api, integration, "c1")
    assert sorted(i["count"] for i in found) == [1, 1, 1]


def test_the_reason_is_the_one_of_the_last_time_seen(client: TestClient, api: Api) -> None:
    integration = with_users(api)
    api.synced(integration, "c1", {"device_ids": ["d-later"]})
    listed = by_value(all_unmatched(api, integration, "c1"))[("device_id", "d-later")]
    assert listed["reason"] == "no user with this device_id"
    api.add_devices(integration.workspace, [{"device_id": "d-later"}])
    assert api.synced(integration, "c1", {"device_ids": ["d-later"]})["added"] == 1
    # The anonymous owner is identified between two syncs: the device no longer matches.
    api.add_devices(integration.workspace, [{"device_id": "d-later", "external_id": "u9"}])
    assert api.synced(integration, "c2", {"device_ids": ["d-later"]})["unmatched"] == 1
    assert api.synced(integration, "c1", {"device_ids": ["d-later"]})["unmatched"] == 1
    listed = by_value(all_unmatched(api, integration, "c1"))[("device_id", "d-later")]
    assert (listed["reason"], listed["count"]) == ("device belongs to an identified user", 2)


def test_identifiers_that_later_match_keep_their_old_entry(api: Api) -> None:
    integration = with_users(api)
    api.synced(integration, "c1", adds("late"))
    entry = all_unmatched(api, integration, "c1")
    api.track(integration.workspace, "late")
    assert api.synced(integration, "c1", adds("late"))["added"] == 1
    assert all_unmatched(api, integration, "c1") == entry


def test_each_cohort_has_its_own_ledger(api: Api) -> None:
    integration = with_users(api)
    api.synced(integration, "c1", adds("x1"))
    api.synced(integration, "c2", adds("x1"), adds("x2"))
    assert [i["value"] for i in all_unmatched(api, integration, "c1")] == ["x1"]
    assert sorted(i["value"] for i in all_unmatched(api, integration, "c2")) == ["x1", "x2"]


def test_identifiers_no_row_can_hold_are_counted_but_not_recorded(api: Api) -> None:
    integration = with_users(api)
    unholdable = ["", "nul\x00", "lone\ud800", "x" * 998]
    body = changes_body(integration, "c1", [{"user_ids": [*unholdable, "kept"]}])
    response = post_partner(api, users_path(integration), body)
    assert api.expect(response, 201)["unmatched"] == 5
    assert [i["value"] for i in all_unmatched(api, integration, "c1")] == ["kept"]


def test_a_rejected_request_records_nothing(api: Api) -> None:
    integration = with_users(api)
    api.synced(integration, "c1", adds("u1"))
    response = api.sync(integration, "c1", [adds("nobody"), {"user_ids": [1]}])
    assert response.status_code == 400
    assert all_unmatched(api, integration, "c1") == []


def test_a_sync_where_everything_matched_records_nothing(api: Api) -> None:
    integration = with_users(api)
    api.synced(integration, "c1", {"user_ids": ["u1"], "device_ids": ["d-anon"]})
    assert all_unmatched(api, integration, "c1") == []


# --- order and pages -------------------------------------------------------------------------


def test_most_recently_seen_first(api: Api) -> None:
    integration = with_users(api)
    for name in ("x1", "x2", "x3"):
        api.synced(integration, "c1", adds(name))
    api.synced(integration, "c1", adds("x1"))
    found = all_unmatched(api, integration, "c1")
    assert [i["value"] for i in found] == ["x1", "x3", "x2"]
    assert [seen(i) for i in found] == sorted((seen(i) for i in found), reverse=True)


@pytest.mark.parametrize("limit", [1, 2, 3, 1000])
def test_pages_return_every_identifier_once_in_order(api: Api, limit: int) -> None:
    integration = with_users(api)
    api.synced(integration, "c1", {"user_ids": ["b1", "b2", "b3"], "aliases": [alias("b4")]})
    api.synced(integration, "c1", {"device_ids": ["b5", "b6"]}, adds("b7"))
    whole = all_unmatched(api, integration, "c1", limit=1000)
    assert len(whole) == 7
    assert [i["kind"] for i in whole[:3]] == ["device_id", "device_id", "external_id"]
    assert all_unmatched(api, integration, "c1", limit=limit) == whole


def test_the_default_page_is_100(api: Api) -> None:
    integration = with_users(api)
    api.synced(integration, "c1", adds(*(f"x{n}" for n in range(101))))
    page = api.expect(unmatched_page(api, integration, "c1"), 200)
    assert len(page["identifiers"]) == 100
    assert page["next_cursor"] is not None
    rest = api.expect(unmatched_page(api, integration, "c1", cursor=page["next_cursor"]), 200)
    assert len(rest["identifiers"]) == 1
    assert rest["next_cursor"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 1001},
        {"limit": "many"},
        {"cursor": "not-a-cursor"},
        {"cursor": "eyJhZnRlciI6MX0"},  # {"after":1}
        # A forged position with a NUL, a lone surrogate, a time without offset, a bad kind.
        {"cursor": "eyJhZnRlciI6WyIyMDI0LTAxLTAxVDAwOjAwOjAwKzAwOjAwIiwwLCIiLCJcdTAwMDAiXX0"},
        {"cursor": "eyJhZnRlciI6WyIyMDI0LTAxLTAxVDAwOjAwOjAwKzAwOjAwIiwwLCIiLCJcdWQ4MDAiXX0"},
        {"cursor": "eyJhZnRlciI6WyIyMDI0LTAxLTAxVDAwOjAwOjAwIiwwLCIiLCJ4Il19"},
        {"cursor": "eyJhZnRlciI6WyIyMDI0LTAxLTAxVDAwOjAwOjAwKzAwOjAwIiw5LCIiLCJ4Il19"},
        {"cursor": "eyJhZnRlciI6WyIwMDAxLTAxLTAxVDAwOjAwOjAwKzAxOjAwIiwwLCIiLCJ4Il19"},
    ],
)
def test_bad_limit_or_cursor_is_400(api: Api, params: dict[str, Any]) -> None:
    integration = with_users(api)
    api.synced(integration, "c1", adds("x1"))
    response = unmatched_page(api, integration, "c1", **params)
    assert response.status_code == 400, response.text
    assert message(response)


# --- the bound -------------------------------------------------------------------------------


def batch(n: int) -> dict[str, Any]:
    return adds(*(f"batch{n}-{i}" for i in range(1000)))


def test_at_most_10000_per_cohort_and_the_least_recently_seen_go_first(api: Api) -> None:
    integration = with_users(api)
    for n in range(10):
        api.synced(integration, "c1", batch(n))
    assert len(all_unmatched(api, integration, "c1", limit=1000)) == 10_000
    api.synced(integration, "c1", adds("batch0-7", "batch1-7"))  # seen again: kept
    api.synced(integration, "c1", batch(10))
    kept = {i["value"] for i in all_unmatched(api, integration, "c1", limit=1000)}
    assert len(kept) == 10_000
    assert {"batch0-7", "batch1-7"} <= kept
    # The 999 of batch 0 not seen again went, and one of batch 1: the next least recent.
    assert not {f"batch0-{i}" for i in range(1000)} - {"batch0-7"} & kept
    assert len({f"batch1-{i}" for i in range(1000)} & kept) == 999
    assert {f"batch{n}-{i}" for n in range(2, 11) for i in range(1000)} <= kept


# --- access ----------------------------------------------------------------------------------


def test_unknown_cohort_is_404(api: Api) -> None:
    integration = with_users(api)
    response = unmatched_page(api, integration, "nope")
    assert response.status_code == 404
    assert message(response) == "Cohort 'nope' of partner 'amplitude' not found"


def test_cohort_ids_with_slashes(api: Api) -> None:
    integration = with_users(api)
    api.synced(integration, "a/b/unmatched", adds("x1"))
    assert [i["value"] for i in all_unmatched(api, integration, "a/b/unmatched")] == ["x1"]


def test_cohorts_read_is_required(client: TestClient, api: Api) -> None:
    integration = with_users(api)
    api.synced(integration, "c1", adds("x1"))
    others = [p.value for p in Permission if p is not Permission.COHORTS_READ]
    key = api.create_rest_key(integration.workspace.id, others)
    path = "/cohorts/amplitude/c1/unmatched"
    response = client.get(path, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 403
    assert Permission.COHORTS_READ.value in message(response)
    assert client.get(path).status_code == 401


def test_another_workspace_sees_only_its_own(api: Api) -> None:
    mine = with_users(api)
    theirs = api.integration(api.create_workspace("other"))
    api.synced(mine, "c1", adds("x-mine"))
    assert unmatched_page(api, theirs, "c1").status_code == 404
    api.synced(theirs, "c1", adds("x-theirs"))
    assert [i["value"] for i in all_unmatched(api, theirs, "c1")] == ["x-theirs"]
    assert [i["value"] for i in all_unmatched(api, mine, "c1")] == ["x-mine"]


def test_the_bound_is_the_setting(settings: Settings, engine: Engine) -> None:
    bounded = settings.model_copy(update={"unmatched_per_cohort": 2})
    with TestClient(create_app(bounded, engine), base_url="http://kohorte.test") as client:
        api = Api(client)
        integration = with_users(api)
        for value in ("first", "second", "third"):
            api.synced(integration, "c1", adds(value))
        kept = [i["value"] for i in all_unmatched(api, integration, "c1")]
    assert kept == ["third", "second"]
