"""How store errors that reach the one error renderer are answered."""

import asyncio
import json

from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from starlette.requests import Request

from kohorte.api.errors import handle_store_error

REQUEST = Request({"type": "http", "method": "POST", "path": "/", "headers": []})


def rendered(exc: Exception) -> tuple[int, dict[str, str]]:
    response = asyncio.run(handle_store_error(REQUEST, exc))
    return response.status_code, json.loads(bytes(response.body))


def test_a_unique_key_lost_to_a_concurrent_request_is_a_409_to_retry() -> None:
    status, body = rendered(IntegrityError("INSERT ...", {}, Exception("duplicate key")))
    assert status == 409
    assert "retry" in body["message"]


def test_an_unreachable_store_is_a_503_to_retry() -> None:
    status, body = rendered(OperationalError("SELECT 1", {}, Exception("connection refused")))
    assert status == 503
    assert body == {"message": "Store unavailable, retry later"}


def test_other_store_errors_reveal_nothing() -> None:
    status, body = rendered(ProgrammingError("SELECT secret", {"k": "v"}, Exception("boom")))
    assert status == 500
    assert body == {"message": "Internal server error"}
