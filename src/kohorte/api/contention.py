"""Contention between concurrent requests is kohorte's to resolve, never the client's.

Writers take their locks in one order (see docs/architecture.md), so deadlocks should not
happen; what remains possible (a deadlock between writers outside that order, a serialization
failure, a unique key that a concurrent request created first) is answered by running the
request's transaction again: its session was rolled back, and a retry sees the other's result.
"""

import asyncio
import random
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

ATTEMPTS = 5
# SQLSTATEs: deadlock detected, serialization failure, unique violation (a concurrent request
# created the same key first), foreign key violation (it deleted the user a plan was read for),
# lock not available (lock_timeout, store/database.py: a lock held past it is waited for again).
# A statement time-out (57014) is not contention: it is answered 503 (api/errors.py).
CONTENTION_STATES = frozenset({"40P01", "40001", "23505", "23503", "55P03"})


def is_contention(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) in CONTENTION_STATES


class ContentionRetryRoute(APIRoute):
    """Runs the whole endpoint again, dependencies included, when its transaction lost to a
    concurrent one. Only for requests whose body was read whole (it is read again from the
    request's cache); a streamed body cannot be replayed.

    Errors of the request's statements are retried; a commit cannot lose that way under READ
    COMMITTED with no deferred constraint, and it runs after the handler, when FastAPI ends the
    request's dependencies. The attempt's session (``deps.get_session``) is rolled back and
    closed before the next attempt: FastAPI ends the sessions of a request only when its
    handler returns, and the failed attempt must neither keep its locks meanwhile nor commit
    anything then.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_retrying(request: Request) -> Response:
            for attempt in range(1, ATTEMPTS):
                try:
                    return await handle(request)
                except DBAPIError as error:
                    if not is_contention(error):
                        raise
                    await run_in_threadpool(end_attempt, request)
                await asyncio.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311 (jitter)
            return await handle(request)

        return handle_retrying


def end_attempt(request: Request) -> None:
    session: Session | None = getattr(request.state, "session", None)
    if session is not None:
        session.rollback()
        session.close()
