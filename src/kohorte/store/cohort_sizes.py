"""Keeping ``cohorts.size`` equal to the number of memberships.

Partner syncs adjust it by the rows they actually inserted and deleted; rarer operations that
move or drop memberships in bulk (user merges and deletes) recount the cohorts they touched.
"""

from collections.abc import Collection

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kohorte.store.models import Cohort, CohortMembership


def adjust_cohort_size(session: Session, cohort_pk: int, delta: int) -> None:
    if delta:
        session.execute(
            update(Cohort).where(Cohort.id == cohort_pk).values(size=Cohort.size + delta)
        )


def cohorts_of_users(session: Session, user_ids: Collection[int]) -> set[int]:
    if not user_ids:
        return set()
    return set(
        session.scalars(
            select(CohortMembership.cohort_pk).where(CohortMembership.user_id.in_(user_ids))
        )
    )


def recount_cohort_sizes(session: Session, cohort_pks: Collection[int]) -> None:
    if not cohort_pks:
        return
    member_count = (
        select(func.count()).where(CohortMembership.cohort_pk == Cohort.id).scalar_subquery()
    )
    session.execute(update(Cohort).where(Cohort.id.in_(cohort_pks)).values(size=member_count))
