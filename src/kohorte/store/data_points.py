"""Data point counters: applied cohort adds and removes per workspace, partner and UTC day."""

from datetime import date

from sqlalchemy.orm import Session

from kohorte.store.dialect import dialect_insert
from kohorte.store.models import DataPointCount


def add_data_points(
    session: Session, workspace_id: str, partner_name: str, day: date, count: int
) -> None:
    """Add ``count`` to the day's counter in one atomic upsert (concurrent syncs add up)."""
    statement = dialect_insert(session, DataPointCount).values(
        workspace_id=workspace_id, partner_name=partner_name, day=day, count=count
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["workspace_id", "partner_name", "day"],
            set_={"count": DataPointCount.__table__.c.count + statement.excluded.count},
        )
    )
