"""Reading data points: the folded daily counters plus the deltas not folded yet."""

from datetime import date

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from kohorte.store.models import Cohort, CohortCounterDelta, DataPointCount


def data_point_counts(
    session: Session, workspace_id: str, first_day: date, last_day: date
) -> list[tuple[date, str, int]]:
    """(day, partner, count) for the days from first_day to last_day inclusive, in that order."""
    folded = select(DataPointCount.day, DataPointCount.partner_name, DataPointCount.count).where(
        DataPointCount.workspace_id == workspace_id,
        DataPointCount.day.between(first_day, last_day),
    )
    pending = (
        select(CohortCounterDelta.day, Cohort.partner_name, CohortCounterDelta.data_points)
        .join(Cohort, Cohort.id == CohortCounterDelta.cohort_pk)
        .where(
            Cohort.workspace_id == workspace_id,
            CohortCounterDelta.day.between(first_day, last_day),
            CohortCounterDelta.data_points > 0,
        )
    )
    both = union_all(folded, pending).subquery()
    rows = session.execute(
        select(both.c.day, both.c.partner_name, func.sum(both.c.count))
        .group_by(both.c.day, both.c.partner_name)
        .order_by(both.c.day, both.c.partner_name)
    ).all()
    return [(day, partner, int(count)) for day, partner, count in rows]
