"""``GET /cohorts/{partner}/{cohort_id}/history``: per UTC day the members that entered and left
and the size at the end of the day, over stays seeded with past times and syncs made now."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.support import Api, Integration, cohort_history_path
from tests.support.partner import adds, message, removes
from tests.support.seeds import Stay, days_ago, seed_cohort_stays, time_on


def expected_days(stays: list[Stay], first: date, last: date) -> list[dict[str, Any]]:
    """The history the stays imply, computed independently: sizes just before each midnight."""
    result = []
    current = first
    while current <= last:
        end = datetime.combine(current + timedelta(days=1), time.min, tzinfo=UTC)
        result.append(
            {
                "date": current.isoformat(),
                "entered": sum(s.entered.date() == current for s in stays),
                "left": sum(s.left is not None and s.left.date() == current for s in stays),
                "size": sum(s.entered < end and (s.left is None or s.left >= end) for s in stays),
            }
        )
        current += timedelta(days=1)
    return result


SEEDED = [
    Stay("u1", time_on(40, 10)),  # in since before the window
    Stay("u2", time_on(40, 10), time_on(5, 12)),
    Stay("u3", time_on(5, 8), time_on(3, 9)),
    Stay("u3", time_on(2, 1)),  # back again
    Stay("u4", time_on(3, 10), time_on(3, 11)),  # in and out on one day
    Stay("u5", time_on(3, 12)),
    Stay("u6", time_on(29)),  # entered at the first instant of the window
    Stay("u7", time_on(12, 6), time_on(10)),  # left at the first instant of a day
    Stay("u8", time_on(20, 23, 59)),
    Stay("u9", time_on(35, 1), time_on(29, 0, 30)),
]


def test_default_window_is_the_last_30_days_ending_with_todays_size(
    api: Api, engine: Engine, integration: Integration
) -> None:
    seed_cohort_stays(engine, integration.workspace.id, "A", SEEDED)
    # Today's changes come through the API: u2 enters again, u5 leaves, u10 enters and leaves.
    api.track(integration.workspace, "u10")
    api.synced(integration, "A", adds("u2"))
    api.synced(integration, "A", removes("u5"))
    api.synced(integration, "A", adds("u10"))
    api.synced(integration, "A", removes("u10"))
    now = datetime.now(UTC)
    today_stays = [Stay("u2", now), Stay("u5", time_on(3, 12), now), Stay("u10", now, now)]
    stays = [s for s in SEEDED if s.user != "u5"] + today_stays
    days = api.cohort_days(integration, "A")
    assert days == expected_days(stays, days_ago(29), days_ago(0))
    assert [d["date"] for d in days][-1] == days_ago(0).isoformat()
    # The entry for today ends now: the cohort's size and its members.
    assert days[-1]["size"] == api.cohort(integration, "A")["size"] == 5
    assert len(api.cohort_members(integration, "A")) == 5


def test_explicit_windows(api: Api, engine: Engine, integration: Integration) -> None:
    seed_cohort_stays(engine, integration.workspace.id, "A", SEEDED)
    windows = [
        (
            {"from": days_ago(45).isoformat(), "to": days_ago(1).isoformat()},
            days_ago(45),
            days_ago(1),
        ),
        ({"from": days_ago(3).isoformat()}, days_ago(3), days_ago(0)),
        ({"to": days_ago(4).isoformat()}, days_ago(33), days_ago(4)),
        (
            {"from": days_ago(10).isoformat(), "to": days_ago(10).isoformat()},
            days_ago(10),
            days_ago(10),
        ),
        (
            {"from": days_ago(0).isoformat(), "to": days_ago(0).isoformat()},
            days_ago(0),
            days_ago(0),
        ),
    ]
    for window, first, last in windows:
        assert api.cohort_days(integration, "A", window) == expected_days(SEEDED, first, last)


def test_a_year_of_days_before_the_cohort_existed_are_empty(
    api: Api, integration: Integration
) -> None:
    api.track(integration.workspace, "u1")
    api.synced(integration, "A", adds("u1"))
    window = {"from": days_ago(365).isoformat(), "to": days_ago(0).isoformat()}
    days = api.cohort_days(integration, "A", window)
    assert len(days) == 366
    assert days[:-1] == [
        {"date": days_ago(back).isoformat(), "entered": 0, "left": 0, "size": 0}
        for back in range(365, 0, -1)
    ]
    assert days[-1] == {"date": days_ago(0).isoformat(), "entered": 1, "left": 0, "size": 1}


def past(back: int) -> str:
    return days_ago(back).isoformat()


@pytest.mark.parametrize(
    "window",
    [
        {"to": past(-1)},  # tomorrow
        {"from": past(0), "to": past(-1)},
        {"from": past(366)},  # 367 days up to today
        {"from": past(400), "to": past(34)},
        {"from": past(3), "to": past(4)},  # from after to
        {"from": past(-1)},  # from after the default to
        {"from": "yesterday"},
        {"to": "2024-1-5"},
        {"from": "2024-02-30"},
        {"from": "20240101"},
        {"to": "2024-01-05T00:00:00Z"},
        {"from": ""},
    ],
)
def test_bad_windows_are_400(
    client: TestClient, api: Api, integration: Integration, window: dict[str, str]
) -> None:
    api.synced(integration, "A", adds("nobody"))
    response = client.get(
        cohort_history_path("amplitude", "A"), params=window, headers=integration.workspace.headers
    )
    assert response.status_code == 400, response.text
    assert message(response)


def test_unknown_cohort_or_partner_is_404(
    client: TestClient, api: Api, integration: Integration
) -> None:
    api.synced(integration, "A", adds("nobody"))
    api.partner("mixpanel")
    headers = integration.workspace.headers
    for partner, cohort_id in [("amplitude", "B"), ("mixpanel", "A"), ("nobody", "A")]:
        response = client.get(cohort_history_path(partner, cohort_id), headers=headers)
        assert response.status_code == 404, response.text
        assert message(response)


@pytest.mark.parametrize("cohort_id", ["team/a", "x/history", "x/users", "a/b/c/"])
def test_cohort_ids_with_slashes(api: Api, integration: Integration, cohort_id: str) -> None:
    api.track(integration.workspace, "u1", "u2")
    api.synced(integration, cohort_id, adds("u1", "u2"))
    # A cohort named like the prefix of the id is another cohort, and stays apart.
    prefix = cohort_id.rsplit("/", 1)[0] or "x"
    api.synced(integration, prefix, adds("u1"))
    api.synced(integration, prefix, removes("u1"))
    assert api.cohort_days(integration, cohort_id)[-1] == {
        "date": days_ago(0).isoformat(),
        "entered": 2,
        "left": 0,
        "size": 2,
    }
    assert api.cohort_today(integration, prefix) == (1, 1, 0)
