"""Engine and session construction for SQLite (default) and PostgreSQL."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from kohorte.store.statement_watchdog import watch_statements

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = 32 * 1024
# PostgreSQL limits, all below the contract's 10 seconds for an answer while the store hangs.
CONNECT_TIMEOUT_SECONDS = 5
STATEMENT_TIMEOUT_MS = 8_000
LOCK_TIMEOUT_MS = 5_000
POOL_TIMEOUT_SECONDS = 8
# Past statement_timeout the backend itself is not answering (hung): the client gives up.
CLIENT_STATEMENT_DEADLINE_SECONDS = STATEMENT_TIMEOUT_MS / 1000 + 0.5
# Execution option of without_timeouts().
LONG_STATEMENTS = "kohorte_long_statements"


def normalise_url(raw_url: str) -> URL:
    """Pick the driver for plain ``postgresql://`` URLs (psycopg 3 is the one installed)."""
    url = make_url(raw_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def create_store_engine(
    raw_url: str, *, statement_timeout_ms: int = STATEMENT_TIMEOUT_MS, **kwargs: Any
) -> Engine:
    """``statement_timeout_ms``: PostgreSQL's per-statement limit, 0 for none (bulk loads)."""
    url = normalise_url(raw_url)
    if url.get_backend_name() == "sqlite":
        return _create_sqlite_engine(url, **kwargs)
    # No ping on every checkout (a round trip per transaction, two per partner request): a
    # connection found dead fails its request with a 503 and SQLAlchemy then replaces every
    # pooled connection, so the store being back is noticed by the next request.
    kwargs.setdefault("pool_pre_ping", False)
    # A request waiting for a pooled connection gives up in time to be answered 503 within
    # the contract's 10 seconds instead of queueing behind a store that hangs.
    kwargs.setdefault("pool_timeout", POOL_TIMEOUT_SECONDS)
    kwargs["connect_args"] = {
        **_postgres_connect_args(statement_timeout_ms),
        **kwargs.get("connect_args", {}),
    }
    engine = create_engine(url, **kwargs)
    event.listen(engine, "begin", _lift_timeouts_for_long_statements)
    if statement_timeout_ms:
        watch_statements(engine, CLIENT_STATEMENT_DEADLINE_SECONDS, LONG_STATEMENTS)
    return engine


def _postgres_connect_args(statement_timeout_ms: int) -> dict[str, Any]:
    # No server-side prepared statements: psycopg prepares a statement after a few runs, and
    # PostgreSQL may then settle on a generic plan that ignores the batch at hand (seen as
    # sequential scans for identifier lookups after bulk loads).
    # The timeouts make a hanging store or a stuck lock an error (503, or a retry for a lock,
    # see api/contention.py) rather than a request that never ends.
    options = f"-c statement_timeout={statement_timeout_ms} -c lock_timeout={LOCK_TIMEOUT_MS}"
    return {
        "prepare_threshold": None,
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "options": options,
    }


def without_timeouts(engine: Engine) -> Engine:
    """The engine for work whose statements may rightly run long (migrations, exports): each
    of its transactions lifts the statement and lock time-outs for itself alone."""
    return engine.execution_options(**{LONG_STATEMENTS: True})


def _lift_timeouts_for_long_statements(connection: Connection) -> None:
    if connection.get_execution_options().get(LONG_STATEMENTS):
        # SET LOCAL ends with the transaction, so the pooled connection keeps its limits.
        connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        connection.exec_driver_sql("SET LOCAL lock_timeout = 0")


def _create_sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
    if url.database in (None, "", ":memory:"):
        raise ValueError("kohorte needs a SQLite file, not an in-memory database")
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_immediate)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling is switched off so that the "begin" hook below
    # decides; foreign keys are off by default in SQLite and cascades depend on them.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # The default 2 MB page cache makes lookups slow down as a store of millions grows.
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    # A deferred transaction that reads and then writes can fail with SQLITE_BUSY when another
    # writer got in between; taking the write lock up front makes concurrent requests queue.
    # Long read-only streams ask for a deferred transaction instead (see read_only_session).
    if connection.get_execution_options().get("sqlite_deferred"):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def read_only_session(engine: Engine) -> Iterator[Session]:
    """A session for long reads (exports) that never holds SQLite's write lock."""
    # Exports stream for as long as the segment is big: no statement time-out on PostgreSQL.
    connection = without_timeouts(engine).connect().execution_options(sqlite_deferred=True)
    try:
        with Session(bind=connection) as session:
            yield session
    finally:
        connection.close()
