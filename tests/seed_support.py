"""Helpers of the seed file tests: the shipped example as a document, files written from
documents, applying one in its own transaction, and a snapshot of the whole store."""

import copy
import json
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, func, select

from kohorte.seed.loader import apply_seed_file
from kohorte.store.database import make_session_factory
from kohorte.store.models import Base

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "seed.yaml"
PARTNER_KEY = "seed-partner-key-amplitude-0001"
REST_KEY = "seed-rest-key-demo-ci-0001"
DATA_IMPORT_KEY = "seed-data-import-key-demo-0001"


def example() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    return copy.deepcopy(document)


def write_seed(directory: Path, document: object, suffix: str = ".yaml") -> Path:
    path = directory / f"seed{suffix}"
    text = json.dumps(document) if suffix == ".json" else yaml.safe_dump(document)
    path.write_text(text)
    return path


def apply(engine: Engine, path: Path) -> None:
    with make_session_factory(engine)() as session, session.begin():
        apply_seed_file(session, path)


def store_rows(engine: Engine) -> dict[str, int]:
    """Rows per table: equal before and after means nothing was written (or removed)."""
    with engine.connect() as connection:
        return {
            table.name: connection.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }
