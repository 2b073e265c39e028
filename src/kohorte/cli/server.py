"""Serving, schema migrations and the instance admin token."""

import errno
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
import uvicorn
from sqlalchemy import Engine

from kohorte.api.header_limit import HeaderLimitedHttpToolsProtocol
from kohorte.api.metrics import MULTIPROCESS_DIR_ENV
from kohorte.cli.common import (
    USAGE_ERROR,
    displayed_url,
    fail,
    load_settings,
    store_engine,
    store_session,
    warn_shown_once,
)
from kohorte.domain.access import ensure_admin_token, rotate_admin_token
from kohorte.logging_setup import configure_logging
from kohorte.seed.loader import SeedError, apply_seed, read_seed_file
from kohorte.settings import Settings, get_settings
from kohorte.store.database import make_session_factory
from kohorte.store.migrate import upgrade_to_head

logger = logging.getLogger(__name__)
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
    if settings.log_format == "json" and not sys.stderr.isatty():
        # stderr is a log stream here (collected, shipped, kept): the token must not land in it.
        logger.warning(
            "generated the instance admin token; it is shown only on a terminal, not in JSON "
            "logs: run `kohorte admin-token rotate` on one, or set KOHORTE_ADMIN_TOKEN"
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


SEED_EXIT_CODE = 2


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
    seed: Path | None = typer.Option(
        None, "--seed", help="Seed file (YAML or JSON) to apply at start and on every reset."
    ),
    ephemeral: bool = typer.Option(
        False,
        "--ephemeral",
        help="Serve a fresh SQLite store in a temporary directory, removed on exit "
        "(wins over KOHORTE_DATABASE_URL).",
    ),
) -> None:
    """Apply pending migrations and the seed file, then serve the HTTP API."""
    with _ephemeral_store(ephemeral) as store_dir, _shared_metrics(workers):
        # Through the environment, so that the workers' settings (and resets) see them too.
        _override_settings(seed, store_dir)
        settings = load_settings()
        try:
            log_config = configure_logging(settings.log_level, settings.log_format)
        except ValueError as error:
            fail(str(error), USAGE_ERROR)
        _ensure_port_free(host, port)  # after the configuration, before any migration
        _prepare_store(settings, host, port, store_dir)
        uvicorn.run(
            "kohorte.api.main:app",
            host=host,
            port=port,
            workers=workers,
            log_config=log_config,
            http=HeaderLimitedHttpToolsProtocol,
            access_log=False,  # kohorte writes the access line itself, with the request id
        )


def _ensure_port_free(host: str, port: int) -> None:
    """Said before anything is migrated: uvicorn would find out only after the store work."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as error:
        reason = "is in use" if error.errno == errno.EADDRINUSE else f"cannot be used ({error})"
        fail(f"port {port} on {host} {reason}; choose another with --port")


@contextmanager
def _ephemeral_store(ephemeral: bool) -> Iterator[Path | None]:
    """A temporary directory for the store, removed when the server returns: uvicorn turns
    Ctrl-C and SIGTERM into a graceful return."""
    if not ephemeral:
        yield None
        return
    directory = Path(tempfile.mkdtemp(prefix="kohorte-ephemeral-"))
    # uvicorn shuts down gracefully on SIGTERM, then raises it again with the handler it found:
    # the default one would end the process before this cleanup; this one unwinds to it.
    previous = signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        yield directory
    finally:
        signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def _shared_metrics(workers: int) -> Iterator[None]:
    """With several workers, each writes its metrics into one fresh directory that every scrape
    sums (prometheus-client's multiprocess mode). Set before uvicorn spawns them, so they
    inherit it; removed when the server returns (its supervisor returns on SIGTERM too)."""
    if workers < 2:
        yield  # one process: its own registry already holds everything
        return
    directory = tempfile.mkdtemp(prefix="kohorte-metrics-")
    os.environ[MULTIPROCESS_DIR_ENV] = directory
    try:
        yield
    finally:
        os.environ.pop(MULTIPROCESS_DIR_ENV, None)
        shutil.rmtree(directory, ignore_errors=True)


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _override_settings(seed: Path | None, store_dir: Path | None) -> None:
    if seed is not None:
        os.environ["KOHORTE_SEED_FILE"] = str(seed.resolve())
    if store_dir is not None:
        os.environ["KOHORTE_DATABASE_URL"] = f"sqlite:///{store_dir / 'kohorte.db'}"
    get_settings.cache_clear()


def _prepare_store(settings: Settings, host: str, port: int, store_dir: Path | None) -> None:
    """Migrations, then the seed file in one transaction; an invalid file stops the start
    (exit 2) with one line on stderr and nothing of it applied."""
    try:
        seed = None if settings.seed_file is None else read_seed_file(settings.seed_file)
        with store_engine(settings) as engine:
            upgrade_to_head(engine)
            if seed is not None and settings.seed_file is not None:
                with make_session_factory(engine)() as session, session.begin():
                    apply_seed(session, seed, settings.seed_file)
            _announce_store(settings, store_dir)
            announce_admin_token(settings, engine, host, port)
    except SeedError as error:
        typer.echo(f"Error: {error.message}", err=True)
        raise typer.Exit(SEED_EXIT_CODE) from None


def _announce_store(settings: Settings, store_dir: Path | None) -> None:
    typer.echo(f"Database schema is current ({displayed_url(settings.database_url)}).", err=True)
    if store_dir is not None:
        typer.echo(
            f"Ephemeral store in {store_dir} (KOHORTE_DATABASE_URL is ignored); "
            "it is removed when the server exits.",
            err=True,
        )
    if settings.seed_file is not None:
        typer.echo(f"Seed file applied: {settings.seed_file}", err=True)


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
