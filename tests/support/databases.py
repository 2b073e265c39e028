"""Database helpers shared by test runs and benchmarks: throwaway PostgreSQL databases,
dropped when done, and counting the statements an engine sends."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from kohorte.store.database import normalise_url


@contextmanager
def throwaway_postgres_database(server_url: str, prefix: str = "kohorte_test") -> Iterator[str]:
    """Create a database of its own on the server of ``server_url``; yield its URL; drop it."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def counting_statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL of every statement ``engine`` sends inside the block, in order."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
