"""A full session against `kohorte serve` at DEBUG, in text and JSON log formats: every kind of
key is issued, used and refused, and none of them, nor any request body, reaches the log."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support import ADMIN_TOKEN, Api, bearer
from tests.support.ops import closed_port
from tests.support.servers import running_servers

BODY_MARKER = "body-marker-7f3a"
pytestmark = pytest.mark.usefixtures("engine")  # the tables are emptied afterwards
QUERY_SECRET = "query-secret-91bd"
WRONG_KEYS = ("wrong-admin-token-5c2e1", "wrong-rest-key-a8d0f", "wrong-partner-key-33e9")


def full_session(api: Api) -> list[str]:
    """Uses every kind of credential rightly and wrongly; returns the secrets issued."""
    integration = api.integration()
    api.track(integration.workspace, f"{BODY_MARKER}-user")
    api.synced(integration, "c1", {"user_ids": [f"{BODY_MARKER}-user"]})
    client = api.client
    client.get("/admin/workspaces", headers=bearer(WRONG_KEYS[0]))
    client.get("/segments/list", headers=bearer(WRONG_KEYS[1]))
    body = {"partner_api_key": WRONG_KEYS[2], "client_secret": integration.client_secret}
    client.post("/partners/amplitude/cohorts/users", json={**body, "cohort_id": BODY_MARKER})
    client.get(f"/segments/list?api_key={QUERY_SECRET}", headers=integration.workspace.headers)
    client.get(f"/nowhere?token={QUERY_SECRET}")
    issued = [integration.workspace.rest_key, integration.partner.api_key]
    return [*issued, integration.client_secret, ADMIN_TOKEN]


def assert_clean(log: str, secrets: list[str]) -> None:
    for secret in [*secrets, *WRONG_KEYS, QUERY_SECRET, BODY_MARKER]:
        assert secret not in log, f"{secret!r} is in the log"


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_key_token_or_body_is_logged(log_format: str, tmp_path: Path, database_url: str) -> None:
    store = f"sqlite:///{tmp_path / 'logs.db'}" if "sqlite" in database_url else database_url
    extra = {"KOHORTE_LOG_LEVEL": "DEBUG", "KOHORTE_LOG_FORMAT": log_format}
    with running_servers(store, tmp_path, extra_env=extra) as [server], server.api() as api:
        secrets = full_session(api)
    log = server.log()
    assert "kohorte.access" in log
    assert_clean(log, secrets)
    if log_format == "json":
        lines = [line for line in log.splitlines() if line.startswith("{")]
        access = [json.loads(line) for line in lines if '"kohorte.access"' in line]
        assert {"method", "path", "status", "duration_ms", "request_id"} <= set(access[0])


def test_a_generated_admin_token_stays_out_of_json_logs(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KOHORTE_")}
    environment.update(
        KOHORTE_DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.db'}", KOHORTE_LOG_FORMAT="json"
    )
    port = closed_port()
    command = [sys.executable, "-m", "kohorte", "serve", "--port", str(port)]
    with subprocess.Popen(
        command, env=environment, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
        finally:
            process.terminate()
        output, errors = process.communicate(timeout=20)
    log = output + errors
    assert "shown only on a terminal, not in JSON logs" in log
    assert "Generated the instance admin token" not in log
    assert "Authorization: Bearer" not in log
