"""X-Request-ID on every response, and the logs: JSON lines, request ids, the access line."""

import json
import logging
import logging.config
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import kohorte
from kohorte.cli import app as cli_app
from kohorte.logging_setup import logging_config
from kohorte.settings import get_settings
from tests.support.ops import closed_port
from tests.support.servers import serve_command

HEX_ID = re.compile(r"[0-9a-f]{32}")
COHORT_TEMPLATE = "/cohorts/{partner}/{cohort_id}"
SOURCE_ROOT = str(Path(kohorte.__file__).resolve().parents[1])


def request_id(client: TestClient, path: str, sent: str | None = None) -> str:
    headers = {} if sent is None else {"X-Request-ID": sent}
    return str(client.get(path, headers=headers).headers["X-Request-ID"])


# --- X-Request-ID ---------------------------------------------------------------------------


@pytest.mark.parametrize("sent", ["abc", "Req-1.2_3", "a" * 128, "0" * 32])
def test_a_valid_request_id_is_echoed(client: TestClient, sent: str) -> None:
    assert request_id(client, "/healthz", sent) == sent


@pytest.mark.parametrize("sent", ["a" * 129, "bad id", "semi;colon", "a:b", "a/b", "<x>"])
def test_an_invalid_request_id_is_replaced(client: TestClient, sent: str) -> None:
    replaced = request_id(client, "/healthz", sent)
    assert replaced != sent
    assert HEX_ID.fullmatch(replaced)


def test_without_one_each_request_gets_a_new_id(client: TestClient) -> None:
    first, second = request_id(client, "/healthz"), request_id(client, "/healthz")
    assert HEX_ID.fullmatch(first)
    assert HEX_ID.fullmatch(second)
    assert first != second


@pytest.mark.parametrize(
    ("path", "status"), [("/no/such/path", 404), ("/cohorts/p/c", 401), ("/admin/workspaces", 401)]
)
def test_error_responses_carry_the_id(client: TestClient, path: str, status: int) -> None:
    response = client.get(path, headers={"X-Request-ID": "err-1"})
    assert (response.status_code, response.headers["X-Request-ID"]) == (status, "err-1")
    assert HEX_ID.fullmatch(client.get(path).headers["X-Request-ID"])


# --- the logs -------------------------------------------------------------------------------


LogLines = Callable[[], list[str]]


@pytest.fixture
def logs_as(capsys: pytest.CaptureFixture[str]) -> Callable[[str], LogLines]:
    """Applies kohorte's logging configuration in the given format, as `kohorte serve` does;
    gives what it wrote to stderr, line by line (tests/conftest.py puts the run's logging
    back after every test)."""

    def configure(log_format: str) -> LogLines:
        logging.config.dictConfig(logging_config("INFO", log_format))
        capsys.readouterr()
        return lambda: capsys.readouterr().err.splitlines()

    return configure


def json_lines(lines: list[str]) -> list[dict[str, Any]]:
    parsed = [json.loads(line) for line in lines]
    assert all(isinstance(entry, dict) for entry in parsed)
    return parsed


def access_lines(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in entries if entry["logger"] == "kohorte.access"]


def logging_route(app: FastAPI) -> None:
    """A route that logs, served in the thread pool as kohorte's own sync routes are."""

    def log_inside() -> dict[str, str]:
        logging.getLogger("kohorte.somewhere").warning("inside a request")
        return {}

    app.add_api_route("/logs-inside", log_inside)


def test_json_lines_carry_the_request_id(
    app: FastAPI, client: TestClient, logs_as: Callable[[str], LogLines]
) -> None:
    logging_route(app)
    lines = logs_as("json")
    client.get("/logs-inside", headers={"X-Request-ID": "probe-1"})
    entries = json_lines(lines())
    assert entries[0]["message"] == "inside a request"
    assert len(entries) == 2  # and the access line
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= entry.keys()
        assert entry["request_id"] == "probe-1"
        logged_at = datetime.fromisoformat(entry["time"])
        assert logged_at.utcoffset() == timedelta(0)
        assert abs(datetime.now(UTC) - logged_at) < timedelta(minutes=1)


def test_the_access_line_has_the_route_template_and_no_query(
    client: TestClient, logs_as: Callable[[str], LogLines]
) -> None:
    lines = logs_as("json")
    response = client.get("/cohorts/acme/c-42?api_key=secret", headers={"X-Request-ID": "a-1"})
    assert response.status_code == 401
    text = lines()
    assert "secret" not in "\n".join(text)
    [access] = access_lines(json_lines(text))
    assert access["request_id"] == "a-1"
    assert (access["method"], access["path"], access["status"]) == ("GET", COHORT_TEMPLATE, 401)
    assert isinstance(access["duration_ms"], float)
    assert access["duration_ms"] >= 0
    assert "c-42" not in access["message"]


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/no/such/path?api_key=secret", "/no/such/path"),
        (
            "/users/export/segment/files/s3cr3t/more?api_key=secret",
            "/users/export/segment/files/***",
        ),
    ],
)
def test_an_unmatched_path_is_logged_without_query_and_tokens(
    client: TestClient, logs_as: Callable[[str], LogLines], path: str, logged: str
) -> None:
    lines = logs_as("json")
    assert client.get(path).status_code == 404
    text = lines()
    assert "secret" not in "\n".join(text)
    assert "s3cr3t" not in "\n".join(text)
    [access] = access_lines(json_lines(text))
    assert (access["path"], access["status"]) == (logged, 404)
    assert HEX_ID.fullmatch(access["request_id"])


