"""The kept window of cohort history at its edges: a horizon at midnight keeps its day, and a
400 about the range names only what the client sent."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kohorte.domain import membership_history
from kohorte.settings import Settings
from tests.support import ADMIN_TOKEN, Api, cohort_history_path
from tests.support.partner import adds, message
from tests.support.seeds import days_ago, seeding


@pytest.fixture
def settings(database_url: str) -> Settings:
    """This module's app keeps a week of history."""
    return Settings(database_url=database_url, admin_token=ADMIN_TOKEN, history_days=7)


def test_a_to_before_the_kept_history_names_to_not_from(client: TestClient, api: Api) -> None:
    integration = api.integration()
    api.synced(integration, "c1", adds("nobody"))
    params = {"to": days_ago(20).isoformat()}
    response = client.get(
        cohort_history_path("amplitude", "c1"), params=params, headers=integration.workspace.headers
    )
    assert response.status_code == 400, response.text
    assert message(response).startswith("to (")
    assert "from" not in message(response).split(":")[0]


def test_a_horizon_at_midnight_keeps_its_day_in_the_default_window(
    client: TestClient, api: Api, engine: Engine
) -> None:
    integration = api.integration()
    api.synced(integration, "c1", adds("nobody"))
    midnight = datetime.combine(days_ago(3), datetime.min.time(), tzinfo=UTC)
    with seeding(engine) as session:
        pruned = membership_history.prune(session, 7, now=midnight + timedelta(days=7))
    assert pruned.before == midnight
    response = client.get(
        cohort_history_path("amplitude", "c1"), headers=integration.workspace.headers
    )
    found = api.expect(response, 200)["days"]
    assert found[0]["date"] == days_ago(3).isoformat()
    assert found[-1]["date"] == days_ago(0).isoformat()
