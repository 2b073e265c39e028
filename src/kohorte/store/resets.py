"""Emptying the whole store for ``POST /admin/reset``: every table but the instance's secrets.

Deletes, not a re-migration or TRUNCATE: a small store empties in milliseconds, and no
ACCESS EXCLUSIVE lock waits on a long read elsewhere. Tables are taken from the metadata, so
tables added later are emptied too unless listed as kept here.
"""

from sqlalchemy import delete
from sqlalchemy.orm import Session

from kohorte.store import cohort_counters
from kohorte.store.models import Base, InstanceSecret

# The generated admin token lives here: a reset must leave the caller's credentials valid.
KEPT_TABLES = frozenset({InstanceSecret.__tablename__})


def clear_instance(session: Session) -> None:
    cohort_counters.hold_folds(session)
    for table in reversed(Base.metadata.sorted_tables):  # children before parents
        if table.name not in KEPT_TABLES:
            session.execute(delete(table))
