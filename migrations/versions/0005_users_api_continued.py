"""users API, continued: standard profile fields, deprecated external ids, event and purchase
summaries, segment exports

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 17:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
WORKSPACE_ID = sa.String(length=64).with_variant(sa.String(length=36), "sqlite")
RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column("profile", JSON, nullable=False, server_default=sa.text("'{}'"))
        )
    op.create_table(
        "deprecated_external_ids",
        sa.Column("workspace_id", WORKSPACE_ID, nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_deprecated_external_ids_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_deprecated_external_ids_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "external_id", name=op.f("pk_deprecated_external_ids")
        ),
    )
    op.create_index("ix_deprecated_external_ids_user_id", "deprecated_external_ids", ["user_id"])
    op.create_table(
        "user_event_summaries",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_event_summaries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "kind", "name", name=op.f("pk_user_event_summaries")),
    )
    op.create_table(
        "segment_exports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", WORKSPACE_ID, nullable=False),
        sa.Column("segment_id", WORKSPACE_ID, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("object_prefix", sa.Text(), nullable=False),
        sa.Column("fields", JSON, nullable=False),
        sa.Column("output_format", sa.String(length=8), nullable=False),
        sa.Column("callback_endpoint", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("file_name", sa.Text(), nullable=True),
        sa.Column("users_exported", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("detail", JSON, nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_segment_exports_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_exports")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_segment_exports_token_hash")),
    )
    op.create_index("ix_segment_exports_workspace_id", "segment_exports", ["workspace_id"])
    op.create_index(
        "uq_segment_exports_running",
        "segment_exports",
        ["workspace_id", "segment_id"],
        unique=True,
        postgresql_where=RUNNING,
        sqlite_where=RUNNING,
    )


def downgrade() -> None:
    op.drop_index("uq_segment_exports_running", table_name="segment_exports")
    op.drop_index("ix_segment_exports_workspace_id", table_name="segment_exports")
    op.drop_table("segment_exports")
    op.drop_table("user_event_summaries")
    op.drop_index("ix_deprecated_external_ids_user_id", table_name="deprecated_external_ids")
    op.drop_table("deprecated_external_ids")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("profile")
