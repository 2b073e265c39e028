"""Usage through HTTP: data points per UTC day and partner over an inclusive date range."""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.support import ADMIN_HEADERS, Api, Integration, WorkspaceHandle, bearer
from tests.support.seeds import seed_data_points, seeding

DAY_MESSAGE = "{} must be a date written YYYY-MM-DD"


@pytest.fixture
def workspace(api: Api) -> WorkspaceHandle:
    api.partner("amplitude")
    api.partner("mixpanel")
    return api.create_workspace()


def today() -> date:
    return datetime.now(UTC).date()


def usage(
    client: TestClient, workspace: WorkspaceHandle, query: str = ""
) -> list[dict[str, object]]:
    response = client.get(f"/usage{query}", headers=workspace.headers)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"data_points"}
    points: list[dict[str, object]] = response.json()["data_points"]
    return points


def seed_days(engine: Engine, workspace: WorkspaceHandle, *points: tuple[str, str, int]) -> None:
    with seeding(engine) as session:
        for day, partner, count in points:
            seed_data_points(session, workspace.id, partner, date.fromisoformat(day), count)


def test_applied_adds_and_removes_count_for_today(
    api: Api, client: TestClient, workspace: WorkspaceHandle
) -> None:
    amplitude = api.integration(workspace, "amplitude")
    mixpanel: Integration = api.integration(workspace, "mixpanel")
    api.track(workspace, "a", "b", "c")
    changes: list[dict[str, Any]] = [
        {"user_ids": ["a", "b", "c", "ghost", "ghost2"]},
        {"user_ids": ["a"], "should_remove": True},
    ]
    api.expect(api.sync(mixpanel, "m", changes), 201)
    api.expect(api.sync(amplitude, "c", [{"user_ids": ["a", "nobody"]}]), 201)
    api.expect(api.sync(amplitude, "c", [{"user_ids": ["a"]}]), 201)  # already a member: free
    day = today().isoformat()
    assert usage(client, workspace) == [
        {"date": day, "partner": "amplitude", "count": 1},
        {"date": day, "partner": "mixpanel", "count": 4},
    ]


def test_a_range_is_inclusive_and_ordered_by_date_then_partner(
    client: TestClient, engine: Engine, workspace: WorkspaceHandle
) -> None:
    seed_days(
        engine,
        workspace,
        ("2024-03-02", "mixpanel", 5),
        ("2024-03-02", "amplitude", 7),
        ("2024-03-01", "amplitude", 3),
        ("2024-02-29", "amplitude", 100),
        ("2024-03-03", "amplitude", 100),
    )
    assert usage(client, workspace, "?from=2024-03-01&to=2024-03-02") == [
        {"date": "2024-03-01", "partner": "amplitude", "count": 3},
        {"date": "2024-03-02", "partner": "amplitude", "count": 7},
        {"date": "2024-03-02", "partner": "mixpanel", "count": 5},
    ]
    assert len(usage(client, workspace, "?from=2024-03-02&to=2024-03-02")) == 2


def test_the_default_is_the_thirty_days_ending_today(
    client: TestClient, engine: Engine, workspace: WorkspaceHandle
) -> None:
    now = today()
    ago = {days: (now - timedelta(days=days)).isoformat() for days in (0, 29, 30)}
    seed_days(engine, workspace, *((day, "amplitude", days + 1) for days, day in ago.items()))
    counts = [point["count"] for point in usage(client, workspace)]
    assert counts == [30, 1]


def test_only_to_ends_the_default_window_there(
    client: TestClient, engine: Engine, workspace: WorkspaceHandle
) -> None:
    seed_days(engine, workspace, ("2024-01-01", "amplitude", 1), ("2024-01-02", "amplitude", 2))
    points = usage(client, workspace, "?to=2024-01-31")
    assert [point["date"] for point in points] == ["2024-01-02"]


def test_only_from_runs_to_today(
    client: TestClient, engine: Engine, workspace: WorkspaceHandle
) -> None:
    start = today() - timedelta(days=100)
    seed_days(
        engine,
        workspace,
        (start.isoformat(), "amplitude", 1),
        (today().isoformat(), "amplitude", 2),
    )
    assert [point["count"] for point in usage(client, workspace, f"?from={start}")] == [1, 2]


def test_usage_of_another_workspace_is_invisible(
    api: Api, client: TestClient, engine: Engine, workspace: WorkspaceHandle
) -> None:
    seed_days(engine, workspace, (today().isoformat(), "amplitude", 9))
    other = api.create_workspace("other")
    assert usage(client, other) == []
    assert len(usage(client, workspace)) == 1


def test_a_range_may_cover_366_days(client: TestClient, workspace: WorkspaceHandle) -> None:
    assert usage(client, workspace, "?from=2024-01-01&to=2024-12-31") == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?from=2023-12-31&to=2024-12-31", "The range covers 367 days; at most 366 are allowed"),
        ("?from=2000-01-01&to=2024-12-31", "The range covers 9132 days; at most 366 are allowed"),
        ("?from=2024-03-02&to=2024-03-01", "from (2024-03-02) must not be after to (2024-03-01)"),
        ("?from=9999-12-31", f"from (9999-12-31) must not be after to ({today()})"),
    ],
)
def test_ranges_out_of_bounds_are_400(
    client: TestClient, workspace: WorkspaceHandle, query: str, message: str
) -> None:
    response = client.get(f"/usage{query}", headers=workspace.headers)
    assert response.status_code == 400
    assert response.json() == {"message": message}


@pytest.mark.parametrize("name", ["from", "to"])
@pytest.mark.parametrize(
    "value",
    [
        "",
        "2024-1-01",
        "20240101",
        "2024-02-30",
        "2023-02-29",
        "2024-13-01",
        "0000-01-01",
        "2024-W01-1",
        "2024-01-01T00:00:00Z",
        "-2024-01-01",
        "1e9",
        "1700000000",
        "\u0662\u0660\u0662\u0664-\u0660\u0661-\u0660\u0661",
        "2024-01-01\x00",
        "\ud800",
        "9" * 20_000,
    ],
)
def test_dates_not_written_yyyy_mm_dd_are_400(
    client: TestClient, workspace: WorkspaceHandle, name: str, value: str
) -> None:
    encoded = quote(value.encode("utf-8", "surrogatepass"))
    response = client.get(f"/usage?{name}={encoded}", headers=workspace.headers)
    assert response.status_code == 400
    assert response.json() == {"message": DAY_MESSAGE.format(name)}


def test_a_key_without_usage_read_gets_403_naming_it(
    api: Api, client: TestClient, workspace: WorkspaceHandle
) -> None:
    others = ["cohorts.read", "segments.read", "users.track", "integrations.manage"]
    response = client.get("/usage", headers=bearer(api.create_rest_key(workspace.id, others)))
    assert response.status_code == 403
    assert "usage.read" in response.json()["message"]
    allowed = api.create_rest_key(workspace.id, ["usage.read"])
    assert client.get("/usage", headers=bearer(allowed)).status_code == 200


def test_usage_needs_a_workspace_key(client: TestClient, workspace: WorkspaceHandle) -> None:
    assert client.get("/usage").status_code == 401
    assert client.get("/usage", headers=bearer("krest_not-a-key")).status_code == 401
    assert client.get("/usage", headers=ADMIN_HEADERS).status_code == 401


def test_permission_is_checked_before_the_dates(
    api: Api, client: TestClient, workspace: WorkspaceHandle
) -> None:
    key = api.create_rest_key(workspace.id, ["cohorts.read"])
    assert client.get("/usage?from=nonsense", headers=bearer(key)).status_code == 403
