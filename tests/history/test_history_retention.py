"""How long membership history is kept: ``KOHORTE_HISTORY_DAYS`` refuses reads before the kept
window, and pruning (the domain's and ``kohorte history prune``) deletes only what no kept read
needs, then refuses reads before the instant it pruned to."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from kohorte.api.app import create_app
from kohorte.domain import membership_history
from kohorte.domain.errors import InvalidInput
from kohorte.settings import Settings, get_settings
from kohorte.store.models import CohortMembership
from tests.support import ADMIN_TOKEN, Api, Integration, cohort_history_path
from tests.support.cli import assert_clean_failure, run, run_json
from tests.support.partner import adds, message, removes
from tests.support.seeds import Stay, days_ago, seed_cohort_stays, seeding, time_on
from tests.support.segments import create_segment, leaf, read_segment

KEPT_DAYS = 7
KEPT_FROM = "membership history is kept from "


@pytest.fixture
def settings(database_url: str) -> Settings:
    """This module's app keeps a week of history."""
    return Settings(database_url=database_url, admin_token=ADMIN_TOKEN, history_days=KEPT_DAYS)


@pytest.fixture
def unbounded(database_url: str, engine: Engine) -> Iterator[Api]:
    """The same store served without KOHORTE_HISTORY_DAYS."""
    app = create_app(Settings(database_url=database_url, admin_token=ADMIN_TOKEN), engine)
    with TestClient(app, base_url="http://kohorte.test") as client:
        yield Api(client)


def kept_from(response: httpx.Response) -> datetime:
    """The instant a 400 says history is kept from."""
    assert response.status_code == 400, response.text
    text = message(response)
    assert KEPT_FROM in text, text
    return datetime.fromisoformat(text.split(KEPT_FROM, 1)[1].strip())


def assert_window_start(response: httpx.Response, expected: datetime) -> None:
    assert abs(kept_from(response) - expected) < timedelta(minutes=1), response.text


def reads_as_of(api: Api, integration: Integration, as_of: str) -> list[httpx.Response]:
    """Size, users, export of a segment and a preview, as of the instant."""
    workspace = integration.workspace
    segment_id = create_segment(api, workspace, leaf("A"))
    params = {"as_of": as_of}
    responses = [
        api.client.get(f"/segments/{segment_id}/{read}", params=params, headers=workspace.headers)
        for read in ("size", "users", "export")
    ]
    body = {"filter": leaf("A"), "as_of": as_of}
    responses.append(api.client.post("/segments/preview", json=body, headers=workspace.headers))
    return responses


def cohort_window(api: Api, integration: Integration, first: str) -> httpx.Response:
    response: httpx.Response = api.client.get(
        cohort_history_path("amplitude", "A"),
        params={"from": first},
        headers=integration.workspace.headers,
    )
    return response


def data_series(
    api: Api, integration: Integration, length: int, ending_at: datetime | None = None
) -> httpx.Response:
    segment_id = create_segment(api, integration.workspace, leaf("A"))
    params = {"segment_id": segment_id, "length": str(length)}
    if ending_at is not None:
        params["ending_at"] = ending_at.isoformat()
    response: httpx.Response = api.client.get(
        "/segments/data_series", params=params, headers=integration.workspace.headers
    )
    return response


# --- the kept window -------------------------------------------------------------------------


def test_as_of_before_the_window_is_400_naming_from_when(
    api: Api, integration: Integration
) -> None:
    api.synced(integration, "A", adds("nobody"))
    window_start = datetime.now(UTC) - timedelta(days=KEPT_DAYS)
    early = (window_start - timedelta(minutes=5)).isoformat()
    for response in reads_as_of(api, integration, early):
        assert_window_start(response, window_start)
    inside = (window_start + timedelta(minutes=5)).isoformat()
    for response in reads_as_of(api, integration, inside):
        assert response.status_code == 200, response.text


