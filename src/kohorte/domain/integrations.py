"""A workspace's partner integrations and the data import keys that enable them."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kohorte.domain.errors import NotFound
from kohorte.domain.keys import KeyKind, fixed_key, issue_key
from kohorte.domain.partners import require_partner
from kohorte.store import integrations as store
from kohorte.store import partners as partner_store
from kohorte.store.models import DataImportKey
from kohorte.store.types import utcnow


@dataclass(frozen=True)
class IntegrationStatus:
    partner: str
    display_name: str
    live_keys: int

    @property
    def enabled(self) -> bool:
        return self.live_keys > 0


@dataclass(frozen=True)
class IssuedDataImportKey:
    record: DataImportKey
    plaintext: str


def list_integrations(session: Session, workspace_id: str) -> list[IntegrationStatus]:
    live = store.count_live_keys_by_partner(session, workspace_id)
    return [
        IntegrationStatus(partner.name, partner.display_name, live.get(partner.name, 0))
        for partner in partner_store.list_partners(session)
    ]


def issue_data_import_key(
    session: Session, workspace_id: str, partner_name: str, key: str | None = None
) -> IssuedDataImportKey:
    """A new data import key; generated unless ``key`` gives its value (a seed file's)."""
    require_partner(session, partner_name)
    issued = issue_key(KeyKind.DATA_IMPORT_KEY) if key is None else fixed_key(key, "key")
    record = store.add_data_import_key(
        session, workspace_id, partner_name, issued.prefix, issued.digest
    )
    return IssuedDataImportKey(record, issued.plaintext)


def list_data_import_keys(
    session: Session, workspace_id: str, partner_name: str
) -> Sequence[DataImportKey]:
    require_partner(session, partner_name)
    return store.list_data_import_keys(session, workspace_id, partner_name)


def invalidate_data_import_key(
    session: Session, workspace_id: str, partner_name: str, key_id: str
) -> None:
    require_partner(session, partner_name)
    if not store.invalidate_data_import_key(session, workspace_id, partner_name, key_id, utcnow()):
        raise NotFound(f"Data import key '{key_id}' not found or already invalidated")
