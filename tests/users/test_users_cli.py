"""``kohorte users import FILE --workspace ID`` against the test store."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kohorte.cli import app
from kohorte.settings import get_settings
from kohorte.store.models import User
from tests.support.seeds import seed_workspace


@pytest.fixture
def cli_store(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("KOHORTE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_cli_imports_a_file(cli_store: None, session: Session, tmp_path: Path) -> None:
    workspace_id = seed_workspace(session)
    session.commit()
    lines = [json.dumps({"external_id": f"u{i}", "attributes": {"i": i}}) for i in range(1500)]
    path = tmp_path / "users.ndjson"
    path.write_text("\n".join([*lines, "not json"]) + "\n")
    result = CliRunner().invoke(
        app, ["users", "import", str(path), "--workspace", workspace_id, "--quiet"]
    )
    # The good lines are kept; the rejected one makes the exit code say so.
    assert result.exit_code == 1, result.output
    assert "Imported 1500 lines; 1 problems reported." in result.output
    assert "line 1501: line is not valid JSON" in result.output
    stored = session.scalars(select(User.external_id).where(User.workspace_id == workspace_id))
    assert len(set(stored)) == 1500
    session.commit()


def test_cli_refuses_an_unknown_workspace(cli_store: None, tmp_path: Path) -> None:
    path = tmp_path / "users.ndjson"
    path.write_text('{"external_id": "u"}\n')
    result = CliRunner().invoke(app, ["users", "import", str(path), "--workspace", "nope"])
    assert result.exit_code == 1
    assert "Workspace 'nope' not found" in result.output


def test_cli_import_reports_json_on_stdout_and_progress_on_stderr(
    cli_store: None, session: Session, tmp_path: Path
) -> None:
    workspace_id = seed_workspace(session)
    session.commit()
    path = tmp_path / "users.ndjson"
    path.write_text('{"external_id": "a"}\n{"external_id": "b"}\n')
    result = CliRunner().invoke(
        app, ["users", "import", str(path), "--workspace", workspace_id, "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"imported": 2, "problems": 0, "errors": []}
    assert "Importing users" in result.stderr