def test_cohort_history_from_before_the_window_is_400(api: Api, integration: Integration) -> None:
    api.synced(integration, "A", adds("nobody"))
    window_start = datetime.now(UTC) - timedelta(days=KEPT_DAYS)
    assert_window_start(
        cohort_window(api, integration, days_ago(KEPT_DAYS).isoformat()), window_start
    )
    assert_window_start(cohort_window(api, integration, days_ago(300).isoformat()), window_start)
    # The first day wholly inside the window is answered.
    days = api.expect(cohort_window(api, integration, days_ago(KEPT_DAYS - 1).isoformat()), 200)
    assert len(days["days"]) == KEPT_DAYS


def test_the_default_cohort_window_starts_with_the_first_kept_day(
    api: Api, integration: Integration
) -> None:
    api.synced(integration, "A", adds("nobody"))
    path = cohort_history_path("amplitude", "A")
    days = api.expect(api.client.get(path, headers=integration.workspace.headers), 200)["days"]
    assert days[0]["date"] == days_ago(KEPT_DAYS - 1).isoformat()
    assert len(days) == KEPT_DAYS


def test_data_series_reaching_before_the_window_is_400(api: Api, integration: Integration) -> None:
    api.synced(integration, "A", adds("nobody"))
    window_start = datetime.now(UTC) - timedelta(days=KEPT_DAYS)
    # The first day's size is the size at its end: KEPT_DAYS + 1 days still end inside.
    assert len(api.expect(data_series(api, integration, KEPT_DAYS + 1), 200)["data"]) == 8
    assert_window_start(data_series(api, integration, KEPT_DAYS + 2), window_start)
    ending = datetime.now(UTC) - timedelta(days=3)
    assert api.expect(data_series(api, integration, KEPT_DAYS - 2, ending), 200)["data"]
    assert_window_start(data_series(api, integration, KEPT_DAYS - 1, ending), window_start)
    assert_window_start(
        data_series(api, integration, 1, window_start - timedelta(hours=1)), window_start
    )


# --- pruning ---------------------------------------------------------------------------------

PRUNABLE = [
    Stay("old", time_on(40, 9), time_on(30, 9)),  # ended before the window: pruned
    Stay("old", time_on(20, 9), time_on(9, 9)),  # pruned too
    Stay("u1", time_on(40, 9)),  # still in: kept with its entered event
    Stay("u2", time_on(20, 9), time_on(4, 9)),  # ended inside the window: kept
    Stay("u3", time_on(12, 9), time_on(10, 9)),  # pruned
    Stay("u3", time_on(5, 9)),
]


def observed(api: Api, integration: Integration) -> dict[str, Any]:
    """Everything a kept read answers about cohort A: members, days, series, sizes as of."""
    segment_id = create_segment(api, integration.workspace, leaf("A"))
    moments = [datetime.now(UTC) - timedelta(days=d, hours=h) for d in range(7) for h in (1, 13)]
    series = data_series(api, integration, KEPT_DAYS)
    return {
        "members": sorted(u["external_id"] for u in api.cohort_members(integration, "A")),
        "size": api.cohort(integration, "A")["size"],
        "days": api.cohort_days(integration, "A", {"from": days_ago(KEPT_DAYS - 1).isoformat()}),
        "series": api.expect(series, 200)["data"],
        "as_of": [
            read_segment(api, integration.workspace, segment_id, moment.isoformat()).size
            for moment in moments
        ],
    }


def stays_in_store(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(CohortMembership)) or 0)


def test_prune_deletes_old_closed_stays_and_keeps_every_kept_answer(
    api: Api, engine: Engine, integration: Integration
) -> None:
    seed_cohort_stays(engine, integration.workspace.id, "A", PRUNABLE)
    api.synced(integration, "A", removes("u1"))
    api.synced(integration, "A", adds("old"))
    before = observed(api, integration)
    assert before["members"] == ["old", "u3"]
    with seeding(engine) as session:
        pruned = membership_history.prune(session, KEPT_DAYS)
    assert pruned.stays == 3
    assert abs(pruned.before - (datetime.now(UTC) - timedelta(days=KEPT_DAYS))) < timedelta(
        minutes=1
    )
    assert stays_in_store(engine) == len(PRUNABLE) + 1 - 3
    assert observed(api, integration) == before
    workspace = integration.workspace
    assert [e["event"] for e in api.user_history(workspace, external_id="old")] == ["entered"]
    assert [e["event"] for e in api.user_history(workspace, external_id="u1")] == [
        "entered",
        "left",
    ]
    assert [e["event"] for e in api.user_history(workspace, external_id="u2")] == [
        "entered",
        "left",
    ]
    assert [e["event"] for e in api.user_history(workspace, external_id="u3")] == ["entered"]
    # Pruning again finds nothing more.
    with seeding(engine) as session:
        assert membership_history.prune(session, KEPT_DAYS).stays == 0


