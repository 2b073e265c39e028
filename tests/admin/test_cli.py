"""The kohorte command line, run through typer's CliRunner against the store under test."""

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url

from kohorte.api.app import create_app
from kohorte.cli import main
from kohorte.settings import Settings, get_settings
from kohorte.store.database import create_store_engine
from kohorte.store.migrate import schema_is_current
from kohorte.store.models import InstanceSecret
from tests.support import bearer
from tests.support.cli import assert_clean_failure, run, run_json, run_ok
from tests.support.ops import closed_port


@pytest.fixture
def stored_token_client(database_url: str, engine: Engine) -> Iterator[TestClient]:
    """An app without KOHORTE_ADMIN_TOKEN: the admin token is the generated, stored one."""
    app = create_app(Settings(database_url=database_url, admin_token=None), engine)
    with TestClient(app, base_url="http://kohorte.test") as client:
        yield client


# --- workspaces and REST API keys ---------------------------------------------------------


@pytest.mark.usefixtures("cli_env")
def test_workspaces_create_list_delete() -> None:
    created = run_json("workspaces", "create", "Acme")
    assert set(created) == {"id", "name", "created_at"}
    assert created["name"] == "Acme"
    assert [w["id"] for w in run_json("workspaces", "list")] == [created["id"]]
    listed = run_ok("workspaces", "list").stdout
    assert created["id"] in listed
    assert "Acme" in listed
    run_ok("workspaces", "delete", created["id"])
    assert run_json("workspaces", "list") == []
    missing = run("workspaces", "delete", created["id"])
    assert_clean_failure(missing, f"Workspace '{created['id']}' not found")


@pytest.mark.usefixtures("cli_env")
def test_workspace_name_is_validated() -> None:
    result = run("workspaces", "create", "   ")
    assert_clean_failure(result, "name must be a non-empty string of at most 255 characters")
    assert run_json("workspaces", "list") == []


@pytest.mark.usefixtures("cli_env")
def test_rest_key_is_printed_once_works_and_can_be_revoked(client: TestClient) -> None:
    workspace = run_json("workspaces", "create", "Acme")["id"]
    issued = run_ok("api-keys", "create", "--workspace", workspace, "--name", "ci")
    key = next(line.split()[1] for line in issued.stdout.splitlines() if line.startswith("key "))
    assert key.startswith("krest_")
    assert "shown only this once" in issued.stderr
    assert client.get("/integrations", headers=bearer(key)).status_code == 200
    listed = run_ok("api-keys", "list", "--workspace", workspace).stdout
    assert key[:12] in listed
    assert key not in listed
    key_id = run_json("api-keys", "list", "--workspace", workspace)[0]["id"]
    run_ok("api-keys", "revoke", "--workspace", workspace, key_id)
    assert client.get("/integrations", headers=bearer(key)).status_code == 401
    again = run("api-keys", "revoke", "--workspace", workspace, key_id)
    assert_clean_failure(again, f"REST API key '{key_id}' not found or already revoked")


@pytest.mark.usefixtures("cli_env")
def test_rest_key_permissions(client: TestClient) -> None:
    workspace = run_json("workspaces", "create", "Acme")["id"]
    issued = run_json(
        "api-keys", "create", "--workspace", workspace, "--name", "reader",
        "--permission", "cohorts.read", "--permission", "usage.read",
    )  # fmt: skip
    assert issued["permissions"] == ["cohorts.read", "usage.read"]
    assert client.get("/integrations", headers=bearer(issued["key"])).status_code == 403
    unknown = run(
        "api-keys", "create", "--workspace", workspace, "--name", "x", "--permission", "fly"
    )
    assert_clean_failure(unknown, "Unknown permission(s): fly")
    assert len(run_json("api-keys", "list", "--workspace", workspace)) == 1


@pytest.mark.usefixtures("cli_env")
def test_rest_key_for_an_unknown_workspace_is_a_clean_error() -> None:
    result = run("api-keys", "create", "--workspace", "nope", "--name", "ci")
    assert_clean_failure(result, "Workspace 'nope' not found")


# --- partners and data import keys --------------------------------------------------------


@pytest.mark.usefixtures("cli_env")
def test_partners_create_list_and_rotate_keys() -> None:
    created = run_json("partners", "create", "amplitude", "--display-name", "Amplitude Inc")
    assert created["display_name"] == "Amplitude Inc"
    assert created["partner_api_key"].startswith("kpart_")
    duplicate = run("partners", "create", "amplitude")
    assert_clean_failure(duplicate, "Partner 'amplitude' already exists")
    bad = run("partners", "create", "Amplitude")
    assert bad.exit_code == 1
    assert "[a-z0-9][a-z0-9_-]*" in bad.stderr
    second = run_json("partner-keys", "create", "amplitude")
    run_ok("partner-keys", "revoke", "amplitude", created["key_id"])
    [partner] = run_json("partners", "list")
    live = [key["id"] for key in partner["api_keys"] if key["revoked_at"] is None]
    assert live == [second["id"]]
    assert created["partner_api_key"] not in run_ok("partners", "list").stdout
    assert_clean_failure(run("partner-keys", "create", "segment"), "Partner 'segment' not found")


