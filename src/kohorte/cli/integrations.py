"""Data import keys (client secrets), issued by the admin on behalf of a workspace."""

import typer

from kohorte.cli.common import (
    JsonOption,
    emit_many,
    emit_one,
    record,
    store_session,
    warn_shown_once,
)
from kohorte.domain import integrations
from kohorte.domain.workspaces import require_workspace

data_import_keys_app = typer.Typer(
    help="A workspace's data import keys for one partner.", no_args_is_help=True
)

KEY_FIELDS = ("id", "prefix", "created_at", "invalidated_at", "last_used_at")
WorkspaceOption = typer.Option(..., "--workspace", help="Workspace id.")
PartnerOption = typer.Option(..., "--partner", help="Partner name, e.g. amplitude.")


@data_import_keys_app.command("create")
def create_key(
    workspace_id: str = WorkspaceOption,
    partner: str = PartnerOption,
    as_json: bool = JsonOption,
) -> None:
    """Issue a data import key (the partner's client_secret); the key is printed once."""
    with store_session() as session:
        require_workspace(session, workspace_id)
        issued = integrations.issue_data_import_key(session, workspace_id, partner)
    values = {"id": issued.record.id, "partner": partner, "key": issued.plaintext}
    emit_one({**values, "created_at": issued.record.created_at.isoformat()}, as_json)
    warn_shown_once("data import key")


@data_import_keys_app.command("list")
def list_keys(
    workspace_id: str = WorkspaceOption,
    partner: str = PartnerOption,
    as_json: bool = JsonOption,
) -> None:
    """List a workspace's data import keys for a partner (no key material)."""
    with store_session() as session:
        require_workspace(session, workspace_id)
        keys = integrations.list_data_import_keys(session, workspace_id, partner)
        rows = [record(key, KEY_FIELDS) for key in keys]
    emit_many(rows, KEY_FIELDS, as_json)


@data_import_keys_app.command("invalidate")
def invalidate_key(
    key_id: str,
    workspace_id: str = WorkspaceOption,
    partner: str = PartnerOption,
) -> None:
    """Invalidate a data import key; partner requests with it are rejected from then on."""
    with store_session() as session:
        require_workspace(session, workspace_id)
        integrations.invalidate_data_import_key(session, workspace_id, partner, key_id)
    typer.echo(f"Invalidated data import key {key_id}.", err=True)
