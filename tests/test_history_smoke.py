"""Membership history through HTTP: the first checks (more in test_history_*.py)."""

import time
from datetime import UTC, datetime

from tests.partner_support import adds, removes
from tests.support import Api


def test_history_end_to_end(api: Api) -> None:
    integration = api.integration()
    headers = integration.workspace.headers
    api.track(integration.workspace, "u1", "u2")
    api.expect(api.sync(integration, "A", [adds("u1", "u2")]), 201)
    time.sleep(0.01)
    between = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    api.expect(api.sync(integration, "A", [removes("u1")]), 201)
    events = api.expect(
        api.client.get("/users/cohort-history", params={"external_id": "u1"}, headers=headers), 200
    )["events"]
    assert [(e["event"], e["cause"]) for e in events] == [
        ("entered", "partner_sync"),
        ("left", "partner_sync"),
    ]
    days = api.expect(api.client.get("/cohorts/amplitude/A/history", headers=headers), 200)["days"]
    assert len(days) == 30
    assert (days[-1]["entered"], days[-1]["left"], days[-1]["size"]) == (2, 1, 1)
    assert days[-2]["size"] == 0
    segment = api.expect(
        api.client.post(
            "/segments",
            json={
                "name": "A",
                "filter": {"filter": "amplitude_cohorts", "op": "includes_value", "value": "A"},
            },
            headers=headers,
        ),
        201,
    )
    size = api.client.get(
        f"/segments/{segment['id']}/size", params={"as_of": between}, headers=headers
    )
    assert api.expect(size, 200) == {"size": 2}
    now_size = api.client.get(f"/segments/{segment['id']}/size", headers=headers)
    assert api.expect(now_size, 200) == {"size": 1}
    series = api.client.get(
        "/segments/data_series", params={"segment_id": segment["id"], "length": 3}, headers=headers
    )
    data = api.expect(series, 200)
    assert data["message"] == "success"
    assert [point["size"] for point in data["data"]] == [0, 0, 1]
