"""Liveness, readiness and metrics."""

import logging
import threading

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from kohorte.api.deps import EngineDep
from kohorte.api.metrics import Metrics
from kohorte.store.migrate import schema_is_current

logger = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])

STORE_UNAVAILABLE = "Store unavailable"
SCHEMA_BEHIND = "Schema is not current; run kohorte db upgrade"
# The classic text format, which every Prometheus version scrapes.
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


class ReadinessLog:
    """Logs only when readiness changes: probes every few seconds must not flood the log."""

    def __init__(self) -> None:
        self._last: str | None = None
        self._lock = threading.Lock()

    def note(self, problem: str | None) -> None:
        with self._lock:
            if problem == self._last:
                return
            self._last = problem
        if problem is None:
            logger.info("ready: the store answers and its schema is current")
        else:
            logger.warning("not ready: %s", problem)


def _readiness_log(request: Request) -> ReadinessLog:
    if not hasattr(request.app.state, "readiness_log"):
        request.app.state.readiness_log = ReadinessLog()
    log: ReadinessLog = request.app.state.readiness_log
    return log


def _readiness_problem(engine: Engine) -> str | None:
    try:
        current = schema_is_current(engine)
    except Exception:  # any failure to reach the store means "not ready"
        return STORE_UNAVAILABLE
    return None if current else SCHEMA_BEHIND


@router.get("/healthz", summary="The process is running")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The store answers and its schema is current",
    responses={503: {"description": "Store unreachable or schema behind"}},
)
def readyz(request: Request, engine: EngineDep) -> Response:
    problem = _readiness_problem(engine)
    _readiness_log(request).note(problem)
    if problem is not None:
        return JSONResponse({"message": problem}, status_code=503)
    return JSONResponse({"status": "ready"})


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {PROMETHEUS_TEXT: {}}, "description": "Text format 0.0.4"}},
)
def metrics(request: Request) -> Response:
    collected: Metrics = request.app.state.metrics
    return Response(collected.exposition(), media_type=PROMETHEUS_TEXT)
