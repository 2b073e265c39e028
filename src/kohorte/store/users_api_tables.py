"""Tables of the rest of the users API: deprecated external ids, event and purchase summaries,
and segment exports. Created by migration 0005; registered on ``Base.metadata`` by models.py."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from kohorte.store.models import Base, ClientChosenId, new_uuid
from kohorte.store.types import JsonDocument, UTCDateTime, utcnow

RUNNING = text("status = 'running'")


class DeprecatedExternalId(Base):
    """An external id a user was renamed away from: it still addresses that user until removed,
    and counts as taken for every other user of the workspace."""

    __tablename__ = "deprecated_external_ids"

    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    external_id: Mapped[str] = mapped_column(Text, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserEventSummary(Base):
    """Custom events (kind 0) and purchases (kind 1, the product id as name) of a user, kept
    as Braze's export shows them: first and last time and a count, not every occurrence."""

    __tablename__ = "user_event_summaries"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer)


class SegmentExport(Base):
    """One ``/users/export/segment`` run. The download link carries a random token of which
    only the hash is kept; at most one export of a segment runs at a time (partial unique
    index), and a running export whose ``heartbeat_at`` went stale belonged to a dead worker."""

    __tablename__ = "segment_exports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    segment_id: Mapped[str] = mapped_column(ClientChosenId)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    object_prefix: Mapped[str] = mapped_column(Text)
    fields: Mapped[list[str]] = mapped_column(JsonDocument)
    output_format: Mapped[str] = mapped_column(String(8))
    callback_endpoint: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # running, complete or failed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    file_name: Mapped[str | None] = mapped_column(Text, nullable=True)
    users_exported: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument, nullable=True)

    __table_args__ = (
        Index(
            "uq_segment_exports_running",
            "workspace_id",
            "segment_id",
            unique=True,
            postgresql_where=RUNNING,
            sqlite_where=RUNNING,
        ),
    )
