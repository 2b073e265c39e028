"""Evaluating segment filters: one set-based statement per size or page, whatever the cohorts.

A query walks either the workspace's users or, when the filter requires membership of some
cohort, that cohort's members (the index of open stays is ordered by user id, and no user
outside it can match). The rest of the filter is a condition on the walked user id, made of EXISTS /
NOT EXISTS over ``cohort_memberships``, which PostgreSQL plans as semi- and anti-joins.
Pages are keyset walks on the user id.

Walking a cohort relies on kohorte's rule that a cohort holds only users of its own workspace.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from kohorte.store.models import CohortMembership, User

# A compiled filter: a condition on the user id being walked.
MemberCondition = ColumnElement[bool]


@dataclass(frozen=True)
class Walk:
    """The rows a segment query goes over: a user id column and what limits the rows."""

    user_id: ColumnElement[int]
    scope: ColumnElement[bool]


def workspace_users(workspace_id: str) -> Walk:
    # Served by ix_users_workspace_id_id.
    return Walk(User.id.expression, User.workspace_id == workspace_id)


def cohort_members(cohort_pk: int) -> Walk:
    # Served by the index of open stays (cohort_pk, user_id) WHERE left_at IS NULL.
    walked = aliased(CohortMembership, name="walked")
    return Walk(
        walked.user_id.expression, and_(walked.cohort_pk == cohort_pk, walked.left_at.is_(None))
    )


# --- building blocks of a compiled filter ------------------------------------------------------
def in_cohort(cohort_pk: int, user_id: ColumnElement[int], after: int | None) -> MemberCondition:
    """Whether the walked user is in the cohort: a correlated EXISTS.

    ``after`` repeats a page's keyset bound inside the subquery: PostgreSQL carries equalities
    but not inequalities across a join, and without it a merge join would read the cohort's
    members from the start on every page.
    """
    conditions = [
        CohortMembership.cohort_pk == cohort_pk,
        CohortMembership.user_id == user_id,
        CohortMembership.left_at.is_(None),
    ]
    if after is not None:
        conditions.append(CohortMembership.user_id > after)
    return exists().where(*conditions).correlate_except(CohortMembership)


def not_in_cohort(
    cohort_pk: int, user_id: ColumnElement[int], after: int | None
) -> MemberCondition:
    return ~in_cohort(cohort_pk, user_id, after)


def all_of(conditions: Sequence[MemberCondition]) -> MemberCondition:
    return and_(*conditions)


def any_of(conditions: Sequence[MemberCondition]) -> MemberCondition:
    return or_(*conditions)


def everybody() -> MemberCondition:
    return true()


def nobody() -> MemberCondition:
    return false()


# --- evaluation --------------------------------------------------------------------------------
def count_members(session: Session, walk: Walk, condition: MemberCondition) -> int:
    return int(session.scalar(count_statement(walk, condition)) or 0)


def member_ids(
    session: Session, walk: Walk, condition: MemberCondition, after: int | None, limit: int
) -> list[int]:
    """Up to ``limit`` member ids above ``after``, in id order (one keyset page)."""
    return list(session.scalars(page_statement(walk, condition, after, limit)))


def count_statement(walk: Walk, condition: MemberCondition) -> Select[int]:
    return select(func.count()).where(walk.scope, condition)


def page_statement(
    walk: Walk, condition: MemberCondition, after: int | None, limit: int
) -> Select[int]:
    query = select(walk.user_id).where(walk.scope, condition)
    if after is not None:
        query = query.where(walk.user_id > after)
    return query.order_by(walk.user_id).limit(limit)
