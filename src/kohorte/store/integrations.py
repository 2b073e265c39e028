"""Data import keys: a workspace's client secrets for its partners' integrations."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kohorte.store.models import DataImportKey


def add_data_import_key(
    session: Session, workspace_id: str, partner_name: str, prefix: str, digest: str
) -> DataImportKey:
    key = DataImportKey(
        workspace_id=workspace_id, partner_name=partner_name, prefix=prefix, key_hash=digest
    )
    session.add(key)
    session.flush()
    return key


def list_data_import_keys(
    session: Session, workspace_id: str, partner_name: str
) -> Sequence[DataImportKey]:
    return session.scalars(
        select(DataImportKey)
        .where(
            DataImportKey.workspace_id == workspace_id,
            DataImportKey.partner_name == partner_name,
        )
        .order_by(DataImportKey.created_at, DataImportKey.id)
    ).all()


def count_live_keys_by_partner(session: Session, workspace_id: str) -> dict[str, int]:
    rows = session.execute(
        select(DataImportKey.partner_name, func.count())
        .where(DataImportKey.workspace_id == workspace_id, DataImportKey.invalidated_at.is_(None))
        .group_by(DataImportKey.partner_name)
    )
    return {partner: count for partner, count in rows.all()}  # noqa: C416


def invalidate_data_import_key(
    session: Session, workspace_id: str, partner_name: str, key_id: str, now: datetime
) -> bool:
    result = session.execute(
        update(DataImportKey)
        .where(
            DataImportKey.workspace_id == workspace_id,
            DataImportKey.partner_name == partner_name,
            DataImportKey.id == key_id,
            DataImportKey.invalidated_at.is_(None),
        )
        .values(invalidated_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def find_live_data_import_key(session: Session, digest: str) -> DataImportKey | None:
    return session.scalar(
        select(DataImportKey).where(
            DataImportKey.key_hash == digest, DataImportKey.invalidated_at.is_(None)
        )
    )


def touch_data_import_key(session: Session, key_id: str, now: datetime) -> None:
    session.execute(
        update(DataImportKey).where(DataImportKey.id == key_id).values(last_used_at=now)
    )
