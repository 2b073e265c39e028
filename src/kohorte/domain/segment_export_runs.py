"""Running segment exports in background threads of the process, in constant memory.

Members are walked by keyset, ``BATCH`` users at a time, each batch read in a short read-only
transaction (SQLite's write lock is never held, PostgreSQL keeps no snapshot open for the whole
export) and written to the compressor at once; nothing holds the whole segment. The file is
written under a temporary name and renamed when complete; then the record is marked complete
and the callback, if any, is called.

Exports do not survive their process: on shutdown, running exports stop at their next batch and
are failed (their partial files removed). A process that dies leaves a running record whose
heartbeat stops; after ``stale_after`` it is taken for failed (``segment_exports``).
"""

import gzip
import json
import logging
import os
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, cast
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from kohorte.domain.segment_exports import PARTIAL_SUFFIX, Plan
from kohorte.domain.segments.resolution import resolve, selection
from kohorte.domain.segments.service import get_segment, stored_filter
from kohorte.domain.users.export import exported_users
from kohorte.store import segment_exports as store
from kohorte.store.database import read_only_session
from kohorte.store.segment_members import Selection, member_ids

logger = logging.getLogger(__name__)
BATCH = 1000
THREADS = 2
CALLBACK_TIMEOUT_SECONDS = 5.0
# Fast compression: an export is read once and deleted after a day; level 9 would make the
# compressor, not the store, bound the export.
COMPRESS_LEVEL = 1


class Abandoned(Exception):
    """The export stops: the server is stopping, or its record was failed meanwhile."""


class ExportRunner:
    """The process's export threads. ``before_batch`` is a hook tests use to hold a run."""

    def __init__(
        self, engine: Engine, factory: sessionmaker[Session], directory: Path, beat_every: float
    ) -> None:
        self.engine, self.factory, self.directory = engine, factory, directory
        self.beat_every = beat_every
        self.stopping = threading.Event()
        self.before_batch: Callable[[], None] | None = None
        self._executor = ThreadPoolExecutor(THREADS, thread_name_prefix="segment-export")
        self._futures: set[Future[None]] = set()
        self._waiting: dict[str, Plan] = {}  # submitted, not yet started
        directory.mkdir(parents=True, exist_ok=True)

    def submit(self, plan: Plan) -> None:
        if self.stopping.is_set():
            self._fail(plan, "server stopped")
            return
        self._waiting[plan.export_id] = plan
        future = self._executor.submit(self._run, plan)
        self._futures.add(future)
        future.add_done_callback(self._futures.discard)

    def wait(self, timeout: float | None = None) -> None:
        """Until every submitted export has ended (tests; shutdown)."""
        for future in list(self._futures):
            future.exception(timeout)

    def close(self) -> None:
        """Stop: running exports end at their next batch, failed; then the threads go."""
        self.stopping.set()
        self._executor.shutdown(wait=True, cancel_futures=True)
        for plan in list(self._waiting.values()):
            self._fail(plan, "server stopped")

    def _run(self, plan: Plan) -> None:
        self._waiting.pop(plan.export_id, None)
        partial = self.directory / (plan.export_id + PARTIAL_SUFFIX)
        try:
            users = self._write(plan, partial)
            os.replace(partial, self.directory / plan.file_name)
        except Abandoned as stopped:
            self._discard(plan, partial, str(stopped))
            return
        except Exception:
            logger.exception("segment export %s failed", plan.export_id)
            self._discard(plan, partial, "export failed")
            return
        self._complete(plan, users)

    def _write(self, plan: Plan, partial: Path) -> int:
        written, beat_at = 0, time.monotonic()
        with _compressed(partial, plan) as out:
            for users in self._batches(plan):
                beat_at = self._checkpoint(plan, beat_at)
                out.write(_ndjson(users))
                written += len(users)
        return written

    def _batches(self, plan: Plan) -> Iterator[list[dict[str, Any]]]:
        after: int | None = None
        with read_only_session(self.engine) as session:
            found = _selection(session, plan)
            while True:
                self._hold()
                ids = member_ids(session, found, after, BATCH)
                users = exported_users(session, ids, plan.fields)
                session.commit()
                yield users
                if len(ids) < BATCH:
                    return
                after = ids[-1]

    def _hold(self) -> None:
        if self.before_batch is not None:
            self.before_batch()
        if self.stopping.is_set():
            raise Abandoned("server stopped")

    def _checkpoint(self, plan: Plan, beat_at: float) -> float:
        if time.monotonic() - beat_at < self.beat_every:
            return beat_at
        with self.factory() as session:
            alive = store.heartbeat(session, plan.export_id)
            session.commit()
        if not alive:
            raise Abandoned("taken for dead")
        return time.monotonic()

    def _complete(self, plan: Plan, users: int) -> None:
        with self.factory() as session:
            done = store.complete(session, plan.export_id, plan.file_name, users)
            session.commit()
        if not done:  # failed meanwhile as stale: its link must not answer
            (self.directory / plan.file_name).unlink(missing_ok=True)
            return
        logger.info("segment export %s complete: %d users", plan.export_id, users)
        if plan.callback_endpoint is not None:
            _call_back(plan, plan.callback_endpoint)

    def _discard(self, plan: Plan, partial: Path, reason: str) -> None:
        partial.unlink(missing_ok=True)
        self._fail(plan, reason)

    def _fail(self, plan: Plan, reason: str) -> None:
        with self.factory() as session:
            store.fail(session, [plan.export_id], reason)
            session.commit()


def _selection(session: Session, plan: Plan) -> Selection:
    tree = stored_filter(get_segment(session, plan.workspace_id, plan.segment_id))
    found = selection(plan.workspace_id, tree, resolve(session, plan.workspace_id, tree), None)
    session.commit()
    return found


@contextmanager
def _compressed(path: Path, plan: Plan) -> Iterator[IO[bytes]]:
    if plan.output_format == "zip":
        deflated = zipfile.ZIP_DEFLATED
        with (
            zipfile.ZipFile(path, "w", deflated, compresslevel=COMPRESS_LEVEL) as archive,
            archive.open(plan.member_name, "w", force_zip64=True) as member,
        ):
            yield member
        return
    with gzip.GzipFile(path, "wb", compresslevel=COMPRESS_LEVEL) as compressed:
        yield cast(IO[bytes], compressed)


def _ndjson(users: list[dict[str, Any]]) -> bytes:
    return "".join(
        json.dumps(user, ensure_ascii=False, separators=(",", ":")) + "\n" for user in users
    ).encode()


def _call_back(plan: Plan, endpoint: str) -> None:
    """POST the completion; failures are logged, never raised. Neither the link (it holds the
    token) nor the endpoint's path or query is logged: only its host."""
    body = {"success": True, "url": plan.url, "object_prefix": plan.object_prefix}
    host = urlsplit(endpoint).hostname
    try:
        response = httpx.post(endpoint, json=body, timeout=CALLBACK_TIMEOUT_SECONDS)
    except httpx.HTTPError as error:
        logger.warning("segment export callback to %s failed: %s", host, type(error).__name__)
        return
    if response.is_error:
        logger.warning("segment export callback to %s answered %d", host, response.status_code)
