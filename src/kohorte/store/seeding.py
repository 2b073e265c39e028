"""Lookups the seed file needs and no request does: who holds a key value already."""

from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session

from kohorte.store.models import DataImportKey, PartnerApiKey, RestApiKey


def key_holders(session: Session, digest: str) -> list[tuple[str, str, str]]:
    """(kind, workspace id or '', partner name or '') of every key with this digest, revoked
    ones too (the digest columns are unique): one statement over the three key tables."""
    partner = select(literal("partner"), literal(""), PartnerApiKey.partner_name).where(
        PartnerApiKey.key_hash == digest
    )
    rest = select(literal("rest"), RestApiKey.workspace_id, literal("")).where(
        RestApiKey.key_hash == digest
    )
    data_import = select(
        literal("data_import"), DataImportKey.workspace_id, DataImportKey.partner_name
    ).where(DataImportKey.key_hash == digest)
    rows = session.execute(union_all(partner, rest, data_import)).all()
    return [(kind, workspace, partner_name) for kind, workspace, partner_name in rows]
