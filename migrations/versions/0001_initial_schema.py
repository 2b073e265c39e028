"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 13:54:11.049648
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "instance_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_instance_secrets")),
    )
    op.create_table(
        "partners",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_partners")),
    )
    op.create_table(
        "workspaces",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspaces")),
    )
    op.create_table(
        "cohorts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("partner_name", sa.String(length=64), nullable=False),
        sa.Column("cohort_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_name"],
            ["partners.name"],
            name=op.f("fk_cohorts_partner_name_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_cohorts_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohorts")),
        sa.UniqueConstraint(
            "workspace_id",
            "partner_name",
            "cohort_id",
            name=op.f("uq_cohorts_workspace_id_partner_name_cohort_id"),
        ),
    )
    op.create_table(
        "data_import_keys",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("partner_name", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("invalidated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_name"],
            ["partners.name"],
            name=op.f("fk_data_import_keys_partner_name_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_data_import_keys_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_import_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_data_import_keys_key_hash")),
    )
    with op.batch_alter_table("data_import_keys", schema=None) as batch_op:
        batch_op.create_index(
            "ix_data_import_keys_workspace_partner", ["workspace_id", "partner_name"], unique=False
        )

    op.create_table(
        "data_point_counts",
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("partner_name", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_name"],
            ["partners.name"],
            name=op.f("fk_data_point_counts_partner_name_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_data_point_counts_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "partner_name", "day", name=op.f("pk_data_point_counts")
        ),
    )
    op.create_table(
        "partner_api_keys",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("partner_name", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_name"],
            ["partners.name"],
            name=op.f("fk_partner_api_keys_partner_name_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_partner_api_keys_key_hash")),
    )
    with op.batch_alter_table("partner_api_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partner_api_keys_partner_name"), ["partner_name"], unique=False
        )

    op.create_table(
        "rest_api_keys",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "permissions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_rest_api_keys_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rest_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_rest_api_keys_key_hash")),
    )
    with op.batch_alter_table("rest_api_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rest_api_keys_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "segments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "filter",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("analytics_tracking_enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_segments_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
    )
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_segments_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "users",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column("braze_id", sa.String(length=32), nullable=False),
        sa.Column(
            "custom_attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_users_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("braze_id", name=op.f("uq_users_braze_id")),
        sa.UniqueConstraint(
            "workspace_id", "external_id", name=op.f("uq_users_workspace_id_external_id")
        ),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index("ix_users_workspace_id_id", ["workspace_id", "id"], unique=False)

    op.create_table(
        "cohort_memberships",
        sa.Column(
            "cohort_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
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
    with op.batch_alter_table("cohort_memberships", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cohort_memberships_user_cohort", ["user_id", "cohort_pk"], unique=False
        )

    op.create_table(
        "cohort_syncs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "cohort_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("unmatched", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_pk"],
            ["cohorts.id"],
            name=op.f("fk_cohort_syncs_cohort_pk_cohorts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort_syncs")),
    )
    with op.batch_alter_table("cohort_syncs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cohort_syncs_cohort_received", ["cohort_pk", "received_at"], unique=False
        )

    op.create_table(
        "rate_limit_windows",
        sa.Column("key_id", sa.String(length=36), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["data_import_keys.id"],
            name=op.f("fk_rate_limit_windows_key_id_data_import_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key_id", "window_start", name=op.f("pk_rate_limit_windows")),
    )
    op.create_table(
        "user_aliases",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("alias_label", sa.Text(), nullable=False),
        sa.Column("alias_name", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_aliases_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_user_aliases_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_aliases")),
        sa.UniqueConstraint(
            "user_id", "alias_label", name=op.f("uq_user_aliases_user_id_alias_label")
        ),
        sa.UniqueConstraint(
            "workspace_id",
            "alias_label",
            "alias_name",
            name=op.f("uq_user_aliases_workspace_id_alias_label_alias_name"),
        ),
    )
    op.create_table(
        "user_devices",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("device_id", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_devices_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_user_devices_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_devices")),
        sa.UniqueConstraint(
            "workspace_id", "device_id", name=op.f("uq_user_devices_workspace_id_device_id")
        ),
    )
    with op.batch_alter_table("user_devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_devices_user_id"), ["user_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("user_devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_devices_user_id"))

    op.drop_table("user_devices")
    op.drop_table("user_aliases")
    op.drop_table("rate_limit_windows")
    with op.batch_alter_table("cohort_syncs", schema=None) as batch_op:
        batch_op.drop_index("ix_cohort_syncs_cohort_received")

    op.drop_table("cohort_syncs")
    with op.batch_alter_table("cohort_memberships", schema=None) as batch_op:
        batch_op.drop_index("ix_cohort_memberships_user_cohort")

    op.drop_table("cohort_memberships")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_workspace_id_id")

    op.drop_table("users")
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_segments_workspace_id"))

    op.drop_table("segments")
    with op.batch_alter_table("rest_api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rest_api_keys_workspace_id"))

    op.drop_table("rest_api_keys")
    with op.batch_alter_table("partner_api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_api_keys_partner_name"))

    op.drop_table("partner_api_keys")
    op.drop_table("data_point_counts")
    with op.batch_alter_table("data_import_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_data_import_keys_workspace_partner")

    op.drop_table("data_import_keys")
    op.drop_table("cohorts")
    op.drop_table("workspaces")
    op.drop_table("partners")
    op.drop_table("instance_secrets")
