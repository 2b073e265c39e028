"""Workspaces and their REST API keys."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from kohorte.store import cohort_counters
from kohorte.store.emulator_tables import JournalEntry, UnmatchedIdentifier
from kohorte.store.models import (
    Cohort,
    CohortCounterDelta,
    CohortDay,
    CohortMembership,
    CohortSync,
    DataPointCount,
    RestApiKey,
    Segment,
    User,
    Workspace,
)
from kohorte.store.users_api_tables import SegmentExport

# Tables keyed by a cohort's primary key without a foreign key (a key check per row would cost
# every sync), so removing a workspace's cohorts removes their rows first.
COHORT_ROW_TABLES = (
    CohortMembership,
    CohortSync,
    CohortCounterDelta,
    CohortDay,
    UnmatchedIdentifier,
)


def add_workspace(session: Session, name: str, workspace_id: str | None = None) -> Workspace:
    workspace = (
        Workspace(name=name) if workspace_id is None else Workspace(id=workspace_id, name=name)
    )
    session.add(workspace)
    session.flush()
    return workspace


def list_workspaces(session: Session) -> Sequence[Workspace]:
    return session.scalars(select(Workspace).order_by(Workspace.created_at, Workspace.id)).all()


def workspace_exists(session: Session, workspace_id: str) -> bool:
    return session.get(Workspace, workspace_id) is not None


def delete_workspace(session: Session, workspace_id: str) -> bool:
    """Delete a workspace: its contents as a reset removes them, then the workspace, whose
    foreign keys cascade to its keys."""
    clear_workspace(session, workspace_id)
    result = session.execute(delete(Workspace).where(Workspace.id == workspace_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def clear_workspace(session: Session, workspace_id: str) -> None:
    """Remove a workspace's users, cohorts with their history, segments, usage, journal and
    segment exports (the cleanup removes files whose record is gone);
    keep the workspace and its REST API and data import keys. A few statements, whatever the
    size: each deletes by workspace, the users' aliases and devices going by cascade."""
    cohort_counters.hold_folds(session)
    cohorts = select(Cohort.id).where(Cohort.workspace_id == workspace_id)
    for table in COHORT_ROW_TABLES:
        session.execute(delete(table).where(table.cohort_pk.in_(cohorts)))
    for owned in (Cohort, Segment, DataPointCount, User, JournalEntry, SegmentExport):
        session.execute(delete(owned).where(owned.workspace_id == workspace_id))


def add_rest_key(
    session: Session,
    workspace_id: str,
    name: str,
    prefix: str,
    digest: str,
    permissions: list[str] | None,
) -> RestApiKey:
    key = RestApiKey(
        workspace_id=workspace_id,
        name=name,
        prefix=prefix,
        key_hash=digest,
        permissions=permissions,
    )
    session.add(key)
    session.flush()
    return key


def list_rest_keys(session: Session, workspace_id: str) -> Sequence[RestApiKey]:
    return session.scalars(
        select(RestApiKey)
        .where(RestApiKey.workspace_id == workspace_id)
        .order_by(RestApiKey.created_at, RestApiKey.id)
    ).all()


def revoke_rest_key(session: Session, workspace_id: str, key_id: str, now: datetime) -> bool:
    result = session.execute(
        update(RestApiKey)
        .where(RestApiKey.workspace_id == workspace_id, RestApiKey.id == key_id)
        .where(RestApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
