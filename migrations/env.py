"""Alembic environment: one history for SQLite (batch mode) and PostgreSQL."""

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from kohorte.settings import get_settings
from kohorte.store.database import create_store_engine
from kohorte.store.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def run_with_connection(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with_connection(connection)
        return
    engine = create_store_engine(get_settings().database_url)
    with engine.connect() as new_connection:
        run_with_connection(new_connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("kohorte migrations run online only: use `kohorte db upgrade`")
run_migrations_online()
