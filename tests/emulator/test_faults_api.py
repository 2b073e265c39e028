"""Faults on demand: partner requests delayed or answered with a retryable failure."""

import time

import pytest
from sqlalchemy import Engine

from tests.support import ADMIN_HEADERS, Api
from tests.support.journal import api_with, create_fault, faults, journal, latest_entry
from tests.support.partner import adds, changes_body, message, post_partner, users_path

MESSAGES = {
    423: "Resource locked",
    429: "Rate limit exceeded",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


@pytest.mark.parametrize("status", sorted(MESSAGES))
def test_each_status_is_answered_with_its_message(api: Api, status: int) -> None:
    integration = api.integration()
    api.track(integration.workspace, "alice")
    create_fault(api, status=status)
    response = api.sync(integration, "c1", [adds("alice")])
    assert response.status_code == status
    assert message(response) == MESSAGES[status]
    if status == 429:
        assert response.headers["x-ratelimit-remaining"] == "0"
    # Nothing was applied, and the fault is used up: the retry goes through.
    assert api.synced(integration, "c1", adds("alice"))["added"] == 1


def test_a_fault_applies_count_times_then_is_gone(api: Api) -> None:
    integration = api.integration()
    created = create_fault(api, status=503, count=2)
    assert created == {
        "id": created["id"],
        "partner": None,
        "cohort_id": None,
        "status": 503,
        "count": 2,
        "delay_ms": 0,
    }
    assert api.sync(integration, "c1", []).status_code == 503
    assert [fault["count"] for fault in faults(api)] == [1]
    assert api.sync(integration, "c1", []).status_code == 503
    assert faults(api) == []
    assert api.sync(integration, "c1", []).status_code == 201


def test_a_delay_makes_the_request_wait(api: Api) -> None:
    integration = api.integration()
    create_fault(api, delay_ms=300)
    started = time.monotonic()
    response = api.sync(integration, "c1", [])
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 201  # without a status the fault only delays
    assert faults(api) == []


def test_a_delay_then_a_status(api: Api) -> None:
    integration = api.integration()
    create_fault(api, status=504, delay_ms=200)
    started = time.monotonic()
    assert api.sync(integration, "c1", []).status_code == 504
    assert time.monotonic() - started >= 0.2


def test_matching_by_partner(api: Api) -> None:
    amplitude = api.integration()
    mixpanel = api.integration(amplitude.workspace, partner="mixpanel")
    create_fault(api, partner="mixpanel", status=502)
    assert api.sync(amplitude, "c1", []).status_code == 201
    assert api.sync(mixpanel, "c1", []).status_code == 502


def test_matching_by_cohort_id(api: Api) -> None:
    integration = api.integration()
    create_fault(api, cohort_id="c2", status=500)
    assert api.sync(integration, "c1", []).status_code == 201
    assert api.name_cohort(integration, "c2").status_code == 500
    assert api.sync(integration, "c2", []).status_code == 201


def test_faults_apply_oldest_first(api: Api) -> None:
    integration = api.integration()
    first = create_fault(api, status=423)
    second = create_fault(api, status=429)
    assert [fault["id"] for fault in faults(api)] == [first["id"], second["id"]]
    assert api.sync(integration, "c1", []).status_code == 423
    assert api.sync(integration, "c1", []).status_code == 429


def test_credentials_are_not_checked(api: Api) -> None:
    create_fault(api, status=503)
    body = {"partner_api_key": "nothing", "client_secret": "nothing", "cohort_id": "c1"}
    response = api.client.post("/partners/unknown/cohorts/users", json=body)
    assert response.status_code == 503


def test_injected_answers_are_journaled(api: Api) -> None:
    integration = api.integration()
    create_fault(api, status=503)
    assert api.sync(integration, "c1", []).status_code == 503
    entry = latest_entry(api)
    assert (entry["status"], entry["cohort_id"], entry["workspace_id"]) == (503, "c1", None)
    assert entry["response"] == {"message": "Service unavailable"}
    assert entry["request"]["client_secret"] == "***"


def test_delete_all_and_by_id(api: Api) -> None:
    first = create_fault(api, status=500)
    second = create_fault(api, status=502)
    assert (
        api.client.delete(f"/admin/faults/{first['id']}", headers=ADMIN_HEADERS).status_code == 204
    )
    assert [fault["id"] for fault in faults(api)] == [second["id"]]
    unknown = api.client.delete(f"/admin/faults/{first['id']}", headers=ADMIN_HEADERS)
    assert unknown.status_code == 404
    assert message(unknown)
    assert api.client.delete("/admin/faults", headers=ADMIN_HEADERS).status_code == 204
    assert faults(api) == []
    integration = api.integration()
    assert api.sync(integration, "c1", []).status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"partner": "amplitude"},
        {"status": 404},
        {"status": 400},
        {"status": "503"},
        {"status": 503, "count": 0},
        {"status": 503, "count": -1},
        {"status": 503, "count": 2**63},  # beyond the store's integers
        {"status": 503, "count": True},
        {"delay_ms": "5"},
        {"delay_ms": False},
        {"delay_ms": 5.5},
        {"delay_ms": -1},
        {"delay_ms": 60001},
        {"status": 503, "colour": "red"},
    ],
)
def test_bad_faults_are_400_and_create_nothing(api: Api, body: dict[str, object]) -> None:
    response = api.client.post("/admin/faults", json=body, headers=ADMIN_HEADERS)
    assert response.status_code == 400, response.text
    assert message(response)
    assert faults(api) == []


@pytest.mark.parametrize("fault_id", ["0", "-1", str(2**63), str(2**70)])
def test_a_fault_id_out_of_range_is_unknown(api: Api, fault_id: str) -> None:
    response = api.client.delete(f"/admin/faults/{fault_id}", headers=ADMIN_HEADERS)
    assert response.status_code == 404, response.text


def test_a_delay_written_as_a_whole_float_is_a_json_integer(api: Api) -> None:
    assert create_fault(api, delay_ms=250.0)["delay_ms"] == 250


def test_the_largest_delay_is_accepted(api: Api) -> None:
    created = create_fault(api, delay_ms=60000, cohort_id="never-sent")
    assert created["delay_ms"] == 60000


def test_faults_need_the_admin_token(api: Api) -> None:
    workspace = api.create_workspace()
    for method in ("GET", "POST", "DELETE"):
        response = api.client.request(method, "/admin/faults", json={"status": 503})
        assert response.status_code == 401
        response = api.client.request(
            method, "/admin/faults", json={"status": 503}, headers=workspace.headers
        )
        assert response.status_code == 401


def test_off_control_api_injects_nothing(database_url: str, engine: Engine) -> None:
    with api_with(database_url, engine) as api:
        create_fault(api, status=503)
    with api_with(database_url, engine, control_api=False) as api:
        integration = api.integration()
        assert api.sync(integration, "c1", []).status_code == 201
    with api_with(database_url, engine) as api:
        assert len(faults(api)) == 1  # untouched while the controls were off
        assert journal(api) == []


def test_a_fault_matches_the_cohort_of_a_body_too_large_to_keep(api: Api) -> None:
    integration = api.integration()
    create_fault(api, status=503, cohort_id="c1")
    big = {**changes_body(integration, "c1", []), "p": "x" * 200_000}
    assert post_partner(api, users_path(integration), big).status_code == 503
