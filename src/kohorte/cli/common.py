"""What every command shares: settings, a store session of its own, errors and output."""

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session

from kohorte.domain.errors import KohorteError
from kohorte.settings import Settings, get_settings
from kohorte.store.database import create_store_engine, make_session_factory
from kohorte.store.migrate import schema_is_current

JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON.")


# Exit codes, as the README states them: 2 for a usage or configuration error, 1 otherwise.
USAGE_ERROR = 2
FAILURE = 1


def fail(message: str, code: int = FAILURE) -> NoReturn:
    """One clear line on stderr: no traceback, no box, for anything a user can fix."""
    typer.secho(f"Error: {one_line(message)}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def one_line(message: str) -> str:
    return " ".join(message.split())


def load_settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as error:
        problems = "; ".join(_describe_setting_problem(problem) for problem in error.errors())
        fail(problems, USAGE_ERROR)


def _describe_setting_problem(problem: Mapping[str, Any]) -> str:
    message = str(problem.get("msg", "invalid")).removeprefix("Value error, ")
    names = [str(part) for part in problem.get("loc", ())]
    variable = "KOHORTE_" + "_".join(names).upper()
    return message if message.startswith(variable) else f"{variable}: {message}"


def displayed_url(database_url: str) -> str:
    return make_url(database_url).render_as_string(hide_password=True)


@contextmanager
def store_engine(settings: Settings) -> Iterator[Engine]:
    try:
        engine = create_store_engine(settings.database_url)
    except (ArgumentError, ValueError, ImportError) as error:
        fail(f"KOHORTE_DATABASE_URL cannot be used: {error}", USAGE_ERROR)
    try:
        yield engine
    except DBAPIError as error:
        fail(f"cannot use the database at {displayed_url(settings.database_url)}: {_cause(error)}")
    finally:
        engine.dispose()


def _cause(error: DBAPIError) -> str:
    # The first line of the driver's message says what went wrong without dumping statements.
    return str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else "error"


@contextmanager
def store_session() -> Iterator[Session]:
    """A session for one command, committed at the end; domain errors end the command."""
    settings = load_settings()
    with store_engine(settings) as engine:
        _require_existing_store(engine.url)
        if not schema_is_current(engine):
            fail("the database schema is not current; run `kohorte db upgrade` first")
        with make_session_factory(engine)() as session:
            try:
                yield session
                session.commit()
            except KohorteError as error:
                session.rollback()
                fail(error.message)


def _require_existing_store(url: URL) -> None:
    """Admin commands use the server's store: opening a SQLite file that is not there would
    create an empty one in the current folder and send the user off to migrate it."""
    if url.get_backend_name() != "sqlite" or url.database is None:
        return
    if not Path(url.database).exists():
        fail(
            f"no store at {Path(url.database).resolve()}; "
            "run this where `kohorte serve` runs, or set KOHORTE_DATABASE_URL to the server's",
            USAGE_ERROR,
        )


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def record(entity: object, fields: Sequence[str]) -> dict[str, Any]:
    return {name: _plain(getattr(entity, name)) for name in fields}


def emit_one(values: Mapping[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(dict(values), indent=2))
        return
    width = max(len(name) for name in values)
    for name, value in values.items():
        typer.echo(f"{name.ljust(width)}  {_text(value)}")


def emit_many(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps([dict(row) for row in rows], indent=2))
        return
    typer.echo("\t".join(columns))
    for row in rows:
        typer.echo("\t".join(_text(row[column]) for column in columns))


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ",".join(map(str, value)) or "-"
    return str(value)


def warn_shown_once(what: str) -> None:
    typer.echo(f"The {what} is shown only this once: store it now.", err=True)