@pytest.mark.usefixtures("cli_env")
def test_data_import_keys_create_list_invalidate(client: TestClient) -> None:
    workspace = run_json("workspaces", "create", "Acme")["id"]
    partner_key = run_json("partners", "create", "amplitude")["partner_api_key"]
    scope = ("--workspace", workspace, "--partner", "amplitude")
    issued = run_json("data-import-keys", "create", *scope)
    assert issued["key"].startswith("kdik_")
    body = {"partner_api_key": partner_key, "client_secret": issued["key"]}
    sync = {**body, "cohort_id": "c1", "cohort_changes": []}
    accepted = client.post("/partners/amplitude/cohorts/users", json=sync)
    assert accepted.status_code == 201, accepted.text
    assert [key["id"] for key in run_json("data-import-keys", "list", *scope)] == [issued["id"]]
    run_ok("data-import-keys", "invalidate", *scope, issued["id"])
    rejected = client.post("/partners/amplitude/cohorts/users", json=sync)
    assert rejected.json() == {"message": "Invalid client secret"}
    again = run("data-import-keys", "invalidate", *scope, issued["id"])
    assert_clean_failure(
        again, f"Data import key '{issued['id']}' not found or already invalidated"
    )


@pytest.mark.usefixtures("cli_env")
def test_data_import_keys_name_unknown_workspace_or_partner() -> None:
    workspace = run_json("workspaces", "create", "Acme")["id"]
    run_ok("partners", "create", "amplitude")
    unknown_workspace = run(
        "data-import-keys", "create", "--workspace", "x", "--partner", "amplitude"
    )
    assert_clean_failure(unknown_workspace, "Workspace 'x' not found")
    unknown_partner = run("data-import-keys", "list", "--workspace", workspace, "--partner", "nope")
    assert_clean_failure(unknown_partner, "Partner 'nope' not found")


# --- the admin token ----------------------------------------------------------------------


@pytest.mark.usefixtures("cli_env")
def test_admin_token_rotate_prints_a_working_token_once(stored_token_client: TestClient) -> None:
    first = run_ok("admin-token", "rotate").stdout.strip()
    assert first.startswith("kadm_")
    assert stored_token_client.get("/admin/workspaces", headers=bearer(first)).status_code == 200
    second = run_ok("admin-token", "rotate").stdout.strip()
    assert second != first
    assert stored_token_client.get("/admin/workspaces", headers=bearer(first)).status_code == 401
    assert stored_token_client.get("/admin/workspaces", headers=bearer(second)).status_code == 200


@pytest.mark.usefixtures("cli_env")
def test_admin_token_rotate_refuses_when_the_token_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KOHORTE_ADMIN_TOKEN", "operator-chosen-token-0123456789")
    result = run("admin-token", "rotate")
    assert result.exit_code == 1
    assert "KOHORTE_ADMIN_TOKEN is set" in result.stderr


# --- serve --------------------------------------------------------------------------------


@pytest.mark.usefixtures("cli_env")
def test_first_start_generates_the_admin_token_and_prints_it_once(
    served: list[dict[str, Any]], stored_token_client: TestClient, engine: Engine
) -> None:
    first = run_ok("serve", "--port", "8123", "--workers", "2")
    assert served[0]["app"] == "kohorte.api.main:app"
    assert (served[0]["port"], served[0]["workers"], served[0]["host"]) == (8123, 2, "127.0.0.1")
    token = next(word for word in first.stderr.split() if word.startswith("kadm_"))
    assert "shown only this once" in first.stderr
    assert "Authorization: Bearer" in first.stderr
    assert stored_token_client.get("/admin/workspaces", headers=bearer(token)).status_code == 200
    with engine.connect() as connection:
        stored = connection.scalars(select(InstanceSecret.secret_hash)).all()
    assert len(stored) == 1
    assert token not in stored[0]
    later = run_ok("serve")
    assert "kadm_" not in later.output
    assert "kohorte admin-token rotate" in later.stderr
    assert stored_token_client.get("/admin/workspaces", headers=bearer(token)).status_code == 200


