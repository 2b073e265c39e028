"""``POST /users/export/segment``: files read back, the callback, and every refusal."""

import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kohorte.logging_setup import SecretPathFilter
from kohorte.settings import Settings
from tests.support import ADMIN_TOKEN, Api
from tests.support.segment_exports import (
    EXPORT_PATH,
    MEMBERS,
    World,
    gzip_lines,
    receiver,
    runner,
    start,
    started,
    world,
    zip_lines,
)

ALL_FIELDS = ["external_id", "braze_id", "user_aliases", "devices", "custom_attributes", "cohorts"]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, admin_token=ADMIN_TOKEN, export_dir=tmp_path)


def finished(client: TestClient, app: FastAPI, body: dict[str, Any]) -> bytes:
    runner(app).wait(60)
    response = client.get(body["url"])
    assert response.status_code == 200, response.text
    content: bytes = response.content
    return content


def test_gzip_export_has_every_member_with_exactly_the_fields_asked_for(
    client: TestClient, app: FastAPI, found: World
) -> None:
    body = started(client, found, fields_to_export=["external_id", "custom_attributes"])
    assert body["message"] == "success"
    assert body["object_prefix"]
    lines = gzip_lines(finished(client, app, body))
    assert sorted(line["external_id"] for line in lines) == list(MEMBERS)
    assert all(set(line) == {"external_id", "custom_attributes"} for line in lines)
    by_id = {line["external_id"]: line["custom_attributes"] for line in lines}
    assert by_id["u1"] == {"plan": "pro"}
    assert by_id["u2"] == {}


def test_zip_export_is_one_json_member_with_every_field(
    client: TestClient, app: FastAPI, found: World
) -> None:
    body = started(client, found, fields_to_export=ALL_FIELDS, output_format="zip")
    names, lines = zip_lines(finished(client, app, body))
    assert names == [body["object_prefix"] + ".json"]
    assert sorted(line["external_id"] for line in lines) == list(MEMBERS)
    assert all(list(line) == ALL_FIELDS for line in lines)
    assert lines[0]["cohorts"] == [{"partner": "amplitude", "cohort_id": "gold", "name": "Gold"}]


def test_an_empty_segment_is_an_empty_file(client: TestClient, app: FastAPI, api: Api) -> None:
    found = world(api)
    found.universe.remove_members("gold", MEMBERS)
    assert gzip_lines(finished(client, app, started(client, found))) == []


def test_the_callback_is_posted_when_complete_and_the_link_is_never_logged(
    client: TestClient, app: FastAPI, found: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with receiver() as callback:
        body = started(client, found, callback_endpoint=callback.url)
        finished(client, app, body)
    expected = {"success": True, "url": body["url"], "object_prefix": body["object_prefix"]}
    assert callback.bodies == [expected]
    token = body["url"].rsplit("/", 1)[1]
    # httpx and httpcore here are the test's own client, which knows the link.
    ours = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert ours
    assert not [r for r in ours if token in r.getMessage()]


def test_the_access_log_masks_download_tokens() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "",
        0,
        '%s - "%s %s" %d',
        ("1.2.3.4", "GET", "/users/export/segment/files/s3cr3t-T0ken", 200),
        None,
    )
    assert SecretPathFilter().filter(record)
    assert "s3cr3t" not in record.getMessage()
    assert "/files/***" in record.getMessage()


def test_an_unreachable_callback_does_not_fail_the_export(
    client: TestClient, app: FastAPI, found: World
) -> None:
    with receiver() as callback:
        closed = callback.url  # the server is gone once the block ends
    body = started(client, found, callback_endpoint=closed)
    assert len(gzip_lines(finished(client, app, body))) == len(MEMBERS)


@pytest.mark.parametrize(
    "endpoint",
    ["http://example.com/done", "https://10.0.0.1/x", "http://localhost.evil.test/", "ftp://x"],
)
def test_a_far_callback_host_is_refused_and_nothing_starts(
    client: TestClient, app: FastAPI, found: World, endpoint: str
) -> None:
    response = start(client, found, callback_endpoint=endpoint)
    assert response.status_code == 400, response.text
    assert "callback_endpoint" in response.json()["message"]
    runner(app).wait(60)
    assert list(runner(app).directory.iterdir()) == []
    started(client, found)  # no export of the segment is running


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"fields_to_export": []}, "fields_to_export"),
        ({"fields_to_export": ["external_id", "email"]}, "'email'"),
        ({"fields_to_export": ["custom_events"]}, "'custom_events'"),
        ({"fields_to_export": "external_id"}, "fields_to_export"),
        ({"fields_to_export": None}, "fields_to_export"),
        ({"output_format": "tar"}, "'tar'"),
        ({"output_format": 3}, "output_format"),
        ({"segment_id": None}, "segment_id"),
        ({"callback_endpoint": "not a url"}, "callback_endpoint"),
        ({"callback_endpoint": "http://[localhost/done"}, "callback_endpoint"),
        ({"callback_endpoint": "http://localhost:port/done"}, "callback_endpoint"),
    ],
)
def test_invalid_requests_are_400s_naming_the_problem(
    client: TestClient, app: FastAPI, found: World, change: dict[str, Any], named: str
) -> None:
    response = start(client, found, **change)
    assert response.status_code == 400, response.text
    assert named in response.json()["message"]
    runner(app).wait(60)
    assert list(runner(app).directory.iterdir()) == []


def test_a_body_without_fields_or_not_an_object_is_a_400(client: TestClient, found: World) -> None:
    for body in ({"segment_id": found.segment_id}, [1], "x"):
        response = client.post(EXPORT_PATH, json=body, headers=found.headers)
        assert response.status_code == 400, response.text


def test_an_unknown_segment_is_a_404(client: TestClient, found: World) -> None:
    for segment_id in ("00000000-0000-0000-0000-000000000000", "nope"):
        response = start(client, found, segment_id=segment_id)
        assert response.status_code == 404, response.text
        assert "Segment" in response.json()["message"]


def test_another_workspaces_segment_is_unknown(client: TestClient, api: Api, found: World) -> None:
    other = api.create_workspace("other")
    body = {"segment_id": found.segment_id, "fields_to_export": ["external_id"]}
    assert client.post(EXPORT_PATH, json=body, headers=other.headers).status_code == 404


def test_the_permission_is_needed(client: TestClient, api: Api, found: World) -> None:
    workspace_id = found.universe.workspace.id
    key = api.create_rest_key(workspace_id, ["users.export.ids", "segments.read"])
    body = {"segment_id": found.segment_id, "fields_to_export": ["external_id"]}
    headers = {"Authorization": f"Bearer {key}"}
    assert client.post(EXPORT_PATH, json=body, headers=headers).status_code == 403
    assert client.post(EXPORT_PATH, json=body).status_code == 401


def test_a_wrong_token_is_a_404_that_needs_no_credentials(
    client: TestClient, app: FastAPI, found: World
) -> None:
    body = started(client, found)
    finished(client, app, body)
    wrong = body["url"][:-4] + "AAAA"
    response = client.get(wrong)
    assert response.status_code == 404
    assert "message" in response.json()
    assert client.get(body["url"].rsplit("/", 1)[0] + "/").status_code == 404
