"""Failed credential checks are throttled per client address, so keys cannot be guessed fast.

Past the limit of failures within one fixed minute, the address's requests that carry
credentials get 429 until that minute ends; requests without credentials still pass (a health
probe from the same host is not locked out). A failure is any 401 answered to a request that
carried credentials, whichever check refused it (admin token, REST API key, partner key).

The counter lives in the process: with ``--workers N`` each worker counts on its own, so an
address may make up to N times the limit before all workers refuse it. That is enough to make
guessing slow without a shared store round trip on every request.
"""

import time
from collections.abc import Callable

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kohorte.api.errors import error_response

THROTTLED_MESSAGE = "Too many failed attempts"
# The partner cohort import API carries its credentials in the JSON body, not in a header.
BODY_CREDENTIAL_PREFIX = "/partners/"


def now() -> float:
    # Looked up on every call, so that tests can hold the clock within one minute.
    return time.time()


class FailureCounter:
    """Failures per address within the current fixed minute; older minutes are forgotten."""

    def __init__(self, limit: int, clock: Callable[[], float] | None = None) -> None:
        self.limit = limit
        self._clock = clock or now
        self._minute = -1
        self._failures: dict[str, int] = {}

    def is_blocked(self, address: str) -> bool:
        return self._current().get(address, 0) >= self.limit

    def record(self, address: str) -> None:
        failures = self._current()
        failures[address] = failures.get(address, 0) + 1

    def _current(self) -> dict[str, int]:
        minute = int(self._clock() // 60)
        if minute != self._minute:  # a new minute: every address starts again
            self._minute, self._failures = minute, {}
        return self._failures


class AuthThrottleMiddleware:
    """Pure ASGI, so that a request's body and streaming stay untouched."""

    def __init__(self, app: ASGIApp, counter: FailureCounter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not carries_credentials(scope):
            await self.app(scope, receive, send)
            return
        address = client_address(scope)
        if self.counter.is_blocked(address):
            await error_response(429, THROTTLED_MESSAGE)(scope, receive, send)
            return
        await self.app(scope, receive, self._watching(address, send))

    def _watching(self, address: str, send: Send) -> Send:
        async def send_watched(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                self.counter.record(address)
            await send(message)

        return send_watched


def carries_credentials(scope: Scope) -> bool:
    if any(name == b"authorization" for name, _value in scope.get("headers", ())):
        return True
    return scope["method"] == "POST" and str(scope["path"]).startswith(BODY_CREDENTIAL_PREFIX)


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


def install_auth_throttle(app: FastAPI, failures_per_minute: int) -> None:
    if failures_per_minute > 0:  # 0 turns the throttle off
        app.add_middleware(AuthThrottleMiddleware, counter=FailureCounter(failures_per_minute))