def test_lines_outside_a_request_have_no_request_id(logs_as: Callable[[str], LogLines]) -> None:
    lines = logs_as("json")
    logging.getLogger("alembic.runtime.migration").info("Running upgrade a -> b")
    [entry] = json_lines(lines())
    assert "request_id" not in entry
    assert (entry["logger"], entry["level"]) == ("alembic.runtime.migration", "INFO")


def test_text_lines_carry_the_request_id(
    client: TestClient, logs_as: Callable[[str], LogLines]
) -> None:
    lines = logs_as("text")
    client.get("/segments/7?api_key=secret", headers={"X-Request-ID": "t-1"})
    logging.getLogger("kohorte").info("outside")
    [access, outside] = lines()
    assert " INFO kohorte.access [t-1]: GET /segments/{segment_id} 401 " in access
    assert "secret" not in access
    assert outside.endswith(" INFO kohorte [-]: outside")


def test_an_unknown_log_format_is_refused() -> None:
    with pytest.raises(ValueError, match="KOHORTE_LOG_FORMAT must be one of text, json"):
        logging_config("INFO", "yaml")
    assert logging_config("INFO", " JSON ")["handlers"]["stderr"]["formatter"] == "json"


# --- a served process -----------------------------------------------------------------------


def wait_until_up(base_url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with suppress(httpx.TransportError):
            httpx.get(f"{base_url}/healthz", timeout=1)
            return
        time.sleep(0.1)
    pytest.fail("kohorte serve did not start")


@contextmanager
def served_with_json_logs(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`kohorte serve` configures logging before uvicorn imports the app: only a real process
    shows that the access line survives that order and that uvicorn's lines are JSON too."""
    port, log_path = closed_port(), tmp_path / "serve.log"
    env = {**os.environ, "KOHORTE_LOG_FORMAT": "json", "PYTHONPATH": SOURCE_ROOT}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            serve_command("--ephemeral", "--port", str(port)), env=env, stdout=log, stderr=log
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}")
        yield f"http://127.0.0.1:{port}", log_path
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_served_process_logs_json_with_its_own_access_line(tmp_path: Path) -> None:
    with served_with_json_logs(tmp_path) as (base_url, log_path):
        headers = {"X-Request-ID": "served-1"}
        httpx.get(f"{base_url}/cohorts/a/b?api_key=secret", headers=headers, timeout=10)
    text = log_path.read_text()
    assert "secret" not in text
    entries = json_lines([line for line in text.splitlines() if line.startswith("{")])
    loggers = {entry["logger"] for entry in entries}
    assert {"alembic.runtime.migration", "uvicorn.error", "kohorte.access"} <= loggers
    assert "uvicorn.access" not in loggers
    [access] = [entry for entry in access_lines(entries) if entry["path"] == COHORT_TEMPLATE]
    assert (access["request_id"], access["status"]) == ("served-1", 401)


# --- kohorte serve's configuration ----------------------------------------------------------


@pytest.fixture
def served_ephemeral(
    served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[list[dict[str, Any]]]:
    """``served`` for `kohorte serve --ephemeral`, with an environment of its own."""
    # Set here so that monkeypatch puts back what --ephemeral writes into the environment.
    monkeypatch.setenv("KOHORTE_DATABASE_URL", f"sqlite:///{tmp_path / 'unused.db'}")
    monkeypatch.delenv("KOHORTE_ADMIN_TOKEN", raising=False)
    get_settings.cache_clear()
    yield served
    get_settings.cache_clear()


def test_serve_logs_json_and_switches_uvicorns_access_line_off(
    served_ephemeral: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KOHORTE_LOG_FORMAT", "json")
    result = CliRunner().invoke(cli_app, ["serve", "--ephemeral"])
    assert result.exit_code == 0, result.stderr
    [options] = served_ephemeral
    assert options["access_log"] is False
    assert options["log_config"]["handlers"]["stderr"]["formatter"] == "json"


def test_serve_refuses_an_unknown_log_format(
    served_ephemeral: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KOHORTE_LOG_FORMAT", "yaml")
    result = CliRunner().invoke(cli_app, ["serve", "--ephemeral"])
    assert result.exit_code == 2  # a configuration error
    assert "KOHORTE_LOG_FORMAT must be one of text, json, not 'yaml'" in result.stderr
    assert served_ephemeral == []
