"""Cohort sizes and data points, kept without a counter row that every sync must update.

Each write that changes memberships inserts one delta row per cohort and day it touched (members
gained or lost, data points spent, events entered and exited). Reads add the pending deltas to
the folded counters (``cohorts.folded_size``, ``data_point_counts``, ``cohort_days``); ``fold``
moves deltas into them now and then. A fold is one atomic statement on PostgreSQL, and runs
under the write lock on SQLite, so a delta is counted exactly once: pending or folded.
"""

from collections.abc import Iterable
from datetime import date
from typing import NamedTuple

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from kohorte.store.dialect import is_postgresql
from kohorte.store.models import CohortCounterDelta


class Delta(NamedTuple):
    """What a write changed in one cohort's counters on one UTC day."""

    cohort_pk: int
    day: date
    members: int = 0  # gained; negative when lost
    data_points: int = 0
    entered: int = 0  # events of that day; negative when a removed user's events go
    exited: int = 0


# Only one fold at a time: two would lock the same cohort rows in different orders.
FOLD_LOCK = 0x6B6F686F72746501

PG_FOLD = text(
    """
    WITH folding AS (
        DELETE FROM cohort_counter_deltas
        RETURNING cohort_pk, day, members, data_points, entered, exited
    ), days AS (
        INSERT INTO cohort_days (cohort_pk, day, entered, exited)
        SELECT cohort_pk, day, sum(entered), sum(exited) FROM folding GROUP BY cohort_pk, day
        HAVING sum(entered) <> 0 OR sum(exited) <> 0
        ON CONFLICT (cohort_pk, day) DO UPDATE
        SET entered = cohort_days.entered + excluded.entered,
            exited = cohort_days.exited + excluded.exited
    ), sizes AS (
        UPDATE cohorts SET folded_size = cohorts.folded_size + gained.members
        FROM (SELECT cohort_pk, sum(members) AS members FROM folding GROUP BY cohort_pk) gained
        WHERE cohorts.id = gained.cohort_pk AND gained.members <> 0
    )
    INSERT INTO data_point_counts (workspace_id, partner_name, day, count)
    SELECT c.workspace_id, c.partner_name, f.day, sum(f.data_points)
    FROM folding f JOIN cohorts c ON c.id = f.cohort_pk
    GROUP BY c.workspace_id, c.partner_name, f.day HAVING sum(f.data_points) > 0
    ON CONFLICT (workspace_id, partner_name, day)
    DO UPDATE SET count = data_point_counts.count + excluded.count
    """
)

SQLITE_FOLD = [
    text(
        "UPDATE cohorts SET folded_size = folded_size + (SELECT sum(members) "
        "FROM cohort_counter_deltas d WHERE d.cohort_pk = cohorts.id) "
        "WHERE id IN (SELECT cohort_pk FROM cohort_counter_deltas)"
    ),
    text(
        "INSERT INTO data_point_counts (workspace_id, partner_name, day, count) "
        "SELECT c.workspace_id, c.partner_name, d.day, sum(d.data_points) "
        "FROM cohort_counter_deltas d JOIN cohorts c ON c.id = d.cohort_pk "
        "GROUP BY c.workspace_id, c.partner_name, d.day HAVING sum(d.data_points) > 0 "
        "ON CONFLICT (workspace_id, partner_name, day) "
        "DO UPDATE SET count = data_point_counts.count + excluded.count"
    ),
    text(
        "INSERT INTO cohort_days (cohort_pk, day, entered, exited) "
        "SELECT cohort_pk, day, sum(entered), sum(exited) FROM cohort_counter_deltas "
        "WHERE true GROUP BY cohort_pk, day HAVING sum(entered) <> 0 OR sum(exited) <> 0 "
        "ON CONFLICT (cohort_pk, day) DO UPDATE "
        "SET entered = cohort_days.entered + excluded.entered, "
        "exited = cohort_days.exited + excluded.exited"
    ),
    text("DELETE FROM cohort_counter_deltas"),
]


def hold_folds(session: Session) -> None:
    """Keep folds out until the transaction ends: for writers that delete delta rows (a fold
    deletes them all, in another order, and the two would deadlock)."""
    if is_postgresql(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FOLD_LOCK})


def record(session: Session, deltas: Iterable[Delta]) -> None:
    rows = [delta._asdict() for delta in deltas if any(delta[2:])]
    if rows:
        session.execute(insert(CohortCounterDelta), rows)


def fold(session: Session) -> bool:
    """Move the pending deltas into the counters; False when another fold is running."""
    if is_postgresql(session):
        taken = session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": FOLD_LOCK})
        if not taken:
            return False
        session.execute(PG_FOLD)
        return True
    for statement in SQLITE_FOLD:
        session.execute(statement)
    return True
