"""Segments: their rows, and the partners and cohorts their filters name.

Evaluating a filter over memberships is in ``store.segment_members``.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    delete,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from kohorte.store.models import Cohort, Partner, Segment


@dataclass(frozen=True)
class CohortRow:
    pk: int
    name: str | None
    size: int


# --- segment rows ------------------------------------------------------------------------------
def add_segment(
    session: Session,
    workspace_id: str,
    name: str,
    filter_json: dict[str, Any],
    tracked: bool,
    segment_id: str | None = None,
) -> Segment:
    segment = Segment(
        **({} if segment_id is None else {"id": segment_id}),
        workspace_id=workspace_id,
        name=name,
        filter=filter_json,
        analytics_tracking_enabled=tracked,
    )
    session.add(segment)
    session.flush()
    return segment


def find_segment(session: Session, workspace_id: str, segment_id: str) -> Segment | None:
    return session.scalar(
        select(Segment).where(Segment.workspace_id == workspace_id, Segment.id == segment_id)
    )


def segment_id_taken(session: Session, segment_id: str) -> bool:
    """In any workspace: ids are the table's primary key."""
    return session.get(Segment, segment_id) is not None


def find_segment_by_name(session: Session, workspace_id: str, name: str) -> Segment | None:
    return session.scalar(
        select(Segment)
        .where(Segment.workspace_id == workspace_id, Segment.name == name)
        .order_by(Segment.created_at, Segment.id)
        .limit(1)
    )


def delete_segment(session: Session, workspace_id: str, segment_id: str) -> bool:
    result = session.execute(
        delete(Segment).where(Segment.workspace_id == workspace_id, Segment.id == segment_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def list_segments(
    session: Session, workspace_id: str, offset: int, limit: int, newest_first: bool
) -> Sequence[Segment]:
    order = (
        (Segment.created_at.desc(), Segment.id.desc())
        if newest_first
        else (Segment.created_at, Segment.id)
    )
    return session.scalars(
        select(Segment)
        .where(Segment.workspace_id == workspace_id)
        .order_by(*order)
        .offset(offset)
        .limit(limit)
    ).all()


def replace_segment(
    segment: Segment, name: str, filter_json: dict[str, Any], tracked: bool, now: datetime
) -> None:
    segment.name = name
    segment.filter = filter_json
    segment.analytics_tracking_enabled = tracked
    segment.updated_at = now


# --- what filters refer to ---------------------------------------------------------------------
def existing_partners(session: Session, names: Collection[str]) -> dict[str, str]:
    """Display names of those of ``names`` that are partners of this instance."""
    if not names:
        return {}
    rows = session.execute(
        select(Partner.name, Partner.display_name).where(Partner.name.in_(names))
    )
    return {name: display_name for name, display_name in rows}  # noqa: C416 (rows are Rows)


def find_cohorts(
    session: Session, workspace_id: str, refs: Collection[tuple[str, str]]
) -> dict[tuple[str, str], CohortRow]:
    """The workspace's cohorts among the (partner, cohort_id) pairs given, in one query."""
    if not refs:
        return {}
    rows = session.execute(
        select(Cohort.partner_name, Cohort.cohort_id, Cohort.id, Cohort.name, Cohort.size).where(
            Cohort.workspace_id == workspace_id,
            tuple_(Cohort.partner_name, Cohort.cohort_id).in_(list(refs)),
        )
    ).all()
    return {
        (partner, cohort_id): CohortRow(pk, name, size)
        for partner, cohort_id, pk, name, size in rows
    }
