"""The ``kohorte`` command line: serve, migrate, and the admin verbs of each area."""

import sys

import typer

# Typer carries its own copy of click since 0.29; its exceptions are what the commands raise.
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

from kohorte.cli.admin import api_keys_app, partner_keys_app, partners_app, workspaces_app
from kohorte.cli.common import FAILURE, USAGE_ERROR, one_line
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
    """Runs the CLI with every error, usage errors included, as one line on stderr."""
    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as error:
        # `kohorte` or `kohorte users` alone: the help is what was asked for.
        typer.echo(error.ctx.get_help() if error.ctx is not None else "")
        sys.exit(0)
    except UsageError as error:
        sys.exit(_usage_error(error))
    except ClickException as error:
        typer.secho(f"Error: {one_line(error.format_message())}", err=True, fg="red")
        sys.exit(error.exit_code)
    except typer.Abort:
        typer.secho("Error: aborted", err=True, fg="red")
        sys.exit(FAILURE)
    sys.exit(code if isinstance(code, int) else 0)


def _usage_error(error: UsageError) -> int:
    hint = f" (see `{error.ctx.command_path} --help`)" if error.ctx is not None else ""
    typer.secho(f"Error: {one_line(error.format_message())}{hint}", err=True, fg="red")
    return USAGE_ERROR
