"""Work the server does between requests: folding cohort counter deltas, pruning history.

Each worker process runs the loops; folds of several workers or instances exclude each other in
the store, and so do prunes (one that finds another running skips; one that another worker
already did finds nothing left to delete), so running them everywhere is safe and needs no
leader.
"""

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from kohorte.domain import cohort_counters, membership_history, segment_exports
from kohorte.domain.segment_export_runs import ExportRunner
from kohorte.settings import Settings

logger = logging.getLogger(__name__)
PRUNE_EVERY_SECONDS = 24 * 60 * 60
# The first prune waits a little, so that a start (or a restart loop) is not slowed by it.
FIRST_PRUNE_AFTER_SECONDS = 60.0
EXPORT_CLEANUP_EVERY_SECONDS = 10 * 60.0


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    factory: sessionmaker[Session] = app.state.session_factory
    jobs: list[Coroutine[Any, Any, None]] = []
    runner = app.state.segment_exports = _export_runner(app, settings)
    cleanup = functools.partial(_clean_exports_once, settings=settings)
    first, every = FIRST_PRUNE_AFTER_SECONDS, EXPORT_CLEANUP_EVERY_SECONDS
    jobs.append(_repeat(factory, cleanup, "cleaning up segment exports", first, every))
    if settings.counter_fold_seconds > 0:
        every = settings.counter_fold_seconds
        jobs.append(_repeat(factory, _fold_once, "folding cohort counters", every, every))
    if settings.history_days:
        prune = functools.partial(_prune_once, history_days=settings.history_days)
        first, every = FIRST_PRUNE_AFTER_SECONDS, PRUNE_EVERY_SECONDS
        jobs.append(_repeat(factory, prune, "pruning membership history", first, every))
    tasks = [asyncio.create_task(job) for job in jobs]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # Running exports stop at their next batch and are failed: they do not survive us.
        await run_in_threadpool(runner.close)


def _export_runner(app: FastAPI, settings: Settings) -> ExportRunner:
    # A heartbeat a few times within the stale bound, so a live export is never taken for dead.
    beat_every = settings.export_stale_after.total_seconds() / 4
    factory = app.state.session_factory
    return ExportRunner(app.state.engine, factory, settings.export_directory(), beat_every)


async def _repeat(
    factory: sessionmaker[Session],
    job: Callable[[Session], None],
    what: str,
    first_after: float,
    then_every: float,
) -> None:
    delay = first_after
    while True:
        await asyncio.sleep(delay)
        delay = then_every
        try:
            await run_in_threadpool(_in_session, factory, job)
        except SQLAlchemyError as error:
            # The store may be down for a while; the job runs again next time, and reads stay
            # exact meanwhile.
            logger.warning("%s failed: %s", what, type(error).__name__)
        except Exception:
            # Anything else is a bug of ours; the loop must outlive it.
            logger.exception("%s failed", what)


def _in_session(factory: sessionmaker[Session], job: Callable[[Session], None]) -> None:
    """A session committed at the end; a prune also commits between its batches."""
    with factory() as session:
        job(session)
        session.commit()


def _fold_once(session: Session) -> None:
    cohort_counters.fold(session)


def _clean_exports_once(session: Session, settings: Settings) -> None:
    cleaned = segment_exports.clean_up(
        session,
        settings.export_directory(),
        settings.export_retention,
        settings.export_stale_after,
    )
    if cleaned.records or cleaned.files:
        logger.info("removed %d segment exports, %d files", cleaned.records, cleaned.files)


def _prune_once(session: Session, history_days: int) -> None:
    pruned = membership_history.prune(session, history_days)
    if pruned.skipped:
        logger.info("another prune of membership history is running; skipped")
        return
    logger.info("pruned %d stays that ended before %s", pruned.stays, pruned.before.isoformat())
