"""The request journal: what partner clients sent and were answered, secrets masked.

Written beside the request's own transaction (after it), read by the admin and, for one
workspace, by its REST API keys.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from kohorte.domain import pagination
from kohorte.domain.errors import InvalidInput
from kohorte.domain.pagination import Page
from kohorte.store import journal as store
from kohorte.store.emulator_tables import JournalEntry

MASK = "***"
SECRET_FIELDS = ("partner_api_key", "client_secret")
# Bodies over this are kept cut: flagged, not stored.
MAX_KEPT_REQUEST_BYTES = 128 * 1024
STATUS_FILTER_MESSAGE = "status must be a status code (400) or a class (4xx)"
SINCE_FILTER_MESSAGE = "since must be a valid time as an ISO-8601 string"


@dataclass(frozen=True)
class Exchange:
    """One partner request and its answer, as seen on the wire."""

    partner: str
    path: str
    workspace_id: str | None
    cohort_id: str | None
    request: object  # the parsed body; None when it was not JSON
    request_truncated: bool  # then the body is not kept (its secrets are still masked)
    status: int
    response: object


@dataclass(frozen=True)
class Query:
    partner: str | None = None
    workspace_id: str | None = None
    cohort_id: str | None = None
    status: str | None = None
    since: str | None = None
    limit: int | None = None
    cursor: str | None = None


def record(session: Session, exchange: Exchange, max_entries: int) -> None:
    """Append the exchange with every secret it carries masked (``max_entries`` > 0)."""
    secrets = _secrets_in(exchange.request)
    request = None
    if not exchange.request_truncated:
        request = _masked(_with_fields_masked(exchange.request), secrets)
    response = _masked(exchange.response, secrets)
    entry = store.NewEntry(
        partner=exchange.partner,
        path=exchange.path,
        workspace_id=exchange.workspace_id,
        cohort_id=exchange.cohort_id,
        status=exchange.status,
        request_json=None if request is None else _to_json(request),
        request_truncated=exchange.request_truncated,
        response_json=None if response is None else _to_json(response),
    )
    store.append(session, entry, max_entries)


def cohort_id_of(body: object) -> str | None:
    """The body's cohort id when it is a valid string (a lone surrogate is not: 400)."""
    cohort_id = body.get("cohort_id") if isinstance(body, dict) else None
    if not isinstance(cohort_id, str):
        return None
    try:
        cohort_id.encode()
    except UnicodeEncodeError:
        return None
    return cohort_id


def list_entries(session: Session, query: Query, max_entries: int) -> Page[dict[str, Any]]:
    """Newest first; the filters are checked even when the journal is off."""
    limit = pagination.check_limit(query.limit)
    before = pagination.decode_cursor(query.cursor)
    where = _filter(query)
    if max_entries == 0:
        return Page([], None)
    rows = store.page(session, where, before, limit + 1)
    ids, next_cursor = pagination.page_from_keys([row.id for row in rows], limit)
    return Page([_view(row) for row in rows[: len(ids)]], next_cursor)


def clear(session: Session) -> None:
    store.delete_all(session)


def _filter(query: Query) -> store.EntryFilter:
    low, high = _status_range(query.status)
    return store.EntryFilter(
        partner=query.partner,
        workspace_id=query.workspace_id,
        cohort_id=query.cohort_id,
        status_from=low,
        status_to=high,
        since=_since(query.since),
    )


def _status_range(status: str | None) -> tuple[int | None, int | None]:
    if status is None:
        return None, None
    if len(status) == 3 and status[0] in "12345" and status[1:].lower() == "xx":
        low = int(status[0]) * 100
        return low, low + 99
    if len(status) == 3 and status.isascii() and status.isdigit() and status[0] in "12345":
        return int(status), int(status)
    raise InvalidInput(STATUS_FILTER_MESSAGE)


def _since(since: str | None) -> datetime | None:
    if since is None:
        return None
    try:
        parsed = datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(SINCE_FILTER_MESSAGE) from None
    # A time without an offset is taken as UTC, as everywhere else in the API.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _view(row: JournalEntry) -> dict[str, Any]:
    return {
        "id": row.id,
        "received_at": row.received_at,
        "partner": row.partner,
        "path": row.path,
        "workspace_id": row.workspace_id,
        "cohort_id": row.cohort_id,
        "status": row.status,
        "request": None if row.request_json is None else json.loads(row.request_json),
        "request_truncated": row.request_truncated,
        "response": None if row.response_json is None else json.loads(row.response_json),
    }


def _secrets_in(body: object) -> list[str]:
    if not isinstance(body, dict):
        return []
    values = (body.get(field) for field in SECRET_FIELDS)
    # Longest first, so that a secret containing the other is masked whole.
    return sorted({value for value in values if isinstance(value, str) and value}, key=len)[::-1]


def _with_fields_masked(body: object) -> object:
    if not isinstance(body, dict):
        return body
    return {key: MASK if key in SECRET_FIELDS else value for key, value in body.items()}


def _masked(value: object, secrets: list[str]) -> object:
    """``value`` with every occurrence of a secret in any string (keys included) masked."""
    if not secrets:
        return value

    def mask(text: str) -> str:
        for secret in secrets:
            text = text.replace(secret, MASK)
        return text

    return _map_strings(value, mask)


def _to_json(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode()
    except UnicodeEncodeError:
        # A lone surrogate (JSON allows its escape) is not text the store or a reader takes:
        # kept visible as its escape.
        text = json.dumps(_map_strings(value, _escaped_surrogates), ensure_ascii=False)
    return text


def _escaped_surrogates(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode()


def _map_strings(value: object, change: Callable[[str], str]) -> object:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [_map_strings(item, change) for item in value]
    if isinstance(value, dict):
        return {change(k): _map_strings(v, change) for k, v in value.items()}
    return value
