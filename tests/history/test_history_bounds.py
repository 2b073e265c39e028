"""Dates and instants at the edges of the calendar, and the bounds of the kept window: every
such input is answered (a 400 with a clear message, or the days asked for), never a 500."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from kohorte.settings import Settings
from tests.support import Api, cohort_history_path
from tests.support.partner import adds, message
from tests.support.seeds import days_ago
from tests.support.segments import create_segment, leaf

OFF_THE_CALENDAR = [
    "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
    "0001-01-01T00:30:00+00:45",
    "9999-12-31T23:00:00-05:00",  # after year 9999 in UTC
]


def segment_of_one(api: Api) -> tuple[Api, Any, str]:
    integration = api.integration()
    api.track(integration.workspace, "u1")
    api.synced(integration, "c1", adds("u1"))
    return api, integration.workspace, create_segment(api, integration.workspace, leaf("c1"))


@pytest.mark.parametrize("value", OFF_THE_CALENDAR)
def test_an_as_of_off_the_calendar_is_a_400_on_every_route(
    client: TestClient, api: Api, value: str
) -> None:
    _, workspace, segment_id = segment_of_one(api)
    responses = [
        client.get(f"/segments/{segment_id}/{route}", params={"as_of": value}, headers=headers)
        for route, headers in [("size", workspace.headers), ("users", workspace.headers)]
    ]
    responses.append(
        client.get(
            f"/segments/{segment_id}/export", params={"as_of": value}, headers=workspace.headers
        )
    )
    responses.append(
        client.post(
            "/segments/preview",
            json={"filter": leaf("c1"), "as_of": value},
            headers=workspace.headers,
        )
    )
    for response in responses:
        assert response.status_code == 400, response.text
        assert "as_of" in message(response)


@pytest.mark.parametrize("value", [*OFF_THE_CALENDAR, "0001-01-05T00:00:00Z", "0001-01-01"])
def test_an_ending_at_off_the_calendar_is_a_400(client: TestClient, api: Api, value: str) -> None:
    _, workspace, segment_id = segment_of_one(api)
    params = {"segment_id": segment_id, "length": "10", "ending_at": value}
    response = client.get("/segments/data_series", params=params, headers=workspace.headers)
    assert response.status_code == 400, response.text
    assert "ending_at" in message(response)


def test_a_series_ending_on_day_ten_of_year_one_has_ten_days(client: TestClient, api: Api) -> None:
    _, workspace, segment_id = segment_of_one(api)
    params = {"segment_id": segment_id, "length": "10", "ending_at": "0001-01-10T00:00:00Z"}
    response = client.get("/segments/data_series", params=params, headers=workspace.headers)
    data = api.expect(response, 200)["data"]
    assert [point["time"] for point in data][:2] == ["0001-01-01", "0001-01-02"]
    assert {point["size"] for point in data} == {0}


@pytest.mark.parametrize(
    ("first", "last"),
    [("0001-01-01", "0001-01-03"), ("0002-01-01", "0002-12-31"), ("0001-01-01", None)],
)
def test_a_window_at_the_start_of_the_calendar_is_answered(
    client: TestClient, api: Api, first: str, last: str | None
) -> None:
    """The size at the window's end comes from the days after it, not from a walk back from
    today (which reached before year 1)."""
    integration = api.integration()
    api.track(integration.workspace, "u1", "u2")
    api.synced(integration, "c1", adds("u1", "u2"))
    params = {"from": first} if last is None else {"from": first, "to": last}
    response = client.get(
        cohort_history_path("amplitude", "c1"), params=params, headers=integration.workspace.headers
    )
    if last is None:  # the range would cover far more than 366 days
        assert response.status_code == 400, response.text
        return
    found = api.expect(response, 200)["days"]
    assert found[0]["date"] == first
    assert found[-1]["date"] == last
    assert {(day["entered"], day["left"], day["size"]) for day in found} == {(0, 0, 0)}


def test_a_window_in_the_past_counts_back_from_the_days_after_it(
    client: TestClient, api: Api
) -> None:
    integration = api.integration()
    api.track(integration.workspace, "u1", "u2")
    api.synced(integration, "c1", adds("u1", "u2"))
    path = cohort_history_path("amplitude", "c1")
    to = days_ago(1).isoformat()
    response = client.get(path, params={"to": to}, headers=integration.workspace.headers)
    found = api.expect(response, 200)["days"]
    assert found[-1] == {"date": to, "entered": 0, "left": 0, "size": 0}
    assert len(found) == 30


def test_history_days_is_at_most_a_hundred_years(database_url: str) -> None:
    assert Settings(database_url=database_url, history_days=36_500).history_days == 36_500
    with pytest.raises(ValidationError):
        Settings(database_url=database_url, history_days=36_501)
