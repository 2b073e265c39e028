"""The ``kohorte`` command line: serve, migrate, and the admin verbs of each area."""

import typer

from kohorte.cli.admin import api_keys_app, partner_keys_app, partners_app, workspaces_app
from kohorte.cli.history import app as history_app
from kohorte.cli.integrations import data_import_keys_app
from kohorte.cli.server import admin_token_app, db_app, serve
from kohorte.cli.users import app as users_app

app = typer.Typer(
    help="kohorte: a cohort store behind the Braze partner cohort import API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command()(serve)
app.add_typer(db_app, name="db")
app.add_typer(admin_token_app, name="admin-token")
app.add_typer(workspaces_app, name="workspaces")
app.add_typer(api_keys_app, name="api-keys")
app.add_typer(partners_app, name="partners")
app.add_typer(partner_keys_app, name="partner-keys")
app.add_typer(data_import_keys_app, name="data-import-keys")
app.add_typer(users_app, name="users")
app.add_typer(history_app, name="history")


def main() -> None:
    app()
