"""The partner rate limit per data import key, counted in the store."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kohorte.api.app import create_app
from kohorte.domain.cohort_import.rate_limit import count_request, window_start
from kohorte.settings import Settings
from kohorte.store.models import DataImportKey, RateLimitWindow
from tests.support import ADMIN_TOKEN, Api, Integration
from tests.support.partner import changes_body, message, post_partner, users_path
from tests.support.seeds import seed_partner, seed_workspace

HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


def limited_api(database_url: str, engine: Engine, limit: int) -> Iterator[Api]:
    settings = Settings(
        database_url=database_url, admin_token=ADMIN_TOKEN, partner_rate_limit_per_hour=limit
    )
    with TestClient(create_app(settings, engine), base_url="http://kohorte.test") as client:
        yield Api(client)


@pytest.fixture
def api_limit_3(database_url: str, engine: Engine) -> Iterator[Api]:
    yield from limited_api(database_url, engine, 3)


@pytest.fixture
def api_unlimited(database_url: str, engine: Engine) -> Iterator[Api]:
    yield from limited_api(database_url, engine, 0)


def empty_sync(api: Api, integration: Integration) -> int:
    return post_partner(
        api, users_path(integration), changes_body(integration, "c1", [])
    ).status_code


def test_fourth_request_in_the_hour_is_limited(api_limit_3: Api) -> None:
    api = api_limit_3
    integration = api.integration()
    before = datetime.now(UTC)
    remaining = []
    for _ in range(3):
        response = post_partner(api, users_path(integration), changes_body(integration, "c1", []))
        assert response.status_code == 201
        assert response.headers["x-ratelimit-limit"] == "3"
        remaining.append(response.headers["x-ratelimit-remaining"])
    assert remaining == ["2", "1", "0"]
    limited = post_partner(
        api, users_path(integration), changes_body(integration, "c1", [{"user_ids": ["u"]}])
    )
    assert limited.status_code == 429
    assert limited.json() == {"message": "Rate limit exceeded"}
    assert limited.headers["x-ratelimit-remaining"] == "0"
    reset = int(limited.headers["x-ratelimit-reset"])
    assert reset % 3600 == 0
    assert 0 < reset - before.timestamp() <= 3600 + 1
    assert api.client.get("/cohorts", headers=integration.workspace.headers).json()["cohorts"] == []


def test_rejected_requests_count_and_carry_headers(api_limit_3: Api) -> None:
    api = api_limit_3
    integration = api.integration()
    bad = post_partner(api, users_path(integration), changes_body(integration, None, []))
    assert bad.status_code == 400
    assert bad.headers["x-ratelimit-remaining"] == "2"
    named = post_partner(
        api, f"/partners/{integration.partner.name}/cohorts", {**integration.credentials}
    )
    assert named.status_code == 400
    assert named.headers["x-ratelimit-remaining"] == "1"
    assert empty_sync(api, integration) == 201
    assert empty_sync(api, integration) == 429


def test_failed_credentials_neither_count_nor_carry_headers(api_limit_3: Api) -> None:
    api = api_limit_3
    integration = api.integration()
    wrong = {**changes_body(integration, "c1", []), "partner_api_key": "nope"}
    for _ in range(5):
        response = post_partner(api, users_path(integration), wrong)
        assert message(response) == "Invalid Partner API key"
        assert not set(HEADERS) & set(response.headers)
    assert empty_sync(api, integration) == 201


def test_each_data_import_key_has_its_own_window(api_limit_3: Api) -> None:
    api = api_limit_3
    first = api.integration()
    second = Integration(
        first.workspace,
        first.partner,
        api.create_data_import_key(first.workspace, first.partner.name),
    )
    assert [empty_sync(api, first) for _ in range(4)] == [201, 201, 201, 429]
    assert [empty_sync(api, second) for _ in range(4)] == [201, 201, 201, 429]


def test_no_headers_when_switched_off(api_unlimited: Api) -> None:
    api = api_unlimited
    integration = api.integration()
    for _ in range(5):
        response = post_partner(api, users_path(integration), changes_body(integration, "c1", []))
        assert response.status_code == 201
        assert not set(HEADERS) & set(response.headers)
    bad = post_partner(api, users_path(integration), changes_body(integration, 5, []))
    assert bad.status_code == 400
    assert not set(HEADERS) & set(bad.headers)


def test_default_limit_is_sent(api: Api) -> None:
    integration = api.integration()
    response = post_partner(api, users_path(integration), changes_body(integration, "c1", []))
    assert response.headers["x-ratelimit-limit"] == "250000"
    assert response.headers["x-ratelimit-remaining"] == "249999"


def seeded_key(session: Session) -> str:
    workspace, partner = seed_workspace(session), seed_partner(session)
    key = DataImportKey(workspace_id=workspace, partner_name=partner, prefix="kdik_x", key_hash="h")
    session.add(key)
    session.flush()
    return key.id


def test_windows_are_fixed_hours_and_old_ones_are_dropped(session: Session) -> None:
    key_id = seeded_key(session)
    nine = datetime(2025, 3, 1, 9, 59, 59, tzinfo=UTC)
    ten = datetime(2025, 3, 1, 10, 0, 0, tzinfo=UTC)
    assert window_start(nine) == datetime(2025, 3, 1, 9, tzinfo=UTC)
    for expected in (1, 2):
        status = count_request(session, key_id, 5, nine)
        assert status is not None
        assert status.count == expected
    status = count_request(session, key_id, 5, ten)
    assert status is not None
    assert (status.count, status.reset_at) == (1, datetime(2025, 3, 1, 11, tzinfo=UTC))
    windows = session.query(RateLimitWindow.window_start).all()
    assert [start for (start,) in windows] == [ten]


def test_switched_off_counts_nothing(session: Session) -> None:
    key_id = seeded_key(session)
    assert count_request(session, key_id, 0, datetime.now(UTC)) is None
    assert session.query(RateLimitWindow).count() == 0
