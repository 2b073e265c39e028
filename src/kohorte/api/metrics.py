"""Prometheus metrics: one registry per application, so many apps can live in one process.

Under ``kohorte serve --workers N`` (PROMETHEUS_MULTIPROC_DIR set) every worker writes its
values to files in that directory and a scrape sums them all, whichever worker answers it.

Requests are labelled by route template (``/cohorts/{partner}/{cohort_id:path}``), never by raw
path: cohort ids are unbounded and would explode the number of series.
"""

import atexit
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kohorte.api.access_log import log_access
from kohorte.api.errors import handle_store_error
from kohorte.api.routes import route_template

# Counted for requests whose client closed the connection before any answer (as nginx does).
CLIENT_CLOSED = 499
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"

# A `_created` series per counter and histogram doubles the output for a timestamp nobody
# graphs (and multiprocess mode cannot sum it anyway).
disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped upstream


def multiprocess_dir() -> str | None:
    """The directory the workers share, when ``kohorte serve`` runs several of them."""
    return os.environ.get(MULTIPROCESS_DIR_ENV) or None


def _forget_this_worker_on_exit() -> None:
    # Drops this worker's live-gauge files, so a restarted worker is not summed twice.
    if multiprocess_dir() is not None:
        atexit.register(multiprocess.mark_process_dead, os.getpid())


_forget_this_worker_on_exit()


def _add_runtime_collectors(registry: CollectorRegistry) -> None:
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        _add_runtime_collectors(self.registry)
        self.requests = Counter(
            "kohorte_http_requests",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "kohorte_http_request_duration_seconds",
            "Time from request to the end of the response, by route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.identifiers = Counter(
            "kohorte_cohort_identifiers",
            "Identifiers in partner cohort changes, by whether they matched a user",
            ["outcome"],
            registry=self.registry,
        )
        self.database_errors = Counter(
            "kohorte_database_errors",
            "Errors raised by the database while serving requests",
            ["kind"],
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        directory = multiprocess_dir()
        if directory is None:
            return generate_latest(self.registry)
        return generate_latest(_all_workers_registry(directory))


def _all_workers_registry(directory: str) -> CollectorRegistry:
    """A fresh registry per scrape, as prometheus-client's multiprocess mode requires: it reads
    every worker's files; process metrics are those of the worker answering."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry


# The metrics of the application serving the current request; services record into it
# without knowing about HTTP (contextvars follow the request into the thread pool).
_current: ContextVar[Metrics | None] = ContextVar("kohorte_metrics", default=None)


def record_identifiers(matched: int, unmatched: int) -> None:
    """Count the identifiers of one partner change request (no-op outside a request)."""
    metrics = _current.get()
    if metrics is None:
        return
    metrics.identifiers.labels(outcome="matched").inc(matched)
    metrics.identifiers.labels(outcome="unmatched").inc(unmatched)


@contextmanager
def _recording_into(metrics: Metrics) -> Iterator[None]:
    token = _current.set(metrics)
    try:
        yield
    finally:
        _current.reset(token)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # No response at all means the client went away first; an exception escaping the app
        # becomes a 500 further out.
        status = CLIENT_CLOSED

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            with _recording_into(self.metrics):
                await self.app(scope, receive, send_noting_status)
        except BaseException:
            status = 500 if status == CLIENT_CLOSED else status
            raise
        finally:
            self._observe(scope, status, time.perf_counter() - started)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        # One measurement of each request, for the metrics and for the access line alike.
        method, route = scope["method"], route_template(scope)
        self.metrics.requests.labels(method=method, route=route, status=str(status)).inc()
        self.metrics.latency.labels(method=method, route=route).observe(seconds)
        log_access(scope, status, seconds)


def install_metrics(app: FastAPI) -> Metrics:
    """Give ``app`` its own registry, count its requests and the store errors it renders."""
    metrics = Metrics()
    app.state.metrics = metrics

    async def counting_store_error(request: Request, exc: Exception) -> JSONResponse:
        kind = "unavailable" if isinstance(exc, OperationalError) else "other"
        metrics.database_errors.labels(kind=kind).inc()
        return await handle_store_error(request, exc)

    app.add_exception_handler(DBAPIError, counting_store_error)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return metrics
