"""``/users/import`` and ``kohorte users import``: loading many users from NDJSON.

Lines are read as a stream and written in batches of BATCH_LINES, each batch a few set-based
statements and its own transaction (``commit`` is called after each): memory stays flat and a
store holds no transaction for millions of lines. A failure midway therefore leaves the earlier
batches imported; the error says which line was reached. An existing external id is upserted:
attributes merged, aliases and devices added. Lines without an external id name their user by
an alias or device already known, or become a new user.
"""

import logging
from collections.abc import Callable, Iterable
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
    batch: list[ImportLine] = []
    for number, raw in enumerate(lines, start=1):
        parsed = _parse(number, raw, report)
        if parsed is not None:
            batch.append(parsed)
        if len(batch) >= BATCH_LINES:
            _write(session, workspace_id, batch, report, commit)
            batch = []
    _write(session, workspace_id, batch, report, commit)
    report.errors.sort(key=lambda error: error.line)
    return report


def _parse(number: int, raw: RawLine, report: ImportReport) -> ImportLine | None:
    try:
        return parse_line(number, raw)
    except InvalidInput as error:
        report.add_error(number, error.message)
        return None


def _write(
    session: Session,
    workspace_id: str,
    batch: list[ImportLine],
    report: ImportReport,
    commit: Callable[[], None],
) -> None:
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
