"""Instance admin verbs: workspaces, their REST API keys, partners and partner API keys."""

import sys
from typing import Any

import typer

from kohorte.cli.common import (
    JsonOption,
    emit_many,
    emit_one,
    record,
    store_session,
    warn_shown_once,
)
from kohorte.domain import partners, workspaces
from kohorte.domain.permissions import Permission

workspaces_app = typer.Typer(help="Workspaces (tenants).", no_args_is_help=True)
api_keys_app = typer.Typer(help="A workspace's REST API keys.", no_args_is_help=True)
partners_app = typer.Typer(help="Partners (tools that push cohorts).", no_args_is_help=True)
partner_keys_app = typer.Typer(help="Partner API keys.", no_args_is_help=True)

WORKSPACE_FIELDS = ("id", "name", "created_at")
REST_KEY_FIELDS = ("id", "name", "prefix", "permissions", "created_at", "last_used_at")
PARTNER_KEY_FIELDS = ("id", "prefix", "created_at", "revoked_at")
WorkspaceOption = typer.Option(..., "--workspace", help="Workspace id.")
VENDOR_KEY_ENV = "KOHORTE_VENDOR_PARTNER_API_KEY"
# The value may come from the environment or stdin ("-"), so that it need not sit in the
# shell's history.
VendorKeyOption = typer.Option(
    None,
    "--partner-api-key",
    envvar=VENDOR_KEY_ENV,
    show_envvar=True,
    help="Register this partner API key (a vendor's own, at least 16 characters) instead of "
    "generating one; '-' reads it from stdin.",
)
PERMISSION_HELP = "Limit the key to this permission (repeatable; none means all): " + ", ".join(
    permission.value for permission in Permission
)


@workspaces_app.command("create")
def create_workspace(name: str, as_json: bool = JsonOption) -> None:
    """Create a workspace."""
    with store_session() as session:
        workspace = workspaces.create_workspace(session, name)
    emit_one(record(workspace, WORKSPACE_FIELDS), as_json)


@workspaces_app.command("list")
def list_workspaces(as_json: bool = JsonOption) -> None:
    """List workspaces."""
    with store_session() as session:
        rows = [record(w, WORKSPACE_FIELDS) for w in workspaces.list_workspaces(session)]
    emit_many(rows, WORKSPACE_FIELDS, as_json)


@workspaces_app.command("delete")
def delete_workspace(workspace_id: str) -> None:
    """Delete a workspace with everything in it."""
    with store_session() as session:
        workspaces.delete_workspace(session, workspace_id)
    typer.echo(f"Deleted workspace {workspace_id}.", err=True)


@api_keys_app.command("create")
def create_rest_key(
    workspace_id: str = WorkspaceOption,
    name: str = typer.Option(..., "--name", help="What the key is for."),
    permission: list[str] | None = typer.Option(None, "--permission", help=PERMISSION_HELP),
    as_json: bool = JsonOption,
) -> None:
    """Issue a REST API key; the key is printed once."""
    with store_session() as session:
        issued = workspaces.issue_rest_key(session, workspace_id, name, permission or None)
    values = record(issued.record, ("id", "name", "permissions", "created_at"))
    emit_one({**values, "key": issued.plaintext}, as_json)
    warn_shown_once("key")


@api_keys_app.command("list")
def list_rest_keys(workspace_id: str = WorkspaceOption, as_json: bool = JsonOption) -> None:
    """List a workspace's REST API keys (no key material)."""
    with store_session() as session:
        keys = workspaces.list_rest_keys(session, workspace_id)
        rows = [record(key, (*REST_KEY_FIELDS, "revoked_at")) for key in keys]
    emit_many(rows, (*REST_KEY_FIELDS, "revoked_at"), as_json)


@api_keys_app.command("revoke")
def revoke_rest_key(key_id: str, workspace_id: str = WorkspaceOption) -> None:
    """Revoke a REST API key; it is rejected from the next request on."""
    with store_session() as session:
        workspaces.revoke_rest_key(session, workspace_id, key_id)
    typer.echo(f"Revoked REST API key {key_id}.", err=True)


@partners_app.command("create")
def create_partner(
    name: str,
    display_name: str | None = typer.Option(None, "--display-name", help="Name shown in lists."),
    partner_api_key: str | None = VendorKeyOption,
    as_json: bool = JsonOption,
) -> None:
    """Create a partner with its first partner API key; the key is printed once."""
    vendor_key = _vendor_key(partner_api_key)
    with store_session() as session:
        partner, issued = partners.create_partner(session, name, display_name, vendor_key)
    values: dict[str, Any] = {"name": partner.name, "display_name": partner.display_name}
    emit_one({**values, "key_id": issued.record.id, "partner_api_key": issued.plaintext}, as_json)
    warn_shown_once("partner API key")


@partners_app.command("list")
def list_partners(as_json: bool = JsonOption) -> None:
    """List partners with their partner API keys (no key material)."""
    with store_session() as session:
        found = partners.list_partners(session)
    if as_json:
        emit_many([_partner_with_keys(entry) for entry in found], (), as_json)
        return
    rows = [
        {
            "name": entry.partner.name,
            "display_name": entry.partner.display_name,
            "live_keys": [key.prefix for key in entry.keys if key.revoked_at is None],
        }
        for entry in found
    ]
    emit_many(rows, ("name", "display_name", "live_keys"), as_json)


def _partner_with_keys(entry: partners.PartnerWithKeys) -> dict[str, Any]:
    return {
        "name": entry.partner.name,
        "display_name": entry.partner.display_name,
        "api_keys": [record(key, PARTNER_KEY_FIELDS) for key in entry.keys],
    }


@partner_keys_app.command("create")
def create_partner_key(
    partner: str, partner_api_key: str | None = VendorKeyOption, as_json: bool = JsonOption
) -> None:
    """Issue an additional partner API key (rotation); the key is printed once."""
    vendor_key = _vendor_key(partner_api_key)
    with store_session() as session:
        issued = partners.issue_partner_key(session, partner, vendor_key)
    emit_one({"id": issued.record.id, "partner_api_key": issued.plaintext}, as_json)
    warn_shown_once("partner API key")


@partner_keys_app.command("revoke")
def revoke_partner_key(partner: str, key_id: str) -> None:
    """Revoke a partner API key."""
    with store_session() as session:
        partners.revoke_partner_key(session, partner, key_id)
    typer.echo(f"Revoked partner API key {key_id}.", err=True)


def _vendor_key(value: str | None) -> str | None:
    if value == "-":
        return sys.stdin.readline().rstrip("\r\n")
    return value
