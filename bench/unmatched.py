"""What a partner sync pays for the ledger of unmatched identifiers, on both stores.

Batches of 1,000 external ids against 100,000 users, with 0, 100 and 1,000 of them unmatched,
through the cohort sync service (one transaction per request, committed). Each case runs with
the ledger off (``unmatched_limit=0``) and on (the default bound, 10,000), the unmatched ids
either new in every request (the upsert inserts, then the bound is enforced) or the same in
every request (the upsert only updates). Before the "new" cases the cohort's ledger is filled
to its bound, so each new identifier evicts the least recently seen one. Prints milliseconds
per request (median, p95) and statements per request.

    python -m bench.unmatched --store sqlite
    python -m bench.unmatched --store postgresql --database-url postgresql://postgres@127.0.0.1:5432/test
"""

import argparse
import contextlib
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, text
from tests.support.databases import counting_statements, throwaway_postgres_database
from tests.support.seeds import seed_partner, seed_users_bulk, seed_workspace

from kohorte.domain.cohort_import import sync as cohort_sync
from kohorte.domain.cohort_import.auth import PartnerClient
from kohorte.store.database import create_store_engine, make_session_factory
from kohorte.store.migrate import upgrade_to_head

USERS = 100_000
BATCH = 1000


@contextlib.contextmanager
def store_url(store: str, base_url: str) -> Iterator[str]:
    if store == "postgresql":
        with throwaway_postgres_database(base_url, "kohorte_bench") as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as directory:
        yield f"sqlite:///{Path(directory) / 'bench.db'}"


def seed(engine: Engine) -> PartnerClient:
    with make_session_factory(engine).begin() as session:
        workspace_id = seed_workspace(session, "bench")
        for start in range(0, USERS, 10_000):
            seed_users_bulk(session, workspace_id, [f"u{n}" for n in range(start, start + 10_000)])
        return PartnerClient(workspace_id, seed_partner(session, "bench"), key_id="bench")


def body(rng: random.Random, cohort_id: str, unmatched: int, fresh: str) -> dict[str, object]:
    matched = [f"u{n}" for n in rng.sample(range(USERS), BATCH - unmatched)]
    missing = [f"nobody-{fresh}-{n}" for n in range(unmatched)]
    return {"cohort_id": cohort_id, "cohort_changes": [{"user_ids": matched + missing}]}


def case(engine: Engine, client: PartnerClient, label: str, shape: tuple[int, int, bool]) -> None:
    unmatched, limit, fresh = shape
    factory, rng = make_session_factory(engine), random.Random(7)
    durations, statements = [], []
    if fresh and limit:
        fill(engine, client, label, limit)
    for n in range(RUNS + WARMUP):
        request = body(rng, label, unmatched, str(n) if fresh else "same")
        with counting_statements(engine) as sent:
            started = time.perf_counter()
            with factory.begin() as session:
                cohort_sync.sync_cohort(session, client, request, unmatched_limit=limit)
            elapsed = (time.perf_counter() - started) * 1000
        if n >= WARMUP:
            durations.append(elapsed)
            statements.append(len(sent))
    p95 = statistics.quantiles(durations, n=20)[-1]
    print(
        f"{label:<36} median {statistics.median(durations):6.1f} ms   p95 {p95:6.1f} ms   "
        f"{statistics.median(statements):.0f} statements"
    )


def fill(engine: Engine, client: PartnerClient, cohort_id: str, limit: int) -> None:
    """The cohort's ledger at its bound, so that every new identifier evicts one."""
    factory, rng = make_session_factory(engine), random.Random(8)
    for n in range(limit // BATCH):
        with factory.begin() as session:
            request = body(rng, cohort_id, BATCH, f"fill{n}")
            cohort_sync.sync_cohort(session, client, request, unmatched_limit=limit)
    if engine.dialect.name == "postgresql":
        # Statistics as autovacuum keeps them: without them the planner takes a cohort's
        # ledger for a few rows and sorts it rather than walk its index.
        with engine.begin() as connection:
            connection.execute(text("ANALYZE unmatched_identifiers"))


CASES = {
    "0 unmatched, ledger on": (0, 10_000, True),
    "100 unmatched, ledger off": (100, 0, True),
    "100 unmatched new, ledger on": (100, 10_000, True),
    "100 unmatched again, ledger on": (100, 10_000, False),
    "1000 unmatched, ledger off": (1000, 0, True),
    "1000 unmatched new, ledger on": (1000, 10_000, True),
    "1000 unmatched again, ledger on": (1000, 10_000, False),
}
RUNS, WARMUP = 50, 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    arguments = parser.parse_args()
    with store_url(arguments.store, arguments.database_url) as url:
        engine = create_store_engine(url, statement_timeout_ms=0)
        upgrade_to_head(engine)
        client = seed(engine)
        for label, shape in CASES.items():
            case(engine, client, label, shape)
        engine.dispose()


if __name__ == "__main__":
    main()
