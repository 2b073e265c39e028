"""Cohort sizes and data points: exact before and after the pending deltas are folded."""

import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from kohorte.api.app import create_app
from kohorte.domain import cohort_counters
from kohorte.settings import Settings
from kohorte.store.database import make_session_factory
from kohorte.store.models import CohortCounterDelta
from tests.support import Api, Integration
from tests.support.partner import adds, data_points, removes


def pending(engine: Engine) -> int:
    with make_session_factory(engine)() as session:
        return int(session.scalar(select(func.count()).select_from(CohortCounterDelta)) or 0)


def fold(engine: Engine) -> None:
    with make_session_factory(engine).begin() as session:
        assert cohort_counters.fold(session)


def counters(api: Api, integration: Integration) -> tuple[Any, ...]:
    sizes = {c: api.cohort(integration, c)["size"] for c in ("c1", "c2")}
    return sizes["c1"], sizes["c2"], data_points(api, integration)


def churn(api: Api, integration: Integration) -> None:
    for changes in ([adds("a", "b", "c")], [removes("b"), adds("d")], [adds("a", "e")]):
        api.expect(api.sync(integration, "c1", changes), 201)
    api.expect(api.sync(integration, "c2", [adds("a", "b"), removes("a")]), 201)


def test_folding_changes_no_size_and_no_data_point(api: Api, engine: Engine) -> None:
    integration = api.integration()
    api.track(integration.workspace, "a", "b", "c", "d", "e")
    churn(api, integration)
    before = counters(api, integration)
    assert before == (4, 1, 9)
    assert pending(engine) == 4
    fold(engine)
    assert pending(engine) == 0
    assert counters(api, integration) == before
    churn(api, integration)  # b enters and leaves c1 again, a enters and leaves c2 again
    fold(engine)
    fold(engine)  # nothing left: a no-op
    assert counters(api, integration) == (4, 1, 13)


def test_deletes_shrink_folded_and_pending_sizes_alike(api: Api, engine: Engine) -> None:
    integration = churned_folded_then_deleted(api, engine, "a", "b")
    assert counters(api, integration) == (3, 0, 9)  # deletes spend no data points
    fold(engine)
    assert counters(api, integration) == (3, 0, 9)


def today_in_history(api: Api, integration: Integration, cohort_id: str) -> dict[str, Any]:
    path = f"/cohorts/amplitude/{cohort_id}/history"
    days = api.expect(api.client.get(path, headers=integration.workspace.headers), 200)["days"]
    return dict(days[-1])


def test_history_days_are_the_same_pending_and_folded(api: Api, engine: Engine) -> None:
    integration = api.integration()
    api.track(integration.workspace, "a", "b", "c", "d", "e")
    churn(api, integration)
    # c1: a, b, c, d, e entered, b left; c2: b entered (a came and went in one request).
    expected = {"c1": (5, 1, 4), "c2": (1, 0, 1)}
    for cohort_id, (entered, left, size) in expected.items():
        day = today_in_history(api, integration, cohort_id)
        assert (day["entered"], day["left"], day["size"]) == (entered, left, size)
    fold(engine)
    for cohort_id, (entered, left, size) in expected.items():
        day = today_in_history(api, integration, cohort_id)
        assert (day["entered"], day["left"], day["size"]) == (entered, left, size)


def churned_folded_then_deleted(api: Api, engine: Engine, *external_ids: str) -> Integration:
    integration = api.integration()
    api.track(integration.workspace, "a", "b", "c", "d", "e")
    churn(api, integration)
    fold(engine)
    api.expect(
        api.client.post(
            "/users/delete",
            json={"external_ids": list(external_ids)},
            headers=integration.workspace.headers,
        ),
        201,
    )
    return integration


def test_a_delete_takes_its_events_out_of_the_days(api: Api, engine: Engine) -> None:
    integration = churned_folded_then_deleted(api, engine, "b", "c")
    # b's stay in c1 (entered and left) and c's (entered) are gone; so is b's stay in c2.
    assert today_in_history(api, integration, "c1") | {"date": None} == {
        "date": None,
        "entered": 3,
        "left": 0,
        "size": 3,
    }
    fold(engine)
    day = today_in_history(api, integration, "c1")
    assert (day["entered"], day["left"], day["size"]) == (3, 0, 3)
    day = today_in_history(api, integration, "c2")
    assert (day["entered"], day["left"], day["size"]) == (0, 0, 0)


def test_the_server_folds_by_itself(settings: Settings, engine: Engine) -> None:
    app = create_app(settings.model_copy(update={"counter_fold_seconds": 0.05}), engine)
    with TestClient(app, base_url="http://kohorte.test") as client:
        api = Api(client)
        integration = api.integration()
        api.track(integration.workspace, "a", "b", "c", "d", "e")
        churn(api, integration)
        deadline = time.monotonic() + 10
        while pending(engine) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pending(engine) == 0
        assert counters(api, integration) == (4, 1, 9)
