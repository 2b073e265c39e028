"""Rejects request bodies over the limit with 413 before any endpoint reads them."""

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 4 * 1024 * 1024
TOO_LARGE_BODY = json.dumps({"message": "Request body is larger than 4 MB"}).encode()


class BodyLimitMiddleware:
    def __init__(
        self, app: ASGIApp, limit: int = MAX_BODY_BYTES, exempt_paths: frozenset[str] = frozenset()
    ) -> None:
        self.app = app
        self.limit = limit
        self.exempt_paths = exempt_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        if self._declared_length(scope) > self.limit:
            await self._reject(send)
            return
        await self._call_counting(scope, receive, send)

    def _declared_length(self, scope: Scope) -> int:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                return int(value) if value.isdigit() else 0
        return 0

    async def _call_counting(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Chunked bodies declare no length: read what arrives (at most the limit) before the
        # app runs, then hand it over unchanged.
        messages: list[Message] = []
        received = 0
        while True:
            message = await receive()
            messages.append(message)
            received += len(message.get("body", b""))
            if received > self.limit:
                await self._reject(send)
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _reject(self, send: Send) -> None:
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(TOO_LARGE_BODY)).encode()),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": TOO_LARGE_BODY})
