"""Throwaway PostgreSQL databases for test runs and benchmarks, dropped when done."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
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
