"""``kohorte history prune``: fold away membership history older than the kept window."""

import typer

from kohorte.cli.common import emit_one, load_settings, store_session
from kohorte.domain import membership_history

app = typer.Typer(help="Membership history.", no_args_is_help=True)


@app.command("prune")
def prune(
    days: int | None = typer.Option(
        None, "--days", min=1, help="Days to keep (default: KOHORTE_HISTORY_DAYS)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Delete the stays that ended before the kept window; reads before it are then refused.

    Current memberships and every size at a time still kept stay as they are. The server does
    the same once a day when KOHORTE_HISTORY_DAYS is set.
    """
    keep = days if days is not None else load_settings().history_days
    with store_session() as session:
        pruned = membership_history.prune(session, keep)
    emit_one({"pruned_stays": pruned.stays, "kept_from": pruned.before.isoformat()}, as_json)
