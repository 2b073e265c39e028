"""Segments: their rows, and the set-based queries that evaluate them over cohort memberships.

A segment's filter becomes one boolean SQL condition on ``users`` built from EXISTS / NOT EXISTS
over ``cohort_memberships``; sizes and pages are then a single statement each, whatever the
cohort sizes. Pages are keyset walks on ``users.id`` (index ``ix_users_workspace_id_id``).
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    exists,
    false,
    func,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.orm import Session

from kohorte.store.models import Cohort, CohortMembership, Partner, Segment, User

# What a compiled filter is: a condition on the ``users`` row being considered.
MemberCondition = ColumnElement[bool]


@dataclass(frozen=True)
class CohortRow:
    pk: int
    name: str | None


# --- segment rows ------------------------------------------------------------------------------
def add_segment(
    session: Session, workspace_id: str, name: str, filter_json: dict[str, Any], tracked: bool
) -> Segment:
    segment = Segment(
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
        select(Cohort.partner_name, Cohort.cohort_id, Cohort.id, Cohort.name).where(
            Cohort.workspace_id == workspace_id,
            tuple_(Cohort.partner_name, Cohort.cohort_id).in_(list(refs)),
        )
    ).all()
    return {(partner, cohort_id): CohortRow(pk, name) for partner, cohort_id, pk, name in rows}


# --- building blocks of a compiled filter ------------------------------------------------------
def in_cohort(cohort_pk: int, after: int | None = None) -> MemberCondition:
    """Membership of users.id in the cohort, as a correlated EXISTS (a semi-join when planned).

    ``after`` repeats a page's keyset bound inside the subquery: PostgreSQL carries equalities
    but not inequalities across a join, and without it a merge join would read the cohort's
    members from the start on every page.
    """
    conditions = [CohortMembership.cohort_pk == cohort_pk, CohortMembership.user_id == User.id]
    if after is not None:
        conditions.append(CohortMembership.user_id > after)
    return exists().where(*conditions)


def not_in_cohort(cohort_pk: int, after: int | None = None) -> MemberCondition:
    return ~in_cohort(cohort_pk, after)


def all_of(conditions: Sequence[MemberCondition]) -> MemberCondition:
    return and_(*conditions)


def any_of(conditions: Sequence[MemberCondition]) -> MemberCondition:
    return or_(*conditions)


def everybody() -> MemberCondition:
    return true()


def nobody() -> MemberCondition:
    return false()


# --- evaluation --------------------------------------------------------------------------------
def count_members(session: Session, workspace_id: str, condition: MemberCondition) -> int:
    return int(session.scalar(count_statement(workspace_id, condition)) or 0)


def member_ids(
    session: Session, workspace_id: str, condition: MemberCondition, after: int | None, limit: int
) -> list[int]:
    """Up to ``limit`` member ids above ``after``, in id order (one keyset page)."""
    return list(session.scalars(page_statement(workspace_id, condition, after, limit)))


def count_statement(workspace_id: str, condition: MemberCondition) -> Select[int]:
    return (
        select(func.count()).select_from(User).where(User.workspace_id == workspace_id, condition)
    )


def page_statement(
    workspace_id: str, condition: MemberCondition, after: int | None, limit: int
) -> Select[int]:
    query = select(User.id).where(User.workspace_id == workspace_id, condition)
    if after is not None:
        query = query.where(User.id > after)
    return query.order_by(User.id).limit(limit)
