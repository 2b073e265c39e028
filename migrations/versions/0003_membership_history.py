"""membership history: what caused each stay to begin

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 06:10:00.000000

A stay's entered event is caused by a partner's sync (0) or by a merge that gave the kept user
the merged user's membership (1). Existing stays were all opened by syncs or merges before
causes were kept; they count as syncs. A left event always comes from a sync. Once history is pruned, the horizon
records before when closed stays may be gone.
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
    op.create_table(
        "history_horizon",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("pruned_before", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history_horizon")),
    )


def downgrade() -> None:
    op.drop_table("history_horizon")
    with op.batch_alter_table("cohort_memberships", schema=None) as batch_op:
        batch_op.drop_column("cause")
