"""``kohorte users import``: load users of a workspace from an NDJSON file."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from kohorte.cli.common import FAILURE, JsonOption, emit_one, store_session
from kohorte.domain.users import importing
from kohorte.domain.users.import_lines import lines_from_chunks

app = typer.Typer(help="Users of a workspace.", no_args_is_help=True)

CHUNK_BYTES = 1024 * 1024
ERRORS_SHOWN = 20


@app.command("import")
def import_file(
    path: Path = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="NDJSON file, one user a line."
    ),
    workspace: str = typer.Option(..., "--workspace", help="Workspace id."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    as_json: bool = JsonOption,
) -> None:
    """Import users: {"external_id"?, "user_aliases"?, "device_ids"?, "attributes"?} a line.

    Existing external ids are updated. Every 1,000 lines are committed on their own, so an
    interrupted import keeps the lines before the one it reports. Exits 1 when any line was
    rejected (the others are imported).
    """
    with (
        path.open("rb") as file,
        _progress(quiet) as progress,
        store_session() as session,
    ):
        task = progress.add_task("Importing users", total=path.stat().st_size)
        chunks = _chunks(file, lambda size: progress.advance(task, size))
        report = importing.import_users(
            session, workspace, lines_from_chunks(chunks), session.commit
        )
    _print_report(report, as_json)
    if report.errors or report.errors_not_shown:
        raise typer.Exit(FAILURE)


def _progress(quiet: bool) -> Progress:
    # On stderr only: stdout carries the report, which scripts read (--json).
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=quiet,
        transient=False,
    )


def _chunks(file: BinaryIO, advance: Callable[[int], None]) -> Iterator[bytes]:
    while chunk := file.read(CHUNK_BYTES):
        advance(len(chunk))
        yield chunk


def _print_report(report: importing.ImportReport, as_json: bool) -> None:
    problems = len(report.errors) + report.errors_not_shown
    if as_json:
        errors = [{"line": error.line, "message": error.message} for error in report.errors]
        emit_one({"imported": report.imported, "problems": problems, "errors": errors}, True)
        return
    typer.echo(f"Imported {report.imported} lines; {problems} problems reported.")
    for error in report.errors[:ERRORS_SHOWN]:
        typer.echo(f"line {error.line}: {error.message}", err=True)
    if problems > ERRORS_SHOWN:
        typer.echo(f"... and {problems - ERRORS_SHOWN} more.", err=True)
