"""Running and checking the Alembic history from code (CLI, start-up, readiness, tests)."""

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, column, inspect, select, table

from kohorte.store.database import without_timeouts

# Built packages carry the history inside kohorte (see setup.py); a source checkout, editable
# installs included, keeps it at the top of the repository.
PACKAGED_MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
CHECKOUT_MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations"
VERSION_TABLE = "alembic_version"
version_table = table(VERSION_TABLE, column("version_num"))


def migrations_dir() -> Path:
    for candidate in (PACKAGED_MIGRATIONS_DIR, CHECKOUT_MIGRATIONS_DIR):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError(
        f"kohorte's migrations are missing (looked in {PACKAGED_MIGRATIONS_DIR} and "
        f"{CHECKOUT_MIGRATIONS_DIR}); reinstall the package"
    )


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["configure_logging"] = False
    return config


def upgrade_to_head(engine: Engine) -> None:
    config = alembic_config()
    # A migration may rewrite a big table: no statement time-out for it.
    with without_timeouts(engine).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def downgrade_to_base(engine: Engine) -> None:
    config = alembic_config()
    # A migration may rewrite a big table: no statement time-out for it.
    with without_timeouts(engine).begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")


@lru_cache
def head_revision() -> str | None:
    # The history cannot change while the process runs; parse it once, not on every probe.
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    # Read the version table directly: quiet (readiness probes call this every few seconds)
    # and, on SQLite, without taking the write lock.
    with engine.connect().execution_options(sqlite_deferred=True) as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        revision = connection.execute(select(version_table.c.version_num)).scalar()
        return None if revision is None else str(revision)


def schema_is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()
