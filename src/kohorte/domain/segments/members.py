"""Who is in a segment: size, keyset pages, ad-hoc previews and the streamed export, now or as
of a past instant (``as_of``, a time within the kept membership history).

Each is one SQL statement per page or count, which the store compiles from the filter. Pages
walk users.id upwards, so a user who is a member for the whole walk is returned exactly once
even while cohorts change underneath; users joining or leaving mid-walk appear at most once.
Under ``as_of`` the memberships do not change at all, so every member comes exactly once.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kohorte.domain import membership_history
from kohorte.domain.pagination import Page, check_limit, decode_cursor, page_from_keys
from kohorte.domain.segments.filters import parse_filter
from kohorte.domain.segments.resolution import resolve, resolve_strictly, selection
from kohorte.domain.segments.service import get_segment, stored_filter
from kohorte.store import segment_members as store
from kohorte.store.segment_members import Selection
from kohorte.store.user_views import UserView, user_views

EXPORT_BATCH = 1000


@dataclass(frozen=True)
class Preview:
    size: int
    users: list[UserView]


@dataclass(frozen=True)
class When:
    """A request's ``as_of`` as sent, and how long history is kept (``KOHORTE_HISTORY_DAYS``)."""

    as_of: str | None = None
    history_days: int | None = None


NOW = When()


def segment_size(session: Session, workspace_id: str, segment_id: str, when: When = NOW) -> int:
    return store.count_members(session, _stored(session, workspace_id, segment_id, when))


def segment_members(
    session: Session,
    workspace_id: str,
    segment_id: str,
    limit: int | None,
    cursor: str | None,
    when: When = NOW,
) -> Page[UserView]:
    page_size, after = check_limit(limit), decode_cursor(cursor)
    found = _stored(session, workspace_id, segment_id, when)
    return _page(session, found, after, page_size)


def preview(session: Session, workspace_id: str, raw_filter: object, when: When = NOW) -> Preview:
    """Size and first page of a filter that is not saved as a segment."""
    tree = parse_filter(raw_filter)
    resolved = resolve_strictly(session, workspace_id, tree)
    found = selection(workspace_id, tree, resolved, _instant(session, when))
    first = _page(session, found, None, check_limit(None))
    return Preview(store.count_members(session, found), first.items)


def export_members(
    session: Session, engine: Engine, workspace_id: str, segment_id: str, when: When = NOW
) -> Iterator[list[UserView]]:
    """Every member, in batches, read after the caller's session is done with.

    The segment and ``as_of`` are checked now (so a missing one fails before anything is
    streamed); the store walks the members on read-only sessions of its own.
    """
    found = _stored(session, workspace_id, segment_id, when)
    return store.member_views(engine, found, EXPORT_BATCH)


def _page(session: Session, found: Selection, after: int | None, limit: int) -> Page[UserView]:
    ids = store.member_ids(session, found, after, limit + 1)
    keys, next_cursor = page_from_keys(ids, limit)
    return Page(user_views(session, keys), next_cursor)


def _stored(session: Session, workspace_id: str, segment_id: str, when: When) -> Selection:
    tree = stored_filter(get_segment(session, workspace_id, segment_id))
    resolved = resolve(session, workspace_id, tree)
    return selection(workspace_id, tree, resolved, _instant(session, when))


def _instant(session: Session, when: When) -> datetime | None:
    return membership_history.as_of(session, when.as_of, when.history_days)