def test_prune_needs_a_positive_number_of_days(engine: Engine) -> None:
    with seeding(engine) as session:
        for days in (None, 0, -1):
            with pytest.raises(InvalidInput):
                membership_history.prune(session, days)


def test_a_recorded_horizon_refuses_earlier_reads_even_without_the_setting(
    api: Api, unbounded: Api, engine: Engine, integration: Integration
) -> None:
    seed_cohort_stays(engine, integration.workspace.id, "A", PRUNABLE)
    moment = (datetime.now(UTC) - timedelta(days=20)).isoformat()
    for response in reads_as_of(unbounded, integration, moment):
        assert response.status_code == 200, response.text
    with seeding(engine) as session:
        horizon = membership_history.prune(session, 15).before
    for response in reads_as_of(unbounded, integration, moment):
        assert kept_from(response) == horizon
    assert kept_from(cohort_window(unbounded, integration, days_ago(16).isoformat())) == horizon
    assert kept_from(data_series(unbounded, integration, 17)) == horizon
    inside = (horizon + timedelta(minutes=1)).isoformat()
    for response in reads_as_of(unbounded, integration, inside):
        assert response.status_code == 200, response.text


# --- kohorte history prune -------------------------------------------------------------------


@pytest.mark.usefixtures("cli_env")
def test_cli_prune_records_a_horizon_that_later_reads_respect(
    api: Api, engine: Engine, integration: Integration
) -> None:
    seed_cohort_stays(engine, integration.workspace.id, "A", PRUNABLE)
    before = observed(api, integration)
    result = run_json("history", "prune", "--days", "3")
    assert set(result) == {"pruned_stays", "kept_from"}
    assert result["pruned_stays"] == 4
    horizon = datetime.fromisoformat(result["kept_from"])
    assert abs(horizon - (datetime.now(UTC) - timedelta(days=3))) < timedelta(minutes=1)
    # The app keeps 7 days, but 3 days ago is now the earliest instant answered.
    four_days_ago = (datetime.now(UTC) - timedelta(days=4)).isoformat()
    for response in reads_as_of(api, integration, four_days_ago):
        assert kept_from(response) == horizon
    now_members = sorted(u["external_id"] for u in api.cohort_members(integration, "A"))
    assert now_members == before["members"]
    assert api.cohort(integration, "A")["size"] == before["size"]
    # A later prune that keeps more does not move the horizon back.
    assert run_json("history", "prune", "--days", "5")["pruned_stays"] == 0
    for response in reads_as_of(api, integration, four_days_ago):
        assert kept_from(response) == horizon


@pytest.mark.usefixtures("cli_env")
def test_cli_prune_takes_its_days_from_the_setting(
    monkeypatch: pytest.MonkeyPatch, engine: Engine, integration: Integration
) -> None:
    monkeypatch.delenv("KOHORTE_HISTORY_DAYS", raising=False)
    seed_cohort_stays(engine, integration.workspace.id, "A", PRUNABLE)
    assert_clean_failure(
        run("history", "prune"),
        "history days must be a positive number of days (set KOHORTE_HISTORY_DAYS)",
    )
    assert stays_in_store(engine) == len(PRUNABLE)
    assert run("history", "prune", "--days", "0").exit_code == 2
    monkeypatch.setenv("KOHORTE_HISTORY_DAYS", "15")
    get_settings.cache_clear()
    result = run_json("history", "prune")
    assert result["pruned_stays"] == 1
    printed = run("history", "prune").stdout.split()
    assert printed[:3] == ["pruned_stays", "0", "kept_from"]
    assert datetime.fromisoformat(printed[3]) >= datetime.fromisoformat(result["kept_from"])
