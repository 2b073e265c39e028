"""Clients that stall or go away in the middle of a request body.

Whoever reads the body (the journal, the body limit, an endpoint) reads it through this
middleware's ``receive``: a stall past the body timeout is answered 408, a client that went
away is dropped without an answer or an error log (the metrics count it as 499).
"""

import asyncio
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

STALLED_BODY = json.dumps({"message": "Request body timed out"}).encode()


class _BodyStalled(Exception):
    pass


class _ClientGone(Exception):
    pass


class RequestBodyMiddleware:
    def __init__(self, app: ASGIApp, body_timeout: float) -> None:
        self.app = app
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_noting_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, self._guarded(receive), send_noting_start)
        except _ClientGone:
            return
        except _BodyStalled:
            if not started:
                await _answer_stalled(send)

    def _guarded(self, receive: Receive) -> Receive:
        complete = False

        async def guarded_receive() -> Message:
            nonlocal complete
            if complete:  # after the body, receive waits for a disconnect: no timeout then
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.body_timeout)
            except TimeoutError:
                raise _BodyStalled from None
            if message["type"] == "http.disconnect":
                raise _ClientGone
            complete = not message.get("more_body", False)
            return message

        return guarded_receive


async def _answer_stalled(send: Send) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(STALLED_BODY)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 408, "headers": headers})
    await send({"type": "http.response.body", "body": STALLED_BODY})
