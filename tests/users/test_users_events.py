"""POST /users/track with events and purchases, and their summaries in exports."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import Api, WorkspaceHandle
from tests.support.users import alias, exported, post_users, track, user


def event(external_id: str, name: str, time: str, **rest: Any) -> dict[str, Any]:
    return {"external_id": external_id, "name": name, "time": time, **rest}


def purchase(external_id: str, product: str, time: str, **rest: Any) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "product_id": product,
        "currency": "EUR",
        "price": 9.5,
        "time": time,
        **rest,
    }


def test_events_alone_create_the_user_and_are_summarised(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    events = [
        event("u1", "opened", "2026-01-02T10:00:00Z"),
        event("u1", "opened", "2026-01-01T09:00:00+00:00"),
        event("u1", "paid", "2026-01-03T00:00:00Z"),
    ]
    assert track(client, workspace, events=events) == {"message": "success", "events_processed": 3}
    track(client, workspace, events=[event("u1", "opened", "2026-02-01T00:00:00Z")])
    assert user(client, workspace, "u1")["custom_events"] == [
        {
            "name": "opened",
            "first": "2026-01-01T09:00:00Z",
            "last": "2026-02-01T00:00:00Z",
            "count": 3,
        },
        {
            "name": "paid",
            "first": "2026-01-03T00:00:00Z",
            "last": "2026-01-03T00:00:00Z",
            "count": 1,
        },
    ]


def test_purchases_are_summarised_by_product_and_count_their_quantity(
    client: TestClient, api: Api
) -> None:
    workspace = api.create_workspace()
    purchases = [
        purchase("u1", "book", "2026-01-01T00:00:00Z", quantity=2),
        purchase("u1", "book", "2026-01-05T00:00:00Z"),
    ]
    result = track(client, workspace, purchases=purchases, attributes=[{"external_id": "u1"}])
    assert result == {"message": "success", "attributes_processed": 1, "purchases_processed": 2}
    assert user(client, workspace, "u1")["purchases"] == [
        {
            "name": "book",
            "first": "2026-01-01T00:00:00Z",
            "last": "2026-01-05T00:00:00Z",
            "count": 3,
        }
    ]


@pytest.mark.parametrize(
    ("array", "bad", "reason"),
    [
        ("events", {"external_id": "u1", "time": "2026-01-01T00:00:00Z"}, "'name' is required"),
        ("events", event("u1", "x", "yesterday"), "'time'"),
        ("events", event("u1", "x", "2026-01-01T00:00:00Z", properties=[1]), "'properties'"),
        ("purchases", purchase("u1", "p", "2026-01-01T00:00:00Z", currency="EURO"), "currency"),
        ("purchases", purchase("u1", "p", "2026-01-01T00:00:00Z", price="9"), "price"),
        ("purchases", purchase("u1", "p", "2026-01-01T00:00:00Z", quantity=101), "quantity"),
        ("purchases", purchase("u1", "p", "2026-01-01T00:00:00Z", price=10**400), "price"),
        ("events", event("u1", "x", "0001-01-01T00:00:00+01:00"), "'time'"),
        ("events", event("u1", "x", "9999-12-31T23:59:59-01:00"), "'time'"),
    ],
)
def test_a_bad_entry_is_reported_and_the_rest_applied(
    client: TestClient, api: Api, array: str, bad: dict[str, Any], reason: str
) -> None:
    workspace = api.create_workspace()
    good = (
        event("u1", "ok", "2026-01-01T00:00:00Z")
        if array == "events"
        else purchase("u1", "ok", "2026-01-01T00:00:00Z")
    )
    result = track(client, workspace, **{array: [bad, good]})
    assert result[f"{array}_processed"] == 1
    [error] = result["errors"]
    assert (error["input_array"], error["index"]) == (array, 0)
    assert reason in error["type"]
    key = "custom_events" if array == "events" else "purchases"
    assert [s["name"] for s in user(client, workspace, "u1")[key]] == ["ok"]


def test_an_alias_event_follows_update_existing_only(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    ghost = {"user_alias": alias("nobody"), "name": "x", "time": "2026-01-01T00:00:00Z"}
    result = track(client, workspace, events=[ghost])
    assert result["events_processed"] == 0
    assert result["errors"] == [
        {"type": "No user found for user_alias", "input_array": "events", "index": 0}
    ]
    assert exported(client, workspace, user_aliases=[alias("nobody")])["users"] == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"attributes": None, "events": None},
        {"events": [7]},
        {"events": [{"name": "x", "time": "2026-01-01T00:00:00Z"}]},
        {"purchases": [purchase("u", "p", "2026-01-01T00:00:00Z")] * 76},
    ],
)
def test_bad_bodies_are_400_and_change_nothing(
    client: TestClient, api: Api, body: dict[str, Any]
) -> None:
    workspace = api.create_workspace()
    response = post_users(client, workspace, "/users/track", body)
    assert response.status_code == 400, response.text
    assert response.json()["message"]
    assert exported(client, workspace, external_ids=["u"])["users"] == []


def test_a_merge_adds_the_merged_users_summaries(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    api.add_devices(workspace, [{"device_id": "phone"}])
    anonymous = user_braze_id(client, workspace, "phone")
    track(client, workspace, events=[event("known", "opened", "2026-01-05T00:00:00Z")])
    anonymous_event = {"braze_id": anonymous, "name": "opened", "time": "2026-01-01T00:00:00Z"}
    track(client, workspace, events=[anonymous_event])
    body = {"devices_to_identify": [{"device_id": "phone", "external_id": "known"}]}
    assert post_users(client, workspace, "/users/identify", body).status_code == 201
    assert user(client, workspace, "known")["custom_events"] == [
        {
            "name": "opened",
            "first": "2026-01-01T00:00:00Z",
            "last": "2026-01-05T00:00:00Z",
            "count": 2,
        }
    ]


def user_braze_id(client: TestClient, workspace: WorkspaceHandle, device_id: str) -> str:
    found: str = exported(client, workspace, device_id=device_id)["users"][0]["braze_id"]
    return found
