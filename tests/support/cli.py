"""Helpers of the command line tests: ``kohorte`` run through typer's CliRunner against the
store under test, with the environment an operator's shell would give it."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from kohorte.cli import app as cli_app
from kohorte.settings import get_settings

runner = CliRunner()


@contextmanager
def cli_environment(
    monkeypatch: pytest.MonkeyPatch, database_url: str, unset: str
) -> Iterator[None]:
    """The CLI reads its settings from the environment: the store under test, ``unset`` gone."""
    monkeypatch.setenv("KOHORTE_DATABASE_URL", database_url)
    monkeypatch.delenv(unset, raising=False)
    get_settings.cache_clear()
    try:
        yield
    finally:
        get_settings.cache_clear()


def run(*args: str) -> Result:
    return runner.invoke(cli_app, list(args))


def run_ok(*args: str) -> Result:
    result = run(*args)
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result


def run_json(*args: str) -> Any:
    return json.loads(run_ok(*args, "--json").stdout)


def assert_clean_failure(result: Result, message: str) -> None:
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stderr.strip() == f"Error: {message}"
    assert "Traceback" not in result.output
