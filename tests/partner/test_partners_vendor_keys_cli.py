"""The vendor partner key from the command line: an option, an env var, or stdin."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kohorte.cli import app as cli_app
from tests.support import ADMIN_HEADERS, Api, Integration, PartnerHandle
from tests.support.cli import cli_environment, runner

VENDOR_KEY = "vendor-issued-key-0123456789"


@pytest.fixture
def vendor_cli_env(
    monkeypatch: pytest.MonkeyPatch, database_url: str, engine: Engine
) -> Iterator[None]:
    with cli_environment(monkeypatch, database_url, unset="KOHORTE_VENDOR_PARTNER_API_KEY"):
        yield


def _syncs_with(api: Api, partner: str, key: str) -> bool:
    workspace = api.create_workspace()
    secret = api.create_data_import_key(workspace, partner)
    return api.sync(Integration(workspace, PartnerHandle(partner, key), secret), "c", []).is_success


@pytest.mark.usefixtures("vendor_cli_env")
def test_partners_create_registers_the_given_key(api: Api) -> None:
    result = runner.invoke(
        cli_app, ["partners", "create", "amplitude", "--partner-api-key", VENDOR_KEY]
    )
    assert result.exit_code == 0, result.output
    assert _syncs_with(api, "amplitude", VENDOR_KEY)
    again = runner.invoke(
        cli_app, ["partners", "create", "mixpanel", "--partner-api-key", VENDOR_KEY]
    )
    assert again.exit_code == 1
    assert "already registered" in again.stderr


@pytest.mark.usefixtures("vendor_cli_env")
def test_partner_keys_create_reads_the_key_from_stdin(api: Api, client: TestClient) -> None:
    api.partner("amplitude")
    args = ["partner-keys", "create", "amplitude", "--partner-api-key", "-"]
    result = runner.invoke(cli_app, args, input=VENDOR_KEY + "\n")
    assert result.exit_code == 0, result.output
    assert _syncs_with(api, "amplitude", VENDOR_KEY)
    listed = client.get("/admin/partners", headers=ADMIN_HEADERS).json()["partners"]
    assert len(listed[0]["api_keys"]) == 2


@pytest.mark.usefixtures("vendor_cli_env")
def test_the_key_may_come_from_the_environment(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOHORTE_VENDOR_PARTNER_API_KEY", VENDOR_KEY)
    result = runner.invoke(cli_app, ["partners", "create", "amplitude"])
    assert result.exit_code == 0, result.output
    assert _syncs_with(api, "amplitude", VENDOR_KEY)


@pytest.mark.usefixtures("vendor_cli_env")
def test_a_short_key_fails_cleanly() -> None:
    result = runner.invoke(
        cli_app, ["partners", "create", "amplitude", "--partner-api-key", "short"]
    )
    assert result.exit_code == 1
    assert "at least 16 characters" in result.stderr
