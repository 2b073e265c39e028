"""Reading the data point counters that partner syncs keep per workspace, partner and day."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from kohorte.store.models import DataPointCount


def data_point_counts(
    session: Session, workspace_id: str, first_day: date, last_day: date
) -> list[tuple[date, str, int]]:
    """(day, partner, count) for the days from first_day to last_day inclusive, in that order."""
    rows = session.execute(
        select(DataPointCount.day, DataPointCount.partner_name, DataPointCount.count)
        .where(
            DataPointCount.workspace_id == workspace_id,
            DataPointCount.day >= first_day,
            DataPointCount.day <= last_day,
        )
        .order_by(DataPointCount.day, DataPointCount.partner_name)
    ).all()
    return [(day, partner, count) for day, partner, count in rows]
