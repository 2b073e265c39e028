"""Request ids (``X-Request-ID``) and kohorte's access line, one per request.

The id is the client's when it is 1 to 128 characters of ``[A-Za-z0-9._-]``, else a new random
one: anything else could forge log lines or bloat them. It lives in asgi-correlation-id's
contextvar, which follows the request into the thread pool, so every log line written while
serving carries it (``logging_setup.RequestIdFilter``).
"""

import logging
import re
import time
from uuid import uuid4

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kohorte.api.metrics import UNMATCHED_ROUTE, route_template
from kohorte.logging_setup import masked_path

REQUEST_ID_HEADER = "X-Request-ID"
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")

access_logger = logging.getLogger("kohorte.access")
# Quiet unless logging_setup gave it a level (`kohorte serve` configures logging before it
# imports the app, tests after): an application embedded in another server, or under test,
# keeps its host's access log and only what kohorte itself reports.
if access_logger.level == logging.NOTSET:
    access_logger.setLevel(logging.WARNING)


def is_valid_request_id(value: str) -> bool:
    return VALID_REQUEST_ID.fullmatch(value) is not None


def new_request_id() -> str:
    return uuid4().hex


def logged_path(scope: Scope) -> str:
    """The route template, so that no id or token of a path reaches the log; for a path no
    route knows, the path itself (never the query string, which may carry a key), masked."""
    template = route_template(scope)
    return masked_path(str(scope["path"])) if template == UNMATCHED_ROUTE else template


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception escaping the app becomes a 500 further out

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            log_access(scope, status, (time.perf_counter() - started) * 1000)


def log_access(scope: Scope, status: int, duration_ms: float) -> None:
    method, path, duration = str(scope["method"]), logged_path(scope), round(duration_ms, 3)
    fields = {"method": method, "path": path, "status": status, "duration_ms": duration}
    access_logger.info("%s %s %d %.3fms", method, path, status, duration, extra=fields)


def install_request_ids(app: FastAPI) -> None:
    """Outermost of kohorte's middleware, so that the access line and the id cover every
    response, 413s and throttled requests included."""
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(
        CorrelationIdMiddleware,
        header_name=REQUEST_ID_HEADER,
        generator=new_request_id,
        validator=is_valid_request_id,
    )
