"""Helpers of the reset and seed tests: a workspace with something in every table, and the
rows of the emulator tables (which no API of this area reads)."""

from typing import Any

from sqlalchemy import Engine, func, select

from kohorte.store.emulator_tables import Fault, JournalEntry, UnmatchedIdentifier
from kohorte.store.models import Cohort
from tests.support.api import ADMIN_HEADERS, Api, Integration

EMULATOR_TABLES = (JournalEntry, UnmatchedIdentifier, Fault)


def filled_integration(api: Api, engine: Engine, partner: str = "amplitude") -> Integration:
    """A workspace with users, a synced cohort, a segment, usage, and emulator rows: the two
    partner requests journaled, one unmatched identifier, one fault (for another cohort)."""
    integration = api.integration(partner=partner)
    api.track(integration.workspace, "alice", "bob")
    assert api.name_cohort(integration, "c1").status_code == 201
    api.synced(integration, "c1", {"user_ids": ["alice", "bob", "nobody"]})
    segment = {
        "name": "S",
        "filter": {"filter": f"{partner}_cohorts", "op": "includes_value", "value": "c1"},
    }
    api.expect(
        api.client.post("/segments", json=segment, headers=integration.workspace.headers), 201
    )
    fault = {"cohort_id": "never-sent", "status": 503}
    api.expect(api.client.post("/admin/faults", json=fault, headers=ADMIN_HEADERS), 201)
    return integration


def emulator_rows(engine: Engine, workspace_id: str | None = None) -> dict[str, int]:
    """Rows per emulator table; with a workspace, its journal entries and its cohorts'
    unmatched identifiers only."""
    counts = {}
    with engine.connect() as connection:
        for table in EMULATOR_TABLES:
            query = select(func.count()).select_from(table)
            if workspace_id is not None and table is JournalEntry:
                query = query.where(JournalEntry.workspace_id == workspace_id)
            if workspace_id is not None and table is UnmatchedIdentifier:
                cohorts = select(Cohort.id).where(Cohort.workspace_id == workspace_id)
                query = query.where(UnmatchedIdentifier.cohort_pk.in_(cohorts))
            counts[table.__tablename__] = connection.scalar(query) or 0
    return counts


def admin_listing(api: Api) -> dict[str, Any]:
    """What the admin API shows: partners with their keys, workspaces with their keys."""
    partners = api.expect(api.client.get("/admin/partners", headers=ADMIN_HEADERS), 200)
    workspaces = api.expect(api.client.get("/admin/workspaces", headers=ADMIN_HEADERS), 200)
    keys = {
        w["id"]: api.expect(
            api.client.get(f"/admin/workspaces/{w['id']}/api-keys", headers=ADMIN_HEADERS), 200
        )["api_keys"]
        for w in workspaces["workspaces"]
    }
    return {"partners": partners["partners"], "workspaces": workspaces["workspaces"], "keys": keys}