@pytest.mark.usefixtures("cli_env")
def test_configured_admin_token_generates_nothing(
    served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> None:
    monkeypatch.setenv("KOHORTE_ADMIN_TOKEN", "operator-chosen-token-0123456789")
    result = run_ok("serve")
    assert "KOHORTE_ADMIN_TOKEN" in result.stderr
    assert "kadm_" not in result.output
    assert len(served) == 1
    with engine.connect() as connection:
        assert connection.scalars(select(InstanceSecret.name)).all() == []


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize("token", ["changeme", "admin", "short-token"])
def test_placeholder_admin_token_is_refused_without_a_traceback(
    served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    monkeypatch.setenv("KOHORTE_ADMIN_TOKEN", token)
    result = run("serve")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: KOHORTE_ADMIN_TOKEN must be at least 16 characters")
    assert "Traceback" not in result.output
    assert served == []


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize(
    "token",
    [
        "passwordpassword",
        "changemechangeme",
        "aaaaaaaaaaaaaaaa",
        "abcabcabcabcabcab",
        "0123456789abcde0",  # 15 distinct characters
    ],
)
def test_low_entropy_admin_token_is_refused(
    served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    monkeypatch.setenv("KOHORTE_ADMIN_TOKEN", token)
    result = run("serve")
    assert result.exit_code == 2  # a configuration error
    assert result.stderr.startswith("Error: KOHORTE_ADMIN_TOKEN is too easy to guess")
    assert "one word repeated" in result.stderr
    assert served == []


def test_a_varied_admin_token_is_accepted() -> None:
    token = "k7Qp2xLm9vRt4sNw"
    settings = Settings(admin_token=token)
    assert settings.admin_token is not None
    assert settings.admin_token.get_secret_value() == token


@pytest.mark.usefixtures("cli_env")
def test_unknown_log_level_is_refused(
    served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KOHORTE_LOG_LEVEL", "loud")
    result = run("serve")
    assert result.exit_code == 2  # a configuration error
    assert "KOHORTE_LOG_LEVEL must be one of" in result.stderr
    assert served == []


@pytest.mark.usefixtures("cli_env")
def test_serve_configures_logging_for_every_worker(
    served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KOHORTE_LOG_LEVEL", "warning")
    run_ok("serve")
    log_config = served[0]["log_config"]
    assert log_config["root"]["level"] == "WARNING"
    assert log_config["loggers"]["uvicorn.access"]["level"] == "WARNING"


# --- the database -------------------------------------------------------------------------


@pytest.fixture
def fresh_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("KOHORTE_DATABASE_URL", url)
    monkeypatch.delenv("KOHORTE_ADMIN_TOKEN", raising=False)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def _schema_is_current(url: str) -> bool:
    engine = create_store_engine(url)
    try:
        return schema_is_current(engine)
    finally:
        engine.dispose()


def test_serve_applies_pending_migrations(fresh_sqlite: str, served: list[dict[str, Any]]) -> None:
    assert not _schema_is_current(fresh_sqlite)
    run_ok("serve")
    assert _schema_is_current(fresh_sqlite)
    assert len(served) == 1


def test_admin_verbs_ask_for_an_upgrade_first(fresh_sqlite: str) -> None:
    Path(make_url(fresh_sqlite).database or "").touch()
    result = run("workspaces", "list")
    assert_clean_failure(
        result, "the database schema is not current; run `kohorte db upgrade` first"
    )
    run_ok("db", "upgrade")
    assert run_json("workspaces", "list") == []


def test_unreachable_database_is_a_clean_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOHORTE_DATABASE_URL", f"postgresql://kohorte@127.0.0.1:{closed_port()}/x")
    get_settings.cache_clear()
    try:
        result = run("db", "upgrade")
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot use the database at postgresql://kohorte@")
    assert "Traceback" not in result.output


def test_unusable_database_url_is_a_clean_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOHORTE_DATABASE_URL", "not a url")
    get_settings.cache_clear()
    try:
        result = run("workspaces", "list")
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2  # a configuration error
    assert result.stderr.startswith("Error: KOHORTE_DATABASE_URL cannot be used")


def test_python_dash_m_and_every_verb_have_help() -> None:
    verbs = ["serve", "db", "admin-token", "workspaces", "api-keys", "partners"]
    verbs += ["partner-keys", "data-import-keys", "users"]
    output = subprocess.run(
        [sys.executable, "-m", "kohorte", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for verb in verbs:
        assert verb in output
        assert run(verb, "--help").exit_code == 0


def test_admin_verbs_in_a_folder_without_a_store_create_none(fresh_sqlite: str) -> None:
    store = Path(make_url(fresh_sqlite).database or "")
    result = run("workspaces", "list")
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: no store at {store}")
    assert "KOHORTE_DATABASE_URL" in line
    assert not store.exists()


def test_serve_on_a_port_in_use_says_so_before_migrating(
    fresh_sqlite: str, served: list[dict[str, Any]]
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run("serve", "--port", str(port))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: port {port} on 127.0.0.1 is in use; choose another with --port"
    ]
    assert served == []
    assert not Path(make_url(fresh_sqlite).database or "").exists()


@pytest.mark.parametrize(
    "argv",
    [["frobnicate"], ["users", "import"], ["serve", "--port", "http"], ["workspaces", "--nope"]],
)
def test_usage_errors_are_one_line_and_exit_2(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["kohorte", *argv])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    captured = capsys.readouterr()
    [line] = captured.err.splitlines()
    assert line.startswith("Error: ")
    assert line.endswith("--help`)")
    assert captured.out == ""
