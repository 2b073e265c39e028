"""Records of ``/users/export/segment`` runs (table segment_exports, migration 0005).

At most one export of a segment is running at a time: the partial unique index
uq_segment_exports_running refuses a second running row, atomically across workers and
instances. A running row whose heartbeat is older than a bound belonged to a dead worker; it is
failed before a new export is inserted, so it blocks nobody for longer than that bound.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kohorte.store.types import utcnow
from kohorte.store.users_api_tables import SegmentExport

RUNNING, COMPLETE, FAILED = "running", "complete", "failed"
CHUNK = 1000


@dataclass(frozen=True)
class NewExport:
    workspace_id: str
    segment_id: str
    token_hash: str
    object_prefix: str
    fields: list[str]
    output_format: str
    callback_endpoint: str | None


@dataclass(frozen=True)
class Download:
    status: str
    file_name: str | None
    object_prefix: str
    output_format: str


def start(session: Session, new: NewExport, export_id: str, stale_before: datetime) -> bool:
    """Insert a running export unless one of the segment runs (False then)."""
    _fail(session, _stale(stale_before), "worker gone")
    row = SegmentExport(
        id=export_id,
        workspace_id=new.workspace_id,
        segment_id=new.segment_id,
        token_hash=new.token_hash,
        object_prefix=new.object_prefix,
        fields=new.fields,
        output_format=new.output_format,
        callback_endpoint=new.callback_endpoint,
        status=RUNNING,
    )
    try:
        # A savepoint, so that a refused insert leaves the caller's transaction usable.
        with session.begin_nested():
            session.add(row)
        return True
    except IntegrityError:
        return False


def heartbeat(session: Session, export_id: str) -> bool:
    """Whether the export is still running (and now freshly so)."""
    return _update_running(session, export_id, heartbeat_at=utcnow())


def complete(session: Session, export_id: str, file_name: str, users: int) -> bool:
    """Mark complete; False when the export was failed meanwhile (taken for dead)."""
    now = utcnow()
    values = {"file_name": file_name, "users_exported": users, "finished_at": now}
    return _update_running(session, export_id, status=COMPLETE, heartbeat_at=now, **values)


def fail(session: Session, export_ids: Collection[str], error: str) -> None:
    _fail(session, SegmentExport.id.in_(list(export_ids)), error)


def fail_stale(session: Session, stale_before: datetime) -> None:
    _fail(session, _stale(stale_before), "worker gone")


def download(session: Session, token_hash: str) -> Download | None:
    row = session.execute(
        select(
            SegmentExport.status,
            SegmentExport.file_name,
            SegmentExport.object_prefix,
            SegmentExport.output_format,
        ).where(SegmentExport.token_hash == token_hash)
    ).one_or_none()
    return None if row is None else Download(*row)


def delete_finished(session: Session, before: datetime) -> list[str]:
    """Delete exports that ended (complete or failed) before ``before``; their ids."""
    ended = and_(SegmentExport.status != RUNNING, SegmentExport.finished_at < before)
    deleted = session.scalars(delete(SegmentExport).where(ended).returning(SegmentExport.id))
    return list(deleted)


def existing(session: Session, export_ids: Sequence[str]) -> set[str]:
    """Which of these exports still have their record."""
    found = session.scalars(select(SegmentExport.id).where(SegmentExport.id.in_(export_ids)))
    return set(found)


def _stale(before: datetime) -> ColumnElement[bool]:
    return and_(SegmentExport.status == RUNNING, SegmentExport.heartbeat_at < before)


def _fail(session: Session, condition: ColumnElement[bool], error: str) -> None:
    values = {"status": FAILED, "error": error, "finished_at": utcnow(), "heartbeat_at": utcnow()}
    session.execute(
        update(SegmentExport)
        .where(condition, SegmentExport.status == RUNNING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _update_running(session: Session, export_id: str, **values: object) -> bool:
    result = session.execute(
        update(SegmentExport)
        .where(SegmentExport.id == export_id, SegmentExport.status == RUNNING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
