"""Serving, schema migrations and the instance admin token."""

import typer
import uvicorn
from sqlalchemy import Engine

from kohorte.cli.common import (
    displayed_url,
    fail,
    load_settings,
    store_engine,
    store_session,
    warn_shown_once,
)
from kohorte.domain.access import ensure_admin_token, rotate_admin_token
from kohorte.logging_setup import configure_logging
from kohorte.settings import Settings
from kohorte.store.database import make_session_factory
from kohorte.store.migrate import upgrade_to_head

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
admin_token_app = typer.Typer(help="The instance admin token.", no_args_is_help=True)

ROTATE_HINT = "Run `kohorte admin-token rotate` to replace it (the old one stops working)."


def _upgrade(settings: Settings, engine: Engine) -> None:
    upgrade_to_head(engine)
    typer.echo(f"Database schema is current ({displayed_url(settings.database_url)}).", err=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations to KOHORTE_DATABASE_URL and exit."""
    settings = load_settings()
    with store_engine(settings) as engine:
        _upgrade(settings, engine)


def announce_admin_token(settings: Settings, engine: Engine, host: str, port: int) -> None:
    """Generate the admin token on first start and print it once; later, say that one exists."""
    if settings.admin_token is not None:
        typer.echo("Admin token: the one set in KOHORTE_ADMIN_TOKEN.", err=True)
        return
    with make_session_factory(engine)() as session, session.begin():
        token = ensure_admin_token(session)
    if token is None:
        typer.echo(
            f"Admin token: generated on first start (only its hash is kept). {ROTATE_HINT}",
            err=True,
        )
        return
    _print_new_token(token, f"http://{host}:{port}")


def _print_new_token(token: str, base_url: str) -> None:
    lines = [
        "",
        "Generated the instance admin token. It is shown only this once; store it now:",
        "",
        f"    {token}",
        "",
        "Send it as a bearer token to the /admin endpoints, e.g.",
        f'    curl -H "Authorization: Bearer {token}" {base_url}/admin/workspaces',
        f"Lost it? {ROTATE_HINT} Or set KOHORTE_ADMIN_TOKEN to choose your own.",
        "",
    ]
    typer.echo("\n".join(lines), err=True)


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
) -> None:
    """Apply pending migrations, then serve the HTTP API."""
    settings = load_settings()
    try:
        log_config = configure_logging(settings.log_level)
    except ValueError as error:
        fail(str(error))
    with store_engine(settings) as engine:
        _upgrade(settings, engine)
        announce_admin_token(settings, engine, host, port)
    uvicorn.run(
        "kohorte.api.main:app", host=host, port=port, workers=workers, log_config=log_config
    )


@admin_token_app.command("rotate")
def rotate() -> None:
    """Replace the generated admin token and print the new one once (on stdout)."""
    if load_settings().admin_token is not None:
        fail("KOHORTE_ADMIN_TOKEN is set, so it is the admin token; change that variable instead")
    with store_session() as session:
        token = rotate_admin_token(session)
    typer.echo(token)
    typer.echo("New admin token issued; the previous one no longer works.", err=True)
    warn_shown_once("admin token")
