"""The ``kohorte`` command line: serve, migrate, and admin verbs."""

import typer
import uvicorn

from kohorte.settings import get_settings
from kohorte.store.database import create_store_engine
from kohorte.store.migrate import upgrade_to_head

app = typer.Typer(help="kohorte: a cohort store behind the Braze partner cohort import API.")
db_app = typer.Typer(help="Database schema.")
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations to KOHORTE_DATABASE_URL and exit."""
    engine = create_store_engine(get_settings().database_url)
    upgrade_to_head(engine)
    engine.dispose()
    typer.echo("Database schema is current.")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Apply pending migrations, then serve the HTTP API."""
    db_upgrade()
    uvicorn.run("kohorte.api.main:app", host=host, port=port)


def main() -> None:
    app()
