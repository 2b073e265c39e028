"""The client-side deadline also covers COMMIT, which no cursor event sees (PostgreSQL only).

A deferred constraint trigger that sleeps makes COMMIT itself hang, as a frozen backend would;
the backend's own statement_timeout is lifted for that transaction, so only the watchdog can
end the wait.
"""

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from kohorte.store.database import normalise_url
from kohorte.store.statement_watchdog import StatementWatchdog, watch_statements

DEADLINE_S = 1.0
SLOW_COMMIT_S = 20
SETUP = [
    "CREATE TEMP TABLE slow_commit (n int)",
    "CREATE FUNCTION pg_temp.sleep_at_commit() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN PERFORM pg_sleep({SLOW_COMMIT_S}); RETURN NULL; END $$",
    "CREATE CONSTRAINT TRIGGER sleep_at_commit AFTER INSERT ON slow_commit "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pg_temp.sleep_at_commit()",
]


@pytest.fixture
def watched(database_url: str) -> Iterator[Engine]:
    if not database_url.startswith("postgres"):
        pytest.skip("the watchdog guards PostgreSQL connections")
    engine = create_engine(normalise_url(database_url), pool_size=1)
    watch_statements(engine, DEADLINE_S, "unused")
    yield engine
    engine.dispose()


def test_a_commit_that_does_not_return_is_cut_off(watched: Engine, engine: Engine) -> None:
    connection = watched.connect()
    for statement in SETUP:
        connection.exec_driver_sql(statement)
    connection.commit()
    backend = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
    connection.exec_driver_sql("INSERT INTO slow_commit VALUES (1)")
    started = time.monotonic()
    try:
        with pytest.raises(OperationalError):
            connection.commit()
        assert time.monotonic() - started < DEADLINE_S + 2
    finally:
        connection.invalidate()
        with engine.begin() as other:  # the backend is still asleep: end it
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})


def test_a_commit_in_time_is_untouched(watched: Engine) -> None:
    with watched.connect() as connection:
        connection.exec_driver_sql("CREATE TEMP TABLE quick_commit (n int)")
        connection.exec_driver_sql("INSERT INTO quick_commit VALUES (1)")
        connection.commit()
        assert connection.exec_driver_sql("SELECT count(*) FROM quick_commit").scalar_one() == 1
        connection.rollback()


def test_a_rollback_from_a_finalizer_inside_the_lock_does_not_deadlock() -> None:
    # The pool rolls back a garbage-collected connection from a finalizer, which can run
    # while this very thread holds the watchdog's lock (any allocation may collect).
    watchdog = StatementWatchdog(DEADLINE_S)
    done = threading.Event()

    def rollback_during_collection() -> None:
        with watchdog._lock:
            watchdog.started(1, 0)  # reentrant, as the finalizer's rollback would be
            watchdog.finished(1)
        done.set()

    worker = threading.Thread(target=rollback_during_collection, daemon=True)
    worker.start()
    assert done.wait(3), "the watchdog's lock is not reentrant"
