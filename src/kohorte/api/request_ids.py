"""Request ids (``X-Request-ID``), one per request.

The id is the client's when it is 1 to 128 characters of ``[A-Za-z0-9._-]``, else a new random
one: anything else could forge log lines or bloat them. It lives in asgi-correlation-id's
contextvar, which follows the request into the thread pool, so every log line written while
serving carries it (``logging_setup.RequestIdFilter``).
"""

import re
from uuid import uuid4

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI

REQUEST_ID_HEADER = "X-Request-ID"
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def is_valid_request_id(value: str) -> bool:
    return VALID_REQUEST_ID.fullmatch(value) is not None


def new_request_id() -> str:
    return uuid4().hex


def install_request_ids(app: FastAPI) -> None:
    """Outermost of kohorte's middleware, so that the id is set before anything logs (the
    access line included) and covers every response, 413s and throttled requests included."""
    app.add_middleware(
        CorrelationIdMiddleware,
        header_name=REQUEST_ID_HEADER,
        generator=new_request_id,
        validator=is_valid_request_id,
    )
