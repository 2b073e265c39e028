"""Unmatched identifiers: what partner syncs of a cohort sent that matched no user, and why.

A sync that matched fewer identifiers than it sent records them (``record``, inside its own
transaction, so a rejected request records nothing); a sync where everything matched pays no
statement for the ledger. Each cohort keeps at most ``KOHORTE_UNMATCHED_PER_COHORT`` distinct
identifiers, the least recently seen going first; 0 keeps none.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from kohorte.domain.cohort_import import matcher
from kohorte.domain.cohort_import.requests import CohortChanges
from kohorte.domain.cohorts import require_cohort
from kohorte.domain.errors import InvalidInput
from kohorte.domain.pagination import (
    BAD_CURSOR,
    Page,
    check_limit,
    decode_position,
    encode_position,
)
from kohorte.domain.text import is_storable
from kohorte.store import unmatched as store
from kohorte.store.unmatched import Key

DEFAULT_PER_COHORT = 10_000


@dataclass(frozen=True)
class Identifier:
    """An unmatched identifier as listed; ``alias_label`` is None unless ``kind`` is alias."""

    kind: str
    value: str
    alias_label: str | None
    reason: str
    count: int
    first_seen_at: datetime
    last_seen_at: datetime


KIND_NAMES = {
    matcher.Kind.EXTERNAL_ID: "external_id",
    matcher.Kind.DEVICE_ID: "device_id",
    matcher.Kind.ALIAS: "alias",
}


def record(
    session: Session,
    workspace_id: str,
    cohort_pk: int,
    request: CohortChanges,
    now: datetime,
    limit: int,
) -> None:
    """Record the request's unmatched identifiers in the cohort's ledger, each counted once
    for this request however often it came, then cut the ledger back to ``limit``."""
    if limit <= 0:
        return
    found = matcher.unmatched(session, workspace_id, request.changes)
    if not found:
        return  # only identifiers no row can hold
    rows = [store.Row(int(u.kind), u.label, u.value, int(u.reason)) for u in found]
    if store.record(session, cohort_pk, rows, now):
        store.keep_latest(session, cohort_pk, limit)


def list_unmatched(
    session: Session,
    workspace_id: str,
    partner: str,
    cohort_id: str,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[Identifier]:
    """One page of the cohort's unmatched identifiers, the most recently seen first."""
    page_size = check_limit(limit)
    after = decode_cursor(cursor)
    cohort = require_cohort(session, workspace_id, partner, cohort_id)
    entries = store.entries_after(session, cohort.id, after, page_size + 1)
    more = len(entries) > page_size
    entries = entries[:page_size]
    next_cursor = encode_cursor(entries[-1].key) if more else None
    return Page([_identifier(entry) for entry in entries], next_cursor)


def _identifier(entry: store.Entry) -> Identifier:
    kind = matcher.Kind(entry.kind)
    label = entry.label if kind is matcher.Kind.ALIAS else None
    reason = matcher.REASONS[matcher.Unmatchable(entry.reason)]
    return Identifier(
        KIND_NAMES[kind],
        entry.value,
        label,
        reason,
        entry.count,
        entry.first_seen_at,
        entry.last_seen_at,
    )


def encode_cursor(key: Key) -> str:
    """The position a page ends at, opaque to clients: time, kind, label and value."""
    return encode_position([key.last_seen_at.isoformat(), key.kind, key.label, key.value])


def decode_cursor(cursor: str | None) -> Key | None:
    if cursor is None or cursor == "":
        return None
    try:
        position: list[Any] = decode_position(cursor)  # type: ignore[assignment]
        at, kind, label, value = position
        key = Key(_utc(datetime.fromisoformat(at)), kind, label, value)
    except (ValueError, TypeError, OverflowError):
        raise InvalidInput(BAD_CURSOR) from None
    if not _well_formed(key):
        raise InvalidInput(BAD_CURSOR)
    return key


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("a cursor's time has an offset")
    return instant.astimezone(UTC)


def _well_formed(key: Key) -> bool:
    # A forged cursor must not reach the store with text it cannot compare (NUL) or a naive
    # time: a 400, never a 500.
    texts = (key.label, key.value)
    return (
        type(key.kind) is int
        and key.kind in {kind.value for kind in matcher.Kind}
        and all(isinstance(text, str) and is_storable(text) for text in texts)
    )
