"""Time segment size and pages over large cohorts on PostgreSQL, and print the query plans.

    /tmp/kvenv/bin/python -m bench.segments [--users 1000000] [--cohort 500000] [--runs 7]
        [--server postgresql://postgres@127.0.0.1:5432/postgres]

Builds a database of its own (``kohorte_bench_segments``, dropped and recreated), loads N users
and two random cohorts of M members each with COPY, then times through the HTTP API an AND/NOT
segment (in cohort A and not in cohort B): its size, its first page of 100, a page in the middle
of the walk and the last page. "first" is the first request on a fresh connection after loading
(the data was just written, so it is partly in the cache: PostgreSQL is not restarted); "warm"
is the median of the following runs. Then prints EXPLAIN (ANALYZE, BUFFERS) of the statements.
"""

import argparse
import random
import secrets
import statistics
import time
from collections.abc import Callable, Iterable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from kohorte.api.app import create_app
from kohorte.domain import partners, segments, workspaces
from kohorte.domain.pagination import encode_cursor
from kohorte.domain.segments.resolution import resolve, selection
from kohorte.domain.segments.service import stored_filter
from kohorte.settings import Settings
from kohorte.store import segment_members as queries
from kohorte.store.database import create_store_engine, make_session_factory, normalise_url
from kohorte.store.migrate import upgrade_to_head
from kohorte.store.models import Segment

DATABASE = "kohorte_bench_segments"
ADMIN_TOKEN = "bench-admin-token-0123456789abcdef"
AND_NOT = {
    "and": [
        {"filter": "amplitude_cohorts", "op": "includes_value", "value": "A"},
        {"filter": "amplitude_cohorts", "op": "excludes_value", "value": "B"},
    ]
}


def database_url(server_url: str, database: str = DATABASE) -> str:
    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


def recreate_database(server_url: str, database: str = DATABASE) -> str:
    """A benchmark's own database, dropped and created again; its URL."""
    admin = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    return database_url(server_url, database)


def reuse(url: str) -> tuple[str, str]:
    """The workspace loaded by an earlier run, with a fresh REST key; returns (workspace, key)."""
    engine = create_store_engine(url, statement_timeout_ms=0)
    with Session(engine) as session:
        workspace_id = session.execute(text("SELECT id FROM workspaces")).scalar_one()
        key = workspaces.issue_rest_key(session, workspace_id, "bench", None).plaintext
        session.commit()
    engine.dispose()
    return workspace_id, key


def copy_rows(engine: Engine, statement: str, rows: Iterable[tuple[Any, ...]]) -> None:
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def load(engine: Engine, users: int, cohort_size: int) -> tuple[str, str]:
    """Workspace, REST key, partner, users and the cohorts A and B; returns (workspace, key)."""
    with Session(engine) as session:
        workspace_id = workspaces.create_workspace(session, "bench").id
        key = workspaces.issue_rest_key(session, workspace_id, "bench", None).plaintext
        partners.create_partner(session, "amplitude", "Amplitude")
        session.commit()
    started = time.perf_counter()
    copy_rows(
        engine,
        "COPY users (workspace_id, external_id, braze_id, custom_attributes, created_at,"
        " updated_at) FROM STDIN",
        (
            (workspace_id, f"user-{n:08d}", secrets.token_hex(12), "{}", "now", "now")
            for n in range(users)
        ),
    )
    load_cohorts(engine, workspace_id, cohort_size)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    print(
        f"loaded {users:,} users and 2 x {cohort_size:,} members in "
        f"{time.perf_counter() - started:.1f} s"
    )
    return workspace_id, key


def load_cohorts(engine: Engine, workspace_id: str, cohort_size: int) -> None:
    with engine.begin() as connection:
        user_ids = list(connection.scalars(text("SELECT id FROM users ORDER BY id")))
        pks = [
            connection.scalar(
                text(
                    "INSERT INTO cohorts (workspace_id, partner_name, cohort_id, name, created_at,"
                    " updated_at, folded_size) VALUES (:w, 'amplitude', :c, :c, now(), now(), :s)"
                    " RETURNING id"
                ),
                {"w": workspace_id, "c": cohort_id, "s": cohort_size},
            )
            for cohort_id in ("A", "B")
        ]
    rng = random.Random(42)
    for pk in pks:
        members = sorted(rng.sample(user_ids, cohort_size))
        copy_rows(
            engine,
            "COPY cohort_memberships (cohort_pk, user_id, entered_at) FROM STDIN",
            ((pk, user_id, "now") for user_id in members),
        )


def timed(call: Callable[[], Any], runs: int) -> tuple[float, float]:
    """(first, median of the rest) in milliseconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times[0], statistics.median(times[1:])


def http_timings(client: TestClient, key: str, segment_id: str, runs: int, middle: int) -> None:
    headers = {"Authorization": f"Bearer {key}"}

    def get(path: str, **params: Any) -> Any:
        response = client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    print(f"size = {get(f'/segments/{segment_id}/size')['size']:,}")
    cases = {
        "size": lambda: get(f"/segments/{segment_id}/size"),
        "first page of 100": lambda: get(f"/segments/{segment_id}/users", limit=100),
        "page of 100 mid-walk": lambda: get(
            f"/segments/{segment_id}/users", limit=100, cursor=encode_cursor(middle)
        ),
    }
    for name, call in cases.items():
        first, warm = timed(call, runs)
        print(f"{name:>22}: first {first:8.1f} ms   warm median {warm:8.1f} ms")


def explain(engine: Engine, workspace_id: str, segment_id: str, middle: int) -> None:
    with make_session_factory(engine)() as session:
        segment = session.get(Segment, segment_id)
        assert segment is not None
        tree = stored_filter(segment)
        found = selection(workspace_id, tree, resolve(session, workspace_id, tree))
        statements = {
            "size": queries.count_statement(found),
            "first page of 100": queries.page_statement(found, None, 101),
            "page of 100 mid-walk": queries.page_statement(found, middle, 101),
        }
        for name, statement in statements.items():
            sql = statement.compile(
                dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
            )
            plan = session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")).scalars()
            print(f"\n--- {name}\n{sql}\n")
            print("\n".join(plan))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--cohort", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="keep the data of the last run")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if args.reuse:
        url = database_url(args.server)
        workspace_id, key = reuse(url)
    else:
        url = recreate_database(args.server)
        engine = create_store_engine(url, statement_timeout_ms=0)
        upgrade_to_head(engine)
        workspace_id, key = load(engine, args.users, args.cohort)
        engine.dispose()
    # fresh connections for the first timed request
    engine = create_store_engine(url, statement_timeout_ms=0)
    app = create_app(Settings(database_url=url, admin_token=ADMIN_TOKEN), engine)
    with Session(engine) as session:
        segment_id = segments.create_segment(session, workspace_id, "A and not B", AND_NOT).id
        session.commit()
        middle: int = session.execute(
            text("SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY id) FROM users")
        ).scalar_one()
    with TestClient(app) as client:
        http_timings(client, key, segment_id, args.runs, int(middle))
    explain(engine, workspace_id, segment_id, int(middle))
    engine.dispose()


if __name__ == "__main__":
    main()
