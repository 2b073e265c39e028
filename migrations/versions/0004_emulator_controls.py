"""emulator controls: request journal, unmatched identifiers, faults; 64-character fixed ids

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 14:05:00.000000

Seed files give workspaces and segments ids of their own, up to 64 characters. PostgreSQL's
columns are widened (varchar to a longer varchar rewrites nothing); SQLite never enforces a
length, so its tables are left as they are.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WORKSPACE_ID_COLUMNS = (
    ("workspaces", "id"),
    ("segments", "id"),
    *(
        (table, "workspace_id")
        for table in (
            "rest_api_keys",
            "data_import_keys",
            "users",
            "user_aliases",
            "user_devices",
            "cohorts",
            "data_point_counts",
            "segments",
        )
    ),
)


def upgrade() -> None:
    _resize_ids(64)
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partner", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=True),
        sa.Column("cohort_id", sa.Text(), nullable=True),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("request_json", sa.Text(), nullable=True),
        sa.Column("request_truncated", sa.Boolean(), nullable=False),
        sa.Column("response_json", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
    )
    op.create_index("ix_journal_entries_workspace_id_id", "journal_entries", ["workspace_id", "id"])
    op.create_table(
        "unmatched_identifiers",
        sa.Column("cohort_pk", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("reason", sa.SmallInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "cohort_pk", "kind", "label", "value", name=op.f("pk_unmatched_identifiers")
        ),
    )
    op.create_index(
        "ix_unmatched_identifiers_cohort_pk_last_seen_at",
        "unmatched_identifiers",
        # With the key columns after the time, the list's pages and the bound's cut-off walk
        # the index in the order they need instead of sorting a cohort's ledger.
        ["cohort_pk", "last_seen_at", "kind", "label", "value"],
    )
    op.create_table(
        "faults",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("partner", sa.Text(), nullable=True),
        sa.Column("cohort_id", sa.Text(), nullable=True),
        sa.Column("status", sa.SmallInteger(), nullable=True),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("delay_ms", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faults")),
    )


def downgrade() -> None:
    op.drop_table("faults")
    op.drop_index(
        "ix_unmatched_identifiers_cohort_pk_last_seen_at", table_name="unmatched_identifiers"
    )
    op.drop_table("unmatched_identifiers")
    op.drop_index("ix_journal_entries_workspace_id_id", table_name="journal_entries")
    op.drop_table("journal_entries")
    _resize_ids(36)


def _resize_ids(length: int) -> None:
    # Going back to 36 fails loudly if a longer fixed id exists, rather than cutting it.
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in WORKSPACE_ID_COLUMNS:
        op.alter_column(table, column, type_=sa.String(length=length))
