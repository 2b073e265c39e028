"""Work the server does between requests: folding cohort counter deltas.

Each worker process runs the loop; folds of several workers or instances exclude each other in
the store, so running it everywhere is safe and needs no leader.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from kohorte.domain import cohort_counters
from kohorte.settings import Settings

logger = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    task = None
    if settings.counter_fold_seconds > 0:
        task = asyncio.create_task(_fold_forever(app, settings.counter_fold_seconds))
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _fold_forever(app: FastAPI, every_seconds: float) -> None:
    factory: sessionmaker[Session] = app.state.session_factory
    while True:
        await asyncio.sleep(every_seconds)
        try:
            await run_in_threadpool(_fold_once, factory)
        except SQLAlchemyError as error:
            # The store may be down for a while; deltas wait, and reads stay exact meanwhile.
            logger.warning("folding cohort counters failed: %s", type(error).__name__)
        except Exception:
            # Anything else is a bug of ours; the loop must outlive it (reads would slow down
            # as deltas pile up).
            logger.exception("folding cohort counters failed")


def _fold_once(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        cohort_counters.fold(session)
