"""Segments of a workspace: create, read, replace, delete, and the Braze-compatible reads."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kohorte.domain.errors import Conflict, InvalidInput, NotFound
from kohorte.domain.segments.describe import describe
from kohorte.domain.segments.filters import Filter, filter_json, parse_filter, shown
from kohorte.domain.segments.resolution import resolve, resolve_strictly
from kohorte.domain.text import is_storable, is_valid_name
from kohorte.store import segments as store
from kohorte.store.models import Segment
from kohorte.store.types import utcnow

LIST_PAGE_SIZE = 100
# Offsets beyond this cannot hold segments and would overflow the store's integers.
MAX_LIST_OFFSET = 2**62
SORT_DIRECTIONS = ("asc", "desc")
NAME_RULE = "name must be a non-empty string of at most 255 characters"


@dataclass(frozen=True)
class SegmentDetails:
    segment: Segment
    text_description: str


def create_segment(
    session: Session,
    workspace_id: str,
    name: str,
    raw_filter: object,
    tracked: bool = False,
    segment_id: str | None = None,
) -> Segment:
    """A new segment; its id is generated unless given (a seed file's fixed ids)."""
    check_name(name)
    tree = checked_filter(session, workspace_id, raw_filter)
    check_new_id(session, segment_id)
    return store.add_segment(session, workspace_id, name, filter_json(tree), tracked, segment_id)


def find_segment(
    session: Session, workspace_id: str, segment_id: str | None, name: str
) -> Segment | None:
    """The workspace's segment with this id, or (no id given) the first with this name."""
    if segment_id is not None:
        return store.find_segment(session, workspace_id, segment_id)
    return store.find_segment_by_name(session, workspace_id, name)


def get_segment(session: Session, workspace_id: str, segment_id: str) -> Segment:
    segment = store.find_segment(session, workspace_id, segment_id) if _is_id(segment_id) else None
    if segment is None:
        raise NotFound(f"Segment {shown(segment_id)} not found")
    return segment


def replace_segment(
    session: Session,
    workspace_id: str,
    segment_id: str,
    name: str,
    raw_filter: object,
    tracked: bool = False,
) -> Segment:
    segment = get_segment(session, workspace_id, segment_id)
    check_name(name)
    tree = checked_filter(session, workspace_id, raw_filter)
    store.replace_segment(segment, name, filter_json(tree), tracked, utcnow())
    session.flush()
    return segment


def delete_segment(session: Session, workspace_id: str, segment_id: str) -> None:
    if not (_is_id(segment_id) and store.delete_segment(session, workspace_id, segment_id)):
        raise NotFound(f"Segment {shown(segment_id)} not found")


def list_segments(
    session: Session, workspace_id: str, page: int | None, sort_direction: str | None
) -> Sequence[Segment]:
    """One page of 100 segments by creation time, ``page`` counted from 0."""
    page = 0 if page is None else page
    if page < 0:
        raise InvalidInput("page must be an integer of at least 0")
    direction = "asc" if sort_direction is None else sort_direction
    if direction not in SORT_DIRECTIONS:
        raise InvalidInput("sort_direction must be 'asc' or 'desc'")
    offset = page * LIST_PAGE_SIZE
    if offset > MAX_LIST_OFFSET:
        return []
    return store.list_segments(session, workspace_id, offset, LIST_PAGE_SIZE, direction == "desc")


def segment_details(session: Session, workspace_id: str, segment_id: str | None) -> SegmentDetails:
    if not segment_id:
        raise InvalidInput("segment_id is required")
    segment = get_segment(session, workspace_id, segment_id)
    tree = stored_filter(segment)
    return SegmentDetails(segment, describe(tree, resolve(session, workspace_id, tree)))


def checked_filter(session: Session, workspace_id: str, raw_filter: object) -> Filter:
    """A client's filter, well-formed and naming only partners and cohorts that exist here."""
    tree = parse_filter(raw_filter)
    resolve_strictly(session, workspace_id, tree)
    return tree


def stored_filter(segment: Segment) -> Filter:
    return parse_filter(segment.filter)


def check_new_id(session: Session, segment_id: str | None) -> None:
    """A fixed id (seed files) must be free in every workspace: ids are global."""
    if segment_id is not None and store.segment_id_taken(session, segment_id):
        raise Conflict(f"Segment id {shown(segment_id)} is taken")


def check_name(name: str) -> None:
    if not is_valid_name(name):
        raise InvalidInput(NAME_RULE)


def _is_id(segment_id: str) -> bool:
    # Ids are UUIDs; anything the store cannot even compare (NUL, surrogates) is simply unknown.
    return is_storable(segment_id) and len(segment_id) <= 64
