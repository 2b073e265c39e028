"""Who is in a segment: size, keyset pages, ad-hoc previews and the streamed export.

Each is one SQL statement per page or count, compiled from the filter. Pages walk users.id
upwards, so a user who is a member for the whole walk is returned exactly once even while
cohorts change underneath; users joining or leaving mid-walk appear at most once.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kohorte.domain.pagination import Page, check_limit, decode_cursor, page_from_keys
from kohorte.domain.segments.compiler import Members, resolve, resolve_strictly
from kohorte.domain.segments.filters import parse_filter
from kohorte.domain.segments.service import get_segment, stored_filter
from kohorte.store import segment_queries as queries
from kohorte.store.database import read_only_session
from kohorte.store.user_views import UserView, user_views

EXPORT_BATCH = 1000


@dataclass(frozen=True)
class Preview:
    size: int
    users: list[UserView]


def segment_size(session: Session, workspace_id: str, segment_id: str) -> int:
    return _size(session, _stored_members(session, workspace_id, segment_id))


def segment_members(
    session: Session, workspace_id: str, segment_id: str, limit: int | None, cursor: str | None
) -> Page[UserView]:
    page_size, after = check_limit(limit), decode_cursor(cursor)
    found = _stored_members(session, workspace_id, segment_id)
    return _page(session, found, after, page_size)


def preview(session: Session, workspace_id: str, raw_filter: object) -> Preview:
    """Size and first page of a filter that is not saved as a segment."""
    tree = parse_filter(raw_filter)
    found = Members(tree, resolve_strictly(session, workspace_id, tree), workspace_id)
    first = _page(session, found, None, check_limit(None))
    return Preview(_size(session, found), first.items)


def export_members(
    session: Session, engine: Engine, workspace_id: str, segment_id: str
) -> Iterator[list[UserView]]:
    """Every member, in batches, read after the caller's session is done with.

    The segment is checked now (so a missing one fails before anything is streamed); the walk
    runs on its own read-only session, one short transaction per batch, so memory stays flat
    and SQLite's write lock is never held.
    """
    return _walk(engine, _stored_members(session, workspace_id, segment_id))


def _walk(engine: Engine, found: Members) -> Iterator[list[UserView]]:
    after: int | None = None
    walk = found.walk
    with read_only_session(engine) as session:
        while True:
            condition = found.condition(walk, after)
            ids = queries.member_ids(session, walk, condition, after, EXPORT_BATCH)
            views = user_views(session, ids)
            session.commit()
            if views:
                yield views
            if len(ids) < EXPORT_BATCH:
                return
            after = ids[-1]


def _size(session: Session, found: Members) -> int:
    walk = found.walk
    return queries.count_members(session, walk, found.condition(walk))


def _page(session: Session, found: Members, after: int | None, limit: int) -> Page[UserView]:
    walk = found.walk
    ids = queries.member_ids(session, walk, found.condition(walk, after), after, limit + 1)
    keys, next_cursor = page_from_keys(ids, limit)
    return Page(user_views(session, keys), next_cursor)


def _stored_members(session: Session, workspace_id: str, segment_id: str) -> Members:
    tree = stored_filter(get_segment(session, workspace_id, segment_id))
    return Members(tree, resolve(session, workspace_id, tree), workspace_id)
