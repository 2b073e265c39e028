"""Reading cohorts, their recent syncs and their members (writes live with the partner sync)."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from kohorte.store.models import Cohort, CohortMembership, CohortSync


def find_cohort(
    session: Session, workspace_id: str, partner_name: str, cohort_id: str
) -> Cohort | None:
    return session.scalar(
        select(Cohort).where(
            Cohort.workspace_id == workspace_id,
            Cohort.partner_name == partner_name,
            Cohort.cohort_id == cohort_id,
        )
    )


def list_cohorts(
    session: Session, workspace_id: str, partner_name: str | None = None
) -> Sequence[Cohort]:
    query = select(Cohort).where(Cohort.workspace_id == workspace_id)
    if partner_name is not None:
        query = query.where(Cohort.partner_name == partner_name)
    return session.scalars(query.order_by(Cohort.partner_name, Cohort.cohort_id)).all()


def recent_syncs(session: Session, cohort_pk: int, limit: int) -> Sequence[CohortSync]:
    """The newest syncs first; served by the (cohort_pk, received_at) index."""
    return session.scalars(
        select(CohortSync)
        .where(CohortSync.cohort_pk == cohort_pk)
        .order_by(CohortSync.received_at.desc(), CohortSync.id.desc())
        .limit(limit)
    ).all()


def member_ids_after(
    session: Session, cohort_pk: int, after_user_id: int | None, limit: int
) -> list[int]:
    """Up to ``limit`` member ids above ``after_user_id``, ascending: a range scan of the index
    of open stays (cohort_pk, user_id), so every page costs the same."""
    query = select(CohortMembership.user_id).where(
        CohortMembership.cohort_pk == cohort_pk, CohortMembership.left_at.is_(None)
    )
    if after_user_id is not None:
        query = query.where(CohortMembership.user_id > after_user_id)
    return list(session.scalars(query.order_by(CohortMembership.user_id).limit(limit)))
