"""The Alembic history: from empty to head and back, in step with the models, shipped in wheels.

Each test makes a store of its own (a SQLite file, or a fresh PostgreSQL database when
KOHORTE_TEST_DATABASE_URL points at one), never the shared test store.
"""

import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect
from typer.testing import CliRunner

from kohorte.cli import app as cli_app
from kohorte.settings import get_settings
from kohorte.store.database import create_store_engine
from kohorte.store.migrate import (
    current_revision,
    downgrade_to_base,
    head_revision,
    migrations_dir,
    schema_is_current,
    upgrade_to_head,
)
from kohorte.store.models import Base
from tests.support.databases import throwaway_postgres_database

REPO = Path(__file__).resolve().parents[2]
MODEL_TABLES = set(Base.metadata.tables)


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    base_url = os.environ.get("KOHORTE_TEST_DATABASE_URL", "")
    if not base_url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with throwaway_postgres_database(base_url, "kohorte_migrations") as url:
        yield url


@pytest.fixture
def empty_engine(empty_database_url: str) -> Iterator[Engine]:
    engine = create_store_engine(empty_database_url)
    yield engine
    engine.dispose()


def table_names(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def model_differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_upgrade_from_empty_creates_every_table(empty_engine: Engine) -> None:
    assert current_revision(empty_engine) is None
    assert not schema_is_current(empty_engine)
    upgrade_to_head(empty_engine)
    assert current_revision(empty_engine) == head_revision()
    assert schema_is_current(empty_engine)
    assert table_names(empty_engine) == MODEL_TABLES | {"alembic_version"}


def test_models_and_migrations_agree(empty_engine: Engine) -> None:
    upgrade_to_head(empty_engine)
    assert model_differences(empty_engine) == []


def test_downgrade_to_base_and_upgrade_again(empty_engine: Engine) -> None:
    upgrade_to_head(empty_engine)
    downgrade_to_base(empty_engine)
    assert table_names(empty_engine) <= {"alembic_version"}
    assert current_revision(empty_engine) is None
    upgrade_to_head(empty_engine)
    assert schema_is_current(empty_engine)
    assert model_differences(empty_engine) == []


def test_db_upgrade_command_is_idempotent(
    empty_database_url: str, empty_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KOHORTE_DATABASE_URL", empty_database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        first = runner.invoke(cli_app, ["db", "upgrade"])
        created = runner.invoke(cli_app, ["workspaces", "create", "Acme", "--json"])
        second = runner.invoke(cli_app, ["db", "upgrade"])
        listed = runner.invoke(cli_app, ["workspaces", "list", "--json"])
    finally:
        get_settings.cache_clear()
    assert (first.exit_code, created.exit_code, second.exit_code) == (0, 0, 0), second.output
    assert "Database schema is current" in second.stderr
    assert schema_is_current(empty_engine)
    assert '"name": "Acme"' in listed.stdout


def test_source_checkout_uses_the_repository_history() -> None:
    assert migrations_dir() == REPO / "migrations"


def test_built_wheel_carries_the_migrations(tmp_path: Path) -> None:
    """A non-editable install finds its migrations inside the package, with no checkout."""
    wheel = _build_wheel(tmp_path)
    installed = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(installed)
    assert (installed / "kohorte/migrations/versions/0001_initial_schema.py").is_file()
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = {**os.environ, "PYTHONPATH": str(installed), "KOHORTE_DATABASE_URL": "sqlite:///k.db"}
    env.pop("KOHORTE_ADMIN_TOKEN", None)
    found = _python(
        workdir, env, "from kohorte.store.migrate import migrations_dir as m; print(m())"
    )
    assert Path(found.strip()) == installed / "kohorte" / "migrations"
    upgraded = subprocess.run(
        [sys.executable, "-m", "kohorte", "db", "upgrade"],
        cwd=workdir, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert upgraded.returncode == 0, upgraded.stderr
    assert (workdir / "k.db").is_file()


def _build_wheel(tmp_path: Path) -> Path:
    # Built from a copy, so that the build leaves nothing behind in the working tree.
    source = tmp_path / "source"
    for name in ("src", "migrations"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy(REPO / name, source / name)
    dist = tmp_path / "dist"
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), "."]
    built = subprocess.run(command, cwd=source, capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr
    [wheel] = dist.glob("kohorte-*.whl")
    return wheel


def _python(cwd: Path, env: dict[str, str], code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout
