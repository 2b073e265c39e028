"""The request journal: every partner request recorded, whatever its outcome, secrets masked."""

import json
from typing import Any

import pytest
from sqlalchemy import Engine

from kohorte.api.body_limit import MAX_BODY_BYTES
from tests.support import ADMIN_HEADERS, Api
from tests.support.journal import api_with, journal, latest_entry
from tests.support.partner import (
    COHORT_ID_MESSAGE,
    adds,
    changes_body,
    cohorts_path,
    message,
    name_body,
    post_partner,
    users_path,
)

MASK = "***"


def assert_no_secret(entry: dict[str, Any], *secrets: str) -> None:
    text = json.dumps(entry)
    for secret in secrets:
        assert secret not in text, (secret, text)


def test_a_success_is_recorded_with_its_answer_and_secrets_masked(api: Api) -> None:
    integration = api.integration()
    api.track(integration.workspace, "alice")
    api.synced(integration, "c1", adds("alice", "nobody"))
    entry = latest_entry(api)
    assert entry["partner"] == "amplitude"
    assert entry["path"] == "/partners/amplitude/cohorts/users"
    assert entry["workspace_id"] == integration.workspace.id
    assert entry["cohort_id"] == "c1"
    assert entry["status"] == 201
    assert entry["request"] == {
        "partner_api_key": MASK,
        "client_secret": MASK,
        "cohort_id": "c1",
        "cohort_changes": [adds("alice", "nobody")],
    }
    assert entry["request_truncated"] is False
    assert entry["response"] == {"message": "success", "added": 1, "removed": 0, "unmatched": 1}
    assert entry["received_at"]


def test_a_400_is_recorded(api: Api) -> None:
    integration = api.integration()
    response = post_partner(api, users_path(integration), changes_body(integration, 7, []))
    assert response.status_code == 400
    entry = latest_entry(api)
    assert (entry["status"], entry["cohort_id"]) == (400, None)
    assert entry["response"] == {"message": COHORT_ID_MESSAGE}
    assert entry["workspace_id"] == integration.workspace.id


def test_a_body_that_is_not_json_is_recorded_with_a_null_request(api: Api) -> None:
    integration = api.integration()
    response = api.client.post(users_path(integration), content=b"not json {")
    assert response.status_code == 400
    entry = latest_entry(api)
    assert (entry["status"], entry["request"], entry["workspace_id"]) == (400, None, None)
    assert entry["response"] == response.json()


def test_each_401_is_recorded_without_naming_a_workspace_it_did_not_reach(api: Api) -> None:
    integration = api.integration()
    bad_key = {**changes_body(integration, "c1", []), "partner_api_key": "wrong-partner-key"}
    bad_secret = {**changes_body(integration, "c1", []), "client_secret": "wrong-secret-value"}
    assert post_partner(api, users_path(integration), bad_key).status_code == 401
    assert post_partner(api, users_path(integration), bad_secret).status_code == 401
    second, first = journal(api)
    assert first["response"] == {"message": "Invalid Partner API key"}
    assert second["response"] == {"message": "Invalid client secret"}
    assert (first["workspace_id"], second["workspace_id"]) == (None, None)
    assert first["request"]["partner_api_key"] == MASK
    assert_no_secret(first, "wrong-partner-key", integration.client_secret)
    assert_no_secret(second, "wrong-secret-value", integration.partner.api_key)


def test_the_401_that_echoes_the_client_secret_is_masked(api: Api) -> None:
    amplitude = api.integration()
    mixpanel = api.integration(amplitude.workspace, partner="mixpanel")
    # mixpanel's partner key with amplitude's data import key: the message echoes the secret.
    body = {**changes_body(amplitude, "c1", []), "partner_api_key": mixpanel.partner.api_key}
    response = post_partner(api, f"/partners/{mixpanel.partner.name}/cohorts/users", body)
    assert response.status_code == 401
    assert amplitude.client_secret in message(response)  # the caller sees its own secret
    entry = latest_entry(api)
    assert entry["response"] == {
        "message": f"Partner not enabled for client with client secret: {MASK}"
    }
    assert entry["workspace_id"] == amplitude.workspace.id
    assert_no_secret(entry, amplitude.client_secret, mixpanel.partner.api_key)


def test_a_secret_also_sent_elsewhere_in_the_body_is_masked_there_too(api: Api) -> None:
    integration = api.integration()
    secret = integration.client_secret
    body = name_body(integration, name=f"cohort of {secret}", cohort_id="c1")
    body["extra"] = {f"key-{secret}": [integration.partner.api_key]}
    assert post_partner(api, cohorts_path(integration), body).status_code == 201
    entry = latest_entry(api)
    assert entry["request"]["name"] == f"cohort of {MASK}"
    assert entry["request"]["extra"] == {f"key-{MASK}": [MASK]}
    assert_no_secret(entry, secret, integration.partner.api_key)


