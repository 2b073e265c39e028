"""``/users/import`` and ``kohorte users import``: loading many users from NDJSON.

Lines are read as a stream and written in batches of BATCH_LINES, each batch a few set-based
statements and its own transaction (``commit`` is called after each): memory stays flat and a
store holds no transaction for millions of lines. The caller's thread reads and checks lines
while one writer thread writes the previous batch (the store works while Python parses; at
most one checked batch waits). Only the writer uses the session once lines are read, and it
reports everything, in line order per batch as if it were one thread. A failure midway
therefore leaves the earlier batches imported; the error says which line was reached. An
existing external id is upserted: attributes merged, aliases and devices added. Lines without
an external id name their user by an alias or device already known, or become a new user.
"""

import contextvars
import gc
import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kohorte.domain.errors import InvalidInput, StoreUnavailable
from kohorte.domain.users.import_batch import write_batch
from kohorte.domain.users.import_lines import ImportLine, RawLine, parse_line
from kohorte.domain.workspaces import require_workspace
from kohorte.store import users as store

logger = logging.getLogger(__name__)

BATCH_LINES = 1000
MAX_REPORTED_ERRORS = 1000


@dataclass(frozen=True)
class LineError:
    line: int
    message: str


@dataclass
class ImportReport:
    imported: int = 0
    errors: list[LineError] = field(default_factory=list)
    errors_not_shown: int = 0
    batches: int = 0

    def add_error(self, line: int, message: str) -> None:
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(LineError(line, message))
        else:
            self.errors_not_shown += 1


def import_users(
    session: Session,
    workspace_id: str,
    lines: Iterable[RawLine],
    commit: Callable[[], None],
) -> ImportReport:
    require_workspace(session, workspace_id)
    # Nothing stays open (nor, on SQLite, locked) while the first lines are still arriving.
    commit()
    report = ImportReport()
    write = _BatchWriter(lambda batch: _write(session, workspace_id, batch, report, commit))
    with _old_objects_frozen(), write as writer:
        for batch in _checked_batches(lines):
            writer.send(batch)
    report.errors.sort(key=lambda error: error.line)
    return report


_frozen_lock = threading.Lock()
_imports_running = 0


@contextmanager
def _old_objects_frozen() -> Iterator[None]:
    """The objects that exist when an import starts are left out of garbage collections until
    the last running import ends. Parsing makes millions of short-lived containers, and each
    one in a few hundred thousand triggered a full collection that walked the whole process
    (~80 ms with the GIL held, stalling the writer too): 20% of the import's CPU."""
    global _imports_running
    with _frozen_lock:
        _imports_running += 1
        gc.freeze()
    try:
        yield
    finally:
        with _frozen_lock:
            _imports_running -= 1
            if _imports_running == 0:
                gc.unfreeze()


@dataclass
class _Checked:
    lines: list[ImportLine] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)


def _checked_batches(lines: Iterable[RawLine]) -> Iterator[_Checked]:
    """Batches of BATCH_LINES good lines, each with the errors of the bad lines among them."""
    batch = _Checked()
    for number, raw in enumerate(lines, start=1):
        try:
            parsed = parse_line(number, raw)
        except InvalidInput as error:
            batch.errors.append(LineError(number, error.message))
            continue
        if parsed is not None:
            batch.lines.append(parsed)
        if len(batch.lines) >= BATCH_LINES:
            yield batch
            batch = _Checked()
    yield batch


class _BatchWriter:
    """Runs ``write`` on each batch sent, in order, in a thread of its own. A failure there is
    raised in the sender's thread at its next send (or on leaving the block); later batches are
    then dropped unwritten."""

    _DONE = _Checked()

    def __init__(self, write: Callable[[_Checked], None]) -> None:
        self._write = write
        self._queue: queue.Queue[_Checked] = queue.Queue(maxsize=1)
        self._failure: BaseException | None = None
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._run,), name="kohorte-import-writer", daemon=True
        )

    def __enter__(self) -> "_BatchWriter":
        self._thread.start()
        return self

    def send(self, batch: _Checked) -> None:
        self._raise_failure()
        self._queue.put(batch)

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        self._queue.put(self._DONE)
        self._thread.join()
        if exc_type is None:
            self._raise_failure()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _run(self) -> None:
        while (batch := self._queue.get()) is not self._DONE:
            if self._failure is None:
                try:
                    self._write(batch)
                except BaseException as error:
                    self._failure = error


def _write(
    session: Session,
    workspace_id: str,
    checked: _Checked,
    report: ImportReport,
    commit: Callable[[], None],
) -> None:
    for error in checked.errors:
        report.add_error(error.line, error.message)
    batch = checked.lines
    if not batch:
        return
    try:
        notes = write_batch(session, workspace_id, batch)
        commit()
    except SQLAlchemyError:
        session.rollback()
        raise StoreUnavailable(
            f"Import stopped at line {batch[0].number}: the {report.imported} users of the lines "
            "before it were imported; retry from that line"
        ) from None
    report.imported += len(batch)
    report.batches += 1
    for line, message in notes:
        report.add_error(line, message)
    if report.batches & (report.batches - 1) == 0:
        _refresh_statistics(session, commit)


def _refresh_statistics(session: Session, commit: Callable[[], None]) -> None:
    """After batches 1, 2, 4, 8, ... (a dozen times for a million lines) so that lookups keep
    their indexes as the tables grow. Only an optimisation: a failure is logged, not fatal."""
    try:
        store.refresh_statistics(session)
        commit()
    except SQLAlchemyError as error:
        session.rollback()
        logger.warning("could not refresh statistics during an import: %s", type(error).__name__)
