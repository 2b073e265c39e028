"""Partner sync throughput: batches of 1,000 identifiers against 1,000,000 users on PostgreSQL.

Creates a throwaway database next to the one in the URL, seeds it with set-based SQL (80%
identified users, 20% anonymous users with a device, 30% of users with an alias), then times
batches of 1,000 mixed identifiers (adds and removes, about 5% unmatched) two ways: through
the cohort sync service (resolve + apply + commit) and through HTTP (TestClient, the whole
request). Prints milliseconds per batch, median and p95.

    python -m bench.partner_sync --database-url postgresql://postgres@127.0.0.1:5432/test
"""

import argparse
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from tests.support.databases import throwaway_postgres_database

from kohorte.api.app import create_app
from kohorte.domain import integrations, partners, workspaces
from kohorte.domain.cohort_import import sync as cohort_sync
from kohorte.domain.cohort_import.auth import PartnerClient
from kohorte.settings import Settings
from kohorte.store.database import create_store_engine, make_session_factory
from kohorte.store.migrate import upgrade_to_head

PARTNER = "bench"
ADMIN_TOKEN = "bench-admin-token-0123456789"


SEED_SQL = [
    """INSERT INTO users (workspace_id, external_id, braze_id, custom_attributes, created_at,
           updated_at)
       SELECT :ws, CASE WHEN g <= :identified THEN 'user-' || g END, md5(g::text), '{}', now(),
           now()
       FROM generate_series(1, :users) AS g""",
    """INSERT INTO user_devices (workspace_id, user_id, device_id)
       SELECT :ws, g, 'device-' || g FROM generate_series(:identified + 1, :users) AS g""",
    """INSERT INTO user_aliases (workspace_id, user_id, alias_label, alias_name)
       SELECT :ws, g, 'bench', 'alias-' || g FROM generate_series(1, :aliased) AS g""",
    "ANALYZE",
]


def seed(engine: Engine, users: int) -> tuple[PartnerClient, str, str]:
    """Workspace, partner, data import key and users; returns the client and its credentials."""
    with make_session_factory(engine).begin() as session:
        workspace = workspaces.create_workspace(session, "bench")
        partner_key = partners.create_partner(session, PARTNER, None)[1].plaintext
        issued = integrations.issue_data_import_key(session, workspace.id, PARTNER)
        client = PartnerClient(workspace.id, PARTNER, issued.record.id)
    sizes = {"ws": client.workspace_id, "users": users, "identified": users * 8 // 10}
    sizes["aliased"] = users * 3 // 10
    with engine.begin() as connection:
        for statement in SEED_SQL:
            connection.execute(text(statement), sizes if ":" in statement else {})
    return client, partner_key, issued.plaintext


def identifier(rng: random.Random, users: int) -> tuple[str, Any]:
    """One random identifier: 60% external ids, 20% device ids, 20% aliases; ~5% unknown."""
    n = rng.randint(1, users)
    if rng.random() < 0.05:
        return "user_ids", f"nobody-{n}"
    kind = rng.random()
    if kind < 0.6:
        return "user_ids", f"user-{rng.randint(1, users * 8 // 10)}"
    if kind < 0.8:
        return "device_ids", f"device-{rng.randint(users * 8 // 10 + 1, users)}"
    return "aliases", {
        "alias_name": f"alias-{rng.randint(1, users * 3 // 10)}",
        "alias_label": "bench",
    }


def batch(rng: random.Random, users: int, size: int = 1000) -> list[dict[str, Any]]:
    """One add object (70%) and one remove object (30%), each with all three lists."""
    adds: dict[str, Any] = {"user_ids": [], "device_ids": [], "aliases": []}
    removes: dict[str, Any] = {
        "user_ids": [],
        "device_ids": [],
        "aliases": [],
        "should_remove": True,
    }
    for n in range(size):
        kind, value = identifier(rng, users)
        (adds if n < size * 7 // 10 else removes)[kind].append(value)
    return [adds, removes]


def timed(runs: int, warmup: int, step: Callable[[int], None]) -> list[float]:
    for n in range(warmup):
        step(n)
    durations = []
    for n in range(runs):
        started = time.perf_counter()
        step(warmup + n)
        durations.append((time.perf_counter() - started) * 1000)
    return durations


def report(label: str, durations: list[float]) -> None:
    p95 = statistics.quantiles(durations, n=20)[-1]
    print(f"{label:<34} median {statistics.median(durations):6.1f} ms   p95 {p95:6.1f} ms")


def run(base_url: str, users: int, runs: int, warmup: int) -> None:
    with throwaway_postgres_database(base_url, "kohorte_bench") as url:
        engine = create_store_engine(url, statement_timeout_ms=0)
        upgrade_to_head(engine)
        started = time.perf_counter()
        client, partner_key, secret = seed(engine, users)
        print(f"seeded {users:,} users in {time.perf_counter() - started:.1f} s")
        rng = random.Random(7)
        factory = make_session_factory(engine)

        def through_service(n: int) -> None:
            body = {"cohort_id": f"cohort-{n % 4}", "cohort_changes": batch(rng, users)}
            with factory.begin() as session:
                cohort_sync.sync_cohort(session, client, body)

        report("service (resolve+apply+commit)", timed(runs, warmup, through_service))
        settings = Settings(database_url=url, admin_token=ADMIN_TOKEN)
        with TestClient(create_app(settings, engine)) as http:

            def through_http(n: int) -> None:
                body = {
                    "partner_api_key": partner_key,
                    "client_secret": secret,
                    "cohort_id": f"cohort-{n % 4}",
                    "cohort_changes": batch(rng, users),
                }
                response = http.post(f"/partners/{PARTNER}/cohorts/users", json=body)
                assert response.status_code == 201, response.text

            report("HTTP (TestClient, whole request)", timed(runs, warmup, through_http))
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    arguments = parser.parse_args()
    run(arguments.database_url, arguments.users, arguments.runs, arguments.warmup)


if __name__ == "__main__":
    main()