def test_a_413_is_recorded(api: Api) -> None:
    integration = api.integration()
    padding = "x" * (MAX_BODY_BYTES + 10)
    response = post_partner(
        api, users_path(integration), {**changes_body(integration, "c1", []), "p": padding}
    )
    assert response.status_code == 413
    entry = latest_entry(api)
    assert (entry["status"], entry["request"], entry["request_truncated"]) == (413, None, True)
    assert entry["response"] == response.json()


def test_a_body_over_128_kib_is_kept_cut(api: Api) -> None:
    integration = api.integration()
    ids = [f"user-{n:06d}-{'y' * 150}" for n in range(1000)]
    response = post_partner(
        api, users_path(integration), changes_body(integration, "big", [adds(*ids)])
    )
    assert response.status_code == 201
    entry = latest_entry(api)
    assert (entry["request"], entry["request_truncated"]) == (None, True)
    assert (entry["cohort_id"], entry["status"]) == ("big", 201)


def test_a_rate_limited_request_is_recorded(database_url: str, engine: Engine) -> None:
    with api_with(database_url, engine, partner_rate_limit_per_hour=1) as api:
        integration = api.integration()
        assert api.sync(integration, "c1", []).status_code == 201
        assert api.sync(integration, "c1", []).status_code == 429
        entry = latest_entry(api)
        assert entry["status"] == 429
        assert entry["response"] == {"message": "Rate limit exceeded"}
        assert entry["workspace_id"] == integration.workspace.id


def test_clearing_empties_the_journal(api: Api) -> None:
    integration = api.integration()
    api.synced(integration, "c1")
    response = api.client.delete("/admin/journal", headers=ADMIN_HEADERS)
    assert response.status_code == 204
    assert journal(api) == []


def test_the_bound_evicts_the_oldest_first(database_url: str, engine: Engine) -> None:
    with api_with(database_url, engine, journal_max_entries=3) as api:
        integration = api.integration()
        for cohort_id in ("c1", "c2", "c3", "c4", "c5"):
            api.synced(integration, cohort_id)
        assert [entry["cohort_id"] for entry in journal(api)] == ["c5", "c4", "c3"]


def test_zero_entries_turns_the_journal_off(database_url: str, engine: Engine) -> None:
    with api_with(database_url, engine, journal_max_entries=0) as api:
        integration = api.integration()
        api.synced(integration, "c1")
        assert journal(api) == []
    with api_with(database_url, engine) as api:
        assert journal(api) == []  # nothing was written while it was off


def test_the_journal_needs_the_admin_token(api: Api) -> None:
    integration = api.integration()
    assert api.client.get("/admin/journal").status_code == 401
    assert (
        api.client.get("/admin/journal", headers=integration.workspace.headers).status_code == 401
    )
    assert api.client.delete("/admin/journal").status_code == 401


def test_off_control_api_hides_the_routes_and_records_nothing(
    database_url: str, engine: Engine
) -> None:
    with api_with(database_url, engine, control_api=False) as api:
        integration = api.integration()
        api.synced(integration, "c1")
        for method, path in (
            ("GET", "/admin/journal"),
            ("DELETE", "/admin/journal"),
            ("GET", "/journal"),
            ("GET", "/admin/faults"),
            ("POST", "/admin/faults"),
            ("DELETE", "/admin/faults"),
            ("DELETE", "/admin/faults/1"),
        ):
            response = api.client.request(method, path, headers=ADMIN_HEADERS, json={"status": 503})
            assert response.status_code == 404, (method, path)
            assert "message" in response.json()
    with api_with(database_url, engine) as api:
        assert journal(api) == []


def test_a_cohort_id_that_is_not_valid_text_is_recorded_as_none(api: Api) -> None:
    integration = api.integration()
    response = post_partner(api, users_path(integration), changes_body(integration, "\ud800", []))
    assert response.status_code == 400
    entry = latest_entry(api)
    assert (entry["status"], entry["cohort_id"]) == (400, None)
    assert entry["request"]["cohort_id"] == "\\ud800"  # kept as its escape


def test_a_journal_that_cannot_be_written_does_not_change_the_answer(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    integration = api.integration()

    def broken(*_args: object) -> None:
        raise RuntimeError("store gone")

    monkeypatch.setattr("kohorte.domain.journal.record", broken)
    assert api.synced(integration, "c1") == {
        "message": "success",
        "added": 0,
        "removed": 0,
        "unmatched": 0,
    }
    monkeypatch.undo()
    assert journal(api) == []
