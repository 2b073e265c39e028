"""A client-side deadline for PostgreSQL statements, for when the server cannot keep its own.

statement_timeout is enforced by the backend: a backend that hangs (frozen host, stopped
process) never answers, and TCP keepalives or tcp_user_timeout do not notice because the
kernel still acknowledges the packets. A request would then wait forever. The watchdog shuts
down the socket of any statement, COMMIT or ROLLBACK still running past its deadline, so that
the driver fails it as a lost connection (503) and the pool replaces the connection.
"""

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import Dialect

CHECK_INTERVAL_S = 0.25


class StatementWatchdog:
    """Statements in flight by cursor: (deadline, socket descriptor)."""

    def __init__(self, limit_s: float) -> None:
        self._limit_s = limit_s
        self._running: dict[int, tuple[float, int]] = {}
        # Reentrant: the pool rolls back a garbage-collected connection from a finalizer,
        # which may run in any allocation, one made while this thread holds the lock too.
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None

    def started(self, key: int, descriptor: int) -> None:
        with self._lock:
            self._running[key] = (time.monotonic() + self._limit_s, descriptor)
            # Started on first use, and again in a forked worker, where threads do not follow.
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._watch, daemon=True)
                self._thread.start()

    def finished(self, key: int) -> None:
        with self._lock:
            self._running.pop(key, None)

    def _expired(self) -> list[int]:
        now = time.monotonic()
        with self._lock:
            # A copy (no per-entry allocation): a reentrant started() may change the dict.
            running = self._running.copy()
            late = [key for key, (deadline, _) in running.items() if deadline <= now]
            return [running[key][1] for key in late if self._running.pop(key, None)]

    def _watch(self) -> None:
        while True:
            time.sleep(CHECK_INTERVAL_S)
            for descriptor in self._expired():
                _cut(descriptor)


def _cut(descriptor: int) -> None:
    # shutdown() acts on the socket itself, so a duplicate descriptor reaches the driver's
    # connection; closing the duplicate leaves the driver's descriptor for it to close.
    try:
        with socket.socket(fileno=socket.dup(descriptor)) as duplicate:
            duplicate.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed: the statement ended meanwhile
        pass


def watch_statements(engine: Engine, limit_s: float, exempt_option: str) -> None:
    """A deadline for every statement of ``engine``, bar connections with ``exempt_option``."""
    watchdog = StatementWatchdog(limit_s)

    def before(conn: Any, cursor: Any, *_args: Any) -> None:
        if not conn.get_execution_options().get(exempt_option):
            watchdog.started(id(cursor), conn.connection.dbapi_connection.fileno())

    def after(_conn: Any, cursor: Any, *_args: Any) -> None:
        watchdog.finished(id(cursor))

    # Keyed by cursor: on failure the connection may already be invalidated, the cursor not.
    def failed(context: Any) -> None:
        cursor = getattr(context.execution_context, "cursor", None)
        if cursor is not None:
            watchdog.finished(id(cursor))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    event.listen(engine, "handle_error", failed)
    _watch_transaction_ends(engine.dialect, watchdog)


def _watch_transaction_ends(dialect: Dialect, watchdog: StatementWatchdog) -> None:
    """COMMIT and ROLLBACK (a pooled connection's reset included) go through the dialect, not
    a cursor, so no event sees them; each engine has a dialect of its own, wrapped here. Also
    for long work: a COMMIT itself is short however long its transaction ran."""
    for name in ("do_commit", "do_rollback"):
        setattr(dialect, name, _deadlined(getattr(dialect, name), watchdog))


def _deadlined(end: Callable[[Any], None], watchdog: StatementWatchdog) -> Callable[[Any], None]:
    def ended(dbapi_connection: Any) -> None:
        try:
            descriptor = dbapi_connection.fileno()
        except Exception:  # closed already: nothing can hang, the driver reports it
            end(dbapi_connection)
            return
        key = id(dbapi_connection)
        watchdog.started(key, descriptor)
        try:
            end(dbapi_connection)
        finally:
            watchdog.finished(key)

    return ended
