"""memberships as stays, counters folded from deltas, no foreign keys on the sync tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 03:40:00.000000

A membership becomes a stay (entered_at, left_at): a remove closes it instead of deleting the
row, so the table keeps the history. Cohort sizes and data points are no longer counters that
every sync updates: syncs insert counter deltas, which reads add to the folded counters. The
tables every sync writes lose their foreign keys (their checks locked the user and cohort rows).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CURRENT = sa.text("left_at IS NULL")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    _memberships_as_stays()
    _counter_deltas()
    with op.batch_alter_table("cohort_syncs", schema=None) as batch_op:
        batch_op.drop_constraint("fk_cohort_syncs_cohort_pk_cohorts", type_="foreignkey")
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.alter_column("size", new_column_name="folded_size")
        batch_op.drop_column("last_synced_at")


def _memberships_as_stays() -> None:
    op.drop_index("ix_cohort_memberships_user_cohort", table_name="cohort_memberships")
    op.rename_table("cohort_memberships", "cohort_memberships_0001")
    if op.get_bind().dialect.name == "postgresql":
        # Index names are global in PostgreSQL; the new table's primary key takes this one.
        op.execute(
            "ALTER TABLE cohort_memberships_0001 "
            "RENAME CONSTRAINT pk_cohort_memberships TO pk_cohort_memberships_0001"
        )
    op.create_table(
        "cohort_memberships",
        sa.Column("cohort_pk", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint(
            "cohort_pk", "user_id", "entered_at", name=op.f("pk_cohort_memberships")
        ),
    )
    op.execute(
        "INSERT INTO cohort_memberships (cohort_pk, user_id, entered_at) "
        "SELECT cohort_pk, user_id, added_at FROM cohort_memberships_0001"
    )
    op.drop_table("cohort_memberships_0001")
    op.create_index(
        "uq_cohort_memberships_current",
        "cohort_memberships",
        ["cohort_pk", "user_id"],
        unique=True,
        postgresql_where=CURRENT,
        sqlite_where=CURRENT,
    )
    op.create_index(
        "ix_cohort_memberships_user_cohort", "cohort_memberships", ["user_id", "cohort_pk"]
    )


def _counter_deltas() -> None:
    op.create_table(
        "cohort_counter_deltas",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("cohort_pk", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("data_points", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort_counter_deltas")),
    )
    op.create_index(
        op.f("ix_cohort_counter_deltas_cohort_pk"), "cohort_counter_deltas", ["cohort_pk"]
    )


def downgrade() -> None:
    _fold_deltas_for_downgrade()
    op.drop_index(op.f("ix_cohort_counter_deltas_cohort_pk"), table_name="cohort_counter_deltas")
    op.drop_table("cohort_counter_deltas")
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.alter_column("folded_size", new_column_name="size")
        batch_op.add_column(sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE cohorts SET last_synced_at = (SELECT max(received_at) FROM cohort_syncs "
        "WHERE cohort_syncs.cohort_pk = cohorts.id)"
    )
    op.execute("DELETE FROM cohort_syncs WHERE cohort_pk NOT IN (SELECT id FROM cohorts)")
    with op.batch_alter_table("cohort_syncs", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_cohort_syncs_cohort_pk_cohorts",
            "cohorts",
            ["cohort_pk"],
            ["id"],
            ondelete="CASCADE",
        )
    _memberships_without_history()
    # Stays of users or cohorts gone (no foreign key kept them out) were not copied back.
    op.execute(
        "UPDATE cohorts SET size = (SELECT count(*) FROM cohort_memberships m "
        "WHERE m.cohort_pk = cohorts.id)"
    )


def _fold_deltas_for_downgrade() -> None:
    op.execute(
        "UPDATE cohorts SET folded_size = folded_size + COALESCE((SELECT sum(members) "
        "FROM cohort_counter_deltas WHERE cohort_counter_deltas.cohort_pk = cohorts.id), 0)"
    )
    op.execute(
        "INSERT INTO data_point_counts (workspace_id, partner_name, day, count) "
        "SELECT c.workspace_id, c.partner_name, d.day, sum(d.data_points) "
        "FROM cohort_counter_deltas d JOIN cohorts c ON c.id = d.cohort_pk "
        "GROUP BY c.workspace_id, c.partner_name, d.day HAVING sum(d.data_points) > 0 "
        "ON CONFLICT (workspace_id, partner_name, day) "
        "DO UPDATE SET count = data_point_counts.count + excluded.count"
    )


def _memberships_without_history() -> None:
    op.drop_index("ix_cohort_memberships_user_cohort", table_name="cohort_memberships")
    op.drop_index("uq_cohort_memberships_current", table_name="cohort_memberships")
    op.rename_table("cohort_memberships", "cohort_memberships_0002")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE cohort_memberships_0002 "
            "RENAME CONSTRAINT pk_cohort_memberships TO pk_cohort_memberships_0002"
        )
    op.create_table(
        "cohort_memberships",
        sa.Column("cohort_pk", BIG_ID, nullable=False),
        sa.Column("user_id", BIG_ID, nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_pk"],
            ["cohorts.id"],
            name=op.f("fk_cohort_memberships_cohort_pk_cohorts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_cohort_memberships_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("cohort_pk", "user_id", name=op.f("pk_cohort_memberships")),
    )
    op.execute(
        "INSERT INTO cohort_memberships (cohort_pk, user_id, added_at) "
        "SELECT m.cohort_pk, m.user_id, m.entered_at FROM cohort_memberships_0002 m "
        "WHERE m.left_at IS NULL AND m.cohort_pk IN (SELECT id FROM cohorts) "
        "AND m.user_id IN (SELECT id FROM users)"
    )
    op.drop_table("cohort_memberships_0002")
    op.create_index(
        "ix_cohort_memberships_user_cohort", "cohort_memberships", ["user_id", "cohort_pk"]
    )
