"""Partner requests: faults injected on demand before the route, the journal after it.

Sits outside the body limit, so that 413s are journaled too, and inside the metrics. The
body is read here once (partner bodies are read whole by the route anyway) and handed on
unchanged; the answer is buffered (partner answers are small) and sent only once its entry
is committed, so a client reading the journal right after its request sees it.
"""

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kohorte.api.body_limit import MAX_BODY_BYTES
from kohorte.domain import faults, journal
from kohorte.store.database import make_session_factory, read_only_session
from kohorte.store.faults import TakenFault

PARTNER_PATH_PREFIX = "/partners/"
# Set by the partner route once the client secret named a workspace (request.state).
WORKSPACE_STATE = "journal_workspace_id"
# The body parsed here, so that the route does not parse it again.
PARSED_BODY_STATE = "partner_body"
NOT_PARSED = object()

logger = logging.getLogger(__name__)


@dataclass
class ReadBody:
    messages: list[Message]
    raw: bytes
    complete: bool  # False: over the body limit, left for the limit to reject


class PartnerControlsMiddleware:
    def __init__(self, app: ASGIApp, engine: Engine, max_entries: int) -> None:
        self.app = app
        self.engine = engine
        self.session_factory = make_session_factory(engine)
        self.max_entries = max_entries

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PARTNER_PATH_PREFIX):
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        body = await _read_body(receive)
        parsed = _parse(body)
        if parsed is not NOT_PARSED:
            state[PARSED_BODY_STATE] = parsed
        request = None if parsed is NOT_PARSED else parsed
        partner = scope["path"].split("/")[2]
        fault = await self._take_fault(partner, journal.cohort_id_of(request))
        answer: list[Message] = []
        if fault is not None and fault.delay_ms:
            await asyncio.sleep(fault.delay_ms / 1000)
        if fault is not None and fault.status is not None:
            answer = _fault_answer(fault.status)
        else:
            await self.app(scope, _replay(body.messages, receive), _collect(answer))
        await self._journal(scope, partner, state.get(WORKSPACE_STATE), body, request, answer)
        for message in answer:
            await send(message)

    async def _take_fault(self, partner: str, cohort_id: str | None) -> TakenFault | None:
        def take() -> TakenFault | None:
            # A read first, without SQLite's write lock: with no fault (the usual case)
            # partner requests do not queue behind each other here.
            with read_only_session(self.engine) as session:
                if not faults.any_matching(session, partner, cohort_id):
                    return None
            with self.session_factory.begin() as session:
                return faults.take(session, partner, cohort_id)

        try:
            return await run_in_threadpool(take)
        except Exception:  # the store down: let the route answer it as it does (503)
            logger.exception("fault check failed (partner %s)", partner)
            return None

    async def _journal(
        self,
        scope: Scope,
        partner: str,
        workspace_id: str | None,
        body: ReadBody,
        request: object,
        answer: list[Message],
    ) -> None:
        if self.max_entries == 0:
            return
        truncated = len(body.raw) > journal.MAX_KEPT_REQUEST_BYTES or not body.complete
        exchange = journal.Exchange(
            partner=partner,
            path=scope["path"],
            workspace_id=workspace_id,
            # A cut body is not kept, but its cohort still names the entry.
            cohort_id=journal.cohort_id_of(request),
            request=request,
            request_truncated=truncated,
            status=_status(answer),
            response=_response_body(answer),
        )
        try:
            await run_in_threadpool(self._write, exchange)
        except Exception:  # a diagnostic: never let it change the answer
            logger.exception("journal entry not written (partner %s)", partner)

    def _write(self, exchange: journal.Exchange) -> None:
        with self.session_factory.begin() as session:
            journal.record(session, exchange, self.max_entries)


async def _read_body(receive: Receive) -> ReadBody:
    messages: list[Message] = []
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return ReadBody(messages, b"".join(chunks), complete=True)
        if size > MAX_BODY_BYTES:  # the limit inside answers 413 without reading the rest
            return ReadBody(messages, b"".join(chunks), complete=False)


def _parse(body: ReadBody) -> object:
    if not body.complete:
        return NOT_PARSED
    try:
        return json.loads(body.raw)
    except (ValueError, RecursionError):
        return NOT_PARSED


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


def _collect(answer: list[Message]) -> Send:
    async def collect(message: Message) -> None:
        answer.append(message)

    return collect


def _fault_answer(status: int) -> list[Message]:
    payload = json.dumps({"message": faults.FAULT_MESSAGES[status]}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    if status == 429:
        headers.append((b"x-ratelimit-remaining", b"0"))
    return [
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": payload},
    ]


def _status(answer: list[Message]) -> int:
    starts = [message for message in answer if message["type"] == "http.response.start"]
    return int(starts[0]["status"]) if starts else 500


def _response_body(answer: list[Message]) -> object:
    raw = b"".join(m.get("body", b"") for m in answer if m["type"] == "http.response.body")
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None
