"""Reads that must agree with themselves come from one statement: under READ COMMITTED each
statement has its own snapshot, so a size read apart from the days (or one term of a series
apart from another) could include a sync the rest misses."""

import pytest
from sqlalchemy import Engine

from tests.support import Api, cohort_history_path, instant
from tests.support.databases import counting_statements
from tests.support.partner import adds, removes
from tests.support.segments import create_segment, leaf


def test_cohort_history_reads_size_and_days_in_one_statement(api: Api, engine: Engine) -> None:
    integration = api.integration()
    api.track(integration.workspace, "u1", "u2")
    api.synced(integration, "c1", adds("u1", "u2"))
    api.synced(integration, "c1", removes("u2"))
    path = cohort_history_path("amplitude", "c1")
    with counting_statements(engine) as statements:
        found = api.expect(api.client.get(path, headers=integration.workspace.headers), 200)
    assert found["days"][-1] == {
        "date": found["days"][-1]["date"],
        "entered": 2,
        "left": 1,
        "size": 1,
    }
    reading = [sql for sql in statements if "cohort_days" in sql]
    assert len(reading) == 1, reading
    assert "folded_size" in reading[0]


@pytest.mark.parametrize("ends_now", [True, False])
def test_a_series_reads_all_its_terms_in_one_statement(
    api: Api, engine: Engine, is_postgres: bool, ends_now: bool
) -> None:
    """c1 or c2 is three terms (c1 + c2 - both); without ending_at the one-cohort terms are
    read from the cohorts' sizes and days, else from their stays."""
    if not is_postgres:
        pytest.skip("SQLite counts each instant on its own (no terms)")
    integration = api.integration()
    api.track(integration.workspace, "u1", "u2", "u3")
    api.synced(integration, "c1", adds("u1", "u2"))
    api.synced(integration, "c2", adds("u2", "u3"))
    segment_id = create_segment(api, integration.workspace, {"or": [leaf("c1"), leaf("c2")]})
    params = {"segment_id": segment_id, "length": "5"}
    if not ends_now:
        params["ending_at"] = instant().isoformat()
    with counting_statements(engine) as statements:
        response = api.client.get(
            "/segments/data_series", params=params, headers=integration.workspace.headers
        )
    assert [point["size"] for point in api.expect(response, 200)["data"]] == [0, 0, 0, 0, 3]
    reading = [sql for sql in statements if "cohort_memberships" in sql or "cohort_days" in sql]
    assert len(reading) == 1, reading
