"""Tables. One Alembic history (migrations/) creates them; tests check both stay in sync."""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column

from kohorte.store.types import BigIntId, JsonDocument, UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_uuid() -> str:
    return str(uuid.uuid4())


# Fixed ids (seed files) are up to 64 characters. SQLite's tables were created with 36 and it
# never enforces a length, so only PostgreSQL's columns were widened (migration 0004).
ClientChosenId = String(64).with_variant(String(36), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class InstanceSecret(Base):
    """Instance-wide secrets kept as hashes, e.g. the generated admin token."""

    __tablename__ = "instance_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(ClientChosenId, primary_key=True, default=new_uuid)
    name: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RestApiKey(Base):
    __tablename__ = "rest_api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(Text)
    prefix: Mapped[str] = mapped_column(String(32))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    permissions: Mapped[list[str] | None] = mapped_column(JsonDocument, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Partner(Base):
    __tablename__ = "partners"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PartnerApiKey(Base):
    __tablename__ = "partner_api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    partner_name: Mapped[str] = mapped_column(
        ForeignKey("partners.name", ondelete="CASCADE"), index=True
    )
    prefix: Mapped[str] = mapped_column(String(32))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class DataImportKey(Base):
    """A workspace's client secret for one partner's integration."""

    __tablename__ = "data_import_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    partner_name: Mapped[str] = mapped_column(ForeignKey("partners.name", ondelete="CASCADE"))
    prefix: Mapped[str] = mapped_column(String(32))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    invalidated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        Index("ix_data_import_keys_workspace_partner", "workspace_id", "partner_name"),
    )


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    external_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    braze_id: Mapped[str] = mapped_column(String(32), unique=True)
    custom_attributes: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    # Braze's standard profile fields (first_name, email, …), kept apart from custom attributes.
    profile: Mapped[dict[str, Any]] = mapped_column(
        JsonDocument, default=dict, server_default=text("'{}'")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("workspace_id", "external_id"),
        # Keyset walks over a workspace's users (segments with excludes_value) go by id.
        Index("ix_users_workspace_id_id", "workspace_id", "id"),
    )


class UserAlias(Base):
    __tablename__ = "user_aliases"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    alias_label: Mapped[str] = mapped_column(Text)
    alias_name: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("workspace_id", "alias_label", "alias_name"),
        UniqueConstraint("user_id", "alias_label"),
    )


class UserDevice(Base):
    __tablename__ = "user_devices"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("workspace_id", "device_id"),)


class CohortSync(Base):
    """One accepted, non-empty change request to a cohort: the per-request sync log."""

    __tablename__ = "cohort_syncs"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    # No foreign key on the tables every sync writes (see docs/architecture.md): a key check
    # would lock the cohort row in every request. Workspace deletion removes these rows.
    cohort_pk: Mapped[int] = mapped_column(BigIntId)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    added: Mapped[int] = mapped_column(Integer)
    removed: Mapped[int] = mapped_column(Integer)
    unmatched: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_cohort_syncs_cohort_received", "cohort_pk", "received_at"),)


class CohortCounterDelta(Base):
    """What one write changed in a cohort's counters, not yet folded into them.

    Writers only insert these rows, so concurrent syncs of a cohort never wait on a shared
    counter row; reads add the pending deltas to the folded counters, and a periodic fold
    moves them into ``cohorts.folded_size`` and ``data_point_counts``.
    """

    __tablename__ = "cohort_counter_deltas"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    cohort_pk: Mapped[int] = mapped_column(BigInteger, index=True)
    day: Mapped[date] = mapped_column(Date)
    members: Mapped[int] = mapped_column(Integer)
    data_points: Mapped[int] = mapped_column(Integer)
    # Membership events on ``day`` (negative: a deleted or merged-away user's events going).
    entered: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    exited: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class CohortDay(Base):
    """Folded membership events of a cohort per UTC day: what ``/cohorts/…/history`` reads,
    so a year of days costs a year of rows, not a scan of every stay. No foreign key, like the
    other tables the sync path feeds."""

    __tablename__ = "cohort_days"

    cohort_pk: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    entered: Mapped[int] = mapped_column(Integer)
    exited: Mapped[int] = mapped_column(Integer)


class Cohort(Base):
    __tablename__ = "cohorts"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    partner_name: Mapped[str] = mapped_column(ForeignKey("partners.name", ondelete="CASCADE"))
    cohort_id: Mapped[str] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The member count as of the last fold; ``size`` adds the deltas written since.
    folded_size: Mapped[int] = mapped_column(Integer, default=0)

    # Derived on read from what syncs write anyway, so no sync updates the cohort row.
    size: Mapped[int] = column_property(
        folded_size
        + select(func.coalesce(func.sum(CohortCounterDelta.members), 0))
        .where(CohortCounterDelta.cohort_pk == id)
        .correlate_except(CohortCounterDelta)
        .scalar_subquery()
    )
    last_synced_at: Mapped[datetime | None] = column_property(
        select(func.max(CohortSync.received_at))
        .where(CohortSync.cohort_pk == id)
        .correlate_except(CohortSync)
        .scalar_subquery()
    )

    __table_args__ = (UniqueConstraint("workspace_id", "partner_name", "cohort_id"),)


CURRENT = text("left_at IS NULL")


class CohortMembership(Base):
    """One stay of a user in a cohort: from ``entered_at`` until ``left_at`` (null: still in).

    A remove closes the stay instead of deleting the row, so the table is also the membership
    history. The current members are the open stays, which one partial unique index serves
    (member walks, ON CONFLICT of adds, segment probes). No foreign keys: their checks would
    lock every added user's row and the cohort row in every sync; deletes of users, merges and
    workspace deletion remove memberships themselves.
    """

    __tablename__ = "cohort_memberships"

    cohort_pk: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # What opened the stay (see ``StayCause``); a stay is always closed by a partner's sync.
    cause: Mapped[int] = mapped_column(SmallInteger, server_default="0")

    __table_args__ = (
        Index(
            "uq_cohort_memberships_current",
            "cohort_pk",
            "user_id",
            unique=True,
            postgresql_where=CURRENT,
            sqlite_where=CURRENT,
        ),
        # "Cohorts of a user" (exports, merges, deletes, NOT EXISTS in segments).
        Index("ix_cohort_memberships_user_cohort", "user_id", "cohort_pk"),
    )


class HistoryHorizon(Base):
    """One row (id 1) once history was pruned: closed stays that ended before ``pruned_before``
    are gone, so no read may ask about a time before it."""

    __tablename__ = "history_horizon"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    pruned_before: Mapped[datetime] = mapped_column(UTCDateTime)


class DataPointCount(Base):
    """Applied adds and removes, per workspace, partner and UTC day."""

    __tablename__ = "data_point_counts"

    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    partner_name: Mapped[str] = mapped_column(
        ForeignKey("partners.name", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class RateLimitWindow(Base):
    """Requests counted per data import key and fixed one-hour window, shared by all workers."""

    __tablename__ = "rate_limit_windows"

    key_id: Mapped[str] = mapped_column(
        ForeignKey("data_import_keys.id", ondelete="CASCADE"), primary_key=True
    )
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class Segment(Base):
    __tablename__ = "segments"

    id: Mapped[str] = mapped_column(ClientChosenId, primary_key=True, default=new_uuid)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(Text)
    filter: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    analytics_tracking_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# The emulator controls' tables live in a module of their own; importing it here registers them
# on ``Base.metadata`` for migrations and tests.
from kohorte.store import emulator_tables as _emulator_tables  # noqa: E402, F401
from kohorte.store import users_api_tables as _users_api_tables  # noqa: E402, F401
