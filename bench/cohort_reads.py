"""Time cohort reads and usage through the HTTP API, and count the statements of each request.

    /tmp/kvenv/bin/python -m bench.cohort_reads [--users 200000] [--members 100000]
        [--cohorts 1000] [--runs 7] [--url sqlite:////tmp/kohorte-bench-cohorts.db]
        [--url postgresql://postgres@127.0.0.1:5432/kohorte_bench_cohort_reads]

The database is recreated (a SQLite file is deleted; a PostgreSQL database of that name is
dropped and created). Loads N users, one cohort "big" holding M random members with 200 syncs,
C - 1 small cohorts, and data points for 366 days and five partners, then times: the cohort
list, the details of "big", its first page of members (100 and 1,000 a page), a page of 1,000
from the middle, an empty page past the end, a whole walk at 1,000 a page, and a year of
usage. "first" is the first request, "warm" the median of the rest.
"""

import argparse
import random
import secrets
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from tests.support.databases import counting_statements

from kohorte.api.app import create_app
from kohorte.domain import partners, workspaces
from kohorte.domain.pagination import encode_cursor
from kohorte.settings import Settings
from kohorte.store.database import create_store_engine, normalise_url
from kohorte.store.migrate import upgrade_to_head
from kohorte.store.models import Cohort, CohortMembership, CohortSync, DataPointCount, User

ADMIN_TOKEN = "bench-admin-token-0123456789abcdef"
PARTNERS = ("amplitude", "mixpanel", "heap", "kubit", "segment")
NOW = datetime.now(UTC)
CHUNK = 10_000


def recreate(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return
    admin = create_engine(normalise_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def insert_chunked(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(table), rows[start : start + CHUNK])


def load(engine: Engine, users: int, members: int, cohorts: int) -> str:
    """Everything the reads need; returns a REST API key of the workspace."""
    with Session(engine) as session:
        workspace_id = workspaces.create_workspace(session, "bench").id
        key = workspaces.issue_rest_key(session, workspace_id, "bench", None).plaintext
        for name in PARTNERS:
            partners.create_partner(session, name, None)
        load_users(session, workspace_id, users)
        load_cohorts(session, workspace_id, members, cohorts)
        load_usage(session, workspace_id)
        session.commit()
    return key


def load_users(session: Session, workspace_id: str, users: int) -> None:
    rows = [
        {"workspace_id": workspace_id, "external_id": f"user-{n:08d}", "custom_attributes": {}}
        | {"braze_id": secrets.token_hex(12)}
        for n in range(users)
    ]
    insert_chunked(session, User, rows)


def load_cohorts(session: Session, workspace_id: str, members: int, cohorts: int) -> None:
    user_ids = list(session.scalars(select(User.id).where(User.workspace_id == workspace_id)))
    base = {"workspace_id": workspace_id, "created_at": NOW, "updated_at": NOW}
    small = [
        base | {"partner_name": PARTNERS[n % 5], "cohort_id": f"small/{n}", "folded_size": 0}
        for n in range(cohorts - 1)
    ]
    insert_chunked(session, Cohort, small)
    big = Cohort(**base, partner_name="amplitude", cohort_id="big", folded_size=members)
    session.add(big)
    session.flush()
    chosen = random.Random(42).sample(user_ids, members)
    rows = [{"cohort_pk": big.id, "user_id": user_id, "entered_at": NOW} for user_id in chosen]
    insert_chunked(session, CohortMembership, rows)
    syncs = [
        {"cohort_pk": big.id, "received_at": NOW - timedelta(minutes=n)}
        | {"added": n, "removed": 0, "unmatched": 0}
        for n in range(200)
    ]
    insert_chunked(session, CohortSync, syncs)


def load_usage(session: Session, workspace_id: str) -> None:
    today = NOW.date()
    rows = [
        {"workspace_id": workspace_id, "partner_name": partner}
        | {"day": today - timedelta(days=n), "count": n + 1}
        for n in range(366)
        for partner in PARTNERS
    ]
    insert_chunked(session, DataPointCount, rows)


def timed(call: Callable[[], Any], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times[0], statistics.median(times[1:])


def cases(get: Callable[..., Any], members: int) -> dict[str, Callable[[], Any]]:
    past_end = encode_cursor(10**18)  # beyond every user id: an empty last page
    year = {"from": (NOW.date() - timedelta(days=365)).isoformat(), "to": NOW.date().isoformat()}
    return {
        "GET /cohorts": lambda: get("/cohorts"),
        "GET /cohorts/amplitude/big": lambda: get("/cohorts/amplitude/big"),
        "first page of 100": lambda: get("/cohorts/amplitude/big/users", limit=100),
        "first page of 1000": lambda: get("/cohorts/amplitude/big/users", limit=1000),
        "page past the end": lambda: get("/cohorts/amplitude/big/users", cursor=past_end),
        "mid-walk page of 1000": lambda: get(
            "/cohorts/amplitude/big/users", limit=1000, cursor=encode_cursor(members)
        ),
        "usage, 366 days x 5": lambda: get("/usage", **year),
    }


def walk(get: Callable[..., Any]) -> tuple[int, int]:
    params: dict[str, Any] = {"limit": 1000}
    users = pages = 0
    while True:
        page = get("/cohorts/amplitude/big/users", **params)
        users, pages = users + len(page["users"]), pages + 1
        if page["next_cursor"] is None:
            return users, pages
        params["cursor"] = page["next_cursor"]


def measure(url: str, engine: Engine, key: str, members: int, runs: int) -> None:
    app = create_app(Settings(database_url=url, admin_token=ADMIN_TOKEN), engine)
    with TestClient(app) as client:

        def get(path: str, **params: Any) -> Any:
            response = client.get(path, params=params, headers={"Authorization": f"Bearer {key}"})
            assert response.status_code == 200, response.text
            return response.json()

        for name, call in cases(get, members).items():
            with counting_statements(engine) as statements:
                call()
            first, warm = timed(call, runs)
            print(
                f"{name:>24}: first {first:8.1f} ms   warm median {warm:8.1f} ms"
                f"   {len(statements)} statements"
            )
        started = time.perf_counter()
        users, pages = walk(get)
        print(f"walked {users:,} members in {pages} pages: {time.perf_counter() - started:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--cohorts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--url", default="sqlite:////tmp/kohorte-bench-cohorts.db")
    args = parser.parse_args()
    recreate(args.url)
    engine = create_store_engine(args.url, statement_timeout_ms=0)
    upgrade_to_head(engine)
    started = time.perf_counter()
    key = load(engine, args.users, args.members, args.cohorts)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))  # plans as after autovacuum caught up
    print(
        f"{make_url(args.url).get_backend_name()}: loaded in {time.perf_counter() - started:.1f} s"
    )
    measure(args.url, engine, key, args.members, args.runs)
    engine.dispose()


if __name__ == "__main__":
    main()
