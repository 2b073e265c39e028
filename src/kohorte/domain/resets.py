"""Resets of the emulator controls: the whole instance, or one workspace's contents.

A workspace reset keeps the workspace and its REST API and data import keys, so the code
under test keeps its credentials between tests; an instance reset keeps only the admin token.
"""

from sqlalchemy.orm import Session

from kohorte.domain.workspaces import require_workspace
from kohorte.store import memberships, resets
from kohorte.store import workspaces as workspace_store


def reset_workspace(session: Session, workspace_id: str) -> None:
    memberships.hold_workspace(session, workspace_id)  # no sync may add to it meanwhile
    require_workspace(session, workspace_id)
    workspace_store.clear_workspace(session, workspace_id)


def reset_instance(session: Session) -> None:
    # Sorted, so that two resets take the workspaces' locks in one order.
    for workspace in sorted(w.id for w in workspace_store.list_workspaces(session)):
        memberships.hold_workspace(session, workspace)
    resets.clear_instance(session)
