"""membership history: what caused each stay to begin

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 06:10:00.000000

A stay's entered event is caused by a partner's sync (0) or by a merge that gave the kept user
the merged user's membership (1). Existing stays were all opened by syncs or merges before
causes were kept; they count as syncs. A left event always comes from a sync. Events are also counted per cohort
and day (``cohort_days``, fed through the counter deltas like sizes), counted here from the
existing stays. Once history is pruned, the horizon records before when closed stays may be gone.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cohort_memberships", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cause", sa.SmallInteger(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("cohort_counter_deltas", schema=None) as batch_op:
        for name in ("entered", "exited"):
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "cohort_days",
        sa.Column("cohort_pk", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("entered", sa.Integer(), nullable=False),
        sa.Column("exited", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("cohort_pk", "day", name=op.f("pk_cohort_days")),
    )
    _count_days_of_existing_stays()
    op.create_table(
        "history_horizon",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("pruned_before", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history_horizon")),
    )


COUNT_DAYS = (
    "INSERT INTO cohort_days (cohort_pk, day, entered, exited) "
    "SELECT cohort_pk, day, sum(came), sum(went) FROM ("
    "SELECT cohort_pk, {entered_day} AS day, 1 AS came, 0 AS went FROM cohort_memberships "
    "UNION ALL SELECT cohort_pk, {left_day}, 0, 1 FROM cohort_memberships "
    "WHERE left_at IS NOT NULL) events GROUP BY cohort_pk, day"
)
DAY_OF = {
    "postgresql": ("(entered_at AT TIME ZONE 'UTC')::date", "(left_at AT TIME ZONE 'UTC')::date"),
    "sqlite": ("date(entered_at)", "date(left_at)"),
}


def _count_days_of_existing_stays() -> None:
    entered_day, left_day = DAY_OF[op.get_bind().dialect.name]
    op.execute(COUNT_DAYS.format(entered_day=entered_day, left_day=left_day))


def downgrade() -> None:
    op.drop_table("history_horizon")
    op.drop_table("cohort_days")
    with op.batch_alter_table("cohort_counter_deltas", schema=None) as batch_op:
        batch_op.drop_column("exited")
        batch_op.drop_column("entered")
    with op.batch_alter_table("cohort_memberships", schema=None) as batch_op:
        batch_op.drop_column("cause")
