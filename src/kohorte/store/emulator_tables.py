"""Tables of the emulator controls: the request journal, unmatched identifiers, faults.

None of them has a foreign key to the workspace: they are written beside (the journal: after)
the request's own transaction, and a workspace's deletion or reset removes its rows itself.
"""

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kohorte.store.models import Base
from kohorte.store.types import BigIntId, UTCDateTime, utcnow


class JournalEntry(Base):
    """One partner request and its answer, secrets masked; ids grow with arrival."""

    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    partner: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(Text)
    workspace_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cohort_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[int] = mapped_column(SmallInteger)
    # JSON text as sent and answered (masked), not a JSON column: kept byte for byte, and
    # the hot path pays no parse into a binary form.
    request_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    request_truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    response_json: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_journal_entries_workspace_id_id", "workspace_id", "id"),)


class UnmatchedIdentifier(Base):
    """An identifier that partner syncs of a cohort sent and that matched no user.

    ``kind``: 0 external id, 1 device id, 2 alias (``label`` is the alias label; empty for the
    other kinds). ``reason`` is the code of why it matched nobody when last seen.
    """

    __tablename__ = "unmatched_identifiers"

    cohort_pk: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    label: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[str] = mapped_column(Text, primary_key=True)
    reason: Mapped[int] = mapped_column(SmallInteger)
    count: Mapped[int] = mapped_column(Integer)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        # Most recently seen first (the list), least recently seen first (the bound); ties of
        # one instant in key order, so neither sorts the cohort's ledger.
        Index(
            "ix_unmatched_identifiers_cohort_pk_last_seen_at",
            "cohort_pk",
            "last_seen_at",
            "kind",
            "label",
            "value",
        ),
    )


class Fault(Base):
    """A fault injected on demand: the next ``remaining`` matching partner requests wait
    ``delay_ms``, then get ``status`` (when set) instead of being applied."""

    __tablename__ = "faults"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    partner: Mapped[str | None] = mapped_column(Text, nullable=True)
    cohort_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    remaining: Mapped[int] = mapped_column(Integer)
    delay_ms: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
